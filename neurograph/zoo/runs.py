"""A model zoo: train a family of classifiers to a spread of accuracies, checkpoint them, score them.

A zoo is described by a TOML file (read with :mod:`tomllib`)::

    name = "small zoo"          # optional
    data_seed = 0               # seed of every task's train/test split (shared by all models)
    timeline = ""               # run drawn as a dynamic GEXF (default: the first run with most checkpoints)

    [score]                     # options of neurograph.scores.score_model (all optional)
    n_null = 10
    weight = "npmi"
    method = "leiden"
    per_layer = true
    seed = 0

    [blobs]                     # options of neurograph.datasets.make_blobs_task (optional)
    n_samples = 600
    n_features = 16
    n_classes = 4

    [[family]]                  # every combination of the lists below is one training run
    task = "digits"             # "digits" or "blobs"
    arch = "mlp"                # "mlp" (hidden = widths), "cnn" (digits only; hidden = two channel counts),
                                # or the gated networks "dnn", "dgn", "dlgn" (hidden = widths; gates recorded)
    hidden = [[16], [64, 32]]   # one architecture, or a list of them
    dropout = [0.0, 0.5]
    label_noise = [0.0, 0.3]    # fraction of training labels replaced by another class
    seeds = [0, 1]
    epochs = 20
    checkpoints = [0, 1, 5]     # extra epochs to save (0 = untrained); the last epoch is always saved
    lr = 0.003
    batch_size = 64
    weight_decay = 0.0

    [[custom]]                  # your own models: checkpoints + a factory + data
    name = "mine"
    factory = "mypackage.models:build"   # an installed package (see below); must return an nn.Module
    kwargs = { width = 32 }
    checkpoints = ["ckpt/epoch1.pt", "ckpt/epoch9.pt"]    # state_dicts, relative to this file
    data = "test.npz"           # arrays X and y (y optional), or a .pt dict of tensors {"X", "y"}
    layers = ["layers.1"]
    rule = "positive"           # firing rule and options as for neurograph.record
    z = 1.0
    threshold = 0.0
    spatial = "mean"

A zoo config holds data only. Its ``factory`` strings are imported only after the whole
config has been validated (keys, types, that checkpoints and data files exist and the data
reads), only from installed (already importable) packages or from folders named explicitly
(``run_zoo(..., search_path=DIR)``, ``neurograph zoo --factory-path DIR``), never from the
config's own folder; standard-library and process-control modules (``os``, ``subprocess``,
...) are refused, and a factory must return an ``nn.Module`` (see
:mod:`neurograph.checkpoints` for the whole policy).

Determinism: the run's ``seed`` seeds the initial weights (``torch.manual_seed``), the
label noise, and the shuffling and dropout of every training segment, so a run is
the same on every call on the same machine. Training is split into segments between
checkpoint epochs (one :func:`neurograph.train.train_classifier` call each, so
Adam's moment estimates restart at each checkpoint). Checkpoints are ``state_dict``
files written with :func:`torch.save` and reloaded with ``torch.load(...,
weights_only=True)``.

MLPs are recorded with the ``positive`` rule (the ReLU gate); CNN channels, valued by
their spatial mean, fire when half a standard deviation above their own mean
(``zscore``, ``z = 0.5``), as in ``neurograph demo``. Models are scored on the test
split of their task (``test_accuracy`` and every structure score).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ..io.atomic import atomic_path, write_csv
from .checkpoints import (ConfigError, CustomSpec, ZooResult, neuron_rows, unknown_keys, load_checkpoint,
                          parse_custom_spec, prepare_custom, score_checkpoints)
from ..datasets import load_digits, make_blobs_task
from ..io.timeline import export_dynamic_gexf
from ..models import MLP, SmallCNN
from ..models.gated import gated_model
from ..scoring.pipeline import write_analysis
from ..scoring.scores import score_model
from .training import train_classifier

__all__ = ["ARCHS", "RunSpec", "ZooConfig", "load_zoo_config", "noisy_labels", "parse_zoo_config", "run_zoo",
           "train_run"]

logger = logging.getLogger(__name__)

#: Architectures a zoo family can train: MLP, SmallCNN, and the gated networks of
#: :mod:`neurograph.models.gated` (their gate pre-activations are recorded, rule "positive").
ARCHS = ("cnn", "dgn", "dlgn", "dnn", "mlp")
_FAMILY_KEYS = {"task", "arch", "hidden", "dropout", "label_noise", "seeds", "epochs", "checkpoints", "lr",
                "batch_size", "weight_decay"}
_SCORE_KEYS = {"n_null", "weight", "method", "per_layer", "seed"}
_TOP_KEYS = {"name", "data_seed", "timeline", "score", "blobs", "family", "custom"}
_BLOBS_KEYS = {"n_samples", "n_features", "n_classes", "test_fraction"}


@dataclass(frozen=True)
class RunSpec:
    """One training run of the zoo (one model, saved at several epochs)."""

    name: str
    task: str
    arch: str
    hidden: tuple[int, ...]
    dropout: float
    label_noise: float
    seed: int
    epochs: int
    checkpoints: tuple[int, ...]
    lr: float = 3e-3
    batch_size: int = 64
    weight_decay: float = 0.0


@dataclass(frozen=True, eq=False)
class ZooConfig:
    """A parsed zoo configuration (see the module docstring for the TOML form)."""

    name: str
    runs: tuple[RunSpec, ...]
    custom: tuple[CustomSpec, ...] = ()
    data_seed: int = 0
    blobs: dict = field(default_factory=dict)
    score: dict = field(default_factory=dict)
    timeline: str = ""
    base_dir: Path = Path(".")


def load_zoo_config(path: str | os.PathLike) -> ZooConfig:
    """Read a zoo configuration from a TOML file; relative paths in it are relative to the file.

    Reading a config runs no code: factories are only checked as strings here (see
    :func:`run_zoo` for when they are imported).

    Raises
    ------
    ConfigError
        Naming the file (and the key at fault): missing, a folder, unreadable, not UTF-8,
        not valid TOML, or not a valid zoo configuration.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"zoo config {str(path)!r} is a folder, not a file")
    if not path.is_file():
        raise ConfigError(f"zoo config {str(path)!r} does not exist")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"zoo config {str(path)!r} cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"zoo config {str(path)!r} is not UTF-8 text (invalid byte at offset {exc.start})") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_zoo_config(raw, base_dir=path.parent, source=str(path))


