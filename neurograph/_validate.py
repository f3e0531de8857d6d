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

import numpy as np

from .errors import DataError, OptionError

__all__ = ["check_bool", "check_choice", "check_finite_array", "check_int", "check_number"]


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
