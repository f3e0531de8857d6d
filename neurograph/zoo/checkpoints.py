"""Your own models: checkpoints loaded into a model factory, scored on your own data file.

A *factory* is given as ``"package.module:function"`` and called with keyword
arguments to build a fresh model; each checkpoint (a ``state_dict`` file) is loaded
into it with ``torch.load(..., weights_only=True)``. The data is an ``.npz`` file with
arrays ``X`` (inputs) and optionally ``y`` (integer labels), or a ``.pt`` file holding a
dict of tensors ``{"X": ..., "y": ...}`` (also read with ``weights_only=True``).
:func:`score_checkpoints` scores every checkpoint with
:func:`neurograph.scores.score_model`; it is what ``[[custom]]`` entries of a zoo
config and the ``neurograph score`` command run.

Files are data, never code: checkpoints and ``.pt`` data files are read with
``weights_only=True`` (tensors, state_dicts and plain containers only; a file that
references any other Python object is refused, nothing in it is executed), ``.npz`` files
with ``allow_pickle=False``.

Factory policy (what :func:`load_factory` imports and calls):

* A factory is imported only from a module that is already importable (an installed
  package, or a module on ``sys.path``), or from folders the caller names explicitly with
  ``search_path=`` (``--factory-path DIR`` on the command line); never implicitly from the
  folder of a zoo configuration, nor from the current folder.
* Modules of the standard library (``os``, ``sys``, ``subprocess``, ``shutil``,
  ``builtins``, ``importlib``, ``runpy``, ``pty``, ``socket``, ``ctypes``, ``pickle``, ...,
  and their submodules, see :data:`DENIED_FACTORY_MODULES`) are refused before anything
  is imported, and so is any function defined in one of them, whatever module re-exports
  it. From general-purpose libraries (:data:`CLASS_ONLY_FACTORY_PACKAGES`: numpy,
  pandas, torch, ...) only ``torch.nn.Module`` subclasses are accepted.
* The factory must be an ``nn.Module`` subclass or a Python function (not a built-in, not
  reached through another module's attribute); what it returns must be an ``nn.Module``,
  else :class:`~neurograph.errors.ConfigError` naming the factory.
* A zoo configuration is validated whole (keys, types, that checkpoints and data files
  exist and the data file reads) before any factory is imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ..io.atomic import check_file, first_line, read_npz
from ..errors import ConfigError, DataError, FileFormatError, ModelError
from ..scoring.scores import score_model

__all__ = ["CLASS_ONLY_FACTORY_PACKAGES", "CustomSpec", "DENIED_FACTORY_MODULES", "ZooResult", "load_checkpoint",
           "load_data_file", "load_factory", "parse_custom_spec", "score_checkpoints"]

#: Top-level modules no factory may come from (nor their submodules): process control, shells,
#: imports, code execution, pickles, sockets, native code, and every other module of the
#: standard library (``sys.stdlib_module_names``): no model factory lives there.
DENIED_FACTORY_MODULES = frozenset({
    "os", "posix", "nt", "sys", "subprocess", "_posixsubprocess", "shutil", "builtins", "importlib", "runpy",
    "pty", "socket", "ctypes", "pickle", "_pickle", "marshal", "multiprocessing", "signal", "code", "codeop",
    "io", "_io", "pathlib", "tempfile", "shelve", "webbrowser", "timeit", "cProfile", "profile", "pdb",
} | set(getattr(sys, "stdlib_module_names", ())))

#: General-purpose packages whose functions can read, write or unpickle files or run code
#: (``numpy.save``, ``pandas.read_pickle``, ``torch.load``, ``torch.hub.load``, ...): from them
#: only ``torch.nn.Module`` subclasses are accepted as factories (``neurograph.models`` and
#: ``torch.nn`` functions too).
CLASS_ONLY_FACTORY_PACKAGES = frozenset({
    "torch", "numpy", "pandas", "scipy", "sklearn", "joblib", "dill", "cloudpickle", "yaml", "IPython", "pip",
    "setuptools", "pkg_resources", "matplotlib", "networkx", "igraph", "leidenalg", "pytest", "_pytest",
    "hypothesis", "tqdm", "neurograph"})
_FUNCTION_OK = ("neurograph.models", "torch.nn")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

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
    #: Folder of the zoo configuration this entry came from (None when built in code): no
    #: factory is imported from it unless it is named explicitly as a ``search_path``.
    config_dir: Path | None = None


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

    Only tensors, state_dicts and plain containers are read: a file that references any
    other Python object is refused and nothing in it is executed (neurograph never
    unpickles code).

    Raises
    ------
    FileFormatError
        Naming the file: missing, a folder, unreadable, corrupt or truncated, holding
        Python objects other than tensors, or not a state_dict (a dict of tensors by name).
    ModelError
        If its keys or shapes do not match ``model``.
    """
    path = check_file(path, "checkpoint")
    state = _torch_load(path, "checkpoint")
    if not isinstance(state, dict):
        raise FileFormatError(f"checkpoint {str(path)!r} holds a {type(state).__name__}, expected a state_dict "
                              "(a dict of tensors by parameter name)")
    bad = [k for k, v in state.items() if not isinstance(k, str)
           or not (isinstance(v, torch.Tensor) or k.endswith("_extra_state"))]
    if bad:
        k = bad[0]
        raise FileFormatError(f"checkpoint {str(path)!r} is not a state_dict: entry {k!r} holds a "
                              f"{type(state[k]).__name__}, not a tensor")
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"checkpoint {str(path)!r} does not fit {type(model).__name__}: "
                         f"{' '.join(str(exc).split())}") from exc
    return model


