"""Dynamic GEXF: written, read back with networkx, every snapshot recoverable."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from neurograph.errors import GraphError, OptionError
from neurograph.graph.activation import activation_graph
from neurograph.graph.communities import detect_communities
from neurograph.io.layout import graph_layout
from neurograph.io.palette import community_color
from neurograph.io.timeline import (
    export_dynamic_gexf,
    match_communities,
    snapshot_intervals,
)
from neurograph.stats import CoactivationStats


def _snapshot(seed, dead=()):
    rng = np.random.default_rng(seed)
    n = 200
    y = rng.integers(0, 2, n)
    base = np.where(y[:, None] == 1, 0.8, 0.15)
    fired = np.hstack([rng.random((n, 3)) < base, rng.random((n, 3)) < 0.95 - base])
    fired[:, list(dead)] = False
    neurons = pd.DataFrame({"layer": ["h"] * 6, "unit": np.arange(6)})
    return activation_graph(CoactivationStats.from_binary(fired, y, neurons=neurons))


def _value_at(values, t):
    hits = [v for v, a, b in values if a <= t <= b]
    assert len(hits) <= 1, values
    return hits[0] if hits else None


def test_every_snapshot_can_be_read_back(tmp_path):
    graphs = [_snapshot(0), _snapshot(1, dead=[4]), _snapshot(2)]
    parts = [detect_communities(g, seed=0) for g in graphs]
    times = [0.0, 3.0, 10.0]
    path = export_dynamic_gexf(graphs, tmp_path / "t.gexf", times=times, partitions=parts, name="run")
    G = nx.read_gexf(path)
    assert G.graph["mode"] == "dynamic" and G.number_of_nodes() == 6
    # neuron 4 is dead in the middle snapshot: two spells
    assert len(G.nodes["h:4"]["spells"]) == 2 and len(G.nodes["h:0"]["spells"]) == 1
    for g, part, t in zip(graphs, parts, times):
        present = {n for n, d in G.nodes(data=True) if any(a <= t <= b for a, b in d["spells"])}
        ids = [f"h:{u}" for u in g.nodes["unit"]]
        assert present == set(ids)
        pairs = set()
        for nid, c, p in zip(ids, part.membership, g.nodes["fire_prob"]):
            pairs.add((int(c), _value_at(G.nodes[nid]["community"], t)))
            assert _value_at(G.nodes[nid]["snapshot_community"], t) == c
            assert _value_at(G.nodes[nid]["fire_prob"], t) == pytest.approx(p)
            h = _value_at(G.nodes[nid]["entropy"], t)
            assert h == pytest.approx(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)) if 0 < p < 1 else 0.0)
        # matched ids: a one-to-one relabelling of the snapshot's communities
        assert len({a for a, _ in pairs}) == len({b for _, b in pairs}) == len(pairs)
        edges_at = {tuple(sorted((u, v))): _value_at(d["npmi"], t) for u, v, d in G.edges(data=True)
                    if any(a <= t <= b for a, b in d["spells"])}
        want = {tuple(sorted((ids[i], ids[j]))): w for (i, j), w in zip(g.edges, g.weights)}
        assert edges_at.keys() == want.keys()
        for k, w in want.items():
            assert edges_at[k] == pytest.approx(w)
    # colours follow the last snapshot's communities
    last = dict(zip([f"h:{u}" for u in graphs[-1].nodes["unit"]], parts[-1].membership))
    colours = {c: G.nodes[n]["viz"]["color"]["r"] for n, c in last.items()}
    assert len(set(colours.values())) == len(set(last.values()))
    for n in last:
        c = G.nodes[n]["viz"]["color"]
        assert (c["r"], c["g"], c["b"]) == community_color(_value_at(G.nodes[n]["community"], times[-1]))


def test_positions_are_fixed_union_layout(tmp_path):
    graphs = [_snapshot(0, dead=[5]), _snapshot(1)]
    path = export_dynamic_gexf(graphs, tmp_path / "t.gexf", times=[0, 1])
    G = nx.read_gexf(path)
    union = nx.Graph()
    union.add_nodes_from(sorted(G.nodes))
    for u, v, d in G.edges(data=True):
        union.add_edge(u, v, weight=float(np.mean([w for w, _, _ in d["npmi"]])))
    pos = graph_layout(union, seed=0)
    for (n, d), (x, y) in zip(sorted(G.nodes(data=True)), pos):
        assert (d["viz"]["position"]["x"], d["viz"]["position"]["y"]) == pytest.approx((x, y), abs=1e-3)
    assert "h:5" in G.nodes and "position" in G.nodes["h:5"]["viz"]  # absent from the first snapshot


def test_match_communities_follows_overlap():
    a = {v: (0 if v < 4 else 1) for v in range(8)}
    relabelled = {v: 1 - c for v, c in a.items()}  # the same partition, ids swapped
    assert match_communities([a, relabelled])[1] == a
    # a community born later gets a fresh id, never one used before
    b = {**a, 8: 7, 9: 7}
    assert match_communities([a, b])[1] == {**a, 8: 2, 9: 2}
    # split: the larger part keeps the id, the other is fresh
    c = {v: (0 if v < 3 else 5 if v < 4 else 1) for v in range(8)}
    out = match_communities([a, c])[1]
    assert out[0] == 0 and out[4] == 1 and out[3] == 2
    # a community dying does not free its id
    d = {v: 0 for v in range(4)}
    e = {v: (0 if v < 2 else 1) for v in range(6)}
    m = match_communities([a, d, e])
    assert m[1] == {v: 0 for v in range(4)} and set(m[2].values()) == {0, 2}
    # anchor="last": the last snapshot keeps its ids
    last = match_communities([relabelled, a], anchor="last")
    assert last[1] == a and last[0] == a


def test_partial_partitions_raise(tmp_path):
    g = _snapshot(0)
    with pytest.raises(GraphError, match="one per graph"):
        export_dynamic_gexf([g, g], tmp_path / "x.gexf", times=[0, 1],
                            partitions=[detect_communities(g, seed=0), None])


@settings(max_examples=50, deadline=None)
@given(hs.lists(hs.floats(-1e3, 1e3), min_size=1, max_size=8, unique=True))
def test_intervals_start_at_times_and_never_touch(times):
    times = sorted(times)
    if len(times) > 1 and np.diff(times).min() < 1e-6:
        return
    iv = snapshot_intervals(times)
    assert [a for a, _ in iv] == pytest.approx(times)
    for (a, b), (c, _) in zip(iv, iv[1:]):
        assert a < b < c
    assert iv[-1][1] > iv[-1][0]


def test_bad_arguments_raise_option_or_graph_error(tmp_path):
    g = _snapshot(0)
    with pytest.raises(OptionError, match="increasing"):
        export_dynamic_gexf([g, g], tmp_path / "x.gexf", times=[1, 1])
    with pytest.raises(OptionError, match="times has 1"):
        export_dynamic_gexf([g, g], tmp_path / "x.gexf", times=[1])
    with pytest.raises(GraphError, match=r"partitions\[0\]"):
        export_dynamic_gexf([g], tmp_path / "x.gexf", times=[0], partitions=[np.zeros(2)])
    with pytest.raises(GraphError, match="ActivationGraph"):
        export_dynamic_gexf([nx.Graph()], tmp_path / "x.gexf", times=[0])
    assert not list(tmp_path.iterdir())
