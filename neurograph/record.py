"""Record which neurons fire together: forward hooks → exact co-firing counts.

One pass over the data; per batch the hooked layer outputs are reduced to one
value per neuron (unit, or channel for conv outputs), turned into a 0/1 firing
matrix ``B`` (samples × neurons) by a firing rule, and added into
:class:`~neurograph.stats.CoactivationStats` by the exact count kernels of
``neurograph._kernels``: rows are buffered (a few MiB) and counted with int8
``torch._int_mm`` over the upper-triangle blocks of ``B^T B`` (a scipy sparse
product when firing is rare; float32 where ``_int_mm`` is missing), into int32
partial sums flushed into int64. Everything stays on the model's device until
the end. Raw activations are never kept.

Cost: one forward pass plus about ``N d^2 / 2`` int8 multiply-adds; memory
``12 d^2`` bytes at the peak (int32 accumulator + int64 result) plus the
buffers, independent of ``N`` (``+ 8 d^2`` with ``moments=True``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from . import _kernels
from ._accumulate import Accumulator
from ._data import call_model, first_tensor, is_reiterable, iter_batches, to_device
from ._hooks import SPATIAL_MODES, TIME_MODES, capture, layer_values, resolve_layers
from .errors import DataError, LayerError, ModelError, NeurographError
from .stats import CoactivationStats

__all__ = ["calibrate", "list_layers", "record"]

log = logging.getLogger(__name__)

RULES = ("positive", "threshold", "quantile", "zscore")


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
            for name, mod in model.named_modules() if name]
    return pd.DataFrame(rows, columns=["name", "type", "leaf", "recurrent"])


def record(model: nn.Module, data, layers: str | Sequence[str], rule: str = "positive", *,
           threshold: float | np.ndarray = 0.0, quantile: float = 0.9, z: float = 1.0,
           batch_size: int = 256, spatial: str = "mean", time: str = "all", patterns: bool = False,
           calibration_samples: int = 10_000, progress: bool = False, moments: bool = False,
           kernel: str = "auto", distributed: bool = False, group=None) -> CoactivationStats:
    """Record exact co-firing statistics of the neurons in ``layers``.

    Parameters
    ----------
    model : torch.nn.Module
        Any module. It runs under ``torch.no_grad()`` in eval mode; its train/eval
        mode is restored and every hook removed on exit, also on error.
    data : DataLoader, iterable of (inputs, labels), or (X, y)
        Batches of inputs with integer class labels. ``(X, y)`` is split into
        ``batch_size`` rows. Inputs may be a tensor, a tuple of tensors (passed as
        positional arguments) or a dict (keyword arguments). Labels may be None
        (no class statistics are kept then).
    layers : str or list of str
        Module names as in ``model.named_modules()``; glob patterns (``"layers.*"``)
        allowed. See :func:`list_layers`.
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
    spatial : {"mean", "max", "any"}
        For outputs of shape (N, C, *spatial) (conv layers): one neuron per channel,
        valued by the spatial mean or max before the rule, or ``"any"``: the rule is
        applied at every position and the channel fires if it fires anywhere.
    time : {"all", "last"}
        For ``nn.RNN/GRU/LSTM`` outputs: every (valid) time step is a sample, labelled
        with its sequence's label, or only the final hidden state.
    patterns : bool
        Also count each layer's whole binary firing pattern (for pattern entropy).
    progress : bool
        Show a tqdm progress bar over batches.
    moments : bool
        Also keep Pearson statistics of the raw per-neuron values the rule sees (the spatial
        mean or max; the mean for ``spatial="any"``): means and centred cross-products in
        float64, see :class:`~neurograph.moments.ActivationMoments`. Costs a float64
        ``d x d`` product per few MiB of rows (several times the int8 counts).
    kernel : {"auto", "int8", "float32", "sparse"}
        Count kernel (all exact); ``"auto"`` picks per buffer of rows: sparse on CPU when
        firing is rare, else int8 ``torch._int_mm``, else float32.
    distributed : bool
        ``data`` is this rank's shard of the data set; the statistics of all ranks of the
        initialised ``torch.distributed`` process ``group`` are summed and every rank gets
        the whole (see :mod:`neurograph.distributed`). Calibrated rules calibrate over all
        ranks: ``"zscore"`` exactly, ``"quantile"`` on rank 0's first ``calibration_samples``
        rows (broadcast to all). A failure on one rank is raised on every rank.
    group : torch.distributed.ProcessGroup or None
        Group for ``distributed=True`` (None: the default group).

    Returns
    -------
    CoactivationStats
        Counts over ``d`` = total units/channels of the recorded layers.

    Raises
    ------
    LayerError
        A name matching no module, a layer that never ran, an unusable output, or
        layers giving different numbers of samples per batch.
    DataError
        Empty data, labels not matching the inputs, float labels, input dtype not
        matching the model, non-finite activations (the layer is named).
    ModelError
        The model raised on a batch.

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
    if kernel not in _kernels.KERNELS:
        raise DataError(f"kernel must be one of {_kernels.KERNELS}, got {kernel!r}")
    if distributed:
        from .distributed import _require_dist
        _require_dist()
    rule_fn, rule_name, thresholds = _make_rule(model, data, layers, rule, threshold=threshold, quantile=quantile,
                                                z=z, batch_size=batch_size, spatial=spatial, time=time,
                                                calibration_samples=calibration_samples, progress=progress,
                                                distributed=distributed, group=group)
    error = stats = None
    try:
        modules = resolve_layers(model, layers)
        acc = Accumulator(patterns=patterns, moments=moments, kernel=kernel)
        neurons: list[pd.DataFrame] = []

        def on_batch(values: list[torch.Tensor], labels: torch.Tensor | None) -> None:
            if not neurons:
                for (name, _), v in zip(modules, values):
                    neurons.append(pd.DataFrame({"layer": name, "unit": np.arange(v.shape[1], dtype=np.int64)}))
                acc.layer_sizes = [v.shape[1] for v in values]
            fired = torch.cat([rule_fn(i, v) for i, v in enumerate(values)], dim=1)
            raw = None
            if moments:
                raw = torch.cat([_reduce(v, "mean" if spatial == "any" else spatial) for v in values], dim=1)
            acc.add(fired, labels, raw)

        _run(model, data, modules, batch_size=batch_size, time=time, progress=progress, on_batch=on_batch,
             desc="record")
        table = pd.concat(neurons, ignore_index=True)
        meta = {"spatial": spatial, "time": time}
        if thresholds is not None:
            meta["thresholds"] = [float(t) for t in thresholds]
        stats = acc.result(table, rule_name, [name for name, _ in modules], meta)
    except Exception as exc:  # noqa: BLE001 - re-raised below (on every rank when distributed)
        if not distributed:
            raise
        error = exc
    if distributed:
        from .distributed import _agree, all_reduce_stats
        _agree(error, group=group, what="record")
        stats = all_reduce_stats(stats, group=group)
    return stats


