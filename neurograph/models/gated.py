"""The gating view of ReLU networks: DNN, DGN and DLGN with named gate sites.

A ReLU is a gate: ``relu(z) = 1[z > 0] * z``. The three models below differ only
in *where the gates come from*; in all of them a **value network** without biases
is multiplied, layer by layer, by 0/1 (or soft) gates ``G_l``:

* :class:`DNN` - a plain ReLU network: ``h_l = relu(W_l h_{l-1})``, the gates are
  its own pre-activations (gating network = value network).
* :class:`DGN` - deep gated network: a separate ReLU *gating* network
  ``q_l = W^g_l relu(q_{l-1})`` (``q_0``'s input is x) makes the gates, a separate
  value network ``h_l = G_l * (W^v_l h_{l-1})`` uses them.
* :class:`DLGN` - deep *linearly* gated network: the gating network is deep and
  linear, ``g_0 = x``, ``g_l = W^g_l g_{l-1}``; ``h_l = G_l * (W^v_l h_{l-1})``.

Gates of DGN / DLGN have two modes (:meth:`GatedNetwork.set_gate_mode`, or the
:func:`hard_gates` context manager): ``"soft"`` gates ``sigmoid(beta * g)``
(default, used to train: they pass gradients to the gating network; ``beta = 4``
follows a public DLGN re-implementation) and ``"hard"`` gates ``1[g > 0]`` (for
analysis: the neural path kernel and gate graphs always use hard gates).

Options shared by all three:

* ``conv=True``: every layer is a 2-D convolution with odd ``kernel_size``,
  stride 1 and *circular* padding (so the gates are equivariant to circular
  rotations of the input), followed by global average pooling and a linear readout.
* ``residual=True``: layer 0 is a stem; every later layer l is a residual block
  ``h_l = h_{l-1} + G_l * (W_l h_{l-1})`` (DNN: ``h_{l-1} + relu(W_l h_{l-1})``);
  the gating network has the same skips. All hidden widths must be equal.

Module names (see ``model.named_modules()``): ``gating.{l}`` (DGN / DLGN gating
layers), ``value.{l}`` (value layers), ``gates.{l}`` (:class:`GatePoint`, an identity
module through which layer l's gate pre-activation passes: record them with
``neurograph.record(model, data, "gates.*", rule="positive")``), ``pool`` and
``readout``. :meth:`GatedNetwork.activation_layers` lists the gate sites.

The value network has no biases, so with hard gates the output is exactly a sum
over paths (the "dual view", see :mod:`neurograph.gating.npk`).

:class:`GatedCNN` (factory :func:`gated_cnn`) is a conventional small CNN in the
same three kinds: zero-padded *strided* convolutions (which downsample; no
pooling, so a DLGN's gating network stays linear) followed by fully connected
layers and a linear readout. Its gate sites are ``gates.{l}`` too (conv layers
first), but the path kernel of :mod:`neurograph.gating.npk` does not know its
architecture: pass ``layers=net.activation_layers()`` (or ``"gates.*"``) to
``gate_patterns`` / ``record_gates``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from numbers import Real

import torch
from torch import nn

from .._validate import positive_int as _positive_int
from ..errors import DataError, OptionError

__all__ = ["DGN", "DLGN", "DNN", "GatePoint", "GatedCNN", "GatedNetwork", "gated_cnn", "gated_model", "hard_gates"]

GATE_MODES = ("soft", "hard")
VALUE_INPUTS = ("x", "ones")
KINDS = ("dnn", "dgn", "dlgn")


class GatePoint(nn.Identity):
    """Identity module marking a gate site: its input (and output) is a gate pre-activation.

    A forward hook on it sees the pre-activation ``g`` whose sign is the hard gate
    ``1[g > 0]``, so ``record(..., rule="positive")`` records gates.

    Examples
    --------
    >>> import torch
    >>> GatePoint()(torch.tensor([-1.0, 2.0])).tolist()
    [-1.0, 2.0]
    """


def _check_gate_options(kind: str, beta, value_input: str) -> None:
    """The options every gated model checks: soft-gate sharpness and the value network's input."""
    if isinstance(beta, bool) or not isinstance(beta, Real) or not float(beta) > 0:
        raise OptionError(f"beta must be a positive number, got {beta!r}")
    if value_input not in VALUE_INPUTS:
        raise OptionError(f"value_input must be one of {VALUE_INPUTS}, got {value_input!r}")
    if kind == "dnn" and value_input != "x":
        raise OptionError("a DNN's value network is its gating network: value_input must be 'x'")


