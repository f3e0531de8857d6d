"""Export graphs to Gephi: GEXF and GraphML files that open as a picture (positions, colours, sizes).

Both writers go through the networkx writers after the graph has been copied into a
sanitised :class:`networkx.Graph`, and write the file whole or not at all (temporary file
in the same folder, then rename). The head of the GEXF file is then rewritten
(networkx's is rejected by the GEXF schema): the XML Schema instance namespace is
``http://www.w3.org/2001/XMLSchema-instance``, ``xsi:schemaLocation`` names
``http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd``, the ``<graph>`` element has no
``name`` attribute (not in the schema; the name goes to ``<meta><description>``) and
``<meta><creator>`` names neurograph. The files validate against the official GEXF 1.3
schema (XSD and RelaxNG, from github.com/gephi/gexf; the tests check it).

Node attributes written
-----------------------
- those of the input graph (for an ActivationGraph: ``neuron``, ``layer``, ``unit``,
  ``fire_prob``);
- the columns of ``node_table`` (they override graph attributes of the same name);
- ``community`` (int) from ``partition`` (overrides a ``community`` column);
- ``label``: ``"<layer>:<unit>"`` when the node has both, else the node id (a ``label``
  attribute or column is kept as given);
- position, colour and size: in GEXF ``viz:position`` (``x``, ``y``), ``viz:color`` and
  ``viz:size``; in GraphML the attributes ``x``, ``y`` (floats), ``r``, ``g``, ``b`` (ints
  0-255) and ``size``, which Gephi's GraphML importer reads (not written, with a logged
  warning, when the nodes already have attributes of those names).

  - Positions are :func:`neurograph.io.layout.graph_layout` ``(graph, seed=seed)`` (the
    same positions as the report's interactive view and figures), or the ``positions``
    given. A graph whose weights the layout cannot use (not positive, non-numeric), or a
    multigraph, is laid out with those weights replaced (non-positive: 0.001,
    non-numeric: 1; parallel edges summed).
  - Nodes are coloured by ``community`` (from the partition, or a ``community``
    attribute), else by ``layer``, from :mod:`neurograph.io.palette` (community ``k`` gets
    :func:`~neurograph.io.palette.community_color` ``(k)``, the same colour as in the
    timeline GEXF and the figures; layers get :func:`~neurograph.io.palette.layer_color`
    in order of first appearance).
  - Size is by **degree** (number of edges at the node, self-loops excluded):
    ``5 + 15 * degree / max_degree`` (10 for every node of a graph without edges), so hubs
    stand out; the ``degree`` is also written as a node attribute (unless the graph or
    table already has one) for Gephi's ranking panel.

Edges keep their attributes; ``weight`` is written as a float.

How ``node_table`` is matched to nodes
--------------------------------------
1. If it has a ``neuron`` column, or otherwise an index named ``neuron`` (as returned by
   :func:`neurograph.entropy.neuron_entropy`), row ``r`` goes to the node whose ``neuron``
   attribute equals ``r``'s neuron; nodes with no row get no table attributes (e.g. the
   whole-model entropy table onto a graph without its dead neurons). ``neuron`` values must
   be unique and every node must have a ``neuron`` attribute.
2. Otherwise it must have exactly one row per node, in node order (``list(G.nodes)``).

Sanitising (so that the file is valid XML 1.0 and reads back with the same values)
----------------------------------------------------------------------------------
- numpy scalars become Python ``int`` / ``float`` / ``bool``; other non-scalar values
  (lists, dicts, arrays) become their ``str``;
- a missing value (``None``, NaN, ``pd.NA``, NaT) or a non-finite float (``inf``, which
  Gephi cannot parse) drops that attribute for that node or edge, in both formats;
- one attribute holds one type across all nodes (edges): ints mixed with floats become
  floats, anything mixed with strings becomes strings;
- in strings, attribute names and node ids, characters illegal in XML 1.0 (control
  characters other than tab, newline and carriage return; lone surrogates; U+FFFE, U+FFFF)
  are removed, and carriage returns (``\\r\\n`` or ``\\r``) become ``\\n``, as any XML
  parser would normalise them. Markup characters (``< > & " '``) and non-ASCII text are
  kept and escaped by the writer;
- node ids stay ``int`` when they are integers, else become sanitised strings; node
  attributes named ``id``, ``pid``, ``start``, ``end``, ``parents``, ``spells`` or
  ``slices`` (which GEXF gives another meaning) are refused with :class:`GraphError`; an
  input ``viz`` attribute is replaced.
"""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import os
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from .._validate import check_choice, check_output_file
from ..errors import GraphError
from .atomic import atomic_path
from .names import xml_text
from .palette import community_color, layer_color

