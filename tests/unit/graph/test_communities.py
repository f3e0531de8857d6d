"""Tests of neurograph.graph.communities: exact modularity, partitions, determinism, significance vs nulls."""

from __future__ import annotations

import random

import igraph as ig
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurograph.graph.communities import (METHODS, ModularitySignificance, Partition, detect_communities, modularity,
                                    modularity_significance)
from neurograph.graph.communities import _as_igraph, null_graph, strengths
from neurograph.errors import GraphError, OptionError
from neurograph.graph.activation import activation_graph
from neurograph.stats import CoactivationStats


def _random_weighted(seed: int, n: int = 30, p: float = 0.2) -> nx.Graph:
    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(n, p, seed=seed)
    for u, v in g.edges:
        g[u][v]["weight"] = float(rng.exponential())
    return g


def _planted(seed: int, size: int = 12, p_in: float = 0.8, p_out: float = 0.05) -> nx.Graph:
    """Two dense blocks of ``size`` nodes, weights larger inside blocks."""
    rng = np.random.default_rng(seed)
    g = nx.Graph()
    g.add_nodes_from(range(2 * size))
    for u in range(2 * size):
        for v in range(u + 1, 2 * size):
            same = (u < size) == (v < size)
            if rng.random() < (p_in if same else p_out):
                g.add_edge(u, v, weight=float(rng.uniform(1, 2) if same else rng.uniform(0, 1)))
    return g


def _two_weighted_triangles() -> nx.Graph:
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 2.0), (1, 2, 2.0), (0, 2, 2.0),
                               (3, 4, 2.0), (4, 5, 2.0), (3, 5, 2.0), (2, 3, 1.0)])
    return g


# ---------------------------------------------------------------------------- modularity
def test_modularity_closed_form():
    # two K4 joined by one edge: m = 13 edges, each side has 6 internal edges and degree sum 13:
    # Q = 2 * (6/13 - gamma * (13/26)^2) = 12/13 - gamma/2
    g = nx.barbell_graph(4, 0)
    halves = [0] * 4 + [1] * 4
    for gamma in (0.0, 0.5, 1.0, 2.0):
        assert modularity(g, halves, resolution=gamma) == pytest.approx(12 / 13 - gamma / 2, abs=1e-12)
    # weighted: triangles of weight 2 joined by weight 1: total weight 13, each side strength sum 13
    w = _two_weighted_triangles()
    assert modularity(w, [0, 0, 0, 1, 1, 1]) == pytest.approx(12 / 13 - 1 / 2, abs=1e-12)
    # one community: Q = 1 - gamma; singletons: -gamma * sum(s_i^2) / (2m)^2
    assert modularity(w, [0] * 6) == pytest.approx(0.0, abs=1e-12)
    s = np.array([4, 4, 5, 5, 4, 4], float)
    assert modularity(w, list(range(6))) == pytest.approx(-(s ** 2).sum() / 26 ** 2, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("gamma", [0.5, 1.0, 1.7])
def test_modularity_matches_networkx_on_random_weighted_graphs(seed, gamma):
    g = _random_weighted(seed)
    membership = np.random.default_rng(seed).integers(0, 4, g.number_of_nodes())
    groups = [set(np.flatnonzero(membership == c).tolist()) for c in np.unique(membership)]
    want = nx.community.modularity(g, groups, weight="weight", resolution=gamma)
    assert modularity(g, membership, resolution=gamma) == pytest.approx(want, abs=1e-12)
    p = detect_communities(g, "leiden", gamma, seed=seed)
    found = [set(c.tolist()) for c in p.communities()]
    assert p.modularity == pytest.approx(nx.community.modularity(g, found, weight="weight", resolution=gamma),
                                         abs=1e-12)


def test_modularity_same_for_every_graph_type():
    fired = (np.random.default_rng(0).random((80, 15)) < 0.3).astype(np.uint8)
    ag = activation_graph(CoactivationStats.from_binary(fired), "npmi")
    membership = np.arange(ag.n_nodes) % 3
    values = [modularity(x, membership, resolution=0.8) for x in (ag, ag.to_igraph(), ag.to_networkx())]
    assert values[0] == pytest.approx(values[1], abs=1e-12) and values[0] == pytest.approx(values[2], abs=1e-12)
    plain = nx.Graph(ag.to_networkx().edges)          # no weight attribute: every weight 1
    plain.add_nodes_from(range(ag.n_nodes))
    ones = nx.Graph()
    ones.add_nodes_from(range(ag.n_nodes))
    ones.add_weighted_edges_from((u, v, 1.0) for u, v in plain.edges)
    order = list(plain)   # node k of a networkx graph is the k-th of list(graph)
    assert modularity(plain, membership[order]) == pytest.approx(modularity(ones, membership), abs=1e-12)


# ---------------------------------------------------------------------------- detection
@pytest.mark.parametrize("method", METHODS)
def test_methods_find_barbell_halves_exactly(method):
    p = detect_communities(nx.barbell_graph(5, 0), method, seed=1)
    assert p.membership.tolist() == [0] * 5 + [1] * 5
    assert p.modularity == pytest.approx(20 / 21 - 1 / 2, abs=1e-12)
    assert p.method == method and p.n_communities == 2 and p.sizes.tolist() == [5, 5]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [0, 1])
