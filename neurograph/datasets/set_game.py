"""The SET-game task (Murray 2023): recognise whether three values are all equal or all different.

A trial lasts ``n_steps`` (50) steps. Three values ``v1, v2, v3`` from {0, 1, 2} arrive
one after another; each is shown for ``show_steps`` (2) steps as a fixed random
``dim``-dimensional vector (100-d, standard normal entries, the same for the whole data
set), with at least ``min_gap`` (5) empty steps between two presentations; at all other
steps the input is zero. Onset times are uniform over all valid placements. The answer
is positive (label 1) iff the values are all equal or all different, which is the same
as ``v1 + v2 + v3 = 0 (mod 3)``: the task is a 3-state automaton counting the sum mod 3.

Trials are also given as tokens: 0 = no input, ``1 + v`` = value ``v`` shown, so that a
token model with the embedding :attr:`SetTask.embedding` (row 0 zero) sees exactly the
vector inputs, and automata can be extracted over the symbols 0..3.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch

from .._seed import as_generator
from ..errors import DataError

__all__ = ["SetTask", "make_set_task", "set_label"]


def set_label(values) -> np.ndarray:
    """1 where the three values (..., 3) in {0, 1, 2} are all equal or all different, else 0.

    Examples
    --------
    >>> set_label([[0, 0, 0], [0, 1, 2], [0, 0, 1]]).tolist()
    [1, 1, 0]
    """
    v = np.asarray(values, dtype=np.int64)
    if v.shape[-1:] != (3,) or v.size and (v.min() < 0 or v.max() > 2):
        raise DataError(f"values must have shape (..., 3) with entries in {{0, 1, 2}}, got shape {v.shape}")
    return (v.sum(axis=-1) % 3 == 0).astype(np.int64)


@dataclass(frozen=True, eq=False)
class SetTask:
    """SET-game trials split into train and test parts.

    Attributes
    ----------
    tokens_train, tokens_test : torch.Tensor of int64, shape (n, n_steps)
        0 = no input, ``1 + v`` = value ``v`` shown.
    y_train, y_test : torch.Tensor of int64, shape (n,)
        1 iff the three values sum to 0 mod 3.
    values_train, values_test : numpy.ndarray of int64, shape (n, n_values)
        The values in order of arrival.
    onsets_train, onsets_test : numpy.ndarray of int64, shape (n, n_values)
        First step of each presentation.
    vectors : numpy.ndarray of float32, shape (3, dim)
        Input vector of each value.
    n_steps, show_steps, min_gap : int

    Examples
    --------
    >>> task = make_set_task(n_train=20, n_test=10, seed=0)
    >>> tuple(task.inputs(task.tokens_train).shape), task.vocab_size
    ((20, 50, 100), 4)
    """

    tokens_train: torch.Tensor
    y_train: torch.Tensor
    values_train: np.ndarray
    onsets_train: np.ndarray
    tokens_test: torch.Tensor
    y_test: torch.Tensor
    values_test: np.ndarray
    onsets_test: np.ndarray
    vectors: np.ndarray
    n_steps: int
    show_steps: int
    min_gap: int

    vocab_size = 4

    @property
    def input_size(self) -> int:
        """Size of an input vector."""
        return int(self.vectors.shape[1])

    @property
    def embedding(self) -> np.ndarray:
        """(4, dim) float32: the input vector of each token (row 0, no input, is zero)."""
        return np.vstack([np.zeros((1, self.input_size), np.float32), self.vectors]).astype(np.float32)

    def inputs(self, tokens) -> torch.Tensor:
        """Float32 input vectors (n, T, dim) of token trials (n, T)."""
        tok = torch.as_tensor(tokens, dtype=torch.int64)
        return torch.from_numpy(self.embedding)[tok]

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens_train, y_train)``."""
        return self.tokens_train, self.y_train

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens_test, y_test)``."""
        return self.tokens_test, self.y_test


def make_set_task(
    *,
    n_train: int = 2000,
    n_test: int = 500,
    n_steps: int = 50,
    dim: int = 100,
    show_steps: int = 2,
    min_gap: int = 5,
    balanced: bool = True,
    n_values: int = 3,
    seed: int | np.random.Generator | None = 0,
) -> SetTask:
    """Generate SET-game trials (see the module docstring).

    Parameters
    ----------
    n_train, n_test : int
        Trials in each part.
    n_steps : int, default 50
        Steps per trial.
    dim : int, default 100
        Size of the input vectors.
    show_steps : int, default 2
        Steps each value is shown.
    min_gap : int, default 5
        Least number of empty steps between two presentations.
    balanced : bool, default True
        Draw the label first (positive or negative with probability 1/2), then values
        uniformly among the 9 positive or 18 negative triples; otherwise values are
        uniform (1/3 positive).
    n_values : int, default 3
        Values per trial (3 is the SET task). 1 or 2 give easier trials with the same
        rule (positive iff the sum is 0 mod 3), e.g. for a training curriculum.
    seed : int, numpy Generator or None, default 0
        Seed of the vectors and the trials.

    Returns
    -------
    SetTask

    Raises
    ------
    DataError
        If a size is not a positive int or three presentations with their gaps do not fit.

    Examples
    --------
    >>> task = make_set_task(n_train=200, n_test=10, seed=3)
    >>> bool((task.y_train.numpy() == set_label(task.values_train)).all())
    True
    >>> bool((np.diff(task.onsets_train, axis=1) >= 2 + 5).all())
    True
    """
    for name, value in (("n_train", n_train), ("n_test", n_test), ("n_steps", n_steps), ("dim", dim),
                        ("show_steps", show_steps), ("n_values", n_values)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise DataError(f"{name} must be a positive int, got {value!r}")
    if isinstance(min_gap, bool) or not isinstance(min_gap, Integral) or min_gap < 0:
        raise DataError(f"min_gap must be a non-negative int, got {min_gap!r}")
    k = int(n_values)
    slack = n_steps - k * show_steps - (k - 1) * min_gap
    if slack < 0:
        raise DataError(f"{k} presentations of {show_steps} steps with gaps of {min_gap} do not fit in "
                        f"n_steps={n_steps}")
    rng = as_generator(seed)
    vectors = rng.standard_normal((3, int(dim))).astype(np.float32)
    triples = np.array(list(itertools.product(range(3), repeat=k)), np.int64)
    pos, neg = triples[triples.sum(1) % 3 == 0], triples[triples.sum(1) % 3 != 0]
    parts = []
    for n in (n_train, n_test):
        if balanced:
            positive = rng.random(n) < 0.5
            values = np.where(positive[:, None], pos[rng.integers(0, len(pos), n)], neg[rng.integers(0, len(neg), n)])
        else:
            values = triples[rng.integers(0, len(triples), n)]
        b = np.sort(np.stack([rng.choice(slack + k, size=k, replace=False) for _ in range(n)]), axis=1)
        onsets = (b - np.arange(k)) + np.arange(k) * (show_steps + min_gap)
        tokens = np.zeros((n, n_steps), np.int64)
        for j in range(k):
            for s in range(show_steps):
                tokens[np.arange(n), onsets[:, j] + s] = values[:, j] + 1
        labels = (values.sum(1) % 3 == 0).astype(np.int64)
        parts.append((torch.from_numpy(tokens), torch.from_numpy(labels), values, onsets.astype(np.int64)))
    (a, b_, c, d), (e, f, g, h) = parts
    return SetTask(tokens_train=a, y_train=b_, values_train=c, onsets_train=d, tokens_test=e, y_test=f,
                   values_test=g, onsets_test=h, vectors=vectors, n_steps=int(n_steps), show_steps=int(show_steps),
                   min_gap=int(min_gap))
