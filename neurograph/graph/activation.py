"""Co-activation graphs: neurons are nodes, the association of their firing weighs the edges.

:func:`activation_graph` turns the counts of a :class:`~neurograph.stats.CoactivationStats`
into an :class:`ActivationGraph` (a node table plus edge arrays), sparsified by a weight
threshold, a per-node top-k rule and/or a significance test against independent firing.
Everything is computed from counts with vectorised numpy over blocks of rows of the
upper triangle, so the work is ``O(d^2)`` array operations and memory beyond the stats
themselves is one block plus the kept edges. With ``top_k`` (and no ``alpha``) each block
of rows is reduced to its rows' ``k`` strongest partners at once, so memory is ``O(d k)``
even when millions of pairs pass the threshold. Hypergeometric p-values are computed
(with scipy) only for pairs that a cheap lower bound on the p-value cannot rule out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special as spf
from scipy import stats as sps

from .._validate import check_bool, check_choice, check_number, check_optional_int
from ..errors import DataError, GraphError
from ..stats import CoactivationStats

__all__ = ["ActivationGraph", "WEIGHTS", "activation_graph", "edge_weights"]

logger = logging.getLogger(__name__)

#: Names of the association weights :func:`activation_graph` and :func:`edge_weights` know.
WEIGHTS = ("count", "jaccard", "npmi", "phi")

_BLOCK_ELEMENTS = 1 << 21  # pairs handled per vectorised block (bounds temporary memory)


@dataclass(frozen=True, eq=False)
class ActivationGraph:
    """An undirected weighted co-activation graph over neurons.

    Attributes
    ----------
    nodes : pandas.DataFrame, shape (n_nodes, 4)
        One row per node: ``neuron`` (int, row index into ``stats.neurons``), ``layer``,
        ``unit`` and ``fire_prob`` (firing probability in [0, 1]).
    edges : numpy.ndarray of int64, shape (n_edges, 2)
        Node indices (rows of ``nodes``) of each edge, ``i < j``, no duplicates,
        sorted lexicographically (graphs built by :func:`activation_graph`).
    weights : numpy.ndarray of float64, shape (n_edges,)
        Edge weights: finite and ``>= 0`` (those built by :func:`activation_graph` are ``> 0``).
    weight : str
        Which association the weights are (one of :data:`WEIGHTS`).
    n_samples : int
        Number of samples the counts were made on.
    excluded : pandas.DataFrame
        Neurons left out of the graph: ``neuron``, ``layer``, ``unit``, ``fire_prob``
        and ``reason`` (``"dead"`` or ``"always_on"``).
    params : dict
        How the graph was built (``threshold``, ``top_k``, ``alpha``, ``drop_inactive``,
        ``n_pairs``: number of neuron pairs considered).

    Raises
    ------
    GraphError
        On construction, if ``nodes`` is not a DataFrame, ``edges`` is not an (m, 2) array of
        integer node pairs ``i < j`` within ``0..n_nodes-1`` without repeats, or ``weights``
        is not (m,) finite numbers ``>= 0``. The arrays are stored as int64 and float64.
    """

    nodes: pd.DataFrame
    edges: np.ndarray
    weights: np.ndarray
    weight: str
    n_samples: int
    excluded: pd.DataFrame
    params: dict

    def __post_init__(self) -> None:
        if not isinstance(self.nodes, pd.DataFrame):
            raise GraphError(f"ActivationGraph nodes must be a pandas DataFrame, got {type(self.nodes).__name__}")
        n = len(self.nodes)
        e = np.asarray(self.edges)
        if e.size == 0:
            e = e.reshape(0, 2) if e.ndim != 2 or e.shape[1] != 2 else e
        if e.size and e.dtype.kind not in "iu":
            raise GraphError(f"ActivationGraph edges must hold integer node indices, got dtype {e.dtype}")
        try:
            w = np.asarray(self.weights, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise GraphError(f"ActivationGraph weights must be numbers: {exc}") from exc
        if e.ndim != 2 or e.shape[1] != 2 or w.shape != (e.shape[0],):
            raise GraphError(f"ActivationGraph edges must have shape (m, 2) and weights (m,), "
                             f"got {e.shape} and {w.shape}")
        e = e.astype(np.int64, copy=False)
        if e.size and (e.min() < 0 or e.max() >= n or np.any(e[:, 0] >= e[:, 1])):
            raise GraphError(f"ActivationGraph edges must be node pairs i < j within 0..{n - 1} "
                             f"(the rows of nodes)")
        if e.shape[0] > 1:
            key = e[:, 0] * n + e[:, 1]
            if not np.all(np.diff(key) > 0) and np.unique(key).size != key.size:
                raise GraphError("ActivationGraph edges repeat a node pair; give each pair once")
        check_edge_weights(w, e, "ActivationGraph weights")
        object.__setattr__(self, "edges", e)
        object.__setattr__(self, "weights", w)

    def __repr__(self) -> str:
        return (f"ActivationGraph(weight={self.weight!r}, n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
                f"n_dead={self.n_dead}, n_always_on={self.n_always_on})")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(len(self.nodes))

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.edges.shape[0])

    @property
    def n_dead(self) -> int:
        """Neurons that never fired (excluded, or kept as isolated nodes)."""
        return int((self.excluded["reason"] == "dead").sum() + (self.nodes["fire_prob"] == 0.0).sum())

    @property
    def n_always_on(self) -> int:
        """Neurons that fired on every sample (excluded, or kept as isolated nodes)."""
        return int((self.excluded["reason"] == "always_on").sum() + (self.nodes["fire_prob"] == 1.0).sum())

    def adjacency(self) -> sp.csr_matrix:
        """Symmetric weighted adjacency matrix, ``scipy.sparse.csr_matrix`` (n_nodes, n_nodes), float64."""
        i, j = self.edges[:, 0], self.edges[:, 1]
        n = self.n_nodes
        return sp.csr_matrix((np.concatenate([self.weights, self.weights]),
                              (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n), dtype=np.float64)

    def to_igraph(self):
        """The graph as an ``igraph.Graph`` (vertex attrs neuron, layer, unit, fire_prob; edge attr weight)."""
        import igraph as ig

        g = ig.Graph(n=self.n_nodes, directed=False)
        g.add_edges(np.ascontiguousarray(self.edges, dtype=np.int64))  # 4x faster than Graph(edges=...)
        for col in ("neuron", "layer", "unit", "fire_prob"):
            g.vs[col] = self.nodes[col].tolist()
        g.es["weight"] = self.weights.tolist()
        return g

    def to_networkx(self):
        """The graph as a ``networkx.Graph``: nodes 0..n-1 with the node attrs, edge attr weight."""
        import networkx as nx

        g = nx.Graph(weight=self.weight, n_samples=int(self.n_samples))
        cols = ("neuron", "layer", "unit", "fire_prob")
        values = [self.nodes[c].tolist() for c in cols]
        g.add_nodes_from((k, dict(zip(cols, row))) for k, row in enumerate(zip(*values)))
        g.add_weighted_edges_from(zip(self.edges[:, 0].tolist(), self.edges[:, 1].tolist(),
                                      self.weights.tolist()))
        return g


def activation_graph(stats: CoactivationStats, weight: str = "npmi", *, threshold: float = 0.0,
                     top_k: int | None = None, alpha: float | None = None,
                     drop_inactive: bool = True) -> ActivationGraph:
    r"""Build the co-activation graph of the neurons counted in ``stats``.

    For a pair of neurons with ``n = n_samples``, fire counts ``n1``, ``n2`` and co-fire
    count ``n11`` (``p = count / n``), the edge weight is one of

    - ``"count"``:   :math:`n_{11}`
    - ``"jaccard"``: :math:`n_{11} / (n_1 + n_2 - n_{11})`
    - ``"npmi"``:    :math:`\log\frac{p_{11}}{p_1 p_2} / (-\log p_{11})`, in [-1, 1],
      with the convention npmi = -1 when :math:`n_{11} = 0`
    - ``"phi"``:     :math:`(n n_{11} - n_1 n_2) / \sqrt{n_1 (n - n_1) n_2 (n - n_2)}`, in [-1, 1]

    Dead neurons (never fire) and always-on neurons (fire on every sample) carry no
    information about co-activation (npmi and phi are undefined for them), so for every
    weight they get no edges: with ``drop_inactive=True`` (default) they are left out and
    listed in ``excluded``; with ``drop_inactive=False`` they stay as isolated nodes.
    Either way :attr:`ActivationGraph.n_dead` and ``n_always_on`` count them.

    Filters (all given ones apply):

    1. ``threshold``: keep pairs with weight ``> max(threshold, 0)``. Edge weights must be
       positive (modularity needs non-negative weights), so negative associations of npmi
       and phi and never co-firing pairs are always dropped.
    2. ``alpha``: keep pairs whose co-firing is significantly above independence: the
       one-sided hypergeometric p-value :math:`P(X \ge n_{11})`, :math:`X \sim`
       Hypergeom(n, n1, n2), Benjamini-Hochberg controlled at false discovery rate ``alpha``
       over the family of all pairs of active neurons (whatever the threshold).
    3. ``top_k``: among the pairs passing 1 and 2, each node keeps its ``k`` strongest
       edges (ties broken towards the lower node index); an edge stays if it is among the
       top ``k`` of *either* endpoint, so a node can end with more than ``k`` edges.

    Parameters
    ----------
    stats : CoactivationStats
        Counts over ``d`` neurons and ``n_samples > 0`` samples.
    weight : str
        One of :data:`WEIGHTS`.
    threshold : float
        Minimum weight (exclusive); values below 0 act as 0.
    top_k : int or None
        Strongest edges kept per node (``>= 0``); None keeps all.
    alpha : float or None
        False discovery rate in (0, 1) for the independence test; None skips the test.
    drop_inactive : bool
        Leave dead and always-on neurons out (True) or keep them as isolated nodes.

    Returns
    -------
    ActivationGraph

    Raises
    ------
    DataError
        If ``stats`` is not a CoactivationStats or has no samples.
    OptionError
        If ``weight`` is not one of :data:`WEIGHTS`, ``threshold`` is not a finite number,
        ``top_k`` is not None or an int ``>= 0``, ``alpha`` is not None or a number in (0, 1),
        or ``drop_inactive`` is not a bool.

    Examples
    --------
    >>> import numpy as np
    >>> from neurograph.stats import CoactivationStats
    >>> fired = np.array([[1, 1, 0, 1], [1, 1, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1]])
    >>> g = activation_graph(CoactivationStats.from_binary(fired), "jaccard")
    >>> g.edges.tolist(), g.weights.round(3).tolist(), g.n_always_on
    ([[0, 1], [1, 2]], [0.667, 0.25], 1)
    """
    _check_stats(stats)
    _check_weight(weight)
    thr = _check_threshold(threshold)
    top_k = check_optional_int("top_k", top_k, min=0)
    if alpha is not None:
        alpha = check_number("alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True)
    drop_inactive = check_bool("drop_inactive", drop_inactive)

    n = int(stats.n_samples)
    f = np.asarray(stats.fire_counts, dtype=np.int64)
    dead, always = f == 0, f == n
    active = np.flatnonzero(~(dead | always))
    if top_k is not None and alpha is None:
        i, j, w, n_pairs = _top_k_rows(stats, active, weight, thr, top_k)
    else:
        i, j, w, n_pairs = _filtered_pairs(stats, active, weight, thr, alpha)
        if top_k is not None:
            keep = _top_k_mask(i, j, w, top_k)
            i, j, w = i[keep], j[keep], w[keep]

    params = {"threshold": float(threshold), "top_k": top_k, "alpha": alpha,
              "drop_inactive": bool(drop_inactive), "n_pairs": n_pairs}
    logger.debug("activation_graph(%s): %d nodes, %d edges, %d dead, %d always on",
                 weight, len(active) if drop_inactive else len(f), len(w), int(dead.sum()), int(always.sum()))
    return assemble_graph(stats.neurons, f, n, active, i, j, w, weight=weight, drop_inactive=drop_inactive,
                          params=params)


def assemble_graph(neurons: pd.DataFrame, f: np.ndarray, n: int, active: np.ndarray, i: np.ndarray,
                   j: np.ndarray, w: np.ndarray, *, weight: str, drop_inactive: bool,
                   params: dict) -> ActivationGraph:
    """Build an :class:`ActivationGraph` from kept pairs (internal; shared with :mod:`neurograph.recording.blockwise`).

    ``f`` are the fire counts (d,) over ``n`` samples, ``active`` the indices of neurons that are
    neither dead nor always on, and ``i, j, w`` the kept pairs as positions in ``active`` with
    their weights.
    """
    neurons = neurons.reset_index(drop=True)
    fire_prob = f / float(n)
    dead, always = f == 0, f == n

    def table(idx: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"neuron": idx.astype(np.int64),
                             "layer": neurons["layer"].to_numpy()[idx],
                             "unit": neurons["unit"].to_numpy()[idx],
                             "fire_prob": fire_prob[idx]})

    if drop_inactive:
        node_idx = active
        inactive = np.flatnonzero(dead | always)
        excluded = table(inactive)
        excluded["reason"] = np.where(dead[inactive], "dead", "always_on")
    else:
        node_idx = np.arange(f.shape[0])
        i, j = active[i], active[j]
        excluded = table(np.zeros(0, np.int64))
        excluded["reason"] = pd.Series([], dtype=object)
    edges = np.stack([i, j], axis=1).astype(np.int64).reshape(-1, 2)
    return ActivationGraph(nodes=table(node_idx), edges=edges, weights=w.astype(np.float64), weight=weight,
                           n_samples=int(n), excluded=excluded, params=params)


def edge_weights(stats: CoactivationStats, weight: str = "npmi") -> np.ndarray:
    """Dense matrix of the association ``weight`` between every pair of neurons.

    Same formulas as :func:`activation_graph`, with no filtering (negative npmi / phi kept).

    Parameters
    ----------
    stats : CoactivationStats
        Counts over ``d`` neurons, ``n_samples > 0``.
    weight : str
        One of :data:`WEIGHTS`.

    Returns
    -------
    numpy.ndarray of float64, shape (d, d)
        Symmetric, diagonal 0, NaN in the rows and columns of dead and always-on
        neurons (association undefined; they get no edges in the graph).

    Examples
    --------
    >>> import numpy as np
    >>> from neurograph.stats import CoactivationStats
    >>> s = CoactivationStats.from_binary(np.array([[1, 1, 0], [0, 0, 0], [1, 0, 0]]))
    >>> edge_weights(s, "phi").round(2).tolist()
    [[0.0, 0.5, nan], [0.5, 0.0, nan], [nan, nan, 0.0]]
    """
    _check_stats(stats)
    _check_weight(weight)
    n = int(stats.n_samples)
    f = np.asarray(stats.fire_counts, dtype=np.float64)
    w = _association(weight, n, f[:, None], f[None, :], np.asarray(stats.cofire_counts, dtype=np.float64))
    inactive = (f == 0) | (f == n)
    w[inactive, :] = np.nan
    w[:, inactive] = np.nan
    np.fill_diagonal(w, 0.0)
    return w


# ---------------------------------------------------------------------------- helpers
def _check_stats(stats) -> None:
    if not isinstance(stats, CoactivationStats):
        raise DataError(f"stats must be a CoactivationStats, got {type(stats).__name__}")
    if stats.n_samples <= 0:
        raise DataError("stats has zero samples: no association between neurons can be computed")


def _check_weight(weight) -> None:
    check_choice("weight", weight, WEIGHTS)


def _check_threshold(threshold) -> float:
    return max(check_number("threshold", threshold), 0.0)


def check_edge_weights(w: np.ndarray, edges: np.ndarray, what: str) -> None:
    """GraphError naming ``what`` and the first bad edge unless every weight is finite and ``>= 0``.

    ``w`` (m,) float64, ``edges`` (m, 2) node indices (internal; shared with :mod:`neurograph.graph.communities`).
    """
    bad = ~np.isfinite(w)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GraphError(f"{what} must be finite: {int(bad.sum())} edge(s) are NaN or infinite "
                         f"(first: edge {k} {tuple(int(x) for x in edges[k])} = {w[k]})")
    neg = w < 0
    if neg.any():
        k = int(np.flatnonzero(neg)[0])
        raise GraphError(f"{what} must be >= 0 (modularity needs non-negative weights): {int(neg.sum())} "
                         f"edge(s) are negative (first: edge {k} {tuple(int(x) for x in edges[k])} = {w[k]})")


def _association(weight: str, n: int, n1, n2, n11) -> np.ndarray:
    """Element-wise association of broadcastable float count arrays (see activation_graph)."""
    n11 = np.asarray(n11, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if weight == "count":
            return n11.copy()
        if weight == "jaccard":
            return n11 / (n1 + n2 - n11)
        if weight == "npmi":
            out = np.log(n * n11 / (n1 * n2)) / (np.log(n) - np.log(n11))
            out = np.where(n11 > 0, out, -1.0)
        else:  # phi
            out = (n * n11 - n1 * n2) / np.sqrt(n1 * (n - n1) * n2 * (n - n2))
    return np.clip(out, -1.0, 1.0)


def _filtered_pairs(stats: CoactivationStats, active: np.ndarray, weight: str, thr: float,
                    alpha: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Pairs (i < j, positions in ``active``) passing the threshold and the FDR test, in row-major order."""
    n = int(stats.n_samples)
    da = active.shape[0]
    fa = np.asarray(stats.fire_counts, dtype=np.float64)[active]
    cof = stats.cofire_counts
    n_pairs = da * (da - 1) // 2
    rows_per_block = max(1, _BLOCK_ELEMENTS // max(da, 1))
    out_i, out_j, out_w, out_p, small_p = [], [], [], [], []
    for start in range(0, da, rows_per_block):
        stop = min(start + rows_per_block, da)
        n11 = np.asarray(cof[np.ix_(active[start:stop], active[start:])], dtype=np.float64)
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(start, da)[None, :]
        upper = cols > rows
        f1, f2 = fa[start:stop, None], fa[None, start:]
        w = _association(weight, n, f1, f2, n11)
        keep = upper & (w > thr)
        if alpha is not None:
            # Pairs never co-firing have p = 1. P(X >= floor(E[X])) >= 1/2 for the hypergeometric
            # (its median is floor or ceil of its mean), so for alpha < 1/2 pairs at or below
            # expectation cannot be significant and are not computed (they still count in the family).
            floor_mean = np.floor(f1 * f2 / n) if alpha < 0.5 else np.zeros_like(n11)
            tested = upper & (n11 > 0) & (n11 > floor_mean)
            p = np.ones(n11.shape)
            t_n11 = n11[tested]
            t_f1 = np.broadcast_to(f1, n11.shape)[tested]
            t_f2 = np.broadcast_to(f2, n11.shape)[tested]
            # exact p only where a lower bound of it does not already exceed alpha (then p > alpha anyway)
            maybe = _tail_lower_bound(t_n11, n, t_f1, t_f2) <= alpha
            t_p = np.ones(t_n11.shape)
            t_p[maybe] = sps.hypergeom.sf(t_n11[maybe] - 1, n, t_f1[maybe], t_f2[maybe])
            p[tested] = t_p
            small_p.append(p[upper & (p <= alpha)])
            keep &= p <= alpha
            out_p.append(p[keep])
        r, c = np.nonzero(keep)
        out_i.append(r + start)
        out_j.append(c + start)
        out_w.append(w[keep])
    i = np.concatenate(out_i) if out_i else np.zeros(0, np.int64)
    j = np.concatenate(out_j) if out_j else np.zeros(0, np.int64)
    w = np.concatenate(out_w) if out_w else np.zeros(0)
    if alpha is not None and i.size:
        cutoff = _bh_cutoff(np.concatenate(small_p), n_pairs, alpha)
        sig = np.concatenate(out_p) <= cutoff
        i, j, w = i[sig], j[sig], w[sig]
    return i.astype(np.int64), j.astype(np.int64), w, n_pairs


def _tail_lower_bound(x: np.ndarray, n: int, n1: np.ndarray, n2: np.ndarray, *, terms: int = 48) -> np.ndarray:
    """A lower bound of ``P(X >= x)``, ``X ~ Hypergeom(n, n1, n2)``: the sum of its first ``terms`` terms.

    ``pmf(x)`` from log-gamma functions, the next terms by the ratio recurrence
    ``pmf(j+1)/pmf(j) = (n1-j)(n2-j) / ((j+1)(n-n1-n2+j+1))``. Shrunk by 1e-9 relative to
    cover rounding, so it never exceeds the true tail. Vectorised over the arrays.
    """
    x = np.asarray(x, dtype=np.float64)
    lg = spf.gammaln
    logpmf = (lg(n1 + 1) - lg(x + 1) - lg(n1 - x + 1) + lg(n - n1 + 1) - lg(n2 - x + 1) - lg(n - n1 - n2 + x + 1)
              - lg(n + 1) + lg(n2 + 1) + lg(n - n2 + 1))
    term = np.exp(logpmf)
    total = term.copy()
    live = np.flatnonzero(term > 0)
    j, t, a, b = x[live], term[live], n1[live], n2[live]
    for step in range(1, terms):
        ratio = np.clip((a - j) * (b - j), 0.0, None) / ((j + 1) * (n - a - b + j + 1))
        t = t * ratio
        j = j + 1
        total[live] += t
        if step % 8 == 0:  # drop the converged ones
            keep = t > 1e-12 * total[live]
            live, j, t, a, b = live[keep], j[keep], t[keep], a[keep], b[keep]
            if live.size == 0:
                break
    return total * (1.0 - 1e-9)


def _top_k_rows(stats: CoactivationStats, active: np.ndarray, weight: str, thr: float,
                k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Pairs (i < j, positions in ``active``) among the ``k`` strongest (``> thr``) of either endpoint.

    Same result as :func:`_filtered_pairs` followed by :func:`_top_k_mask`, computed on whole
    rows of the association matrix, block by block, keeping only each row's ``k`` strongest
    (ties: lower partner index first), so memory is one block plus ``O(d k)``.
    """
    da = active.shape[0]
    fa = np.asarray(stats.fire_counts, dtype=np.float64)[active]
    cof = stats.cofire_counts
    i, j, w = top_k_row_block(int(stats.n_samples), fa, lambda a, b: cof[np.ix_(active[a:b], active)],
                               0, da, weight, thr, k)
    return (*unique_pairs(i, j, w, da), da * (da - 1) // 2)


def top_k_row_block(n: int, fa: np.ndarray, get_rows, first: int, last: int, weight: str, thr: float,
                     k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``k`` strongest partners for rows ``first..last-1`` (positions among the active neurons).

    ``fa``: fire counts of the ``da`` active neurons; ``get_rows(a, b)``: their co-firing counts
    with all active neurons, shape (b - a, da). Weights are computed with the lower-index neuron
    first, so both endpoints of a pair see bitwise the same value. Returns (row, col, weight)
    of the kept entries, with both orientations of a pair possibly present.
    """
    da = fa.shape[0]
    empty = np.zeros(0, np.int64)
    if k == 0 or da < 2 or last <= first:
        return empty, empty, np.zeros(0)
    cols = np.arange(da)
    rows_per_block = max(1, _BLOCK_ELEMENTS // da)
    out_i, out_j, out_w = [], [], []
    for start in range(first, last, rows_per_block):
        stop = min(start + rows_per_block, last)
        n11 = np.asarray(get_rows(start, stop), dtype=np.float64)
        rows = np.arange(start, stop)[:, None]
        upper = cols[None, :] > rows
        f_row, f_col = fa[start:stop, None], fa[None, :]
        w = _association(weight, n, np.where(upper, f_row, f_col), np.where(upper, f_col, f_row), n11)
        valid = (w > thr) & (cols[None, :] != rows)
        if k < da - 1:
            ws = np.where(valid, w, -np.inf)
            kth = -np.partition(-ws, k - 1, axis=1)[:, k - 1:k]
            greater = valid & (ws > kth)
            equal = valid & (ws == kth)
            need = k - greater.sum(axis=1, keepdims=True)
            valid = greater | (equal & (np.cumsum(equal, axis=1) <= need))
        r, c = np.nonzero(valid)
        out_i.append(r + start)
        out_j.append(c)
        out_w.append(w[r, c])
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_w)


def unique_pairs(i: np.ndarray, j: np.ndarray, w: np.ndarray, da: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs as (lower, higher), each once, sorted lexicographically."""
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    _, first = np.unique(lo * da + hi, return_index=True)
    return lo[first].astype(np.int64), hi[first].astype(np.int64), w[first]


def _bh_cutoff(small_p: np.ndarray, n_tests: int, alpha: float) -> float:
    """Largest p-value rejected by Benjamini-Hochberg at level ``alpha`` among ``n_tests`` tests.

    Only the p-values ``<= alpha`` are needed (no larger one can be rejected). BH-adjusted
    values over the full family equal ``n_tests / len(small_p)`` times those of
    ``scipy.stats.false_discovery_control(small_p)`` wherever they are ``<= alpha``, so a
    p-value is rejected iff that scaled value is ``<= alpha``. Returns -inf if none is.
    """
    if small_p.size == 0:
        return -np.inf
    adjusted = sps.false_discovery_control(small_p, method="bh") * (n_tests / small_p.size)
    rejected = small_p[adjusted <= alpha]
    return float(rejected.max()) if rejected.size else -np.inf


def _top_k_mask(i: np.ndarray, j: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Edges among the ``k`` strongest of at least one endpoint (ties: lower other endpoint first)."""
    m = w.shape[0]
    keep = np.zeros(m, dtype=bool)
    if k == 0 or m == 0:
        return keep
    end = np.concatenate([i, j])
    other = np.concatenate([j, i])
    eid = np.concatenate([np.arange(m), np.arange(m)])
    order = np.lexsort((other, -np.concatenate([w, w]), end))
    end_sorted = end[order]
    rank = np.arange(2 * m) - np.searchsorted(end_sorted, end_sorted, side="left")
    keep[eid[order][rank < k]] = True
    return keep
