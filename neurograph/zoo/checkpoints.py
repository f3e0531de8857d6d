"""Your own models: checkpoints loaded into a model factory, scored on your own data file.

A *factory* is given as ``"package.module:function"`` and called with keyword
arguments to build a fresh model (which factories are accepted, and from where, is the
factory policy of :mod:`neurograph.zoo.factories`); each checkpoint (a ``state_dict``
file) is loaded into it with ``torch.load(..., weights_only=True)``. The data is an
``.npz`` file with arrays ``X`` (inputs) and optionally ``y`` (integer labels), or a
``.pt`` file holding a dict of tensors ``{"X": ..., "y": ...}`` (also read with
``weights_only=True``). :func:`score_checkpoints` scores every checkpoint with
:func:`neurograph.scoring.score_model`; it is what ``[[custom]]`` entries of a zoo config
(:class:`~neurograph.zoo.config.CustomSpec`) and the ``neurograph score`` command run.

Files are data, never code: checkpoints and ``.pt`` data files are read with
``weights_only=True`` (tensors, state_dicts and plain containers only; a file that
references any other Python object is refused, nothing in it is executed), ``.npz`` files
with ``allow_pickle=False``. A zoo configuration is validated whole (keys, types, that
checkpoints and data files exist and the data file reads) before any factory is imported.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ..errors import ConfigError, DataError, FileFormatError, ModelError  # noqa: F401 - ConfigError: old import path
from ..io.atomic import check_file, first_line, read_npz
from ..scoring.scores import ModelScores, score_model, with_baseline
from ..scoring.twin import untrained_twin
from .config import CustomSpec, FiringRule, ScoreSettings, parse_custom_spec  # noqa: F401 - old import path
from .factories import (CLASS_ONLY_FACTORY_PACKAGES, DENIED_FACTORY_MODULES,  # noqa: F401 - old import path
                        build_model, check_factory_allowed, check_factory_kwargs, check_factory_spec,
                        load_factory)
from .results import RunResult, ZooResult, checkpoint_row, neuron_rows, stack_runs  # noqa: F401 - ZooResult: old path

__all__ = ["load_checkpoint", "load_data_file", "score_checkpoints"]


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

    A checkpoint whose zip directory declares far more bytes than ``model``'s state_dict holds
    (more than 4 times as many, plus 16 MiB) is refused before anything in it is read.
    """
    path = check_file(path, "checkpoint")
    _check_checkpoint_size(model, path)
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


