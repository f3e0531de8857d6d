"""Normalise ``seed`` arguments (house rule 6)."""

from __future__ import annotations

import numpy as np

from ._limits import MAX_SEED
from .errors import OptionError

SeedLike = "int | np.random.Generator | None"


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a numpy Generator for ``seed`` (an int, a Generator, or None for fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        if seed is not None and int(seed) < 0:
            raise OptionError(f"seed must be a non-negative int, a numpy Generator or None, got {seed!r}")
        if seed is not None and int(seed) > MAX_SEED:
            raise OptionError(f"seed must be <= {MAX_SEED} (2**64 - 1, neurograph's limit), got {seed!r}")
        return np.random.default_rng(seed)
    raise OptionError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")


def as_int_seed(seed: int | np.random.Generator | None) -> int:
    """Return a non-negative 31-bit int seed for libraries that only take ints (igraph, leidenalg)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed) % (2**31 - 1)
    return int(as_generator(seed).integers(0, 2**31 - 1))