class _GateControls:
    """What every gated model shares: the value network's input, the gate sites and the gate mode."""

    kind: str
    gate_mode: str
    beta: float
    value_input: str
    gates: nn.ModuleList

    def value_input_of(self, x: torch.Tensor) -> torch.Tensor:
        """What the value network is fed for a prepared input ``x``: ``x`` or ones of its shape."""
        return torch.ones_like(x) if self.value_input == "ones" else x

    def activation_layers(self) -> list[str]:
        """Names of the gate sites (:class:`GatePoint` modules), input side first."""
        return [f"gates.{l}" for l in range(len(self.gates))]

    def set_gate_mode(self, mode: str):
        """Use ``"soft"`` gates ``sigmoid(beta * g)`` or ``"hard"`` gates ``1[g > 0]``; returns self."""
        if mode not in GATE_MODES:
            raise OptionError(f"gate mode must be one of {GATE_MODES}, got {mode!r}")
        if self.kind == "dnn" and mode != "hard":
            raise OptionError("a DNN's gates are its ReLUs: they are always hard")
        self.gate_mode = mode
        return self

    def _gate(self, q: torch.Tensor) -> torch.Tensor:
        if self.gate_mode == "hard":
            return (q > 0).to(q.dtype)
        return torch.sigmoid(self.beta * q)


