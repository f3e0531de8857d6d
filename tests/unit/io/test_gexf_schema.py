"""The GEXF files we write validate against the official GEXF 1.3 schema (tests/data/gexf-1.3)."""

from __future__ import annotations

import copy
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from neurograph.graph.activation import activation_graph
from neurograph.graph.communities import detect_communities
from neurograph.io.export import export_gexf
from neurograph.io.layout import graph_layout
from neurograph.io.palette import community_color
from neurograph.io.timeline import export_dynamic_gexf
from neurograph.stats import CoactivationStats

etree = pytest.importorskip("lxml.etree")

SCHEMA = Path(__file__).resolve().parents[2] / "data" / "gexf-1.3"
GEXF = "http://gexf.net/1.3"
VIZ = "http://gexf.net/1.3/viz"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


@pytest.fixture(scope="module")
def xsd():
    return etree.XMLSchema(etree.parse(str(SCHEMA / "gexf.xsd")))


@pytest.fixture(scope="module")
def rng():
    return etree.RelaxNG(etree.parse(str(SCHEMA / "gexf.rng")))


def _errors_xsd(xsd, path) -> list[str]:
    """XSD errors; the viz elements are moved into the GEXF namespace, where the 1.3 XSD expects them
    (see tests/data/gexf-1.3/README.md)."""
    doc = copy.deepcopy(etree.parse(str(path)))
    for el in doc.iter(f"{{{VIZ}}}*"):
        el.tag = f"{{{GEXF}}}{etree.QName(el).localname}"
    return [] if xsd.validate(doc) else [str(e) for e in xsd.error_log]


def _errors_rng(rng, path) -> list[str]:
    """RelaxNG errors of the file as written (less xsi:schemaLocation, which RelaxNG does not model)."""
    doc = etree.parse(str(path))
    doc.getroot().attrib.pop(f"{{{XSI}}}schemaLocation", None)
    return [] if rng.validate(doc) else [str(e) for e in rng.error_log]


def _snapshot(seed, dead=()):
    rng = np.random.default_rng(seed)
    n = 200
    y = rng.integers(0, 2, n)
    base = np.where(y[:, None] == 1, 0.8, 0.15)
    fired = np.hstack([rng.random((n, 3)) < base, rng.random((n, 3)) < 0.95 - base])
    fired[:, list(dead)] = False
    neurons = pd.DataFrame({"layer": ["h"] * 3 + ["o"] * 3, "unit": np.r_[0:3, 0:3]})
    return activation_graph(CoactivationStats.from_binary(fired, y, neurons=neurons))


def test_networkx_header_is_rejected_so_the_test_has_teeth(tmp_path, xsd):
    path = tmp_path / "raw.gexf"
    nx.write_gexf(nx.path_graph(3), path, version="1.3")
    errors = _errors_xsd(xsd, path)
    assert any("schemaLocation" in e for e in errors) and any("'name'" in e for e in errors)


def test_static_gexf_validates_and_has_a_clean_header(tmp_path, xsd, rng):
    g = _snapshot(0)
    part = detect_communities(g, seed=0)
    table = pd.DataFrame({"entropy": np.linspace(0, 1, g.n_nodes), "status": ["ok"] * g.n_nodes})
    path = export_gexf(g, tmp_path / "g.gexf", partition=part, node_table=table)
    assert _errors_xsd(xsd, path) == [] and _errors_rng(rng, path) == []
    root = etree.parse(str(path)).getroot()
    assert root.nsmap[None] == GEXF and root.nsmap["xsi"] == XSI and root.nsmap["viz"] == VIZ
    assert root.get(f"{{{XSI}}}schemaLocation") == f"{GEXF} {GEXF}/gexf.xsd"
    assert root.find(f"{{{GEXF}}}graph").get("name") is None
    assert root.findtext(f"{{{GEXF}}}meta/{{{GEXF}}}creator").startswith("neurograph")
    # every node: position = graph_layout (the report's), colour = community colour, size by degree
    pos = graph_layout(g, seed=0)
    nodes = root.findall(f".//{{{GEXF}}}node")
    assert len(nodes) == g.n_nodes
    deg = np.bincount(g.edges.reshape(-1), minlength=g.n_nodes)
    for i, node in enumerate(nodes):
        p = node.find(f"{{{VIZ}}}position")
        assert (float(p.get("x")), float(p.get("y"))) == pytest.approx(tuple(pos[i]), abs=1e-3)
        c = node.find(f"{{{VIZ}}}color")
        assert tuple(int(c.get(k)) for k in "rgb") == community_color(int(part.membership[i]))
        assert float(node.find(f"{{{VIZ}}}size").get("value")) == pytest.approx(5 + 15 * deg[i] / deg.max())


@pytest.mark.parametrize("kind", [nx.Graph, nx.DiGraph, nx.MultiGraph, nx.MultiDiGraph])
def test_networkx_graphs_of_every_kind_validate(tmp_path, xsd, rng, kind):
    G = kind(name="toy <&>")
    G.add_edge("a", "b", weight=-0.5)  # a weight the layout cannot use: clipped for the layout only
    G.add_edge("b", "c", weight=2.0)
    G.add_node("lonely", layer="x")
    path = export_gexf(G, tmp_path / "g.gexf")
    assert _errors_xsd(xsd, path) == [] and _errors_rng(rng, path) == []
    root = etree.parse(str(path)).getroot()
    assert root.findtext(f"{{{GEXF}}}meta/{{{GEXF}}}description") == "toy <&>"
    assert len(root.findall(f".//{{{VIZ}}}position")) == 4


def test_dynamic_gexf_validates(tmp_path, xsd, rng):
    graphs = [_snapshot(0), _snapshot(1, dead=[4]), _snapshot(2)]
    parts = [detect_communities(g, seed=0) for g in graphs]
    path = export_dynamic_gexf(graphs, tmp_path / "t.gexf", times=[0.0, 3.0, 10.0], partitions=parts, name="run")
    assert _errors_xsd(xsd, path) == [] and _errors_rng(rng, path) == []
    root = etree.parse(str(path)).getroot()
    graph = root.find(f"{{{GEXF}}}graph")
    assert graph.get("mode") == "dynamic" and graph.get("timeformat") == "double" and graph.get("name") is None
    for node in root.iter(f"{{{GEXF}}}node"):
        assert node.find(f"{{{VIZ}}}position") is not None and node.find(f"{{{VIZ}}}color") is not None
        assert node.find(f"{{{GEXF}}}spells") is not None
    # edges carry spells and one weight attvalue per snapshot interval they exist in
    edge = root.find(f".//{{{GEXF}}}edge")
    spans = edge.findall(f"{{{GEXF}}}spells/{{{GEXF}}}spell")
    values = [v for v in edge.iter(f"{{{GEXF}}}attvalue") if v.get("start") is not None]
    assert spans and values and all(v.get("end") is not None for v in values)


def test_dynamic_gexf_without_partitions_validates(tmp_path, xsd, rng):
    path = export_dynamic_gexf([_snapshot(3)], tmp_path / "t.gexf", times=[5])
    assert _errors_xsd(xsd, path) == [] and _errors_rng(rng, path) == []
