"""Harder regular languages over {0, 1} than Tomita's: counters and "k-th symbol from the end".

=================  ===================================================  ==============
name               language (strings over the symbols 0 and 1)          minimal DFA
=================  ===================================================  ==============
``"ones_mod3"``    the number of 1s is divisible by 3                   3 states
``"ones_mod5"``    the number of 1s is divisible by 5                   5 states
``"last3"``        the 3rd symbol from the end is 1 (length >= 3)       8 states
``"last4"``        the 4th symbol from the end is 1 (length >= 4)       16 states
=================  ===================================================  ==============

Counting mod ``m`` needs a cycle of ``m`` states that an RNN must keep apart on strings
longer than it was trained on; "k-th from the end" needs the last ``k`` symbols in memory,
``2**k`` states (all pairwise distinguishable, so the DFA is minimal). The minimal DFAs are
built from their definition and tested against :func:`regular_accepts` on every string up
to length 12. Tokens, padding and sampling are those of :mod:`neurograph.datasets.tomita`:
symbols 0 and 1, padding token 2 (``vocab_size=3, padding_idx=2``), balanced classes,
uniform length, then a uniform string of that length and class (exact, by counting
completions on the DFA).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch

from .._seed import as_generator
from ..automata.fsa import FSA
from ..errors import DataError
from .tomita import as_binary_word, balanced_splits, check_lengths

__all__ = ["REGULAR_LANGUAGES", "REGULAR_PAD", "RegularData", "make_regular", "regular_accepts", "regular_dfa",
           "sample_dfa"]

#: Name and description of each language.
REGULAR_LANGUAGES = {
    "ones_mod3": "number of 1s divisible by 3",
    "ones_mod5": "number of 1s divisible by 5",
    "last3": "3rd symbol from the end is 1",
    "last4": "4th symbol from the end is 1",
}
#: Padding token id (symbols are 0 and 1), as for Tomita data.
REGULAR_PAD = 2


def regular_accepts(name: str, word) -> bool:
    """Whether ``word`` (a ``"0"``/``"1"`` string or a sequence of 0/1 ints) is in language ``name``.

    Computed from the definition, not from a DFA.

    Examples
    --------
    >>> regular_accepts("ones_mod3", "10101"), regular_accepts("last3", [1, 0, 0]), regular_accepts("last3", "11")
    (True, True, False)
    """
    kind, m = _parse(name)
    w = _word(word)
    if kind == "mod":
        return w.count("1") % m == 0
    return len(w) >= m and w[-m] == "1"


def regular_dfa(name: str) -> FSA:
    """The minimal complete DFA of language ``name`` over token ids {0, 1} (output 1 = accept).

    Examples
    --------
    >>> dfa = regular_dfa("ones_mod3")
    >>> dfa.n_states, dfa.predict([[1, 1, 1], [1, 0], []]).tolist()
    (3, [1, 0, 1])
    >>> regular_dfa("last4").minimize().n_states
    16
    """
    kind, m = _parse(name)
    if kind == "mod":
        trans = np.array([[r, (r + 1) % m] for r in range(m)], np.int64)
        outputs = (np.arange(m) == 0).astype(np.int64)
        names = tuple(f"r{r}" for r in range(m))
    else:  # state = the last m symbols as bits, oldest first (missing symbols count as 0)
        n = 2 ** m
        s = np.arange(n)
        trans = np.stack([(s << 1) & (n - 1), ((s << 1) | 1) & (n - 1)], axis=1).astype(np.int64)
        outputs = ((s >> (m - 1)) & 1).astype(np.int64)
        names = tuple(format(int(x), f"0{m}b") for x in s)
    return FSA(transitions=trans, outputs=outputs, alphabet=np.array([0, 1], np.int64), start=0,
               state_names=names, params={"source": f"regular {name}"})


def sample_dfa(dfa: FSA, n: int, lengths: tuple[int, int], *, label: int,
               seed: int | np.random.Generator | None = 0) -> list[np.ndarray]:
    """``n`` strings over ``dfa.alphabet`` of output ``label``: uniform length, then uniform string.

    The length is drawn uniformly among those in ``lengths = (lo, hi)`` (inclusive) that
    have a string of class ``label``; the string uniformly among those of that length and
    class (a walk weighted by exact completion counts).

    Examples
    --------
    >>> words = sample_dfa(regular_dfa("ones_mod3"), 4, (3, 6), label=1, seed=0)
    >>> all(int(w.sum()) % 3 == 0 for w in words)
    True
    """
    if not isinstance(dfa, FSA):
        raise DataError(f"dfa must be an FSA, got {type(dfa).__name__}")
    lo, hi = check_lengths(lengths, "lengths")
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
        raise DataError(f"n must be an int >= 0, got {n!r}")
    rng = as_generator(seed)
    c = np.zeros((hi + 1, dfa.n_states))
    c[0] = dfa.outputs == label
    for r in range(1, hi + 1):
        c[r] = c[r - 1][dfa.transitions].sum(axis=1)
    ok = [L for L in range(lo, hi + 1) if c[L, dfa.start] > 0]
    if not ok:
        raise DataError(f"the DFA has no string of class {label!r} with length in [{lo}, {hi}]")
    out = []
    for L in rng.choice(np.array(ok), size=int(n)).tolist():
        q, word = int(dfa.start), np.empty(L, np.int64)
        for p in range(L):
            nxt = dfa.transitions[q]
            w = c[L - p - 1, nxt]
            j = int(np.searchsorted(np.cumsum(w), rng.random() * w.sum(), side="right"))
            j = min(j, nxt.size - 1)
            word[p] = dfa.alphabet[j]
            q = int(nxt[j])
        out.append(word)
    return out


@dataclass(frozen=True, eq=False)
class RegularData:
    """A balanced task of a regular language: train strings and longer test strings, padded.

    Fields as :class:`~neurograph.datasets.tomita.TomitaData` (``language`` instead of
    ``grammar``): ``tokens_*`` (n, T) int64 padded with :data:`REGULAR_PAD`, ``lengths_*``
    (n,), ``y_*`` (n,) with 1 = in the language, ``dfa`` the minimal DFA.

    Examples
    --------
    >>> data = make_regular("ones_mod3", n_train=40, n_test=20, seed=0)
    >>> float(data.y_train.float().mean()), data.vocab_size, data.dfa.n_states
    (0.5, 3, 3)
    """

    language: str
    tokens_train: torch.Tensor
    lengths_train: torch.Tensor
    y_train: torch.Tensor
    tokens_test: torch.Tensor
    lengths_test: torch.Tensor
    y_test: torch.Tensor
    dfa: FSA
    train_lengths: tuple[int, int]
    test_lengths: tuple[int, int]

    pad = REGULAR_PAD
    vocab_size = 3


def make_regular(name: str, *, n_train: int = 2000, n_test: int = 1000, train_lengths: tuple[int, int] = (0, 15),
                 test_lengths: tuple[int, int] = (16, 30),
                 seed: int | np.random.Generator | None = 0) -> RegularData:
    """Balanced train and test sets of language ``name`` (half in it, half not), shuffled.

    Raises
    ------
    DataError
        Unknown language, bad sizes or length ranges.
    """
    _parse(name)
    dfa = regular_dfa(name)
    (tr, ltr, ytr), (te, lte, yte) = balanced_splits(
        lambda n, lengths, label, rng: sample_dfa(dfa, n, lengths, label=label, seed=rng),
        n_train, n_test, train_lengths, test_lengths, pad=REGULAR_PAD, seed=seed)
    return RegularData(language=name, tokens_train=tr, lengths_train=ltr, y_train=ytr, tokens_test=te,
                       lengths_test=lte, y_test=yte, dfa=dfa, train_lengths=tuple(train_lengths),
                       test_lengths=tuple(test_lengths))


# ---------------------------------------------------------------------- helpers
def _parse(name) -> tuple[str, int]:
    if not isinstance(name, str) or name not in REGULAR_LANGUAGES:
        raise DataError(f"name must be one of {tuple(REGULAR_LANGUAGES)}, got {name!r}")
    if name.startswith("ones_mod"):
        return "mod", int(name[len("ones_mod"):])
    return "last", int(name[len("last"):])


def _word(word) -> str:
    return as_binary_word(word, "a word")