def load_data_file(path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Read ``(X, y)`` from an ``.npz`` (arrays ``X`` and optional ``y``) or a ``.pt`` dict of tensors.

    ``.pt`` files are read with ``torch.load(..., weights_only=True)`` and ``.npz`` files with
    ``allow_pickle=False`` (nothing is unpickled); the keys ``X_test``/``y_test`` are accepted
    too. ``y`` is None when absent.

    Raises
    ------
    FileFormatError
        Naming the file: missing, a folder, an unknown suffix, unreadable or corrupt, holding
        Python objects, not a dict of tensors, or without ``X``; an ``.npz`` whose members other
        than ``X`` and ``y`` (``X_test``, ``y_test``) declare more than 1 MiB in all, or whose ``y``
        declares more labels than ``X`` has rows (checked from the ``.npy`` headers, before any
        array is read).
    DataError
        Naming the file and the array: ``X`` not numeric (strings, complex), without samples
        or with NaN or infinite values; ``y`` not integer class ids (>= 0), not one label
        per sample of ``X``.
    """
    path = check_file(path, "data file")
    name = str(path)
    if path.suffix == ".npz":
        _check_data_members(path)
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
    if X.ndim == 0:
        raise DataError(f"data file {name!r}: {xkey!r} is a scalar (shape ()); it needs a sample axis, shape (n, ...)")
    if X.shape[0] == 0:
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


def prepare_custom(cs: CustomSpec, *, factory_path=None, allow_packages=(), search_path=None):
    """Check one custom entry in the policy's order; returns ``(factory, X, y)``.

    First what needs no code (the factory string against the allow-list, its kwargs, that every
    checkpoint exists, the data file), then the factory is imported (see :func:`load_factory`; ``search_path``
    is the older name of ``factory_path``).
    """
    folders = factory_path if factory_path is not None else search_path
    check_factory_allowed(cs.factory, factory_path=folders, allow_packages=allow_packages)
    check_factory_kwargs(cs.kwargs, f"{cs.name}: factory {cs.factory!r} kwargs")
    for path in cs.checkpoints:
        check_file(path, "checkpoint")
    X, y = load_data_file(cs.data)
    factory = load_factory(cs.factory, factory_path=folders, allow_packages=allow_packages, config_dir=cs.config_dir)
    return factory, X, y


def score_checkpoints(cs: CustomSpec, *, n_null: int = 10, weight: str = "npmi", method: str = "leiden",
                      per_layer: bool = True, seed: int = 0,
                      factory_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                      allow_packages: Sequence[str] = (), progress: bool = False,
                      search_path: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                      baseline: str | os.PathLike | None = None) -> ZooResult:
    """Score a user's checkpoints: ``factory(**kwargs)`` with each state_dict loaded, recorded on ``data``.

    Returns a :class:`~neurograph.zoo.results.ZooResult` (nothing is written; ``paths`` is
    empty) whose ``table`` has one row per checkpoint (``run`` = ``cs.name``, ``epoch`` =
    position in the list) with every score of :func:`neurograph.scoring.score_model`
    (options ``n_null``, ``weight``, ``method``, ``per_layer``, ``seed``: a
    :class:`~neurograph.zoo.config.ScoreSettings`).

    ``baseline``: None, ``"untrained"`` (the untrained twin of the factory's model,
    :func:`~neurograph.scoring.twin.untrained_twin` under ``seed``) or a state_dict file of the
    untrained network (e.g. the run's epoch-0 checkpoint), scored once on the same data; every
    row then gains ``<score>_untrained`` and ``<score>_delta``.

    The factory is imported (following the factory policy of
    :mod:`neurograph.zoo.factories`: neurograph, torch, the folders ``factory_path`` names or
    the packages ``allow_packages`` names; ``search_path`` is the older name of
    ``factory_path``) only after the factory string, its kwargs, the checkpoint files and the
    data file have been checked.

    Raises
    ------
    ConfigError
        A bad or refused factory string or module, or a factory that returns no ``nn.Module``.
    FileFormatError, DataError, ModelError, LayerError
        Missing or unreadable checkpoints or data; bad data; a factory that raises; a
        checkpoint that does not fit; unknown layers.
    """
    t0 = time.perf_counter()
    settings = ScoreSettings(n_null=n_null, weight=weight, method=method, per_layer=per_layer, seed=seed)
    if baseline is not None and not (isinstance(baseline, str) and baseline == "untrained"):
        baseline = check_file(baseline, "baseline checkpoint")
    factory, X, y = prepare_custom(cs, factory_path=factory_path if factory_path is not None else search_path,
                                   allow_packages=allow_packages)
    run = score_custom(cs, factory, (X, y), settings, progress=progress, baseline=baseline)
    return stack_runs([run], paths={}, seconds=time.perf_counter() - t0)


def score_custom(cs: CustomSpec, factory, data, settings: ScoreSettings, *, progress: bool = False,
                 baseline: str | os.PathLike | None = None) -> RunResult:
    """Score every checkpoint of a checked ``[[custom]]`` entry (``factory``, ``data`` from :func:`prepare_custom`).

    ``baseline`` (None: ``settings.baseline``): ``"untrained"`` or a checkpoint path of the
    untrained network, scored once and added to every row (see :func:`score_checkpoints`).
    """
    if baseline is None and settings.baseline == "untrained":
        baseline = "untrained"
    untrained = None
    if baseline is not None:
        fresh = build_model(factory, cs.kwargs, cs.factory)
        twin = (untrained_twin(fresh, seed=settings.seed) if isinstance(baseline, str) and baseline == "untrained"
                else load_checkpoint(fresh, baseline))
        untrained = score_with(twin, data, list(cs.layers), cs.firing, settings)
    rows, neurons = [], []
    for k, path in enumerate(tqdm(cs.checkpoints, desc=cs.name, unit="ckpt", disable=not progress)):
        model = build_model(factory, cs.kwargs, cs.factory)
        load_checkpoint(model, path)
        s = score_with(model, data, list(cs.layers), cs.firing, settings)
        if untrained is not None:
            s = with_baseline(s, untrained)
        rows.append(checkpoint_row({"run": cs.name, "task": f"custom:{cs.name}", "arch": type(model).__name__,
                                    "epoch": k, "final": k == len(cs.checkpoints) - 1, "checkpoint": str(path)}, s))
        neurons.append(neuron_rows(s, cs.name, k))
    return RunResult(name=cs.name, table=pd.DataFrame(rows), neurons=pd.concat(neurons, ignore_index=True))


def score_with(model: nn.Module, data, layers: list[str], firing: FiringRule, settings: ScoreSettings) -> ModelScores:
    """:func:`neurograph.scoring.score_model` of ``model`` on ``data`` with a firing rule and score settings."""
    return score_model(model, data, layers, firing.rule, z=firing.z, threshold=firing.threshold,
                       spatial=firing.spatial, per_layer=settings.per_layer, weight=settings.weight,
                       method=settings.method, n_null=settings.n_null, seed=settings.seed)


# ---------------------------------------------------------------------- helpers


def _check_checkpoint_size(model: nn.Module, path: Path) -> None:
    """FileFormatError if the checkpoint's zip directory declares far more bytes than ``model``'s state holds."""
    import zipfile

    try:
        if not zipfile.is_zipfile(path):
            return  # the legacy format, or not a checkpoint: torch.load reports it
        with zipfile.ZipFile(path) as zf:
            declared = sum(info.file_size for info in zf.infolist())
    except Exception:  # noqa: BLE001 - an unreadable directory: torch.load reports it
        return
    holds = sum(t.numel() * t.element_size() for t in model.state_dict().values() if isinstance(t, torch.Tensor))
    if declared > 4 * holds + (16 << 20):
        raise FileFormatError(f"checkpoint {str(path)!r} declares {declared:,} bytes once unpacked, far more than "
                              f"the {holds:,} bytes of {type(model).__name__}'s state_dict; refused before reading")


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


_DATA_MEMBERS = ("X", "y", "X_test", "y_test")
_MAX_OTHER_BYTES = 1 << 20  # members of a data file neurograph does not use: read (and ignored) up to 1 MiB


def _check_data_members(path: Path) -> None:
    """FileFormatError if the members of a data ``.npz`` that are not used declare more than 1 MiB, or ``y``
    declares more labels than ``X`` has rows: from the headers alone, before anything is inflated."""
    from ..io.npzheaders import npz_headers

    heads = npz_headers(path, "data file", FileFormatError)
    if heads is None:
        return
    other = {m: h.nbytes for m, h in heads.items() if m not in _DATA_MEMBERS}
    if sum(other.values()) > _MAX_OTHER_BYTES:
        big = max(other, key=other.get)
        raise FileFormatError(f"data file {str(path)!r}: member(s) {sorted(other)} are not X or y and declare "
                              f"{sum(other.values()):,} bytes ({big!r}: {other[big]:,}); neurograph reads X and y "
                              f"only and refuses more than {_MAX_OTHER_BYTES:,} bytes of other members")
    for xk, yk in (("X", "y"), ("X_test", "y_test")):
        hx, hy = heads.get(xk), heads.get(yk)
        if hx is not None and hy is not None and hx.shape and hy.size > hx.shape[0]:
            raise DataError(f"data file {str(path)!r}: {yk!r} declares {hy.size:,} labels, more than the "
                            f"{hx.shape[0]:,} samples of {xk!r}")


def _data_array(value, what: str) -> torch.Tensor:
    """A tensor from a numpy array or tensor of a data file; DataError for text or object arrays."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise DataError(f"{what} must be a numeric array, got dtype {value.dtype}")
        arr = value.astype(value.dtype.newbyteorder("="), copy=False)
        return torch.from_numpy(arr if arr.flags.c_contiguous else np.ascontiguousarray(arr))  # 0-d stays 0-d
    if isinstance(value, torch.Tensor):
        return value
    raise FileFormatError(f"{what} must be a tensor, got {type(value).__name__}")
