"""Forward hooks that cannot leak, layer-name resolution, and layer outputs as (samples, units).

House rule 7: hooks are only ever registered inside :func:`capture`, which removes
them in ``finally`` whatever happens in the block.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from .errors import LayerError

SPATIAL_MODES = ("mean", "max", "any")
TIME_MODES = ("all", "last")


def resolve_layers(model: nn.Module, layers: str | Sequence[str]) -> list[tuple[str, nn.Module]]:
    """Match ``layers`` (names or glob patterns) against ``model.named_modules()``.

    Returns ``(name, module)`` pairs without duplicates, in the order the patterns
    are given (glob matches in module order). Raises :class:`LayerError` naming
    any pattern that matches nothing, with close names as a hint.
    """
    if isinstance(layers, str):
        layers = [layers]
    if not isinstance(layers, Sequence) or len(layers) == 0:
        raise LayerError("layers must be a non-empty module name, glob pattern, or list of them")
    named = {name: mod for name, mod in model.named_modules() if name}
    chosen: dict[str, nn.Module] = {}
    for pattern in layers:
        if not isinstance(pattern, str):
            raise LayerError(f"layer names must be strings, got {pattern!r}")
        if pattern in named:
            chosen.setdefault(pattern, named[pattern])
            continue
        matches = [n for n in named if fnmatch.fnmatchcase(n, pattern)]
        if not matches:
            hint = difflib.get_close_matches(pattern, list(named), n=3)
            more = f"; did you mean {hint}?" if hint else ""
            raise LayerError(f"layer {pattern!r} matches no module of {type(model).__name__}{more} "
                             f"(see neurograph.list_layers(model))")
        for n in matches:
            chosen.setdefault(n, named[n])
    return list(chosen.items())


@contextlib.contextmanager
def capture(modules: Sequence[tuple[str, nn.Module]]) -> Iterator[dict[str, object]]:
    """Register a forward hook on each module; yield the dict the outputs land in.

    The dict maps layer name to the module's latest output. Hooks are removed on
    exit, also when the block raises.
    """
    outputs: dict[str, object] = {}
    handles = []

    def saver(name):
        def hook(module, inputs, output):
            outputs[name] = output
        return hook

    try:
        for name, module in modules:
            handles.append(module.register_forward_hook(saver(name)))
        yield outputs
    finally:
        for h in handles:
            h.remove()


@contextlib.contextmanager
def restored_modes(model: nn.Module) -> Iterator[None]:
    """Put every submodule back into its own train/eval mode on exit, also on error."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def layer_values(name: str, module: nn.Module, output: object, *, time: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Turn a module output into values of shape (rows, units, positions).

    * (N, F) outputs: rows are samples, one position.
    * (N, C, *spatial) outputs (conv layers and their activations): one neuron
      per channel, spatial positions flattened onto the last axis.
    * ``nn.RNN``/``nn.GRU``/``nn.LSTM``: with ``time="all"`` every valid time
      step of every sequence is a row (padding of a PackedSequence is skipped);
      with ``time="last"`` the final hidden state of the last layer is the row
      (both directions concatenated). ``nn.LSTMCell``'s ``(h, c)``: ``h``.

    Returns the values and, for ``time="all"`` on recurrent layers, the number of
    rows each input sample contributed (shape (N,)), else None.
    """
    steps = None
    if isinstance(module, nn.RNNBase):
        seq, h_n = output
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        if time == "last":
            dirs = 2 if module.bidirectional else 1
            last = h_n[-dirs:]  # (dirs, N, H)
            values = last.permute(1, 0, 2).reshape(last.shape[1], -1)
        else:
            if isinstance(seq, PackedSequence):
                padded, lengths = torch.nn.utils.rnn.pad_packed_sequence(seq, batch_first=True)
                mask = torch.arange(padded.shape[1])[None, :] < lengths[:, None]
                values = padded[mask.to(padded.device)]
                steps = lengths.to(torch.int64)
            else:
                if not module.batch_first:
                    seq = seq.transpose(0, 1)
                n, t = seq.shape[:2]
                values = seq.reshape(n * t, -1)
                steps = torch.full((n,), t, dtype=torch.int64)
        return values[:, :, None], steps
    if isinstance(module, nn.LSTMCell) and isinstance(output, tuple):
        output = output[0]
    if isinstance(output, PackedSequence) or not isinstance(output, torch.Tensor):
        raise LayerError(f"layer {name!r} ({type(module).__name__}) returns {type(output).__name__}, not a tensor; "
                         f"record one of its submodules instead")
    if output.ndim < 2:
        raise LayerError(f"layer {name!r} returns a tensor of shape {tuple(output.shape)}; "
                         f"expected (batch, units) or (batch, channels, *spatial)")
    n, c = output.shape[:2]
    return output.reshape(n, c, -1), None
