"""Record which neurons fire together: forward hooks → exact co-firing counts.

One pass over the data (after a dry pass of the first batch that finds how to read each
layer, see :mod:`neurograph.recording.reading`); inside each layer's hook its output is read (neuron
axis, positions, mask) and the firing rule writes a 0/1 firing matrix ``B`` (samples ×
neurons) straight into a row buffer, counted into :class:`~neurograph.stats.CoactivationStats`
by the exact kernels of ``neurograph.recording.kernels``: int8 ``torch._int_mm`` over the
upper-triangle blocks of ``B^T B`` (a scipy sparse product when firing is rare; float32 where
``_int_mm`` is missing), into int32 partial sums flushed into int64. Everything stays on the
model's device until the end. Raw activations are never kept.

Cost: one forward pass plus about ``N d^2 / 2`` int8 multiply-adds; memory
``12 d^2`` bytes at the peak (int32 accumulator + int64 result) plus the
buffers, independent of ``N`` (``+ 8 d^2`` with ``moments=True``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import kernels
from .accumulate import PatternCounter, build_stats
from .capture import BatchState, Site, SiteValues, run_model
from .batches import is_reiterable, model_device_dtype
from .firing import Cuts, check_budget, count_pass
from .hooks import original_module
from .._validate import check_bool, check_choice
from ..errors import DataError, DegenerateLayerWarning, OptionError
from .reading import Reading, make_reading
from ..stats import CoactivationStats

__all__ = ["calibrate", "list_layers", "record"]

log = logging.getLogger(__name__)


def list_layers(model: nn.Module) -> pd.DataFrame:
    """The module names of ``model`` that :func:`record` accepts, with their types.

    Returns
    -------
    pandas.DataFrame
        One row per named submodule: ``name`` (as in ``model.named_modules()``),
        ``type`` (class name), ``leaf`` (has no children), ``recurrent``.

    Examples
    --------
    >>> from torch import nn
    >>> list_layers(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))["name"].tolist()
    ['0', '1']
    """
    rows = [{"name": name, "type": type(mod).__name__, "leaf": not any(True for _ in mod.children()),
             "recurrent": isinstance(mod, (nn.RNNBase, nn.RNNCellBase))}
            for name, mod in original_module(model).named_modules() if name]
    return pd.DataFrame(rows, columns=["name", "type", "leaf", "recurrent"])


def record(model: nn.Module, data, layers: str | Sequence[str], rule: str = "positive", *,
           threshold: float | np.ndarray = 0.0, quantile: float = 0.9, z: float = 1.0,
           neuron_axis: str | int | dict = "auto", positions: str | None = None, spatial: str = "mean",
           time: str = "all", mask="attention_mask", reading: Reading | None = None,
           batch_size: int = 256, patterns: bool = False, calibration_samples: int = 10_000,
           progress: bool = False, moments: bool = False, kernel: str = "auto",
           memory_limit: int | None = None, distributed: bool = False, group=None) -> CoactivationStats:
    """Record exact co-firing statistics of the neurons in ``layers``.

    Parameters
    ----------
    model : torch.nn.Module
        Any module: MLPs, CNNs (BatchNorm, residual blocks), RNNs, transformers, Hugging Face
        models. It runs under ``torch.no_grad()`` in eval mode; every submodule's train/eval mode
        is restored and every hook removed on exit, also on error or KeyboardInterrupt.
    data : DataLoader, iterable of (inputs, labels), or (X, y)
        Batches of inputs with class labels. ``(X, y)`` is split into ``batch_size`` rows.
        Inputs may be a tensor, a numpy array (floats are cast to the model's parameter dtype),
        a pandas DataFrame, a tuple of tensors (positional arguments, e.g. ``((X, lengths), y)``)
        or a dict / ``BatchEncoding`` (keyword arguments). Labels: integers, or any hashable
        names (strings), kept as ``stats.classes``; None records without class statistics.
    layers : str or list of str
        Module names as in ``model.named_modules()``; glob patterns (``"layers.*"``) allowed.
        A module called several times per forward pass gives one site per call,
        ``name#0``, ``name#1``, ... (the ``layer`` column of ``stats.neurons``).
        See :func:`list_layers` and :func:`~neurograph.recording.preview`.
    rule : {"positive", "threshold", "quantile", "zscore"}
        When a neuron "fires" on a sample, from its value ``a``:

        * ``"positive"``: ``a > 0`` (the ReLU gate).
        * ``"threshold"``: ``a > threshold`` (a float, or one value per neuron, shape (d,)).
        * ``"quantile"``: ``a >`` the neuron's ``quantile``-quantile of its values.
          Needs a first calibration pass over the first ``calibration_samples``
          rows of ``data`` (so ``data`` must be iterable twice); exact on those rows.
        * ``"zscore"``: ``(a - mean) / sd > z`` with the neuron's mean and population
          sd over a first full calibration pass (``data`` must be iterable twice);
          a constant neuron never fires.
    neuron_axis : "auto", int or dict {layer glob: int}
        Axis of each layer output that holds the neurons; "auto" reads it from the module
        (see :mod:`neurograph.recording.reading`).
    positions : {"all", "mean", "max", "any", "first", "last"} or None
        What every other non-batch axis (space, tokens, time) becomes: every valid position a
        sample (``"all"``), one sample per input from the mean / max over positions, ``"any"``
        (fires if it fires at any position), or the first / last valid position. None: per
        layer kind, ``spatial`` for conv maps and ``time`` for tokens and recurrent layers.
    spatial : str, default "mean"
        Positions of channel-axis outputs (conv feature maps) when ``positions`` is None.
    time : str, default "all"
        Positions of token and recurrent outputs when ``positions`` is None; for
        ``nn.RNN/GRU/LSTM`` ``"last"`` is the final hidden state.
    mask : str, callable or None, default "attention_mask"
        Padding mask: the dict key of the inputs holding it (1 = real token), a callable
        ``mask(inputs) -> (batch, T)``, or None. Masked positions are never samples.
    reading : Reading, optional
        All of the above in one object (then leave those keywords at their defaults).
    patterns : bool
        Also count each layer's whole binary firing pattern (for pattern entropy).
    progress : bool
        Show a tqdm progress bar over batches.
    moments : bool
        Also keep Pearson statistics of the raw per-neuron values the rule sees (the value of
        the row; for ``positions="any"`` the mean over valid positions): means and centred
        cross-products in float64, see :class:`~neurograph.moments.ActivationMoments`.
    kernel : {"auto", "int8", "float32", "sparse"}
        Count kernel (all exact); ``"auto"`` picks per buffer of rows: sparse on CPU when
        firing is rare, else int8 ``torch._int_mm``, else float32.
    memory_limit : int, optional
        Bytes the recording may take; default: the memory available on the model's device.
        A recording whose ``d x d`` counts (about ``12 d^2`` bytes) would not fit is refused up
        front with :class:`~neurograph.errors.MemoryBudgetError`, after one dry batch.
    distributed : bool
        ``data`` is this rank's shard of the data set; the statistics of all ranks of the
        initialised ``torch.distributed`` process ``group`` are summed and every rank gets
        the whole (see :mod:`neurograph.recording.distributed`). Calibrated rules calibrate over all
        ranks: ``"zscore"`` exactly, ``"quantile"`` on rank 0's first ``calibration_samples``
        rows (broadcast to all). A failure on one rank is raised on every rank.
    group : torch.distributed.ProcessGroup or None
        Group for ``distributed=True`` (None: the default group).

    Returns
    -------
    CoactivationStats
        Counts over ``d`` = total neurons of the recorded layers. ``stats.meta`` holds the reading:
        each site's positions mode and neuron axis, the padding mask and the model's dtype
        (merging statistics compares them, see :func:`neurograph.stats.reading_of`).

    Raises
    ------
    LayerError
        A name matching no module, a layer that never ran, an output with no tensor, a neuron
        axis that cannot be told, or layers giving different numbers of samples per input.
    DataError
        Empty data, labels not matching the inputs, non-finite activations (the layer is named).
    OptionError
        A bad option value (rule, positions, kernel, a threshold array of the wrong length, ...).
    MemoryBudgetError
        The counts would not fit in memory.
    ModelError
        The model raised on a batch.

    Warns
    -----
    DegenerateLayerWarning
        A layer with most neurons dead or always on under the rule (names the layer, the
        fractions and the rules that would work).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> X, y = torch.randn(100, 4), torch.randint(0, 2, (100,))
    >>> stats = record(net, (X, y), layers="1")
    >>> stats.n_samples, stats.cofire_counts.shape
    (100, (8, 8))
    """
    reading = make_reading(reading, rule=rule, threshold=threshold, quantile=quantile, z=z, neuron_axis=neuron_axis,
                           positions=positions, spatial=spatial, time=time, mask=mask,
                           calibration_samples=calibration_samples)
    check_choice("kernel", kernel, kernels.KERNELS)
    if group is not None and not distributed:
        raise OptionError("group is used only with distributed=True")
    check_bool("patterns", patterns)
    check_bool("moments", moments)
    if memory_limit is not None and (isinstance(memory_limit, bool) or not isinstance(memory_limit, (int, np.integer))
                                     or memory_limit <= 0):
        raise OptionError(f"memory_limit must be a positive number of bytes, got {memory_limit!r}")
    if distributed:
        from .distributed import require_dist
        require_dist()
    device, _ = model_device_dtype(model)
    thresholds = None
    if reading.calibrated:
        thresholds = calibrate(model, data, layers, reading.rule, reading=reading.replace(rule="positive"),
                               quantile=reading.quantile, z=reading.z, batch_size=batch_size,
                               progress=progress, distributed=distributed, group=group,
                               _budget=(moments, memory_limit))
    error = stats = None
    try:
        cuts = Cuts(reading, thresholds)
        box: dict = {}

        def make_acc(sites: list[Site], d: int):
            check_budget(sites, device, moments=moments, memory_limit=memory_limit)
            if patterns:
                box["patterns"] = PatternCounter([s.units for s in sites])
            if moments:
                from ..moments import MomentAccumulator
                box["moments"] = MomentAccumulator(d, device=device)
            return kernels.GramAccumulator(d, device=device, kernel=kernel)

        def on_rows(bits: torch.Tensor, raw: torch.Tensor | None, state: BatchState) -> None:
            if "patterns" in box:
                box["patterns"].add(bits)
            if raw is not None:
                box["moments"].add(raw)

        p = count_pass(model, data, layers, reading, cuts, make_acc=make_acc, batch_size=batch_size,
                       progress=progress, desc="record", on_rows=on_rows if (patterns or moments) else None,
                       keep_raw=moments)
        meta = reading_meta(reading, p.sites, model_device_dtype(model)[1])
        if thresholds is not None:
            meta["thresholds"] = [float(t) for t in thresholds]
        stats = build_stats(p, rule=reading.describe(thresholds), meta=meta, patterns=box.get("patterns"),
                            moments=box.get("moments"))
    except Exception as exc:  # noqa: BLE001 - re-raised below (on every rank when distributed)
        if not distributed:
            raise
        error = exc
    if distributed:
        from .distributed import agree, all_reduce_stats
        agree(error, group=group, what="record")
        stats = all_reduce_stats(stats, group=group)
    _warn_degenerate(stats, reading)
    return stats


def calibrate(model: nn.Module, data, layers: str | Sequence[str], rule: str = "quantile", *,
              quantile: float = 0.9, z: float = 1.0, neuron_axis: str | int | dict = "auto",
              positions: str | None = None, spatial: str = "mean", time: str = "all", mask="attention_mask",
              reading: Reading | None = None, batch_size: int = 256, calibration_samples: int = 10_000,
              progress: bool = False, distributed: bool = False, group=None, _budget=None) -> np.ndarray:
    """Per-neuron thresholds of the ``"quantile"`` or ``"zscore"`` rule, shape (d,).

    Passing them as ``record(..., rule="threshold", threshold=thresholds)`` gives the
    same counts as ``record(..., rule=rule)``; this is how shards recorded by
    separate processes share one rule (their counts can then be added exactly).
    For ``positions="any"`` the values are taken per valid position. The reading options
    (``neuron_axis``, ``positions``, ``spatial``, ``time``, ``mask`` or ``reading``; its rule is
    ignored) are those of :func:`record`.

    With ``distributed=True`` (a collective over the ``torch.distributed`` ``group``; each
    rank passes its shard) every rank gets the same thresholds: the z-score mean and sd of
    all ranks' values (merged exactly in float64), or the quantiles of rank 0's first
    ``calibration_samples`` rows.
    """
    check_choice("rule", rule, ("quantile", "zscore"))
    unused = ("quantile", quantile, 0.9) if rule == "zscore" else ("z", z, 1.0)
    if unused[1] != unused[2]:
        raise OptionError(f"{unused[0]}={unused[1]!r} is not used by rule={rule!r}; leave it out")
    if group is not None and not distributed:
        raise OptionError("group is used only with distributed=True")
    reading = make_reading(reading, neuron_axis=neuron_axis, positions=positions, spatial=spatial, time=time,
                           mask=mask, calibration_samples=calibration_samples)
    reading = reading.replace(rule=rule, quantile=quantile, z=z)
    if not is_reiterable(data):
        raise DataError(f"rule {rule!r} needs a calibration pass, so data must be iterable twice "
                          f"(a DataLoader, a list or (X, y)), not a one-shot iterator")
    device, _ = model_device_dtype(model)
    limit = reading.calibration_samples
    per_site: list = []

    def on_sites(sites: list[Site]) -> None:
        if _budget is not None:
            check_budget(sites, device, moments=_budget[0], memory_limit=_budget[1])
        per_site.extend(_Moments() if rule == "zscore" else _Kept(limit) for _ in sites)

    def on_site(i: int, site: Site, sv: SiteValues, state: BatchState) -> None:
        vals = sv.values if sv.valid is None else sv.values[sv.valid]
        per_site[i].add(vals.detach().to(torch.float64).cpu())

    def on_batch(state: BatchState) -> None:
        if rule == "quantile" and all(k.full for k in per_site):
            raise _Enough

    error = None
    try:
        run_model(model, data, batch_size=batch_size, layers=layers, reading=reading, on_sites=on_sites,
                  on_site=on_site, on_batch=on_batch, progress=progress, desc="calibrate")
    except _Enough:
        pass
    except Exception as exc:  # noqa: BLE001 - re-raised below (on every rank when distributed)
        if not distributed:
            raise
        error = exc
    if distributed:
        return _calibrate_distributed(error, rule, per_site, quantile, z, group)
    if rule == "zscore":
        return np.concatenate([m.mean + z * m.sd for m in per_site])
    return np.concatenate([np.quantile(k.rows(), quantile, axis=0) for k in per_site])


def _calibrate_distributed(error, rule, per_site, quantile, z, group) -> np.ndarray:
    import torch.distributed as dist

    from .distributed import agree

    agree(error, group=group, what="calibrate")
    if rule == "zscore":
        parts: list = [None] * dist.get_world_size(group)
        dist.all_gather_object(parts, [(m.n, m.mean, m.m2) for m in per_site], group=group)
        out = []
        for i in range(len(per_site)):
            total = _Moments()
            for rank in parts:
                total.merge(*rank[i])
            out.append(total.mean + z * total.sd)
        return np.concatenate(out)
    box = [np.concatenate([np.quantile(k.rows(), quantile, axis=0) for k in per_site])
           if dist.get_rank(group) == 0 else None]
    dist.broadcast_object_list(box, src=0, group=group)
    return box[0]


# ---------------------------------------------------------------------------- internals

_MIN_SAMPLES_TO_WARN = 10


class _Enough(Exception):
    """Stops a quantile calibration pass once every site has its rows."""


def reading_meta(reading: Reading, sites: list[Site], dtype: torch.dtype | None) -> dict:
    """The ``meta`` of a recording: how each site was read (the fields merging compares, see
    :func:`neurograph.stats.reading_of`) and the ``spatial`` / ``time`` defaults."""
    mask = reading.mask
    if callable(mask):
        mask = {"callable": f"{getattr(mask, '__module__', None)}.{getattr(mask, '__qualname__', type(mask).__name__)}"}
    return {"spatial": reading.spatial, "time": reading.time,
            "positions": {s.name: s.positions for s in sites if s.positions is not None},
            "neuron_axis": {s.name: s.neuron_axis for s in sites if s.kind != "flat"},
            "mask": mask, "dtype": None if dtype is None else str(dtype).removeprefix("torch.")}


def _warn_degenerate(stats: CoactivationStats, reading: Reading) -> None:
    """DegenerateLayerWarning for each layer with most neurons dead or always on under the rule."""
    n = stats.n_samples
    if n < _MIN_SAMPLES_TO_WARN:  # with a handful of samples every neuron is trivially dead or always on
        return
    layer = stats.neurons["layer"].to_numpy()
    fire = stats.fire_counts
    for name in dict.fromkeys(layer.tolist()):
        sel = layer == name
        units = int(sel.sum())
        dead = float((fire[sel] == 0).mean())
        on = float((fire[sel] == n).mean())
        if units >= 2 and dead + on > 0.5:
            if reading.rule == "zscore":
                advice = "a lower z, or rule='quantile'"
            elif reading.rule == "quantile":
                advice = "a quantile further from 0 and 1"
            else:
                advice = "rule='zscore' (e.g. z=0.5) or rule='quantile', which adapt the cut to each neuron"
            warnings.warn(DegenerateLayerWarning(
                f"layer {name!r}: {dead:.0%} of its {units} neurons never fire and {on:.0%} always fire under "
                f"rule {stats.rule!r} over {n} samples, so its co-activation graph is nearly empty; try {advice}"),
                stacklevel=3)


class _Kept:
    """The first ``limit`` calibration rows of one site, float64."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[np.ndarray] = []
        self.n = 0

    @property
    def full(self) -> bool:
        return self.n >= self.limit

    def add(self, x: torch.Tensor) -> None:
        take = self.limit - self.n
        if take > 0:
            part = x[:take].numpy()
            self.parts.append(part)
            self.n += part.shape[0]

    def rows(self) -> np.ndarray:
        return np.concatenate(self.parts, axis=0)


class _Moments:
    """Exact streaming mean and variance per column in float64 (Chan et al. merge)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = None
        self.m2 = None

    def add(self, x: torch.Tensor) -> None:
        x = x.numpy()
        if x.shape[0] == 0:
            return
        mb = x.mean(axis=0)
        self.merge(x.shape[0], mb, ((x - mb) ** 2).sum(axis=0))

    def merge(self, nb: int, mb: np.ndarray, m2b: np.ndarray) -> None:
        if nb == 0:
            return
        if self.n == 0:
            self.n, self.mean, self.m2 = nb, mb, m2b
            return
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2b + delta**2 * (self.n * nb / n)
        self.n = n

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(self.m2 / self.n)