def check_factory_spec(spec) -> tuple[str, str]:
    """Check a factory string without importing anything; returns ``(module, attribute)``.

    The string must be ``"package.module:function"`` (dotted Python names, no ``__dunder__``
    parts) and its module must not be in :data:`DENIED_FACTORY_MODULES`.

    Raises
    ------
    ConfigError
        Naming the factory and what is wrong.
    """
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ConfigError(f"factory must look like 'package.module:function', got {spec!r}")
    mod_name, attr = spec.split(":")
    if not _DOTTED.match(mod_name) or not _DOTTED.match(attr):
        raise ConfigError(f"factory {spec!r}: module and function must be dotted Python names "
                          "('package.module:function')")
    if any(part.startswith("__") for part in (*mod_name.split("."), *attr.split("."))):
        raise ConfigError(f"factory {spec!r}: names starting with '__' are not allowed")
    if _denied(mod_name):
        raise ConfigError(f"factory {spec!r}: module {mod_name!r} is refused (standard library and "
                          "process-control modules never provide model factories; zoo configs hold data only)")
    return mod_name, attr


def load_factory(spec: str, *, search_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                 config_dir: str | os.PathLike | None = None) -> Callable[..., nn.Module]:
    """Resolve ``"package.module:function"`` to the factory, following the factory policy.

    The module is imported from what is already importable (installed packages,
    ``sys.path``) or from the folder(s) ``search_path`` names explicitly (tried first,
    for this import only). A module found in ``config_dir`` (the folder of a zoo
    configuration) is refused unless that folder is named in ``search_path``: a config
    never brings its own code. See the module docstring for the whole policy.

    Examples
    --------
    >>> load_factory("neurograph.models:MLP").__name__
    'MLP'

    Raises
    ------
    ConfigError
        A malformed string; a refused module (:data:`DENIED_FACTORY_MODULES`); a module that
        cannot be imported or lies beside the configuration; a missing attribute; an
        attribute reached through another module; or an object that is neither an
        ``nn.Module`` subclass nor a Python function (or a function from a class-only package).
    """
    mod_name, attr = check_factory_spec(spec)
    paths = _search_paths(search_path, spec)
    added = [p for p in paths if p not in sys.path]
    sys.path[:0] = added
    try:
        if config_dir is not None:
            _refuse_beside_config(spec, mod_name, Path(config_dir), paths)
        module = importlib.import_module(mod_name)
    except ConfigError:
        raise
    except ImportError as exc:
        where = f" or in {paths}" if paths else ""
        raise ConfigError(f"factory {spec!r}: cannot import module {mod_name!r} from the installed packages"
                          f"{where}: {first_line(exc)} (to import code from a folder, name it with --factory-path "
                          "DIR or search_path=)") from exc
    except Exception as exc:  # noqa: BLE001 - the module's own code failed (SyntaxError, RuntimeError, ...)
        raise ConfigError(f"factory {spec!r}: importing module {mod_name!r} raised "
                          f"{type(exc).__name__}: {first_line(exc)}") from exc
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"factory {spec!r}: module {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
        if inspect.ismodule(obj):
            raise ConfigError(f"factory {spec!r}: {attr!r} reaches into another module ({obj.__name__!r}); name "
                              "the factory by its own module")
    _check_factory_object(spec, mod_name, obj)
    return obj