def calibrate(model: nn.Module, data, layers: str | Sequence[str], rule: str = "quantile", *,
              quantile: float = 0.9, z: float = 1.0, batch_size: int = 256, spatial: str = "mean",
              time: str = "all", calibration_samples: int = 10_000, progress: bool = False,
              distributed: bool = False, group=None) -> np.ndarray:
    """Per-neuron thresholds of the ``"quantile"`` or ``"zscore"`` rule, shape (d,).

    Passing them as ``record(..., rule="threshold", threshold=thresholds)`` gives the
    same counts as ``record(..., rule=rule)``; this is how shards recorded by
    separate processes share one rule (their counts can then be added exactly).
    For ``spatial="any"`` the values are taken per position.

    With ``distributed=True`` (a collective over the ``torch.distributed`` ``group``; each
    rank passes its shard) every rank gets the same thresholds: the z-score mean and sd of
    all ranks' values (merged exactly in float64), or the quantiles of rank 0's first
    ``calibration_samples`` rows.
    """
    _check_modes(spatial, time)
    if rule not in ("quantile", "zscore"):
        raise DataError(f"calibrate needs rule 'quantile' or 'zscore', got {rule!r}")
    if rule == "quantile" and not 0.0 <= quantile <= 1.0:
        raise DataError(f"quantile must be in [0, 1], got {quantile!r}")
    if not is_reiterable(data):
        raise DataError(f"rule {rule!r} needs a calibration pass, so data must be iterable twice "
                        f"(a DataLoader, a list or (X, y)), not a one-shot iterator")
    modules = resolve_layers(model, layers)
    kept: list[np.ndarray] = []
    moments = _Moments()
    state = {"rows": 0}

    class _Enough(Exception):
        pass

    def on_batch(values, labels):
        per_pos = torch.cat([_positions(v, spatial) for v in values], dim=1).to(torch.float64).cpu()
        if rule == "zscore":
            moments.add(per_pos)
            return
        take = calibration_samples - state["rows"]
        kept.append(per_pos[:take].numpy())
        state["rows"] += min(take, per_pos.shape[0])
        if state["rows"] >= calibration_samples:
            raise _Enough

    error = None
    try:
        _run(model, data, modules, batch_size=batch_size, time=time, progress=progress, on_batch=on_batch,
             desc="calibrate")
    except _Enough:
        pass
    except Exception as exc:  # noqa: BLE001 - re-raised below (on every rank when distributed)
        if not distributed:
            raise
        error = exc
    if distributed:
        return _calibrate_distributed(error, rule, moments, kept, quantile, z, group)
    if rule == "zscore":
        return moments.mean + z * moments.sd
    return np.quantile(np.concatenate(kept, axis=0), quantile, axis=0)


