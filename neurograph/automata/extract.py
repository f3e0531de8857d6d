"""Extract a finite-state automaton from recorded RNN hidden states (Hou & Zhou style).

:func:`extract_fsa` clusters the non-initial hidden states of a
:class:`~neurograph.recording.StateTrace` into ``k`` clusters, adds a separate start state
(state 0, holding every initial state; clusters are states ``1..k``), counts the observed
transitions ``state(h_{t-1}) --x_t--> state(h_t)``, keeps the most frequent target for
every (state, symbol) as the deterministic transition, and labels every state with a
class.

Clustering methods
------------------
``"kmeans"``
    scikit-learn's :class:`~sklearn.cluster.KMeans` (k-means++, ``n_init`` restarts) on the
    states; the sequences play no part.
``"transition"``
    sequence-aware: hard-EM (Viterbi training) of a hidden Markov model whose hidden states
    are the FSA states, whose emissions are isotropic Gaussians ``N(c_j, s^2 I)`` around
    the cluster centres, and whose transitions depend on the input symbol,
    ``P(j | i, x_t)``. Starting from the k-means solution it alternates (1) the Viterbi
    path of every sequence, i.e. the assignment ``z`` minimising

    ``J = sum_t ||h_t - c_{z_t}||^2 / (2 s^2) + (H/2) log(2 pi s^2) - w log P(z_t | z_{t-1}, x_t)``

    with ``z_0`` = start, and (2) the update of centres (means), ``s^2`` (mean squared
    residual per dimension) and ``P`` (transition counts plus ``alpha = 1`` pseudo-count),
    until the assignment stops changing or ``n_iter`` rounds. ``w`` is
    ``transition_weight`` (0 gives k-means with a Viterbi tie-break). Each round can only
    lower ``J`` (plus the ``-alpha log P`` pseudo-count term), so it converges; states
    are grouped so that transitions become as deterministic as the geometry allows. Its
    cost per round is ``O(sum(lengths) k^2)`` time and ``(k + 1) * |alphabet| * k``
    floats of memory. The original work's second method (a k-medoids / position-aware
    variant) could not be verified; this is neurograph's sequence-aware method.
``"kmedoids_position"``
    our reading of the paper's second method as described in the project notes (k-medoids
    whose distance also uses each step's position; the paper's exact formula is not known
    here): k-medoids by Voronoi iteration (k-means++ seeding, ``n_init`` restarts, at most
    ``n_iter`` rounds) under the squared distance
    ``||h_i - h_j||^2 / s_h^2 + w (t_i - t_j)^2 / s_t^2`` where ``t`` is the step's
    position (1-based) in its sequence, ``s_h^2`` the states' total variance, ``s_t`` the
    positions' standard deviation and ``w = position_weight`` (0: plain k-medoids; the
    default 0.1 makes position a tie-breaker: at ``w = 1`` on Tomita 4 the clusters split
    by time and the FSA answers one class). The
    medoids are recorded states, and they are the states' centres (so ``accept="readout"``
    reads out real RNN states). Cost per round ``O(sum(lengths) k H)``.

Unseen (state, symbol) pairs
----------------------------
``unseen="self"`` (default): stay in the state; ``unseen="symbol"``: go where that symbol
most often leads from any state (stay if the symbol never occurs). Tokens outside the FSA's
alphabet are self-loops at prediction time.

Outputs (accepting labels)
--------------------------
``accept="majority"`` (default): the most frequent class among the sequences that end in
the state (``majority_of="predictions"``: the RNN's own decisions; ``"labels"``: the true
labels); a state where no sequence ends gets the overall most frequent class.
``accept="readout"``: ``argmax readout(centre)``, the RNN's own output layer applied to
the state's centre (the mean of its hidden states; for the start state, of the initial
states). Ties go to the smallest class.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from .._seed import as_int_seed
from .._validate import check_choice, check_int, check_number, check_seed
from ..errors import DataError, OptionError
from ._kmedoids import kmedoids_position
from .fsa import FSA
from ..recording.states import StateTrace

__all__ = ["METHODS", "cluster_states", "extract_fsa"]

logger = logging.getLogger(__name__)

#: Clustering methods known to :func:`extract_fsa`.
METHODS = ("kmeans", "transition", "kmedoids_position")
_ALPHA = 1.0  # pseudo-count of the transition probabilities of the "transition" method


def extract_fsa(
    trace: StateTrace,
    n_states: int,
    method: str = "kmeans",
    seed: int | np.random.Generator | None = 0,
    *,
    accept: str = "majority",
    readout: Callable | None = None,
    majority_of: str = "predictions",
    alphabet: Sequence[int] | None = None,
    unseen: str = "self",
    n_init: int = 3,
    transition_weight: float = 1.0,
    n_iter: int = 20,
    symbol_names: Sequence[str] | None = None,
    n_threads: int | None = 1,
    position_weight: float = 0.1,
) -> FSA:
    """Cluster hidden states into ``n_states`` clusters and read off an FSA (see module docstring).

    Parameters
    ----------
    trace : StateTrace
        From :func:`neurograph.recording.record_states`.
    n_states : int
        Number of clusters ``k``; the FSA has ``k + 1`` states (the start state is extra).
        If the trace has fewer distinct non-initial states, ``k`` is lowered to that number.
    method : {"kmeans", "transition", "kmedoids_position"}
        Clustering method.
    seed : int, numpy Generator or None
        Seed of k-means.
    accept : {"majority", "readout"}
        How each state's output class is chosen.
    readout : callable, optional
        Needed for ``accept="readout"``: maps a float32 tensor (m, H) of states to logits
        (m, n_classes), e.g. ``model.readout`` of a RecurrentClassifier.
    majority_of : {"predictions", "labels"}
        Which classes ``accept="majority"`` counts (``"labels"`` needs ``trace.labels``).
    alphabet : sequence of int, optional
        Token ids of the FSA (default: those occurring in the trace); must contain them all.
    unseen : {"self", "symbol"}
        Rule for (state, symbol) pairs never observed.
    n_init : int, default 3
        k-means restarts.
    transition_weight, n_iter : float, int
        Weight ``w`` of the transition term and the maximum number of rounds of the
        ``"transition"`` method.
    symbol_names : sequence of str, optional
        Display name of every token id (indexed by id, e.g. ``vocab.words``); the FSA keeps
        those of its alphabet.
    n_threads : int or None, default 1
        Threads that scikit-learn's k-means (and the BLAS under it) may use, enforced with
        ``threadpoolctl.threadpool_limits``; None leaves the libraries' own defaults.
    position_weight : float, default 0.1
        Weight ``w`` of the position term of ``"kmedoids_position"``.

    Returns
    -------
    FSA
        With ``counts`` (observed transitions), ``centres``, ``visits`` and ``params``
        (method, k, rules, seconds, and ``row_states``: the FSA state of every row of
        ``trace.states``).

    Raises
    ------
    OptionError
        A bad option: ``n_states``, ``n_init`` (ints >= 1), ``n_iter`` (int >= 0),
        ``method``, ``accept``, ``majority_of``, ``unseen`` (not one of their choices),
        ``transition_weight``, ``position_weight`` (finite numbers >= 0), ``n_threads``
        (int >= 1 or None), ``seed``, ``readout`` missing or not
        callable for ``accept="readout"``, ``alphabet`` not integer token ids.
    DataError
        ``trace`` not a StateTrace, with no steps, or with NaN or infinite ``trace.states``
        (the message names the field and the first bad row); ``trace.predictions`` /
        ``trace.labels`` not non-negative class ids; ``alphabet`` missing tokens of the
        trace; ``symbol_names`` too short; a ``readout`` giving logits of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from neurograph.recording import StateTrace
    >>> # two sequences "0 1" and "1": states near 0 after token 0, near 5 after token 1
    >>> trace = StateTrace(states=np.array([[0.], [0.1], [5.], [0.], [5.1]], np.float32),
    ...                    tokens=np.array([[0, 1], [1, 0]]), lengths=np.array([2, 1]),
    ...                    labels=None, predictions=np.array([1, 1]))
    >>> fsa = extract_fsa(trace, 2)
    >>> fsa.n_states, fsa.predict([[0, 1], [1]]).tolist()
    (3, [1, 1])
    """
    start_time = time.perf_counter()
    if not isinstance(trace, StateTrace):
        raise DataError(f"trace must be a StateTrace (see record_states), got {type(trace).__name__}")
    n_states = check_int("n_states", n_states, min=1)
    n_init = check_int("n_init", n_init, min=1)
    n_iter = check_int("n_iter", n_iter, min=0)
    check_choice("method", method, METHODS)
    check_seed("seed", seed)
    check_choice("accept", accept, ("majority", "readout"))
    if accept == "readout" and readout is None:
        raise OptionError("accept='readout' needs readout=<the model's output layer>, e.g. model.readout")
    if accept == "readout" and not callable(readout):
        raise OptionError(f"readout must be callable (the model's output layer), got {type(readout).__name__}")
    check_choice("majority_of", majority_of, ("predictions", "labels"))
    if majority_of == "labels" and trace.labels is None:
        raise DataError("majority_of='labels' needs a trace recorded with labels")
    check_choice("unseen", unseen, ("self", "symbol"))
    transition_weight = check_number("transition_weight", transition_weight, low=0.0)
    _check_trace_states(trace, trace.states, np.arange(trace.states.shape[0]))
    if accept == "majority":
        _check_classes(trace, majority_of)
    steps = trace.step_tokens()
    if steps.size == 0:
        raise DataError("the trace has no steps (every sequence is empty); nothing to cluster")
    alpha = _alphabet(steps, alphabet)
    col = np.searchsorted(alpha, steps)

    labels, centres, info = cluster_states(trace, n_states, method, seed, n_init=n_init,
                                           transition_weight=transition_weight, n_iter=n_iter,
                                           alphabet=alpha, n_threads=n_threads,
                                           position_weight=position_weight)
    k = centres.shape[0]
    n_fsa = k + 1
    state = _state_of_rows(trace, labels)                         # FSA state of every trace row
    rows = trace.step_rows()
    src, dst = state[rows - 1], state[rows]
    key = (src * alpha.size + col) * n_fsa + dst
    uniq, cnt = np.unique(key, return_counts=True)
    c_src, rest = np.divmod(uniq, alpha.size * n_fsa)
    c_col, c_dst = np.divmod(rest, n_fsa)
    counts = pd.DataFrame({"source": c_src, "symbol": alpha[c_col], "target": c_dst, "count": cnt})
    trans = _deterministic(c_src, c_col, c_dst, cnt, n_fsa, alpha.size, unseen)

    all_centres = np.vstack([trace.initial_states.mean(axis=0, dtype=np.float64)[None], centres])
    visits = np.bincount(state, minlength=n_fsa).astype(np.int64)
    if accept == "readout":
        outputs = _readout_outputs(readout, all_centres)
    else:
        cls = trace.predictions if majority_of == "predictions" else trace.labels
        outputs = _majority_outputs(state[trace.offsets[1:] - 1], cls, n_fsa)
    names = None
    if symbol_names is not None:
        if len(symbol_names) <= int(alpha.max()):
            raise DataError(f"symbol_names has {len(symbol_names)} entries but the alphabet holds token id "
                            f"{int(alpha.max())}; give one name per token id (e.g. a Vocabulary's words)")
        names = tuple(str(symbol_names[int(t)]) for t in alpha)
    params = {"method": method, "n_clusters": int(k), "requested_clusters": int(n_states), "accept": accept,
              "majority_of": majority_of if accept == "majority" else None, "unseen": unseen,
              "seed": as_int_seed(seed) if not isinstance(seed, np.random.Generator) else None,
              "n_unseen": int((_observed_mask(c_src, c_col, n_fsa, alpha.size) == 0).sum()),
              "seconds": time.perf_counter() - start_time, "row_states": state, **info}
    return FSA(transitions=trans, outputs=outputs, alphabet=alpha, start=0, counts=counts, centres=all_centres,
               visits=visits, state_names=("start",) + tuple(f"c{j}" for j in range(1, n_fsa)),
               symbol_names=names, params=params)


def cluster_states(
    trace: StateTrace,
    n_clusters: int,
    method: str = "kmeans",
    seed: int | np.random.Generator | None = 0,
    *,
    n_init: int = 3,
    transition_weight: float = 1.0,
    n_iter: int = 20,
    alphabet: np.ndarray | None = None,
    n_threads: int | None = 1,
    position_weight: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Cluster the non-initial states of ``trace``.

    Returns ``(labels, centres, info)``: ``labels`` (sum(lengths),) int64 in ``0..k-1`` in
    :meth:`StateTrace.step_index` order, ``centres`` (k, H) float64, and ``info`` (for
    ``"transition"``: ``n_rounds``, ``objective`` per round, ``converged``).

    ``n_threads`` caps the threads of k-means (``threadpoolctl``; None: no cap);
    ``position_weight`` is the weight of the position term of ``"kmedoids_position"``.

    Raises OptionError for a bad ``n_clusters``, ``method``, ``seed``, ``n_init``,
    ``transition_weight``, ``n_iter``, ``n_threads`` or ``position_weight``, and DataError for
    a trace that is not a StateTrace, has no steps, or holds NaN or infinite states (naming ``trace.states`` and the row).

    Examples
    --------
    >>> import numpy as np
    >>> from neurograph.recording import StateTrace
    >>> trace = StateTrace(states=np.array([[0.], [0.], [1.], [9.]], np.float32), tokens=np.array([[0, 0, 1]]),
    ...                    lengths=np.array([3]), labels=None, predictions=np.array([0]))
    >>> labels, centres, _ = cluster_states(trace, 2)
    >>> int(labels[0] == labels[1]), int(labels[1] == labels[2])
    (1, 0)
    """
    n_clusters = check_int("n_clusters", n_clusters, min=1)
    check_choice("method", method, METHODS)
    check_seed("seed", seed)
    n_init = check_int("n_init", n_init, min=1)
    transition_weight = check_number("transition_weight", transition_weight, low=0.0)
    n_iter = check_int("n_iter", n_iter, min=0)
    if n_threads is not None:
        n_threads = check_int("n_threads", n_threads, min=1)
    position_weight = check_number("position_weight", position_weight, low=0.0)
    if not isinstance(trace, StateTrace):
        raise DataError(f"trace must be a StateTrace (see record_states), got {type(trace).__name__}")
    rows = trace.step_rows()
    if rows.size == 0:
        raise DataError("the trace has no steps (every sequence is empty); nothing to cluster")
    X = _check_trace_states(trace, trace.states[rows], rows).astype(np.float64)
    n_distinct = np.unique(X, axis=0).shape[0]
    k = min(int(n_clusters), n_distinct)
    if k < n_clusters:
        logger.warning("only %d distinct states; using k=%d clusters instead of %d", n_distinct, k, n_clusters)
    info: dict = {}
    if method == "kmedoids_position":
        labels, centres, info = kmedoids_position(trace, X, k, seed, n_init, n_iter, position_weight)
        return labels, centres, info
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=n_init, random_state=as_int_seed(seed))
    with _thread_limit(n_threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = km.fit_predict(X).astype(np.int64)
    centres = km.cluster_centers_.astype(np.float64)
    if method == "transition":
        if alphabet is None:
            alphabet = np.unique(trace.step_tokens())
        labels, centres, info = _viterbi_training(trace, X, labels, centres, np.asarray(alphabet, np.int64),
                                                  transition_weight, n_iter)
    return labels, centres, info


# ---------------------------------------------------------------------- the sequence-aware method
def _viterbi_training(trace, X, labels, centres, alphabet, weight, n_iter):
    k, H = centres.shape
    seq, t = trace.step_index()
    cols = np.searchsorted(alphabet, trace.step_tokens())
    objective, converged, rounds = [], False, 0
    for rounds in range(1, n_iter + 1):
        var = max(float(np.mean((X - centres[labels]) ** 2)), 1e-12)
        log_p = _log_transitions(labels, seq, t, cols, k, alphabet.size)
        new = _viterbi(X, seq, t, cols, centres, var, weight * log_p, trace.lengths)
        centres = _centres(X, new, centres)
        var = max(float(np.mean((X - centres[new]) ** 2)), 1e-12)
        log_p = _log_transitions(new, seq, t, cols, k, alphabet.size)
        objective.append(_objective(X, new, seq, t, cols, centres, var, weight, log_p))
        changed = bool(np.any(new != labels))
        labels = new
        if not changed:
            converged = True
            break
    return labels, centres, {"n_rounds": rounds, "objective": objective, "converged": converged}


def _log_transitions(labels, seq, t, cols, k, n_sym):
    prev = np.where(t > 1, np.r_[0, labels[:-1] + 1], 0)    # 0 = start, j + 1 = cluster j
    counts = np.zeros((k + 1, n_sym, k))
    np.add.at(counts, (prev, cols, labels), 1.0)
    counts += _ALPHA
    return np.log(counts / counts.sum(axis=2, keepdims=True))


def _viterbi(X, seq, t, cols, centres, var, wlog_p, lengths, chunk=512):
    """Most likely cluster path of every sequence (emission + weighted transition costs)."""
    k = centres.shape[0]
    sq = (X ** 2).sum(1)[:, None] - 2 * X @ centres.T + (centres ** 2).sum(1)[None]
    emit = np.maximum(sq, 0.0) / (2 * var)                                     # (steps, k)
    out = np.empty(X.shape[0], np.int64)
    first = np.concatenate([[0], np.cumsum(lengths)])                        # step offsets per sequence
    seqs = np.flatnonzero(lengths > 0)
    for lo in range(0, seqs.size, chunk):
        ids = seqs[lo : lo + chunk]
        L = lengths[ids]
        T = int(L.max())
        cost = np.zeros((ids.size, k))
        back = np.zeros((ids.size, T, k), np.int64)
        for step in range(T):
            live = L > step
            r = first[ids[live]] + step
            c = cols[r]
            if step == 0:
                new = emit[r] - wlog_p[0, c, :]
            else:
                tot = cost[live][:, :, None] - wlog_p[1:][:, c, :].transpose(1, 0, 2)   # (m, k_prev, k)
                back[live, step] = tot.argmin(axis=1)
                new = emit[r] + tot.min(axis=1)
            cost[live] = new
        best = cost.argmin(axis=1)
        for step in range(T - 1, -1, -1):
            live = L > step
            last = L - 1 == step
            best = np.where(last, cost.argmin(axis=1), best)
            out[first[ids[live]] + step] = best[live]
            if step > 0:
                best = np.where(live, back[np.arange(ids.size), step, best], best)
    return out


def _centres(X, labels, old):
    k = old.shape[0]
    counts = np.bincount(labels, minlength=k).astype(float)
    sums = np.zeros_like(old)
    np.add.at(sums, labels, X)
    return np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], old)