__all__ = ["export_gexf", "export_graphml"]

GEXF_VERSIONS = ("1.1draft", "1.2draft", "1.3")
_RESERVED_NODE_ATTRS = frozenset({"id", "pid", "start", "end", "parents", "spells", "slices"})
_DEFAULT_SIZE = 10.0

logger = logging.getLogger(__name__)


def export_gexf(graph, path: str | os.PathLike, partition=None, node_table: pd.DataFrame | None = None,
                *, version: str = "1.3", positions: np.ndarray | None = None, seed: int = 0) -> Path:
    """Write ``graph`` as a GEXF file for Gephi, with communities as node colours.

    Parameters
    ----------
    graph : ActivationGraph or networkx.Graph
        Anything with a ``to_networkx()`` method (an ActivationGraph) or a networkx graph
        (any of the four kinds) with ``n`` nodes.
    path : str or os.PathLike
        File to write; its folder must exist. Written whole or not at all.
    partition : Partition or array-like of int, shape (n,), optional
        Community id of each node in node order (``Partition.membership`` is used).
    node_table : pandas.DataFrame, optional
        Extra node attributes, matched to nodes as described in the module docstring
        (by ``neuron``, or one row per node in node order).
    version : {"1.3", "1.2draft", "1.1draft"}
        GEXF version; ``"1.3"`` declares the ``http://gexf.net/1.3`` namespace.
    positions : numpy.ndarray, shape (n, 2), optional
        Node positions in node order; default :func:`~neurograph.io.layout.graph_layout`
        ``(graph, seed=seed)``.
    seed : int
        Seed of the layout (ignored with ``positions``).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    GraphError
        If ``graph`` is not a graph, ``partition`` or ``node_table`` does not match its
        nodes, or an attribute name is reserved by GEXF.
    OptionError
        If ``version`` is not a GEXF version networkx writes.
    OSError
        If ``path`` cannot be written, with a one-line message naming it:
        ``FileNotFoundError`` (its folder does not exist), ``IsADirectoryError`` (it is a
        folder), ``NotADirectoryError`` (its folder is a file), ``PermissionError``.
        Nothing is written then, and no temporary file is left.

    Examples
    --------
    >>> import os, tempfile, networkx as nx
    >>> G = nx.Graph([(0, 1, {"weight": 0.5}), (1, 2, {"weight": 2.0})])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = export_gexf(G, os.path.join(tmp, "g.gexf"), partition=[0, 0, 1])
    ...     H = nx.read_gexf(p, node_type=int)
    >>> H.nodes[2]["community"], H.edges[1, 2]["weight"]
    (1, 2.0)
    """
    check_choice("version", version, GEXF_VERSIONS)
    path = check_output_file(path)
    with _writing(path) as tmp:
        H = _prepared(graph, partition, node_table, fmt="gexf", positions=positions, seed=seed)
        _write_gexf(H, tmp, version=version)
    return path


def export_graphml(graph, path: str | os.PathLike, partition=None,
                   node_table: pd.DataFrame | None = None, *, positions: np.ndarray | None = None,
                   seed: int = 0) -> Path:
    """Write ``graph`` as a GraphML file, with communities and Gephi colour attributes.

    Parameters
    ----------
    graph : ActivationGraph or networkx.Graph
        Anything with a ``to_networkx()`` method (an ActivationGraph) or a networkx graph
        with ``n`` nodes.
    path : str or os.PathLike
        File to write; its folder must exist. Written whole or not at all.
    partition : Partition or array-like of int, shape (n,), optional
        Community id of each node in node order (``Partition.membership`` is used).
    node_table : pandas.DataFrame, optional
        Extra node attributes, matched as described in the module docstring.
    positions : numpy.ndarray, shape (n, 2), optional
        Node positions (attributes ``x``, ``y``); default
        :func:`~neurograph.io.layout.graph_layout` ``(graph, seed=seed)``.
    seed : int
        Seed of the layout (ignored with ``positions``).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    GraphError
        If ``graph`` is not a graph, or ``partition`` or ``node_table`` does not match its nodes.
    OSError
        If ``path`` cannot be written (as for :func:`export_gexf`); the message names it.

    Examples
    --------
    >>> import os, tempfile, networkx as nx
    >>> G = nx.Graph([(0, 1, {"weight": 0.5})])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = export_graphml(G, os.path.join(tmp, "g.graphml"), partition=[0, 1])
    ...     H = nx.read_graphml(p, node_type=int)
    >>> H.nodes[1]["community"], H.edges[0, 1]["weight"]
    (1, 0.5)
    """
    path = check_output_file(path)
    with _writing(path) as tmp:
        H = _prepared(graph, partition, node_table, fmt="graphml", positions=positions, seed=seed)
        nx.write_graphml(H, tmp)
    return path


