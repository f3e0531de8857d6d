"""A model zoo: train a family of classifiers to a spread of accuracies, checkpoint them, score them.

The zoo is described by a TOML file whose whole schema (typed dataclasses, one parser)
is in :mod:`neurograph.zoo.config`; :func:`run_zoo` trains every :class:`RunSpec` of a
:class:`ZooConfig`, scores every checkpoint into a :class:`~neurograph.zoo.results.RunResult`
and stacks them into a :class:`~neurograph.zoo.results.ZooResult`.

A zoo config holds data only. Its ``factory`` strings are imported only after the whole
config has been validated (keys, types, that checkpoints and data files exist and the data
reads), only from an allow-list: neurograph and torch, folders named explicitly
(``run_zoo(..., factory_path=DIR)``, ``neurograph zoo --factory-path DIR``) and packages named
explicitly (``allow_packages=``, ``--allow-package NAME``), never from the config's own folder;
standard-library modules are always refused, kwargs are plain data, and a factory must return an
``nn.Module`` (see :mod:`neurograph.zoo.factories` for the whole policy).

Determinism: the run's ``seed`` seeds the initial weights (``torch.manual_seed``), the
label noise, and the shuffling and dropout of every training segment, so a run is
the same on every call on the same machine. Training is split into segments between
checkpoint epochs (one :func:`neurograph.zoo.train_classifier` call each, so
Adam's moment estimates restart at each checkpoint). Checkpoints are ``state_dict``
files written with :func:`torch.save` and reloaded with ``torch.load(...,
weights_only=True)``.

MLPs are recorded with the ``positive`` rule (the ReLU gate); CNN channels, valued by
their spatial mean, fire when half a standard deviation above their own mean
(``zscore``, ``z = 0.5``), as in ``neurograph demo``. Models are scored on the test
split of their task (``test_accuracy`` and every structure score).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..datasets import load_digits, make_blobs_task
from ..errors import ConfigError  # noqa: F401 - old import path
from ..io.atomic import atomic_path, write_csv
from ..io.timeline import export_dynamic_gexf
from ..models import MLP, SmallCNN
from ..models.gated import gated_model
from ..scoring.pipeline import write_analysis
from ..scoring.scores import with_baseline
from .checkpoints import load_checkpoint, prepare_custom, score_custom, score_with
from .config import (ARCHS, FiringRule, RunSpec, ScoreSettings, ZooConfig,  # noqa: F401 - old import path
                     load_zoo_config, parse_zoo_config, timeline_run)
from .results import RunResult, ZooResult, checkpoint_row, neuron_rows, stack_runs
from .executors import Executor, run_tasks
from .training import train_classifier

__all__ = ["initial_model", "noisy_labels", "run_zoo", "score_run", "train_run"]

logger = logging.getLogger(__name__)


def run_zoo(config: ZooConfig, out_dir: str | os.PathLike, *, num_threads: int | None = 1,
            progress: bool = False, factory_path: str | os.PathLike | list | None = None,
            allow_packages: list[str] | tuple[str, ...] = (), executor: Executor | None = None,
            search_path: str | os.PathLike | list | None = None) -> ZooResult:
    """Train every run of ``config``, save its checkpoints, and score every checkpoint.

    Before anything is trained, every ``[[custom]]`` entry is checked (checkpoint and
    data files, kwargs) and then its factory is imported, following the factory policy of
    :mod:`neurograph.zoo.factories`: from neurograph or torch, from the folder(s)
    ``factory_path`` names explicitly, or from the packages ``allow_packages`` names; never
    from the config's own folder (``search_path`` is the older name of ``factory_path``).

    Writes into ``out_dir``: ``checkpoints/<run>_e<epoch>.pt`` (state_dicts),
    ``scores.csv`` (one row per checkpoint: run, task, arch, hidden, depth, width,
    dropout, label_noise, seed, epoch, final, checkpoint, n_params, test_accuracy and
    the scores of :mod:`neurograph.scoring.definitions`), ``neurons.csv`` (per neuron and
    checkpoint), ``timeline.gexf`` (the timeline run's activation graph along its
    checkpoints) and ``timeline/`` (graph files and figures of that run's final checkpoint).

    ``num_threads`` sets torch's intra-op threads while the zoo runs (restored on exit;
    None keeps the current setting). The default, 1, suits the zoo's small models: on
    the 2-core dev machine under load, 5 epochs of a 64-64-32-10 MLP on digits took
    0.27 s with one thread and 1.8-10.5 s with two.

    ``executor`` (:class:`~neurograph.zoo.executors.Executor`) says where the runs are trained and
    scored, one task per run: in this process (the default, ``Executor("inprocess")``), a local
    process pool, or Ray. Every run sets its own seeds and workers use one torch thread, so the
    tables are the same whatever the executor.

    Returns
    -------
    ZooResult
    """
    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    try:
        return _run_zoo(config, Path(out_dir), progress=progress,
                        factory_path=factory_path if factory_path is not None else search_path,
                        allow_packages=allow_packages, executor=executor or Executor("inprocess"))
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


def score_run(spec: RunSpec, data, checkpoints: list[tuple[int, Path]], settings: ScoreSettings, *,
              root: str | os.PathLike, keep_analyses: bool = False) -> RunResult:
    """Score the checkpoints ``[(epoch, path)]`` of one run (as :func:`train_run` returns them) on ``data.test``.

    ``checkpoint`` paths in the table are relative to ``root``; ``keep_analyses`` keeps each
    checkpoint's :class:`~neurograph.scoring.pipeline.Analysis` in ``snapshots`` (for a timeline).

    With ``settings.baseline == "untrained"`` the run's untrained network is scored once on the
    same data and every row gains ``<score>_untrained`` and ``<score>_delta``
    (:func:`~neurograph.scoring.scores.with_baseline`): the epoch-0 checkpoint when the run saved
    one, else :func:`initial_model` (the same weights, rebuilt from the run's seed).
    """
    rows, neurons, snapshots = [], [], []
    firing = _firing_rule(spec)
    untrained = None
    if settings.baseline == "untrained":
        zero = dict(checkpoints).get(0)
        twin = load_checkpoint(_build(spec, data), zero) if zero is not None else initial_model(spec, data)
        untrained = score_with(twin, data.test, twin.activation_layers(), firing, settings)
    for epoch, path in checkpoints:
        model = load_checkpoint(_build(spec, data), path)
        s = score_with(model, data.test, model.activation_layers(), firing, settings)
        if untrained is not None:
            s = with_baseline(s, untrained)
        meta = {"run": spec.name, "task": spec.task, "arch": spec.arch,
                "hidden": "x".join(map(str, spec.hidden)), "depth": len(spec.hidden),
                "width": int(sum(spec.hidden)), "dropout": spec.dropout, "label_noise": spec.label_noise,
                "seed": spec.seed, "epoch": epoch, "final": epoch == spec.epochs,
                "checkpoint": str(Path(path).relative_to(root))}
        rows.append(checkpoint_row(meta, s))
        neurons.append(neuron_rows(s, spec.name, epoch))
        if keep_analyses:
            snapshots.append((epoch, s.analysis))
    return RunResult(name=spec.name, table=pd.DataFrame(rows), neurons=pd.concat(neurons, ignore_index=True),
                     snapshots=tuple(snapshots))


def initial_model(spec: RunSpec, data) -> nn.Module:
    """The run's untrained network: the weights :func:`train_run` starts from (and saves as epoch 0).

    Built under ``torch.manual_seed(spec.seed)`` inside :func:`torch.random.fork_rng`, so the
    global random state is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        return _build(spec, data)


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


def _firing_rule(spec: RunSpec) -> FiringRule:
    """How a zoo run's neurons are read: ``zscore`` with ``z = 0.5`` for CNN channels, else ``positive``."""
    return FiringRule("zscore", z=0.5) if spec.arch == "cnn" else FiringRule("positive")


def _task_data(spec: RunSpec, config: ZooConfig, cache: dict | None = None):
    """The data set of a run (``cache``: a dict shared by the caller's runs; None: memoised per process)."""
    key = (spec.task, spec.arch == "cnn")
    if cache is None:
        return _load_task(spec.task, spec.arch == "cnn", config.data_seed, config.blobs)
    if key not in cache:
        cache[key] = _load_task(spec.task, spec.arch == "cnn", config.data_seed, config.blobs)
    return cache[key]


@functools.lru_cache(maxsize=8)
def _load_task(task: str, image: bool, data_seed: int, blobs):
    if task == "digits":
        return load_digits(seed=data_seed, image=image)
    return make_blobs_task(n_samples=blobs.n_samples, n_features=blobs.n_features, n_classes=blobs.n_classes,
                           test_fraction=blobs.test_fraction, seed=data_seed)


def _zoo_run(task) -> RunResult:
    """Train and score one run (one executor task): ``(spec, config, out_dir, keep_analyses)``."""
    spec, config, out, keep = task
    data = _task_data(spec, config)  # memoised per process: each worker loads a data set once
    ckpts = train_run(spec, data, Path(out) / "checkpoints")
    return score_run(spec, data, ckpts, config.score, root=Path(out), keep_analyses=keep)


def _build(spec: RunSpec, data) -> nn.Module:
    if spec.arch in ("dnn", "dgn", "dlgn"):
        return gated_model(spec.arch, in_features=int(np.prod(data.input_shape)), hidden=spec.hidden,
                           n_classes=data.n_classes)
    if spec.arch == "cnn":
        return SmallCNN(data.input_shape[0], n_classes=data.n_classes, channels=spec.hidden,
                        image_size=data.input_shape[-1])
    return MLP(int(np.prod(data.input_shape)), hidden=spec.hidden, n_classes=data.n_classes, dropout=spec.dropout)


def _run_zoo(config: ZooConfig, out: Path, *, progress: bool, factory_path=None, allow_packages=(),
             executor: Executor) -> ZooResult:
    t0 = time.perf_counter()
    # files and factories checked before any training (a failure costs nothing)
    prepared = [prepare_custom(cs, factory_path=factory_path, allow_packages=allow_packages) for cs in config.custom]
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    timeline = timeline_run(config)
    tasks = [(spec, config, str(out), spec.name == timeline) for spec in config.runs]
    runs: list[RunResult] = run_tasks(_zoo_run, tasks, executor, progress=progress, desc="zoo")
    for cs, (factory, X, y) in zip(config.custom, prepared):
        runs.append(score_custom(cs, factory, (X, y), config.score, progress=progress))
    res = stack_runs(runs, paths={}, seconds=0.0)
    paths = {"scores": write_csv(res.table, out / "scores.csv"), "neurons": write_csv(res.neurons, out / "neurons.csv"),
             "checkpoints": out / "checkpoints"}
    snapshots = [snap for r in runs for snap in r.snapshots]
    if snapshots:
        paths["timeline_gexf"] = export_dynamic_gexf([a.graph for _, a in snapshots], out / "timeline.gexf",
                                                     times=[float(e) for e, _ in snapshots],
                                                     partitions=[a.partition for _, a in snapshots], name=timeline)
        epoch, final = snapshots[-1]
        paths["timeline_files"] = write_analysis(final, out / "timeline", name=timeline,
                                                 title=f"{timeline}, epoch {epoch}")
    return replace(res, paths=paths, seconds=time.perf_counter() - t0)
