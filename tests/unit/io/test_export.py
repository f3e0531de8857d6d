"""Tests for neurograph.io.export: GEXF / GraphML round trips through the networkx readers."""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from neurograph.errors import GraphError, OptionError
from neurograph.io.export import export_gexf, export_graphml

ODD = "features.0/<conv>&\"é'\x00\x01\x0b\x1f\ud800\ufffe\r\nx\ty\u00a0€𝄞"
ODD_CLEAN = "features.0/<conv>&\"é'\nx\ty\u00a0€𝄞"


def _graph() -> nx.Graph:
    """6 nodes over two layers with numpy-typed attributes; node ids 0..5, neuron ids shifted."""
    G = nx.Graph(name="toy")
    layers = ["fc1", "fc1", "fc1", ODD, ODD, ODD]
    for i in range(6):
        G.add_node(i, neuron=np.int64(i + 10), layer=layers[i], unit=np.int64(i % 3),
                   fire_prob=np.float64((i + 1) / 8))
    for u, v, w in [(0, 1, 0.5), (1, 2, 0.25), (0, 2, 1.0), (3, 4, 0.75), (4, 5, 0.125), (2, 3, 0.0625)]:
        G.add_edge(u, v, weight=np.float64(w))
    return G


MEMBERSHIP = np.array([0, 0, 0, 1, 1, 1], dtype=np.int64)


class _DuckGraph:
    """Anything with .nodes (DataFrame) and .to_networkx() is accepted like an ActivationGraph."""

    def __init__(self, G):
        self._G = G
        self.nodes = pd.DataFrame([dict(G.nodes[v]) for v in G.nodes])

    def to_networkx(self):
        return self._G.copy()


class _Partition:
    def __init__(self, membership):
        self.membership = membership


def _read(fmt, path):
    if fmt == "gexf":
        return nx.read_gexf(path, node_type=int)
    return nx.read_graphml(path, node_type=int)


def _write(fmt, graph, path, *args, **kwargs):
    fn = export_gexf if fmt == "gexf" else export_graphml
    return fn(graph, path, *args, **kwargs)


def _colour(fmt, attrs):
    if fmt == "gexf":
        c = attrs["viz"]["color"]
        return c["r"], c["g"], c["b"]
    return attrs["r"], attrs["g"], attrs["b"]


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_round_trip(tmp_path, fmt):
    G = _graph()
    table = pd.DataFrame({"entropy": np.linspace(0.1, 0.6, 6), "status": ["ok"] * 5 + ["dead"]})
    path = tmp_path / f"g.{fmt}"
    out = _write(fmt, _DuckGraph(G), path, _Partition(MEMBERSHIP), table)
    assert out == path and path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    H = _read(fmt, path)
    assert set(H.nodes) == set(G.nodes)
    assert {frozenset(e) for e in H.edges} == {frozenset(e) for e in G.edges}
    for u, v, w in G.edges(data="weight"):
        assert H.edges[u, v]["weight"] == w
    for i in G.nodes:
        a = H.nodes[i]
        assert a["neuron"] == i + 10 and type(a["neuron"]) is int
        assert a["layer"] == (ODD_CLEAN if i >= 3 else "fc1")
        assert a["unit"] == i % 3
        assert a["fire_prob"] == (i + 1) / 8
        assert a["community"] == MEMBERSHIP[i]
        assert a["entropy"] == table["entropy"][i]
        assert a["status"] == table["status"][i]
        assert a["label"] == f"{a['layer']}:{a['unit']}"
    # colours: one per community, different between the two communities
    colours = [_colour(fmt, H.nodes[i]) for i in range(6)]
    assert len(set(colours[:3])) == 1 and len(set(colours[3:])) == 1 and colours[0] != colours[3]
    assert all(0 <= x <= 255 for c in colours for x in c)
    sizes = [H.nodes[i]["viz"]["size"] if fmt == "gexf" else H.nodes[i]["size"] for i in range(6)]
    deg = [G.degree(i) for i in range(6)]
    assert [a["degree"] for _, a in sorted(H.nodes(data=True))] == deg
    assert sizes == pytest.approx([5 + 15 * d / max(deg) for d in deg])  # size by degree