# ---------------------------------------------------------------------- helpers
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _write_gexf(G: nx.Graph, path, *, version: str = "1.3", description: str = "") -> None:
    """Write ``G`` with :func:`networkx.write_gexf`, then set its header right for the GEXF schema.

    Not public (no ``__all__`` entry): shared with :mod:`neurograph.io.timeline`. In
    networkx's file only the head is rewritten: the ``<gexf>`` start tag gets the XML Schema
    instance namespace ``http://www.w3.org/2001/XMLSchema-instance`` (networkx writes
    ``http://w3.org/...``) and ``xsi:schemaLocation="<ns> <ns>/gexf.xsd"``; the ``<graph>``
    start tag loses its ``name`` attribute (the schema has none; the name, or
    ``description``, goes to ``<meta><description>``); ``<meta><creator>`` names neurograph.
    """
    from xml.sax.saxutils import escape, unescape

    from .. import __version__

    nx.write_gexf(G, path, version=version)
    text = Path(path).read_text(encoding="utf-8")
    root = re.search(r"<gexf\b[^>]*>", text)
    ns = re.search(r'\sxmlns="([^"]*)"', root.group(0)).group(1)
    ver = re.search(r'\sversion="([^"]*)"', root.group(0)).group(1)
    head = (f'<gexf xmlns="{ns}" xmlns:viz="{ns}/viz" xmlns:xsi="{_XSI}" '
            f'xsi:schemaLocation="{ns} {ns}/gexf.xsd" version="{ver}">')
    graph = re.compile(r"<graph\b[^>]*>").search(text, root.end())
    name_attr = re.search(r'\sname="([^"]*)"', graph.group(0))
    name = unescape(name_attr.group(1), {"&quot;": '"'}) if name_attr else ""
    graph_tag = graph.group(0).replace(name_attr.group(0), "", 1) if name_attr else graph.group(0)
    meta = text[root.end():graph.start()]
    desc = _clean_text(str(description or name or ""))
    creator = f"<creator>neurograph {__version__} (networkx {nx.__version__})</creator>"
    if desc:
        creator += f"\n    <description>{escape(desc)}</description>"
    meta = re.sub(r"<creator>[^<]*</creator>", lambda _: creator, meta, count=1)
    text = text[:root.start()] + head + meta + graph_tag + text[graph.end():]
    Path(path).write_text(text, encoding="utf-8")


@contextlib.contextmanager
def _writing(path: Path):
    """:func:`atomic_path` (whose OS errors, disk full and the like, name ``path``, not the temporary file)."""
    with atomic_path(path) as tmp:
        yield tmp


def _prepared(graph, partition, node_table, *, fmt: str, positions=None, seed: int = 0) -> nx.Graph:
    """A fresh networkx graph of the same kind with sanitised, annotated attributes."""
    G = _as_networkx(graph)
    nodes = list(G.nodes)
    n = len(nodes)
    membership = _membership(partition, n)
    table_rows = _table_rows(node_table, G, nodes)
    pos = _positions(graph, G, positions, seed)
    degree = [int(G.degree(v)) - 2 * int(G.number_of_edges(v, v)) for v in nodes]

    ids = [_clean_id(v) for v in nodes]
    if len(set(ids)) != n:
        raise GraphError("graph has node ids that coincide once made XML-safe "
                         "(characters illegal in XML 1.0 removed); relabel the nodes")
    new_id = dict(zip(nodes, ids))

    node_attrs = []
    for i, v in enumerate(nodes):
        attrs = {k: val for k, val in G.nodes[v].items() if k != "viz"}
        attrs.update(table_rows[i])
        if membership is not None:
            attrs["community"] = int(membership[i])
        node_attrs.append(_clean_attrs(attrs))
    node_attrs = _unify_types(node_attrs)
    for attrs in node_attrs:
        bad = sorted(_RESERVED_NODE_ATTRS.intersection(attrs))
        if bad:
            raise GraphError(f"node attribute names {bad} are reserved by GEXF; rename them in "
                             f"the graph or node_table")
    _add_labels(node_attrs, ids)
    if not any("degree" in a for a in node_attrs):
        for attrs, d in zip(node_attrs, degree):
            attrs["degree"] = d
    _add_viz(node_attrs, fmt=fmt, positions=pos, degree=degree)

    H = _empty_like(G)
    H.graph.update(_graph_attrs(G.graph))
    for v, attrs in zip(ids, node_attrs):
        H.add_node(v, **attrs)
    if G.is_multigraph():
        edges = list(G.edges(keys=True, data=True))
        edge_attrs = _unify_types([_clean_attrs(d) for *_, d in edges])
        for (u, v, key, _), attrs in zip(edges, edge_attrs):
            H.add_edge(new_id[u], new_id[v], key=key, **attrs)
    else:
        edges = list(G.edges(data=True))
        edge_attrs = _unify_types([_clean_attrs(d) for *_, d in edges])
        for (u, v, _), attrs in zip(edges, edge_attrs):
            H.add_edge(new_id[u], new_id[v], **attrs)
    return H