def _calibrate_distributed(error, rule, moments, kept, quantile, z, group) -> np.ndarray:
    import torch.distributed as dist

    from .distributed import _agree

    _agree(error, group=group, what="calibrate")
    if rule == "zscore":
        parts: list = [None] * dist.get_world_size(group)
        dist.all_gather_object(parts, (moments.n, moments.mean, moments.m2), group=group)
        total = _Moments()
        for n, mean, m2 in parts:
            total.merge(n, mean, m2)
        return total.mean + z * total.sd
    box = [np.quantile(np.concatenate(kept, axis=0), quantile, axis=0) if dist.get_rank(group) == 0 else None]
    dist.broadcast_object_list(box, src=0, group=group)
    return box[0]


# ---------------------------------------------------------------------------- internals

def _check_modes(spatial: str, time: str) -> None:
    if spatial not in SPATIAL_MODES:
        raise DataError(f"spatial must be one of {SPATIAL_MODES}, got {spatial!r}")
    if time not in TIME_MODES:
        raise DataError(f"time must be one of {TIME_MODES}, got {time!r}")


def _positions(values: torch.Tensor, spatial: str) -> torch.Tensor:
    """Values a per-neuron rule compares: (rows, units), or (rows·positions, units) for "any"."""
    if spatial == "any":
        return values.permute(0, 2, 1).reshape(-1, values.shape[1])
    return _reduce(values, spatial)


def _reduce(values: torch.Tensor, spatial: str) -> torch.Tensor:
    if values.shape[2] == 1:
        return values[:, :, 0]
    return values.mean(dim=2) if spatial == "mean" else values.amax(dim=2)


def _make_rule(model, data, layers, rule, *, threshold, quantile, z, batch_size, spatial, time,
               calibration_samples, progress, distributed=False, group=None):
    """Return (fn(layer_index, values) -> bool (rows, units), rule description, thresholds or None)."""
    _check_modes(spatial, time)
    if rule not in RULES:
        raise DataError(f"rule must be one of {RULES}, got {rule!r}")
    if rule == "positive":
        cut = None
        name = "positive"
        cuts = None
    elif rule == "threshold":
        cuts = np.asarray(threshold, dtype=np.float64)
        if cuts.ndim == 0:
            if not np.isfinite(cuts):
                raise DataError(f"threshold must be finite, got {threshold!r}")
            name = f"threshold({float(cuts)!r})"
            cut = float(cuts)
            cuts = None
        else:
            name = f"threshold(per-neuron, sha1={hashlib.sha1(cuts.tobytes()).hexdigest()[:12]})"
            cut = cuts
    else:
        cut = calibrate(model, data, layers, rule, quantile=quantile, z=z, batch_size=batch_size,
                        spatial=spatial, time=time, calibration_samples=calibration_samples, progress=progress,
                        distributed=distributed, group=group)
        name = f"quantile({quantile!r})" if rule == "quantile" else f"zscore({z!r})"
        name += f"[sha1={hashlib.sha1(np.asarray(cut).tobytes()).hexdigest()[:12]}]"
        cuts = cut
    per_layer: list[torch.Tensor | float] = []

    def fn(i: int, values: torch.Tensor) -> torch.Tensor:
        if cut is None:
            c: torch.Tensor | float = 0.0
        elif isinstance(cut, float):
            c = cut
        else:
            if len(per_layer) <= i:
                start = sum(int(t.shape[0]) for t in per_layer)
                n_units = values.shape[1]
                if start + n_units > cut.shape[0]:
                    raise DataError(f"threshold has {cut.shape[0]} values but the recorded layers have more "
                                    f"neurons than that")
                per_layer.append(torch.as_tensor(cut[start:start + n_units], dtype=values.dtype,
                                                 device=values.device))
            c = per_layer[i]
        if spatial == "any":
            cc = c[None, :, None] if isinstance(c, torch.Tensor) else c
            return (values > cc).any(dim=2)
        red = _reduce(values, spatial)
        return red > (c[None, :] if isinstance(c, torch.Tensor) else c)

    return fn, name, cuts


