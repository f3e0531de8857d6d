"""Which dynamical solution a trained counting network uses: limit cycle, fixed-point lattice or transient.

Murray (arXiv 2310.07908) finds two solutions of the SET-game task (count the sum of three
values mod 3): a *lattice of fixed points* (each count held at its own stable fixed points)
and a *limit cycle* on which each value shifts the phase by 0, 1/3 or 2/3 of a cycle.
:func:`classify_solution` relaxes many states at zero input (the states at the end of
trials, whose count mod 3 is known, and optionally random states) and decides:

- ``"limit_cycle"``: at least half of the trial-end states settle on a stable cycle
  (:func:`~neurograph.dynamics.find_limit_cycle`); its phase code is then measured
  (:func:`~neurograph.dynamics.phase_shifts` with the value inputs, the automaton of the
  shifts, and the count read from the phase alone, :func:`~neurograph.dynamics.relative_phases`);
- ``"fixed_point_lattice"``: at least half settle at rest on at least ``min_attractors``
  stable fixed points, and the attractors keep the count (purity of the count mod 3 among
  the states ending at each attractor ``>= min_purity``);
- ``"slow_transient"``: the states come to rest (or are still drifting slowly) but the
  attractors do not hold the count: the network reads it out before it decays;
- ``"other"``: none of these (e.g. chaos, or fast-moving states that are not on a cycle).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike

from .._validate import check_int, check_number
from ..errors import DataError
from .cells import StepMap
from .fixed_points import find_fixed_points
from .limit_cycle import LimitCycle, find_limit_cycle
from .phase_code import phase_shifts, relative_phases

__all__ = ["SolutionClass", "classify_solution"]

logger = logging.getLogger(__name__)

KINDS = ("limit_cycle", "fixed_point_lattice", "slow_transient", "other")


@dataclass(frozen=True, eq=False)
class SolutionClass:
    """The solution class of one network and the measurements behind it.

    Attributes
    ----------
    kind : str
        ``"limit_cycle"``, ``"fixed_point_lattice"``, ``"slow_transient"`` or ``"other"``.
    share_cycle, share_rest, share_slow : float
        Shares of the trial-end states that settle on a cycle, come to rest (speed < ``rest_tol``),
        or are still moving slower than ``slow_tol`` per step after ``n_relax`` steps.
    cycle : LimitCycle or None
        The cycle reached by most trial-end states (None if none).
    cycle_from_random : bool
        Some random start settled on a cycle (a cycle exists in the state space).
    n_stable_fixed : int
        Distinct stable fixed points reached by the starts that came to rest.
    purity : float
        Share of rest-settled trial-end states whose attractor's majority count mod 3 is their own
        (NaN if none came to rest).
    mean_shift, spread : numpy.ndarray, shape (n_values,)
        Phase shift per value (cycles) and its spread over start phases (NaN without a cycle).
    automaton_steps : numpy.ndarray of int, shape (n_values,)
        Steps (in thirds of a cycle) of the phase automaton, relative to the first value.
    quantisation_error : float
        Largest distance of a relative shift from its 1/3-cycle step (NaN without a cycle).
    counts_mod3 : bool
        The automaton counts the sum mod 3: steps ``0, d, 2d (mod 3)`` with ``d`` in {1, 2}.
    phase_accuracy : float
        Share of trials whose label (count mod 3 == 0) is read correctly from the phase alone at
        the last step (NaN without a cycle or without ``phase_inputs``).
    """

    kind: str
    share_cycle: float
    share_rest: float
    share_slow: float
    cycle: LimitCycle | None
    cycle_from_random: bool
    n_stable_fixed: int
    purity: float
    mean_shift: np.ndarray
    spread: np.ndarray
    automaton_steps: np.ndarray
    quantisation_error: float
    counts_mod3: bool
    phase_accuracy: float

    @property
    def period(self) -> float:
        """Steps per loop of the cycle (NaN if none)."""
        return float(self.cycle.period) if self.cycle is not None else float("nan")

    @property
    def floquet_moduli(self) -> np.ndarray:
        """Moduli of the cycle's Floquet multipliers, largest first (empty if no cycle)."""
        return np.abs(self.cycle.floquet_multipliers) if self.cycle is not None else np.zeros(0)


