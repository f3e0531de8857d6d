"""Node positions of a graph, computed once in Python and shared by every view of it.

The GEXF / GraphML files (Gephi opens them as a picture, not a hairball), the report's interactive
graph view and the static figures all draw a graph at the positions :func:`graph_layout` returns,
so a node sits at the same place everywhere. The layout is igraph's force-directed
Fruchterman-Reingold (edge weights pull harder), or its DrL for graphs of more than
``large`` nodes, seeded: the same graph and seed give the same positions.
"""

from __future__ import annotations

import numpy as np

from .._seed import as_int_seed
from .._validate import check_choice, check_int
from ..errors import GraphError
from ..graph.nulls import igraph_seeded

__all__ = ["LAYOUTS", "graph_layout"]

LAYOUTS = ("auto", "fr", "drl", "circle")


def graph_layout(graph, *, method: str = "auto", seed: int = 0, scale: float = 1000.0,
                 large: int = 3000) -> np.ndarray:
    """Positions of the nodes of ``graph``, shape (n_nodes, 2), centred, within ``[-scale, scale]``.

    Parameters
    ----------
    graph : ActivationGraph, igraph.Graph or networkx.Graph
        Edge attribute ``weight`` (non-negative) pulls connected nodes together.
    method : {"auto", "fr", "drl", "circle"}
        ``"fr"`` Fruchterman-Reingold, ``"drl"`` igraph's DrL (large graphs), ``"circle"`` nodes on
        a circle in order; ``"auto"``: FR up to ``large`` nodes, DrL above.
    seed : int
        Seed of the initial positions.
    scale : float
        Half the width of the square the positions fill (Gephi's units).
    large : int
        Node count above which ``"auto"`` uses DrL.

    Returns
    -------
    numpy.ndarray of float64, shape (n_nodes, 2)

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.path_graph(4)
    >>> pos = graph_layout(g, seed=0)
    >>> pos.shape, bool(np.abs(pos).max() <= 1000.0), np.array_equal(pos, graph_layout(g, seed=0))
    ((4, 2), True, True)
    """
    check_choice("method", method, LAYOUTS)
    check_int("large", large, min=1)
    ig = _as_igraph(graph)
    n = ig.vcount()
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.zeros((1, 2))
    if method == "auto":
        method = "fr" if n <= large else "drl"
    weights = ig.es["weight"] if "weight" in ig.es.attributes() and ig.ecount() else None
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if not np.isfinite(w).all() or (w < 0).any():
            raise GraphError("layout needs finite, non-negative edge weights")
        # igraph's force layout needs positive weights: a zero-weight edge pulls (almost) nothing
        weights = list(np.maximum(w / w.max(), 1e-6)) if w.size and w.max() > 0 else None
    seed = as_int_seed(seed)
    rng = np.random.default_rng(seed)
    if method == "circle":
        angle = 2 * np.pi * np.arange(n) / n
        pos = np.c_[np.cos(angle), np.sin(angle)]
    elif method == "drl":
        seed_pos = rng.uniform(-1, 1, size=(n, 2)).tolist()
        with igraph_seeded(seed):  # igraph draws from its own generator too
            pos = np.asarray(ig.layout_drl(weights=weights, seed=seed_pos).coords, dtype=float)
    else:
        seed_pos = rng.uniform(-1, 1, size=(n, 2)).tolist()
        with igraph_seeded(seed):
            pos = np.asarray(ig.layout_fruchterman_reingold(weights=weights, seed=seed_pos, niter=500).coords,
                             dtype=float)
    pos = pos - pos.mean(axis=0)
    span = np.abs(pos).max()
    return pos * (scale / span) if span > 0 else pos


def _as_igraph(graph):
    import igraph as ig

    if isinstance(graph, ig.Graph):
        return graph
    if hasattr(graph, "to_igraph"):
        return graph.to_igraph()
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx is a dependency
        nx = None
    if nx is not None and isinstance(graph, nx.Graph):
        nodes = list(graph.nodes)
        index = {v: i for i, v in enumerate(nodes)}
        g = ig.Graph(n=len(nodes), edges=[(index[a], index[b]) for a, b in graph.edges])
        g.es["weight"] = [float(d.get("weight", 1.0)) for _, _, d in graph.edges(data=True)]
        return g
    raise GraphError(f"graph must be an ActivationGraph, igraph.Graph or networkx.Graph, got {type(graph).__name__}")