def test_methods_beat_singletons_and_recover_planted_blocks(method, seed):
    g = _planted(seed)
    p = detect_communities(g, method, seed=seed)
    singletons = modularity(g, np.arange(g.number_of_nodes()))
    assert p.modularity >= singletons
    assert p.modularity > 0.3
    truth = np.repeat([0, 1], 12)
    # the two blocks are recovered (up to label names)
    assert len({(a, b) for a, b in zip(truth, p.membership)}) == 2


@pytest.mark.parametrize("method", METHODS)
def test_deterministic_for_fixed_seed_and_no_global_rng_use(method):
    g = _random_weighted(3, n=40, p=0.15)
    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    a = detect_communities(g, method, seed=7)
    assert random.random() == expected_next          # Python's global RNG untouched
    b = detect_communities(g, method, seed=7)
    np.testing.assert_array_equal(a.membership, b.membership)
    assert a.modularity == b.modularity


def test_relabelling_by_size_then_smallest_node():
    g = nx.disjoint_union_all([nx.complete_graph(3), nx.complete_graph(5), nx.complete_graph(3)])
    p = detect_communities(g, "leiden", seed=0)
    assert p.membership.tolist() == [1] * 3 + [0] * 5 + [2] * 3
    assert [c.tolist() for c in p.communities()] == [[3, 4, 5, 6, 7], [0, 1, 2], [8, 9, 10]]


@pytest.mark.parametrize("method", METHODS)
def test_graph_without_edges_gives_singletons_and_nan(method):
    g = nx.empty_graph(4)
    p = detect_communities(g, method)
    assert p.membership.tolist() == [0, 1, 2, 3] and np.isnan(p.modularity)
    assert np.isnan(modularity(g, [0, 0, 1, 1]))
    r = modularity_significance(g, method=method, n_null=3)
    assert np.isnan(r.modularity) and np.isnan(r.z) and r.null_values.shape == (3,)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 25), st.floats(0.0, 0.6), st.sampled_from(METHODS),
       st.floats(0.2, 2.0))
def test_partition_covers_all_nodes(seed, n, p, method, gamma):
    g = nx.gnp_random_graph(n, p, seed=seed)
    part = detect_communities(g, method, gamma, seed=seed)
    m = part.membership
    assert m.shape == (n,) and m.dtype == np.int64
    assert set(m.tolist()) == set(range(part.n_communities))
    assert np.all(np.diff(part.sizes) <= 0) and part.sizes.sum() == n
    nodes = np.sort(np.concatenate(part.communities()))
    np.testing.assert_array_equal(nodes, np.arange(n))
    if g.number_of_edges():
        assert part.modularity == pytest.approx(modularity(g, m, resolution=gamma), abs=1e-12)
        assert part.modularity >= modularity(g, np.arange(n), resolution=gamma) - 1e-12


def test_cpm_objective_and_input_types():
    g = _planted(0)
    p = detect_communities(g, "leiden", 0.5, objective="cpm")
    assert p.objective == "cpm" and p.resolution == 0.5
    assert p.modularity == pytest.approx(modularity(g, p.membership, resolution=1.0), abs=1e-12)
    ig_g = ig.Graph(n=24, edges=list(g.edges))
    ig_g.es["weight"] = [d["weight"] for *_, d in g.edges(data=True)]
    q_ig = detect_communities(ig_g, "leiden", seed=0).modularity
    assert q_ig == pytest.approx(detect_communities(g, "leiden", seed=0).modularity, abs=1e-12)


def test_bad_inputs_raise_option_or_graph_error():
    g = nx.barbell_graph(3, 0)
    with pytest.raises(OptionError, match="leiden.*louvain.*multilevel.*networkx"):
        detect_communities(g, "girvan_newman")
    with pytest.raises(OptionError, match="cpm"):
        detect_communities(g, "louvain", objective="cpm")
    with pytest.raises(OptionError, match="objective"):
        detect_communities(g, objective="surprise")
    with pytest.raises(OptionError, match="resolution"):
        detect_communities(g, resolution=-1.0)
    with pytest.raises(GraphError, match="undirected"):
        detect_communities(nx.DiGraph([(0, 1)]))
    with pytest.raises(GraphError, match="weight"):
        detect_communities(nx.Graph([(0, 1, {"weight": -1.0})]))
    with pytest.raises(GraphError, match="graph must be"):
        detect_communities(np.eye(3))
    with pytest.raises(GraphError, match="membership"):
        modularity(g, [0, 1])
    with pytest.raises(OptionError, match="n_null"):
        modularity_significance(g, n_null=1)


