"""The report's interactive graph view: graph data for the page, sparsified, and the vendored viewer bundle.

:func:`graph_view` turns a co-activation graph (read back from the ``NAME.gexf`` file that
:func:`neurograph.scoring.write_analysis` writes beside the report) into the JSON the viewer
draws: every node with its layer, unit, firing probability, entropy, mutual information and
community, coloured by :func:`~neurograph.io.palette.community_color_hex`, placed by
:func:`~neurograph.io.layout.graph_layout` (computed on the full graph, so nodes sit where Gephi
puts them), and only the edges :func:`sparsify_top_k` keeps: a node keeps its ``k`` heaviest
edges (default 10), an edge stays when it is among the top ``k`` of either end.
:func:`script_json` serialises it for an inline ``<script type="application/json">``.
:func:`viewer_js` is the bundled sigma.js + graphology viewer (``dist/viewer.min.js``, built by
``build.sh``; see docs/development.md), inlined into the page: nothing is fetched at view time.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import numpy as np

from ..._validate import check_choice, check_int
from ...errors import GraphError
from ..layout import graph_layout
from ..palette import community_color_hex, layer_color

__all__ = ["DEFAULT_TOP_K", "graph_view", "read_graph_view", "script_json", "sparsify_top_k", "viewer_js"]

#: Edges each node keeps for display (see :func:`sparsify_top_k`).
DEFAULT_TOP_K = 10

_NODE_FIELDS = ("layer", "unit", "fire_prob", "entropy", "mutual_info", "community")
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def sparsify_top_k(edges_ex2: np.ndarray, weights_e: np.ndarray, n_nodes: int, k: int = DEFAULT_TOP_K
                   ) -> np.ndarray:
    """Boolean mask of the edges to draw: each edge among the ``k`` heaviest of either end node.

    Every node with an edge keeps at least one; a node of degree <= ``k`` keeps all of its
    edges. Ties are broken by edge order.

    Parameters
    ----------
    edges_ex2 : array of int, shape (n_edges, 2)
        Undirected edges as node indices in ``[0, n_nodes)``.
    weights_e : array of float, shape (n_edges,)
    n_nodes : int
    k : int
        Edges kept per node (>= 1).

    Returns
    -------
    numpy.ndarray of bool, shape (n_edges,)

    Examples
    --------
    >>> e = np.array([[0, 1], [0, 2], [0, 3], [1, 2]])
    >>> sparsify_top_k(e, np.array([3.0, 2.0, 1.0, 0.5]), 4, k=1).tolist()
    [True, True, True, False]
    """
    k = check_int("k", k, min=1)
    e = np.asarray(edges_ex2, dtype=np.int64).reshape(-1, 2)
    w = np.asarray(weights_e, dtype=float).reshape(-1)
    if len(w) != len(e):
        raise GraphError(f"{len(e)} edges but {len(w)} weights")
    if len(e) and (e.min() < 0 or e.max() >= n_nodes):
        bad = int(e[(e < 0) | (e >= n_nodes)][0])
        raise GraphError(f"an edge names node {bad}, outside [0, n_nodes = {n_nodes})")
    if not np.isfinite(w).all():
        raise GraphError(f"edge weights must be finite, got {w[~np.isfinite(w)][0]!r}")
    keep = np.zeros(len(e), dtype=bool)
    if not len(e):
        return keep
    ends = np.r_[e[:, 0], e[:, 1]]
    idx = np.r_[np.arange(len(e)), np.arange(len(e))]
    order = np.lexsort((idx, -np.r_[w, w], ends))          # by node, then heaviest first, then edge order
    ends_sorted = ends[order]
    first = np.searchsorted(ends_sorted, ends_sorted, side="left")
    rank = np.arange(len(order)) - first
    keep[idx[order][rank < k]] = True
    return keep


def graph_view(graph, *, name: str, k: int = DEFAULT_TOP_K, size_by: str = "degree", seed: int = 0,
               download: str | None = None) -> dict:
    """The viewer's data for a networkx graph with neurograph node attributes.

    Node attributes used (when present): ``layer``, ``unit``, ``fire_prob``, ``entropy``,
    ``mutual_info``, ``community``, ``label``. Edge attribute ``weight`` (default 1).

    Returns
    -------
    dict
        ``name``, ``nodes`` (list of dicts with ``label``, those fields, ``degree`` in the full
        graph, ``x``, ``y``, ``color``), ``edges`` (``[i, j, weight]`` kept by
        :func:`sparsify_top_k`), ``n_nodes``, ``n_edges_total``, ``n_edges_shown``, ``k``,
        ``size_by``, ``layers``, ``communities``, ``download``.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.complete_graph(13)
    >>> nx.set_node_attributes(g, {v: {"layer": "fc", "unit": v, "community": v % 2} for v in g})
    >>> v = graph_view(g, name="toy", k=2)
    >>> v["n_nodes"], v["n_edges_total"], v["n_edges_shown"] < 78, v["nodes"][1]["color"]
    (13, 78, True, '#ff7f0e')
    """
    check_choice("size_by", size_by, ("degree", "entropy"))
    nodes = list(graph.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    edges = np.array([(index[a], index[b]) for a, b in graph.edges()], dtype=np.int64).reshape(-1, 2)
    weights = np.array([float(d.get("weight", 1.0)) for *_, d in graph.edges(data=True)])
    pos = graph_layout(_layout_graph(len(nodes), edges, weights), seed=seed) if nodes else np.zeros((0, 2))
    layers = []
    for v in nodes:
        layer = str(graph.nodes[v].get("layer", ""))
        if layer not in layers:
            layers.append(layer)
    rows = []
    for i, v in enumerate(nodes):
        a = graph.nodes[v]
        row = {"label": str(a.get("label", v))}
        for f in _NODE_FIELDS:
            row[f] = _plain(a.get(f))
        row["layer"] = str(a.get("layer", ""))
        row["degree"] = int(graph.degree(v))
        row["x"], row["y"] = round(float(pos[i, 0]), 2), round(float(pos[i, 1]), 2)
        c = row["community"]
        row["color"] = (community_color_hex(int(c)) if isinstance(c, (int, float)) and math.isfinite(c)
                        else "#{:02x}{:02x}{:02x}".format(*layer_color(layers.index(row["layer"]))))
        rows.append(row)
    keep = sparsify_top_k(edges, weights, len(nodes), k)
    shown = [[int(a), int(b), round(float(w), 5)] for (a, b), w in zip(edges[keep], weights[keep])]
    communities = sorted({r["community"] for r in rows if isinstance(r["community"], int)})
    return {"name": name, "nodes": rows, "edges": shown, "n_nodes": len(rows), "n_edges_total": int(len(edges)),
            "n_edges_shown": len(shown), "k": k, "size_by": size_by, "layers": layers,
            "communities": [{"id": c, "color": community_color_hex(c),
                             "size": sum(r["community"] == c for r in rows)} for c in communities],
            "download": download}


def read_graph_view(path: str | Path, *, k: int = DEFAULT_TOP_K, size_by: str = "degree", seed: int = 0) -> dict:
    """:func:`graph_view` of a static GEXF file (as written by :func:`neurograph.io.export_gexf`).

    The view's ``name`` is the file's stem and ``download`` the file's name (the page links
    the file beside it).
    """
    import networkx as nx

    path = Path(path)
    graph = nx.read_gexf(path)
    if graph.is_directed():
        graph = graph.to_undirected()
    return graph_view(graph, name=path.stem, k=k, size_by=size_by, seed=seed, download=path.name)


def script_json(obj) -> str:
    """JSON text safe inside an HTML ``<script>`` element: ``<``, ``>``, ``&``, U+2028 and U+2029 escaped.

    NaN and infinities become ``null`` (JSON has none).

    Examples
    --------
    >>> script_json({"layer": "</script><b>&"})
    '{"layer":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    >>> script_json([float("nan")])
    '[null]'
    """
    text = json.dumps(_finite(obj), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for ch, rep in _ESCAPES.items():
        text = text.replace(ch, rep)
    return text


def viewer_js() -> str:
    """The bundled viewer (``dist/viewer.min.js``: sigma.js, graphology and neurograph's glue, MIT licences kept)."""
    text = resources.files(__name__).joinpath("dist", "viewer.min.js").read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")


def _layout_graph(n: int, edges: np.ndarray, weights: np.ndarray):
    """igraph graph for :func:`graph_layout`: zero or missing weights lifted to a tiny positive pull (FR needs > 0)."""
    import igraph as ig

    g = ig.Graph(n=n, edges=edges.tolist())
    w = np.nan_to_num(np.abs(weights), nan=0.0, posinf=0.0)
    g.es["weight"] = list(np.maximum(w, 1e-6 * (w.max() if w.size and w.max() > 0 else 1.0)))
    return g


def _plain(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    return None if v is None else str(v)


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
