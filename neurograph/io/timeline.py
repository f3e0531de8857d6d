"""Dynamic GEXF: the activation graph of one model along its training checkpoints, for Gephi's timeline.

:func:`export_dynamic_gexf` writes one GEXF file holding several snapshots of the
same network's activation graph (e.g. after 0, 1, 5 and 30 epochs). In Gephi
(File > Open, then Window > Timeline) the slider shows neurons and edges appear
and disappear and communities form; the file opens as a picture (positions, colours
and sizes are in it), and it validates against the official GEXF 1.3 schema.

Encoding (GEXF 1.3, ``mode="dynamic"``, ``timeformat="double"``): snapshot ``k`` at
time ``t_k`` covers the closed interval ``[t_k, t_{k+1} - eps]`` with
``eps = 0.001 * min_k (t_{k+1} - t_k)`` (Gephi rejects attribute intervals that
touch), and the last one ``[t_K, t_K + g - eps]`` with ``g`` that smallest gap (1
for a single snapshot).

- Nodes are neurons, with id ``"<layer>:<unit>"`` and static attributes ``layer`` and
  ``unit``. A node exists (``<spells>``) in the snapshots whose graph holds it (neurons
  left out as dead or always-on are absent there). Dynamic attributes (one ``attvalue``
  with ``start``/``end`` per snapshot holding the node): ``community`` (int, matched
  across snapshots, see below), ``snapshot_community`` (int, the id in that snapshot's own
  partition, as in ``neurons.csv``), ``fire_prob`` (float), ``entropy`` (binary firing entropy
  ``h(fire_prob)`` in bits, as :func:`neurograph.neuron_entropy`'s ``entropy``) and
  ``degree`` (int).
- Edges exist (``<spells>``) in the snapshots that hold them; the dynamic attribute
  named after the graph's weight (e.g. ``npmi``; ``weight_t`` if the weight is called
  ``weight``) holds the weight per snapshot interval, and the static ``weight`` is its
  value in the last snapshot holding the edge.
- Community ids are matched across snapshots by :func:`match_communities`: maximum
  overlap between consecutive partitions (Hungarian assignment), so a community keeps
  its id (and colour) while it persists; a community with no counterpart gets a fresh id.
- Layout: every node has one fixed ``viz:position``: :func:`neurograph.io.layout.graph_layout`
  (seed ``seed``) of the **union graph** (all neurons of all snapshots; an edge present
  in several snapshots weighs its mean weight), so nodes that appear late have a place too.
- Colour (``viz:color``): :func:`neurograph.io.palette.community_color` of the node's
  matched community in the last snapshot holding it (the palette of
  :func:`~neurograph.io.export.export_gexf` and the figures); layer colours without
  partitions. Size (``viz:size``): by degree in that snapshot, ``5 + 15 * degree / max``
  (as in the static files).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np

from .._validate import check_choice, check_int, check_output_file
from ..errors import GraphError, OptionError
from ..graph.activation import ActivationGraph
from .atomic import atomic_path
from .export import _node_size, _write_gexf
from .names import xml_text
from .palette import community_color, layer_color

__all__ = ["export_dynamic_gexf", "match_communities", "snapshot_intervals"]

ANCHORS = ("first", "last")


def snapshot_intervals(times: Sequence[float]) -> list[tuple[float, float]]:
    """The closed time interval ``[start, end]`` each snapshot covers (see the module docstring).

    Examples
    --------
    >>> snapshot_intervals([0, 1, 5])
    [(0.0, 0.999), (1.0, 4.999), (5.0, 5.999)]
    """
    try:
        t = np.asarray(times, dtype=float)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"times must be a non-empty 1-D sequence of finite numbers, got {times!r}") from exc
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise OptionError(f"times must be a non-empty 1-D sequence of finite numbers, got {t.tolist()!r}")
    if t.size > 1 and not np.all(np.diff(t) > 0):
        raise OptionError(f"times must be strictly increasing, got {t.tolist()}")
    gap = float(np.diff(t).min()) if t.size > 1 else 1.0
    eps = 1e-3 * gap
    ends = [*(t[1:] - eps), t[-1] + gap - eps]
    return [(float(a), float(round(b, 12))) for a, b in zip(t, ends)]


def match_communities(memberships: Sequence[dict], *, anchor: str = "first") -> list[dict]:
    """Community ids made consistent across snapshots by maximum-overlap matching.

    For each pair of consecutive snapshots, the overlap matrix ``O[i, j]`` = number of
    nodes in community ``i`` of the already matched snapshot and in community ``j`` of
    the next one is built, and :func:`scipy.optimize.linear_sum_assignment` finds the
    one-to-one assignment of maximum total overlap (Hungarian algorithm). Community ``j``
    takes the id of its partner ``i`` when they share at least one node; otherwise (no
    partner, or zero overlap) it gets a fresh id, larger than every id used so far, so
    an id is never reused by an unrelated community. Split: the larger part keeps the
    id; merge: the merged community takes the id of its larger source.

    Parameters
    ----------
    memberships : sequence of dict, length K
        Per snapshot, node key -> community id (any hashable keys, shared across snapshots).
    anchor : {"first", "last"}
        ``"first"``: the first snapshot keeps its ids and matching runs forward in time
        (communities born later get fresh ids). ``"last"``: the last snapshot keeps its ids
        (so the end of the timeline has the colours of the final model's static files)
        and matching runs backward.

    Returns
    -------
    list of dict
        The same keys, with matched ids.

    Examples
    --------
    >>> a = {"x": 0, "y": 0, "z": 1}
    >>> b = {"x": 5, "y": 5, "z": 5, "w": 7}    # 0 and 1 merged into 5; w alone in 7
    >>> match_communities([a, b])[1]
    {'x': 0, 'y': 0, 'z': 0, 'w': 2}
    """
    from scipy.optimize import linear_sum_assignment

    check_choice("anchor", anchor, ANCHORS)
    ms = [dict(m) for m in memberships]
    if not ms:
        return []
    order = list(range(len(ms))) if anchor == "first" else list(range(len(ms) - 1, -1, -1))
    out: list[dict | None] = [None] * len(ms)
    first = ms[order[0]]
    out[order[0]] = {v: int(c) for v, c in first.items()}
    next_id = max(out[order[0]].values(), default=-1) + 1
    prev = out[order[0]]
    for k in order[1:]:
        cur = ms[k]
        old_ids = sorted(set(prev.values()))
        new_ids = sorted({int(c) for c in cur.values()})
        oi = {c: i for i, c in enumerate(old_ids)}
        ni = {c: j for j, c in enumerate(new_ids)}
        overlap = np.zeros((len(old_ids), len(new_ids)), dtype=np.int64)
        for v, c in cur.items():
            if v in prev:
                overlap[oi[prev[v]], ni[int(c)]] += 1
        rename: dict[int, int] = {}
        if overlap.size:
            rows, cols = linear_sum_assignment(overlap, maximize=True)
            for i, j in zip(rows, cols):
                if overlap[i, j] > 0:
                    rename[new_ids[j]] = old_ids[i]
        for c in new_ids:  # unmatched: fresh ids, in order of the raw ids
            if c not in rename:
                rename[c] = next_id
                next_id += 1
        out[k] = {v: rename[int(c)] for v, c in cur.items()}
        prev = out[k]
    return out  # type: ignore[return-value]


def export_dynamic_gexf(graphs: Sequence[ActivationGraph], path: str | os.PathLike, *, times: Sequence[float],
                        partitions: Sequence | None = None, name: str = "", anchor: str = "first",
                        seed: int = 0) -> Path:
    """Write activation graphs of one network at several times as one dynamic GEXF file.

    Parameters
    ----------
    graphs : sequence of ActivationGraph, length K
        Snapshots of the same network (neurons matched by layer and unit), e.g. one per
        training checkpoint.
    path : str or os.PathLike
        File to write (its folder must exist); written whole or not at all.
    times : sequence of float, length K
        Strictly increasing time of each snapshot (e.g. the epoch).
    partitions : sequence of (Partition or array of int (n_nodes_k,) or None), length K, optional
        Communities of each snapshot's nodes; their ids are matched across snapshots
        (:func:`match_communities`) before writing. Give all or none.
    name : str
        Written as the file's ``<meta><description>``.
    anchor : {"first", "last"}
        Which snapshot keeps its community ids (see :func:`match_communities`).
    seed : int
        Seed of the union-graph layout.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OptionError
        ``times`` not finite, not strictly increasing or not one per graph; ``name`` not a
        str; ``anchor`` not one of :data:`ANCHORS`.
    GraphError
        ``graphs`` empty or not ActivationGraphs, ``partitions`` not one per graph, or a
        partition not matching its graph, or only some partitions given; two layer names that
        coincide once the characters XML 1.0 forbids are removed.
    OSError
        ``path`` not writable (a folder, a folder that does not exist, a link, a FIFO, a full
        disk, ...; see :func:`~neurograph.io.atomic.atomic_path`); the message names it.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from neurograph.stats import CoactivationStats
    >>> from neurograph.graph import activation_graph
    >>> rng = np.random.default_rng(0)
    >>> g = [activation_graph(CoactivationStats.from_binary(rng.random((50, 4)) < 0.5)) for _ in range(2)]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = export_dynamic_gexf(g, os.path.join(tmp, "t.gexf"), times=[0, 10])
    ...     G = nx.read_gexf(p)
    >>> G.graph["mode"], sorted(G.nodes)[:2]
    ('dynamic', ['layer:0', 'layer:1'])
    """
    if not isinstance(name, str):
        raise OptionError(f"name must be a str, got {name!r}")
    check_choice("anchor", anchor, ANCHORS)
    seed = check_int("seed", seed)
    path = check_output_file(path)
    graphs = list(graphs)
    if not graphs:
        raise GraphError("graphs is empty: give at least one snapshot")
    for k, g in enumerate(graphs):
        if not isinstance(g, ActivationGraph):
            raise GraphError(f"graphs[{k}] must be an ActivationGraph, got {type(g).__name__}")
    intervals = snapshot_intervals(times)
    if len(intervals) != len(graphs):
        raise OptionError(f"times has {len(intervals)} entries for {len(graphs)} graphs")
    if partitions is None:
        partitions = [None] * len(graphs)
    if len(partitions) != len(graphs):
        raise GraphError(f"partitions has {len(partitions)} entries for {len(graphs)} graphs")
    # layer names are the user's: characters XML 1.0 forbids are dropped (as by export_gexf), and two
    # layers that would become one that way are refused, not merged
    clean: dict[str, str] = {}
    for g in graphs:
        for layer in dict.fromkeys(str(v) for v in g.nodes["layer"]):
            clean[layer] = xml_text(layer)
    seen: dict[str, str] = {}
    for layer, c in clean.items():
        if seen.setdefault(c, layer) != layer:
            raise GraphError(f"layers {seen[c]!r} and {layer!r} coincide once made XML-safe (characters illegal "
                             "in XML 1.0 removed); rename one")
    ids_k = [[f"{xml_text(layer)}:{int(unit)}" for layer, unit in zip(g.nodes["layer"], g.nodes["unit"])]
             for g in graphs]
    members = [_membership(part, g.n_nodes, k) for k, (g, part) in enumerate(zip(graphs, partitions))]
    given = [m is not None for m in members]
    if any(given) and not all(given):
        raise GraphError(f"partitions given for snapshots {[k for k, x in enumerate(given) if x]} only; "
                         f"give one per graph (or none) so communities can be matched")
    matched = (match_communities([dict(zip(ids, m.tolist())) for ids, m in zip(ids_k, members)], anchor=anchor)
               if all(given) else None)
    weight_name = graphs[-1].weight
    dyn_weight = "weight_t" if weight_name == "weight" else xml_text(weight_name)
    node_spans: dict[str, list[int]] = {}
    node_static: dict[str, dict] = {}
    node_dyn: dict[str, dict[str, list]] = {}
    node_last: dict[str, tuple[int | None, int]] = {}  # matched community and degree, last snapshot holding it
    edge_spans: dict[tuple[str, str], list[int]] = {}
    edge_dyn: dict[tuple[str, str], list] = {}
    for k, g in enumerate(graphs):
        ids = ids_k[k]
        start, end = intervals[k]
        deg = np.bincount(g.edges.reshape(-1), minlength=g.n_nodes) if g.n_edges else np.zeros(g.n_nodes, int)
        fire = g.nodes["fire_prob"].to_numpy(float)
        ent = _binary_entropy(fire)
        for i, nid in enumerate(ids):
            node_spans.setdefault(nid, []).append(k)
            node_static.setdefault(nid, {"layer": xml_text(g.nodes["layer"].iloc[i]),
                                         "unit": int(g.nodes["unit"].iloc[i])})
            dyn = node_dyn.setdefault(nid, {"community": [], "snapshot_community": [], "fire_prob": [],
                                            "entropy": [], "degree": []})
            comm = int(matched[k][nid]) if matched is not None else None
            if comm is not None:
                dyn["community"].append((comm, start, end))
                dyn["snapshot_community"].append((int(members[k][i]), start, end))
            dyn["fire_prob"].append((float(fire[i]), start, end))
            dyn["entropy"].append((float(ent[i]), start, end))
            dyn["degree"].append((int(deg[i]), start, end))
            node_last[nid] = (comm, int(deg[i]))
        for (a, b), w in zip(g.edges, g.weights):
            key = tuple(sorted((ids[a], ids[b])))
            edge_spans.setdefault(key, []).append(k)
            edge_dyn.setdefault(key, []).append((float(w), start, end))
    nodes = sorted(node_spans)
    union = nx.Graph()
    union.add_nodes_from(nodes)
    for (u, v), vals in edge_dyn.items():
        union.add_edge(u, v, weight=float(np.mean([w for w, _, _ in vals])))
    from .layout import graph_layout

    pos = graph_layout(union, seed=seed)
    sizes = _node_size([node_last[nid][1] for nid in nodes])
    layer_order: dict[str, int] = {}
    G = nx.Graph()
    for nid, (x, y), size in zip(nodes, pos, sizes):
        attrs = dict(node_static[nid])
        attrs["label"] = nid
        attrs["spells"] = _spells(node_spans[nid], intervals)
        for key, values in node_dyn[nid].items():
            if values:
                attrs[key] = values
        comm = node_last[nid][0]
        if comm is not None:
            r, gg, b = community_color(comm)
        else:
            r, gg, b = layer_color(layer_order.setdefault(attrs["layer"], len(layer_order)))
        attrs["viz"] = {"color": {"r": r, "g": gg, "b": b, "a": 1.0}, "size": round(float(size), 4),
                        "position": {"x": round(float(x), 4), "y": round(float(y), 4), "z": 0.0}}
        G.add_node(nid, **attrs)
    for (u, v), spans in edge_spans.items():
        G.add_edge(u, v, weight=edge_dyn[(u, v)][-1][0], spells=_spells(spans, intervals),
                   **{dyn_weight: edge_dyn[(u, v)]})
    with atomic_path(path, suffix=".gexf") as tmp:
        _write_gexf(G, tmp, version="1.3", description=name or "activation graph over time")
    return Path(path)


# ---------------------------------------------------------------------- helpers


def _membership(part, n: int, k: int) -> np.ndarray | None:
    if part is None:
        return None
    m = np.asarray(getattr(part, "membership", part))
    if m.shape != (n,):
        raise GraphError(f"partitions[{k}] has {m.shape[0] if m.ndim else 0} entries for a graph of {n} nodes")
    return m.astype(np.int64)


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    """``h(p)`` in bits, 0 at p in {0, 1} (the ``entropy`` of :func:`neurograph.neuron_entropy`)."""
    from scipy.special import entr

    return np.clip((entr(p) + entr(1.0 - p)) / np.log(2.0), 0.0, 1.0)


def _spells(snapshots: list[int], intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge runs of consecutive snapshot indices into (start, end) spells."""
    spells = []
    run_start = prev = snapshots[0]
    for k in snapshots[1:] + [None]:
        if k is not None and k == prev + 1:
            prev = k
            continue
        spells.append((intervals[run_start][0], intervals[prev][1]))
        if k is not None:
            run_start = prev = k
    return spells
