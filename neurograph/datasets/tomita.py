"""The seven Tomita grammars over {0, 1}: membership, minimal DFAs, and balanced samplers.

=====  ==========================================================  ================
no.    language (strings over the symbols 0 and 1)                 minimal DFA
=====  ==========================================================  ================
1      ``1*``                                                      2 states
2      ``(10)*``                                                   3 states
3      no odd-length run of 1s followed, anywhere later, by an      5 states
       odd-length run of 0s (runs are maximal)
4      no ``000`` substring                                         4 states
5      an even number of 0s and an even number of 1s                4 states
6      (number of 0s − number of 1s) divisible by 3                 3 states
7      ``0*1*0*1*``                                                5 states
=====  ==========================================================  ================

The DFAs are complete (with a dead state where needed); the state counts are those of
``tomita_dfa(g).minimize().n_states`` and the tests check every DFA against
:func:`tomita_accepts` on all strings up to length 12. The definitions follow Tomita
(1982) as implemented by Weiss, Goldberg & Yahav (2018).

Sequences are token ids: symbol 0 is token 0, symbol 1 is token 1, and padding is token
:data:`TOMITA_PAD` = 2, so a model needs ``vocab_size=3, padding_idx=2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch

from .._seed import as_generator
from ..errors import DataError
from ..automata.fsa import FSA
from .text import pad_sequences

__all__ = ["TOMITA_GRAMMARS", "TOMITA_PAD", "TomitaData", "make_tomita", "sample_tomita", "tomita_accepts",
           "tomita_dfa"]

#: Short description of each grammar.
TOMITA_GRAMMARS = {
    1: "1*",
    2: "(10)*",
    3: "no odd run of 1s followed later by an odd run of 0s",
    4: "no 000",
    5: "even number of 0s and even number of 1s",
    6: "#0 - #1 divisible by 3",
    7: "0*1*0*1*",
}
#: Padding token id of Tomita data (symbols are 0 and 1).
TOMITA_PAD = 2

_SPECS = {
    1: {"ones": (True, {0: "dead", 1: "ones"}), "dead": (False, {0: "dead", 1: "dead"})},
    2: {"even": (True, {0: "dead", 1: "need0"}), "need0": (False, {0: "even", 1: "dead"}),
        "dead": (False, {0: "dead", 1: "dead"})},
    3: {"safe": (True, {0: "safe", 1: "ones_odd"}), "ones_odd": (True, {0: "zeros_odd", 1: "safe"}),
        "zeros_odd": (False, {0: "tainted", 1: "dead"}), "tainted": (True, {0: "zeros_odd", 1: "tainted"}),
        "dead": (False, {0: "dead", 1: "dead"})},
    4: {"z0": (True, {0: "z1", 1: "z0"}), "z1": (True, {0: "z2", 1: "z0"}), "z2": (True, {0: "dead", 1: "z0"}),
        "dead": (False, {0: "dead", 1: "dead"})},
    5: {"ee": (True, {0: "oe", 1: "eo"}), "oe": (False, {0: "ee", 1: "oo"}), "eo": (False, {0: "oo", 1: "ee"}),
        "oo": (False, {0: "eo", 1: "oe"})},
    6: {"r0": (True, {0: "r1", 1: "r2"}), "r1": (False, {0: "r2", 1: "r0"}), "r2": (False, {0: "r0", 1: "r1"})},
    7: {"zeros1": (True, {0: "zeros1", 1: "ones1"}), "ones1": (True, {0: "zeros2", 1: "ones1"}),
        "zeros2": (True, {0: "zeros2", 1: "ones2"}), "ones2": (True, {0: "dead", 1: "ones2"}),
        "dead": (False, {0: "dead", 1: "dead"})},
}


def tomita_accepts(grammar: int, word) -> bool:
    """Whether ``word`` is in Tomita grammar ``grammar`` (computed from the definition, not a DFA).

    ``word`` is a string of ``"0"``/``"1"`` characters or a sequence of 0/1 ints.

    Examples
    --------
    >>> tomita_accepts(2, "1010"), tomita_accepts(2, [1, 0, 0]), tomita_accepts(7, "0110")
    (True, False, True)
    """
    g = _check_grammar(grammar)
    w = as_binary_word(word)
    if g == 1:
        return "0" not in w
    if g == 2:
        return len(w) % 2 == 0 and w == "10" * (len(w) // 2)
    if g == 3:
        seen_odd_ones = False
        for run in _runs(w):
            if run[0] == "0" and len(run) % 2 == 1 and seen_odd_ones:
                return False
            if run[0] == "1" and len(run) % 2 == 1:
                seen_odd_ones = True
        return True
    if g == 4:
        return "000" not in w
    if g == 5:
        return w.count("0") % 2 == 0 and w.count("1") % 2 == 0
    if g == 6:
        return (w.count("0") - w.count("1")) % 3 == 0
    return w.count("10") <= 1


def tomita_dfa(grammar: int) -> FSA:
    """The minimal complete DFA of Tomita grammar ``grammar`` over token ids {0, 1} (output 1 = accept).

    Examples
    --------
    >>> dfa = tomita_dfa(4)
    >>> dfa.n_states, dfa.predict([[0, 0], [0, 0, 0], [1, 0, 0, 1]]).tolist()
    (4, [1, 0, 1])
    """
    g = _check_grammar(grammar)
    fsa = FSA.from_spec(_SPECS[g])
    return FSA(transitions=fsa.transitions, outputs=fsa.outputs, alphabet=fsa.alphabet, start=fsa.start,
               state_names=fsa.state_names, params={"source": f"tomita {g}"})


def sample_tomita(grammar: int, n: int, lengths: tuple[int, int], *, label: int,
                  seed: int | np.random.Generator | None = 0) -> list[np.ndarray]:
    """``n`` strings of one class, each uniform among the strings of its length and class.

    Each string's length is drawn uniformly from the lengths in ``lengths = (lo, hi)``
    (inclusive) that have at least one string of class ``label`` (1 = in the grammar,
    0 = not); then the string is drawn uniformly among those of that length and class, by
    walking the DFA with probabilities proportional to the number of completions (exact
    counts, so even grammars with one string per length, like ``1*``, are sampled).

    Examples
    --------
    >>> words = sample_tomita(1, 3, (2, 4), label=1, seed=0)
    >>> all(set(w.tolist()) == {1} for w in words)
    True
    """
    g = _check_grammar(grammar)
    lo, hi = check_lengths(lengths, "lengths")
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
        raise DataError(f"n must be an int >= 0, got {n!r}")
    if label not in (0, 1):
        raise DataError(f"label must be 0 or 1, got {label!r}")
    rng = as_generator(seed)
    dfa = tomita_dfa(g)
    counts = _completions(dfa, hi, label)                       # (hi + 1, n_states) float
    ok = [L for L in range(lo, hi + 1) if counts[L, dfa.start] > 0]
    if not ok:
        raise DataError(f"Tomita {g} has no string of class {label} with length in [{lo}, {hi}]")
    lens = rng.choice(np.array(ok), size=int(n))
    out = []
    for L in lens.tolist():
        q, word = dfa.start, np.empty(L, np.int64)
        for p in range(L):
            nxt = dfa.transitions[q]                              # targets on symbols 0, 1
            w = counts[L - p - 1, nxt]
            a = int(rng.random() * w.sum() >= w[0])
            word[p] = a
            q = int(nxt[a])
        out.append(word)
    return out


@dataclass(frozen=True, eq=False)
class TomitaData:
    """A balanced Tomita task: train strings and longer test strings, padded.

    Attributes
    ----------
    grammar : int
        1..7.
    tokens_train, tokens_test : torch.Tensor of int64, shape (n, T)
        Symbols 0/1, padded with :data:`TOMITA_PAD` after each string.
    lengths_train, lengths_test : torch.Tensor of int64, shape (n,)
        String lengths (0 = the empty string).
    y_train, y_test : torch.Tensor of int64, shape (n,)
        1 if the string is in the grammar.
    dfa : FSA
        The grammar's minimal DFA (ground truth).
    train_lengths, test_lengths : tuple of int
        Inclusive length ranges sampled from.

    Examples
    --------
    >>> data = make_tomita(2, n_train=40, n_test=20, seed=0)
    >>> float(data.y_train.float().mean()), data.vocab_size, data.pad
    (0.5, 3, 2)
    """

    grammar: int
    tokens_train: torch.Tensor
    lengths_train: torch.Tensor
    y_train: torch.Tensor
    tokens_test: torch.Tensor
    lengths_test: torch.Tensor
    y_test: torch.Tensor
    dfa: FSA
    train_lengths: tuple[int, int]
    test_lengths: tuple[int, int]

    pad = TOMITA_PAD
    vocab_size = 3

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens_train, y_train)``; a RecurrentClassifier with ``padding_idx=2`` infers the lengths."""
        return self.tokens_train, self.y_train

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens_test, y_test)``."""
        return self.tokens_test, self.y_test


def make_tomita(grammar: int, *, n_train: int = 2000, n_test: int = 1000, train_lengths: tuple[int, int] = (0, 15),
                test_lengths: tuple[int, int] = (16, 30), seed: int | np.random.Generator | None = 0) -> TomitaData:
    """Balanced train and test sets of Tomita grammar ``grammar`` (half in the grammar, half not).

    Strings come from :func:`sample_tomita` (uniform lengths, uniform strings per length and
    class; duplicates possible) and are shuffled. With the default ranges the test strings
    are longer than every training string (a test of generalisation in length); the empty
    string is in every grammar, so it appears among the positives when 0 is a train length.

    Raises
    ------
    DataError
        Unknown grammar, bad sizes or length ranges.
    """
    g = _check_grammar(grammar)
    (tr, ltr, ytr), (te, lte, yte) = balanced_splits(
        lambda n, lengths, label, rng: sample_tomita(g, n, lengths, label=label, seed=rng),
        n_train, n_test, train_lengths, test_lengths, pad=TOMITA_PAD, seed=seed)
    return TomitaData(grammar=g, tokens_train=tr, lengths_train=ltr, y_train=ytr, tokens_test=te, lengths_test=lte,
                      y_test=yte, dfa=tomita_dfa(g), train_lengths=tuple(train_lengths),
                      test_lengths=tuple(test_lengths))


# ---------------------------------------------------------------------- helpers
def _check_grammar(grammar) -> int:
    if isinstance(grammar, bool) or not isinstance(grammar, Integral) or grammar not in _SPECS:
        raise DataError(f"grammar must be a Tomita grammar number 1..7, got {grammar!r}")
    return int(grammar)


def balanced_splits(sample, n_train: int, n_test: int, train_lengths, test_lengths, *, pad: int, seed):
    """Train and test splits of a binary language, half accepted and half rejected, shuffled and padded.

    ``sample(n, (lo, hi), label, rng)`` draws ``n`` words of the given label. Returns
    ``[(tokens, lengths, labels)]`` for the training and the test split.
    """
    rng = as_generator(seed)
    parts = []
    for n, lengths in ((n_train, train_lengths), (n_test, test_lengths)):
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 2:
            raise DataError(f"n_train and n_test must be ints >= 2, got {n!r}")
        rng_lengths = check_lengths(lengths, "train_lengths/test_lengths")
        pos = sample(n // 2, rng_lengths, 1, rng)
        neg = sample(n - n // 2, rng_lengths, 0, rng)
        y = np.array([1] * len(pos) + [0] * len(neg), np.int64)
        order = rng.permutation(n)
        words = [(pos + neg)[i] for i in order]
        tokens, lens = pad_sequences(words, pad=pad)
        parts.append((tokens, lens, torch.as_tensor(y[order])))
    return parts


def check_lengths(lengths, what: str) -> tuple[int, int]:
    """``lengths`` as a (lo, hi) pair of ints with 0 <= lo <= hi, else DataError naming ``what``."""
    if (not isinstance(lengths, Sequence) or len(lengths) != 2
            or not all(isinstance(x, Integral) and not isinstance(x, bool) for x in lengths)
            or not 0 <= lengths[0] <= lengths[1]):
        raise DataError(f"{what} must be (lo, hi) ints with 0 <= lo <= hi, got {lengths!r}")
    return int(lengths[0]), int(lengths[1])


def as_binary_word(word, what: str = "a Tomita word") -> str:
    """A word over {0, 1} as a string of "0"/"1" (from a str, list or array), else DataError."""
    if isinstance(word, str):
        w = word
    else:
        w = "".join(str(int(x)) for x in (word.tolist() if hasattr(word, "tolist") else word))
    if set(w) - {"0", "1"}:
        raise DataError(f"{what} holds only the symbols 0 and 1, got {word!r}")
    return w


def _runs(w: str) -> list[str]:
    runs, i = [], 0
    while i < len(w):
        j = i
        while j < len(w) and w[j] == w[i]:
            j += 1
        runs.append(w[i:j])
        i = j
    return runs


def _completions(dfa: FSA, max_len: int, label: int) -> np.ndarray:
    """``c[r, q]``: number of strings of length r leading from q to a state of output ``label``."""
    c = np.zeros((max_len + 1, dfa.n_states))
    c[0] = dfa.outputs == label
    for r in range(1, max_len + 1):
        c[r] = c[r - 1][dfa.transitions].sum(axis=1)
    return c