class GatedNetwork(_GateControls, nn.Module):
    """Common base of :class:`DNN`, :class:`DGN` and :class:`DLGN` (build those, not this).

    Attributes
    ----------
    kind : str
        ``"dnn"``, ``"dgn"`` or ``"dlgn"``.
    gate_mode : str
        ``"soft"`` or ``"hard"`` (a DNN is always ``"hard"``).
    beta : float
        Sharpness of soft gates ``sigmoid(beta * g)``.
    value_input : str
        ``"x"`` (the value network is fed the input) or ``"ones"`` (a constant input
        of ones of the input's shape: every bit of information then comes through the gates).
    """

    def __init__(self, kind: str, in_features: int, hidden: Sequence[int], n_classes: int, *, conv: bool,
                 kernel_size: int, residual: bool, bias: bool, gate_bias: bool, beta: float,
                 value_input: str) -> None:
        super().__init__()
        if kind not in KINDS:
            raise OptionError(f"kind must be one of {KINDS}, got {kind!r}")
        _positive_int("in_features", in_features)
        _positive_int("n_classes", n_classes)
        hidden = tuple(hidden)
        if not hidden:
            raise OptionError("hidden must have at least one width (a gated network needs a gated layer)")
        for i, w in enumerate(hidden):
            _positive_int(f"hidden[{i}]", w)
        if residual and len(set(hidden)) != 1:
            raise OptionError(f"residual=True needs equal hidden widths (identity skips), got hidden={hidden}")
        _positive_int("kernel_size", kernel_size)
        if kernel_size % 2 != 1:
            raise OptionError(f"kernel_size must be odd (same-size circular convolution), got {kernel_size}")
        _check_gate_options(kind, beta, value_input)
        self.kind = kind
        self.in_features = int(in_features)
        self.hidden = tuple(int(w) for w in hidden)
        self.n_classes = int(n_classes)
        self.conv = bool(conv)
        self.kernel_size = int(kernel_size)
        self.residual = bool(residual)
        self.beta = float(beta)
        self.value_input = value_input
        self.gate_mode = "hard" if kind == "dnn" else "soft"
        widths = (self.in_features, *self.hidden)
        self.value = nn.ModuleList(self._layer(widths[i], widths[i + 1], bias) for i in range(len(self.hidden)))
        self.gating = nn.ModuleList()
        if kind != "dnn":
            self.gating = nn.ModuleList(self._layer(widths[i], widths[i + 1], gate_bias)
                                        for i in range(len(self.hidden)))
            if kind == "dlgn":
                for layer in self.gating:  # variance-preserving init for a deep *linear* network
                    fan_in = layer.weight[0].numel()
                    nn.init.normal_(layer.weight, std=fan_in ** -0.5)
        self.gates = nn.ModuleList(GatePoint() for _ in self.hidden)
        self.pool: nn.Module = nn.AdaptiveAvgPool2d(1) if self.conv else nn.Identity()
        self.readout = nn.Linear(self.hidden[-1], self.n_classes, bias=bias)

    # ------------------------------------------------------------------ public
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (N, n_classes).

        Inputs: (N, in_features) or (N, ...) (flattened) for fully connected models;
        (N, in_features, H, W) images for ``conv=True``.
        """
        x = self.prepare_input(x)
        h = self.value_input_of(x)
        g = x  # gating-network state (DGN: post-ReLU, DLGN: linear)
        for l, layer in enumerate(self.value):
            skip = self.residual and l > 0
            if self.kind == "dnn":
                z = self.gates[l](layer(h))
                a = torch.relu(z)
            else:
                q = self.gates[l](self.gating[l](g))
                nxt = torch.relu(q) if self.kind == "dgn" else q
                g = g + nxt if skip else nxt
                a = self._gate(q) * layer(h)
            h = h + a if skip else a
        return self.readout(torch.flatten(self.pool(h), 1))

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """The input as the first layer takes it: (N, in_features) or (N, in_features, H, W)."""
        if self.conv:
            if x.dim() != 4 or x.shape[1] != self.in_features:
                raise DataError(f"{type(self).__name__}(conv=True) expects images of shape "
                                 f"(N, {self.in_features}, H, W), got {tuple(x.shape)}")
            return x
        if x.dim() != 2:
            x = x.flatten(1)
        if x.shape[1] != self.in_features:
            raise DataError(f"{type(self).__name__} expects {self.in_features} input features, "
                             f"got {x.shape[1]}")
        return x

    def gate_layout(self) -> list[tuple[int | None, bool]]:
        """Per gated layer ``(kernel_size or None if fully connected, has_skip)``, for the path kernel."""
        return [(self.kernel_size if self.conv else None, self.residual and l > 0) for l in range(len(self.hidden))]

    def extra_repr(self) -> str:
        return (f"kind={self.kind!r}, conv={self.conv}, residual={self.residual}, gate_mode={self.gate_mode!r}, "
                f"beta={self.beta}, value_input={self.value_input!r}")

    # ------------------------------------------------------------------ helpers
    def _layer(self, n_in: int, n_out: int, bias: bool) -> nn.Module:
        if self.conv:
            return nn.Conv2d(n_in, n_out, self.kernel_size, padding=self.kernel_size // 2,
                             padding_mode="circular", bias=bias)
        return nn.Linear(n_in, n_out, bias=bias)

class DNN(GatedNetwork):
    """Plain ReLU network (fully connected or circular-convolutional), gates = its own ReLUs.

    ``h_0 = x``, ``z_l = W_l h_{l-1}`` (through ``gates.{l}``), ``h_l = relu(z_l)``
    (``h_{l-1} + relu(z_l)`` for residual blocks), logits ``= W_out pool(h_L)``.

    Parameters
    ----------
    in_features : int
        Input features (fully connected) or input channels (``conv=True``).
    hidden : sequence of int, default (64, 64)
        Widths (units or channels) of the gated layers.
    n_classes : int, default 10
    conv : bool, default False
        Circular convolutions + global average pooling instead of linear layers.
    kernel_size : int, default 3
        Odd filter size when ``conv=True``.
    residual : bool, default False
        Residual blocks after the first layer (needs equal widths).
    bias : bool, default False
        Biases in the layers. Without them the output is exactly a sum over paths.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = DNN(64, hidden=(32, 32), n_classes=10)
    >>> net.activation_layers(), tuple(net(torch.zeros(3, 64)).shape)
    (['gates.0', 'gates.1'], (3, 10))
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (64, 64), n_classes: int = 10, *,
                 conv: bool = False, kernel_size: int = 3, residual: bool = False, bias: bool = False) -> None:
        super().__init__("dnn", in_features, hidden, n_classes, conv=conv, kernel_size=kernel_size,
                         residual=residual, bias=bias, gate_bias=False, beta=1.0, value_input="x")


