"""The one capture loop: run a model over data with hooks, and read each recorded layer the same way.

Every function that runs a model over data (record, calibrate, the blockwise recorders,
record_states, gate_patterns, score_model's accuracy, preview) goes through :func:`run_model`:

* ``torch.no_grad()``, the model in eval mode, and on exit (also on error and
  ``KeyboardInterrupt``) *every* submodule back in its own train/eval mode and every hook removed;
* inputs normalised by :mod:`neurograph._data` (numpy / pandas / lists, float inputs cast to the
  model's parameter dtype, dict batches as keyword arguments);
* the recorded layers become *sites*: one per module, or one per call (``name#0``, ``name#1``)
  for a module that runs more than once per forward pass. A dry forward pass of the first batch
  (hooks on every module) finds the call counts, each site's neuron axis and positions;
* each site's output is read *inside its hook* (so an in-place op that later overwrites the
  tensor cannot change what is counted) into :class:`SiteValues`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence
from tqdm.auto import tqdm

from .batches import (Batch, LabelCodes, call_model, first_tensor_of, iter_batches, model_device_dtype, n_batches,
                      prepare_inputs)
from .hooks import compiled_ancestor, original_module, resolve_layers, restored_modes
from ..errors import DataError, LayerError, ModelError, NeurographError, OptionError
from .reading import Reading

log = logging.getLogger(__name__)

# module kinds whose neuron axis is known from the type
_CHANNEL_TYPES: tuple[type, ...] = (
    nn.modules.conv._ConvNd, nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm,
    nn.GroupNorm, nn.LocalResponseNorm,
    nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd, nn.modules.pooling._LPPoolNd,
)
_LAST_TYPES: tuple[type, ...] = (nn.Linear, nn.Bilinear, nn.Embedding, nn.EmbeddingBag, nn.MultiheadAttention)
# norms over the trailing normalized_shape axes in their own forward; subclasses that permute
# (timm's LayerNorm2d, Hugging Face ConvNeXt's channels_first LayerNorm) are read by shape / data_format
_NORM_TYPES: tuple[type, ...] = (nn.LayerNorm,) + ((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())
# torch's transformer layers run their submodules on the layout of their self_attn (no transposes)
_TRANSFORMER_LAYERS: tuple[type, ...] = (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)
_TRANSFORMER_STACKS: tuple[type, ...] = (nn.TransformerEncoder, nn.TransformerDecoder, nn.Transformer)


@dataclass(frozen=True, eq=False)
class Site:
    """One recorded call of one module.

    Attributes
    ----------
    name : str
        ``layer`` for a module called once per forward pass, ``layer#k`` for its k-th call otherwise.
    layer : str
        The module name (as in ``model.named_modules()``).
    call : int
        Which call of the module per forward pass (0-based).
    module : torch.nn.Module
    kind : {"flat", "spatial", "tokens", "recurrent", "raw"}
        ``flat``: (batch, units); ``spatial``: neuron axis not last (conv maps);
        ``tokens``: neuron axis last with positions; ``recurrent``: nn.RNN/GRU/LSTM;
        ``raw``: not read here (the caller reads the output itself).
    neuron_axis : int
        Axis of the output (first tensor) holding the neurons, >= 1.
    axis_source : str
        How the axis was found (``"type"``, ``"user"``, ``"input of NAME"``, ...).
    units : int
        Neurons of the site.
    shape : tuple of int
        Output shape of one input (batch axis removed), from the first batch.
    positions : str or None
        Positions mode (None for flat sites).
    n_positions : int
        Positions per input (1 for flat sites).
    batch_axis : int
        Axis of the output holding the batch: 0, or 1 for sequence-first outputs (``(T, batch, ...)``
        of ``batch_first=False`` attention and transformer layers), read with the batch moved
        first; ``neuron_axis`` and ``shape`` count axes in that batch-first order.
    """

    name: str
    layer: str
    call: int
    module: nn.Module = field(repr=False)
    kind: str
    neuron_axis: int
    axis_source: str
    units: int
    shape: tuple
    positions: str | None
    n_positions: int
    batch_axis: int = 0


@dataclass(frozen=True, eq=False)
class SiteValues:
    """A site's values on one batch, read the way its :class:`Site` says.

    ``values`` is (rows, units) for every positions mode but ``"any"``, where it is
    (inputs, positions, units) with ``valid`` (inputs, positions) bool. ``counts`` (inputs,)
    int64: rows each input contributed (0 or 1, or its number of valid positions for ``"all"``).
    """

    values: torch.Tensor
    counts: torch.Tensor
    valid: torch.Tensor | None = None

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])


@dataclass
class BatchState:
    """What :func:`run_model` hands to ``on_batch``: the batch, its model output and per-input rows."""

    index: int
    batch: Batch
    output: object = None
    counts: torch.Tensor | None = None  # rows per input (from the sites), None without sites

    def row_labels(self) -> torch.Tensor | None:
        """Labels (codes) of the rows the sites gave (an input's label repeated per row)."""
        y = self.batch.labels
        if y is None or self.counts is None:
            return y
        c = self.counts.to(y.device)
        if bool((c == 1).all()):
            return y
        return y.repeat_interleave(c)


def find_sites(model: nn.Module, batch: Batch, layers, reading: Reading, call=None) -> list[Site]:
    """Dry forward pass of one batch (hooks on every module): the sites of ``layers`` and how to read them.

    Call inside :func:`run_model`'s context (no_grad, eval); raises LayerError for a layer that
    never ran, an output with no tensor, or a neuron axis that cannot be told.
    """
    chosen = resolve_layers(model, layers)
    names = {id(m): n for n, m in model.named_modules()}
    calls: list[_Call] = []
    handles = []

    def hook(module, args, kwargs, output):
        inp, out = _first_input(args, kwargs), first_tensor_of(output)
        nested = bool(out is not None and out.is_nested) or bool(inp is not None and inp.is_nested)
        calls.append(_Call(names.get(id(module), "?"), module, None if nested else inp, None if nested else output,
                           nested))

    try:
        for _, m in model.named_modules():
            handles.append(m.register_forward_hook(hook, with_kwargs=True))
        _forward(model, batch, 0, call)
    finally:
        for h in handles:
            h.remove()
    by_name: dict[str, list[int]] = {}
    for i, c in enumerate(calls):
        by_name.setdefault(c.name, []).append(i)
    check_call_names(model, [name for name, _ in chosen])
    seq_batches = _seq_first_batches(calls, batch.n)
    sites: list[Site] = []
    memo: dict[int, tuple[int | None, str]] = {}
    named = dict(model.named_modules())
    seq_first = [n for n, m in named.items() if _declared_batch_first(m) is False]
    baxes: dict[tuple[str, int], int] = {}
    pending: dict[tuple[str, int], tuple[str, tuple]] = {}
    for name, module in chosen:
        idx = by_name.get(name, [])
        if not idx:
            compiled = compiled_ancestor(model, name)
            why = "; record a module that runs" if compiled is None else (
                f": it is inside {compiled!r}, a torch.compile'd module, and forward hooks do not run inside "
                f"compiled code; record the model before compiling it (for {compiled!r}: its ._orig_mod)")
            raise LayerError(f"layer {name!r} ({type(module).__name__}) never ran during the forward pass of the "
                             f"first batch{why}")
        for k, i in enumerate(idx):
            site_name = name if len(idx) == 1 else f"{name}#{k}"
            if calls[i].nested:
                raise LayerError(f"layer {site_name!r} ({type(module).__name__}) runs on nested tensors (PyTorch's "
                                 f"TransformerEncoder fast path: batch_first layers, a src_key_padding_mask, eval "
                                 f"mode), which have no fixed shape to read; build the encoder with "
                                 f"enable_nested_tensor=False to record it")
            out = first_tensor_of(calls[i].output)
            if isinstance(module, nn.RNNBase) or out is None or out.ndim < 3:
                continue
            if seq_batches and _declared_layout(name, named) is None:
                what, shape = seq_batches[0]
                raise LayerError(f"cannot tell the batch axis of layer {site_name!r} ({type(module).__name__}, output "
                                 f"shape {tuple(out.shape)}): module {what!r} (batch_first=False) ran on input of "
                                 f"shape {shape}, a batch of {shape[1]} on axis 1, but the batch has {batch.n} "
                                 f"inputs (axis 0 of the inputs): the inputs look sequence-first; give the model "
                                 f"batch-first inputs (transpose inside its forward)")
            ax = _batch_axis(site_name, name, named, out, batch.n)
            if ax is None:
                pending[(name, k)] = (site_name, tuple(out.shape))
            else:
                baxes[(name, k)] = ax
    if pending:
        baxes.update(_probe_batch_axes(model, batch, pending, named, seq_first, call))
    for name, module in chosen:
        for k, i in enumerate(by_name[name]):
            site_name = name if len(by_name[name]) == 1 else f"{name}#{k}"
            sites.append(_make_site(site_name, name, k, module, i, calls, reading, memo, batch.n,
                                    baxes.get((name, k), 0)))
    if isinstance(reading.neuron_axis, Mapping):
        for pattern in reading.neuron_axis:
            if not any(fnmatch.fnmatchcase(s.name, pattern) or fnmatch.fnmatchcase(s.layer, pattern) for s in sites):
                raise OptionError(f"neuron_axis[{pattern!r}] matches none of the recorded layers "
                                  f"{[s.name for s in sites]}")
    return sites


def check_call_names(model: nn.Module, names: list[str]) -> None:
    """Refuse a module named like another module's k-th call (``blk#0`` beside ``blk``) when either is recorded.

    A module called several times per forward pass gives the sites ``name#0``, ``name#1``, ...;
    a module literally named ``name#0`` would give neurons of the same name.
    """
    every = {n for n, _ in model.named_modules() if n}
    wanted = set(names)
    for n in sorted(every):
        m = re.fullmatch(r"(.+)#(\d+)", n, re.DOTALL)
        if m is not None and m.group(1) in every and (n in wanted or m.group(1) in wanted):
            base = m.group(1)
            raise LayerError(f"the model has a module named {n!r} and a module named {base!r}, whose calls are "
                             f"recorded as {base + '#0'!r}, {base + '#1'!r}, ... when it runs more than once per "
                             f"forward pass: the names would be ambiguous; rename the module {n!r} (without '#')")


def run_model(model: nn.Module, data, *, batch_size: int, on_batch: Callable[[BatchState], None],
              layers=None, reading: Reading | None = None,
              on_sites: Callable[[list[Site]], None] | None = None,
              on_site: Callable[[int, Site, SiteValues, BatchState], None] | None = None,
              progress: bool = False, desc: str = "", max_batches: int | None = None,
              codes: LabelCodes | None = None, read: bool = True,
              call: Callable[[nn.Module, object], object] | None = None, same_rows: bool = True) -> list[Site]:
    """Run ``model`` over ``data``; read ``layers`` per batch; call back. The only forward loop.

    Parameters
    ----------
    on_batch : callable(BatchState)
        After each forward pass (``state.output`` is the model's output).
    layers, reading
        Layers to read (None: no hooks) and how.
    on_sites : callable(list of Site), optional
        Once, after the dry pass of the first batch and before any counting.
    on_site : callable(index, Site, SiteValues, BatchState), optional
        Inside each site's hook, as soon as the site's output exists.
    max_batches : int, optional
        Stop after this many batches.
    codes : LabelCodes, optional
        Label coding shared with the caller (to decode class names afterwards).
    read : bool
        False: ``on_site`` gets the site's raw output tensor (first tensor) instead of SiteValues.
    call : callable(model, inputs), optional
        How to run the model on a batch's inputs (default: positional for tuples, keywords for dicts).
    same_rows : bool
        Require every site to give the same samples per input (as counting together needs).

    Returns
    -------
    list of Site
    """
    reading = reading or Reading()
    model = original_module(model)  # hooks do not run inside torch.compile'd code
    device, dtype = model_device_dtype(model)
    total = n_batches(data, batch_size)
    sites: list[Site] = []
    with restored_modes(model), torch.no_grad(), contextlib.ExitStack() as stack:
        model.eval()
        batches = iter_batches(data, batch_size, codes)
        bar = stack.enter_context(tqdm(total=total, desc=desc, disable=not progress, unit="batch", leave=False))
        hooks: _SiteHooks | None = None
        for k, batch in enumerate(batches):
            if max_batches is not None and k >= max_batches:
                break
            batch = prepare_inputs(batch, device, dtype, k)
            state = BatchState(index=k, batch=batch)
            if layers is not None:
                if hooks is None and not read:  # raw outputs: no dry pass; calls found on the first batch
                    sites = [Site(name, name, 0, m, "raw", 1, "caller", 0, (), None, 1)
                             for name, m in resolve_layers(model, layers)]
                    check_call_names(model, [site.layer for site in sites])
                    hooks = stack.enter_context(_SiteHooks(sites, reading, on_site, read))
                if hooks is None:
                    sites = find_sites(model, batch, layers, reading, call)
                    if on_sites is not None:
                        on_sites(sites)
                    hooks = stack.enter_context(_SiteHooks(sites, reading, on_site, read, same_rows))
                hooks.begin(state)
            state.output = _forward(model, batch, k, call)
            if hooks is not None:
                hooks.end(state)
            on_batch(state)
            bar.update(1)
    return sites


# ---------------------------------------------------------------------------- reading one output

def read_site(site: Site, output, mask: torch.Tensor | None, n: int) -> SiteValues:
    """Read ``output`` of ``site`` on a batch of ``n`` inputs with optional padding ``mask`` (n, T)."""
    mode = site.positions
    if site.kind == "recurrent":
        x, valid = _recurrent_output(site, output, mask, mode)
        if x.ndim == 2:  # "last": h_n
            return SiteValues(x, torch.ones(n, dtype=torch.int64, device=x.device))
    else:
        t = first_tensor_of(output)
        if t is None or isinstance(output, PackedSequence):
            raise LayerError(f"layer {site.name!r} returns {type(output).__name__} with no tensor in it")
        if site.batch_axis and t.ndim > site.batch_axis:  # sequence-first: (T, batch, ...) -> (batch, T, ...)
            t = t.movedim(site.batch_axis, 0)
        if t.ndim < 2 or t.shape[0] != n:
            raise LayerError(f"layer {site.name!r} returns shape {tuple(t.shape)} for a batch of {n} inputs; "
                             f"the batch must be axis 0 (batch_first models)")
        if t.ndim == 2:
            if t.shape[1] != site.units:
                raise LayerError(f"layer {site.name!r} gave {t.shape[1]} units on this batch but "
                                 f"{site.units} on the first")
            return SiteValues(t, torch.ones(n, dtype=torch.int64, device=t.device))
        ax = site.neuron_axis
        if t.shape[ax] != site.units:
            raise LayerError(f"layer {site.name!r} gave {t.shape[ax]} units on axis {ax} on this batch but "
                             f"{site.units} on the first")
        valid = None
        if mask is not None and t.ndim == 3 and t.shape[3 - ax] == mask.shape[1]:
            valid = mask
        if valid is None and mode in ("mean", "max") and ax == 1:  # common conv case, no copy
            dims = tuple(range(2, t.ndim))
            red = t.mean(dim=dims, dtype=_mean_dtype(t)) if mode == "mean" else t.amax(dim=dims)
            return SiteValues(red, torch.ones(n, dtype=torch.int64, device=t.device))
        x = t.movedim(ax, -1).reshape(n, -1, site.units)
    return _positions(x, valid, mode)


def _mean_dtype(x: torch.Tensor) -> torch.dtype | None:
    """float32 for the means of 16-bit floats (not rounded back to 16 bits before the rule), float64 for
    integer / bool outputs (a quantised layer's int8: torch has no integer mean), else None."""
    if x.dtype in (torch.bfloat16, torch.float16):
        return torch.float32
    return None if x.is_floating_point() or x.is_complex() else torch.float64


def _positions(x: torch.Tensor, valid: torch.Tensor | None, mode: str) -> SiteValues:
    """(n, P, d) values and optional valid (n, P) → the rows of ``mode``."""
    n, p, d = x.shape
    dev = x.device
    if valid is None:
        if mode == "all":
            return SiteValues(x.reshape(n * p, d), torch.full((n,), p, dtype=torch.int64, device=dev))
        ones = torch.ones(n, dtype=torch.int64, device=dev)
        if mode == "mean":
            return SiteValues(x.mean(dim=1, dtype=_mean_dtype(x)), ones)
        if mode == "max":
            return SiteValues(x.amax(dim=1), ones)
        if mode == "first":
            return SiteValues(x[:, 0], ones)
        if mode == "last":
            return SiteValues(x[:, -1], ones)
        return SiteValues(x, ones, torch.ones((n, p), dtype=torch.bool, device=dev))
    valid = valid.to(device=dev).bool()
    per = valid.sum(dim=1, dtype=torch.int64)
    if mode == "all":
        return SiteValues(x[valid], per)
    has = per > 0
    keep = x[has]
    v = valid[has]
    counts = has.to(torch.int64)
    if mode == "mean":
        keep = keep.to(_mean_dtype(keep) or keep.dtype)
        w = v.to(keep.dtype).unsqueeze(-1)
        return SiteValues((keep * w).sum(dim=1) / w.sum(dim=1), counts)
    if mode == "max":
        low = float("-inf") if keep.is_floating_point() else (
            False if keep.dtype == torch.bool else torch.iinfo(keep.dtype).min)
        return SiteValues(keep.masked_fill(~v.unsqueeze(-1), low).amax(dim=1), counts)
    if mode == "any":
        return SiteValues(keep, counts, v)
    ar = torch.arange(keep.shape[0], device=dev)
    if mode == "first":
        return SiteValues(keep[ar, v.to(torch.int8).argmax(dim=1)], counts)
    last = v.shape[1] - 1 - v.flip(1).to(torch.int8).argmax(dim=1)
    return SiteValues(keep[ar, last], counts)


def _recurrent_output(site: Site, output, mask, mode) -> tuple[torch.Tensor, torch.Tensor | None]:
    module = site.module
    if not isinstance(output, (tuple, list)) or len(output) != 2:
        raise LayerError(f"layer {site.name!r} ({type(module).__name__}) should return (output, h_n)")
    seq, h_n = output
    if mode == "last":
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        dirs = 2 if module.bidirectional else 1
        last = h_n[-dirs:]  # (dirs, N, H)
        return last.permute(1, 0, 2).reshape(last.shape[1], -1), None
    valid = None
    if isinstance(seq, PackedSequence):
        padded, lengths = pad_packed_sequence(seq, batch_first=True)
        valid = torch.arange(padded.shape[1])[None, :] < lengths[:, None]
        seq = padded
    elif not module.batch_first:
        seq = seq.transpose(0, 1)
    if valid is None and mask is not None and mask.shape[1] == seq.shape[1]:
        valid = mask
    return seq, valid


# ---------------------------------------------------------------------------- internals

@dataclass
class _Call:
    name: str
    module: nn.Module
    input: torch.Tensor | None
    output: object
    nested: bool = False


def _first_input(args, kwargs) -> torch.Tensor | None:
    t = first_tensor_of(tuple(args))
    if t is None and kwargs:
        t = first_tensor_of(kwargs)
    return t


def _forward(model: nn.Module, batch: Batch, k: int, call=None):
    try:
        return call_model(model, batch.inputs) if call is None else call(model, batch.inputs)
    except NeurographError:
        raise
    except Exception as exc:
        raise ModelError(f"the model raised on batch {k} ({batch.describe()}): {type(exc).__name__}: {exc}") from exc


def _is_param_free(module: nn.Module) -> bool:
    return next(module.children(), None) is None and next(module.parameters(recurse=False), None) is None \
        and not isinstance(module, _CHANNEL_TYPES + _LAST_TYPES + _NORM_TYPES)


def _normalized_shape(module: nn.Module) -> tuple[int, ...] | None:
    ns = getattr(module, "normalized_shape", None)
    if isinstance(ns, int) and not isinstance(ns, bool):
        return (int(ns),)
    if isinstance(ns, (tuple, list, torch.Size)) and ns and all(isinstance(v, int) for v in ns):
        return tuple(int(v) for v in ns)
    return None


def _norm_axis(module: nn.Module, shape, out: torch.Tensor | None = None,
               inp: torch.Tensor | None = None) -> tuple[int | None, str] | None:
    """Neuron axis of a LayerNorm-like module's output of ``shape`` (batch first), or None for other modules.

    ``nn.LayerNorm`` / ``nn.RMSNorm`` with their own forward normalise the trailing
    ``normalized_shape`` axes: the last axis. A subclass with its own forward (timm's
    ``LayerNorm2d``, Hugging Face ConvNeXt's ``ConvNextLayerNorm``), or any other module with a
    ``normalized_shape`` (the ConvNeXt repository's ``LayerNorm``), may permute: its declared
    ``data_format`` (``"channels_first"``: axis 1; ``"channels_last"``: last) if it has one, else
    the one axis whose length is ``normalized_shape``; when several axes have it (width ==
    channels), the one along which normalising the call's input ``inp`` gives its output ``out``;
    (None, why) when that is not one axis.
    """
    ns = _normalized_shape(module)
    if ns is None:
        return None
    ndim, name = len(shape), type(module).__name__
    own = next((base for base in _NORM_TYPES if isinstance(module, base)), None)
    fmt = getattr(module, "data_format", None)
    if own is not None and type(module).forward is own.forward:
        return ndim - 1, f"type {name}"
    if fmt in ("channels_first", "channels_last") and len(ns) == 1:
        ax = 1 if fmt == "channels_first" else ndim - 1
        if ax < ndim and shape[ax] == ns[0]:
            return ax, f"type {name} ({fmt})"
        return None, (f"{name} declares data_format={fmt!r} but its output of shape {tuple(shape)} has not "
                      f"{ns[0]} (normalized_shape) on axis {ax}")
    if len(ns) > 1:
        if tuple(shape[ndim - len(ns):]) == ns:
            return ndim - 1, f"type {name}"
        return None, f"{name}'s normalized_shape {ns} is not the trailing axes of its output {tuple(shape)}"
    match = [a for a in range(1, ndim) if shape[a] == ns[0]]
    if len(match) == 1:
        return match[0], f"normalized_shape of {name} on axis {match[0]}"
    if not match:
        return None, f"no axis of {name}'s output {tuple(shape)} has its normalized_shape {ns[0]}"
    redone = [a for a in match if _normalises_along(module, inp, out, a)]
    if len(redone) == 1:
        return redone[0], f"{name} normalises axis {redone[0]} (checked on the first batch)"
    return None, (f"axes {match} of {name}'s output {tuple(shape)} all have its normalized_shape {ns[0]} and it "
                  f"declares no data_format")


def _normalises_along(module: nn.Module, inp: torch.Tensor | None, out: torch.Tensor | None, axis: int) -> bool:
    """True when normalising ``inp`` along ``axis`` with ``module``'s parameters gives ``out`` (float32; to
    1e-3, or 4 epsilons of a coarser output dtype)."""
    if inp is None or out is None or inp.shape != out.shape or not inp.is_floating_point():
        return False
    w = getattr(module, "weight", None)
    b = getattr(module, "bias", None)
    eps = getattr(module, "eps", None)
    x = inp.detach().movedim(axis, -1).float()
    w = w.detach().float() if isinstance(w, torch.Tensor) else None
    try:
        if hasattr(nn, "RMSNorm") and isinstance(module, nn.RMSNorm):
            ref = F.rms_norm(x, (x.shape[-1],), w, eps)
        else:
            b = b.detach().float() if isinstance(b, torch.Tensor) else None
            ref = F.layer_norm(x, (x.shape[-1],), w, b, 1e-5 if eps is None else float(eps))
    except (RuntimeError, TypeError, ValueError):
        return False
    tol = max(1e-3, 4 * torch.finfo(out.dtype).eps)
    return bool(torch.allclose(ref.movedim(-1, axis), out.detach().float(), rtol=tol, atol=tol))


def _type_axis(module: nn.Module, shape) -> int | None:
    ndim = len(shape)
    if isinstance(module, _CHANNEL_TYPES):
        return 1
    if isinstance(module, _LAST_TYPES):
        return ndim - 1
    norm = _norm_axis(module, shape)
    if norm is not None:
        return norm[0]
    if type(module).__name__ == "Conv1D" and hasattr(module, "nf"):  # Hugging Face GPT-2 projection
        return ndim - 1
    return None


def _same(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    return (a is not None and b is not None and a.shape == b.shape
            and (a is b or (a.data_ptr() == b.data_ptr() and a.stride() == b.stride())))


def _axis_of_call(i: int, calls: list[_Call], memo: dict, depth: int = 0) -> tuple[int | None, str]:
    """Neuron axis (normalised >= 1, or None) of call ``i``'s first output tensor, and how it was found."""
    if i in memo:
        return memo[i]
    memo[i] = (None, "cycle")
    c = calls[i]
    out = first_tensor_of(c.output)
    res: tuple[int | None, str] = (None, "unknown")
    if out is not None and depth < 64:
        if out.ndim == 2:
            res = (1, "2-D output")
        elif isinstance(c.module, nn.RNNBase):
            res = (out.ndim - 1, "recurrent")
        elif (norm := _norm_axis(c.module, out.shape, out, c.input)) is not None:
            res = norm
        elif (ax := _type_axis(c.module, out.shape)) is not None:
            res = (ax, f"type {type(c.module).__name__}")
        elif _is_param_free(c.module):
            res = _carried_axis(_axis_from_producer(i, calls, memo, depth), c, out)
        else:
            res = _axis_from_submodule(i, calls, memo, depth)
    memo[i] = res
    return res


def _carried_axis(res: tuple[int | None, str], c: _Call, out: torch.Tensor) -> tuple[int | None, str]:
    """The producer's axis ``res`` (an axis of ``c``'s input) as an axis of ``c``'s output, or None.

    A parameter-free module that reshapes (``nn.Unflatten``, a view) keeps the neurons only where
    the axes up to a leading neuron axis, or a last neuron axis, are unchanged.
    """
    ax, how = res
    inp = c.input
    if ax is None or inp is None or tuple(inp.shape) == tuple(out.shape):
        return res
    if ax < inp.ndim - 1 and out.ndim > ax and tuple(out.shape[:ax + 1]) == tuple(inp.shape[:ax + 1]):
        return res
    if ax == inp.ndim - 1 and out.shape[-1] == inp.shape[-1] and tuple(out.shape[:1]) == tuple(inp.shape[:1]):
        return out.ndim - 1, how
    return None, f"{type(c.module).__name__} reshapes its input {tuple(inp.shape)} to {tuple(out.shape)}"


def _axis_from_producer(i: int, calls: list[_Call], memo: dict, depth: int) -> tuple[int | None, str]:
    """A parameter-free module reads the neurons of whatever produced its input."""
    inp = calls[i].input
    if inp is None:
        return None, "unknown"
    for j in range(i - 1, -1, -1):
        if _same(first_tensor_of(calls[j].output), inp):
            ax, how = _axis_of_call(j, calls, memo, depth + 1)
            if ax is not None:
                return ax, f"input of {calls[j].name!r}" if how.startswith("type") else how
            if _norm_axis(calls[j].module, first_tensor_of(calls[j].output).shape) is not None:
                return None, how  # an ambiguous norm: refuse rather than guess from shapes
            break
    permuted = []  # more recent outputs whose axes, permuted, give the input's shape: (name, neuron count)
    for j in range(i - 1, -1, -1):  # no module produced it (a residual sum, say): latest same-shaped output
        out = first_tensor_of(calls[j].output)
        if out is not None and out.shape != inp.shape and out.ndim == inp.ndim and out.shape[0] == inp.shape[0] \
                and sorted(out.shape) == sorted(inp.shape) and (pax := _type_axis(calls[j].module, out.shape)):
            permuted.append((calls[j].name, int(out.shape[pax])))
        if out is not None and out.shape == inp.shape and (ax := _type_axis(calls[j].module, out.shape)) is not None:
            other = [(name, d) for name, d in permuted if d != out.shape[ax]]
            if other:  # the input may be that output permuted (a channels-last map), with other neurons
                return None, (f"no module produced its input; the latest output of its shape, {calls[j].name!r}'s, "
                              f"has {out.shape[ax]} neurons on axis {ax}, but {other[0][0]!r}'s later output, "
                              f"permuted, has the same shape with {other[0][1]} neurons")
            if list(out.shape[1:]).count(out.shape[ax]) > 1:  # e.g. (C, H, W) with C == W: the shape cannot tell
                return None, (f"no module produced its input and the latest output of that shape, "
                              f"{calls[j].name!r}'s, has {out.shape[ax]} on more than one axis")
            return ax, f"same shape as {calls[j].name!r}"
        if out is not None and out.shape == inp.shape and (norm := _norm_axis(calls[j].module, out.shape)):
            return None, norm[1]
    return None, "unknown"


def _axis_from_submodule(i: int, calls: list[_Call], memo: dict, depth: int) -> tuple[int | None, str]:
    """A container (or unknown module with parameters) reads the neurons of the submodule that made its output."""
    c = calls[i]
    out = first_tensor_of(c.output)
    subs = {id(m) for m in c.module.modules() if m is not c.module}
    for j in range(i - 1, -1, -1):
        if id(calls[j].module) in subs and _same(first_tensor_of(calls[j].output), out):
            ax, how = _axis_of_call(j, calls, memo, depth + 1)
            if ax is not None:
                return ax, f"output of {calls[j].name!r}"
            if _norm_axis(calls[j].module, out.shape) is not None:
                return None, how  # an ambiguous norm: refuse rather than guess from shapes
            break
    inp = c.input
    if out is not None and inp is not None and inp.shape == out.shape:  # shape-preserving: axis of its input
        ax, how = _axis_from_producer(i, calls, memo, depth)
        if ax is not None:
            return ax, f"shape-preserving, {how}"
    return None, "unknown"


def _user_axis(reading: Reading, site_name: str, layer: str) -> int | None:
    ax = reading.neuron_axis
    if isinstance(ax, Mapping):
        for exact in (site_name, layer):  # a layer's own name wins over patterns
            if exact in ax:
                return int(ax[exact])
        hits = {p: int(v) for p, v in ax.items()
                if fnmatch.fnmatchcase(site_name, p) or fnmatch.fnmatchcase(layer, p)}
        if len(set(hits.values())) > 1:
            raise OptionError(f"neuron_axis patterns {list(hits)} all match layer {site_name!r} but give different "
                              f"axes {list(hits.values())}; name the layer itself or make the patterns disjoint")
        return next(iter(hits.values()), None)
    return None if ax == "auto" else int(ax)


def _normalised_axis(axis: int, ndim: int, site_name: str, shape: tuple) -> int:
    """``axis`` of a ``ndim``-D output as a non-batch axis in [1, ndim); OptionError naming the layer otherwise."""
    if not -ndim <= axis < ndim or axis % ndim == 0:
        raise OptionError(f"neuron_axis {axis} is not a non-batch axis of layer {site_name!r}'s output of shape "
                          f"{shape} (axes 1 .. {ndim - 1}, or -{ndim - 1} .. -1; axis 0 is the batch)")
    return axis % ndim


def _declared_batch_first(module: nn.Module | None) -> bool | None:
    """A module's declared layout: its ``batch_first`` (torch's transformer layers: their self_attn's)."""
    if isinstance(module, (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)):
        return bool(module.self_attn.batch_first)
    if isinstance(module, (nn.TransformerEncoder, nn.TransformerDecoder)):
        return _declared_batch_first(module.layers[0]) if len(module.layers) else None
    bf = getattr(module, "batch_first", None)
    return bf if isinstance(bf, bool) else None


def _seq_first_batches(calls: list[_Call], n: int) -> list[tuple[str, tuple]]:
    """(name, input shape) of the ``batch_first=False`` modules that ran on a batch other than the ``n`` inputs.

    The batch is axis 0 of the inputs; sequence-first inputs ``(T, batch, ...)`` fed straight to a
    ``batch_first=False`` RNN / attention make ``n`` the sequence length: those modules are still
    read right (they declare their layout), but a module that declares none would be read with
    time as its samples, in silence, so :func:`find_sites` refuses it.
    """
    kinds = (nn.RNNBase, nn.MultiheadAttention) + _TRANSFORMER_LAYERS + _TRANSFORMER_STACKS
    found = []
    for c in calls:
        inp = c.input
        if c.nested or inp is None or inp.ndim != 3 or not isinstance(c.module, kinds):
            continue
        if _declared_batch_first(c.module) is False and inp.shape[1] != n:
            found.append((c.name, tuple(inp.shape)))
    return found


def _declared_layout(layer: str, named: Mapping[str, nn.Module]) -> bool | None:
    """The ``batch_first`` that ``layer`` declares, or the torch transformer layer it is part of; None."""
    parts = layer.split(".")
    for k in range(len(parts), 0, -1):
        m = named.get(".".join(parts[:k]))
        if k < len(parts) and not isinstance(m, _TRANSFORMER_LAYERS + _TRANSFORMER_STACKS):
            continue
        bf = _declared_batch_first(m)
        if bf is not None:
            return bf
    return None


def _batch_axis(site_name: str, layer: str, named: Mapping[str, nn.Module], out: torch.Tensor,
                n: int) -> int | None:
    """Axis of ``out`` (>= 3-D) holding the batch of ``n``: 0, 1 for a sequence-first output, None: not known yet.

    The module's own ``batch_first`` (or that of the torch transformer layer it is part of) if it
    declares one; else the shape: the one of axes 0 and 1 of length ``n``; None when both are
    (sequence length == batch size): :func:`_probe_batch_axes` then tells.
    """
    parts = layer.split(".")
    for k in range(len(parts), 0, -1):
        owner = ".".join(parts[:k])
        m = named.get(owner)
        if k < len(parts) and not isinstance(m, _TRANSFORMER_LAYERS + _TRANSFORMER_STACKS):
            continue
        bf = _declared_batch_first(m)
        if bf is not None:
            ax = 0 if bf else 1
            if out.shape[ax] == n:
                return ax
            break
    cands = [a for a in (0, 1) if out.shape[a] == n]
    if cands == [0, 1]:
        return None if n > 1 else 0  # swapping two axes of length 1 reads the same rows
    if cands:
        return cands[0]
    raise LayerError(f"layer {site_name!r} ({type(named[layer]).__name__}) returns shape {tuple(out.shape)} for a "
                     f"batch of {n} inputs; expected the batch on axis 0 (or 1 for batch_first=False layers)")


def _probe_batch_axes(model: nn.Module, batch: Batch, pending: dict, named: Mapping[str, nn.Module],
                      seq_first: list[str], call) -> dict[tuple[str, int], int]:
    """Batch axes of the sites whose axes 0 and 1 both have the batch's length: from a dry pass of one input less.

    The axis whose length follows the batch is the batch axis. When that pass cannot tell (or the
    model refuses a smaller batch) in a model with ``batch_first=False`` modules, LayerError: never
    a guess; in a model without them, axis 0 (batch-first, as documented).
    """
    n = batch.n
    shapes: dict[str, list] = {}
    handles = []

    def hook(name):
        def h(module, args, output):
            t = first_tensor_of(output)
            shapes.setdefault(name, []).append(None if t is None or t.is_nested else tuple(t.shape))
        return h

    seq_inputs: list[tuple[str, tuple]] = []

    def seq_hook(name):
        def h(module, args, output):
            t = first_tensor_of(tuple(args))
            if isinstance(t, torch.Tensor) and not t.is_nested and t.ndim == 3:
                seq_inputs.append((name, tuple(t.shape)))
        return h

    ran = True
    try:
        for name in {name for name, _ in pending}:
            handles.append(named[name].register_forward_hook(hook(name)))
        for name in seq_first:
            if isinstance(named[name], (nn.RNNBase, nn.MultiheadAttention)):
                handles.append(named[name].register_forward_hook(seq_hook(name)))
        try:
            _forward(model, Batch(_first_rows(batch.inputs, n, n - 1), None, n - 1), 0, call)
        except NeurographError:
            ran = False
    finally:
        for h in handles:
            h.remove()
    found = {}
    wrong = [(m, sh) for m, sh in seq_inputs if ran and sh[1] != n - 1]  # its batch did not follow the inputs' axis 0
    for (name, k), (site_name, shape) in pending.items():
        if wrong and _declared_layout(name, named) is None:
            raise LayerError(f"cannot tell the batch axis of layer {site_name!r} ({type(named[name]).__name__}, "
                             f"output shape {shape}): module {wrong[0][0]!r} (batch_first=False) kept a batch of "
                             f"{wrong[0][1][1]} on axis 1 when the inputs were cut to {n - 1} rows on axis 0: the "
                             f"inputs look sequence-first; give the model batch-first inputs (transpose inside "
                             f"its forward)")
        got = shapes.get(name, [])
        s2 = got[k] if ran and k < len(got) else None
        ax = None
        if s2 is not None and len(s2) == len(shape):
            if s2[0] == n - 1 and s2[1:] == shape[1:]:
                ax = 0
            elif s2[1] == n - 1 and s2[0] == shape[0] and s2[2:] == shape[2:]:
                ax = 1
        if ax is None and (ran or seq_first):
            raise LayerError(f"cannot tell the batch axis of layer {site_name!r} ({type(named[name]).__name__}): its "
                             f"output of shape {shape} has {n} (the batch size) on axes 0 and 1, it declares no "
                             f"batch_first, and a batch of {n - 1} "
                             f"{'did not run' if not ran else f'gave shape {s2}'}; use a batch_size different "
                             f"from the sequence length")
        found[(name, k)] = 0 if ax is None else ax
    return found


def _first_rows(x, n: int, m: int):
    """Inputs ``x`` of a batch of ``n`` cut to its first ``m`` (tensors whose axis 0 is the batch; others kept)."""
    if isinstance(x, torch.Tensor):
        return x[:m] if x.ndim and x.shape[0] == n else x
    if isinstance(x, Mapping):
        return {k: _first_rows(v, n, m) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        items = [_first_rows(v, n, m) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)  # namedtuples take fields
    return x


def _make_site(site_name: str, layer: str, k: int, module: nn.Module, i: int, calls: list[_Call],
               reading: Reading, memo: dict, n: int, batch_axis: int = 0) -> Site:
    c = calls[i]
    if isinstance(module, nn.RNNBase):
        seq = c.output[0] if isinstance(c.output, (tuple, list)) else None
        if isinstance(seq, PackedSequence):
            seq, _ = pad_packed_sequence(seq, batch_first=True)
        elif isinstance(seq, torch.Tensor) and not module.batch_first:
            seq = seq.transpose(0, 1)
        if not isinstance(seq, torch.Tensor) or seq.ndim != 3:
            raise LayerError(f"layer {site_name!r} ({type(module).__name__}) should return (output, h_n)")
        user = _user_axis(reading, site_name, layer)
        if user is not None and _normalised_axis(user, seq.ndim, site_name, tuple(seq.shape)) != 2:
            raise OptionError(f"neuron_axis {user} for layer {site_name!r} ({type(module).__name__}): the neurons of a "
                              f"recurrent layer are its hidden units, axis -1 of its (batch, time, hidden) output "
                              f"of shape {tuple(seq.shape)}; leave neuron_axis out for it")
        mode = reading.positions_for("recurrent")
        units = seq.shape[2]  # (directions x hidden), also the width of h_n's last layer for "last"
        return Site(site_name, layer, k, module, "recurrent", 2, "recurrent", int(units), tuple(seq.shape[1:]),
                    mode, int(seq.shape[1]))
    out = first_tensor_of(c.output)
    if out is None or isinstance(c.output, PackedSequence):
        raise LayerError(f"layer {site_name!r} ({type(module).__name__}) returns {type(c.output).__name__}, "
                         f"which holds no tensor; record one of its submodules instead")
    bax = batch_axis if out.ndim >= 3 else 0
    if out.ndim < 2 or out.shape[bax] != n:
        raise LayerError(f"layer {site_name!r} ({type(module).__name__}) returns shape {tuple(out.shape)} for a "
                         f"batch of {n} inputs; expected the batch on axis 0 (use batch_first=True models)")
    user = _user_axis(reading, site_name, layer)
    if user is not None:
        ax, how = _normalised_axis(user, out.ndim, site_name, tuple(out.shape)), "user"
    if out.ndim == 2:
        return Site(site_name, layer, k, module, "flat", 1, "2-D output", int(out.shape[1]), tuple(out.shape[1:]),
                    None, 1)
    if user is None:
        ax, how = _axis_of_call(i, calls, memo)
        if ax is not None and bax:  # the module's axis on the raw output -> with the batch first
            ax = {0: 1, bax: 0}.get(ax, ax)
            if ax == 0:
                ax, how = None, f"its neuron axis {bax} is the batch axis"
        if ax is None:
            why = "" if how in ("unknown", "cycle") else f" ({how})"
            raise LayerError(f"cannot tell which axis of layer {site_name!r} ({type(module).__name__}, output "
                             f"shape {tuple(out.shape)}) holds the neurons{why}; pass neuron_axis=... (an int, e.g. "
                             f"1 for channels or -1 for features, or a dict {{{layer!r}: axis}})")
    if bax:
        out = out.movedim(bax, 0)
        how = f"{how}; sequence-first (batch on axis {bax}), read batch first"
    kind = "tokens" if ax == out.ndim - 1 else "spatial"
    n_pos = 1
    for a in range(1, out.ndim):
        if a != ax:
            n_pos *= int(out.shape[a])
    return Site(site_name, layer, k, module, kind, int(ax), how, int(out.shape[ax]), tuple(out.shape[1:]),
                reading.positions_for(kind), n_pos, bax)


class _SiteHooks:
    """Forward hooks on the sites' modules that read each call into SiteValues (inside the hook)."""

    def __init__(self, sites: list[Site], reading: Reading, on_site, read: bool = True,
                 same_rows: bool = True) -> None:
        self.read = read
        self.same_rows = same_rows
        self.sites = sites
        self.reading = reading
        self.on_site = on_site
        self.index = {(s.layer, s.call): i for i, s in enumerate(sites)}
        self.n_calls: dict[str, int] = {}
        self.handles: list = []
        self.state: BatchState | None = None
        self.mask: torch.Tensor | None = None
        self.seen: list[bool] = []

    def __enter__(self) -> _SiteHooks:
        modules = {}
        for s in self.sites:
            modules.setdefault(s.layer, s.module)
        try:
            for name, module in modules.items():
                self.handles.append(module.register_forward_hook(self._hook(name)))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def begin(self, state: BatchState) -> None:
        self.state = state
        self.n_calls = {}
        self.seen = [False] * len(self.sites)
        self.mask = _batch_mask(state.batch, self.reading)

    def end(self, state: BatchState) -> None:
        missing = [s.name for s, ok in zip(self.sites, self.seen) if not ok]
        if missing:
            raise LayerError(f"layers {missing} did not run during the forward pass of batch {state.index}")

    def _hook(self, name: str):
        def hook(module, args, output):
            k = self.n_calls.get(name, 0)
            self.n_calls[name] = k + 1
            i = self.index.get((name, k))
            if i is None and not self.read and self.state.index == 0:
                first = self.sites[self.index[(name, 0)]]
                self.sites.append(Site(f"{name}#{k}", name, k, first.module, "raw", 1, "caller", 0, (), None, 1))
                i = self.index[(name, k)] = len(self.sites) - 1
                self.seen.append(False)
            if i is None:
                raise LayerError(f"layer {name!r} ran {k + 1} times in the forward pass of batch "
                                 f"{self.state.index} but {k} times on the first batch")
            site = self.sites[i]
            if not self.read:
                self.seen[i] = True
                if self.on_site is not None:
                    self.on_site(i, site, output, self.state)
                return
            sv = read_site(site, output, self.mask, self.state.batch.n)
            v = sv.values
            # one cheap pass (a sum); the full check only if the sum is not finite
            if v.is_floating_point() and not torch.isfinite(v.sum()) and not torch.isfinite(v).all():
                raise DataError(f"layer {site.name!r} produced non-finite activations (NaN or inf) on batch "
                                f"{self.state.index}")
            if self.state.counts is None:
                self.state.counts = sv.counts
            elif self.same_rows and not torch.equal(self.state.counts, sv.counts.to(self.state.counts.device)):
                raise LayerError(f"layers {self.sites[0].name!r} and {site.name!r} give different numbers of "
                                 f"samples per input on batch {self.state.index} (positions "
                                 f"{self.sites[0].positions!r} vs {site.positions!r}); record them separately or "
                                 f"choose positions= that agree")
            self.seen[i] = True
            if self.on_site is not None:
                self.on_site(i, site, sv, self.state)
        return hook


def _batch_mask(batch: Batch, reading: Reading) -> torch.Tensor | None:
    m = reading.mask
    if m is None:
        return None
    if callable(m):
        try:
            mask = m(batch.inputs)
        except Exception as exc:  # noqa: BLE001 - the user's callable, re-raised with context
            raise DataError(f"the mask callable raised on batch {batch.describe()}: {exc}") from exc
    elif isinstance(batch.inputs, Mapping):
        mask = batch.inputs.get(m)
    else:
        return None
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor) or mask.ndim != 2 or mask.shape[0] != batch.n:
        raise DataError(f"the padding mask ({m if isinstance(m, str) else 'mask callable'}) must be a tensor of "
                        f"shape ({batch.n}, T), got {getattr(mask, 'shape', type(mask).__name__)}")
    return mask != 0