def _objective(X, labels, seq, t, cols, centres, var, weight, log_p):
    prev = np.where(t > 1, np.r_[0, labels[:-1] + 1], 0)
    emit = ((X - centres[labels]) ** 2).sum() / (2 * var) + X.size / 2 * np.log(2 * np.pi * var)
    return float(emit - weight * (log_p[prev, cols, labels].sum() + _ALPHA * log_p.sum()))


# ---------------------------------------------------------------------- threads
def _thread_limit(n_threads):
    """``threadpool_limits(n_threads)``, or a no-op for None."""
    if n_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(n_threads))


# ---------------------------------------------------------------------- helpers
def _check_trace_states(trace: StateTrace, states: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``states`` (rows ``rows`` of ``trace.states``) if numeric and finite; else DataError naming the field."""
    if states.dtype.kind not in "fiub":
        raise DataError(f"trace.states must hold numbers, got dtype {states.dtype}")
    if states.dtype.kind == "f":
        bad = ~np.isfinite(states).all(axis=1)
        if bad.any():
            row = int(rows[np.flatnonzero(bad)[0]])
            seq = int(np.searchsorted(trace.offsets, row, side="right") - 1)
            raise DataError(f"trace.states contains NaN or infinite values in {int(bad.sum())} row(s) "
                            f"(first: row {row}, sequence {seq}); record the states again or drop those sequences")
    return states


def _check_classes(trace: StateTrace, field: str) -> None:
    cls = np.asarray(getattr(trace, field))
    if cls.size and (cls.dtype.kind not in "iu" or cls.min() < 0):
        raise DataError(f"trace.{field} must hold non-negative integer class ids, got dtype {cls.dtype}"
                        + (f" and minimum {cls.min()}" if cls.dtype.kind in "iu" else ""))


def _alphabet(steps: np.ndarray, alphabet) -> np.ndarray:
    seen = np.unique(steps)
    if alphabet is None:
        return seen
    arr = np.asarray(alphabet)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise OptionError(f"alphabet must be a sequence of integer token ids, got {alphabet!r}")
    alpha = np.unique(arr.astype(np.int64))
    missing = np.setdiff1d(seen, alpha)
    if missing.size:
        raise DataError(f"alphabet misses token ids that occur in the trace: {missing[:10].tolist()}")
    return alpha


def _state_of_rows(trace: StateTrace, labels: np.ndarray) -> np.ndarray:
    state = np.zeros(trace.states.shape[0], np.int64)
    state[trace.step_rows()] = labels + 1
    return state


def _deterministic(src, col, dst, cnt, n, m, unseen) -> np.ndarray:
    """Most frequent target per (source, symbol column); ties to the smaller target; unseen by rule."""
    order = np.lexsort((dst, -cnt, col, src))
    s, c, d = src[order], col[order], dst[order]
    first = np.ones(s.size, bool)
    first[1:] = (s[1:] != s[:-1]) | (c[1:] != c[:-1])
    trans = np.tile(np.arange(n, dtype=np.int64)[:, None], (1, m))           # "self" by default
    if unseen == "symbol":
        per_symbol = np.zeros((m, n))
        np.add.at(per_symbol, (col, dst), cnt)
        seen_sym = per_symbol.sum(axis=1) > 0
        trans[:, seen_sym] = per_symbol[seen_sym].argmax(axis=1)[None, :]
    trans[s[first], c[first]] = d[first]
    return trans


def _observed_mask(src, col, n, m) -> np.ndarray:
    mask = np.zeros((n, m), np.int64)
    mask[src, col] = 1
    return mask


def _readout_outputs(readout, centres: np.ndarray) -> np.ndarray:
    param = next(readout.parameters(), None) if isinstance(readout, torch.nn.Module) else None
    x = torch.as_tensor(centres, dtype=torch.float32, device=None if param is None else param.device)
    with torch.no_grad():
        logits = readout(x)
    logits = logits.detach().cpu().numpy() if isinstance(logits, torch.Tensor) else np.asarray(logits)
    if logits.ndim != 2 or logits.shape[0] != centres.shape[0]:
        raise DataError(f"readout must map ({centres.shape[0]}, H) states to ({centres.shape[0]}, n_classes) "
                        f"logits, got shape {logits.shape}")
    return logits.argmax(axis=1).astype(np.int64)


def _majority_outputs(final_state: np.ndarray, classes: np.ndarray, n: int) -> np.ndarray:
    n_cls = int(classes.max()) + 1
    table = np.zeros((n, n_cls), np.int64)
    np.add.at(table, (final_state, classes), 1)
    overall = int(np.bincount(classes, minlength=n_cls).argmax())
    return np.where(table.sum(axis=1) > 0, table.argmax(axis=1), overall).astype(np.int64)