# ---------------------------------------------------------------------------- significance
def _noise_graph(seed: int):
    fired = (np.random.default_rng(seed).random((300, 40)) < 0.3).astype(np.uint8)
    return activation_graph(CoactivationStats.from_binary(fired), "npmi", top_k=3)


def test_planted_partition_is_significant():
    g = _planted(0, size=15)
    r = modularity_significance(g, n_null=15, seed=0)
    assert isinstance(r, ModularitySignificance) and r.n_null == 15 and r.method == "leiden"
    assert r.modularity == pytest.approx(detect_communities(g, seed=0).modularity)
    assert r.z > 5 and r.p_value == pytest.approx(1 / 16)
    assert r.null_values.shape == (15,) and r.null_mean == pytest.approx(r.null_values.mean())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_graph_has_modularity_but_is_not_significant(seed):
    # Independent neurons: the sparse npmi graph still has Q ~ 0.45, yet it is no more modular than
    # its degree/strength-preserving nulls. (Over 30 seeds z averaged +0.8 with sd 1: finite-sample
    # correlations carry a little structure, so the bound is 3, far below the planted z > 5.)
    g = _noise_graph(seed)
    r = modularity_significance(g, n_null=20, seed=seed)
    assert 0.3 < r.modularity < 0.55
    assert abs(r.z) < 3 and r.p_value > 0.05


def test_given_partition_and_determinism():
    g = _planted(1)
    p = detect_communities(g, "multilevel", seed=3)
    a = modularity_significance(g, p, method="multilevel", n_null=5, seed=4)
    b = modularity_significance(g, p.membership, method="multilevel", n_null=5, seed=4)
    assert a.modularity == pytest.approx(p.modularity)
    np.testing.assert_array_equal(a.null_values, b.null_values)
    shuffled = np.random.default_rng(0).permutation(p.membership)
    c = modularity_significance(g, shuffled, method="multilevel", n_null=5, seed=4)
    assert c.modularity < 0.1 and c.p_value == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_null_graphs_keep_degrees_exactly_and_strengths_closely(seed):
    rng = np.random.default_rng(seed)
    fired = (rng.random((400, 60)) < rng.uniform(0.05, 0.6, 60)).astype(np.uint8)
    ag = activation_graph(CoactivationStats.from_binary(fired), "npmi")
    g, w = _as_igraph(ag)
    edges = np.asarray(g.get_edgelist())
    strength = strengths(edges, w, g.vcount())
    null, null_w = null_graph(g, w, strength, seed)
    null_edges = np.asarray(null.get_edgelist())
    assert null.degree() == g.degree()
    assert not null.has_multiple() and not any(null.is_loop())
    assert {tuple(e) for e in null_edges.tolist()} != {tuple(e) for e in edges.tolist()}
    np.testing.assert_array_equal(np.sort(null_w), np.sort(w))   # same weights, moved
    r = np.corrcoef(strength, strengths(null_edges, null_w, g.vcount()))[0, 1]
    assert r > 0.9
    # a plain shuffle of the weights would not keep strengths
    shuffled = strengths(null_edges, np.random.default_rng(seed).permutation(w), g.vcount())
    assert np.corrcoef(strength, shuffled)[0, 1] < r


def test_partition_repr_and_fields():
    p = detect_communities(nx.barbell_graph(3, 0))
    assert isinstance(p, Partition) and "n_communities=2" in repr(p)


# ---------------------------------------------------------------------------- no module-global state
def test_module_holds_no_mutable_state_and_batches_agree_with_one_process():
    import types

    from neurograph.graph import communities as mod

    mutable = {name: type(v).__name__ for name, v in vars(mod).items()
               if not name.startswith("__") and isinstance(v, (dict, list, set, np.ndarray))}
    assert mutable == {}, f"module-level mutable state in neurograph.graph.communities: {mutable}"
    assert not [name for name, v in vars(mod).items() if name.isupper() and not isinstance(v, (tuple, str))
                and not isinstance(v, types.ModuleType)]
    g = nx.planted_partition_graph(3, 10, 0.7, 0.05, seed=1)
    one = modularity_significance(g, n_null=5, seed=2)
    # three workers, uneven batches (2, 2, 1 nulls), with a progress bar: the same nulls in the same order
    three = modularity_significance(g, n_null=5, seed=2, n_jobs=3, progress=True)
    np.testing.assert_array_equal(one.null_values, three.null_values)
    # interleaved calls on different graphs cannot see each other's graph
    other = modularity_significance(_planted(3), n_null=5, seed=2)
    again = modularity_significance(g, n_null=5, seed=2)
    np.testing.assert_array_equal(one.null_values, again.null_values)
    assert not np.array_equal(other.null_values, one.null_values)
