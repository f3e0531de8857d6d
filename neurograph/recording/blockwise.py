"""Recording when a dense ``d x d`` co-firing matrix does not fit: layer-pair blocks, or a top-k graph.

:func:`neurograph.recording.record` keeps every pair, 8 d^2 bytes (plus 4 d^2 while counting):
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

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import kernels
from .accumulate import neuron_table
from .batches import is_reiterable, model_device_dtype
from .firing import Cuts, count_pass
from .._validate import check_choice, check_int, check_number
from ..errors import DataError, IncompatibleStatsError, LayerError, OptionError
from ..graph.activation import WEIGHTS, ActivationGraph, assemble_graph
from ..graph.activation import top_k_row_block, unique_pairs
from .reading import Reading, make_reading
from .recorder import calibrate, reading_meta
from ..stats import CoactivationStats

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
        if sorted(self.blocks) != sorted(other.blocks):
            raise IncompatibleStatsError(f"cannot merge block counts over different pairs of layers: "
                                         f"{sorted(self.blocks)} vs {sorted(other.blocks)}")
        # the neurons, the rule, the reading and the labels are checked as for CoactivationStats
        a = CoactivationStats(self.neurons, self.n_samples, self.fire_counts, np.zeros((0, 0), np.int64),
                              self.classes, self.class_counts, self.class_fire_counts, rule=self.rule, meta=self.meta)
        b = CoactivationStats(other.neurons, other.n_samples, other.fire_counts, np.zeros((0, 0), np.int64),
                              other.classes, other.class_counts, other.class_fire_counts, rule=other.rule,
                              meta=other.meta)
        m = a + b
        return BlockCounts(self.neurons, self.n_samples + other.n_samples, m.fire_counts,
                           {k: v + other.blocks[k] for k, v in self.blocks.items()}, m.classes, m.class_counts,
                           m.class_fire_counts, self.rule, dict(self.meta))


def record_blocks(model: nn.Module, data, layers: str | Sequence[str], pairs="within", rule: str = "positive", *,
                  threshold: float | np.ndarray = 0.0, quantile: float = 0.9, z: float = 1.0,
                  neuron_axis: str | int | dict = "auto", positions: str | None = None, spatial: str = "mean",
                  time: str = "all", mask="attention_mask", reading: Reading | None = None, batch_size: int = 256,
                  kernel: str = "auto", calibration_samples: int = 10_000, progress: bool = False) -> BlockCounts:
    """One pass of :func:`~neurograph.recording.record` that keeps only chosen pairs of layers.

    The parameters not listed below are as for :func:`neurograph.recording.record`.

    Parameters
    ----------
    pairs : "within", "adjacent" or list of (str, str)
        ``"within"``: each layer with itself; ``"adjacent"``: also each layer with the next
        one in ``layers``; or explicit pairs of layer (site) names.

    Returns
    -------
    BlockCounts
        Exact counts of the chosen blocks; memory ``12 x`` (their total entries) bytes at the peak.
    """
    reading = make_reading(reading, rule=rule, threshold=threshold, quantile=quantile, z=z, neuron_axis=neuron_axis,
                           positions=positions, spatial=spatial, time=time, mask=mask,
                           calibration_samples=calibration_samples)
    check_choice("kernel", kernel, kernels.KERNELS)
    if not isinstance(pairs, str) or pairs not in ("within", "adjacent"):
        _pairs(pairs, None)  # checks the form before any work
    device, _ = model_device_dtype(model)
    thresholds = _calibrated(model, data, layers, reading, batch_size, progress)
    plan: dict = {}

    def make_acc(sites, d):
        names = [s.name for s in sites]
        wanted = _pairs(pairs, names)
        starts = np.concatenate([[0], np.cumsum([s.units for s in sites])])
        span = {name: (int(starts[k]), int(starts[k + 1])) for k, name in enumerate(names)}
        plan.update(wanted=wanted, fire=torch.zeros(d, dtype=torch.int64, device=device))
        return kernels.TileAccumulator(d, [(*span[a], *span[b]) for a, b in wanted], device=device, kernel=kernel)

    def on_rows(bits, raw, state):
        plan["fire"] += bits.sum(dim=0, dtype=torch.int64)

    p = count_pass(model, data, layers, reading, Cuts(reading, thresholds), make_acc=make_acc,
                   batch_size=batch_size, progress=progress, desc="record_blocks", on_rows=on_rows)
    tiles = p.acc.result()
    neurons = neuron_table(p.sites)
    classes, cc, cf = p.classes.result(p.acc.class_fire, neurons.shape[0])
    return BlockCounts(neurons=neurons, n_samples=int(p.acc.n), fire_counts=plan["fire"].cpu().numpy(),
                       blocks={pr: t.cpu().numpy() for pr, t in zip(plan["wanted"], tiles)}, classes=classes,
                       class_counts=cc, class_fire_counts=cf, rule=reading.describe(thresholds),
                       meta={**reading_meta(reading, p.sites, model_device_dtype(model)[1]),
                             "pairs": [list(pr) for pr in plan["wanted"]]})


def record_top_k(model: nn.Module, data, layers: str | Sequence[str], top_k: int, weight: str = "npmi", *,
                 min_weight: float = 0.0, drop_inactive: bool = True, rule: str = "positive",
                 threshold: float | np.ndarray = 0.0, quantile: float = 0.9, z: float = 1.0,
                 neuron_axis: str | int | dict = "auto", positions: str | None = None, spatial: str = "mean",
                 time: str = "all", mask="attention_mask", reading: Reading | None = None, batch_size: int = 256,
                 kernel: str = "auto", max_bytes: int = 1 << 30, calibration_samples: int = 10_000,
                 progress: bool = False) -> ActivationGraph:
    """The top-k co-activation graph of all recorded neurons without ever holding ``d x d`` counts.

    The parameters not listed below are as for :func:`neurograph.recording.record` (``threshold``
    is the firing threshold); ``data`` must be iterable several times.

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
    check_choice("weight", weight, list(WEIGHTS))
    check_int("top_k", top_k, min=0)
    min_weight = check_number("min_weight", min_weight)
    check_int("max_bytes", max_bytes, min=1)
    check_choice("kernel", kernel, kernels.KERNELS)
    reading = make_reading(reading, rule=rule, threshold=threshold, quantile=quantile, z=z, neuron_axis=neuron_axis,
                           positions=positions, spatial=spatial, time=time, mask=mask,
                           calibration_samples=calibration_samples)
    if not is_reiterable(data):
        raise DataError("record_top_k makes several passes, so data must be iterable several times "
                          "(a DataLoader, a list or (X, y)), not a one-shot iterator")
    device, _ = model_device_dtype(model)
    thresholds = _calibrated(model, data, layers, reading, batch_size, progress)
    cuts = Cuts(reading, thresholds)
    thr = max(float(min_weight), 0.0)
    first: _FirstPass | None = None
    r0, passes = 0, 0
    out_i, out_j, out_w = [], [], []
    while True:
        rows_block: dict = {}

        def make_acc(sites, d, r0=r0, rows_block=rows_block):
            rows = max(1, int(max_bytes // (12 * max(d, 1))))
            rows_block["r1"] = min(d, r0 + rows)
            return kernels.TileAccumulator(d, [(r0, rows_block["r1"], 0, d)], device=device, kernel=kernel)

        fire = _FireSum()
        p = count_pass(model, data, layers, reading, cuts, make_acc=make_acc, batch_size=batch_size,
                       progress=progress, desc=f"record_top_k pass {passes + 1}",
                       on_rows=fire.add if first is None else None)
        block = p.acc.result()[0].cpu().numpy()
        passes += 1
        if first is None:
            f = fire.total.cpu().numpy()
            first = _FirstPass(p.sites, f, int(p.acc.n), np.flatnonzero((f > 0) & (f < int(p.acc.n))),
                               sum(s.units for s in p.sites))
        elif int(p.acc.n) != first.n:
            raise DataError(f"data gave {p.acc.n} samples on pass {passes} but {first.n} on the first; "
                            f"record_top_k needs the same data on every pass")
        r1 = rows_block["r1"]
        active = first.active
        p0, p1 = np.searchsorted(active, [r0, r1])
        fa = first.fire[active].astype(np.float64)
        i, j, w = top_k_row_block(first.n, fa, lambda a, b: block[np.ix_(active[a:b] - r0, active)],
                                  int(p0), int(p1), weight, thr, int(top_k))
        out_i.append(i)
        out_j.append(j)
        out_w.append(w)
        if r1 >= first.d:
            break
        r0 = r1
    active = first.active
    i, j, w = unique_pairs(np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_w), active.shape[0])
    return assemble_graph(neuron_table(first.sites), first.fire, first.n, active, i, j, w, weight=weight,
                          drop_inactive=drop_inactive,
                          params={"threshold": float(min_weight), "top_k": int(top_k), "alpha": None,
                                  "drop_inactive": bool(drop_inactive),
                                  "n_pairs": active.shape[0] * (active.shape[0] - 1) // 2,
                                  "passes": passes, "rule": reading.describe(thresholds)})


@dataclass(frozen=True)
class _FirstPass:
    sites: list
    fire: np.ndarray
    n: int
    active: np.ndarray
    d: int


class _FireSum:
    """Firing counts per neuron summed over a pass's rows."""

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None

    def add(self, bits, raw, state) -> None:
        s = bits.sum(dim=0, dtype=torch.int64)
        self.total = s if self.total is None else self.total + s


def _calibrated(model, data, layers, reading: Reading, batch_size: int, progress: bool) -> np.ndarray | None:
    if not reading.calibrated:
        return None
    return calibrate(model, data, layers, reading.rule, reading=reading.replace(rule="positive"),
                     quantile=reading.quantile, z=reading.z, batch_size=batch_size, progress=progress)


# ---------------------------------------------------------------------------- helpers
def _pairs(pairs, names: list[str] | None) -> list[tuple[str, str]]:
    """The pairs of site names to keep (``names`` None: only check the form of ``pairs``)."""
    if pairs == "within":
        return [(a, a) for a in names]
    if pairs == "adjacent":
        return [(a, a) for a in names] + list(zip(names[:-1], names[1:]))
    if isinstance(pairs, str) or not isinstance(pairs, Sequence) or not pairs:
        raise OptionError(f"pairs must be 'within', 'adjacent' or a non-empty list of (layer, layer), got {pairs!r}")
    if names is None:
        return []
    out = []
    for p in pairs:
        if not (isinstance(p, (tuple, list)) and len(p) == 2 and all(x in names for x in p)):
            raise LayerError(f"pair {p!r} is not two of the recorded layers {names}")
        if tuple(p) not in out and tuple(p[::-1]) not in out:
            out.append(tuple(p))
    return out
