"""Limit cycles of recurrent cells, phases on them, and phase shifts caused by inputs.

At a constant input a cell is a map ``h -> F(h, x)``. :func:`find_limit_cycle`
follows it from an initial state past a transient and classifies what it settles on:

- ``"periodic"``: an exact cycle ``h_p = h_0`` of ``period`` p steps (within ``tol``);
- ``"quasi_periodic"``: a closed invariant curve travelled in a non-integer number of
  steps per loop (what a sampled continuous oscillation looks like); ``period`` is
  the mean return time, fitted over several loops;
- ``"fixed_point"``: the state comes to rest (the attractor is a fixed point);
- ``"none"``: neither within ``max_period`` steps (e.g. chaos or a longer period).

The phase of a state is that of the nearest point on the orbit, interpolated along
the orbit, in cycles ``[0, 1)``; :mod:`neurograph.dynamics.phase_code` measures the phase
shifts inputs cause on it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .cells import StepMap, newton_refine
from .._validate import check_bool, check_int, check_module_finite, check_number
from ..errors import DataError
from ..io.names import plain_figure_text

__all__ = ["LimitCycle", "find_limit_cycle"]

logger = logging.getLogger(__name__)

_KINDS = ("periodic", "quasi_periodic", "fixed_point", "none")


@dataclass(frozen=True, eq=False)
class LimitCycle:
    """What the autonomous dynamics settle on: a cycle, a fixed point, or neither.

    Attributes
    ----------
    kind : str
        ``"periodic"``, ``"quasi_periodic"``, ``"fixed_point"`` or ``"none"``.
    period : float
        Steps per loop around the cycle, ``return_steps / winding`` (NaN unless a cycle).
    return_steps : float
        Steps until the state comes back to (near) where it was: the exact period p of a
        ``"periodic"`` orbit, the fitted mean return time of a quasi-periodic one.
    winding : int
        Loops around the cycle per return (1 unless the state jumps around the curve,
        e.g. 2 for a rotation by 2/5 of a turn per step: p = 5, period 2.5).
    states : numpy.ndarray, shape (m, D)
        Orbit points ordered by phase (the fixed point for ``"fixed_point"``, the last
        state reached for ``"none"``). A quasi-periodic curve is sampled by the points
        of ``n_loops`` loops.
    phases : numpy.ndarray, shape (m,)
        Phase of each orbit point in cycles, increasing in ``[0, 1)``: the state reached
        after the transient has phase 0 and each step adds ``1 / period``.
    floquet_multipliers : numpy.ndarray of complex, shape (D,)
        Eigenvalues of the product of the Jacobians along one return, or of the Jacobian at
        the fixed point; by decreasing modulus. For a quasi-periodic curve, which never comes
        back exactly, the moduli ``exp(return_steps * lambda_i)`` of the Lyapunov exponents
        ``lambda_i`` measured along ``max(3 n_loops period, 400)`` steps (QR method, the first
        third aligning the frame; real, phases unknown).
    is_stable : bool
        Fixed point: all multipliers inside the unit circle. Cycle: all multipliers
        inside except at most one (the phase direction) with ``|mu| <= 1 + neutral_tol``.
    return_distance : float
        ``||h_p - h_0||`` after one loop (for a fixed point: ``||F(h*) - h*||``).
    input : numpy.ndarray, shape (input_size,)
        The constant input.

    Examples
    --------
    >>> import numpy as np
    >>> c = LimitCycle(kind="periodic", period=4.0, return_steps=4.0, winding=1,
    ...                states=np.array([[1., 0], [0, 1], [-1, 0], [0, -1]]), phases=np.arange(4) / 4, floquet_multipliers=np.array([1.0, 0.1], complex), is_stable=True,
    ...                return_distance=0.0, input=np.zeros(1))
    >>> c.is_cycle, float(c.phase(np.array([0.5, 0.5])))
    (True, 0.125)
    """

    kind: str
    period: float
    return_steps: float
    winding: int
    states: np.ndarray
    phases: np.ndarray
    floquet_multipliers: np.ndarray
    is_stable: bool
    return_distance: float
    input: np.ndarray

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise DataError(f"kind must be one of {_KINDS}, got {self.kind!r}")
        if self.states.ndim != 2 or self.phases.shape != (self.states.shape[0],):
            raise DataError(f"states {self.states.shape} and phases {self.phases.shape} do not match")

    @property
    def is_cycle(self) -> bool:
        """True for a periodic or quasi-periodic orbit."""
        return self.kind in ("periodic", "quasi_periodic")

    def phase(self, h) -> np.ndarray:
        """Phase in cycles ``[0, 1)`` of states ``h`` (..., D): the nearest point of the orbit polygon
        (orbit points joined in phase order), its phase interpolated along the segment. Shape ``h.shape[:-1]``."""
        if not self.is_cycle:
            raise DataError(f"phase is defined only on a cycle; the attractor here is {self.kind!r}")
        h = np.asarray(h.detach().cpu() if isinstance(h, torch.Tensor) else h, dtype=np.float64)
        return self._project(h)[0]

    def distance(self, h) -> np.ndarray:
        """Euclidean distance of states ``h`` (..., D) to the orbit polygon (to the point for a fixed point)."""
        h = np.asarray(h.detach().cpu() if isinstance(h, torch.Tensor) else h, dtype=np.float64)
        return self._project(h)[1]

    def _project(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = h.reshape(-1, self.states.shape[1])
        p, ph, m = self.states, self.phases, len(self.phases)
        d2 = (flat**2).sum(1)[:, None] - 2 * flat @ p.T + (p**2).sum(1)[None, :]
        i = np.argmin(d2, axis=1)
        best_phase = ph[i].copy()
        best_dist = np.sqrt(np.maximum(d2[np.arange(len(flat)), i], 0.0))
        if m > 1:
            for lo, hi in (((i - 1) % m, i), (i, (i + 1) % m)):  # the segments before and after point i
                seg = p[hi] - p[lo]
                s = np.clip(((flat - p[lo]) * seg).sum(1) / np.maximum((seg**2).sum(1), 1e-300), 0.0, 1.0)
                dist = np.linalg.norm(flat - (p[lo] + s[:, None] * seg), axis=1)
                cand = (ph[lo] + s * ((ph[hi] - ph[lo]) % 1.0)) % 1.0
                better = dist < best_dist
                best_dist = np.where(better, dist, best_dist)
                best_phase = np.where(better, cand, best_phase)
        return best_phase.reshape(h.shape[:-1]), best_dist.reshape(h.shape[:-1])

    def plot(self, *, states=None, title: str = "") -> Figure:
        """The orbit in the plane of its first two principal components, coloured by phase;
        ``states`` (n, D), e.g. visited states, are drawn in grey."""
        from .fixed_points import attractor_dimension

        fig = Figure(figsize=(5.2, 4.6), layout="constrained")
        ax = fig.add_subplot()
        ref = self.states if states is None else np.asarray(states, dtype=float).reshape(-1, self.states.shape[1])
        dim = attractor_dimension(np.concatenate([ref, self.states]) if len(ref) < 2 else ref)
        if states is not None:
            bg = dim.project(ref, 2)
            ax.scatter(bg[:, 0], bg[:, 1], s=3, c="0.8", rasterized=True)
        pts = dim.project(self.states, 2)
        sc = ax.scatter(pts[:, 0], pts[:, 1], c=self.phases, cmap="hsv", vmin=0, vmax=1, s=14)
        fig.colorbar(sc, ax=ax, label="phase (cycles)")
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
        ax.set_title(title or f"{self.kind}, period {self.period:.2f} steps")
        return plain_figure_text(fig)  # a title's $ is drawn as written


def find_limit_cycle(
    cell: Callable,
    x: ArrayLike | torch.Tensor,
    initial_state: ArrayLike | torch.Tensor,
    *,
    n_transient: int = 500,
    max_period: int = 200,
    tol: float = 1e-6,
    n_loops: int = 10,
    neutral_tol: float = 1e-2,
    state_pair: bool | None = None,
) -> LimitCycle:
    """Run ``h -> cell(x, h)`` from ``initial_state`` and find the cycle (or fixed point) it settles on.

    After ``n_transient`` steps the next ``max_period + 1`` states are examined: a last step
    shorter than ``tol`` is a fixed point; a return to within ``tol`` of the first state
    after p steps is an exact period p; otherwise the first local minimum of the distance
    to the first state that lies within 1.5 step lengths is taken as an approximate return,
    accepted as a closed curve (quasi-periodic) only if every state of the window is that
    close to the state as many steps later and the points of ``n_loops`` loops, ordered by
    phase, leave no gap longer than half a step. Failing all that, damped Newton steps from
    the last state look for a slowly approached stable fixed point, else the kind is
    ``"none"``. The winding (loops per return) is the one whose phase order joins the
    points into the shortest closed polygon. Return times of quasi-periodic curves turning
    by more than about a quarter cycle per step are fitted less precisely.

    Parameters
    ----------
    cell : callable
        ``cell(x, h) -> h_next`` as for :func:`neurograph.dynamics.find_fixed_points`.
    x : array-like, shape (input_size,)
        The constant input (e.g. zeros for "no input").
    initial_state : array-like, shape (D,)
        Start state (``[h, c]`` for an LSTM).
    n_transient : int, default 500
        Steps run before looking for a cycle.
    max_period : int, default 200
        Longest period (steps) looked for.
    tol : float, default 1e-6
        A step shorter than this means rest (fixed point); a return closer than this
        means an exact period.
    n_loops : int, default 10
        Loops over which a quasi-periodic return time is fitted and the orbit sampled.
    neutral_tol : float, default 1e-2
        Slack on the one multiplier of a cycle allowed on the unit circle.
    state_pair : bool or None, default None
        The cell takes and returns ``(h, c)``; None: only for ``nn.LSTMCell``.

    Returns
    -------
    LimitCycle
        Its ``kind`` says whether a cycle, a fixed point or neither was found: a chaotic
        orbit, or a cycle longer than ``max_period``, gives ``kind == "none"`` (``is_cycle``
        False, ``period`` NaN), never an error.

    Raises
    ------
    OptionError
        ``n_transient`` not an int ``>= 0``; ``max_period`` or ``n_loops`` not an int
        ``>= 1``; ``tol`` or ``neutral_tol`` not a finite number ``> 0`` (``>= 0`` for
        ``neutral_tol``); ``state_pair`` not None or a bool.
    DataError
        ``initial_state`` or ``x`` not finite; a parameter of the cell (module) not finite
        (the message names it); the state becoming NaN or infinite along the orbit.
    ModelError
        If the cell raises or returns states of the wrong shape.

    Examples
    --------
    >>> import math, torch
    >>> rot = torch.tensor([[math.cos(2 * math.pi / 5), -math.sin(2 * math.pi / 5)],
    ...                     [math.sin(2 * math.pi / 5), math.cos(2 * math.pi / 5)]], dtype=torch.float64)
    >>> cell = lambda x, h: (h / h.norm(dim=1, keepdim=True)) @ rot.T
    >>> c = find_limit_cycle(cell, torch.zeros(1), [2.0, 0.0], n_transient=10)
    >>> c.kind, c.period
    ('periodic', 5.0)
    """
    n_transient = check_int("n_transient", n_transient, min=0)
    max_period = check_int("max_period", max_period, min=1)
    n_loops = check_int("n_loops", n_loops, min=1)
    tol = check_number("tol", tol, low=0.0, low_open=True)
    neutral_tol = check_number("neutral_tol", neutral_tol, low=0.0)
    if state_pair is not None:
        state_pair = check_bool("state_pair", state_pair)
    h0 = _finite_vector("initial_state", initial_state).reshape(1, -1)
    _finite_vector("x", x)
    check_module_finite("cell", cell)
    if isinstance(cell, torch.nn.LSTMCell) and h0.shape[1] == cell.hidden_size:
        h0 = np.concatenate([h0, np.zeros_like(h0)], axis=1)
    step = StepMap(cell, x, state_pair=state_pair, probe_dim=h0.shape[1])
    x_np = step.x.cpu().double().numpy()
    z = step.run(step.as_tensor(h0), n_transient)
    if not bool(torch.isfinite(z).all()):
        raise DataError(f"the state of cell {step.name} became NaN or infinite within the {n_transient} transient "
                        "steps from initial_state at input x (the map diverges or yields NaN); no attractor")
    traj = _trajectory(step, z, max_period + 1)
    if not np.all(np.isfinite(traj)):
        k = int(np.flatnonzero(~np.all(np.isfinite(traj), axis=1))[0])
        raise DataError(f"the state of cell {step.name} became NaN or infinite {n_transient + k} steps from "
                        "initial_state at input x (the map diverges or yields NaN); no attractor")
    moves = np.linalg.norm(np.diff(traj, axis=0), axis=1)
    if moves[-1] < tol:
        return _fixed_point(step, traj[-1], x_np, tol)
    dist = np.linalg.norm(traj[1:] - traj[0], axis=1)
    exact = np.flatnonzero(dist[:max_period] < tol)
    if exact.size:
        p = int(exact[0]) + 1
        q = _winding(traj[:p], np.arange(p), float(p), p)
        return _cycle("periodic", traj[:p], np.arange(p), float(p), q, _multipliers(step, traj[:p]), neutral_tol,
                      float(dist[p - 1]), x_np)
    p0 = _first_return(traj, dist[:max_period], moves)
    if p0 is not None:
        long = _trajectory(step, z, int(math.ceil((n_loops + 0.5) * p0)) + 2)
        t_ret = _fit_period(long, p0, n_loops)
        if not (math.isfinite(t_ret) and t_ret >= 1.0):  # no consistent return time: not a closed curve
            p0 = None
    if p0 is not None:
        n_keep = max(int(math.floor(n_loops * t_ret)), p0)
        if n_keep > len(long):  # the fitted return time is longer than the first guess: run further
            long = _trajectory(step, z, n_keep)
        q = _winding(long[: min(n_keep, 6 * p0)], np.arange(min(n_keep, 6 * p0)), t_ret, p0)
        cyc = _cycle("quasi_periodic", long[:n_keep], np.arange(n_keep), t_ret, q,
                     _lyapunov_multipliers(step, _trajectory(step, z, max(3 * n_keep, 400)), t_ret), neutral_tol,
                     float(dist[p0 - 1]), x_np)
        gaps = np.linalg.norm(np.diff(np.vstack([cyc.states, cyc.states[:1]]), axis=0), axis=1)
        if gaps.max() <= 0.5 * float(moves.max()):
            return cyc
        logger.debug("return after %d steps, but the points do not lie on a closed curve", p0)
    rest = _fixed_point(step, traj[-1], x_np, tol, newton=True)
    if rest.is_stable and rest.return_distance < tol:
        return rest
    logger.debug("no cycle within %d steps (closest return %.3g)", max_period, float(dist.min()))
    return LimitCycle(kind="none", period=float("nan"), return_steps=float("nan"), winding=0, states=traj[-1:],
                      phases=np.zeros(1), floquet_multipliers=np.full(h0.shape[1], np.nan, complex), is_stable=False,
                      return_distance=float(dist.min()), input=x_np)


# ---------------------------------------------------------------------------- helpers

def _finite_vector(name: str, value) -> np.ndarray:
    """``value`` (array-like or tensor) as a flat float64 array; DataError naming it if not numeric or finite."""
    try:
        arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a numeric array: {exc}") from exc
    if arr.size == 0:
        raise DataError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} contains NaN or infinite values")
    return arr.reshape(-1)


def _trajectory(step: StepMap, z: torch.Tensor, n: int) -> np.ndarray:
    out = [z]
    with torch.no_grad():
        for _ in range(n):
            out.append(step(out[-1]))
    return torch.cat(out).cpu().double().numpy()


def _multipliers(step: StepMap, orbit: np.ndarray) -> np.ndarray:
    jac = step.jacobians(step.as_tensor(orbit)).cpu().double().numpy()
    mono = np.eye(orbit.shape[1])
    for j in jac:
        mono = j @ mono
    mu = np.linalg.eigvals(mono)
    return mu[np.argsort(-np.abs(mu), kind="stable")].astype(np.complex128)


def _cycle(kind, pts, t, t_ret, q, mult, neutral_tol, ret_dist, x_np) -> LimitCycle:
    ph = np.round(t * (q / t_ret), 12) % 1.0
    order = np.argsort(ph, kind="stable")
    return LimitCycle(kind=kind, period=float(t_ret / q), return_steps=float(t_ret), winding=int(q),
                      states=pts[order], phases=ph[order], floquet_multipliers=mult, is_stable=_cycle_stable(mult, neutral_tol),
                      return_distance=ret_dist, input=x_np)


def _winding(pts: np.ndarray, t: np.ndarray, t_ret: float, max_q: int) -> int:
    """Loops per return: the q in 1..max_q (coprime with round(t_ret)) whose phase order
    ``t * q / t_ret mod 1`` joins the points into the shortest closed polygon."""
    best = (np.inf, 1)
    n_ret = max(int(round(t_ret)), 1)
    for q in range(1, max(max_q, 1) + 1):
        if q > 1 and (math.gcd(q, n_ret) != 1 or q >= n_ret):
            continue
        order = np.argsort((t * (q / t_ret)) % 1.0, kind="stable")
        ring = pts[order]
        length = float(np.linalg.norm(np.diff(np.vstack([ring, ring[:1]]), axis=0), axis=1).sum())
        if length < best[0] * (1 - 1e-9):
            best = (length, q)
    return best[1]


def _lyapunov_multipliers(step: StepMap, orbit: np.ndarray, t_ret: float) -> np.ndarray:
    """Moduli ``exp(t_ret * lyapunov exponent)`` along a trajectory (QR method), as complex, decreasing."""
    jac = step.jacobians(step.as_tensor(orbit)).cpu().double().numpy()
    q = np.eye(orbit.shape[1])
    logs = np.zeros(orbit.shape[1])
    warm = len(jac) // 3                      # the first third only aligns the frame
    for k, j in enumerate(jac):
        q, r = np.linalg.qr(j @ q)
        if k >= warm:
            logs += np.log(np.maximum(np.abs(np.diag(r)), 1e-300))
    return np.sort(np.exp(logs / (len(jac) - warm) * t_ret))[::-1].astype(np.complex128)


def _cycle_stable(mult: np.ndarray, neutral_tol: float) -> bool:
    mod = np.abs(mult)
    return bool(mod[0] <= 1 + neutral_tol and np.all(mod[1:] < 1))


def _fixed_point(step: StepMap, h: np.ndarray, x_np: np.ndarray, tol: float, newton: bool = False) -> LimitCycle:
    z = step.as_tensor(h.reshape(1, -1))
    if newton:
        z = newton_refine(step, z, q_tol=0.5 * tol**2 * 1e-4, n_steps=30)
    with torch.no_grad():
        resid = float((step(z) - z).norm())
    eig = np.linalg.eigvals(step.jacobians(z).cpu().double().numpy()[0])
    eig = eig[np.argsort(-np.abs(eig), kind="stable")].astype(np.complex128)
    return LimitCycle(kind="fixed_point", period=float("nan"), return_steps=float("nan"), winding=0,
                      states=z.cpu().double().numpy(), phases=np.zeros(1),
                      floquet_multipliers=eig, is_stable=bool(np.all(np.abs(eig) < 1)), return_distance=resid,
                      input=x_np)


def _first_return(traj: np.ndarray, dist: np.ndarray, moves: np.ndarray) -> int | None:
    """First p (1-based) where the trajectory comes back near its start: a local minimum of the
    distance within 1.5 step lengths and under half the largest distance, such that every
    state of the window is within 2 step lengths of the state p steps later (a closed curve)."""
    if len(dist) < 3:
        return None
    reach = 1.5 * float(moves.max())
    far = float(dist.max())
    for i in range(1, len(dist) - 1):
        if dist[i] <= dist[i - 1] and dist[i] <= dist[i + 1] and dist[i] < reach and dist[i] < 0.5 * far:
            p = i + 1
            if np.linalg.norm(traj[p:] - traj[:-p], axis=1).max() <= 2.0 * float(moves.max()):
                return p
    return None


def _fit_period(traj: np.ndarray, p0: int, n_loops: int) -> float:
    """Mean return time to traj[0] over up to ``n_loops`` loops, with sub-step interpolation."""
    start = traj[0]
    est = float(p0)
    times, loops = [], []
    for k in range(1, n_loops + 1):
        centre = int(round(k * est))
        lo, hi = max(1, centre - p0 // 2 - 1), min(len(traj) - 2, centre + p0 // 2 + 1)
        if lo >= hi:
            break
        t = lo + int(np.argmin(np.linalg.norm(traj[lo:hi + 1] - start, axis=1)))
        best = (np.inf, float(t))
        for a in (t - 1, t):
            seg = traj[a + 1] - traj[a]
            s = float(np.clip((start - traj[a]) @ seg / max(seg @ seg, 1e-300), 0, 1))
            d = float(np.linalg.norm(traj[a] + s * seg - start))
            best = min(best, (d, a + s))
        times.append(best[1])
        loops.append(k)
        est = float(np.dot(loops, times) / np.dot(loops, loops))
    return est
