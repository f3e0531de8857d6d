"""Recurrent cells as batched maps on flat states, for fixed-point and limit-cycle analysis.

Private helpers of :mod:`neurograph.dynamics` and :mod:`neurograph.dynamics.limit_cycle`:
:class:`StepMap` wraps ``cell(x, h) -> h_next`` (``nn.RNNCell``, ``nn.GRUCell``,
``nn.LSTMCell`` or any callable with that signature) as ``z -> F(z, x)`` on states
``z`` of shape (n, D), with Jacobians by autograd. The user's cell is never changed:
a module is deep-copied (cast to the working dtype, parameters frozen in the copy),
and gradients are taken with ``torch.autograd.grad`` on the states only, so no
``.grad`` of a user tensor is written.
"""

from __future__ import annotations

import copy
import inspect
import logging

import numpy as np
import torch
from torch import nn

from ..errors import DataError, LayerError, ModelError

__all__ = ["StepMap", "cell_from_layer", "minimise_speed", "newton_refine", "visited_states"]

logger = logging.getLogger(__name__)


def cell_from_layer(layer: nn.Module) -> nn.Module:
    """Return a cell computing one step of a trained single-layer ``nn.RNN``, ``nn.GRU`` or ``nn.LSTM``.

    The cell (``nn.RNNCell`` with the same non-linearity, ``nn.GRUCell`` or
    ``nn.LSTMCell``) holds *copies* of the layer's weights, on the layer's device and
    dtype, so ``cell(x_t, h)`` gives exactly the layer's next hidden state (for the
    LSTM ``cell(x_t, (h, c)) -> (h, c)``). A module that is already such a cell is
    returned as it is.

    Parameters
    ----------
    layer : torch.nn.Module
        A one-layer, one-direction ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` (without
        ``proj_size``), or a cell.

    Returns
    -------
    torch.nn.Module
        ``nn.RNNCell``, ``nn.GRUCell`` or ``nn.LSTMCell``.

    Raises
    ------
    LayerError
        If ``layer`` is of another type, has more than one layer, is bidirectional
        or is a projected LSTM.

    Examples
    --------
    >>> import torch
    >>> gru = torch.nn.GRU(3, 5, batch_first=True)
    >>> cell = cell_from_layer(gru)
    >>> x = torch.randn(2, 1, 3)
    >>> out, h = gru(x)
    >>> torch.allclose(cell(x[:, 0], torch.zeros(2, 5)), h[0])
    True
    """
    if isinstance(layer, (nn.RNNCell, nn.GRUCell, nn.LSTMCell)):
        return layer
    if not isinstance(layer, (nn.RNN, nn.GRU, nn.LSTM)):
        raise LayerError(f"layer must be an nn.RNN, nn.GRU or nn.LSTM (or a cell), got {type(layer).__name__}")
    name = type(layer).__name__
    if layer.num_layers != 1 or layer.bidirectional:
        raise LayerError(f"{name} layer has num_layers={layer.num_layers}, bidirectional={layer.bidirectional}; "
                         "only a single-layer, one-direction layer maps to one cell")
    if getattr(layer, "proj_size", 0):
        raise LayerError(f"{name} layer has proj_size={layer.proj_size}; projected LSTMs have no matching cell")
    if isinstance(layer, nn.RNN):
        cell: nn.Module = nn.RNNCell(layer.input_size, layer.hidden_size, bias=layer.bias,
                                     nonlinearity=layer.nonlinearity)
    elif isinstance(layer, nn.GRU):
        cell = nn.GRUCell(layer.input_size, layer.hidden_size, bias=layer.bias)
    else:
        cell = nn.LSTMCell(layer.input_size, layer.hidden_size, bias=layer.bias)
    ref = layer.weight_ih_l0
    cell = cell.to(device=ref.device, dtype=ref.dtype)
    with torch.no_grad():
        cell.weight_ih.copy_(layer.weight_ih_l0)
        cell.weight_hh.copy_(layer.weight_hh_l0)
        if layer.bias:
            cell.bias_ih.copy_(layer.bias_ih_l0)
            cell.bias_hh.copy_(layer.bias_hh_l0)
    return cell