class DGN(GatedNetwork):
    """Deep gated network: gates from a separate ReLU gating network, applied to a value network.

    Gating: ``r_0 = x``, ``q_l = W^g_l r_{l-1}`` (through ``gates.{l}``),
    ``r_l = relu(q_l)``. Value: ``h_0 = x`` (or ones), ``h_l = G(q_l) * (W^v_l h_{l-1})``
    with ``G = sigmoid(beta q)`` (soft) or ``1[q > 0]`` (hard). Residual blocks add
    ``r_{l-1}`` and ``h_{l-1}``.

    Parameters
    ----------
    in_features, hidden, n_classes, conv, kernel_size, residual
        As for :class:`DNN`.
    beta : float, default 4.0
        Sharpness of the soft gates.
    value_input : {"x", "ones"}, default "x"
        Feed the value network the input, or a constant of ones (then only the
        gates carry information about the input).
    gate_bias : bool, default True
        Biases in the gating network (the value network never has biases).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = DGN(64, hidden=(32, 32), n_classes=10)
    >>> net.gate_mode, tuple(net(torch.zeros(3, 64)).shape)
    ('soft', (3, 10))
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (64, 64), n_classes: int = 10, *,
                 conv: bool = False, kernel_size: int = 3, residual: bool = False, beta: float = 4.0,
                 value_input: str = "x", gate_bias: bool = True) -> None:
        super().__init__("dgn", in_features, hidden, n_classes, conv=conv, kernel_size=kernel_size,
                         residual=residual, bias=False, gate_bias=gate_bias, beta=beta, value_input=value_input)


class DLGN(GatedNetwork):
    """Deep linearly gated network: a deep *linear* gating network, gates applied to a value network.

    Gating: ``g_0 = x``, ``g_l = W^g_l g_{l-1}`` (through ``gates.{l}``; residual
    blocks ``g_l = g_{l-1} + W^g_l g_{l-1}``), so every gate pre-activation is a
    linear (affine with ``gate_bias``) function of x. Value: ``h_0 = x`` (or ones),
    ``h_l = G(g_l) * (W^v_l h_{l-1})``, ``G = sigmoid(beta g)`` (soft) or ``1[g > 0]``.
    The gating weights start variance-preserving (normal, sd ``fan_in^-1/2``).

    Parameters
    ----------
    in_features, hidden, n_classes, conv, kernel_size, residual, beta, value_input, gate_bias
        As for :class:`DGN`.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = DLGN(64, hidden=(32, 32), n_classes=10)
    >>> with hard_gates(net):
    ...     net.gate_mode
    'hard'
    >>> net.gate_mode
    'soft'
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (64, 64), n_classes: int = 10, *,
                 conv: bool = False, kernel_size: int = 3, residual: bool = False, beta: float = 4.0,
                 value_input: str = "x", gate_bias: bool = True) -> None:
        super().__init__("dlgn", in_features, hidden, n_classes, conv=conv, kernel_size=kernel_size,
                         residual=residual, bias=False, gate_bias=gate_bias, beta=beta, value_input=value_input)


