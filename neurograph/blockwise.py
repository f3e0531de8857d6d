"""Recording when a dense ``d x d`` co-firing matrix does not fit: layer-pair blocks, or a top-k graph.

:func:`neurograph.record.record` keeps every pair, 8 d^2 bytes (plus 4 d^2 while counting):
2 GiB at d = 16,384, 20 GiB at d = 50,000. Beyond what fits there are two ways, both exact:

* :func:`record_blocks` -- one pass; keeps only chosen *pairs of layers* (each layer with
  itself, with its neighbours, or any list). Counts of the kept blocks are exact; pairs of
  neurons in blocks that were not asked for are simply not measured (no edges between those
  layers). :meth:`BlockCounts.stats` turns any set of layers whose blocks are all present into
  an ordinary :class:`~neurograph.stats.CoactivationStats`.
* :func:`record_top_k` -- the sparsified co-activation graph itself, for all pairs: several
  passes over the data, each counting exact co-firing of one block of rows of neurons against
  all neurons (memory ``12 x rows x d`` bytes, set by ``max_bytes``), and reducing those rows at
  once to each neuron's ``top_k`` strongest partners. The graph equals
  ``activation_graph(record(...), weight, threshold=min_weight, top_k=top_k)`` exactly (same
  edges, bitwise the same weights); the price is ``ceil(d / rows)`` forward passes.

Nothing here is approximate: the trade is coverage (blocks) or passes (top-k), never accuracy.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import _kernels
from ._data import is_reiterable
from ._hooks import resolve_layers
from .errors import DataError, GraphError, IncompatibleStatsError, LayerError
from .graph import WEIGHTS, ActivationGraph, _top_k_row_block, _unique_pairs, assemble_graph
from .record import _make_rule, _run
from .stats import CoactivationStats

__all__ = ["BlockCounts", "record_blocks", "record_top_k"]


@dataclass(frozen=True, eq=False)
class BlockCounts:
    """Exact co-firing counts for chosen pairs of layers.

    Attributes
    ----------
    neurons : pandas.DataFrame, shape (d, 2)
        ``layer`` and ``unit`` of every recorded neuron.
    n_samples : int
        Samples counted.
    fire_counts : numpy.ndarray of int64, shape (d,)
        Firing counts of every neuron.
    blocks : dict[tuple[str, str], numpy.ndarray]
        ``blocks[(a, b)][i, j]``: samples on which unit ``i`` of layer ``a`` and unit ``j`` of
        layer ``b`` both fired, int64, shape (units of a, units of b).
    classes, class_counts, class_fire_counts : numpy.ndarray
        As in :class:`~neurograph.stats.CoactivationStats`.
    rule : str
        Firing rule.
    meta : dict
        How the counts were made.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 5), nn.ReLU())
    >>> X, y = torch.randn(50, 3), torch.randint(0, 2, (50,))
    >>> b = record_blocks(net, (X, y), ["1", "3"], pairs="within")
    >>> sorted(b.blocks), b.stats("3").cofire_counts.shape
    ([('1', '1'), ('3', '3')], (5, 5))
    """

    neurons: pd.DataFrame
    n_samples: int
    fire_counts: np.ndarray
    blocks: dict
    classes: np.ndarray
    class_counts: np.ndarray
    class_fire_counts: np.ndarray
    rule: str = "positive"
    meta: dict = field(default_factory=dict)

    @property
    def layers(self) -> list[str]:
        """Recorded layers, in order."""
        return list(dict.fromkeys(self.neurons["layer"].tolist()))

    def cofire(self, a: str, b: str) -> np.ndarray:
        """Counts between layers ``a`` (rows) and ``b`` (columns); raises LayerError if not recorded."""
        if (a, b) in self.blocks:
            return self.blocks[(a, b)]
        if (b, a) in self.blocks:
            return self.blocks[(b, a)].T
        raise LayerError(f"the pair of layers ({a!r}, {b!r}) was not recorded (recorded: {sorted(self.blocks)})")

    def stats(self, layers: str | Sequence[str]) -> CoactivationStats:
        """Ordinary statistics over ``layers``: every pair among them (each with itself too) must be recorded."""
        layers = [layers] if isinstance(layers, str) else list(layers)
        unknown = [x for x in layers if x not in self.layers]
        if unknown:
            raise LayerError(f"layers {unknown} are not in these counts (recorded: {self.layers})")
        idx = [np.flatnonzero(self.neurons["layer"].to_numpy() == x) for x in layers]
        cof = np.block([[self.cofire(a, b) for b in layers] for a in layers])
        sel = np.concatenate(idx)
        return CoactivationStats(neurons=self.neurons.iloc[sel].reset_index(drop=True), n_samples=self.n_samples,
                                 fire_counts=self.fire_counts[sel], cofire_counts=np.ascontiguousarray(cof),
                                 classes=self.classes, class_counts=self.class_counts,
                                 class_fire_counts=self.class_fire_counts[:, sel], rule=self.rule,
                                 meta=dict(self.meta))

    def __add__(self, other: BlockCounts) -> BlockCounts:
        """Exact merge of two disjoint shards recorded with the same layers, pairs and rule."""
        if not isinstance(other, BlockCounts):
            return NotImplemented
        if (self.neurons["layer"].tolist() != other.neurons["layer"].tolist() or self.rule != other.rule
                or sorted(self.blocks) != sorted(other.blocks)):
            raise IncompatibleStatsError("cannot merge block counts over different layers, pairs or rules")
        a = CoactivationStats(self.neurons, 0, self.fire_counts, np.zeros((0, 0), np.int64), self.classes,
                              self.class_counts, self.class_fire_counts)
        b = CoactivationStats(other.neurons, 0, other.fire_counts, np.zeros((0, 0), np.int64), other.classes,
                              other.class_counts, other.class_fire_counts)
        m = a + b
        return BlockCounts(self.neurons, self.n_samples + other.n_samples, m.fire_counts,
                           {k: v + other.blocks[k] for k, v in self.blocks.items()}, m.classes, m.class_counts,
                           m.class_fire_counts, self.rule, dict(self.meta))


def record_blocks(model: nn.Module, data, layers: str | Sequence[str], pairs="within", rule: str = "positive", *,
                  threshold: float | np.ndarray = 0.0, quantile: float = 0.9, z: float = 1.0, batch_size: int = 256,
                  spatial: str = "mean", time: str = "all", kernel: str = "auto",
                  calibration_samples: int = 10_000, progress: bool = False) -> BlockCounts:
    """One pass of :func:`~neurograph.record.record` that keeps only chosen pairs of layers.

    Parameters
    ----------
    pairs : "within", "adjacent" or list of (str, str)
        ``"within"``: each layer with itself; ``"adjacent"``: also each layer with the next
        one in ``layers``; or explicit pairs of layer names.
    other parameters
        As for :func:`neurograph.record.record`.

    Returns
    -------
    BlockCounts
        Exact counts of the chosen blocks; memory ``12 x`` (their total entries) bytes at the peak.
    """
    rule_fn, rule_name, _ = _make_rule(model, data, layers, rule, threshold=threshold, quantile=quantile, z=z,
                                       batch_size=batch_size, spatial=spatial, time=time,
                                       calibration_samples=calibration_samples, progress=progress)
    modules = resolve_layers(model, layers)
    names = [name for name, _ in modules]
    wanted = _pairs(pairs, names)
    state: dict = {}

    def on_batch(values, labels):
        if "acc" not in state:
            widths = [v.shape[1] for v in values]
            starts = np.concatenate([[0], np.cumsum(widths)])
            state["starts"] = {name: (int(starts[k]), int(starts[k + 1])) for k, name in enumerate(names)}
            tiles = [(*state["starts"][a], *state["starts"][b]) for a, b in wanted]
            state["acc"] = _kernels.TileAccumulator(int(starts[-1]), tiles, device=values[0].device, kernel=kernel)
            state["widths"] = widths
            state["fire"] = torch.zeros(int(starts[-1]), dtype=torch.int64, device=values[0].device)
            state["classes"] = _Classes()
        fired = torch.cat([rule_fn(i, v) for i, v in enumerate(values)], dim=1)
        state["fire"] += fired.sum(dim=0, dtype=torch.int64)
        state["acc"].add(fired, state["classes"].rows(labels, fired.device))

    _run(model, data, modules, batch_size=batch_size, time=time, progress=progress, on_batch=on_batch,
         desc="record_blocks")
    acc = state["acc"]
    tiles = acc.result()
    neurons = pd.concat([pd.DataFrame({"layer": n, "unit": np.arange(w, dtype=np.int64)})
                         for n, w in zip(names, state["widths"])], ignore_index=True)
    classes, cc, cf = state["classes"].result(acc.class_fire, neurons.shape[0])
    return BlockCounts(neurons=neurons, n_samples=int(acc.n), fire_counts=state["fire"].cpu().numpy(),
                       blocks={p: t.cpu().numpy() for p, t in zip(wanted, tiles)}, classes=classes,
                       class_counts=cc, class_fire_counts=cf, rule=rule_name,
                       meta={"spatial": spatial, "time": time, "pairs": [list(p) for p in wanted]})


def record_top_k(model: nn.Module, data, layers: str | Sequence[str], top_k: int, weight: str = "npmi", *,
                 min_weight: float = 0.0, drop_inactive: bool = True, rule: str = "positive",
                 threshold: float | np.ndarray = 0.0, quantile: float = 0.9, z: float = 1.0, batch_size: int = 256,
                 spatial: str = "mean", time: str = "all", kernel: str = "auto", max_bytes: int = 1 << 30,
                 calibration_samples: int = 10_000, progress: bool = False) -> ActivationGraph:
    """The top-k co-activation graph of all recorded neurons without ever holding ``d x d`` counts.

    Parameters
    ----------
    top_k : int
        Strongest partners kept per neuron (an edge stays if it is among the ``top_k`` of either end).
    weight : str
        Association weight (see :func:`neurograph.graph.activation_graph`).
    min_weight : float
        Keep only weights ``> max(min_weight, 0)`` (the ``threshold`` of ``activation_graph``).
    drop_inactive : bool
        As in :func:`~neurograph.graph.activation_graph`.
    max_bytes : int
        Memory for one pass's block of rows (12 bytes per count); sets the number of passes,
        ``ceil(d / (max_bytes / (12 d)))``.
    other parameters
        As for :func:`neurograph.record.record` (``threshold`` is the firing threshold).
        ``data`` must be iterable several times.

    Returns
    -------
    ActivationGraph
        Equal to ``activation_graph(record(model, data, layers, ...), weight,
        threshold=min_weight, top_k=top_k, drop_inactive=drop_inactive)``;
        ``params["passes"]`` says how many passes it took.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(3, 40), nn.ReLU())
    >>> X = torch.randn(200, 3)
    >>> g = record_top_k(net, (X, None), "1", top_k=2, max_bytes=12 * 40 * 16)
    >>> g.params["passes"], g.n_edges > 0
    (3, True)
    """
    if weight not in WEIGHTS:
        raise GraphError(f"weight must be one of {list(WEIGHTS)}, got {weight!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 0:
        raise GraphError(f"top_k must be a non-negative int, got {top_k!r}")
    if isinstance(min_weight, bool) or not isinstance(min_weight, numbers.Real) or not np.isfinite(min_weight):
        raise GraphError(f"min_weight must be a finite number, got {min_weight!r}")
    if not is_reiterable(data):
        raise DataError("record_top_k makes several passes, so data must be iterable several times "
                        "(a DataLoader, a list or (X, y)), not a one-shot iterator")
    rule_fn, rule_name, _ = _make_rule(model, data, layers, rule, threshold=threshold, quantile=quantile, z=z,
                                       batch_size=batch_size, spatial=spatial, time=time,
                                       calibration_samples=calibration_samples, progress=progress)
    modules = resolve_layers(model, layers)
    names = [name for name, _ in modules]
    thr = max(float(min_weight), 0.0)
    state: dict = {"r0": 0, "passes": 0}
    out_i, out_j, out_w = [], [], []
    while True:
        def on_batch(values, labels):
            if "acc" not in state:
                d = sum(v.shape[1] for v in values)
                state.setdefault("d", d)
                state.setdefault("widths", [v.shape[1] for v in values])
                rows = max(1, int(max_bytes // (12 * max(d, 1))))
                state["r1"] = min(d, state["r0"] + rows)
                state["acc"] = _kernels.TileAccumulator(d, [(state["r0"], state["r1"], 0, d)],
                                                        device=values[0].device, kernel=kernel)
                if "fire" not in state:
                    state["fire_acc"] = torch.zeros(d, dtype=torch.int64, device=values[0].device)
            fired = torch.cat([rule_fn(i, v) for i, v in enumerate(values)], dim=1)
            if "fire" not in state:
                state["fire_acc"] += fired.sum(dim=0, dtype=torch.int64)
            state["acc"].add(fired)

        _run(model, data, modules, batch_size=batch_size, time=time, progress=progress, on_batch=on_batch,
             desc=f"record_top_k pass {state['passes'] + 1}")
        acc = state.pop("acc")
        block = acc.result()[0].cpu().numpy()
        state["passes"] += 1
        if "fire" not in state:
            state["fire"] = state.pop("fire_acc").cpu().numpy()
            state["n"] = int(acc.n)
            f, n = state["fire"], state["n"]
            state["active"] = np.flatnonzero((f > 0) & (f < n))
        elif int(acc.n) != state["n"]:
            raise DataError(f"data gave {acc.n} samples on pass {state['passes']} but {state['n']} on the first; "
                            f"record_top_k needs the same data on every pass")
        active, r0, r1 = state["active"], state["r0"], state["r1"]
        p0, p1 = np.searchsorted(active, [r0, r1])
        fa = state["fire"][active].astype(np.float64)
        i, j, w = _top_k_row_block(state["n"], fa, lambda a, b: block[np.ix_(active[a:b] - r0, active)],
                                   int(p0), int(p1), weight, thr, int(top_k))
        out_i.append(i)
        out_j.append(j)
        out_w.append(w)
        if r1 >= state["d"]:
            break
        state["r0"] = r1
    active, f, n = state["active"], state["fire"], state["n"]
    i, j, w = _unique_pairs(np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_w), active.shape[0])
    neurons = pd.concat([pd.DataFrame({"layer": name, "unit": np.arange(wd, dtype=np.int64)})
                         for name, wd in zip(names, state["widths"])], ignore_index=True)
    return assemble_graph(neurons, f, n, active, i, j, w, weight=weight, drop_inactive=drop_inactive,
                          params={"threshold": float(min_weight), "top_k": int(top_k), "alpha": None,
                   "drop_inactive": bool(drop_inactive), "n_pairs": active.shape[0] * (active.shape[0] - 1) // 2,
                                  "passes": state["passes"], "rule": rule_name})


# ---------------------------------------------------------------------------- helpers
def _pairs(pairs, names: list[str]) -> list[tuple[str, str]]:
    if pairs == "within":
        return [(a, a) for a in names]
    if pairs == "adjacent":
        return [(a, a) for a in names] + list(zip(names[:-1], names[1:]))
    if isinstance(pairs, str) or not isinstance(pairs, Sequence) or not pairs:
        raise DataError(f"pairs must be 'within', 'adjacent' or a non-empty list of (layer, layer), got {pairs!r}")
    out = []
    for p in pairs:
        if not (isinstance(p, (tuple, list)) and len(p) == 2 and all(x in names for x in p)):
            raise LayerError(f"pair {p!r} is not two of the recorded layers {names}")
        if tuple(p) not in out and tuple(p[::-1]) not in out:
            out.append(tuple(p))
    return out


class _Classes:
    """Class labels seen so far -> class rows, like record's accumulator."""

    def __init__(self) -> None:
        self.index: dict[int, int] = {}
        self.counts: list[int] = []

    def rows(self, labels, device):
        if labels is None:
            return None
        vals = labels.tolist()
        out = []
        for c in vals:
            if c not in self.index:
                self.index[c] = len(self.index)
                self.counts.append(0)
            k = self.index[c]
            self.counts[k] += 1
            out.append(k)
        return torch.tensor(out, dtype=torch.int64, device=device)

    def result(self, class_fire: torch.Tensor, d: int):
        order = sorted(self.index)
        perm = [self.index[c] for c in order]
        cf = class_fire.cpu().numpy()[perm] if perm else np.zeros((0, d), np.int64)
        return (np.asarray(order, np.int64), np.asarray([self.counts[k] for k in perm], np.int64),
                cf.astype(np.int64))
