"""The zoo configuration: the whole TOML schema as typed frozen dataclasses, and its one parser.

A zoo is described by a TOML file (read with :mod:`tomllib`)::

    name = "small zoo"          # optional
    data_seed = 0               # seed of every task's train/test split (shared by all models)
    timeline = ""               # run drawn as a dynamic GEXF (default: the first run with most checkpoints)

    [score]                     # ScoreSettings: options of neurograph.scoring.score_model (all optional)
    n_null = 10
    weight = "npmi"
    method = "leiden"
    per_layer = true
    seed = 0
    baseline = "none"           # "untrained": also score each run's untrained network (its epoch-0
                                # checkpoint if saved, else the same initial weights rebuilt from the
                                # run's seed; for [[custom]] the untrained twin) -> <score>_untrained/_delta

    [blobs]                     # BlobsTask: options of neurograph.datasets.make_blobs_task (optional)
    n_samples = 600
    n_features = 16
    n_classes = 4
    test_fraction = 0.25

    [[family]]                  # FamilySpec: every combination of the lists below is one RunSpec
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

    [[custom]]                  # CustomSpec: your own models, checkpoints + a factory + data
    name = "mine"
    factory = "mypackage.models:build"   # --factory-path DIR or --allow-package mypackage; returns an nn.Module
    kwargs = { width = 32 }              # plain data (no trust_remote_code and the like)
    checkpoints = ["ckpt/epoch1.pt", "ckpt/epoch9.pt"]    # state_dicts, relative to this file
    data = "test.npz"           # arrays X and y (y optional), or a .pt dict of tensors {"X", "y"}
    layers = ["layers.1"]
    rule = "positive"           # firing rule and options as for neurograph.record
    z = 1.0
    threshold = 0.0
    spatial = "mean"

:func:`load_zoo_config` reads a file and :func:`parse_zoo_config` a dict (the parsed TOML);
both validate everything (keys, types, ranges, the factory strings as strings, that kwargs are
plain data, that the families make at most 100,000 runs, counted before expanding) and return a
:class:`ZooConfig` of typed objects, so no settings dict travels further. Reading a config
runs no code: factories are imported only by :func:`neurograph.zoo.run_zoo`, after the
files of every ``[[custom]]`` entry have been checked (see :mod:`neurograph.zoo.factories`
for the whole policy).

One rule for faults: a bad value in a configuration is a :class:`~neurograph.errors.ConfigError`
whose message names the file (or ``source``), the table and the key; each value is checked by
the same :mod:`neurograph._validate` function as the keyword argument it becomes.
"""

from __future__ import annotations

import itertools
import math
import os
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from .._limits import (MAX_CONFIG_BYTES, MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_N_NULL, MAX_RUNS, MAX_SAMPLES, MAX_SEED,
                       MAX_TASK_VALUES, MAX_WIDTH)
from .._validate import check_bool, check_choice, check_int, check_number
from ..errors import ConfigError, OptionError
from .factories import check_factory_kwargs, check_factory_spec

__all__ = ["ARCHS", "BlobsTask", "CustomSpec", "FamilySpec", "FiringRule", "RunSpec", "ScoreSettings", "TASKS",
           "ZooConfig", "count_runs", "expand_family", "load_zoo_config", "parse_custom_spec", "parse_zoo_config",
           "timeline_run"]

#: Architectures a zoo family can train: MLP, SmallCNN, and the gated networks of
#: :mod:`neurograph.models.gated` (their gate pre-activations are recorded, rule "positive").
ARCHS = ("cnn", "dgn", "dlgn", "dnn", "mlp")
#: Built-in tasks of a zoo family.
TASKS = ("digits", "blobs")

_WEIGHTS = ("count", "jaccard", "npmi", "phi")
_METHODS = ("leiden", "multilevel", "louvain", "networkx")
_TOP_KEYS = {"name", "data_seed", "timeline", "score", "blobs", "family", "custom"}
_FAMILY_KEYS = {"task", "arch", "hidden", "dropout", "label_noise", "seeds", "epochs", "checkpoints", "lr",
                "batch_size", "weight_decay"}