def _as_networkx(graph) -> nx.Graph:
    if isinstance(graph, nx.Graph):
        return graph
    to_nx = getattr(graph, "to_networkx", None)
    if callable(to_nx):
        G = to_nx()
        if isinstance(G, nx.Graph):
            return G
    raise GraphError(f"graph must be an ActivationGraph or a networkx.Graph, got {type(graph).__name__}")


def _empty_like(G: nx.Graph) -> nx.Graph:
    if G.is_multigraph():
        return nx.MultiDiGraph() if G.is_directed() else nx.MultiGraph()
    return nx.DiGraph() if G.is_directed() else nx.Graph()


def _membership(partition, n: int) -> np.ndarray | None:
    if partition is None:
        return None
    m = np.asarray(getattr(partition, "membership", partition))
    if m.ndim != 1 or m.shape[0] != n:
        raise GraphError(f"partition has shape {m.shape} but the graph has {n} nodes; "
                         f"give one community id per node, in node order")
    if m.dtype.kind not in "iu":
        if m.dtype.kind != "f" or not np.all(np.isfinite(m)) or not np.all(m == np.round(m)):
            raise GraphError(f"partition must hold integer community ids, got dtype {m.dtype}")
    return m.astype(np.int64)


def _table_rows(node_table, G: nx.Graph, nodes: list) -> list[dict]:
    """Per node (in node order), the dict of node_table values that belong to it."""
    n = len(nodes)
    if node_table is None:
        return [{} for _ in range(n)]
    if not isinstance(node_table, pd.DataFrame):
        raise GraphError(f"node_table must be a pandas DataFrame, got {type(node_table).__name__}")
    table = node_table
    if "neuron" not in table.columns and table.index.name == "neuron":
        table = table.reset_index()
    records = table.to_dict("records")
    if "neuron" not in table.columns:
        if len(table) != n:
            raise GraphError(f"node_table has {len(table)} rows but the graph has {n} nodes; give one "
                             f"row per node in node order, or a 'neuron' column to join on")
        return [{str(k): v for k, v in r.items()} for r in records]
    missing = [v for v in nodes if "neuron" not in G.nodes[v]]
    if missing:
        raise GraphError(f"node_table has a 'neuron' column to join on, but {len(missing)} graph "
                         f"nodes (e.g. {missing[0]!r}) have no 'neuron' attribute")
    keys = [_join_key(r["neuron"]) for r in records]
    if len(set(keys)) != len(keys):
        raise GraphError("node_table has repeated 'neuron' values; give one row per neuron")
    by_neuron = dict(zip(keys, records))
    rows = []
    for v in nodes:
        r = by_neuron.get(_join_key(G.nodes[v]["neuron"]), {})
        rows.append({str(k): val for k, val in r.items() if k != "neuron"})
    return rows


def _join_key(value):
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return value


def _clean_text(s: str) -> str:
    return xml_text(s)


def _clean_id(v):
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (numbers.Integral, np.integer)):
        return int(v)
    return _clean_text(v if isinstance(v, str) else str(v))