def parse_zoo_config(raw: dict, *, base_dir: str | os.PathLike = ".", source: str = "config") -> ZooConfig:
    """Validate a zoo configuration given as a dict (the parsed TOML) and expand its families.

    Examples
    --------
    >>> cfg = parse_zoo_config({"family": [{"task": "blobs", "hidden": [[8], [16]], "epochs": 2,
    ...                                     "checkpoints": [0]}]})
    >>> [r.name for r in cfg.runs]
    ['blobs-mlp-8-do0-ln0-s0', 'blobs-mlp-16-do0-ln0-s0']
    >>> cfg.runs[0].checkpoints
    (0, 2)
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a zoo config must be a table, got {type(raw).__name__}")
    unknown_keys(raw, _TOP_KEYS, source)
    families = raw.get("family", [])
    custom = raw.get("custom", [])
    if not isinstance(families, list) or not isinstance(custom, list):
        raise ConfigError(f"{source}: 'family' and 'custom' must be arrays of tables ([[family]], [[custom]])")
    if not families and not custom:
        raise ConfigError(f"{source}: no [[family]] nor [[custom]] entry: the zoo is empty")
    score = raw.get("score", {})
    unknown_keys(score, _SCORE_KEYS, f"{source} [score]")
    _check_score_options(score, f"{source} [score]")
    blobs = raw.get("blobs", {})
    if not isinstance(blobs, dict):
        raise ConfigError(f"{source}: [blobs] must be a table")
    unknown_keys(blobs, _BLOBS_KEYS, f"{source} [blobs]")
    for key in ("n_samples", "n_features", "n_classes"):
        if key in blobs:
            _int(blobs[key], key, f"{source} [blobs]", minimum=2 if key == "n_classes" else 1)
    tf = blobs.get("test_fraction", 0.25)
    if isinstance(tf, bool) or not isinstance(tf, (int, float)) or not 0 < tf < 1:
        raise ConfigError(f"{source} [blobs]: test_fraction must be a number in (0, 1), got {tf!r}")
    for key in ("name", "timeline"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{source}: {key} must be a string, got {raw[key]!r}")
    runs: list[RunSpec] = []
    for i, fam in enumerate(families):
        runs.extend(_expand_family(fam, f"{source} [[family]] #{i + 1}"))
    names = [r.name for r in runs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{source}: runs {dup} are defined twice")
    base = Path(base_dir)
    customs = tuple(parse_custom_spec(c, base, f"{source} [[custom]] #{i + 1}") for i, c in enumerate(custom))
    timeline = raw.get("timeline", "")
    if timeline and timeline not in names:
        raise ConfigError(f"{source}: timeline run {timeline!r} is not one of the runs")
    return ZooConfig(name=str(raw.get("name", "zoo")), runs=tuple(runs), custom=customs,
                     data_seed=_int(raw.get("data_seed", 0), "data_seed", source), blobs=dict(blobs),
                     score=dict(score), timeline=str(timeline), base_dir=base)


def run_zoo(config: ZooConfig, out_dir: str | os.PathLike, *, num_threads: int | None = 1,
            progress: bool = False, search_path: str | os.PathLike | list | None = None) -> ZooResult:
    """Train every run of ``config``, save its checkpoints, and score every checkpoint.

    Before anything is trained, every ``[[custom]]`` entry is checked (checkpoint and
    data files) and then its factory is imported, following the factory policy of
    :mod:`neurograph.checkpoints`: from installed packages, or from the folder(s)
    ``search_path`` names explicitly; never from the config's own folder.

    Writes into ``out_dir``: ``checkpoints/<run>_e<epoch>.pt`` (state_dicts),
    ``scores.csv`` (one row per checkpoint: run, task, arch, hidden, depth, width,
    dropout, label_noise, seed, epoch, final, checkpoint, n_params, test_accuracy and
    the scores of :mod:`neurograph.scores`), ``neurons.csv`` (per neuron and checkpoint),
    ``timeline.gexf`` (the timeline run's activation graph along its checkpoints) and
    ``timeline/`` (graph files and figures of that run's final checkpoint).

    ``num_threads`` sets torch's intra-op threads while the zoo runs (restored on exit;
    None keeps the current setting). The default, 1, suits the zoo's small models: on
    the 2-core dev machine under load, 5 epochs of a 64-64-32-10 MLP on digits took
    0.27 s with one thread and 1.8-10.5 s with two.

    Returns
    -------
    ZooResult
    """
    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    try:
        return _run_zoo(config, Path(out_dir), progress=progress, search_path=search_path)
    finally:
        torch.set_num_threads(threads)


def train_run(spec: RunSpec, data, ckpt_dir: str | os.PathLike, *, progress: bool = False) -> list[tuple[int, Path]]:
    """Train one run and save a ``state_dict`` at each checkpoint epoch; returns [(epoch, path)].

    ``data`` is a :class:`neurograph.datasets.DigitsData` (its training split is used,
    with ``spec.label_noise`` of the labels replaced by a different random class).

    Examples
    --------
    >>> import tempfile
    >>> from neurograph.datasets import make_blobs_task
    >>> spec = RunSpec("r", "blobs", "mlp", (8,), 0.0, 0.0, 0, 2, (0, 2))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [(e, p.name) for e, p in train_run(spec, make_blobs_task(n_samples=80, seed=0), tmp)]
    [(0, 'r_e0000.pt'), (2, 'r_e0002.pt')]
    """
    ckpt_dir = Path(ckpt_dir)
    torch.manual_seed(spec.seed)
    model = _build(spec, data)
    y = noisy_labels(data.y_train, data.n_classes, spec.label_noise, seed=spec.seed)
    saved, done = [], 0
    for epoch in spec.checkpoints:
        if epoch > done:
            seg_seed = int(np.random.default_rng([spec.seed, epoch]).integers(2**31 - 1))
            train_classifier(model, data.X_train, y, epochs=epoch - done, lr=spec.lr, batch_size=spec.batch_size,
                             weight_decay=spec.weight_decay, seed=seg_seed, progress=progress)
            done = epoch
        path = ckpt_dir / f"{spec.name}_e{epoch:04d}.pt"
        with atomic_path(path, suffix=".pt") as tmp:
            torch.save(model.state_dict(), tmp)
        saved.append((epoch, path))
    return saved


def noisy_labels(y: torch.Tensor, n_classes: int, fraction: float, *, seed: int) -> torch.Tensor:
    """Copy of ``y`` with ``round(fraction * n)`` labels, chosen at random, replaced by another class."""
    y = y.clone()
    n_flip = int(round(float(fraction) * y.shape[0]))
    if n_flip:
        rng = np.random.default_rng([int(seed), 7])
        idx = torch.from_numpy(rng.choice(y.shape[0], n_flip, replace=False))
        shift = torch.from_numpy(rng.integers(1, n_classes, n_flip))
        y[idx] = (y[idx] + shift) % n_classes
    return y


# ---------------------------------------------------------------------- helpers


def _check_score_options(score: dict, where: str) -> None:
    if "n_null" in score and _int(score["n_null"], "n_null", where) == 1:
        raise ConfigError(f"{where}: n_null must be 0 (no null model) or >= 2, got 1")
    choices = {"weight": ("count", "jaccard", "npmi", "phi"),
               "method": ("leiden", "multilevel", "louvain", "networkx")}
    for key, allowed in choices.items():
        if key in score and score[key] not in allowed:
            raise ConfigError(f"{where}: {key} must be one of {list(allowed)}, got {score[key]!r}")
    if "per_layer" in score and not isinstance(score["per_layer"], bool):
        raise ConfigError(f"{where}: per_layer must be true or false, got {score['per_layer']!r}")
    if "seed" in score:
        _int(score["seed"], "seed", where)


def _int(v, key: str, where: str, minimum: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ConfigError(f"{where}: {key} must be an int >= {minimum}, got {v!r}")
    return v


def _num_list(v, key: str, where: str, lo: float, hi: float) -> list[float]:
    vals = v if isinstance(v, list) else [v]
    for x in vals:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not lo <= x < hi:
            raise ConfigError(f"{where}: {key} values must be numbers in [{lo}, {hi}), got {x!r}")
    return [float(x) for x in vals]


def _expand_family(fam, where: str) -> list[RunSpec]:
    unknown_keys(fam, _FAMILY_KEYS, where)
    task = fam.get("task", "digits")
    arch = fam.get("arch", "mlp")
    if task not in ("digits", "blobs"):
        raise ConfigError(f"{where}: task must be 'digits' or 'blobs', got {task!r}")
    if arch not in ARCHS:
        raise ConfigError(f"{where}: arch must be one of {ARCHS}, got {arch!r}")
    if arch == "cnn" and task != "digits":
        raise ConfigError(f"{where}: arch 'cnn' needs image inputs (task 'digits'), got task {task!r}")
    hidden = fam.get("hidden", [64, 32] if arch == "mlp" else [16, 32])
    if isinstance(hidden, list) and hidden and all(isinstance(h, int) for h in hidden):
        hidden = [hidden]
    if not isinstance(hidden, list) or not hidden or not all(
            isinstance(h, list) and h and all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in h)
            for h in hidden):
        raise ConfigError(f"{where}: hidden must be a list of positive ints or a list of such lists, "
                          f"got {hidden!r}")
    if arch == "cnn" and any(len(h) != 2 for h in hidden):
        raise ConfigError(f"{where}: a cnn needs exactly two channel counts per entry of hidden, got {hidden!r}")
    dropouts = _num_list(fam.get("dropout", 0.0), "dropout", where, 0.0, 1.0)
    if arch != "mlp" and any(dropouts):
        raise ConfigError(f"{where}: arch {arch!r} has no dropout; remove dropout or use arch 'mlp'")
    noises = _num_list(fam.get("label_noise", 0.0), "label_noise", where, 0.0, 1.0)
    seeds = fam.get("seeds", [0])
    seeds = seeds if isinstance(seeds, list) else [seeds]
    seeds = [_int(s, "seeds", where) for s in seeds]
    epochs = _int(fam.get("epochs", 20), "epochs", where, minimum=1)
    ck = fam.get("checkpoints", [])
    if not isinstance(ck, list):
        raise ConfigError(f"{where}: checkpoints must be a list of epochs, got {ck!r}")
    ck = sorted({*(_int(c, "checkpoints", where) for c in ck), epochs})
    if ck[-1] > epochs:
        raise ConfigError(f"{where}: checkpoint epoch {ck[-1]} is beyond epochs = {epochs}")
    lr = fam.get("lr", 3e-3)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise ConfigError(f"{where}: lr must be a positive number, got {lr!r}")
    wd = fam.get("weight_decay", 0.0)
    if isinstance(wd, bool) or not isinstance(wd, (int, float)) or wd < 0:
        raise ConfigError(f"{where}: weight_decay must be a number >= 0, got {wd!r}")
    bs = _int(fam.get("batch_size", 64), "batch_size", where, minimum=1)
    runs = []
    for h, do, ln, s in itertools.product(hidden, dropouts, noises, seeds):
        name = f"{task}-{arch}-{'x'.join(map(str, h))}-do{do:g}-ln{ln:g}-s{s}"
        runs.append(RunSpec(name=name, task=task, arch=arch, hidden=tuple(h), dropout=do, label_noise=ln, seed=s,
                            epochs=epochs, checkpoints=tuple(ck), lr=float(lr), batch_size=bs,
                            weight_decay=float(wd)))
    return runs


def _default_timeline(config: ZooConfig) -> str:
    if not config.runs:
        return ""
    best = max(config.runs, key=lambda r: len(r.checkpoints))
    return best.name if len(best.checkpoints) >= 2 else ""


def _task_data(spec: RunSpec, config: ZooConfig, cache: dict):
    key = (spec.task, spec.arch == "cnn")
    if key not in cache:
        if spec.task == "digits":
            cache[key] = load_digits(seed=config.data_seed, image=spec.arch == "cnn")
        else:
            try:
                cache[key] = make_blobs_task(seed=config.data_seed, **config.blobs)
            except TypeError as exc:
                raise ConfigError(f"[blobs]: {exc}") from exc
    return cache[key]


def _build(spec: RunSpec, data) -> nn.Module:
    if spec.arch in ("dnn", "dgn", "dlgn"):
        return gated_model(spec.arch, in_features=int(np.prod(data.input_shape)), hidden=spec.hidden,
                           n_classes=data.n_classes)
    if spec.arch == "cnn":
        return SmallCNN(data.input_shape[0], n_classes=data.n_classes, channels=spec.hidden,
                        image_size=data.input_shape[-1])
    return MLP(int(np.prod(data.input_shape)), hidden=spec.hidden, n_classes=data.n_classes, dropout=spec.dropout)


def _run_zoo(config: ZooConfig, out: Path, *, progress: bool, search_path=None) -> ZooResult:
    t0 = time.perf_counter()
    for cs in config.custom:  # files and factories checked before any training (a failure costs nothing)
        prepare_custom(cs, search_path=search_path)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    sc = {"n_null": 10, "weight": "npmi", "method": "leiden", "per_layer": True, "seed": 0, **config.score}
    timeline = config.timeline or _default_timeline(config)
    rows, neurons, snapshots = [], [], []
    data_cache: dict = {}
    for spec in tqdm(config.runs, desc="zoo", unit="run", disable=not progress):
        data = _task_data(spec, config, data_cache)
        ckpts = train_run(spec, data, out / "checkpoints")
        for epoch, path in ckpts:
            model = load_checkpoint(_build(spec, data), path)
            rule = {"rule": "zscore", "z": 0.5} if spec.arch == "cnn" else {"rule": "positive"}
            s = score_model(model, data.test, model.activation_layers(), **rule, **sc)
            meta = {"run": spec.name, "task": spec.task, "arch": spec.arch,
                    "hidden": "x".join(map(str, spec.hidden)), "depth": len(spec.hidden),
                    "width": int(sum(spec.hidden)), "dropout": spec.dropout, "label_noise": spec.label_noise,
                    "seed": spec.seed, "epoch": epoch, "final": epoch == spec.epochs,
                    "checkpoint": str(path.relative_to(out))}
            rows.append({**meta, **s.values})
            neurons.append(neuron_rows(s, spec.name, epoch))
            if spec.name == timeline:
                snapshots.append((epoch, s.analysis))
    for cs in config.custom:
        res = score_checkpoints(cs, **sc, search_path=search_path, progress=progress)
        rows.extend(res.table.to_dict("records"))
        neurons.append(res.neurons)
    table = pd.DataFrame(rows)
    neuron_table = pd.concat(neurons, ignore_index=True) if neurons else pd.DataFrame()
    paths = {"scores": write_csv(table, out / "scores.csv"), "neurons": write_csv(neuron_table, out / "neurons.csv"),
             "checkpoints": out / "checkpoints"}
    if snapshots:
        paths["timeline_gexf"] = export_dynamic_gexf([a.graph for _, a in snapshots], out / "timeline.gexf",
                                                     times=[float(e) for e, _ in snapshots],
                                                     partitions=[a.partition for _, a in snapshots], name=timeline)
        epoch, final = snapshots[-1]
        paths["timeline_files"] = write_analysis(final, out / "timeline", name=timeline,
                                                 title=f"{timeline}, epoch {epoch}")
    return ZooResult(table=table, neurons=neuron_table, paths=paths, seconds=time.perf_counter() - t0)