def build_model(factory: Callable[..., nn.Module], kwargs: dict, spec: str) -> nn.Module:
    """Call ``factory(**kwargs)``; ModelError if it raises, ConfigError if it returns no ``nn.Module``."""
    try:
        model = factory(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the user's code
        raise ModelError(f"factory {spec!r} raised: {exc}") from exc
    if not isinstance(model, nn.Module):
        raise ConfigError(f"factory {spec!r} returned a {type(model).__name__}, not a torch.nn.Module")
    return model


def load_data_file(path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Read ``(X, y)`` from an ``.npz`` (arrays ``X`` and optional ``y``) or a ``.pt`` dict of tensors.

    ``.pt`` files are read with ``torch.load(..., weights_only=True)`` and ``.npz`` files with
    ``allow_pickle=False`` (nothing is unpickled); the keys ``X_test``/``y_test`` are accepted
    too. ``y`` is None when absent.

    Raises
    ------
    FileFormatError
        Naming the file: missing, a folder, an unknown suffix, unreadable or corrupt, holding
        Python objects, not a dict of tensors, or without ``X``.
    DataError
        Naming the file and the array: ``X`` not numeric (strings, complex), without samples
        or with NaN or infinite values; ``y`` not integer class ids (>= 0), not one label
        per sample of ``X``.
    """
    path = check_file(path, "data file")
    name = str(path)
    if path.suffix == ".npz":
        content = read_npz(path, "data file", FileFormatError)
    elif path.suffix in (".pt", ".pth"):
        content = _torch_load(path, "data file")
        if not isinstance(content, dict):
            raise FileFormatError(f"data file {name!r} must hold a dict of tensors, got {type(content).__name__}")
    else:
        raise FileFormatError(f"data file {name!r}: expected a .npz or .pt file, got suffix {path.suffix!r}")
    xkey = "X" if "X" in content else "X_test"
    ykey = "y" if "y" in content else "y_test"
    X, y = content.get(xkey), content.get(ykey)
    if X is None:
        raise FileFormatError(f"data file {name!r} has no tensor 'X' (keys: {sorted(map(str, content))})")
    X = _data_array(X, f"data file {name!r}: {xkey!r}")
    if X.ndim == 0 or X.shape[0] == 0:
        raise DataError(f"data file {name!r}: {xkey!r} has no samples (shape {tuple(X.shape)})")
    if X.dtype == torch.bool or X.dtype.is_complex:
        raise DataError(f"data file {name!r}: {xkey!r} must be real numbers, got dtype {X.dtype}")
    if X.dtype.is_floating_point and not torch.isfinite(X).all():
        raise DataError(f"data file {name!r}: {xkey!r} contains NaN or infinite values")
    if y is not None:
        y = _data_array(y, f"data file {name!r}: {ykey!r}")
        if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
            raise DataError(f"data file {name!r}: {ykey!r} must hold integer class ids, got dtype {y.dtype}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise DataError(f"data file {name!r}: {ykey!r} must be one label per sample, shape ({X.shape[0]},); "
                            f"got shape {tuple(y.shape)}")
        if y.numel() and int(y.min()) < 0:
            raise DataError(f"data file {name!r}: {ykey!r} holds negative class ids (min {int(y.min())})")
    return X, y


def parse_custom_spec(c: dict, base: Path, where: str = "[[custom]]") -> CustomSpec:
    """Validate one ``[[custom]]`` table of a zoo config; paths are made relative to ``base``.

    Only data is read: the factory string is checked (syntax and the module denylist of
    :func:`check_factory_spec`) but nothing is imported. Raises ConfigError naming ``where``
    and the key.
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
        raise ConfigError(f"{where}: kwargs must be a table, got {kwargs!r}")
    rule, spatial = c.get("rule", "positive"), c.get("spatial", "mean")
    if rule not in RULES:
        raise ConfigError(f"{where}: rule must be one of {list(RULES)}, got {rule!r}")
    if spatial not in SPATIAL_MODES:
        raise ConfigError(f"{where}: spatial must be one of {list(SPATIAL_MODES)}, got {spatial!r}")
    return CustomSpec(name=c["name"], factory=c["factory"], kwargs=dict(kwargs),
                      checkpoints=tuple(base / p for p in ck), data=base / c["data"], layers=tuple(layers),
                      rule=rule, z=_number(c, "z", 1.0, where), threshold=_number(c, "threshold", 0.0, where),
                      spatial=spatial, config_dir=Path(base))


def prepare_custom(cs: CustomSpec, *, search_path=None):
    """Check one custom entry in the policy's order; returns ``(factory, X, y)``.

    First what needs no code (the factory string, that every checkpoint exists, the data
    file), then the factory is imported (see :func:`load_factory`).
    """
    check_factory_spec(cs.factory)
    for path in cs.checkpoints:
        check_file(path, "checkpoint")
    X, y = load_data_file(cs.data)
    factory = load_factory(cs.factory, search_path=search_path, config_dir=cs.config_dir)
    return factory, X, y


def score_checkpoints(cs: CustomSpec, *, n_null: int = 10, weight: str = "npmi", method: str = "leiden",
                      per_layer: bool = True, seed: int = 0,
                      search_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                      progress: bool = False) -> ZooResult:
    """Score a user's checkpoints: ``factory(**kwargs)`` with each state_dict loaded, recorded on ``data``.

    Returns a :class:`ZooResult` (nothing is written; ``paths`` is empty) whose ``table`` has
    one row per checkpoint (``run`` = ``cs.name``, ``epoch`` = position in the list) with
    every score of :func:`neurograph.scores.score_model`.

    The factory is imported (following the factory policy of the module docstring: from
    installed packages or the folders ``search_path`` names explicitly) only after the
    factory string, the checkpoint files and the data file have been checked.

    Raises
    ------
    ConfigError
        A bad or refused factory string or module, or a factory that returns no ``nn.Module``.
    FileFormatError, DataError, ModelError, LayerError
        Missing or unreadable checkpoints or data; bad data; a factory that raises; a
        checkpoint that does not fit; unknown layers.
    """
    t0 = time.perf_counter()
    factory, X, y = prepare_custom(cs, search_path=search_path)
    sc = dict(n_null=n_null, weight=weight, method=method, per_layer=per_layer, seed=seed)
    rows, neurons = [], []
    for k, path in enumerate(tqdm(cs.checkpoints, desc=cs.name, unit="ckpt", disable=not progress)):
        model = build_model(factory, cs.kwargs, cs.factory)
        load_checkpoint(model, path)
        s = score_model(model, (X, y), list(cs.layers), cs.rule, z=cs.z, threshold=cs.threshold,
                        spatial=cs.spatial, **sc)
        rows.append({"run": cs.name, "task": f"custom:{cs.name}", "arch": type(model).__name__, "epoch": k,
                     "final": k == len(cs.checkpoints) - 1, "checkpoint": str(path), **s.values})
        neurons.append(neuron_rows(s, cs.name, k))
    return ZooResult(table=pd.DataFrame(rows), neurons=pd.concat(neurons, ignore_index=True), paths={},
                     seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------------- helpers


def unknown_keys(table, allowed: set, where: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {type(table).__name__}")
    bad = sorted(set(table) - allowed)
    if bad:
        raise ConfigError(f"{where}: unknown key(s) {bad}; allowed: {sorted(allowed)}")


def _number(table: dict, key: str, default: float, where: str) -> float:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(f"{where}: {key} must be a number (finite), got {v!r}")
    return float(v)


def _torch_load(path: Path, what: str):
    """``torch.load(path, weights_only=True)`` with every failure as one line of FileFormatError."""
    name = str(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - corrupt files and refused objects raise many kinds
        text = str(exc)
        ref = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", text)
        if ref is not None:
            raise FileFormatError(
                f"{what} {name!r} holds Python objects, not only tensors (it references {ref.group(1)}); "
                "neurograph loads only tensors and state_dicts (torch.load weights_only=True) and never "
                "unpickles code") from exc
        if "Weights only load failed" in text:
            detail = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\n|$)", text, re.S)
            detail = " ".join(detail.group(1).split()) if detail else "not a tensor file"
            raise FileFormatError(f"{what} {name!r} is corrupt or not a PyTorch tensor file ({detail}); neurograph "
                                  "loads only tensors and state_dicts and never unpickles code") from exc
        summary = first_line(exc).split(". ")[0]
        raise FileFormatError(f"{what} {name!r} is corrupt or not a PyTorch file: {summary}") from exc


def _data_array(value, what: str) -> torch.Tensor:
    """A tensor from a numpy array or tensor of a data file; DataError for text or object arrays."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise DataError(f"{what} must be a numeric array, got dtype {value.dtype}")
        return torch.from_numpy(np.ascontiguousarray(value.astype(value.dtype.newbyteorder("="), copy=False)))
    if isinstance(value, torch.Tensor):
        return value
    raise FileFormatError(f"{what} must be a tensor, got {type(value).__name__}")


def _denied(mod_name: str) -> bool:
    return mod_name.split(".")[0] in DENIED_FACTORY_MODULES


def _search_paths(search_path, spec: str) -> list[str]:
    if search_path is None:
        return []
    items = [search_path] if isinstance(search_path, (str, os.PathLike)) else list(search_path)
    paths = []
    for p in items:
        if not isinstance(p, (str, os.PathLike)) or not Path(p).is_dir():
            raise ConfigError(f"factory {spec!r}: search path {str(p)!r} is not a folder")
        paths.append(str(Path(p).resolve()))
    return paths


def _refuse_beside_config(spec: str, mod_name: str, config_dir: Path, paths: list[str]) -> None:
    """ConfigError if ``mod_name``'s top-level module would come from ``config_dir`` (not named explicitly)."""
    folder = config_dir.resolve()
    if str(folder) in paths:
        return
    top = mod_name.split(".")[0]
    module = sys.modules.get(top)
    if module is not None:
        origin = getattr(module, "__file__", None)
        locations = list(getattr(module, "__path__", None) or [])
    else:
        try:
            found = importlib.util.find_spec(top)  # a top-level name: locates it, executes nothing
        except (ImportError, ValueError):
            return  # import_module reports it
        if found is None:
            return
        origin = found.origin if found.has_location else None
        locations = list(found.submodule_search_locations or [])
    homes = [Path(loc).resolve().parent for loc in locations]  # a package: the folder holding it
    if origin and not locations:
        homes.append(Path(origin).resolve().parent)  # a plain module: its folder
    if folder in homes:
        raise ConfigError(f"factory {spec!r}: module {top!r} lies in the configuration's folder {str(folder)!r}; a "
                          "config never brings its own code: name that folder explicitly (--factory-path DIR, or "
                          "search_path=) or install the package")


def _check_factory_object(spec: str, mod_name: str, obj) -> None:
    if not callable(obj):
        raise ConfigError(f"factory {spec!r} is not callable (a {type(obj).__name__})")
    if inspect.isclass(obj):
        if not issubclass(obj, nn.Module):
            raise ConfigError(f"factory {spec!r} is a class ({obj.__name__}) but not a torch.nn.Module subclass")
        return
    func = obj.__func__ if inspect.ismethod(obj) else obj
    defined_in = getattr(func, "__module__", None) or mod_name
    if not isinstance(defined_in, str) or _denied(defined_in):
        raise ConfigError(f"factory {spec!r} is defined in module {defined_in!r}, which is refused (standard "
                          "library and process-control modules never provide model factories)")
    for name in {defined_in, mod_name}:
        if name.split(".")[0] in CLASS_ONLY_FACTORY_PACKAGES and not any(
                name == ok or name.startswith(ok + ".") for ok in _FUNCTION_OK):
            raise ConfigError(f"factory {spec!r}: from {name.split('.')[0]!r} only torch.nn.Module subclasses are "
                              "accepted as factories, not functions")
    if inspect.isbuiltin(func) or not inspect.isfunction(func):
        kind = "a built-in function" if inspect.isbuiltin(func) else f"a {type(obj).__name__}"
        raise ConfigError(f"factory {spec!r} is {kind}, not a model factory (an nn.Module subclass or a "
                          "Python function returning one)")


def neuron_rows(s, run: str, epoch: int) -> pd.DataFrame:
    """Per-neuron table of one scored checkpoint, with ``run`` and ``epoch`` columns first."""
    t = s.analysis.neurons[["layer", "unit", "fire_prob", "entropy", "mutual_info", "status", "community"]].copy()
    t.insert(0, "epoch", epoch)
    t.insert(0, "run", run)
    return t
