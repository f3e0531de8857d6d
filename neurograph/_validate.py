"""Argument checks shared by every public function: one place, one error class per kind of fault.

A bad option value (a keyword argument outside its choices, range or type) raises
:class:`~neurograph.errors.OptionError` naming the argument and what was expected. Data
arrays are checked by :func:`check_finite_array`, which raises
:class:`~neurograph.errors.DataError` naming the array.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from ._limits import MAX_SEED
from .errors import DataError, OptionError

__all__ = ["check_bool", "check_choice", "check_finite_array", "check_int", "check_module_finite", "check_number", "check_optional_int", "check_output_file", "check_seed", "positive_int"]


def check_choice(name: str, value, choices: Collection):
    """Return ``value`` if it is one of ``choices``; else raise OptionError naming ``name``."""
    try:
        ok = value in choices
    except TypeError:  # unhashable value against a set
        ok = False
    if not ok:
        raise OptionError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_int(name: str, value, *, min: int | None = None, max: int | None = None) -> int:  # noqa: A002
    """Return ``value`` as an int if it is an integer (not a bool) in ``[min, max]``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise OptionError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if min is not None and value < min:
        raise OptionError(f"{name} must be >= {min}, got {value}")
    if max is not None and value > max:
        raise OptionError(f"{name} must be <= {max}, got {value}")
    return value


def positive_int(name: str, value) -> int:
    """``check_int(name, value, min=1)``: a count, a width, a size."""
    return check_int(name, value, min=1)


def check_number(name: str, value, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a finite float in the given interval (open ends where asked)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise OptionError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if low is not None and (value < low or (low_open and value == low)):
        raise OptionError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise OptionError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    """Return ``value`` if it is a bool (numpy bools accepted)."""
    if not isinstance(value, (bool, np.bool_)):
        raise OptionError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_finite_array(name: str, value, *, ndim: int | None = None, dtype=np.float64) -> np.ndarray:
    """Return ``value`` as a numpy array of ``dtype``; DataError if not numeric, of the wrong ndim, or not finite."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a numeric array: {exc}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise DataError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return arr


def check_seed(name: str, value):
    """Return ``value`` if it is a seed: None, an integer (not a bool) or a ``numpy.random.Generator``."""
    if value is None or isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise OptionError(f"{name} must be an int, a numpy Generator or None, got {value!r}")
    if not 0 <= value <= MAX_SEED:
        raise OptionError(f"{name} must be an int in [0, {MAX_SEED}] (2**64 - 1, neurograph's limit), got {value!r}")
    return value


def check_optional_int(name: str, value, *, min: int | None = None, max: int | None = None) -> int | None:  # noqa: A002
    """None, or :func:`check_int` of ``value``."""
    return None if value is None else check_int(name, value, min=min, max=max)


def check_output_file(path) -> Path:
    """Return ``path`` as a Path if a file can be written there; else an ``OSError`` subclass naming it.

    Checked up front so that a writer fails before any work, with a one-line message naming
    ``path`` (not a temporary file): ``IsADirectoryError`` for a folder, ``FileNotFoundError``
    for a folder that does not exist, ``NotADirectoryError`` when the folder is a file,
    ``PermissionError`` when the folder (or an existing file) is not writable.
    """
    import errno
    import os

    p = Path(path)
    folder = p.parent
    if p.is_dir():
        raise _os_error(IsADirectoryError, errno.EISDIR, f"cannot write {str(p)!r}: it is a folder, not a file")
    if not folder.exists():
        raise _os_error(FileNotFoundError, errno.ENOENT,
                        f"cannot write {str(p)!r}: folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise _os_error(NotADirectoryError, errno.ENOTDIR,
                        f"cannot write {str(p)!r}: {str(folder)!r} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise _os_error(PermissionError, errno.EACCES, f"cannot write {str(p)!r}: permission denied")
    return p


def _os_error(cls: type[OSError], code: int, message: str) -> OSError:
    """``cls(message)`` with ``errno`` set, whose ``str`` is just ``message``."""
    exc = cls(message)
    exc.errno = code
    return exc


def check_module_finite(name: str, obj) -> None:
    """DataError naming the parameter (or buffer) unless every float tensor of ``obj`` is finite.

    ``obj`` is a ``torch.nn.Module``, a bound method of one (such as ``RecurrentLayer.step``)
    or any other callable (then nothing is checked). ``name`` names ``obj`` in the message.
    """
    import torch

    module = obj if isinstance(obj, torch.nn.Module) else getattr(obj, "__self__", None)
    if not isinstance(module, torch.nn.Module):
        return
    for kind, tensors in (("parameter", module.named_parameters()), ("buffer", module.named_buffers())):
        for pname, t in tensors:
            if t.is_floating_point() or t.is_complex():
                finite = torch.isfinite(t.detach())
                if not bool(finite.all()):
                    raise DataError(f"{name} {kind} {pname!r} contains {int((~finite).sum())} NaN or infinite "
                                    f"value(s) (shape {tuple(t.shape)})")