@contextlib.contextmanager
def hard_gates(model: nn.Module) -> Iterator[nn.Module]:
    """Switch every :class:`GatedNetwork` and :class:`GatedCNN` inside ``model`` to hard gates; restore the modes on exit.

    Examples
    --------
    >>> net = DGN(4, hidden=(3,), n_classes=2)
    >>> with hard_gates(net) as m:
    ...     m.gate_mode
    'hard'
    """
    nets = [m for m in model.modules() if isinstance(m, (GatedNetwork, GatedCNN))]
    before = [m.gate_mode for m in nets]
    try:
        for m in nets:
            m.gate_mode = "hard"
        yield model
    finally:
        for m, mode in zip(nets, before):
            m.gate_mode = mode


def gated_model(kind: str = "dlgn", *, in_features: int = 64, hidden: Sequence[int] = (64, 64),
                n_classes: int = 10, conv: bool = False, kernel_size: int = 3, residual: bool = False,
                beta: float = 4.0, value_input: str = "x") -> GatedNetwork:
    """Build a ``"dnn"``, ``"dgn"`` or ``"dlgn"`` from keyword arguments (for model zoos).

    ``beta`` and ``value_input`` are ignored for ``"dnn"``. Initial weights come from
    torch's global RNG: call ``torch.manual_seed`` first.

    Examples
    --------
    >>> type(gated_model("dgn", in_features=8, hidden=(4,), n_classes=3)).__name__
    'DGN'
    """
    if kind == "dnn":
        return DNN(in_features, hidden, n_classes, conv=conv, kernel_size=kernel_size, residual=residual)
    if kind == "dgn":
        return DGN(in_features, hidden, n_classes, conv=conv, kernel_size=kernel_size, residual=residual,
                   beta=beta, value_input=value_input)
    if kind == "dlgn":
        return DLGN(in_features, hidden, n_classes, conv=conv, kernel_size=kernel_size, residual=residual,
                    beta=beta, value_input=value_input)
    raise OptionError(f"kind must be one of {KINDS}, got {kind!r}")



