"""Algorithms behind :class:`neurograph.automata.FSA`: Hopcroft minimisation, breadth-first numbering, input parsing.

:func:`hopcroft_partition` is Hopcroft's (1971) ``O(m n log n)`` partition refinement for
Moore machines (the initial partition groups states by output; the work list starts with
every block but the largest); :func:`bfs_order` numbers states canonically; :func:`as_padded`
turns a list of token-id sequences or a padded array into ``(tokens, lengths)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from .._validate import check_int
from ..errors import DataError

__all__ = ["as_padded", "bfs_order", "hopcroft_partition"]

COUNT_COLUMNS = ["source", "symbol", "target", "count"]


def as_padded(sequences, lengths=None, *, pad: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(tokens (n, T) int64, lengths (n,) int64)`` from a list of sequences or a padded 2-D array.

    Examples
    --------
    >>> tokens, lengths = as_padded([[3, 4], [5], []], pad=9)
    >>> tokens.tolist(), lengths.tolist()
    ([[3, 4], [5, 9], [9, 9]], [2, 1, 0])
    """
    pad = check_int("pad", pad)
    if isinstance(sequences, (torch.Tensor, np.ndarray)) and np.ndim(sequences) == 2:
        tokens = _int_array(sequences, "sequences")
        n, t = tokens.shape
        if lengths is None:
            return tokens, np.full(n, t, np.int64)
        lens = _int_array(lengths, "lengths")
        if lens.shape != (n,) or (n and (lens.min() < 0 or lens.max() > t)):
            raise DataError(f"lengths must be {n} ints in [0, {t}] (one per row of sequences), got shape {lens.shape}")
        return tokens, lens
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, (Sequence, np.ndarray, torch.Tensor)):
        raise DataError("sequences must be a list of token-id sequences or a padded 2-D array (n, T), "
                        f"got {type(sequences).__name__}")
    seqs = [one_sequence(s) for s in sequences]
    lens = np.array([len(s) for s in seqs], np.int64)
    if lengths is not None and not np.array_equal(_int_array(lengths, "lengths"), lens):
        raise DataError("lengths do not match the lengths of the given sequences")
    tokens = np.full((len(seqs), int(lens.max()) if len(seqs) else 0), pad, np.int64)
    for i, s in enumerate(seqs):
        tokens[i, : len(s)] = s
    return tokens, lens


def one_sequence(seq) -> np.ndarray:
    if isinstance(seq, (str, bytes)):
        raise DataError(f"a sequence must hold token ids, got the string {seq!r}")
    arr = _int_array(seq, "sequence")
    if arr.ndim != 1:
        raise DataError(f"each sequence must be 1-D, got shape {arr.shape}")
    return arr


def _int_array(x, what: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise DataError(f"{what} must hold integer token ids, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def agreement(pred: np.ndarray, ref, what: str) -> float:
    ref = _int_array(ref, what)
    if ref.shape != pred.shape:
        raise DataError(f"{what} must have one entry per sequence ({pred.shape[0]}), got shape {ref.shape}")
    if pred.size == 0:
        raise DataError("no sequences to score")
    return float(np.mean(pred == ref))


def symbol_token(sym, names):
    if names is not None:
        if sym not in names:
            raise DataError(f"symbol {sym!r} is not in alphabet {names!r}")
        return names.index(sym)
    if isinstance(sym, (int, np.integer)) and not isinstance(sym, bool):
        return int(sym)
    if isinstance(sym, str) and sym.lstrip("-").isdigit():
        return int(sym)
    raise DataError(f"symbol {sym!r} is not a token id; pass alphabet=[...] to name symbols")


def hopcroft_partition(trans: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """Block id (n,) of each state in the coarsest partition compatible with outputs and transitions.

    ``trans`` (n, m) int next states, ``outputs`` (n,) int. Two states share a block iff no
    sequence of symbols leads them to states of different outputs.

    Examples
    --------
    >>> import numpy as np
    >>> trans = np.array([[1, 2], [1, 2], [2, 2]])     # states 0 and 1 behave alike
    >>> b = hopcroft_partition(trans, np.array([0, 0, 1]))
    >>> bool(b[0] == b[1]), bool(b[0] == b[2])
    (True, False)
    """
    n, m = trans.shape
    inverse = [[[] for _ in range(n)] for _ in range(m)]
    for s in range(n):
        for a in range(m):
            inverse[a][int(trans[s, a])].append(s)
    blocks = [set(np.flatnonzero(outputs == o).tolist()) for o in np.unique(outputs)]
    block_of = np.empty(n, np.int64)
    for b, members in enumerate(blocks):
        block_of[list(members)] = b
    largest = max(range(len(blocks)), key=lambda b: len(blocks[b]))
    work = {b for b in range(len(blocks)) if b != largest}
    while work:
        splitter = list(blocks[work.pop()])
        for a in range(m):
            pre = {p for q in splitter for p in inverse[a][q]}
            touched: dict[int, set] = {}
            for p in pre:
                touched.setdefault(int(block_of[p]), set()).add(p)
            for b, inside in touched.items():
                if len(inside) == len(blocks[b]):
                    continue
                outside = blocks[b] - inside
                new = len(blocks)
                blocks[b] = outside
                blocks.append(inside)
                block_of[list(inside)] = new
                if b in work:
                    work.add(new)
                else:
                    work.add(new if len(inside) <= len(outside) else b)
    return block_of


def bfs_order(trans: np.ndarray, start: int) -> np.ndarray:
    """States in breadth-first order from ``start`` (symbols in column order); all must be reachable.

    Examples
    --------
    >>> import numpy as np
    >>> bfs_order(np.array([[2, 0], [1, 1], [1, 0]]), 0).tolist()
    [0, 2, 1]
    """
    order, seen = [start], {start}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for nxt in trans[s].tolist():
            if nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
                queue.append(nxt)
    return np.array(order, np.int64)


def merge_counts(counts: pd.DataFrame | None, state_map: np.ndarray) -> pd.DataFrame | None:
    if counts is None:
        return None
    src, dst = state_map[counts["source"].to_numpy()], state_map[counts["target"].to_numpy()]
    df = pd.DataFrame({"source": src, "symbol": counts["symbol"].to_numpy(), "target": dst,
                       "count": counts["count"].to_numpy()})
    df = df[(df["source"] >= 0) & (df["target"] >= 0)]
    return df.groupby(["source", "symbol", "target"], as_index=False, sort=True)["count"].sum()[COUNT_COLUMNS]


def merge_centres(fsa, state_map: np.ndarray, n_new: int) -> np.ndarray | None:
    if fsa.centres is None:
        return None
    keep = state_map >= 0
    w = np.ones(fsa.n_states) if fsa.visits is None else fsa.visits.astype(float) + 1e-12
    sums = np.zeros((n_new, fsa.centres.shape[1]))
    np.add.at(sums, state_map[keep], fsa.centres[keep] * w[keep, None])
    return sums / np.bincount(state_map[keep], w[keep], n_new)[:, None]