def _clean_value(v):
    """A Python bool / int / float / str for the writers, or None to drop the attribute."""
    if isinstance(v, (list, tuple, dict, set, frozenset, np.ndarray)):
        return _clean_text(str(v))
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (numbers.Integral, np.integer)):
        return int(v)
    if isinstance(v, (numbers.Real, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    return _clean_text(v if isinstance(v, str) else str(v))


def _clean_attrs(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        val = _clean_value(v)
        if val is not None:
            out[_clean_text(str(k))] = val
    return out


def _unify_types(rows: list[dict]) -> list[dict]:
    """Give each attribute one Python type across all rows (in place; returns ``rows``)."""
    kinds: dict[str, set] = {}
    for r in rows:
        for k, v in r.items():
            kinds.setdefault(k, set()).add(type(v))
    for k, ts in kinds.items():
        if len(ts) == 1:
            continue
        if ts <= {bool, int}:
            cast = int
        elif ts <= {bool, int, float}:
            cast = float
        else:
            cast = str
        for r in rows:
            if k in r:
                r[k] = cast(r[k])
    return rows


def _add_labels(node_attrs: list[dict], ids: list) -> None:
    for attrs, v in zip(node_attrs, ids):
        if "label" in attrs:
            attrs["label"] = str(attrs["label"])
        elif "layer" in attrs and "unit" in attrs:
            attrs["label"] = f"{attrs['layer']}:{attrs['unit']}"
        else:
            attrs["label"] = str(v)


def _node_size(degree) -> np.ndarray:
    """Gephi node size by degree: ``5 + 15 * degree / max(degree)`` (all 10 without edges)."""
    d = np.asarray(degree, dtype=float)
    top = float(d.max()) if d.size else 0.0
    return 5.0 + 15.0 * d / top if top > 0 else np.full(d.shape, _DEFAULT_SIZE)


def _positions(graph, G: nx.Graph, positions, seed) -> np.ndarray:
    """(n, 2) node positions: given, or :func:`graph_layout` of the graph (weights made usable)."""
    from .layout import graph_layout

    n = G.number_of_nodes()
    if positions is not None:
        pos = np.asarray(positions, dtype=float)
        if pos.shape != (n, 2) or not np.isfinite(pos).all():
            raise GraphError(f"positions must be a finite (n_nodes, 2) = ({n}, 2) array, got shape {pos.shape}")
        return pos
    if not G.is_multigraph():
        import igraph

        try:
            return graph_layout(graph, seed=seed)
        except (GraphError, igraph.InternalError):  # weights it refuses (<= 0, non-numeric): sanitise them
            pass
    H = nx.Graph()
    H.add_nodes_from(range(n))
    index = {v: i for i, v in enumerate(G.nodes)}
    for u, v, d in G.edges(data=True):
        w = d.get("weight", 1.0)
        try:
            w = float(w)
        except (TypeError, ValueError):
            w = 1.0
        w = w if math.isfinite(w) and w > 0 else 1e-3  # Fruchterman-Reingold needs positive weights
        a, b = index[u], index[v]
        if H.has_edge(a, b):
            H.edges[a, b]["weight"] += w
        else:
            H.add_edge(a, b, weight=w)
    return graph_layout(H, seed=seed)


def _add_viz(node_attrs: list[dict], *, fmt: str, positions: np.ndarray, degree: list[int]) -> None:
    if any("community" in a for a in node_attrs):
        key = "community"
    elif any("layer" in a for a in node_attrs):
        key = "layer"
    else:
        key = None
    names = set().union(*node_attrs) if node_attrs else set()
    taken_rgb = fmt != "gexf" and bool(names & {"r", "g", "b"})
    taken_size = fmt != "gexf" and "size" in names
    taken_xy = fmt != "gexf" and bool(names & {"x", "y"})
    if taken_rgb or taken_size or taken_xy:
        logger.warning("nodes already have attributes named %s; GraphML position/colour/size attributes "
                       "of that name are not written", sorted(names & {"r", "g", "b", "size", "x", "y"}))
    order: dict = {}
    sizes = _node_size(degree)
    for attrs, size, (x, y) in zip(node_attrs, sizes, positions):
        group = attrs.get(key) if key is not None else None
        if key == "community" and isinstance(group, int):
            r, g, b = community_color(group)
        else:
            r, g, b = layer_color(order.setdefault(group, len(order)))
        size = round(float(size), 4)
        x, y = round(float(x), 4), round(float(y), 4)
        if fmt == "gexf":
            attrs["viz"] = {"color": {"r": r, "g": g, "b": b, "a": 1.0}, "size": size,
                            "position": {"x": x, "y": y, "z": 0.0}}
        else:
            if not taken_rgb:
                attrs.update(r=r, g=g, b=b)
            if not taken_size:
                attrs["size"] = size
            if not taken_xy:
                attrs.update(x=x, y=y)


def _graph_attrs(graph_attrs: dict) -> dict:
    """Scalar graph attributes, sanitised; those the GEXF writer interprets are left out."""
    out = {}
    for k, v in graph_attrs.items():
        if k in ("mode", "node_default", "edge_default"):
            continue
        if isinstance(v, (list, tuple, dict, set, frozenset, np.ndarray)):
            continue
        val = _clean_value(v)
        if val is not None:
            out[_clean_text(str(k))] = str(val) if k == "name" else val
    return out
