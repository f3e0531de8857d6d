"""A dry run of :func:`~neurograph.recording.record`: what it would read, and the memory it would take."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from .capture import BatchState, Site, SiteValues, run_model
from .batches import model_device_dtype
from .firing import budget_bytes, bytes_needed
from .reading import Reading, make_reading

__all__ = ["RecordingPlan", "preview"]


@dataclass(frozen=True, eq=False)
class RecordingPlan:
    """What :func:`record` would read from each layer, from a dry pass of the first batch.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per site (a module, or one call of a module called several times):
        ``site``, ``layer``, ``type`` (module class), ``output_shape`` (one input, batch axis
        removed), ``neuron_axis`` (of the full output, batch = 0), ``axis_from`` (how it was
        found), ``neurons``, ``positions`` (mode, or "none" for (batch, units) outputs),
        ``positions_per_input``, ``samples_per_input`` (mean over the first batch, after masks).
    n_neurons : int
        ``d``, the total of ``neurons``.
    bytes_needed : int
        Peak extra memory of the recording (``12 d^2`` bytes for the counts, more with moments).
    bytes_available : int or None
        Memory a recording may take: the ``memory_limit`` given, else 90% of the memory free on
        the model's device (as :func:`record` uses).
    """

    table: pd.DataFrame
    n_neurons: int
    bytes_needed: int
    bytes_available: int | None

    @property
    def fits(self) -> bool:
        """True when the recording fits the available memory (or it is unknown)."""
        return self.bytes_available is None or self.bytes_needed <= self.bytes_available

    def __str__(self) -> str:
        have = "unknown" if self.bytes_available is None else f"{self.bytes_available / 2**30:.2f} GiB"
        verdict = "fits" if self.fits else "does NOT fit: use record_top_k / record_blocks or fewer layers"
        text = (self.table.to_string(index=False) + f"\n{self.n_neurons:,} neurons; the d x d counts need about "
                f"{self.bytes_needed / 2**30:.2f} GiB of the {have} it may take ({verdict})")
        if not self.consistent:
            text += ("\nthe layers give different samples per input: record them in separate calls, or choose "
                     "positions= so that they agree")
        return text

    @property
    def consistent(self) -> bool:
        """True when every site gives the same samples per input on the first batch (so they can be
        recorded in one call)."""
        return self.table["samples_per_input"].nunique() <= 1


def preview(model: nn.Module, data, layers: str | Sequence[str], *, neuron_axis: str | int | dict = "auto",
            positions: str | None = None, spatial: str = "mean", time: str = "all", mask="attention_mask",
            reading: Reading | None = None, batch_size: int = 256, moments: bool = False,
            memory_limit: int | None = None) -> RecordingPlan:
    """Show what :func:`~neurograph.recording.record` would read, without recording.

    Runs the model on the first batch of ``data`` only (in eval mode, without gradients, every
    submodule's mode and every hook restored) and reports, per matched layer, its output shape,
    neuron axis and neuron count, positions per input and samples per input, and the memory the
    ``d x d`` counts would take against the memory available.

    Parameters
    ----------
    model, data, layers, neuron_axis, positions, spatial, time, mask, reading, batch_size
        As for :func:`~neurograph.recording.record`.
    moments : bool
        Count the memory of ``moments=True`` too.
    memory_limit : int, optional
        Bytes to compare against instead of the memory available.

    Returns
    -------
    RecordingPlan

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 2))
    >>> plan = preview(net, (torch.randn(8, 1, 6, 6), None), ["1", "3"])
    >>> plan.table[["site", "neurons", "axis_from", "positions", "positions_per_input"]].values.tolist()
    [['1', 4, "input of '0'", 'mean', 16], ['3', 2, '2-D output', 'none', 1]]
    """
    reading = make_reading(reading, neuron_axis=neuron_axis, positions=positions, spatial=spatial, time=time,
                           mask=mask)
    device, _ = model_device_dtype(model)
    per_input: dict[int, float] = {}

    def on_site(i: int, site: Site, sv: SiteValues, state: BatchState) -> None:
        per_input[i] = float(sv.counts.to(torch.float64).mean())

    sites = run_model(model, data, batch_size=batch_size, layers=layers, reading=reading, on_site=on_site,
                      on_batch=lambda state: None, max_batches=1, desc="preview", same_rows=False)
    rows = [{"site": s.name, "layer": s.layer, "type": type(s.module).__name__, "output_shape": s.shape,
             "neuron_axis": s.neuron_axis, "axis_from": s.axis_source, "neurons": s.units, "positions": s.positions or "none",
             "positions_per_input": s.n_positions, "samples_per_input": per_input.get(i, float("nan"))}
            for i, s in enumerate(sites)]
    d = sum(s.units for s in sites)
    have = budget_bytes(device, memory_limit)
    return RecordingPlan(table=pd.DataFrame(rows), n_neurons=d, bytes_needed=bytes_needed(d, moments=moments),
                         bytes_available=have)