#: Values of ``[score] baseline``.
SCORE_BASELINES = ("none", "untrained")
_CUSTOM_KEYS = {"name", "factory", "kwargs", "checkpoints", "data", "layers", "rule", "z", "threshold", "spatial"}


@dataclass(frozen=True)
class ScoreSettings:
    """``[score]``: how every checkpoint is scored (options of :func:`neurograph.scoring.score_model`).

    Examples
    --------
    >>> ScoreSettings(n_null=0).method
    'leiden'

    ``baseline``: None (``"none"`` in TOML) or ``"untrained"`` (also score every run's untrained network on
    the same data and add ``<score>_untrained`` and ``<score>_delta`` columns; about twice the
    scoring time of a run with one checkpoint, since the untrained network is scored once per run).
    """

    n_null: int = 10
    weight: str = "npmi"
    method: str = "leiden"
    per_layer: bool = True
    seed: int = 0
    baseline: str | None = None


@dataclass(frozen=True)
class BlobsTask:
    """``[blobs]``: the generated task (options of :func:`neurograph.datasets.make_blobs_task`)."""

    n_samples: int = 600
    n_features: int = 16
    n_classes: int = 4
    test_fraction: float = 0.25


@dataclass(frozen=True)
class FiringRule:
    """When a recorded neuron fires: ``rule`` and its options, as for :func:`neurograph.record`.

    Examples
    --------
    >>> FiringRule("zscore", z=0.5)
    FiringRule(rule='zscore', z=0.5, threshold=0.0, spatial='mean')
    """

    rule: str = "positive"
    z: float = 1.0
    threshold: float = 0.0
    spatial: str = "mean"


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


@dataclass(frozen=True)
class FamilySpec:
    """One ``[[family]]``: a grid of runs, every combination of ``hidden``, ``dropout``, ``label_noise``, ``seeds``.

    ``checkpoints`` is sorted and holds ``epochs``; :func:`expand_family` gives the runs.
    """

    task: str = "digits"
    arch: str = "mlp"
    hidden: tuple[tuple[int, ...], ...] = ((64, 32),)
    dropout: tuple[float, ...] = (0.0,)
    label_noise: tuple[float, ...] = (0.0,)
    seeds: tuple[int, ...] = (0,)
    epochs: int = 20
    checkpoints: tuple[int, ...] = (20,)
    lr: float = 3e-3
    batch_size: int = 64
    weight_decay: float = 0.0


@dataclass(frozen=True, eq=False)
class CustomSpec:
    """A user's own models: checkpoints loaded into ``factory(**kwargs)``, scored on ``data``."""

    name: str
    factory: str
    kwargs: dict
    checkpoints: tuple[Path, ...]
    data: Path
    layers: tuple[str, ...]
    rule: str = "positive"
    z: float = 1.0
    threshold: float = 0.0
    spatial: str = "mean"
    #: Folder of the zoo configuration this entry came from (None when built in code): no
    #: factory is imported from it unless it is named explicitly as a ``factory_path``.
    config_dir: Path | None = None

    @property
    def firing(self) -> FiringRule:
        """The entry's firing rule and options."""
        return FiringRule(self.rule, z=self.z, threshold=self.threshold, spatial=self.spatial)


@dataclass(frozen=True, eq=False)
class ZooConfig:
    """A parsed zoo configuration (see the module docstring for the TOML form).

    ``runs`` is the expansion of ``families`` (in order); ``timeline`` is the run drawn as a
    dynamic GEXF ("" for the default, see :func:`timeline_run`).
    """

    name: str
    runs: tuple[RunSpec, ...]
    custom: tuple[CustomSpec, ...] = ()
    data_seed: int = 0
    blobs: BlobsTask = field(default_factory=BlobsTask)
    score: ScoreSettings = field(default_factory=ScoreSettings)
    timeline: str = ""
    base_dir: Path = Path(".")
    families: tuple[FamilySpec, ...] = ()