class GatedCNN(_GateControls, nn.Module):
    """A small conventional CNN as DNN, DGN or DLGN: strided convolutions, then dense layers.

    Layers ``l = 0 .. len(channels) - 1`` are convolutions (odd ``kernel_size``, zero
    padding ``kernel_size // 2``, stride ``stride``: each halves the image for
    ``stride=2``); the map is then flattened and layers ``len(channels) ..`` are fully
    connected with widths ``dense``; a linear ``readout`` gives the logits. Every layer
    is gated, in the same way as :class:`DNN`, :class:`DGN`, :class:`DLGN`:

    * ``"dnn"``: ``h_l = relu(W_l h_{l-1})`` (gates = its own ReLUs);
    * ``"dgn"``: a separate ReLU gating copy ``q_l = W^g_l relu(q_{l-1})`` (``q_0``'s input x),
      value ``h_l = G(q_l) * (W^v_l h_{l-1})``;
    * ``"dlgn"``: a *linear* gating copy ``g_l = W^g_l g_{l-1}`` (``g_0 = x``), value
      ``h_l = G(g_l) * (W^v_l h_{l-1})``: every gate pre-activation is an affine function of x.

    There is no pooling (strides downsample), so the gating network of a DLGN is
    linear and, given the gates, the value network is linear in its input
    (:meth:`forward_split`). The value network has no biases unless ``bias=True``
    (DNN only); gates are soft ``sigmoid(beta g)`` or hard ``1[g > 0]`` as in
    :class:`GatedNetwork`. Module names: ``value.{l}``, ``gating.{l}``, ``gates.{l}``
    (:class:`GatePoint`), ``readout``.

    Parameters
    ----------
    kind : {"dnn", "dgn", "dlgn"}
    in_channels : int, default 1
    image_size : int or (int, int), default 28
        Input height and width (fixes the size of the first dense layer).
    channels : sequence of int, default (32, 64)
        Channels of the conv layers (at least one).
    dense : sequence of int, default (128,)
        Widths of the gated fully connected layers (may be empty).
    n_classes : int, default 10
    kernel_size : int, default 3
    stride : int, default 2
    bias : bool, default False
        Biases in the DNN's layers (a DGN's / DLGN's value network never has them).
    gate_bias : bool, default True
        Biases in the gating network (DGN / DLGN).
    beta : float, default 4.0
    value_input : {"x", "ones"}, default "x"

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = GatedCNN("dlgn", image_size=12, channels=(4, 8), dense=(16,), n_classes=3)
    >>> net.activation_layers(), tuple(net(torch.zeros(2, 1, 12, 12)).shape)
    (['gates.0', 'gates.1', 'gates.2'], (2, 3))
    """

    def __init__(self, kind: str = "dnn", in_channels: int = 1, image_size: int | Sequence[int] = 28,
                 channels: Sequence[int] = (32, 64), dense: Sequence[int] = (128,), n_classes: int = 10, *,
                 kernel_size: int = 3, stride: int = 2, bias: bool = False, gate_bias: bool = True,
                 beta: float = 4.0, value_input: str = "x") -> None:
        super().__init__()
        if kind not in KINDS:
            raise OptionError(f"kind must be one of {KINDS}, got {kind!r}")
        _positive_int("in_channels", in_channels)
        _positive_int("n_classes", n_classes)
        size = (image_size, image_size) if isinstance(image_size, (int,)) and not isinstance(image_size, bool) \
            else tuple(image_size)
        if len(size) != 2:
            raise OptionError(f"image_size must be an int or (height, width), got {image_size!r}")
        for name, v in zip(("image height", "image width"), size):
            _positive_int(name, v)
        channels, dense = tuple(channels), tuple(dense)
        if not channels:
            raise OptionError("channels must have at least one width (a GatedCNN needs a conv layer)")
        for i, w in enumerate(channels):
            _positive_int(f"channels[{i}]", w)
        for i, w in enumerate(dense):
            _positive_int(f"dense[{i}]", w)
        _positive_int("kernel_size", kernel_size)
        if kernel_size % 2 != 1:
            raise OptionError(f"kernel_size must be odd, got {kernel_size}")
        _positive_int("stride", stride)
        _check_gate_options(kind, beta, value_input)
        self.kind = kind
        self.in_channels = int(in_channels)
        self.image_size = (int(size[0]), int(size[1]))
        self.channels = tuple(int(c) for c in channels)
        self.dense = tuple(int(w) for w in dense)
        self.n_classes = int(n_classes)
        self.kernel_size = int(kernel_size)
        self.stride = int(stride)
        self.beta = float(beta)
        self.value_input = value_input
        self.gate_mode = "hard" if kind == "dnn" else "soft"
        h, w = self.image_size
        for _ in self.channels:
            h = (h + 2 * (self.kernel_size // 2) - self.kernel_size) // self.stride + 1
            w = (w + 2 * (self.kernel_size // 2) - self.kernel_size) // self.stride + 1
        self.feature_shape = (self.channels[-1], h, w)
        value_bias = bool(bias) and kind == "dnn"
        self.value = self._layers(value_bias)
        self.gating = nn.ModuleList()
        if kind != "dnn":
            self.gating = self._layers(gate_bias)
            if kind == "dlgn":
                for layer in self.gating:  # variance-preserving init for a deep *linear* network
                    nn.init.normal_(layer.weight, std=layer.weight[0].numel() ** -0.5)
        self.gates = nn.ModuleList(GatePoint() for _ in self.value)
        widths = (self.channels[-1] * h * w, *self.dense)
        self.readout = nn.Linear(widths[-1], self.n_classes, bias=value_bias)

    def _layers(self, bias: bool) -> nn.ModuleList:
        chans = (self.in_channels, *self.channels)
        layers: list[nn.Module] = [nn.Conv2d(chans[i], chans[i + 1], self.kernel_size, stride=self.stride,
                                             padding=self.kernel_size // 2, bias=bias)
                                   for i in range(len(self.channels))]
        widths = (self.channels[-1] * self.feature_shape[1] * self.feature_shape[2], *self.dense)
        layers += [nn.Linear(widths[i], widths[i + 1], bias=bias) for i in range(len(self.dense))]
        return nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, n_classes) of images (N, in_channels, H, W)."""
        x = self.prepare_input(x)
        return self._run(x, self.value_input_of(x))

    def forward_split(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Logits with the gates computed from ``x`` and the value network fed ``v`` (DGN / DLGN).

        ``forward(x) == forward_split(x, x)`` (``value_input="x"``). With the gates of ``x``
        fixed, the result is linear in ``v`` under hard gates (and under soft ones: the
        gates do not depend on ``v``).
        """
        if self.kind == "dnn":
            raise OptionError("a DNN's gates are computed from its value network: forward_split needs a DGN or DLGN")
        x, v = self.prepare_input(x), self.prepare_input(v)
        if x.shape != v.shape:
            raise DataError(f"x and v must have the same shape, got {tuple(x.shape)} and {tuple(v.shape)}")
        return self._run(x, v)

    def _run(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        g = x
        n_conv = len(self.channels)
        for l, layer in enumerate(self.value):
            if l == n_conv:
                h, g = h.flatten(1), g.flatten(1)
            if self.kind == "dnn":
                h = torch.relu(self.gates[l](layer(h)))
            else:
                q = self.gates[l](self.gating[l](g))
                g = torch.relu(q) if self.kind == "dgn" else q
                h = self._gate(q) * layer(h)
        return self.readout(h.flatten(1))

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        """Check that ``x`` is a batch of (in_channels, *image_size) images; returns it."""
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.in_channels, *self.image_size):
            raise DataError(f"GatedCNN expects images of shape (N, {self.in_channels}, {self.image_size[0]}, "
                            f"{self.image_size[1]}), got {tuple(x.shape)}")
        return x

    def extra_repr(self) -> str:
        return (f"kind={self.kind!r}, image_size={self.image_size}, stride={self.stride}, "
                f"gate_mode={self.gate_mode!r}, beta={self.beta}, value_input={self.value_input!r}")


def gated_cnn(kind: str = "dlgn", *, in_channels: int = 1, image_size: int | Sequence[int] = 28,
              channels: Sequence[int] = (32, 64), dense: Sequence[int] = (128,), n_classes: int = 10,
              kernel_size: int = 3, stride: int = 2, beta: float = 4.0, value_input: str = "x") -> GatedCNN:
    """Build a :class:`GatedCNN` of ``kind`` ``"dnn"``, ``"dgn"`` or ``"dlgn"`` from keyword arguments.

    ``beta`` and ``value_input`` are ignored for ``"dnn"``. Initial weights come from
    torch's global RNG: call ``torch.manual_seed`` first.

    Examples
    --------
    >>> net = gated_cnn("dgn", image_size=8, channels=(2,), dense=(), n_classes=2)
    >>> type(net).__name__, net.kind, net.feature_shape
    ('GatedCNN', 'dgn', (2, 4, 4))
    """
    if kind == "dnn":
        return GatedCNN("dnn", in_channels, image_size, channels, dense, n_classes, kernel_size=kernel_size,
                        stride=stride)
    return GatedCNN(kind, in_channels, image_size, channels, dense, n_classes, kernel_size=kernel_size,
                    stride=stride, beta=beta, value_input=value_input)
