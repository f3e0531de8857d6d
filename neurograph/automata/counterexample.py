"""Check an extracted FSA against the network it came from: a counterexample search.

:meth:`FSA.counterexample` compares two automata exactly; an RNN is not an automaton, so
:func:`network_counterexample` *tests* the FSA against it, as an equivalence oracle of active
automata learning does (AALpy's random-walk and W-method oracles), and compares the FSA's
output with the network's prediction on

* **W-method words** (systematic, short): ``access(s) + middle + suffix`` for every state
  ``s`` of the minimised FSA (``access(s)`` = a shortest word reaching ``s``), every word
  ``middle`` over the alphabet of length ``0..depth``, and every ``suffix`` in the FSA's
  characterising set (a shortest word telling each pair of states apart, plus the empty
  word). If the network were a DFA with at most ``n_states + depth`` states, these words
  would find any difference (Chow's W-method); for an RNN they are a strong, cheap test
  near the FSA's own structure.
* **random words**: ``n_random`` words with a length uniform in ``0..max_len`` and
  uniform symbols, which also probe lengths beyond the training data.

Every word is run through the network in batches (its prediction, via
:func:`neurograph.recording.record_states`) and through the FSA; the result reports the
shortest word on which they disagree (W-method words first among equally short ones) and
how many words disagreed.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from .._seed import as_generator
from .._validate import check_int, check_seed
from ..errors import DataError, OptionError
from .fsa import FSA

_MAX_WORDS = 10_000_000  # test words of w_method_words (each a tuple): a bound on memory and time

__all__ = ["NetworkCheck", "network_counterexample", "w_method_words"]


@dataclass(frozen=True)
class NetworkCheck:
    """Result of :func:`network_counterexample`.

    Attributes
    ----------
    counterexample : tuple of int or None
        The shortest queried word (token ids) on which the FSA and the network disagree,
        or None if they agreed on every word.
    source : str or None
        ``"wmethod"`` or ``"random"``: which family the counterexample came from.
    n_queries : int
        Distinct words queried (W-method and random together).
    n_wmethod, n_random : int
        Words of each family (before removing duplicates).
    n_disagree : int
        Distinct queried words on which the two disagree.
    n_disagree_wmethod : int
        Of which W-method words.
    """

    counterexample: tuple[int, ...] | None
    source: str | None
    n_queries: int
    n_wmethod: int
    n_random: int
    n_disagree: int
    n_disagree_wmethod: int

    @property
    def agrees(self) -> bool:
        """True when no queried word separated the FSA from the network."""
        return self.counterexample is None

    @property
    def disagreement(self) -> float:
        """Fraction of the queried words on which the two disagree."""
        return self.n_disagree / self.n_queries if self.n_queries else 0.0


def network_counterexample(
    fsa: FSA,
    model: nn.Module | Callable,
    alphabet: Sequence[int] | None = None,
    *,
    max_len: int = 20,
    n_random: int = 1000,
    depth: int = 2,
    seed: int | np.random.Generator | None = 0,
    call: Callable | None = None,
    batch_size: int = 512,
) -> NetworkCheck:
    """Search for a word on which ``fsa`` and the network ``model`` give different classes.

    Parameters
    ----------
    fsa : FSA
        The automaton to check (e.g. from :func:`~neurograph.automata.extract_fsa`).
    model : torch.nn.Module or callable
        A classifier run by :func:`~neurograph.recording.record_states` (``call`` says how,
        as there), or any callable ``predict(list of int64 arrays) -> (n,) classes``.
    alphabet : sequence of int, optional
        Token ids words are made of (default ``fsa.alphabet``). Symbols outside the
        FSA's alphabet are self-loops in the FSA.
    max_len : int, default 20
        Longest word queried (random words: uniform length in ``0..max_len``; W-method words
        longer than this are dropped).
    n_random : int, default 1000
        Number of random words.
    depth : int, default 2
        Length of the longest middle part of W-method words.
    seed : int, numpy Generator or None
        Seed of the random words.
    call : callable, optional
        ``call(model, tokens, lengths) -> logits``, see :func:`~neurograph.recording.record_states`.
    batch_size : int, default 512
        Sequences per forward pass.

    Returns
    -------
    NetworkCheck

    Raises
    ------
    OptionError
        Bad ``max_len``, ``n_random``, ``depth`` (ints >= 0), ``batch_size`` (>= 1),
        ``seed``, or an empty / non-integer ``alphabet``.
    DataError
        ``fsa`` not an FSA, or a callable ``model`` returning the wrong number of classes.

    Examples
    --------
    >>> import numpy as np
    >>> parity = FSA.from_spec({"e": (True, {0: "e", 1: "o"}), "o": (False, {0: "o", 1: "e"})})
    >>> even_ones = lambda words: np.array([int(w.sum() % 2 == 0) for w in words])
    >>> network_counterexample(parity, even_ones, n_random=50).agrees
    True
    >>> no_ones = lambda words: np.array([int(w.sum() == 0) for w in words])
    >>> network_counterexample(parity, no_ones, n_random=50).counterexample
    (1, 1)
    """
    if not isinstance(fsa, FSA):
        raise DataError(f"fsa must be an FSA, got {type(fsa).__name__}")
    max_len = check_int("max_len", max_len, min=0)
    n_random = check_int("n_random", n_random, min=0)
    depth = check_int("depth", depth, min=0)
    batch_size = check_int("batch_size", batch_size, min=1)
    check_seed("seed", seed)
    symbols = _check_alphabet(fsa.alphabet if alphabet is None else alphabet)
    wm = [w for w in w_method_words(fsa, symbols, depth=depth) if len(w) <= max_len]
    rng = as_generator(seed)
    lens = rng.integers(0, max_len + 1, size=n_random)
    rand = [tuple(int(x) for x in rng.choice(symbols, size=int(L))) for L in lens]
    words, source = [], {}
    for fam, ws in (("wmethod", wm), ("random", rand)):
        for w in ws:
            if w not in source:
                source[w] = fam
                words.append(w)
    arrays = [np.array(w, np.int64) for w in words]
    net = _network_predictions(model, arrays, call, batch_size)
    mine = fsa.predict(arrays) if arrays else np.zeros(0, np.int64)
    bad = np.flatnonzero(net != mine)
    cex, src = None, None
    if bad.size:
        i = min(bad.tolist(), key=lambda j: (len(words[j]), source[words[j]] != "wmethod", j))
        cex, src = words[i], source[words[i]]
    return NetworkCheck(counterexample=cex, source=src, n_queries=len(words), n_wmethod=len(wm),
                        n_random=len(rand), n_disagree=int(bad.size),
                        n_disagree_wmethod=int(sum(source[words[j]] == "wmethod" for j in bad.tolist())))


def w_method_words(fsa: FSA, alphabet: Sequence[int] | None = None, *, depth: int = 2) -> list[tuple[int, ...]]:
    """W-method test words of ``fsa``: access sequences x middles (length <= ``depth``) x characterising set.

    Built on ``fsa.minimize()``; sorted by length, then lexicographically; no duplicates.

    Examples
    --------
    >>> parity = FSA.from_spec({"e": (True, {0: "e", 1: "o"}), "o": (False, {0: "o", 1: "e"})})
    >>> w_method_words(parity, depth=0)       # access words; the empty word tells e from o
    [(), (1,)]
    >>> w_method_words(parity, depth=1)
    [(), (0,), (1,), (1, 0), (1, 1)]
    """
    if not isinstance(fsa, FSA):
        raise DataError(f"fsa must be an FSA, got {type(fsa).__name__}")
    depth = check_int("depth", depth, min=0)
    symbols = _check_alphabet(fsa.alphabet if alphabet is None else alphabet)
    small = fsa.minimize()
    access = _access_words(small)
    suffixes = {()} | set(_characterising_set(small))
    n_words = 0  # counted before any word is made
    for L in range(depth + 1):
        n_words += len(access) * len(suffixes) * len(symbols) ** L
        if n_words > _MAX_WORDS:
            raise OptionError(f"depth {depth} asks for more than {_MAX_WORDS:,} test words ({len(symbols)} symbols); "
                              "lower depth")
    middles = [m for L in range(depth + 1) for m in itertools.product(symbols.tolist(), repeat=L)]
    words = {a + m + s for a in access for m in middles for s in suffixes}
    return sorted(words, key=lambda w: (len(w), w))


# ---------------------------------------------------------------------- helpers
def _check_alphabet(alphabet) -> np.ndarray:
    arr = np.asarray(alphabet)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise OptionError(f"alphabet must be a non-empty sequence of integer token ids, got {alphabet!r}")
    return np.unique(arr.astype(np.int64))


def _access_words(fsa: FSA) -> list[tuple[int, ...]]:
    """A shortest word reaching each reachable state (BFS, symbols in alphabet order)."""
    words = {int(fsa.start): ()}
    queue = deque([int(fsa.start)])
    while queue:
        s = queue.popleft()
        for j, a in enumerate(fsa.alphabet.tolist()):
            t = int(fsa.transitions[s, j])
            if t not in words:
                words[t] = words[s] + (int(a),)
                queue.append(t)
    return [words[s] for s in sorted(words)]


def _characterising_set(fsa: FSA) -> list[tuple[int, ...]]:
    """A shortest distinguishing word for every pair of states of a minimal FSA."""
    out = set()
    for p, q in itertools.combinations(range(fsa.n_states), 2):
        w = dataclasses.replace(fsa, start=p, counts=None, params={}).counterexample(
            dataclasses.replace(fsa, start=q, counts=None, params={}))
        if w is not None:
            out.add(tuple(int(x) for x in w))
    return sorted(out, key=lambda w: (len(w), w))


def _network_predictions(model, words: list[np.ndarray], call, batch_size: int) -> np.ndarray:
    if not words:
        return np.zeros(0, np.int64)
    if isinstance(model, nn.Module):
        from ..recording.states import record_states

        return np.asarray(record_states(model, words, call=call, batch_size=batch_size).predictions, np.int64)
    if not callable(model):
        raise OptionError(f"model must be a torch.nn.Module or a callable, got {type(model).__name__}")
    pred = np.asarray(model(words))
    if pred.shape != (len(words),):
        raise DataError(f"model(words) must return one class per word ({len(words)}), got shape {pred.shape}")
    return pred.astype(np.int64)