def test_gexf_declares_version_1_3(tmp_path):
    path = export_gexf(_graph(), tmp_path / "g.gexf", MEMBERSHIP)
    root = ET.parse(path).getroot()
    assert root.tag == "{http://gexf.net/1.3}gexf"
    assert root.get("version") == "1.3"
    viz = root.findall(".//{http://gexf.net/1.3/viz}color")
    assert len(viz) == 6
    old = export_gexf(_graph(), tmp_path / "old.gexf", version="1.2draft")
    assert ET.parse(old).getroot().tag == "{http://www.gexf.net/1.2draft}gexf"
    with pytest.raises(OptionError, match="version"):
        export_gexf(_graph(), tmp_path / "bad.gexf", version="2.0")
    assert not (tmp_path / "bad.gexf").exists()


def test_networkx_graph_without_partition_is_coloured_by_layer(tmp_path):
    H = nx.read_gexf(export_gexf(_graph(), tmp_path / "g.gexf"), node_type=int)
    colours = [_colour("gexf", H.nodes[i]) for i in range(6)]
    assert colours[0] == colours[1] == colours[2] != colours[3] == colours[4] == colours[5]
    assert "community" not in H.nodes[0]


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_odd_characters_everywhere(tmp_path, fmt):
    G = nx.Graph()
    G.add_node("a" + ODD, **{"name" + ODD: ODD, "layer": ODD})
    G.add_node("b", **{"name" + ODD: "plain"})
    G.add_edge("a" + ODD, "b", weight=1.5, note=ODD)
    path = _write(fmt, G, tmp_path / f"odd.{fmt}")
    text = path.read_bytes().decode("utf-8")
    assert "\x00" not in text and "\x01" not in text and "\ufffe" not in text
    ET.parse(path)  # well-formed XML 1.0
    H = nx.read_gexf(path) if fmt == "gexf" else nx.read_graphml(path)
    assert set(H.nodes) == {"a" + ODD_CLEAN, "b"}
    a = H.nodes["a" + ODD_CLEAN]
    assert a["name" + ODD_CLEAN] == ODD_CLEAN and a["layer"] == ODD_CLEAN
    assert H.nodes["b"]["name" + ODD_CLEAN] == "plain"
    e = H.edges["a" + ODD_CLEAN, "b"]
    assert e["weight"] == 1.5 and e["note"] == ODD_CLEAN


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_missing_values_drop_the_attribute(tmp_path, fmt):
    G = _graph()
    table = pd.DataFrame({"mi": [0.5, np.nan, 0.25, np.inf, 0.125, 1.0],
                          "tag": ["x", None, "z", pd.NA, "v", "w"]})
    G.nodes[5]["fire_prob"] = float("nan")
    H = _read(fmt, _write(fmt, G, tmp_path / f"g.{fmt}", node_table=table))
    assert [H.nodes[i].get("mi") for i in range(6)] == [0.5, None, 0.25, None, 0.125, 1.0]
    assert [H.nodes[i].get("tag") for i in range(6)] == ["x", None, "z", None, "v", "w"]
    assert "fire_prob" not in H.nodes[5] and H.nodes[4]["fire_prob"] == 5 / 8


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_numpy_types_become_python_types(tmp_path, fmt):
    G = nx.Graph()
    G.add_node(0, i32=np.int32(-7), u8=np.uint8(200), f32=np.float32(0.1), b=np.bool_(True),
               s=np.str_("s0"), big=np.uint64(2**40), mixed=np.int64(3))
    G.add_node(1, i32=np.int32(9), u8=np.uint8(0), f32=np.float32(2.5), b=np.bool_(False),
               s=np.str_("s1"), big=np.uint64(1), mixed=np.float64(0.5))
    G.add_edge(np.int64(0), np.int64(1), weight=np.float32(0.75), count=np.int64(4))
    H = _read(fmt, _write(fmt, G, tmp_path / f"g.{fmt}", partition=np.array([1, 0], dtype=np.int32)))
    a, b = H.nodes[0], H.nodes[1]
    assert (a["i32"], a["u8"], a["b"], a["s"], a["big"]) == (-7, 200, True, "s0", 2**40)
    assert (b["i32"], b["u8"], b["b"], b["s"], b["big"]) == (9, 0, False, "s1", 1)
    assert a["f32"] == float(np.float32(0.1)) and b["f32"] == 2.5
    assert type(a["i32"]) is int and type(a["b"]) is bool and type(a["f32"]) is float
    # an attribute that is an int on one node and a float on another is written as float
    assert a["mixed"] == 3.0 and type(a["mixed"]) is float and b["mixed"] == 0.5
    assert (a["community"], b["community"]) == (1, 0)
    assert H.edges[0, 1]["weight"] == 0.75 and H.edges[0, 1]["count"] == 4
    if fmt == "graphml":  # the user's "b" wins over the GraphML colour attributes r, g, b
        assert "r" not in a and "size" in a


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_node_table_joined_on_neuron(tmp_path, fmt):
    G = _graph()  # nodes 0..5 hold neurons 10..15
    G.remove_node(4)
    # a whole-model table (like neuron_entropy's), indexed by neuron, with neurons absent from the graph
    table = pd.DataFrame({"entropy": np.arange(20) / 20.0,
                          "layer": ["L"] * 20}, index=pd.RangeIndex(20, name="neuron"))
    H = _read(fmt, _write(fmt, G, tmp_path / f"g.{fmt}", node_table=table))
    for i in H.nodes:
        assert H.nodes[i]["entropy"] == (i + 10) / 20.0
        assert H.nodes[i]["layer"] == "L"  # table columns override graph attributes
    # the same through an explicit 'neuron' column, rows shuffled
    shuffled = table.reset_index().sample(frac=1.0, random_state=0)
    H2 = _read(fmt, _write(fmt, G, tmp_path / f"g2.{fmt}", node_table=shuffled))
    assert {i: H2.nodes[i]["entropy"] for i in H2} == {i: H.nodes[i]["entropy"] for i in H}


