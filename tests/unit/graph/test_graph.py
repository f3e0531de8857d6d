"""Tests of neurograph.graph.activation: weights vs brute force, sparsification semantics, conversions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import neurograph.graph.activation as graph_mod
from neurograph.errors import DataError, GraphError, OptionError
from neurograph.graph.activation import WEIGHTS, ActivationGraph, activation_graph, edge_weights
from neurograph.stats import CoactivationStats


# ---------------------------------------------------------------------------- brute force
def _brute_weight(x: np.ndarray, y: np.ndarray, weight: str) -> float:
    """Association of two 0/1 columns, written out from the definitions, one pair at a time."""
    n = len(x)
    n1, n2 = int(x.sum()), int(y.sum())
    n11 = int(sum(1 for a, b in zip(x, y) if a and b))
    if weight == "count":
        return float(n11)
    if weight == "jaccard":
        return n11 / (n1 + n2 - n11)
    if weight == "npmi":
        if n11 == 0:
            return -1.0
        # p11 / (p1 p2) as a ratio of integers, so exact independence gives exactly 0
        return math.log((n * n11) / (n1 * n2)) / -math.log(n11 / n)
    return (n * n11 - n1 * n2) / math.sqrt(n1 * (n - n1) * n2 * (n - n2))


def _brute_edges(fired: np.ndarray, weight: str, threshold: float = 0.0) -> dict:
    """{(i, j): w} over pairs of active neurons (positions among the active ones) with w > max(thr, 0)."""
    n = fired.shape[0]
    active = [k for k in range(fired.shape[1]) if 0 < fired[:, k].sum() < n]
    out = {}
    for a in range(len(active)):
        for b in range(a + 1, len(active)):
            w = _brute_weight(fired[:, active[a]], fired[:, active[b]], weight)
            if w > max(threshold, 0.0):
                out[(a, b)] = w
    return out


def _edge_dict(g: ActivationGraph) -> dict:
    return {(int(i), int(j)): float(w) for (i, j), w in zip(g.edges, g.weights)}


def _random_fired(seed: int, n: int = 40, d: int = 9, with_inactive: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fired = (rng.random((n, d)) < rng.uniform(0.15, 0.7, d)).astype(np.uint8)
    if with_inactive:
        fired[:, 2] = 0   # dead
        fired[:, 5] = 1   # always on
    return fired


def _assert_same_edges(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for key, w in want.items():
        assert got[key] == pytest.approx(w, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------------- weights
@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weights_match_brute_force(weight, seed):
    fired = _random_fired(seed)
    stats = CoactivationStats.from_binary(fired)
    g = activation_graph(stats, weight)
    _assert_same_edges(_edge_dict(g), _brute_edges(fired, weight))
    w = edge_weights(stats, weight)
    d = fired.shape[1]
    assert w.shape == (d, d) and np.allclose(w, w.T, equal_nan=True)
    assert np.all(np.diag(w) == 0)
    for i in range(d):
        for j in range(d):
            if i == j:
                continue
            if i in (2, 5) or j in (2, 5):
                assert np.isnan(w[i, j])
            else:
                assert w[i, j] == pytest.approx(_brute_weight(fired[:, i], fired[:, j], weight), abs=1e-12)


def test_phi_is_pearson_correlation_and_npmi_bounds():
    fired = _random_fired(3, n=60, d=7, with_inactive=False)
    stats = CoactivationStats.from_binary(fired)
    phi = edge_weights(stats, "phi")
    corr = np.corrcoef(fired.T.astype(float))
    np.fill_diagonal(corr, 0.0)
    np.testing.assert_allclose(phi, corr, atol=1e-12)
    npmi = edge_weights(stats, "npmi")
    assert np.all((npmi >= -1) & (npmi <= 1))
    # identical columns: npmi = 1; never co-firing: npmi = -1
    twins = CoactivationStats.from_binary(np.array([[1, 1, 0], [0, 0, 1], [1, 1, 0], [0, 0, 0]]))
    w = edge_weights(twins, "npmi")
    assert w[0, 1] == pytest.approx(1.0) and w[0, 2] == -1.0


# ---------------------------------------------------------------------------- sparsification
@pytest.mark.parametrize("weight,threshold", [("npmi", 0.1), ("phi", 0.2), ("jaccard", 0.3), ("count", 10),
                                              ("npmi", -0.5), ("phi", -1.0)])
def test_threshold_keeps_exactly_the_pairs_above_it(weight, threshold):
    fired = _random_fired(4, n=50)
    g = activation_graph(CoactivationStats.from_binary(fired), weight, threshold=threshold)
    _assert_same_edges(_edge_dict(g), _brute_edges(fired, weight, threshold))
    assert np.all(g.weights > max(threshold, 0.0))   # negative associations always dropped
    assert g.params["threshold"] == threshold


def _brute_top_k(edges: dict, k: int) -> set:
    kept = set()
    nodes = {u for e in edges for u in e}
    for v in nodes:
        mine = [(-w, (e[1] if e[0] == v else e[0]), e) for e, w in edges.items() if v in e]
        kept.update(e for _, _, e in sorted(mine)[:k])
    return kept


@pytest.mark.parametrize("weight", ["count", "npmi"])
@pytest.mark.parametrize("k", [0, 1, 2, 4])
def test_top_k_is_union_of_each_nodes_strongest(weight, k):
    fired = _random_fired(5, n=30, d=10)
    stats = CoactivationStats.from_binary(fired)
    g = activation_graph(stats, weight, top_k=k, threshold=0.05 if weight == "npmi" else 0)
    candidates = _brute_edges(fired, weight, 0.05 if weight == "npmi" else 0)
    want = _brute_top_k(candidates, k)   # ties (frequent for count) go to the lower other node
    assert set(_edge_dict(g)) == want
    deg = np.bincount(g.edges.ravel(), minlength=g.n_nodes)
    cand_deg = np.bincount(np.array(list(candidates), dtype=int).ravel(), minlength=g.n_nodes)
    assert np.all(deg >= np.minimum(cand_deg, k))


def _brute_fdr_edges(fired: np.ndarray, weight: str, threshold: float, alpha: float) -> dict:
    n = fired.shape[0]
    active = [k for k in range(fired.shape[1]) if 0 < fired[:, k].sum() < n]
    pairs, pvals = [], []
    for a in range(len(active)):
        for b in range(a + 1, len(active)):
            x, y = fired[:, active[a]], fired[:, active[b]]
            n11 = int((x & y).sum())
            pvals.append(float(sps.hypergeom.sf(n11 - 1, n, int(x.sum()), int(y.sum()))))
            pairs.append((a, b))
    significant = sps.false_discovery_control(np.array(pvals)) <= alpha
    by_weight = _brute_edges(fired, weight, threshold)
    return {p: by_weight[p] for p, s in zip(pairs, significant) if s and p in by_weight}


def _fdr_data(kind: str) -> np.ndarray:
    rng = np.random.default_rng(6)
    if kind == "group":   # a correlated group of 4 among 12
        z = rng.random(80) < 0.4
        fired = (rng.random((80, 12)) < 0.3).astype(np.uint8)
        fired[:, :4] |= (z[:, None] & (rng.random((80, 4)) < 0.7)).astype(np.uint8)
        return fired
    if kind == "common":   # a shared drive of graded strength: most pairs significant, BH cutoff high
        z = rng.random(60) < 0.5
        strength = np.r_[np.linspace(0.4, 0.9, 10), np.zeros(4)]
        return np.where(rng.random((60, 14)) < strength, z[:, None], rng.random((60, 14)) < 0.4).astype(np.uint8)
    # "mixed": 8 rare neurons firing together (tiny p, low counts), 4 frequent ones weakly
    # correlated (moderate p, high counts), 8 independent: the BH ranks of the frequent pairs
    # depend on the rare pairs even when a count threshold drops those from the graph
    fired = (rng.random((200, 20)) < 0.3).astype(np.uint8)
    z = rng.random(200) < 0.12
    fired[:, :8] = (z[:, None] & (rng.random((200, 8)) < 0.9)) | (rng.random((200, 8)) < 0.02)
    u = rng.random(200) < 0.5
    fired[:, 8:12] = np.where(rng.random((200, 4)) < 0.25, u[:, None], rng.random((200, 4)) < 0.5)
    return fired


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2, 0.45, 0.6])
@pytest.mark.parametrize("kind,weight,threshold", [("group", "npmi", 0.0), ("group", "npmi", 0.15),
                                                   ("group", "count", 4), ("mixed", "count", 40),
                                                   ("mixed", "npmi", 0.0),
                                                   ("common", "phi", 0.0)])
def test_alpha_matches_bh_over_all_pairs(alpha, kind, weight, threshold):
    fired = _fdr_data(kind)
    d = fired.shape[1]
    g = activation_graph(CoactivationStats.from_binary(fired), weight, threshold=threshold, alpha=alpha)
    want = _brute_fdr_edges(fired, weight, threshold, alpha)
    _assert_same_edges(_edge_dict(g), want)
    assert g.params["n_pairs"] == d * (d - 1) // 2


def test_prefilter_never_drops_a_significant_pair():
    # activation_graph skips the p-value of pairs with n11 <= floor(E[X]) when alpha < 1/2 (the
    # hypergeometric median is floor or ceil of the mean). Check the graph it builds, exhaustively for
    # small populations, at the counts beside that cut: a lone pair is an edge exactly when its exact
    # one-sided p-value is <= alpha (one pair: the BH cutoff is alpha itself).
    alpha = 0.4999
    checked = 0
    for n in range(2, 12):
        for n1 in range(1, n):
            for n2 in range(1, n):
                lo, hi = max(0, n1 + n2 - n), min(n1, n2)
                mean = np.floor(n1 * n2 / n)
                for n11 in {int(mean) - 1, int(mean), int(mean) + 1}:
                    if not lo <= n11 <= hi or n11 == 0 or n1 == n or n2 == n:
                        continue
                    x = np.zeros(n, np.uint8)
                    y = np.zeros(n, np.uint8)
                    x[:n1] = 1
                    y[n1 - n11:n1 - n11 + n2] = 1          # overlap exactly n11 with x
                    assert int((x & y).sum()) == n11
                    g = activation_graph(CoactivationStats.from_binary(np.stack([x, y], 1)), "count",
                                         threshold=0, alpha=alpha)
                    p = sps.hypergeom.sf(n11 - 1, n, n1, n2)
                    assert (g.n_edges == 1) == (p <= alpha), (n, n1, n2, n11, p)
                    checked += 1
    assert checked > 300


def test_alpha_keeps_planted_pair_and_drops_independent_pairs():
    rng = np.random.default_rng(7)
    fired = (rng.random((400, 30)) < 0.3).astype(np.uint8)
    fired[:, 1] = fired[:, 0] ^ (rng.random(400) < 0.05)   # neuron 1 copies neuron 0, 5% flips
    stats = CoactivationStats.from_binary(fired)
    plain = activation_graph(stats, "npmi")
    tested = activation_graph(stats, "npmi", alpha=0.05)
    assert (0, 1) in _edge_dict(tested)
    assert plain.n_edges > 150                 # about half the 435 pairs have npmi > 0 by chance
    assert tested.n_edges <= 5                 # nearly all of them are not significant


def test_filters_compose_and_blocks_do_not_change_results(monkeypatch):
    fired = _random_fired(8, n=60, d=14)
    stats = CoactivationStats.from_binary(fired)
    full = activation_graph(stats, "npmi", threshold=0.02, alpha=0.5, top_k=2)
    monkeypatch.setattr(graph_mod, "_BLOCK_ELEMENTS", 5)   # one row per block
    blocked = activation_graph(stats, "npmi", threshold=0.02, alpha=0.5, top_k=2)
    np.testing.assert_array_equal(full.edges, blocked.edges)
    np.testing.assert_array_equal(full.weights, blocked.weights)
    only_alpha = _edge_dict(activation_graph(stats, "npmi", threshold=0.02, alpha=0.5))
    assert set(_edge_dict(full)) == _brute_top_k(only_alpha, 2)


# ---------------------------------------------------------------------------- inactive neurons
def test_dead_and_always_on_are_excluded_or_isolated():
    fired = _random_fired(9)
    fired[:, 7] = 0
    stats = CoactivationStats.from_binary(fired, layer="fc")
    g = activation_graph(stats, "npmi")
    assert g.n_dead == 2 and g.n_always_on == 1
    assert g.excluded["neuron"].tolist() == [2, 5, 7]
    assert g.excluded["reason"].tolist() == ["dead", "always_on", "dead"]
    assert g.excluded["fire_prob"].tolist() == [0.0, 1.0, 0.0]
    assert g.nodes["neuron"].tolist() == [0, 1, 3, 4, 6, 8]
    assert list(g.nodes.columns) == ["neuron", "layer", "unit", "fire_prob"]
    assert set(g.nodes["layer"]) == {"fc"}

    kept = activation_graph(stats, "npmi", drop_inactive=False)
    assert kept.n_nodes == 9 and len(kept.excluded) == 0
    assert kept.n_dead == 2 and kept.n_always_on == 1
    assert kept.nodes["neuron"].tolist() == list(range(9))
    touched = set(kept.edges.ravel().tolist())
    assert not touched & {2, 5, 7}
    # the same edges, renamed from positions among active neurons to neuron indices
    active = g.nodes["neuron"].to_numpy()
    np.testing.assert_array_equal(active[g.edges], kept.edges)
    np.testing.assert_array_equal(g.weights, kept.weights)


def test_all_inactive_gives_empty_graph():
    stats = CoactivationStats.from_binary(np.array([[1, 0], [1, 0]]))
    g = activation_graph(stats, "phi", alpha=0.1, top_k=1)
    assert g.n_nodes == 0 and g.n_edges == 0 and g.edges.shape == (0, 2)
    assert g.n_dead == 1 and g.n_always_on == 1
    assert g.adjacency().shape == (0, 0)


# ---------------------------------------------------------------------------- conversions
def test_networkx_igraph_and_adjacency_agree_with_edges():
    g = activation_graph(CoactivationStats.from_binary(_random_fired(10, n=50, d=12)), "jaccard")
    want = _edge_dict(g)
    assert g.n_edges > 5
    nx_g = g.to_networkx()
    assert sorted(nx_g.nodes) == list(range(g.n_nodes))
    assert {tuple(sorted(e)): d["weight"] for *e, d in nx_g.edges(data=True)} == want
    assert nx_g.nodes[1]["neuron"] == int(g.nodes["neuron"][1])
    assert nx_g.nodes[1]["fire_prob"] == float(g.nodes["fire_prob"][1])
    ig_g = g.to_igraph()
    assert ig_g.vcount() == g.n_nodes and not ig_g.is_directed()
    assert {tuple(sorted(e.tuple)): e["weight"] for e in ig_g.es} == want
    assert ig_g.vs["neuron"] == g.nodes["neuron"].tolist()
    assert ig_g.vs["layer"] == g.nodes["layer"].tolist()
    a = g.adjacency()
    assert a.shape == (g.n_nodes, g.n_nodes) and (a != a.T).nnz == 0
    assert {(i, j): a[i, j] for i, j in zip(*a.nonzero()) if i < j} == want


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(WEIGHTS), st.integers(2, 25), st.integers(1, 8))
def test_graph_invariants(seed, weight, n, d):
    rng = np.random.default_rng(seed)
    fired = (rng.random((n, d)) < rng.random(d)).astype(np.uint8)
    stats = CoactivationStats.from_binary(fired)
    g = activation_graph(stats, weight)
    e = g.edges
    assert e.dtype == np.int64 and e.shape == (g.n_edges, 2)
    assert np.all(e[:, 0] < e[:, 1]) and len({tuple(x) for x in e.tolist()}) == g.n_edges
    assert np.all(g.weights > 0) and g.weights.dtype == np.float64
    assert g.n_nodes + len(g.excluded) == d
    assert g.n_dead == int((fired.sum(0) == 0).sum()) and g.n_always_on == int((fired.sum(0) == n).sum())
    _assert_same_edges(_edge_dict(g), _brute_edges(fired, weight))


# ---------------------------------------------------------------------------- errors
def test_bad_arguments_raise_named_errors():
    stats = CoactivationStats.from_binary(_random_fired(11))
    with pytest.raises(OptionError, match="weight"):
        activation_graph(stats, "pearson")
    with pytest.raises(OptionError, match="weight"):
        edge_weights(stats, "cosine")
    with pytest.raises(OptionError, match="top_k"):
        activation_graph(stats, top_k=-1)
    with pytest.raises(OptionError, match="top_k"):
        activation_graph(stats, top_k=2.5)
    for alpha in (0, 1, 1.5, -0.1):
        with pytest.raises(OptionError, match="alpha"):
            activation_graph(stats, alpha=alpha)
    with pytest.raises(OptionError, match="threshold"):
        activation_graph(stats, threshold=float("nan"))
    empty = CoactivationStats.from_binary(np.zeros((0, 3)))
    with pytest.raises(DataError, match="zero samples"):
        activation_graph(empty)
    with pytest.raises(DataError, match="zero samples"):
        edge_weights(empty)
    with pytest.raises(DataError, match="stats"):
        activation_graph(np.zeros((3, 3)))