def classify_solution(
    cell: Callable,
    trial_end_states: ArrayLike,
    counts: ArrayLike,
    *,
    rest_input: ArrayLike,
    value_inputs: ArrayLike | None = None,
    random_states: ArrayLike | None = None,
    phase_inputs: ArrayLike | None = None,
    phase_counts: ArrayLike | None = None,
    initial_state: ArrayLike | None = None,
    show_steps: int = 2,
    n_relax: int = 2000,
    rest_tol: float = 1e-6,
    slow_tol: float = 1e-3,
    min_attractors: int = 3,
    min_purity: float = 0.9,
    max_period: int = 300,
    max_cycle_searches: int = 3,
    n_phases: int = 12,
) -> SolutionClass:
    """Classify the zero-input dynamics a network uses to hold a count mod 3 (see the module docstring).

    Parameters
    ----------
    cell : callable
        ``cell(x, h) -> h_next`` (e.g. ``CTRNN.cell``).
    trial_end_states : array-like, shape (n, D)
        States at the end of trials.
    counts : array-like of int, shape (n,)
        The count (sum of the values) mod 3 of each trial.
    rest_input : array-like, shape (input_size,)
        The input between presentations (zeros).
    value_inputs : array-like, shape (n_values, input_size), optional
        Input vector of each value, for the phase shifts of a cycle.
    random_states : array-like, shape (m, D), optional
        Further starts (only to report whether a cycle exists elsewhere).
    phase_inputs : array-like, shape (k, T, input_size), optional
        Whole trials from ``initial_state``, to read the label from the phase alone;
        ``phase_counts`` (k,) their counts mod 3.
    initial_state : array-like, shape (D,), optional
        Start state of the trials (default zeros).
    show_steps : int, default 2
        Steps a value is shown.
    n_relax : int, default 2000
        Zero-input steps before the states are judged.
    rest_tol, slow_tol : float
        A step shorter than ``rest_tol`` is rest; shorter than ``slow_tol`` a slow drift.
    min_attractors : int, default 3
        Fewest stable fixed points of a lattice.
    min_purity : float, default 0.9
        Least purity of the count among the states at each fixed point, for a lattice.
    max_period : int, default 300
        Longest cycle period looked for.
    max_cycle_searches : int, default 3
        Most :func:`find_limit_cycle` calls (each from a moving end state not yet on a found cycle).
    n_phases : int, default 12
        Start phases of :func:`phase_shifts`.

    Returns
    -------
    SolutionClass

    Raises
    ------
    DataError
        If the states are not finite (n, D) arrays or ``counts`` does not match them.

    Examples
    --------
    >>> import math, torch
    >>> def cell(x, h):   # a planar cycle of period 6; x[:, 0] adds x[:, 0] / 2 cycles per step
    ...     a = 2 * math.pi * (1 / 6 + x[:, 0] / 2)
    ...     h = h * (1 + 0.5 * (1 - h.norm(dim=1, keepdim=True)) / h.norm(dim=1, keepdim=True))
    ...     return torch.stack([a.cos() * h[:, 0] - a.sin() * h[:, 1], a.sin() * h[:, 0] + a.cos() * h[:, 1]], 1)
    >>> ends = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    >>> sol = classify_solution(cell, ends, [0, 1, 2], rest_input=[0.0], value_inputs=[[0.0], [1 / 3], [2 / 3]])
    >>> sol.kind, round(sol.period, 3), sol.automaton_steps.tolist(), sol.counts_mod3
    ('limit_cycle', 6.0, [0, 1, 2], True)
    """
    ends = _states("trial_end_states", trial_end_states)
    cnt = np.asarray(counts, dtype=np.int64).reshape(-1) % 3
    if cnt.shape[0] != ends.shape[0]:
        raise DataError(f"counts has {cnt.shape[0]} entries for {ends.shape[0]} trial_end_states")
    rnd = _states("random_states", random_states) if random_states is not None else np.zeros((0, ends.shape[1]))
    n_relax = check_int("n_relax", n_relax, min=1)
    rest_tol = check_number("rest_tol", rest_tol, low=0.0, low_open=True)
    slow_tol = check_number("slow_tol", slow_tol, low=0.0, low_open=True)
    rest_x = np.asarray(rest_input, dtype=np.float64).reshape(-1)
    step = StepMap(cell, rest_x, probe_dim=ends.shape[1])
    starts = np.concatenate([ends, rnd])
    z = step.run(step.as_tensor(starts), n_relax)
    with torch.no_grad():
        z_next = step(z)
    speed = (z_next - z).norm(dim=1).cpu().numpy()
    zf = z.cpu().double().numpy()
    if not np.all(np.isfinite(zf)):
        raise DataError("states became NaN or infinite while relaxing at the rest input")
    at_rest = speed < rest_tol
    moving = np.flatnonzero(~at_rest)
    on_cycle = np.zeros(len(starts), bool)
    cycles: list[tuple[LimitCycle, np.ndarray]] = []
    scale = float(np.median(np.linalg.norm(zf - zf.mean(0), axis=1))) + 1e-12
    for _ in range(int(max_cycle_searches)):
        left = [i for i in moving if not on_cycle[i]]
        if not left:
            break
        i = left[0]
        c = find_limit_cycle(cell, rest_x, zf[i], n_transient=200, max_period=max_period, tol=rest_tol * 10)
        if not (c.is_cycle and c.is_stable):
            on_cycle[i] = False
            moving = np.array([j for j in moving if j != i], dtype=np.int64)
            continue
        near = c.distance(zf[moving]) < max(0.05 * scale, 1e-3)
        members = moving[near]
        members = np.union1d(members, [i])
        on_cycle[members] = True
        cycles.append((c, members))
    n = len(ends)
    trial_cycle = on_cycle[:n]
    share_cycle = float(trial_cycle.mean())
    share_rest = float(at_rest[:n].mean())
    share_slow = float(((~at_rest[:n]) & (~trial_cycle) & (speed[:n] < slow_tol)).mean())
    cycle = None
    if cycles:
        cycle = max(cycles, key=lambda cm: int(np.sum(cm[1] < n)))[0]
    cycle_from_random = bool(on_cycle[n:].any())
    # fixed points reached: greedy clusters of the rest states, then polished and tested for stability
    n_stable, purity = 0, float("nan")
    rest_idx = np.flatnonzero(at_rest)
    if rest_idx.size:
        labels, centres = _cluster(zf[rest_idx], tol=max(1e-3, 1e-3 * scale))
        fps = find_fixed_points(cell, rest_x, centres, unique_tol=max(1e-3, 1e-3 * scale), max_iters=200,
                                newton_steps=5)
        n_stable = int(fps.is_stable.sum())
        trial_rest = rest_idx < n
        if trial_rest.any():
            lab, c_t = labels[trial_rest], cnt[rest_idx[trial_rest]]
            good = sum(int(np.bincount(c_t[lab == a], minlength=3).max()) for a in np.unique(lab))
            purity = good / int(trial_rest.sum())
    nan3 = np.full(3, np.nan)
    shifts, spread, steps_, qerr, counts3, pacc = nan3, nan3, np.zeros(0, np.int64), float("nan"), False, float("nan")
    if share_cycle >= 0.5:
        kind = "limit_cycle"
        if value_inputs is not None:
            ps = phase_shifts(cell, np.asarray(value_inputs, dtype=np.float64), cycle, n_phases=n_phases,
                              input_steps=show_steps)
            auto = ps.automaton(3)
            shifts, spread, steps_, qerr = ps.mean_shift, ps.spread, auto.steps, auto.quantisation_error
            st = [int(s) for s in auto.steps]
            counts3 = len(st) == 3 and st[0] == 0 and st[1] in (1, 2) and st[2] == (2 * st[1]) % 3
            if phase_inputs is not None and phase_counts is not None:
                h0 = np.zeros(ends.shape[1]) if initial_state is None else np.asarray(initial_state, float)
                rel = relative_phases(cell, np.asarray(phase_inputs, dtype=np.float64), cycle, h0)
                state = auto.state_of_phase(rel[:, -1], 3)
                truth = np.asarray(phase_counts, dtype=np.int64) % 3 == 0
                pacc = float(((state == 0) == truth).mean())
    elif share_rest >= 0.5 and n_stable >= int(min_attractors) and purity >= float(min_purity):
        kind = "fixed_point_lattice"
    elif share_rest + share_slow >= 0.5:
        kind = "slow_transient"
    else:
        kind = "other"
    return SolutionClass(kind=kind, share_cycle=share_cycle, share_rest=share_rest, share_slow=share_slow,
                         cycle=cycle, cycle_from_random=cycle_from_random, n_stable_fixed=n_stable, purity=purity,
                         mean_shift=np.asarray(shifts), spread=np.asarray(spread),
                         automaton_steps=np.asarray(steps_, dtype=np.int64), quantisation_error=float(qerr),
                         counts_mod3=bool(counts3), phase_accuracy=pacc)


def _states(name: str, value) -> np.ndarray:
    arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or not np.all(np.isfinite(arr)):
        raise DataError(f"{name} must be a non-empty finite (n, D) array, got shape {arr.shape}")
    return arr


def _cluster(points: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy clusters: each point joins the first centre within ``tol``; labels (n,) and centres (k, D)."""
    centres: list[np.ndarray] = []
    labels = np.empty(len(points), np.int64)
    for i, p in enumerate(points):
        for j, c in enumerate(centres):
            if np.linalg.norm(p - c) <= tol:
                labels[i] = j
                break
        else:
            labels[i] = len(centres)
            centres.append(p)
    return labels, np.asarray(centres)