def test_bad_inputs(tmp_path):
    G = _graph()
    with pytest.raises(GraphError, match="partition"):
        export_gexf(G, tmp_path / "a.gexf", partition=np.zeros(5, np.int64))
    with pytest.raises(GraphError, match="partition"):
        export_graphml(G, tmp_path / "a.graphml", partition=_Partition(np.zeros(7, np.int64)))
    with pytest.raises(GraphError, match="partition"):
        export_gexf(G, tmp_path / "a.gexf", partition=np.linspace(0, 1, 6))
    with pytest.raises(GraphError, match="node_table"):
        export_gexf(G, tmp_path / "a.gexf", node_table=pd.DataFrame({"x": range(5)}))
    with pytest.raises(GraphError, match="node_table"):
        export_graphml(G, tmp_path / "a.graphml", node_table=[1, 2, 3])
    with pytest.raises(GraphError, match="neuron"):
        export_gexf(G, tmp_path / "a.gexf", node_table=pd.DataFrame({"neuron": [10, 10, 11, 12, 13, 14]}))
    H = nx.Graph([(0, 1)])
    with pytest.raises(GraphError, match="neuron"):
        export_gexf(H, tmp_path / "a.gexf", node_table=pd.DataFrame({"neuron": [0, 1], "x": [1, 2]}))
    with pytest.raises(GraphError, match="start"):
        export_gexf(H, tmp_path / "a.gexf", node_table=pd.DataFrame({"start": [0, 1]}))
    with pytest.raises(GraphError, match="graph"):
        export_gexf(np.eye(3), tmp_path / "a.gexf")
    assert list(tmp_path.iterdir()) == []
    missing = tmp_path / "no_such_folder" / "g.gexf"
    for fn in (export_gexf, export_graphml):
        with pytest.raises(FileNotFoundError, match="no_such_folder"):
            fn(G, missing)
    assert not missing.parent.exists()


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_failure_mid_write_leaves_nothing(tmp_path, monkeypatch, fmt):
    import neurograph.io.export as export_mod

    def broken(G, path, *args, **kwargs):
        with open(path, "w") as fh:
            fh.write("<gexf><half")
        raise RuntimeError("disk full")

    if fmt == "gexf":
        monkeypatch.setattr(export_mod, "_write_gexf", broken)
    else:
        monkeypatch.setattr(nx, "write_graphml", broken)
    path = tmp_path / f"g.{fmt}"
    with pytest.raises(RuntimeError, match="disk full"):
        _write(fmt, _graph(), path)
    assert list(tmp_path.iterdir()) == []
    # an existing file is left as it was
    path.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        _write(fmt, _graph(), path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == [path.name]


def test_directed_multigraph_round_trip(tmp_path):
    G = nx.MultiDiGraph()
    G.add_edge(0, 1, weight=0.5)
    G.add_edge(0, 1, weight=2.0)
    G.add_edge(1, 0, weight=1.0)
    H = nx.read_graphml(export_graphml(G, tmp_path / "m.graphml"), node_type=int)
    assert H.is_directed() and H.is_multigraph()
    assert sorted(w for *_, w in H.edges(data="weight")) == [0.5, 1.0, 2.0]
    H = nx.read_gexf(export_gexf(G, tmp_path / "m.gexf"), node_type=int)
    assert H.is_directed() and sorted(w for *_, w in H.edges(data="weight")) == [0.5, 1.0, 2.0]
    assert not math.isnan(H.nodes[0]["viz"]["size"])


def _two_block_stats():
    from neurograph.stats import CoactivationStats

    rng = np.random.default_rng(0)
    z = rng.integers(0, 2, size=300)
    p = np.where(np.arange(12) < 6, 0.2 + 0.6 * z[:, None], 0.8 - 0.6 * z[:, None])
    fired = (rng.random((300, 12)) < p).astype(np.uint8)
    fired[:, 3] = 0  # a dead neuron: left out of the graph, still in the entropy table
    neurons = pd.DataFrame({"layer": ["features.0/<conv>"] * 6 + ["fc"] * 6, "unit": list(range(6)) * 2})
    return CoactivationStats.from_binary(fired, z, neurons=neurons)


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_real_activation_graph_round_trip(tmp_path, fmt):
    from neurograph.graph.activation import activation_graph
    from neurograph.graph.communities import detect_communities
    from neurograph.scoring.entropy import neuron_entropy

    stats = _two_block_stats()
    graph = activation_graph(stats, "npmi", threshold=0.05)
    assert graph.n_dead == 1 and graph.n_nodes == 11
    partition = detect_communities(graph, "leiden", seed=0)
    membership = partition.membership
    block = graph.nodes["neuron"].to_numpy() >= 6
    assert partition.n_communities == 2 and len(set(zip(block, membership))) == 2  # finds the two blocks
    table = neuron_entropy(stats)
    H = _read(fmt, _write(fmt, graph, tmp_path / f"g.{fmt}", partition, table))
    assert set(H.nodes) == set(range(graph.n_nodes)) and H.number_of_edges() == graph.n_edges
    for (u, v), w in zip(graph.edges.tolist(), graph.weights.tolist()):
        assert H.edges[u, v]["weight"] == w
    for k, row in graph.nodes.iterrows():
        a = H.nodes[k]
        assert (a["neuron"], a["layer"], a["unit"]) == (row["neuron"], row["layer"], row["unit"])
        assert a["fire_prob"] == row["fire_prob"] and a["community"] == membership[k]
        assert a["mutual_info"] == table["mutual_info"][row["neuron"]]
        assert a["status"] == "ok"
    colours = {_colour(fmt, H.nodes[k]) for k in range(graph.n_nodes)}
    assert len(colours) == 2


def test_positions_are_the_shared_layout_or_given(tmp_path):
    from neurograph.io.layout import graph_layout

    G = nx.Graph([(0, 1, {"weight": 0.5}), (1, 2, {"weight": 2.0}), (2, 3, {"weight": 1.0})])
    pos = graph_layout(G, seed=0)
    H = nx.read_gexf(export_gexf(G, tmp_path / "g.gexf"), node_type=int)
    M = nx.read_graphml(export_graphml(G, tmp_path / "g.graphml"), node_type=int)
    for i in range(4):
        p = H.nodes[i]["viz"]["position"]
        assert (p["x"], p["y"]) == pytest.approx(tuple(pos[i]), abs=1e-3)
        assert (M.nodes[i]["x"], M.nodes[i]["y"]) == pytest.approx(tuple(pos[i]), abs=1e-3)
    given = np.arange(8, dtype=float).reshape(4, 2)
    H = nx.read_gexf(export_gexf(G, tmp_path / "h.gexf", positions=given), node_type=int)
    assert [H.nodes[i]["viz"]["position"]["x"] for i in range(4)] == [0.0, 2.0, 4.0, 6.0]
    with pytest.raises(GraphError, match="positions"):
        export_gexf(G, tmp_path / "bad.gexf", positions=np.zeros((3, 2)))
