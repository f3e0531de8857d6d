"""Record which neurons fire together: forward hooks → exact co-firing counts.

One pass over the data; per batch the hooked layer outputs are reduced to one
value per neuron (unit, or channel for conv outputs), turned into a 0/1 firing
matrix ``B`` (samples × neurons) by a firing rule, and added into
:class:`~neurograph.stats.CoactivationStats` with one matrix product ``B^T B``.
Raw activations are never kept.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from . import _kernels
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
           calibration_samples: int = 10_000, progress: bool = False) -> CoactivationStats:
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
    rule_fn, rule_name, thresholds = _make_rule(model, data, layers, rule, threshold=threshold, quantile=quantile,
                                                z=z, batch_size=batch_size, spatial=spatial, time=time,
                                                calibration_samples=calibration_samples, progress=progress)
    modules = resolve_layers(model, layers)
    acc = _Accumulator(patterns=patterns)
    neurons: list[pd.DataFrame] = []

    def on_batch(values: list[torch.Tensor], labels: torch.Tensor | None) -> None:
        if not neurons:
            for (name, _), v in zip(modules, values):
                neurons.append(pd.DataFrame({"layer": name, "unit": np.arange(v.shape[1], dtype=np.int64)}))
            acc.layer_sizes = [v.shape[1] for v in values]
        fired = torch.cat([rule_fn(i, v) for i, v in enumerate(values)], dim=1)
        acc.add(fired, labels)

    _run(model, data, modules, batch_size=batch_size, time=time, progress=progress, on_batch=on_batch,
         desc="record")
    table = pd.concat(neurons, ignore_index=True)
    meta = {"spatial": spatial, "time": time}
    if thresholds is not None:
        meta["thresholds"] = [float(t) for t in thresholds]
    return acc.result(table, rule_name, [name for name, _ in modules], meta)


def calibrate(model: nn.Module, data, layers: str | Sequence[str], rule: str = "quantile", *,
              quantile: float = 0.9, z: float = 1.0, batch_size: int = 256, spatial: str = "mean",
              time: str = "all", calibration_samples: int = 10_000, progress: bool = False) -> np.ndarray:
    """Per-neuron thresholds of the ``"quantile"`` or ``"zscore"`` rule, shape (d,).

    Passing them as ``record(..., rule="threshold", threshold=thresholds)`` gives the
    same counts as ``record(..., rule=rule)``; this is how shards recorded by
    separate processes share one rule (their counts can then be added exactly).
    For ``spatial="any"`` the values are taken per position.
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

    try:
        _run(model, data, modules, batch_size=batch_size, time=time, progress=progress, on_batch=on_batch,
             desc="calibrate")
    except _Enough:
        pass
    if rule == "zscore":
        return moments.mean + z * moments.sd
    return np.quantile(np.concatenate(kept, axis=0), quantile, axis=0)


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
               calibration_samples, progress):
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
                        spatial=spatial, time=time, calibration_samples=calibration_samples, progress=progress)
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
                    if not torch.isfinite(v).all():
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
        nb = x.shape[0]
        mb = x.mean(axis=0)
        m2b = ((x - mb) ** 2).sum(axis=0)
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


class _Accumulator:
    """Running int64 counts on the batches' device; moved to numpy at the end."""

    def __init__(self, *, patterns: bool) -> None:
        self.n = 0
        self.fire = None
        self.cofire = None
        self.class_index: dict[int, int] = {}
        self.class_counts: torch.Tensor | None = None
        self.class_fire: torch.Tensor | None = None
        self.patterns: list[Counter] | None = [] if patterns else None
        self.layer_sizes: list[int] = []

    def add(self, fired: torch.Tensor, labels: torch.Tensor | None) -> None:
        n, d = fired.shape
        dev = fired.device
        if self.fire is None:
            self.fire = torch.zeros(d, dtype=torch.int64, device=dev)
            self.cofire = torch.zeros((d, d), dtype=torch.int64, device=dev)
            self.class_counts = torch.zeros(0, dtype=torch.int64, device=dev)
            self.class_fire = torch.zeros((0, d), dtype=torch.int64, device=dev)
        self.n += n
        self.fire += fired.sum(dim=0, dtype=torch.int64)
        self.cofire += _kernels.gram_counts(fired)
        if labels is not None:
            labels = labels.to(dev)
            uniq = torch.unique(labels).tolist()
            new = [c for c in uniq if c not in self.class_index]
            if new:
                for c in new:
                    self.class_index[c] = len(self.class_index)
                grow = len(new)
                self.class_counts = torch.cat([self.class_counts, torch.zeros(grow, dtype=torch.int64, device=dev)])
                self.class_fire = torch.cat([self.class_fire, torch.zeros((grow, d), dtype=torch.int64, device=dev)])
            lut = torch.tensor([self.class_index[c] for c in uniq], dtype=torch.int64, device=dev)
            rows = lut[torch.searchsorted(torch.tensor(uniq, device=dev), labels)]
            self.class_counts += torch.bincount(rows, minlength=len(self.class_index))
            self.class_fire += _kernels.class_fire_counts(fired, rows, len(self.class_index))
        if self.patterns is not None:
            self._add_patterns(fired)

    def _add_patterns(self, fired: torch.Tensor) -> None:
        bits = fired.cpu().numpy()
        start = 0
        for i, width in enumerate(self.layer_sizes):
            if len(self.patterns) <= i:
                self.patterns.append(Counter())
            packed = np.packbits(bits[:, start:start + width], axis=1)
            start += width
            rows = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1])))[:, 0]
            uniq, counts = np.unique(rows, return_counts=True)
            counter = self.patterns[i]
            for u, c in zip(uniq, counts):
                key = int.from_bytes(hashlib.blake2b(u.tobytes(), digest_size=8).digest(), "little")
                counter[key] += int(c)

    def result(self, neurons: pd.DataFrame, rule: str, layer_names: list[str], meta: dict) -> CoactivationStats:
        order = sorted(self.class_index, key=lambda c: c)
        perm = [self.class_index[c] for c in order]
        patterns = None
        if self.patterns is not None:
            patterns = {name: dict(c) for name, c in zip(layer_names, self.patterns)}
        return CoactivationStats(
            neurons=neurons, n_samples=int(self.n), fire_counts=self.fire.cpu().numpy(),
            cofire_counts=self.cofire.cpu().numpy(), classes=np.asarray(order, dtype=np.int64),
            class_counts=self.class_counts[perm].cpu().numpy() if perm else np.zeros(0, np.int64),
            class_fire_counts=(self.class_fire[perm].cpu().numpy() if perm
                               else np.zeros((0, self.fire.shape[0]), np.int64)),
            pattern_counts=patterns, rule=rule, meta=meta)