def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype | None]:
    for p in model.parameters():
        return p.device, (p.dtype if p.dtype.is_floating_point else None)
    for b in model.buffers():
        return b.device, None
    return torch.device("cpu"), None


def _run(model: nn.Module, data, modules, *, batch_size: int, time: str, progress: bool,
         on_batch: Callable[[list[torch.Tensor], torch.Tensor | None], None], desc: str) -> None:
    """Run ``model`` over ``data`` with hooks on ``modules``; call ``on_batch`` per batch.

    ``on_batch`` gets, per layer, values of shape (rows, units, positions) and the
    labels of the rows (or None). Restores the model's mode and removes hooks.
    """
    device, pdtype = _model_device_dtype(model)
    was_training = model.training
    total = None
    if not isinstance(data, (tuple, list)) or not len(data) == 2:
        try:
            total = len(data)
        except TypeError:
            total = None
    widths: list[int] | None = None
    try:
        model.eval()
        with torch.no_grad(), capture(modules) as outputs:
            batches = iter_batches(data, batch_size)
            for k, (inputs, labels) in enumerate(tqdm(batches, total=total, desc=desc, disable=not progress,
                                                      unit="batch")):
                x0 = first_tensor(inputs)
                if x0 is not None and pdtype is not None and x0.dtype.is_floating_point and x0.dtype != pdtype:
                    raise DataError(f"inputs of batch {k} have dtype {x0.dtype} but the model's parameters are "
                                    f"{pdtype}; convert the inputs (e.g. X.to({pdtype}))")
                outputs.clear()
                try:
                    call_model(model, to_device(inputs, device))
                except NeurographError:
                    raise
                except Exception as exc:
                    raise ModelError(f"the model raised on batch {k} (inputs of shape "
                                     f"{tuple(x0.shape) if x0 is not None else '?'}): {exc}") from exc
                missing = [name for name, _ in modules if name not in outputs]
                if missing:
                    raise LayerError(f"layers {missing} never ran during the forward pass of batch {k}")
                values, row_labels, rows_of = [], None, None
                for name, module in modules:
                    v, steps = layer_values(name, module, outputs[name], time=time)
                    # one cheap pass (a sum); the full check only if the sum is not finite
                    if not torch.isfinite(v.sum()) and not torch.isfinite(v).all():
                        raise DataError(f"layer {name!r} produced non-finite activations (NaN or inf) "
                                        f"on batch {k}")
                    if rows_of is not None and v.shape[0] != rows_of[1]:
                        raise LayerError(f"layers {rows_of[0]!r} and {name!r} give different numbers of samples "
                                         f"per batch ({rows_of[1]} vs {v.shape[0]}); record recurrent layers "
                                         f"with time='last' or separately")
                    rows_of = (name, v.shape[0])
                    if labels is not None and row_labels is None:
                        row_labels = labels if steps is None else labels.repeat_interleave(steps.cpu())
                    values.append(v)
                if widths is None:
                    widths = [v.shape[1] for v in values]
                elif widths != [v.shape[1] for v in values]:
                    raise LayerError(f"layer widths changed between batches: {widths} vs "
                                     f"{[v.shape[1] for v in values]}")
                on_batch(values, row_labels)
    finally:
        model.train(was_training)


class _Moments:
    """Exact streaming mean and variance per column in float64 (Chan et al. merge)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = None
        self.m2 = None

    def add(self, x: torch.Tensor) -> None:
        x = x.numpy()
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
