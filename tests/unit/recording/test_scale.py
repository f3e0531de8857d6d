"""Large-scale paths: layer-pair blocks, multi-pass top-k graphs, streaming top-k, p-value screen, sweeps."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from torch import nn

from neurograph.graph import activation as graph_mod
from neurograph.recording.blockwise import record_blocks, record_top_k
from neurograph.graph.communities import detect_communities, modularity_significance, resolution_profile
from neurograph.errors import DataError, LayerError, OptionError
from neurograph.graph.activation import activation_graph
from neurograph.recording.recorder import record
from neurograph.stats import CoactivationStats


def _net_data(n=150, seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 30), nn.ReLU(), nn.Linear(30, 25), nn.ReLU(), nn.Linear(25, 3))
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=g)
    X[:, 0] = 0.3 * X[:, 0] + 2.0   # some always-on / dead units
    return net, X, torch.randint(0, 3, (n,), generator=g)


# ---------------------------------------------------------------------------- record_blocks
def test_record_blocks_equal_slices_of_the_dense_counts():
    net, X, y = _net_data()
    dense = record(net, (X, y), ["1", "3"], batch_size=40)
    blocks = record_blocks(net, (X, y), ["1", "3"], pairs="adjacent", batch_size=23)
    assert sorted(blocks.blocks) == [("1", "1"), ("1", "3"), ("3", "3")]
    assert np.array_equal(blocks.cofire("1", "3"), dense.cofire_counts[:30, 30:])
    assert np.array_equal(blocks.cofire("3", "1"), dense.cofire_counts[30:, :30])
    assert blocks.stats(["1", "3"]) == dense
    assert blocks.stats("3") == dense.select("3")
    only = record_blocks(net, (X, y), ["1", "3"], pairs=[("3", "3")], kernel="sparse")
    assert only.stats("3") == dense.select("3")
    with pytest.raises(LayerError, match="not recorded"):
        only.stats(["1", "3"])
    halves = (record_blocks(net, (X[:70], y[:70]), ["1", "3"], pairs="within")
              + record_blocks(net, (X[70:], y[70:]), ["1", "3"], pairs="within"))
    assert halves.stats("1") == dense.select("1")
    with pytest.raises(LayerError, match="pair"):
        record_blocks(net, (X, y), ["1", "3"], pairs=[("1", "9")])


# ---------------------------------------------------------------------------- record_top_k
@pytest.mark.parametrize("weight,top_k,min_weight,drop", [("npmi", 3, 0.0, True), ("phi", 1, 0.05, False),
                                                         ("count", 4, 0.0, True), ("jaccard", 0, 0.0, True)])
def test_record_top_k_equals_graph_of_dense_record(weight, top_k, min_weight, drop):
    net, X, y = _net_data()
    dense = activation_graph(record(net, (X, y), ["1", "3"]), weight, threshold=min_weight, top_k=top_k,
                             drop_inactive=drop)
    g = record_top_k(net, (X, y), ["1", "3"], top_k, weight, min_weight=min_weight, drop_inactive=drop,
                     max_bytes=12 * 55 * 7, batch_size=32)   # 7 rows per pass: 8 passes
    assert g.params["passes"] == 8
    np.testing.assert_array_equal(g.edges, dense.edges)
    np.testing.assert_array_equal(g.weights, dense.weights)
    assert g.nodes.equals(dense.nodes) and g.excluded.equals(dense.excluded)


def test_record_top_k_input_errors():
    net, X, y = _net_data()
    with pytest.raises(DataError, match="several"):
        record_top_k(net, iter([(X, y)]), "1", 2)
    with pytest.raises(OptionError, match="top_k"):
        record_top_k(net, (X, y), "1", -1)
    with pytest.raises(OptionError, match="weight"):
        record_top_k(net, (X, y), "1", 2, "pearson")


# ---------------------------------------------------------------------------- graph construction at scale
@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 60), d=st.integers(2, 30), k=st.integers(1, 6), seed=st.integers(0, 10**6),
       weight=st.sampled_from(["count", "jaccard", "npmi", "phi"]), thr=st.sampled_from([0.0, 0.05, 2.0]),
       block=st.sampled_from([1, 7, 1 << 21]))
def test_streaming_top_k_equals_filter_then_rank(n, d, k, seed, weight, thr, block):
    rng = np.random.default_rng(seed)
    fired = rng.random((n, d)) < rng.uniform(0.05, 0.95, size=d)
    fired[:, 1] = fired[:, 0]   # ties
    stats = CoactivationStats.from_binary(fired)
    f = stats.fire_counts
    active = np.flatnonzero((f > 0) & (f < n))
    old = graph_mod._BLOCK_ELEMENTS
    graph_mod._BLOCK_ELEMENTS = block
    try:
        i, j, w, _ = graph_mod._top_k_rows(stats, active, weight, thr, k)
    finally:
        graph_mod._BLOCK_ELEMENTS = old
    fi, fj, fw, _ = graph_mod._filtered_pairs(stats, active, weight, thr, None)
    keep = graph_mod._top_k_mask(fi, fj, fw, k)
    np.testing.assert_array_equal(i, fi[keep])
    np.testing.assert_array_equal(j, fj[keep])
    np.testing.assert_array_equal(w, fw[keep])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), data=st.data())
def test_p_value_screen_never_exceeds_the_exact_tail(n, data):
    n1 = data.draw(st.integers(1, n))
    n2 = data.draw(st.integers(1, n))
    lo, hi = max(0, n1 + n2 - n), min(n1, n2)
    x = np.array([data.draw(st.integers(lo, hi)) for _ in range(5)], dtype=float)
    bound = graph_mod._tail_lower_bound(x, n, np.full(5, float(n1)), np.full(5, float(n2)))
    exact = sps.hypergeom.sf(x - 1, n, n1, n2)
    assert np.all(bound <= exact * (1 + 1e-12) + 1e-300)
    assert np.all(bound >= 0.0)


# ---------------------------------------------------------------------------- resolution sweep and parallel nulls
def test_resolution_profile_matches_single_detections_and_n_jobs():
    g = nx.planted_partition_graph(4, 15, 0.6, 0.05, seed=2)
    res = [0.25, 1.0, 3.0]
    table = resolution_profile(g, res, "leiden", seed=3)
    assert table.columns.tolist() == ["resolution", "n_communities", "modularity", "modularity_1", "largest"]
    for row, r in zip(table.itertuples(), res):
        p = detect_communities(g, "leiden", r, seed=3)
        assert row.n_communities == p.n_communities and row.modularity == p.modularity
        assert row.largest == p.sizes.max()
    assert table["n_communities"].is_monotonic_increasing
    assert table.loc[1, "modularity_1"] == table.loc[1, "modularity"]
    assert resolution_profile(g, res, "leiden", seed=3, n_jobs=2).equals(table)
    with pytest.raises(OptionError, match="resolution"):
        resolution_profile(g, [1.0, -1.0])
    with pytest.raises(OptionError, match="n_jobs"):
        resolution_profile(g, [1.0], n_jobs=0)


def test_null_draws_in_worker_processes_give_the_same_result():
    g = nx.planted_partition_graph(3, 12, 0.7, 0.05, seed=4)
    one = modularity_significance(g, n_null=4, seed=5)
    two = modularity_significance(g, n_null=4, seed=5, n_jobs=2)
    np.testing.assert_array_equal(one.null_values, two.null_values)
    assert one.z == two.z
