"""Your own models: checkpoints loaded into a model factory, scored on your own data file.

A *factory* is given as ``"package.module:function"`` and called with keyword
arguments to build a fresh model; each checkpoint (a ``state_dict`` file) is loaded
into it with ``torch.load(..., weights_only=True)``. The data is an ``.npz`` file with
arrays ``X`` (inputs) and optionally ``y`` (integer labels), or a ``.pt`` file holding a
dict of tensors ``{"X": ..., "y": ...}`` (also read with ``weights_only=True``).
:func:`score_checkpoints` scores every checkpoint with
:func:`neurograph.scores.score_model`; it is what ``[[custom]]`` entries of a zoo
config and the ``neurograph score`` command run.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from .errors import ConfigError, DataError, ModelError
from .scores import score_model

__all__ = ["CustomSpec", "ZooResult", "load_checkpoint", "load_data_file", "load_factory",
           "parse_custom_spec", "score_checkpoints"]

_CUSTOM_KEYS = {"name", "factory", "kwargs", "checkpoints", "data", "layers", "rule", "z", "threshold", "spatial"}


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


@dataclass(frozen=True, eq=False)
class ZooResult:
    """What :func:`run_zoo` produced: ``table`` (one row per checkpoint), ``neurons`` (one row per
    neuron per checkpoint: entropy, mutual information, community), the paths written, and the time."""

    table: pd.DataFrame
    neurons: pd.DataFrame
    paths: dict
    seconds: float


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load a ``state_dict`` file into ``model`` with ``torch.load(..., weights_only=True)``; returns ``model``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DataError
        If the file is not a readable state_dict (tensors only).
    ModelError
        If its keys or shapes do not match ``model``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise DataError(f"checkpoint {str(path)!r} is not a readable state_dict: {exc}") from exc
    if not isinstance(state, dict):
        raise DataError(f"checkpoint {str(path)!r} holds a {type(state).__name__}, expected a state_dict (dict)")
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError) as exc:
        raise ModelError(f"checkpoint {str(path)!r} does not fit {type(model).__name__}: {exc}") from exc
    return model


def load_factory(spec: str, *, search_path: str | os.PathLike | None = None) -> Callable[..., nn.Module]:
    """Resolve ``"package.module:function"`` to the callable; ``search_path`` is tried first for imports.

    Examples
    --------
    >>> load_factory("neurograph.models:MLP").__name__
    'MLP'
    """
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ConfigError(f"factory must look like 'package.module:function', got {spec!r}")
    mod_name, attr = spec.split(":")
    added = search_path is not None and str(search_path) not in sys.path
    if added:
        sys.path.insert(0, str(search_path))
    try:
        module = importlib.import_module(mod_name)
    except ImportError as exc:
        raise ConfigError(f"factory {spec!r}: cannot import module {mod_name!r}: {exc}") from exc
    finally:
        if added:
            sys.path.remove(str(search_path))
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"factory {spec!r}: module {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"factory {spec!r} is not callable")
    return obj


def load_data_file(path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Read ``(X, y)`` from an ``.npz`` (arrays ``X`` and optional ``y``) or a ``.pt`` dict of tensors.

    ``.pt`` files are read with ``torch.load(..., weights_only=True)``; the keys
    ``X_test``/``y_test`` are accepted too. ``y`` is None when absent.

    Raises
    ------
    FileNotFoundError, DataError
        Missing file, unknown suffix, unreadable content or no ``X``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                content = {k: torch.from_numpy(f[k]) for k in f.files}
        elif path.suffix in (".pt", ".pth"):
            content = torch.load(path, map_location="cpu", weights_only=True)
        else:
            raise DataError(f"data file {str(path)!r}: expected a .npz or .pt file")
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt files raise many kinds
        raise DataError(f"data file {str(path)!r} could not be read: {exc}") from exc
    if not isinstance(content, dict):
        raise DataError(f"data file {str(path)!r} must hold a dict of tensors, got {type(content).__name__}")
    X = content.get("X", content.get("X_test"))
    y = content.get("y", content.get("y_test"))
    if not isinstance(X, torch.Tensor):
        raise DataError(f"data file {str(path)!r} has no tensor 'X' (keys: {sorted(content)})")
    if y is not None and not isinstance(y, torch.Tensor):
        raise DataError(f"data file {str(path)!r}: 'y' must be a tensor, got {type(y).__name__}")
    return X, y


def parse_custom_spec(c: dict, base: Path, where: str = "[[custom]]") -> CustomSpec:
    """Validate one ``[[custom]]`` table of a zoo config; paths are made relative to ``base``."""
    _unknown(c, _CUSTOM_KEYS, where)
    for key in ("name", "factory", "checkpoints", "data", "layers"):
        if key not in c:
            raise ConfigError(f"{where}: missing key {key!r}")
    ck, layers = c["checkpoints"], c["layers"]
    layers = [layers] if isinstance(layers, str) else layers
    if not isinstance(ck, list) or not ck or not all(isinstance(p, str) for p in ck):
        raise ConfigError(f"{where}: checkpoints must be a non-empty list of paths, got {ck!r}")
    if not isinstance(layers, list) or not layers or not all(isinstance(x, str) for x in layers):
        raise ConfigError(f"{where}: layers must be a layer name or a list of them, got {layers!r}")
    kwargs = c.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise ConfigError(f"{where}: kwargs must be a table, got {kwargs!r}")
    return CustomSpec(name=str(c["name"]), factory=str(c["factory"]), kwargs=dict(kwargs),
                      checkpoints=tuple(base / p for p in ck), data=base / str(c["data"]), layers=tuple(layers),
                      rule=str(c.get("rule", "positive")), z=_number(c, "z", 1.0, where),
                      threshold=_number(c, "threshold", 0.0, where), spatial=str(c.get("spatial", "mean")))


def score_checkpoints(cs: CustomSpec, *, n_null: int = 10, weight: str = "npmi", method: str = "leiden",
                      per_layer: bool = True, seed: int = 0, search_path: str | os.PathLike | None = None,
                      progress: bool = False) -> ZooResult:
    """Score a user's checkpoints: ``factory(**kwargs)`` with each state_dict loaded, recorded on ``data``.

    Returns a :class:`ZooResult` (nothing is written; ``paths`` is empty) whose ``table`` has
    one row per checkpoint (``run`` = ``cs.name``, ``epoch`` = position in the list) with
    every score of :func:`neurograph.scores.score_model`.

    Raises
    ------
    ConfigError
        A bad factory string or module.
    FileNotFoundError, DataError, ModelError, LayerError
        Missing or unreadable checkpoints or data; a factory that fails or returns no
        module; a checkpoint that does not fit; unknown layers.
    """
    t0 = time.perf_counter()
    factory = load_factory(cs.factory, search_path=search_path)
    X, y = load_data_file(cs.data)
    sc = dict(n_null=n_null, weight=weight, method=method, per_layer=per_layer, seed=seed)
    rows, neurons = [], []
    for k, path in enumerate(tqdm(cs.checkpoints, desc=cs.name, unit="ckpt", disable=not progress)):
        try:
            model = factory(**cs.kwargs)
        except Exception as exc:  # noqa: BLE001 - the user's code
            raise ModelError(f"factory {cs.factory!r} raised: {exc}") from exc
        if not isinstance(model, nn.Module):
            raise ModelError(f"factory {cs.factory!r} returned a {type(model).__name__}, not a torch.nn.Module")
        load_checkpoint(model, path)
        s = score_model(model, (X, y), list(cs.layers), cs.rule, z=cs.z, threshold=cs.threshold,
                        spatial=cs.spatial, **sc)
        rows.append({"run": cs.name, "task": f"custom:{cs.name}", "arch": type(model).__name__, "epoch": k,
                     "final": k == len(cs.checkpoints) - 1, "checkpoint": str(path), **s.values})
        neurons.append(_neuron_rows(s, cs.name, k))
    return ZooResult(table=pd.DataFrame(rows), neurons=pd.concat(neurons, ignore_index=True), paths={},
                     seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------------- helpers


def _unknown(table, allowed: set, where: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {type(table).__name__}")
    bad = sorted(set(table) - allowed)
    if bad:
        raise ConfigError(f"{where}: unknown key(s) {bad}; allowed: {sorted(allowed)}")


def _number(table: dict, key: str, default: float, where: str) -> float:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{where}: {key} must be a number, got {v!r}")
    return float(v)


def _neuron_rows(s, run: str, epoch: int) -> pd.DataFrame:
    """Per-neuron table of one scored checkpoint, with ``run`` and ``epoch`` columns first."""
    t = s.analysis.neurons[["layer", "unit", "fire_prob", "entropy", "mutual_info", "status", "community"]].copy()
    t.insert(0, "epoch", epoch)
    t.insert(0, "run", run)
    return t
