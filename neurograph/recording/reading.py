"""How a layer is read: the firing rule, the neuron axis, the positions and the mask, in one object.

Every recorder (:func:`~neurograph.recording.record`, :func:`~neurograph.recording.calibrate`,
:func:`~neurograph.recording.record_blocks`, :func:`~neurograph.recording.record_top_k`,
:func:`~neurograph.scoring.score_model`, :func:`~neurograph.recording.preview`) reads a layer's output
the same way, described by a frozen :class:`Reading`. Their keyword arguments (``rule=``,
``neuron_axis=``, ``positions=``, ...) are the convenient spelling of the same object.

The neuron axis
---------------
A layer output of shape ``(batch, *rest)`` holds one value per neuron per *position*. Which axis
holds the neurons (``neuron_axis="auto"``):

* outputs of shape ``(batch, units)``: axis 1, whatever the module;
* convolutions, BatchNorm / InstanceNorm / GroupNorm, pooling: the channel axis 1;
* ``nn.Linear``, ``nn.LayerNorm``, ``nn.RMSNorm``, embeddings, ``nn.MultiheadAttention`` and
  Hugging Face's ``Conv1D`` (GPT-2's projections): the last axis;
* subclasses of ``nn.LayerNorm`` / ``nn.RMSNorm`` with their own forward (timm's ``LayerNorm2d``,
  Hugging Face ConvNeXt's ``ConvNextLayerNorm``, which permute channels-first maps): their
  ``data_format`` (``"channels_first"``: axis 1, ``"channels_last"``: the last axis) if they
  declare one, else the one axis whose length is ``normalized_shape``; of several such axes,
  the one along which normalising the first batch's input reproduces the output; else refused;
* ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM``: the hidden units (time is the position axis);
* parameter-free modules (activations, dropout, identity, Hugging Face's ``GELUActivation``):
  the axis of the module that produced their input, seen in a dry forward pass of the first batch
  (by tensor identity, so in-place activations are followed too); when no module produced it (a
  residual sum, say), the most recent module with a known axis whose output had the same shape
  (refused when a later module's output, permuted, has that shape with another neuron count: a
  channels-last map);
  one that reshapes (``nn.Unflatten``) keeps that axis only where the axes up to a leading
  neuron axis, or a last neuron axis, are unchanged, and is refused otherwise;
* containers and other modules with parameters: the axis of the submodule that produced their
  output; failing that, for a module whose output has its input's shape (an attention block,
  a residual block), the axis of its input.

Where none of these tells, recording stops with a :class:`~neurograph.errors.LayerError` that
asks for ``neuron_axis`` (an int, or a dict ``{layer glob: int}``; axis 0 is the batch).

The batch axis is 0, except for sequence-first outputs ``(T, batch, ...)``: a module that
declares ``batch_first=False`` (``nn.MultiheadAttention``; the ``nn.Transformer*`` layers and
every submodule of theirs) is read with its batch moved first; a module that declares nothing,
by its shape (the one of axes 0 and 1 of the batch's length); when both have it, by a second
dry pass on one input less (the axis that follows the batch). When that cannot tell, a model
with ``batch_first=False`` modules is refused with a LayerError (use a batch size different
from the sequence length); one without is read batch-first. Axes (``neuron_axis``) count with
the batch first. The inputs hold the batch on axis 0: when a ``batch_first=False`` RNN /
attention runs on a batch other than the inputs' (sequence-first inputs), a layer that declares
no layout is refused with a LayerError.

The firing rule compares ``a > cut`` exactly as in float64 whatever the activation dtype (the
cut is rounded *down* into bfloat16 / float16 / float32, see
``neurograph.recording.firing.exact_cut``); means over positions of 16-bit activations are
taken in float32, of integer activations (quantised int8 layers) in float64.

Positions
---------
Every other non-batch axis (spatial positions, tokens, time steps) is a *position*; ``positions``
says what a position is:

* ``"all"``: every valid position is a sample, labelled with its input's label;
* ``"mean"`` / ``"max"``: one sample per input, valued by the mean / max over valid positions
  before the rule;
* ``"any"``: the rule is applied at every valid position; the neuron fires on the input if it
  fires anywhere;
* ``"first"`` / ``"last"``: the first / last valid position (``[CLS]``; the last real token).

Defaults per layer kind when ``positions`` is not given: channel-axis outputs (conv feature maps)
use ``spatial`` (default ``"mean"``); last-axis outputs with positions (tokens) and recurrent layers
use ``time`` (default ``"all"``). For ``nn.RNN/GRU/LSTM``, ``"last"`` is the final hidden state
``h_n`` of the last layer (both directions for bidirectional layers).

Masks
-----
When a batch's inputs are a dict holding ``attention_mask`` (the Hugging Face convention, 1 = real
token) and a layer has exactly one position axis of that length, masked positions are never
samples and never enter a mean / max / any; ``"first"``/``"last"`` mean the first / last real
token. ``mask=`` names another dict key, or is a callable ``mask(inputs) -> (batch, T)`` for other
models, or None to ignore masks. Packed sequences (``PackedSequence``) of recurrent layers are
masked by their lengths. An input with no valid position gives no sample.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .._validate import check_choice, check_int, check_number
from ..errors import OptionError

__all__ = ["POSITIONS", "RULES", "Reading"]

RULES = ("positive", "threshold", "quantile", "zscore")
POSITIONS = ("all", "mean", "max", "any", "first", "last")
SPATIAL_MODES = ("mean", "max", "any", "all", "first", "last")
TIME_MODES = ("all", "last", "mean", "max", "any", "first")


@dataclass(frozen=True, eq=False)
class Reading:
    """How every recorded layer is read: firing rule, neuron axis, positions, mask.

    Parameters
    ----------
    rule : {"positive", "threshold", "quantile", "zscore"}
        When a neuron fires on a sample, from its value ``a``: ``a > 0``; ``a > threshold``;
        ``a >`` its ``quantile``-quantile (first ``calibration_samples`` rows of a calibration
        pass); ``(a - mean) / sd > z`` (mean and population sd over a full calibration pass).
    threshold : float or numpy.ndarray of shape (d,)
        For ``rule="threshold"``: one cut for all neurons, or one per recorded neuron.
    quantile : float in [0, 1]
    z : float
    neuron_axis : "auto", int, or dict {layer glob: int}
        Axis of the layer output that holds the neurons (see the module docstring); negative
        axes count from the end. It must exist in every layer it applies to (OptionError naming
        the layer); in a dict a layer's own name wins over patterns, patterns that give one layer
        different axes are refused, and every key must match a recorded layer.
    positions : {"all", "mean", "max", "any", "first", "last"} or None
        What a position is, for every layer with positions; None: per layer kind, from
        ``spatial`` and ``time``.
    spatial : str
        Default ``positions`` of channel-axis outputs (conv feature maps); default ``"mean"``.
    time : str
        Default ``positions`` of token and recurrent outputs; default ``"all"``.
    mask : str, callable or None
        Dict key of the padding mask (``"attention_mask"``), a callable ``mask(inputs) ->
        (batch, T)`` tensor (nonzero = real position), or None.
    calibration_samples : int
        Rows kept by the ``"quantile"`` calibration pass.

    Examples
    --------
    >>> r = Reading(rule="zscore", z=0.5, positions="mean")
    >>> r.describe()
    'zscore(0.5)'
    >>> r.positions_for("tokens"), Reading().positions_for("spatial")
    ('mean', 'mean')
    """

    rule: str = "positive"
    threshold: float | np.ndarray = 0.0
    quantile: float = 0.9
    z: float = 1.0
    neuron_axis: str | int | Mapping[str, int] = "auto"
    positions: str | None = None
    spatial: str = "mean"
    time: str = "all"
    mask: str | Callable | None = "attention_mask"
    calibration_samples: int = 10_000

    def __post_init__(self) -> None:
        check_choice("rule", self.rule, RULES)
        if self.positions is not None:
            check_choice("positions", self.positions, POSITIONS)
        check_choice("spatial", self.spatial, SPATIAL_MODES)
        check_choice("time", self.time, TIME_MODES)
        check_number("quantile", self.quantile, low=0.0, high=1.0)
        check_number("z", self.z)
        check_int("calibration_samples", self.calibration_samples, min=1)
        th = np.asarray(self.threshold, dtype=np.float64) if not isinstance(self.threshold, str) else None
        if th is None or th.ndim > 1 or not np.isfinite(th).all() or (th.ndim == 1 and th.shape[0] == 0):
            raise OptionError(f"threshold must be a finite number or a 1-D array of finite numbers (one per "
                              f"neuron), got {self.threshold!r}")
        object.__setattr__(self, "threshold", float(th) if th.ndim == 0 else th)
        ax = self.neuron_axis
        if isinstance(ax, Mapping):
            for k, v in ax.items():
                if not isinstance(k, str):
                    raise OptionError(f"neuron_axis keys must be layer names or glob patterns, got {k!r}")
                _check_axis(f"neuron_axis[{k!r}]", v)
            object.__setattr__(self, "neuron_axis", dict(ax))
        elif ax != "auto":
            _check_axis("neuron_axis", ax)
        if self.mask is not None and not isinstance(self.mask, str) and not callable(self.mask):
            raise OptionError(f"mask must be a dict key (str), a callable or None, got {self.mask!r}")

    # ------------------------------------------------------------------ queries
    def positions_for(self, kind: str) -> str:
        """The positions mode of a layer of ``kind`` ("spatial", "tokens" or "recurrent")."""
        if self.positions is not None:
            return self.positions
        return self.spatial if kind == "spatial" else self.time

    def describe(self, thresholds: np.ndarray | None = None) -> str:
        """The rule as stored in :attr:`CoactivationStats.rule` (calibrated cuts summarised by a hash)."""
        if self.rule == "positive":
            return "positive"
        if self.rule == "threshold":
            if isinstance(self.threshold, float):
                return f"threshold({self.threshold!r})"
            return f"threshold(per-neuron, sha1={_sha(self.threshold)})"
        name = f"quantile({self.quantile!r})" if self.rule == "quantile" else f"zscore({self.z!r})"
        return name if thresholds is None else f"{name}[sha1={_sha(thresholds)}]"

    @property
    def calibrated(self) -> bool:
        """True for the rules that need a calibration pass (``quantile``, ``zscore``)."""
        return self.rule in ("quantile", "zscore")

    def replace(self, **changes) -> Reading:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def make_reading(reading: Reading | None, **options) -> Reading:
    """The :class:`Reading` of a recorder call: ``reading`` if given, else one built from ``options``.

    Passing both a ``reading`` and an option that differs from its default is ambiguous and
    raises :class:`~neurograph.errors.OptionError` naming the option.
    """
    if reading is None:
        rule = options.get("rule")
        for key, users in _RULE_OPTIONS.items():
            value, default = options.get(key), _DEFAULTS[key]
            if rule is not None and rule not in users and key in options and not (
                    value is default or (not isinstance(value, np.ndarray) and value == default)):
                raise OptionError(f"{key}={value!r} is used only by rule={' or '.join(map(repr, users))}; with "
                                  f"rule={rule!r} it would be ignored (pass the rule, or leave {key} out)")
        return Reading(**options)
    if not isinstance(reading, Reading):
        raise OptionError(f"reading must be a neurograph.Reading, got {type(reading).__name__}")
    defaults = {f.name: f.default for f in dataclasses.fields(Reading)}
    for key, value in options.items():
        default = defaults[key]
        same = value is default or (not isinstance(value, np.ndarray) and value == default)
        if not same:
            raise OptionError(f"pass {key}= either inside reading= or as a keyword, not both")
    return reading


# options that only some rules use: passing one with another rule would be silently ignored
_RULE_OPTIONS = {"threshold": ("threshold",), "quantile": ("quantile",), "z": ("zscore",),
                 "calibration_samples": ("quantile",)}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Reading)}


def _check_axis(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise OptionError(f"{name} must be 'auto', an int or a dict {{layer glob: int}}, got {value!r}")
    if int(value) == 0:
        raise OptionError(f"{name} is 0, the batch axis; the neuron axis is one of the other axes")


def _sha(a) -> str:
    return hashlib.sha1(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()[:12]
