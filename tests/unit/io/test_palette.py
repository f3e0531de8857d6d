"""One palette: community k has the same colour in the static GEXF, the timeline GEXF and the figures."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from neurograph.errors import OptionError
from neurograph.graph.activation import activation_graph
from neurograph.io.export import export_gexf, export_graphml
from neurograph.io.palette import PALETTE, community_color, community_color_hex, layer_color
from neurograph.io.plots import plot_coactivation
from neurograph.io.timeline import export_dynamic_gexf
from neurograph.stats import CoactivationStats


def _graph(n_groups: int = 12, size: int = 3):
    """``n_groups`` blocks of neurons that fire together; membership = block id."""
    rng = np.random.default_rng(0)
    n = 400
    block = rng.integers(0, n_groups, n)
    fired = np.repeat(block[:, None] == np.arange(n_groups)[None, :], size, axis=1) ^ (rng.random((n, n_groups * size))
                                                                                       < 0.02)
    neurons = pd.DataFrame({"layer": ["h"] * (n_groups * size), "unit": np.arange(n_groups * size)})
    g = activation_graph(CoactivationStats.from_binary(fired, neurons=neurons))
    membership = np.repeat(np.arange(n_groups), size)[g.nodes["unit"].to_numpy()]
    return g, membership


def _rgb(c: dict) -> tuple[int, int, int]:
    return int(c["r"]), int(c["g"]), int(c["b"])


def test_palette_is_tab20_dark_hues_then_light():
    from matplotlib import colormaps

    tab20 = [tuple(int(round(255 * x)) for x in rgb) for rgb in colormaps["tab20"].colors]
    assert list(PALETTE) == tab20[0::2] + tab20[1::2]
    assert community_color(0) == PALETTE[0] and community_color(23) == PALETTE[3] and community_color(-1) == PALETTE[19]
    assert community_color_hex(0) == "#1f77b4" and layer_color(4) == community_color(4)
    with pytest.raises(OptionError, match="k must be an integer"):
        community_color(1.5)


def test_community_k_has_one_colour_in_gexf_graphml_timeline_and_figure(tmp_path):
    g, membership = _graph()
    want = {int(k): community_color(int(k)) for k in np.unique(membership)}
    ids = [f"{layer}:{int(unit)}" for layer, unit in zip(g.nodes["layer"], g.nodes["unit"])]

    static = nx.read_gexf(export_gexf(g, tmp_path / "g.gexf", partition=membership))
    graphml = nx.read_graphml(export_graphml(g, tmp_path / "g.graphml", partition=membership))
    timeline = nx.read_gexf(export_dynamic_gexf([g, g], tmp_path / "t.gexf", times=[0, 1],
                                                partitions=[membership, membership]))
    by_label = {d["label"]: d for _, d in static.nodes(data=True)}
    by_label_ml = {d["label"]: d for _, d in graphml.nodes(data=True)}
    for nid, k in zip(ids, membership):
        assert _rgb(by_label[nid]["viz"]["color"]) == want[int(k)]
        assert _rgb(by_label_ml[nid]) == want[int(k)]
        assert _rgb(timeline.nodes[nid]["viz"]["color"]) == want[int(k)]

    w = np.eye(len(ids))
    fig = plot_coactivation(w, membership, labels=g.nodes["layer"])
    strips = {ax.get_label(): ax for ax in fig.axes[0].child_axes}
    shown = strips["community"].images[0].get_array()[:, 0, :]  # one RGB row per node, in drawing order
    order = np.lexsort((np.arange(len(ids)), membership))
    assert [tuple(int(x) for x in rgb) for rgb in shown] == [want[int(k)] for k in membership[order]]
    layer_rgb = strips["layer"].images[0].get_array()[:, 0, :]
    assert {tuple(int(x) for x in rgb) for rgb in layer_rgb} == {layer_color(0)}


def test_plot_labels_must_match_the_matrix():
    from neurograph.errors import GraphError

    with pytest.raises(GraphError, match="labels"):
        plot_coactivation(np.eye(3), np.array([0, 0, 1]), labels=pd.Series(["a", "b"]))
