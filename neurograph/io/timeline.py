"""Dynamic GEXF: the activation graph of one model along its training checkpoints, for Gephi's timeline.

:func:`export_dynamic_gexf` writes one GEXF file holding several snapshots of the
same network's activation graph (e.g. after 0, 1, 5 and 30 epochs). In Gephi
(File > Open, then Window > Timeline) the slider shows neurons and edges appear
and disappear and communities form.

Encoding (GEXF 1.2, ``mode="dynamic"``, ``timeformat="double"``): snapshot ``k`` at
time ``t_k`` covers the closed interval ``[t_k, t_{k+1} - eps]`` with
``eps = 0.001 * min_k (t_{k+1} - t_k)`` (Gephi rejects attribute intervals that
touch), and the last one ``[t_K, t_K + g - eps]`` with ``g`` that smallest gap (1
for a single snapshot).

- Nodes are neurons, with id ``"<layer>:<unit>"`` and static attributes ``layer`` and
  ``unit``. A node exists (``spells``) in the snapshots whose graph holds it (neurons
  left out as dead or always-on are absent there). Dynamic attributes: ``community``
  (int) and ``fire_prob`` (float) per snapshot.
- Edges exist in the snapshots that hold them; the dynamic attribute named after the
  graph's weight (e.g. ``npmi``) holds the weight per snapshot and the static ``weight``
  is its value in the last snapshot holding the edge.
- Node colours (``viz``) are the communities of the last snapshot, from
  :func:`neurograph.io.palette.community_color` (the same colours as :func:`~neurograph.io.export.export_gexf`
  and the figures give those communities).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np

from .atomic import atomic_path
from .palette import community_color
from .._validate import check_output_file
from ..errors import GraphError, OptionError
from ..graph.activation import ActivationGraph

__all__ = ["export_dynamic_gexf", "snapshot_intervals"]


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


def export_dynamic_gexf(graphs: Sequence[ActivationGraph], path: str | os.PathLike, *, times: Sequence[float],
                        partitions: Sequence | None = None, name: str = "") -> Path:
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
        Communities of each snapshot's nodes.
    name : str
        Stored as the graph's ``name`` attribute.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    OptionError
        ``times`` not finite, not strictly increasing or not one per graph; ``name`` not a str.
    GraphError
        ``graphs`` empty or not ActivationGraphs, ``partitions`` not one per graph, or a
        partition not matching its graph.
    OSError
        ``path`` not writable (a folder, a folder that does not exist, ...); the message names it.

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
    weight_name = graphs[-1].weight
    node_spans: dict[str, list[int]] = {}
    node_static: dict[str, dict] = {}
    node_dyn: dict[str, dict[str, list]] = {}
    edge_spans: dict[tuple[str, str], list[int]] = {}
    edge_dyn: dict[tuple[str, str], list] = {}
    for k, (g, part) in enumerate(zip(graphs, partitions)):
        member = _membership(part, g.n_nodes, k)
        start, end = intervals[k]
        ids = [f"{layer}:{int(unit)}" for layer, unit in zip(g.nodes["layer"], g.nodes["unit"])]
        for i, nid in enumerate(ids):
            node_spans.setdefault(nid, []).append(k)
            node_static.setdefault(nid, {"layer": str(g.nodes["layer"].iloc[i]),
                                         "unit": int(g.nodes["unit"].iloc[i])})
            dyn = node_dyn.setdefault(nid, {"community": [], "fire_prob": []})
            if member is not None:
                dyn["community"].append((int(member[i]), start, end))
            dyn["fire_prob"].append((float(g.nodes["fire_prob"].iloc[i]), start, end))
        for (a, b), w in zip(g.edges, g.weights):
            key = tuple(sorted((ids[a], ids[b])))
            edge_spans.setdefault(key, []).append(k)
            edge_dyn.setdefault(key, []).append((float(w), start, end))
    last = _membership(partitions[-1], graphs[-1].n_nodes, len(graphs) - 1)
    last_comm = {}
    if last is not None:
        g = graphs[-1]
        last_comm = {f"{layer}:{int(unit)}": int(c) for layer, unit, c in zip(g.nodes["layer"], g.nodes["unit"], last)}
    G = nx.Graph(name=name or "activation graph over time")
    for nid in sorted(node_spans):
        attrs = dict(node_static[nid])
        attrs["label"] = nid
        attrs["spells"] = _spells(node_spans[nid], intervals)
        for key, values in node_dyn[nid].items():
            if values:
                attrs[key] = values
        if nid in last_comm:
            r, gg, b = community_color(last_comm[nid])
            attrs["viz"] = {"color": {"r": r, "g": gg, "b": b, "a": 1.0}}
        G.add_node(nid, **attrs)
    for (u, v), spans in edge_spans.items():
        G.add_edge(u, v, weight=edge_dyn[(u, v)][-1][0], spells=_spells(spans, intervals),
                   **{weight_name: edge_dyn[(u, v)]})
    with atomic_path(path, suffix=".gexf") as tmp:
        nx.write_gexf(G, tmp, version="1.2draft")
    return Path(path)


# ---------------------------------------------------------------------- helpers


def _membership(part, n: int, k: int) -> np.ndarray | None:
    if part is None:
        return None
    m = np.asarray(getattr(part, "membership", part))
    if m.shape != (n,):
        raise GraphError(f"partitions[{k}] has {m.shape[0] if m.ndim else 0} entries for a graph of {n} nodes")
    return m.astype(np.int64)


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
