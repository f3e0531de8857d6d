"""The neural path kernel (NPK): the Gram matrix of a gated network's path features.

Dual view of a ReLU network without biases (Lakshminarayanan & Singh). A *path*
p starts at an input node p_0, visits one node p_l of every gated layer along
existing connections, and ends at an output. Its **path feature** on input x is

    phi(x, p) = x(p_0) * prod_l G_l(x, p_l)            (G_l in {0, 1}: hard gates)

and its **path value** v(p) the product of the weights along p, so the network
computes ``y(x) = sum_p phi(x, p) v(p)``: the gates pick the active paths, the
weights only value them. The **NPK** is ``K(x, x') = <phi(x), phi(x')>``:

* fully connected layers (every node of layer l-1 feeds every node of layer l)::

      K(x, x') = <x, x'> * prod_l overlap_l(x, x'),
      overlap_l(x, x') = number of units of layer l whose gates are on for both x and x'

  i.e. the input Gram matrix Hadamard-multiplied by the per-layer overlap Gram matrices.
* residual layers ``h_l = h_{l-1} + G_l * (W_l h_{l-1})``: a path either takes
  the identity skip or goes through the layer, so ``T_l = T_{l-1} * (1 + overlap_l)``
  instead of ``T_{l-1} * overlap_l``. Multiplying out, the kernel of a residual
  net is the **sum of the kernels of the 2^b plain nets** obtained by keeping any
  subset of the b skippable layers (an ensemble).
* circular convolutions (k x k filters, stride 1) and global average pooling:
  node (c, u) of layer l is fed by every channel of layer l-1 at positions u + delta,
  delta in the k x k window (mod the image size). Counting paths position by
  position gives, for a pair (x, x')::

      t_0(u) = sum_c x(c, u) x'(c, u)
      t_l(u) = overlap_l(u) * sum_delta t_{l-1}(u + delta)   (+ t_{l-1}(u) with a skip)
      K_0(x, x') = sum_u t_L(u),   overlap_l(u) = #channels on at position u for both

  Convolutional weights are shared between a path and all its circular
  rotations, so the kernel of the shared weights given the gates is the sum over
  all H*W rotations rho: ``K(x, x') = sum_rho K_0(x, rho x')`` where ``rho x'``
  rotates the input *and* the gates of x'. With circular convolutions the gates
  rotate with the input, so K is invariant to circular rotations of either input
  (``rotations=False`` gives ``K_0``, which is not).

The NPK's "input" is what the value network is fed (``x``, or ones for
``value_input="ones"``). Gates are always hard here (``1[g > 0]``), also for
DGN / DLGN trained with soft gates. Every value is a sum of products of inputs and
0/1 gates computed in float64, so integer inputs give exact integer kernels.

For a network that is not a :class:`~neurograph.models.gated.GatedNetwork`, its
ReLU gates are read with forward hooks (all ``nn.ReLU`` modules, or ``layers``)
and the fully connected formula is used with every recorded unit (channel x
position of a conv output) as one gate: exact for bias-free MLPs, a gate-overlap
kernel otherwise.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..recording.capture import first_tensor_of, run_model
from ..recording.hooks import capture, resolve_layers
from .._validate import check_int
from ..errors import DataError, LayerError, ModelError
from ..recording.recorder import record
from ..stats import CoactivationStats

__all__ = ["gate_layers", "gate_patterns", "neural_path_kernel", "path_kernel", "record_gates"]

_CHUNK_ELEMENTS = 1 << 22  # float64 elements per (positions x rows x columns) block of the conv kernel


def gate_layers(model: nn.Module) -> list[str]:
    """Names of the modules whose outputs are ``model``'s gate pre-activations (or ReLU outputs).

    A :class:`~neurograph.models.gated.GatedNetwork` or
    :class:`~neurograph.models.gated.GatedCNN` gives its gate sites (``gates.0``,
    ``gates.1``, ...); any other model its ``nn.ReLU`` modules in order.

    Raises
    ------
    LayerError
        If the model has neither gate sites nor ``nn.ReLU`` modules.

    Examples
    --------
    >>> from torch import nn
    >>> gate_layers(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))
    ['1']
    """
    if _has_gate_sites(model):                  # a gated model (GatePoint modules) names its gate sites
        return list(model.activation_layers())
    names = [name for name, mod in model.named_modules() if name and isinstance(mod, nn.ReLU)]
    if not names:
        raise LayerError(f"{type(model).__name__} has no nn.ReLU modules and no gate sites; "
                         f"pass layers=[...] naming the modules whose output signs are the gates")
    return names


def gate_patterns(model: nn.Module, X: torch.Tensor | np.ndarray, *, layers: str | Sequence[str] | None = None,
                  batch_size: int = 256) -> list[np.ndarray]:
    """Hard gates ``1[a > 0]`` of each gated layer on the inputs ``X``.

    Parameters
    ----------
    model : torch.nn.Module
        Run in eval mode without gradients; its mode is restored and hooks removed.
    X : tensor or array, shape (n, *input_shape)
    layers : str or list of str, optional
        Modules whose outputs' signs are the gates; default :func:`gate_layers`.
    batch_size : int, default 256

    Returns
    -------
    list of numpy.ndarray of bool
        One array per layer: shape (n, units) for (N, F) outputs, (n, C, H, W) for
        conv outputs (the layer's output shape).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.eye(2))
    >>> gate_patterns(net, torch.tensor([[1.0, -1.0]]))[0].tolist()
    [[True, False]]
    """
    names = gate_layers(model) if layers is None else layers
    X_t = _as_input(model, X)
    check_int("batch_size", batch_size, min=1)
    out: dict[int, list[np.ndarray]] = {}

    def on_site(i, site, output, state):
        o = first_tensor_of(output)
        if not isinstance(o, torch.Tensor) or o.dim() < 2:
            got = tuple(o.shape) if isinstance(o, torch.Tensor) else type(output).__name__
            raise LayerError(f"layer {site.name!r} returns {got}; expected a tensor of shape (batch, ...)")
        out.setdefault(i, []).append((o > 0).cpu().numpy())

    sites = run_model(model, (X_t, None), batch_size=int(batch_size), layers=names, on_site=on_site,
                      on_batch=lambda state: None, read=False, desc="gate_patterns")
    return [np.concatenate(out[i], axis=0) for i in range(len(sites))]


def path_kernel(X: np.ndarray, gates: Sequence[np.ndarray], Y: np.ndarray | None = None,
                gates_Y: Sequence[np.ndarray] | None = None, *,
                layout: Sequence[tuple[int | None, bool]] | None = None, rotations: bool = True) -> np.ndarray:
    """The neural path kernel from given inputs and gates (see the module docstring for the formulas).

    Parameters
    ----------
    X : array, shape (n, d) or (n, C, H, W)
        Inputs of the value network (images only for convolutional layouts).
    gates : list of arrays
        Per gated layer, 0/1 (or bool) gates: (n, units), or (n, C_l, H, W) for conv layers.
        (The formulas hold for any gate values, e.g. soft gates in [0, 1].)
    Y, gates_Y : optional
        Second set of inputs and their gates (m rows); default ``X`` and ``gates``.
    layout : list of (kernel_size or None, skip), optional
        Per gated layer: None = fully connected, an odd int = circular k x k
        convolution; ``skip`` = residual layer ``h + G * (W h)``. Default: all fully
        connected, no skips (non-image gates are flattened).
    rotations : bool, default True
        Convolutional layouts: sum over all circular rotations (weight sharing),
        else the plain path-feature Gram ``K_0``.

    Returns
    -------
    numpy.ndarray of float64, shape (n, m)

    Raises
    ------
    DataError
        Shapes that do not fit each other or the layout.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [3.0, 0.0]])
    >>> G = [np.array([[1, 1, 0], [1, 0, 1]])]          # overlaps: [[2, 1], [1, 2]]
    >>> path_kernel(X, G).tolist()                      # <x, x'> * overlap
    [[10.0, 3.0], [3.0, 18.0]]
    """
    X = np.asarray(X, dtype=np.float64)
    gates = [np.asarray(g) for g in gates]
    Y = X if Y is None else np.asarray(Y, dtype=np.float64)
    gates_Y = gates if gates_Y is None else [np.asarray(g) for g in gates_Y]
    if len(gates) == 0 or len(gates) != len(gates_Y):
        raise DataError(f"need the same non-zero number of gate layers for X and Y, got {len(gates)} and "
                        f"{len(gates_Y)}")
    if layout is None:
        layout = [(None, False)] * len(gates)
    layout = [(None if k is None else int(k), bool(s)) for k, s in layout]
    if len(layout) != len(gates):
        raise DataError(f"layout has {len(layout)} layers but {len(gates)} gate arrays were given")
    for name, a in (("X", X), ("Y", Y)):
        if a.ndim < 2 or a.shape[0] == 0:
            raise DataError(f"{name} must have shape (n, ...) with n > 0, got {a.shape}")
    for name, gs, n in (("gates", gates, X.shape[0]), ("gates_Y", gates_Y, Y.shape[0])):
        for l, g in enumerate(gs):
            if g.ndim < 2 or g.shape[0] != n:
                raise DataError(f"{name}[{l}] has shape {g.shape}; expected ({n}, ...) matching the inputs")
    for l, (_, skip) in enumerate(layout):
        before = X.shape[1] if l == 0 else gates[l - 1].shape[1]
        if skip and gates[l].shape[1] != before:
            raise DataError(f"gate layer {l} has a skip but {gates[l].shape[1]} units/channels where the layer "
                            f"before has {before}: an identity skip needs equal widths")
    conv = [k is not None for k, _ in layout]
    if any(conv):
        if not all(conv):
            raise DataError("a layout mixing convolutional and fully connected gated layers is not supported")
        return _conv_kernel(X, gates, Y, gates_Y, layout, rotations)
    return _fc_kernel(X, gates, Y, gates_Y, [s for _, s in layout])


def neural_path_kernel(model: nn.Module, X: torch.Tensor | np.ndarray, Y: torch.Tensor | np.ndarray | None = None,
                       *, layers: str | Sequence[str] | None = None, rotations: bool = True,
                       batch_size: int = 256) -> np.ndarray:
    """The NPK of ``model``'s hard gates between the inputs ``X`` (and ``Y``).

    For a :class:`~neurograph.models.gated.GatedNetwork` (DNN, DGN, DLGN; fully
    connected, convolutional or residual) the exact path count of its architecture
    is used, with the value network's input (``x`` or ones). For any other model,
    or when ``layers`` is given, the gates are the signs of those layers' outputs
    (default: every ``nn.ReLU``) and the fully connected formula
    ``<x, x'> * prod_l overlap_l`` is used on flattened inputs and gates.

    Parameters
    ----------
    model : torch.nn.Module
    X : tensor or array, shape (n, *input_shape)
    Y : tensor or array, shape (m, *input_shape), optional
        Default ``X`` (then the result is symmetric).
    layers : str or list of str, optional
        Gate modules for a generic model (glob patterns allowed).
    rotations : bool, default True
        Convolutional GatedNetworks: sum over circular rotations (see module docstring).
    batch_size : int, default 256
        Rows per forward pass when reading gates.

    Returns
    -------
    numpy.ndarray of float64, shape (n, m)

    Examples
    --------
    >>> import torch
    >>> from neurograph.models.gated import DLGN
    >>> _ = torch.manual_seed(0)
    >>> net = DLGN(4, hidden=(8, 8), n_classes=2)
    >>> K = neural_path_kernel(net, torch.randn(5, 4))
    >>> K.shape, bool((K == K.T).all())
    ((5, 5), True)
    """
    layout = _layout_of(model) if layers is None else None
    if layers is None and layout is None and _has_gate_sites(model):
        raise ModelError(f"{type(model).__name__}: its exact path count (strided convolutions, then dense layers) "
                         "is not implemented; pass layers=model.activation_layers() to use the fully connected "
                         "formula on the flattened gates and input (an approximation for this architecture)")
    gx = gate_patterns(model, X, layers=layers, batch_size=batch_size)
    gy = gx if Y is None else gate_patterns(model, Y, layers=layers, batch_size=batch_size)
    xv = _value_inputs(model, X, structured=layout is not None)
    yv = xv if Y is None else _value_inputs(model, Y, structured=layout is not None)
    if layout is None:
        xv = xv.reshape(xv.shape[0], -1)
        yv = yv.reshape(yv.shape[0], -1)
        gx = [g.reshape(g.shape[0], -1) for g in gx]
        gy = gx if Y is None else [g.reshape(g.shape[0], -1) for g in gy]
    return path_kernel(xv, gx, yv, gy, layout=layout, rotations=rotations)


def record_gates(model: nn.Module, data, *, layers: str | Sequence[str] | None = None, per_position: bool = False,
                 spatial: str = "mean", patterns: bool = False, batch_size: int = 256,
                 progress: bool = False) -> CoactivationStats:
    """Record ``model``'s gates into :class:`~neurograph.stats.CoactivationStats`.

    ``record(model, data, gate_layers(model), rule="positive", ...)``: a gate fires
    when its pre-activation is > 0 (the hard gate), so the gates of a DNN, DGN or
    DLGN go through the same graph / communities / entropy pipeline as any layer,
    e.g. ``neurograph.scoring.analyze(record_gates(model, (X, y)))``.

    Conv gate layers have one gate per (channel, position). By default ``record``
    makes one neuron per channel, valued by the ``spatial`` reduction of the
    pre-activations (``"mean"``, ``"max"`` or ``"any"``). With ``per_position=True``
    every (channel, position) gate is its own neuron instead: ``unit`` is the flat
    index ``c * H * W + y * W + x`` (the layers' outputs are flattened by identity
    modules inside a wrapper, and recorded by ``record`` all the same).

    Examples
    --------
    >>> import torch
    >>> from neurograph.models.gated import DLGN
    >>> _ = torch.manual_seed(0)
    >>> stats = record_gates(DLGN(4, hidden=(6, 5), n_classes=2), (torch.randn(50, 4), torch.randint(0, 2, (50,))))
    >>> stats.n_samples, stats.layers
    (50, ['gates.0', 'gates.1'])
    """
    names = gate_layers(model) if layers is None else layers
    if not per_position:
        return record(model, data, names, rule="positive", spatial=spatial, patterns=patterns,
                      batch_size=batch_size, progress=progress)
    wrapper = _FlatGates(model, [name for name, _ in resolve_layers(model, names)])
    stats = record(wrapper, data, list(wrapper.sites), rule="positive", patterns=patterns, batch_size=batch_size,
                   progress=progress)
    rename = dict(zip(wrapper.sites, wrapper.names))
    neurons = stats.neurons.assign(layer=stats.neurons["layer"].map(rename))
    counts = None if stats.pattern_counts is None else {rename[k]: v for k, v in stats.pattern_counts.items()}
    return dataclasses.replace(stats, neurons=neurons, pattern_counts=counts,
                               meta={**stats.meta, "per_position": True})


# ---------------------------------------------------------------------------- internals

class _FlatGates(nn.Module):
    """Runs ``model`` and passes each gate layer's output, flattened to (N, units), through an identity."""

    def __init__(self, model: nn.Module, names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.names = names
        self.sites = [f"flat.{i}" for i in range(len(names))]
        self.flat = nn.ModuleList(nn.Identity() for _ in names)

    def forward(self, x):
        with capture(resolve_layers(self.model, self.names)) as out:
            y = self.model(x)
        for i, name in enumerate(self.names):
            if not isinstance(out.get(name), torch.Tensor):
                raise LayerError(f"layer {name!r} did not run or returned no tensor")
            self.flat[i](out[name].flatten(1))
        return y


def _has_gate_sites(model: nn.Module) -> bool:
    """A gated model of :mod:`neurograph.models.gated`: ``GatePoint`` modules and ``activation_layers()``."""
    from ..models.gated import GatePoint
    return callable(getattr(model, "activation_layers", None)) and any(isinstance(m, GatePoint)
                                                                       for m in model.modules())


def _layout_of(model: nn.Module) -> list[tuple[int | None, bool]] | None:
    fn = getattr(model, "gate_layout", None)
    return list(fn()) if callable(fn) and hasattr(model, "activation_layers") else None


def _model_dtype(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        if p.dtype.is_floating_point:
            return p.dtype
    return torch.float32


def _as_input(model: nn.Module, X) -> torch.Tensor:
    if isinstance(X, np.ndarray):
        X = torch.from_numpy(X)
    if not isinstance(X, torch.Tensor):
        raise DataError(f"X must be a torch.Tensor or numpy array, got {type(X).__name__}")
    if X.dim() < 2 or X.shape[0] == 0:
        raise DataError(f"X must have shape (n, ...) with n > 0, got {tuple(X.shape)}")
    X = X.to(_model_dtype(model))
    if not bool(torch.isfinite(X).all()):
        raise DataError("X contains NaN or infinite values")
    return X


def _value_inputs(model: nn.Module, X, *, structured: bool) -> np.ndarray:
    X_t = _as_input(model, X)
    if structured:
        X_t = model.value_input_of(model.prepare_input(X_t))
    return X_t.detach().cpu().numpy().astype(np.float64)


def _fc_kernel(X, gates, Y, gates_Y, skips) -> np.ndarray:
    Xf = X.reshape(X.shape[0], -1)
    Yf = Y.reshape(Y.shape[0], -1)
    if Xf.shape[1] != Yf.shape[1]:
        raise DataError(f"X and Y have different numbers of features: {Xf.shape[1]} vs {Yf.shape[1]}")
    K = Xf @ Yf.T
    for l, (gx, gy, skip) in enumerate(zip(gates, gates_Y, skips)):
        gx = gx.reshape(gx.shape[0], -1).astype(np.float64)
        gy = gy.reshape(gy.shape[0], -1).astype(np.float64)
        if gx.shape[1] != gy.shape[1]:
            raise DataError(f"gate layer {l} has {gx.shape[1]} units for X but {gy.shape[1]} for Y")
        overlap = gx @ gy.T
        K = K * overlap + K if skip else K * overlap
    return K


def _conv_kernel(X, gates, Y, gates_Y, layout, rotations: bool) -> np.ndarray:
    if X.ndim != 4 or Y.ndim != 4 or X.shape[1:] != Y.shape[1:]:
        raise DataError(f"convolutional layouts need image inputs (n, C, H, W) of one shape, got {X.shape} "
                        f"and {Y.shape}")
    H, W = X.shape[2:]
    for l, (gx, gy) in enumerate(zip(gates, gates_Y)):
        if gx.ndim != 4 or gx.shape[2:] != (H, W) or gy.shape[1:] != gx.shape[1:]:
            raise DataError(f"gate layer {l}: expected gates of shape (n, C, {H}, {W}) for X and Y, got "
                            f"{gx.shape} and {gy.shape}")
    for k, _ in layout:
        if k < 1 or k % 2 != 1:
            raise DataError(f"kernel sizes must be odd positive ints, got {k}")
    n, m, P = X.shape[0], Y.shape[0], H * W

    def pos_major(a: np.ndarray) -> torch.Tensor:  # (r, C, H, W) -> (P, r, C) float64
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))
        return t.permute(2, 3, 0, 1).reshape(P, a.shape[0], a.shape[1])

    xs = [pos_major(X)] + [pos_major(g) for g in gates]
    shifts = list(itertools.product(range(H), range(W))) if rotations else [(0, 0)]
    rows = max(1, _CHUNK_ELEMENTS // max(1, P * m))
    K = torch.zeros((n, m), dtype=torch.float64)
    for sy, sx in shifts:
        ys = [pos_major(np.roll(a, (sy, sx), axis=(2, 3))).permute(0, 2, 1) for a in [Y, *gates_Y]]  # (P, C, m)
        for lo in range(0, n, rows):
            hi = min(n, lo + rows)
            t = torch.bmm(xs[0][:, lo:hi], ys[0]).reshape(H, W, hi - lo, m)
            for l, (_, skip) in enumerate(layout):
                box = _box_sum(t, layout[l][0])
                overlap = torch.bmm(xs[l + 1][:, lo:hi], ys[l + 1]).reshape(H, W, hi - lo, m)
                t = overlap * box + t if skip else overlap * box
            K[lo:hi] += t.sum(dim=(0, 1))
    return K.numpy()


def _box_sum(t: torch.Tensor, k: int) -> torch.Tensor:
    """Circular k x k window sums over the first two (spatial) axes, separably."""
    for dim in (0, 1):
        acc = t.clone()
        for d in range(1, k // 2 + 1):
            acc += torch.roll(t, d, dims=dim)
            acc += torch.roll(t, -d, dims=dim)
        t = acc
    return t