class StepMap:
    """``z -> F(z, x)`` for a batch of flat states ``z`` (n, D) at a constant input ``x``.

    For a state-pair cell (``nn.LSTMCell``, or ``state_pair=True``) the flat state
    is ``[h, c]`` (D = 2 * hidden) and the cell is called as ``cell(x, (h, c))``.
    Modules, and methods of modules (such as ``RecurrentLayer.step``), run on a deep
    copy cast to float64; other callables are tried in float64 and, if that raises, in
    float32.
    """

    def __init__(self, cell, x, *, state_pair: bool | None = None, dtype: torch.dtype | None = None,
                 probe_dim: int | None = None):
        if not callable(cell):
            raise ModelError(f"cell must be callable as cell(x, h) -> h_next, got {type(cell).__name__}")
        self.state_pair = isinstance(cell, nn.LSTMCell) if state_pair is None else bool(state_pair)
        self.name = getattr(cell, "__qualname__", type(cell).__name__)
        device = torch.device("cpu")
        if inspect.ismethod(cell) and isinstance(cell.__self__, nn.Module):
            # a method of a module (e.g. RecurrentLayer.step): the same method of a float64 copy
            first = next(iter(cell.__self__.parameters()), None)
            if first is not None:
                device = first.device
            owner = copy.deepcopy(cell.__self__).to(dtype=dtype or torch.float64)
            owner.requires_grad_(False)
            owner.eval()
            cell = getattr(owner, cell.__name__)
            dtypes = [dtype or torch.float64]
        elif isinstance(cell, nn.Module):
            first = next(iter(cell.parameters()), None)
            if first is not None:
                device = first.device
            cell = copy.deepcopy(cell).to(dtype=dtype or torch.float64)
            cell.requires_grad_(False)
            cell.eval()
            dtypes = [dtype or torch.float64]
        else:
            dtypes = [dtype] if dtype is not None else [torch.float64, torch.float32]
        self.cell = cell
        self.device = device
        x_t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x.detach())
        if x_t.ndim == 2 and x_t.shape[0] == 1:
            x_t = x_t[0]
        if x_t.ndim != 1:
            raise ModelError(f"x must be one constant input of shape (input_size,), got shape {tuple(x_t.shape)}")
        self._x = x_t
        self.dtype = dtypes[0]
        if len(dtypes) > 1 and probe_dim is not None:
            for i, dt in enumerate(dtypes):
                self.dtype = dt
                self.x = self._x.to(device=device, dtype=dt)
                try:
                    self(torch.zeros(1, probe_dim, dtype=dt, device=device))
                    break
                except Exception as exc:  # noqa: BLE001 - any failure means: try the next dtype
                    if i == len(dtypes) - 1:
                        raise ModelError(f"cell {self.name} failed on a state of size {probe_dim}: {exc}") from exc
                    logger.debug("cell %s failed in %s (%s); trying %s", self.name, dt, exc, dtypes[i + 1])
        self.x = self._x.to(device=device, dtype=self.dtype)

    def with_input(self, x) -> StepMap:
        """The same map at another constant input (shares the copied cell)."""
        other = copy.copy(self)
        x_t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x.detach())
        other.x = x_t.reshape(-1).to(device=self.device, dtype=self.dtype)
        return other

    def as_tensor(self, z) -> torch.Tensor:
        """States as a (n, D) tensor of the working dtype on the cell's device."""
        z_t = torch.as_tensor(np.asarray(z) if not isinstance(z, torch.Tensor) else z.detach())
        return z_t.to(device=self.device, dtype=self.dtype)

    def __call__(self, z: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        x = self.x if x is None else x
        x = x.to(device=z.device, dtype=z.dtype)
        x_b = x.expand(z.shape[0], -1) if x.ndim == 1 else x
        try:
            if self.state_pair:
                if z.shape[1] % 2:
                    raise ModelError(f"state-pair cell {self.name} needs states [h, c] of even size, "
                                     f"got size {z.shape[1]}")
                half = z.shape[1] // 2
                out = self.cell(x_b, (z[:, :half], z[:, half:]))
                if not isinstance(out, (tuple, list)) or len(out) != 2:
                    raise ModelError(f"state-pair cell {self.name} must return (h, c), got {type(out).__name__}")
                out = torch.cat([out[0], out[1]], dim=1)
            else:
                out = self.cell(x_b, z)
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"cell {self.name} raised on states of shape {tuple(z.shape)} and input of shape "
                             f"{tuple(x_b.shape)}: {exc}") from exc
        if isinstance(out, (tuple, list)):
            raise ModelError(f"cell {self.name} returned a {type(out).__name__}; for a cell whose state is a "
                             "pair (h, c) pass state_pair=True")
        if not isinstance(out, torch.Tensor) or out.shape != z.shape:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ModelError(f"cell {self.name} must map states of shape {tuple(z.shape)} to the same shape, "
                             f"got {shape}")
        return out

    def jacobians(self, z: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """dF/dz at each state: (n, D, D), row i = gradient of output unit i."""
        with torch.enable_grad():
            z = z.detach().clone().requires_grad_(True)
            out = self(z, x)
            n, d = z.shape
            jac = torch.empty(n, d, d, dtype=z.dtype, device=z.device)
            eye = torch.eye(d, dtype=z.dtype, device=z.device)
            for i in range(d):
                (g,) = torch.autograd.grad(out, z, grad_outputs=eye[i].expand(n, d), retain_graph=i < d - 1,
                                           allow_unused=True)
                jac[:, i, :] = 0.0 if g is None else g
        return jac.detach()

    def run(self, z: torch.Tensor, n_steps: int, x: torch.Tensor | None = None) -> torch.Tensor:
        """Iterate the map ``n_steps`` times; returns the final states."""
        with torch.no_grad():
            for _ in range(int(n_steps)):
                z = self(z, x)
        return z


def _speed(step: StepMap, z: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((step(z) - z) ** 2).sum(1)


def minimise_speed(step: StepMap, z0: torch.Tensor, *, q_tol: float, max_iters: int, lr: float,
                   newton_every: int = 100) -> torch.Tensor:
    """Adam on q from every start at once; returns the best state seen per point.

    Every ``newton_every`` iterations two damped Newton steps are tried on the points not yet
    converged (kept where they lower q), so points inside Newton's basin finish early. Stops
    when every point has ``q < q_tol``, after ``max_iters``, or when the mean log10 q of the
    remaining points improves by less than 0.01 over 100 iterations twice in a row.
    """
    z = z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    best = z0.clone()
    with torch.no_grad():
        best_q = _speed(step, z0)
    decay = 0.01 ** (1.0 / max(max_iters, 1))
    checkpoint, stalls = None, 0
    it = 0
    with torch.enable_grad():
        for it in range(max_iters):
            q = _speed(step, z)
            with torch.no_grad():
                better = q < best_q
                best[better] = z[better]
                best_q = torch.where(better, q, best_q)
                active = best_q >= q_tol
            if not bool(active.any()):
                break
            if it % 100 == 0:
                score = float(torch.log10(best_q[active] + 1e-300).mean())
                stalls = stalls + 1 if checkpoint is not None and checkpoint - score < 0.01 else 0
                if stalls >= 2:
                    break
                checkpoint = score
            (grad,) = torch.autograd.grad(q.sum(), z)
            z.grad = grad * active[:, None]
            opt.step()
            with torch.no_grad():
                z[~active] = best[~active]
                if newton_every and it % newton_every == newton_every - 1:
                    idx = torch.nonzero(active).flatten()
                    zn = newton_refine(step, best[idx], q_tol=q_tol, n_steps=2)
                    qn = _speed(step, zn)
                    ok = qn < best_q[idx]
                    best[idx[ok]], best_q[idx[ok]] = zn[ok], qn[ok]
                    z[idx[ok]] = zn[ok]
            for group in opt.param_groups:
                group["lr"] *= decay
    logger.debug("Adam stopped after %d iterations; max q %.3g", it + 1, float(best_q.max()) if len(best_q) else 0.0)
    return best.detach()


def newton_refine(step: StepMap, z: torch.Tensor, *, q_tol: float, n_steps: int) -> torch.Tensor:
    """Levenberg-Marquardt steps on r(z) = F(z) - z, accepted per point only where q decreases.

    Points keep being polished below ``q_tol`` (down to q ~ 1e-30), which pins isolated fixed
    points to machine precision; a point whose damping grows past 1e8 (no progress) stops.
    """
    if n_steps == 0 or len(z) == 0:
        return z
    d = z.shape[1]
    eye = torch.eye(d, dtype=z.dtype, device=z.device)
    mu = torch.full((len(z),), 1e-8, dtype=z.dtype, device=z.device)
    with torch.no_grad():
        r = step(z) - z
    q = 0.5 * (r**2).sum(1)
    floor = min(q_tol, 1e-30)
    for _ in range(n_steps):
        active = (q > floor) & (mu < 1e8)
        if not bool(active.any()):
            break
        za, ra = z[active], r[active]
        a = step.jacobians(za) - eye
        at = a.transpose(1, 2)
        lhs = at @ a + mu[active, None, None] * eye
        delta = -torch.linalg.solve(lhs, (at @ ra[:, :, None]))[:, :, 0]
        cand = za + delta
        with torch.no_grad():
            rc = step(cand) - cand
        qc = 0.5 * (rc**2).sum(1)
        ok = torch.isfinite(qc) & (qc < q[active])
        idx = torch.nonzero(active).flatten()
        z, r, q = z.clone(), r.clone(), q.clone()
        z[idx[ok]], r[idx[ok]], q[idx[ok]] = cand[ok], rc[ok], qc[ok]
        mu[idx[ok]] = mu[idx[ok]] / 10.0
        mu[idx[~ok]] = mu[idx[~ok]] * 100.0
    return z


def visited_states(obj) -> np.ndarray:
    """(m, D) float64 states from a StateTrace (every row: initial and later states), an object
    with ``states`` (FixedPoints; or (n, T + 1, D) masked by ``lengths``), or an array (..., D)."""
    if hasattr(obj, "states") and not isinstance(obj, (np.ndarray, torch.Tensor)):
        arr = obj.states
        arr = arr.detach().cpu().numpy() if isinstance(arr, torch.Tensor) else np.asarray(arr)
        lengths = getattr(obj, "lengths", None)
        if arr.ndim == 3 and lengths is not None:
            lengths = np.asarray(lengths.detach().cpu() if isinstance(lengths, torch.Tensor) else lengths)
            arr = arr[np.arange(arr.shape[1])[None, :] <= lengths[:, None]]
    else:
        arr = obj.detach().cpu().numpy() if isinstance(obj, torch.Tensor) else np.asarray(obj)
    arr = np.asarray(arr, dtype=np.float64)
    arr = arr.reshape(-1, arr.shape[-1]) if arr.ndim >= 2 else arr
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise DataError(f"need a non-empty set of states of shape (..., D), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise DataError("states contain NaN or infinite values")
    return arr