def load_zoo_config(path: str | os.PathLike) -> ZooConfig:
    """Read a zoo configuration from a TOML file; relative paths in it are relative to the file.

    Reading a config runs no code: factories are only checked as strings here (see
    :func:`neurograph.zoo.run_zoo` for when they are imported).

    Raises
    ------
    ConfigError
        Naming the file (and the key at fault): missing, a folder, unreadable, not UTF-8,
        not valid TOML, nested too deeply to parse, or not a valid zoo configuration.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"zoo config {str(path)!r} is a folder, not a file")
    if not path.is_file():
        raise ConfigError(f"zoo config {str(path)!r} does not exist")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"zoo config {str(path)!r} is larger than {MAX_CONFIG_BYTES:,} bytes (neurograph's "
                              "limit of a zoo configuration); nothing was parsed")
        text = data.decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"zoo config {str(path)!r} cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"zoo config {str(path)!r} is not UTF-8 text (invalid byte at offset {exc.start})") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{path}: not a zoo config: arrays or tables nested too deeply to parse") from None
    except ValueError as exc:  # tomllib's own limits (an integer of more than 4300 digits, ...)
        raise ConfigError(f"{path}: not valid TOML: {' '.join(str(exc).split())[:200]}") from exc
    return parse_zoo_config(raw, base_dir=path.parent, source=str(path))


def parse_zoo_config(raw: dict, *, base_dir: str | os.PathLike = ".", source: str = "config") -> ZooConfig:
    """Validate a zoo configuration given as a dict (the parsed TOML) and expand its families.

    Parameters
    ----------
    raw : dict
        The parsed TOML.
    base_dir : path
        Folder that relative paths of ``[[custom]]`` entries are relative to.
    source : str
        Names the configuration in error messages (the file name for :func:`load_zoo_config`).

    Returns
    -------
    ZooConfig

    Raises
    ------
    ConfigError
        Naming ``source``, the table and the key at fault.

    Examples
    --------
    >>> cfg = parse_zoo_config({"family": [{"task": "blobs", "hidden": [[8], [16]], "epochs": 2,
    ...                                     "checkpoints": [0]}]})
    >>> [r.name for r in cfg.runs]
    ['blobs-mlp-8-do0-ln0-s0', 'blobs-mlp-16-do0-ln0-s0']
    >>> cfg.runs[0].checkpoints, cfg.score.n_null
    ((0, 2), 10)
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
    score = _parse_score(raw.get("score", {}), f"{source} [score]")
    if not isinstance(raw.get("blobs", {}), dict):
        raise ConfigError(f"{source}: [blobs] must be a table")
    blobs = _parse_blobs(raw.get("blobs", {}), f"{source} [blobs]")
    for key in ("name", "timeline"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{source}: {key} must be a string, got {raw[key]!r}")
    fams = tuple(_parse_family(fam, f"{source} [[family]] #{i + 1}") for i, fam in enumerate(families))
    n_runs = sum(count_runs(fam) for fam in fams)  # counted before anything is expanded
    if n_runs > MAX_RUNS:
        raise ConfigError(f"{source}: the families make {n_runs:,} runs (every combination of hidden, dropout, "
                          f"label_noise and seeds); the limit is {MAX_RUNS:,} runs per zoo")
    runs = [run for fam in fams for run in expand_family(fam)]
    names = [r.name for r in runs]
    dup = sorted(n for n, k in Counter(names).items() if k > 1)
    if dup:
        raise ConfigError(f"{source}: runs {dup} are defined twice")
    base = Path(base_dir)
    customs = tuple(parse_custom_spec(c, base, f"{source} [[custom]] #{i + 1}") for i, c in enumerate(custom))
    timeline = raw.get("timeline", "")
    if timeline and timeline not in names:
        raise ConfigError(f"{source}: timeline run {timeline!r} is not one of the runs")
    data_seed = _value(source, "data_seed", raw.get("data_seed", 0), check_int, "an int >= 0", min=0,
                    max=MAX_SEED)
    return ZooConfig(name=str(raw.get("name", "zoo")), runs=tuple(runs), custom=customs, data_seed=data_seed,
                     blobs=blobs, score=score, timeline=str(timeline), base_dir=base, families=fams)


def parse_custom_spec(c: dict, base: Path, where: str = "[[custom]]") -> CustomSpec:
    """Validate one ``[[custom]]`` table of a zoo config; paths are made relative to ``base``.

    Only data is read: the factory string is checked (syntax and the standard-library refusal of
    :func:`neurograph.zoo.factories.check_factory_spec`) and its kwargs are checked to be plain
    data without options that load code (:func:`~neurograph.zoo.factories.check_factory_kwargs`),
    but nothing is imported. Raises ConfigError naming ``where`` and the key.
    """
    from ..recording.reading import RULES, SPATIAL_MODES

    unknown_keys(c, _CUSTOM_KEYS, where)
    for key in ("name", "factory", "checkpoints", "data", "layers"):
        if key not in c:
            raise ConfigError(f"{where}: missing key {key!r}")
    for key in ("name", "factory", "data"):
        if not isinstance(c[key], str) or not c[key]:
            raise ConfigError(f"{where}: {key} must be a non-empty string, got {c[key]!r}")
    try:
        check_factory_spec(c["factory"])
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    ck, layers = c["checkpoints"], c["layers"]
    layers = [layers] if isinstance(layers, str) else layers
    if not isinstance(ck, list) or not ck or not all(isinstance(p, str) and p for p in ck):
        raise ConfigError(f"{where}: checkpoints must be a non-empty list of paths, got {ck!r}")
    if not isinstance(layers, list) or not layers or not all(isinstance(x, str) and x for x in layers):
        raise ConfigError(f"{where}: layers must be a layer name or a list of them, got {layers!r}")
    kwargs = c.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise ConfigError(f"{where}: kwargs must be a table, got {type(kwargs).__name__}")
    kwargs = check_factory_kwargs(kwargs, f"{where}: kwargs")
    rule = _value(where, "rule", c.get("rule", "positive"), check_choice, f"one of {list(RULES)}", choices=RULES)
    spatial = _value(where, "spatial", c.get("spatial", "mean"), check_choice, f"one of {list(SPATIAL_MODES)}",
                     choices=SPATIAL_MODES)
    z = _value(where, "z", c.get("z", 1.0), check_number, "a number (finite)")
    threshold = _value(where, "threshold", c.get("threshold", 0.0), check_number, "a number (finite)")
    return CustomSpec(name=c["name"], factory=c["factory"], kwargs=dict(kwargs),
                      checkpoints=tuple(base / p for p in ck), data=base / c["data"], layers=tuple(layers),
                      rule=rule, z=z, threshold=threshold, spatial=spatial, config_dir=Path(base))


def count_runs(family: FamilySpec) -> int:
    """How many runs :func:`expand_family` makes of ``family`` (the product of its grid sizes), without making them.

    Examples
    --------
    >>> count_runs(FamilySpec(hidden=((8,), (16,)), dropout=(0.0, 0.5), seeds=(0, 1, 2)))
    12
    """
    f = family
    return math.prod(len(v) for v in (f.hidden, f.dropout, f.label_noise, f.seeds))


def expand_family(family: FamilySpec) -> tuple[RunSpec, ...]:
    """The runs of one family: every combination of ``hidden``, ``dropout``, ``label_noise`` and ``seeds``.

    Run names read ``<task>-<arch>-<widths>-do<dropout>-ln<label_noise>-s<seed>``.

    Examples
    --------
    >>> [r.name for r in expand_family(FamilySpec(task="blobs", hidden=((8,),), seeds=(0, 1)))]
    ['blobs-mlp-8-do0-ln0-s0', 'blobs-mlp-8-do0-ln0-s1']
    """
    f = family
    return tuple(RunSpec(name=f"{f.task}-{f.arch}-{'x'.join(map(str, h))}-do{do:g}-ln{ln:g}-s{s}", task=f.task,
                         arch=f.arch, hidden=tuple(h), dropout=do, label_noise=ln, seed=s, epochs=f.epochs,
                         checkpoints=f.checkpoints, lr=f.lr, batch_size=f.batch_size, weight_decay=f.weight_decay)
                 for h, do, ln, s in itertools.product(f.hidden, f.dropout, f.label_noise, f.seeds))


def timeline_run(config: ZooConfig) -> str:
    """The run drawn as a dynamic GEXF: ``config.timeline``, else the first run with the most
    checkpoints (if it has at least two), else "" (no timeline)."""
    if config.timeline or not config.runs:
        return config.timeline
    best = max(config.runs, key=lambda r: len(r.checkpoints))
    return best.name if len(best.checkpoints) >= 2 else ""


def unknown_keys(table, allowed: set, where: str) -> None:
    """ConfigError naming ``where`` unless ``table`` is a dict whose keys are all in ``allowed``."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {type(table).__name__}")
    bad = sorted(set(table) - allowed)
    if bad:
        raise ConfigError(f"{where}: unknown key(s) {bad}; allowed: {sorted(allowed)}")


# ---------------------------------------------------------------------- helpers


def _value(where: str, key: str, value, check: Callable, expected: str, **kwargs):
    """``check(key, value, **kwargs)`` (a :mod:`neurograph._validate` check, as for the keyword argument);
    its OptionError becomes a ConfigError ``"<where>: <key> must be <expected>, got <value>"``."""
    try:
        return check(key, value, **kwargs)
    except OptionError as exc:
        limit = kwargs.get("max")
        if limit is not None and isinstance(value, int) and value > limit:
            raise ConfigError(f"{where}: {key} must be <= {limit:,} (neurograph's limit), got {value:,}") from exc
        shown = repr(value) if len(repr(value)) <= 200 else repr(value)[:197] + "..."
        raise ConfigError(f"{where}: {key} must be {expected}, got {shown}") from exc


def _parse_score(score, where: str) -> ScoreSettings:
    unknown_keys(score, {f.name for f in fields(ScoreSettings)}, where)
    values = {}
    if "n_null" in score:
        values["n_null"] = _value(where, "n_null", score["n_null"], check_int, "an int >= 0",
                                  min=0, max=MAX_N_NULL)
        if values["n_null"] == 1:
            raise ConfigError(f"{where}: n_null must be 0 (no null model) or >= 2, got 1")
    if "weight" in score:
        values["weight"] = _value(where, "weight", score["weight"], check_choice, f"one of {list(_WEIGHTS)}",
                                  choices=_WEIGHTS)
    if "method" in score:
        values["method"] = _value(where, "method", score["method"], check_choice, f"one of {list(_METHODS)}",
                                  choices=_METHODS)
    if "per_layer" in score:
        values["per_layer"] = _value(where, "per_layer", score["per_layer"], check_bool, "true or false")
    if "seed" in score:
        values["seed"] = _value(where, "seed", score["seed"], check_int, "an int >= 0", min=0,
                    max=MAX_SEED)
    if "baseline" in score:
        baseline = _value(where, "baseline", score["baseline"], check_choice, f"one of {list(SCORE_BASELINES)}",
                          choices=SCORE_BASELINES)
        values["baseline"] = None if baseline == "none" else baseline
    return ScoreSettings(**values)


def _parse_blobs(blobs: dict, where: str) -> BlobsTask:
    unknown_keys(blobs, {f.name for f in fields(BlobsTask)}, where)
    values = {}
    for key, minimum in (("n_samples", 1), ("n_features", 1), ("n_classes", 2)):
        if key in blobs:
            values[key] = _value(where, key, blobs[key], check_int, f"an int >= {minimum}",
                                 min=minimum, max=MAX_SAMPLES)
    n, f = values.get("n_samples", BlobsTask.n_samples), values.get("n_features", BlobsTask.n_features)
    if n * f > MAX_TASK_VALUES:
        raise ConfigError(f"{where}: n_samples x n_features = {n * f:,} values, beyond neurograph's limit of "
                          f"{MAX_TASK_VALUES:,}")
    if "test_fraction" in blobs:
        values["test_fraction"] = _value(where, "test_fraction", blobs["test_fraction"], check_number,
                                         "a number in (0, 1)", low=0.0, high=1.0, low_open=True, high_open=True)
    return BlobsTask(**values)


def _numbers(v, key: str, where: str, lo: float, hi: float) -> tuple[float, ...]:
    """A number or list of numbers in ``[lo, hi)``, as a tuple of floats."""
    return tuple(_value(where, f"{key} values", x, check_number, f"numbers in [{lo}, {hi})", low=lo, high=hi,
                        high_open=True) for x in (v if isinstance(v, list) else [v]))


def _parse_family(fam, where: str) -> FamilySpec:
    unknown_keys(fam, _FAMILY_KEYS, where)
    task = fam.get("task", "digits")
    arch = fam.get("arch", "mlp")
    _value(where, "task", task, check_choice, "'digits' or 'blobs'", choices=TASKS)
    _value(where, "arch", arch, check_choice, f"one of {ARCHS}", choices=ARCHS)
    if arch == "cnn" and task != "digits":
        raise ConfigError(f"{where}: arch 'cnn' needs image inputs (task 'digits'), got task {task!r}")
    hidden = fam.get("hidden", [64, 32] if arch == "mlp" else [16, 32])
    if isinstance(hidden, list) and hidden and all(isinstance(h, int) for h in hidden):
        hidden = [hidden]
    if not isinstance(hidden, list) or not hidden or not all(
            isinstance(h, list) and 0 < len(h) <= MAX_HIDDEN_LAYERS
            and all(isinstance(w, int) and not isinstance(w, bool) and 0 < w <= MAX_WIDTH for w in h)
            for h in hidden):
        shown = repr(hidden) if len(repr(hidden)) <= 200 else repr(hidden)[:197] + "..."
        raise ConfigError(f"{where}: hidden must be a list of ints in [1, {MAX_WIDTH}] (at most "
                          f"{MAX_HIDDEN_LAYERS} layers) or a list of such lists, got {shown}")
    if arch == "cnn" and any(len(h) != 2 for h in hidden):
        raise ConfigError(f"{where}: a cnn needs exactly two channel counts per entry of hidden, got {hidden!r}")
    dropouts = _numbers(fam.get("dropout", 0.0), "dropout", where, 0.0, 1.0)
    if arch != "mlp" and any(dropouts):
        raise ConfigError(f"{where}: arch {arch!r} has no dropout; remove dropout or use arch 'mlp'")
    noises = _numbers(fam.get("label_noise", 0.0), "label_noise", where, 0.0, 1.0)
    seeds = fam.get("seeds", [0])
    seeds = tuple(_value(where, "seeds", s, check_int, "an int >= 0", min=0,
                    max=MAX_SEED)
                  for s in (seeds if isinstance(seeds, list) else [seeds]))
    epochs = _value(where, "epochs", fam.get("epochs", 20), check_int, "an int >= 1", min=1,
                    max=MAX_EPOCHS)
    ck = fam.get("checkpoints", [])
    if not isinstance(ck, list):
        raise ConfigError(f"{where}: checkpoints must be a list of epochs, got {ck!r}")
    ck = sorted({*(_value(where, "checkpoints", c, check_int, "an int >= 0", min=0) for c in ck), epochs})
    if ck[-1] > epochs:
        raise ConfigError(f"{where}: checkpoint epoch {ck[-1]} is beyond epochs = {epochs}")
    lr = _value(where, "lr", fam.get("lr", 3e-3), check_number, "a positive number", low=0.0, low_open=True)
    wd = _value(where, "weight_decay", fam.get("weight_decay", 0.0), check_number, "a number >= 0", low=0.0)
    bs = _value(where, "batch_size", fam.get("batch_size", 64), check_int, "an int >= 1", min=1)
    return FamilySpec(task=task, arch=arch, hidden=tuple(tuple(h) for h in hidden), dropout=dropouts,
                      label_noise=noises, seeds=seeds, epochs=epochs, checkpoints=tuple(ck), lr=lr, batch_size=bs,
                      weight_decay=wd)
