"""The report's graph view: JSON escaping for a <script> element, top-k sparsification, graph data."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from neurograph.errors import GraphError, OptionError
from neurograph.io.palette import community_color_hex
from neurograph.io.report import render_report
from neurograph.io.viewer import graph_view, script_json, sparsify_top_k, viewer_js

BREAKOUT = "</script><script>alert(1)</script>"


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self._in = [], False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(["", dict(attrs)])
            self._in = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.scripts[-1][0] += data


@pytest.mark.parametrize("text", [BREAKOUT, "a<!--b", "x & y > z", "line\u2028sep\u2029para", "<\u2028>"])
def test_script_json_escapes_and_round_trips(text):
    out = script_json({"layer": text, "v": [1.5, float("nan"), float("inf")]})
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in out
    assert json.loads(out) == {"layer": text, "v": [1.5, None, None]}


def test_layer_name_cannot_break_out_of_the_script_element():
    g = nx.path_graph(3)
    nx.set_node_attributes(g, {0: {"layer": BREAKOUT, "unit": 0, "community": 0},
                               1: {"layer": "fc", "unit": 1, "community": 1},
                               2: {"layer": BREAKOUT, "unit": 2, "community": 0}})
    view = graph_view(g, name=BREAKOUT, k=2)
    page = render_report(table=pd.DataFrame({"run": ["r"], "test_accuracy": [0.5]}), correlations=pd.DataFrame(),
                         rankings=pd.DataFrame(), figures={}, coactivation=[], run_dir=Path("."),
                         target="test_accuracy", title="t", graphs=[view])
    assert BREAKOUT not in page and "<script>alert(1)" not in page
    parser = _Scripts()
    parser.feed(page)
    assert [a.get("type") for _, a in parser.scripts] == ["application/json", None]  # data + viewer, nothing else
    data = json.loads(parser.scripts[0][0])
    assert data["name"] == BREAKOUT and {n["layer"] for n in data["nodes"]} == {BREAKOUT, "fc"}
    assert "</script" not in viewer_js()


def _check_top_k(edges, w, n, k):
    keep = sparsify_top_k(edges, w, n, k)
    for v in range(n):
        mine = np.flatnonzero((edges == v).any(axis=1))
        if not len(mine):
            continue
        top = mine[np.argsort(-w[mine], kind="stable")][:k]
        assert keep[top].all()                       # a node's k heaviest edges are always drawn
    for e in np.flatnonzero(keep):                   # and every drawn edge is among the k heaviest of an end
        ok = False
        for v in edges[e]:
            mine = np.flatnonzero((edges == v).any(axis=1))
            ok |= e in mine[np.argsort(-w[mine], kind="stable")][:k]
        assert ok
    return keep


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 3, 10])
def test_sparsify_top_k_random_graphs(seed, k):
    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(30, 0.5, seed=seed)
    edges = np.array(g.edges())
    w = rng.random(len(edges))
    keep = _check_top_k(edges, w, 30, k)
    assert keep.sum() <= min(len(edges), 30 * k)


def test_sparsify_top_k_small_degree_keeps_all_and_bad_input():
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    assert sparsify_top_k(edges, np.ones(3), 4, k=2).all()
    assert sparsify_top_k(np.zeros((0, 2)), np.zeros(0), 3).shape == (0,)
    with pytest.raises(GraphError):
        sparsify_top_k(edges, np.ones(2), 4)
    with pytest.raises(OptionError):
        sparsify_top_k(edges, np.ones(3), 4, k=0)


def test_graph_view_fields_colours_and_counts():
    g = nx.complete_graph(25)
    nx.set_node_attributes(g, {v: {"layer": "a" if v < 12 else "b", "unit": v, "community": v % 4,
                                   "fire_prob": 0.5, "entropy": 1.0, "mutual_info": 0.2} for v in g})
    nx.set_edge_attributes(g, {e: i for i, e in enumerate(g.edges)}, "weight")
    v = graph_view(g, name="m", k=10, download="m.gexf")
    assert v["n_nodes"] == 25 and v["n_edges_total"] == 300 and v["n_edges_shown"] == len(v["edges"]) < 300
    assert v["layers"] == ["a", "b"] and [c["id"] for c in v["communities"]] == [0, 1, 2, 3]
    assert all(n["color"] == community_color_hex(n["community"]) for n in v["nodes"])
    assert all(n["degree"] == 24 for n in v["nodes"])
    assert max(abs(n["x"]) for n in v["nodes"]) <= 1000.0
    assert graph_view(g, name="m", k=10)["nodes"] == v["nodes"]      # seeded layout
