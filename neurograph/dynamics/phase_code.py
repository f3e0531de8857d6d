"""Phase codes on a limit cycle: phase shifts caused by inputs, read as a finite-state automaton.

:func:`phase_shifts` measures how far along a cycle (from
:func:`neurograph.dynamics.find_limit_cycle`) a brief input moves the state,
compared with not giving it, from many start phases. :meth:`PhaseShifts.automaton`
quantises the shifts to steps of ``1 / n_states`` cycle and gives the automaton on
phase regions; :func:`relative_phases` follows whole input sequences. On the SET-game
task (Murray 2023) the three values shift the phase by ``c``, ``c + 1/3`` and
``c + 2/3`` cycles, and the automaton's 3 states count the sum of the inputs mod 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .cells import StepMap
from .._validate import check_bool, check_int, check_module_finite
from ..errors import DataError, OptionError
from ..io.names import plain_figure_text
from .limit_cycle import LimitCycle

__all__ = ["PhaseAutomaton", "PhaseShifts", "phase_shifts", "relative_phases"]


@dataclass(frozen=True, eq=False)
class PhaseAutomaton:
    """Finite-state automaton read off phase shifts: states are phase regions ``s / n_states``.

    Attributes
    ----------
    n_states : int
    values : numpy.ndarray, shape (n_values,)
        Input values (symbols).
    steps : numpy.ndarray of int, shape (n_values,)
        Each value moves the state by this many regions: ``s -> (s + steps[v]) % n_states``.
    offset : float
        Shift (cycles) of the reference value, common to every input.
    transitions : numpy.ndarray of int, shape (n_states, n_values)
        Next state for each state and value.
    quantisation_error : float
        Largest distance (cycles) between a measured relative shift and its region step.

    Examples
    --------
    >>> import numpy as np
    >>> a = PhaseAutomaton(n_states=3, values=np.arange(3), steps=np.array([0, 1, 2]), offset=0.0,
    ...                    transitions=(np.arange(3)[:, None] + np.arange(3)) % 3, quantisation_error=0.0)
    >>> a.run([1, 2, 2])
    2
    """

    n_states: int
    values: np.ndarray
    steps: np.ndarray
    offset: float
    transitions: np.ndarray
    quantisation_error: float

    def run(self, values, start: int = 0) -> int:
        """State after reading ``values`` (a sequence of input values) from ``start``.

        Raises OptionError if ``start`` is not a state (an int in ``0..n_states-1``), DataError
        if a value is not an input of the automaton.
        """
        index = {v: i for i, v in enumerate(self.values.tolist())}
        s = check_int("start", start, min=0, max=self.n_states - 1)
        for v in values:
            if v not in index:
                raise DataError(f"value {v!r} is not an input of this automaton (values {self.values.tolist()})")
            s = int(self.transitions[s, index[v]])
        return s

    def state_of_phase(self, relative_phase, n_inputs) -> np.ndarray:
        """Automaton state of relative phases (cycles, vs the no-input trajectory) after ``n_inputs`` inputs:
        ``round(n_states * (phase - n_inputs * offset)) % n_states``."""
        rel = np.asarray(relative_phase, dtype=float) - np.asarray(n_inputs) * self.offset
        return np.rint(self.n_states * rel).astype(np.int64) % self.n_states


@dataclass(frozen=True, eq=False)
class PhaseShifts:
    """Phase change each input value causes on a cycle, from several start phases.

    Attributes
    ----------
    values : numpy.ndarray, shape (n_values,)
    start_phases : numpy.ndarray, shape (n_phases,)
    shifts : numpy.ndarray, shape (n_values, n_phases)
        ``phase(after input, then relaxing) - phase(without input)`` in cycles, in ``[0, 1)``.
    mean_shift : numpy.ndarray, shape (n_values,)
        Circular mean of each row of ``shifts``, in ``[0, 1)``.
    spread : numpy.ndarray, shape (n_values,)
        Circular standard deviation of each row, in cycles (0 when the shift does not
        depend on the start phase).
    off_cycle : numpy.ndarray, shape (n_values, n_phases)
        Distance from the cycle at the end of relaxation (small means the state came back).

    Examples
    --------
    >>> import numpy as np
    >>> ps = PhaseShifts(values=np.arange(3), start_phases=np.zeros(1), shifts=np.array([[0.1], [0.43], [0.77]]),
    ...                  mean_shift=np.array([0.1, 0.43, 0.77]), spread=np.zeros(3), off_cycle=np.zeros((3, 1)))
    >>> ps.automaton(3).steps.tolist()
    [0, 1, 2]
    """

    values: np.ndarray
    start_phases: np.ndarray
    shifts: np.ndarray
    mean_shift: np.ndarray
    spread: np.ndarray
    off_cycle: np.ndarray

    def automaton(self, n_states: int, *, reference=None) -> PhaseAutomaton:
        """Quantise the shifts relative to the ``reference`` value's (default: the first value)
        to steps of ``1 / n_states`` cycle and return the automaton on the phase regions.

        Raises OptionError if ``n_states`` is not an int >= 1 or ``reference`` is not one of
        the values; DataError if the measured shifts are not finite."""
        n_states = check_int("n_states", n_states, min=1)
        vals = self.values.tolist()
        ref = vals[0] if reference is None else reference
        if ref not in vals:
            raise OptionError(f"reference must be one of the values {vals}, got {ref!r}")
        if not np.all(np.isfinite(self.mean_shift)):
            raise DataError("mean_shift contains NaN or infinite values; no automaton can be read off")
        offset = float(self.mean_shift[vals.index(ref)])
        rel = (self.mean_shift - offset) % 1.0
        steps = np.rint(rel * n_states).astype(np.int64) % n_states
        err = np.abs(((rel - steps / n_states) + 0.5) % 1.0 - 0.5)
        trans = (np.arange(n_states)[:, None] + steps[None, :]) % n_states
        return PhaseAutomaton(n_states=int(n_states), values=self.values.copy(), steps=steps, offset=offset,
                              transitions=trans, quantisation_error=float(err.max()))

    def plot(self, *, title: str = "") -> Figure:
        """Shift against start phase, one line per value."""
        fig = Figure(figsize=(5.2, 3.8), layout="constrained")
        ax = fig.add_subplot()
        for v, row in zip(self.values.tolist(), self.shifts):
            ax.plot(self.start_phases, row, "o-", ms=3, label=f"value {v}")
        ax.set_xlabel("start phase (cycles)")
        ax.set_ylabel("phase shift (cycles)")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=8)
        ax.set_title(title or "phase shift per input value")
        return plain_figure_text(fig)  # a title's $ is drawn as written


def phase_shifts(
    cell: Callable,
    inputs_by_value: dict | ArrayLike,
    cycle: LimitCycle,
    *,
    n_phases: int = 12,
    input_steps: int = 2,
    n_relax: int | None = None,
    state_pair: bool | None = None,
) -> PhaseShifts:
    """Phase change on ``cycle`` caused by showing each input value for ``input_steps`` steps.

    From ``n_phases`` start points spread over the cycle, the state is driven by the
    value's input for ``input_steps`` steps and then by the cycle's own input for
    ``n_relax`` steps; its phase is compared with that of the same start run for as
    many steps without the input.

    Parameters
    ----------
    cell : callable
        The cell the cycle belongs to.
    inputs_by_value : mapping value -> array (input_size,), or array (n_values, input_size)
        The input vector of each value (an array's rows are values 0, 1, ...).
    cycle : LimitCycle
        A cycle from :func:`find_limit_cycle` (``is_cycle``).
    n_phases : int, default 12
        Number of start phases.
    input_steps : int, default 2
        Steps the input is shown.
    n_relax : int or None, default None
        Steps run afterwards; default ``max(20, 3 * ceil(period))``.
    state_pair : bool or None, default None
        As for :func:`find_limit_cycle`.

    Returns
    -------
    PhaseShifts

    Raises
    ------
    OptionError
        ``n_phases`` or ``input_steps`` not an int >= 1, ``n_relax`` not None or an int >= 0,
        ``state_pair`` not None or a bool.
    DataError
        ``cycle`` not a LimitCycle that is a cycle; ``inputs_by_value`` empty, not numeric or
        not finite (the message names the value); a cell parameter not finite; the state
        becoming NaN or infinite.

    Examples
    --------
    >>> import math, torch
    >>> def cell(x, h):  # rotate by 1/8 cycle, plus x[:, 0] cycles
    ...     a = 2 * math.pi * (0.125 + x[:, 0])
    ...     return torch.stack([h[:, 0] * a.cos() - h[:, 1] * a.sin(), h[:, 0] * a.sin() + h[:, 1] * a.cos()], 1)
    >>> from neurograph.dynamics import find_limit_cycle
    >>> c = find_limit_cycle(cell, torch.zeros(1), [1.0, 0.0], n_transient=0)
    >>> ps = phase_shifts(cell, {"a": [0.25], "b": [0.0]}, c, input_steps=1, n_phases=8)
    >>> [round(float(s), 6) for s in ps.mean_shift]
    [0.25, 0.0]
    """
    _check_cycle(cycle, "phase shifts")
    n_phases = check_int("n_phases", n_phases, min=1)
    input_steps = check_int("input_steps", input_steps, min=1)
    if n_relax is not None:
        n_relax = check_int("n_relax", n_relax, min=0)
    if state_pair is not None:
        state_pair = check_bool("state_pair", state_pair)
    if isinstance(inputs_by_value, dict):
        values = list(inputs_by_value)
        vectors = [_finite(f"inputs_by_value[{v!r}]", inputs_by_value[v]).reshape(-1) for v in values]
    else:
        arr = _finite("inputs_by_value", inputs_by_value)
        if arr.ndim != 2:
            raise DataError(f"inputs_by_value must be a dict or an (n_values, input_size) array, got {arr.shape}")
        values, vectors = list(range(len(arr))), list(arr)
    if not values:
        raise DataError("inputs_by_value is empty: give the input vector of at least one value")
    check_module_finite("cell", cell)
    relax = max(20, 3 * int(math.ceil(cycle.period))) if n_relax is None else n_relax
    step = StepMap(cell, cycle.input, state_pair=state_pair, probe_dim=cycle.states.shape[1])
    idx = np.unique(np.searchsorted(cycle.phases, np.arange(n_phases) / n_phases).clip(0, len(cycle.phases) - 1))
    start = step.as_tensor(cycle.states[idx])
    ref = cycle.phase(step.run(start, input_steps + relax).cpu().numpy())
    shifts, off = [], []
    for u in vectors:
        z = step.run(start, input_steps, x=step.as_tensor(u))
        z = step.run(z, relax).cpu().numpy()
        if not np.all(np.isfinite(z)):
            raise DataError(f"the state became NaN or infinite after the input of value {values[len(shifts)]!r}; "
                            "no phase can be measured")
        shifts.append(np.round(cycle.phase(z) - ref, 12) % 1.0)
        off.append(cycle.distance(z))
    sh = np.asarray(shifts)
    angle = 2 * np.pi * sh
    mean_vec = np.exp(1j * angle).mean(axis=1)
    mean = np.round(np.angle(mean_vec) / (2 * np.pi), 12) % 1.0
    spread = np.sqrt(-2 * np.log(np.clip(np.abs(mean_vec), 1e-300, 1.0))) / (2 * np.pi)
    return PhaseShifts(values=np.asarray(values), start_phases=cycle.phases[idx], shifts=sh, mean_shift=mean,
                       spread=spread, off_cycle=np.asarray(off))


def relative_phases(cell: Callable, inputs: ArrayLike | torch.Tensor, cycle: LimitCycle, initial_state: ArrayLike, *,
                    state_pair: bool | None = None) -> np.ndarray:
    """Phase of each state of driven sequences relative to the undriven trajectory from the same start.

    Parameters
    ----------
    cell : callable
        The cell the cycle belongs to.
    inputs : array-like, shape (n, T, input_size)
        Input sequences.
    cycle : LimitCycle
        A cycle of the cell at its rest input ``cycle.input``.
    initial_state : array-like, shape (D,)
        Common start state.

    Returns
    -------
    numpy.ndarray, shape (n, T + 1)
        ``(phase(h_t) - phase(h_t without input)) % 1`` for t = 0..T (column 0 is 0).

    Raises
    ------
    DataError
        ``cycle`` not a cycle; ``inputs`` not (n, T, input_size) or not finite;
        ``initial_state`` not finite; the state becoming NaN or infinite.

    Examples
    --------
    >>> import math, torch
    >>> def cell(x, h):
    ...     a = 2 * math.pi * (0.125 + x[:, 0])
    ...     return torch.stack([h[:, 0] * a.cos() - h[:, 1] * a.sin(), h[:, 0] * a.sin() + h[:, 1] * a.cos()], 1)
    >>> from neurograph.dynamics import find_limit_cycle
    >>> c = find_limit_cycle(cell, torch.zeros(1), [1.0, 0.0], n_transient=0)
    >>> relative_phases(cell, [[[0.0], [0.5], [0.0]]], c, [1.0, 0.0]).round(6).tolist()
    [[0.0, 0.0, 0.5, 0.5]]
    """
    _check_cycle(cycle, "relative phases")
    if state_pair is not None:
        state_pair = check_bool("state_pair", state_pair)
    u = _finite("inputs", inputs)
    if u.ndim != 3:
        raise DataError(f"inputs must have shape (n, T, input_size), got {u.shape}")
    h_init = _finite("initial_state", initial_state)
    check_module_finite("cell", cell)
    step = StepMap(cell, cycle.input, state_pair=state_pair, probe_dim=cycle.states.shape[1])
    h0 = step.as_tensor(h_init.reshape(1, -1))
    ref = [h0]
    states = [h0.expand(len(u), -1)]
    u_t = step.as_tensor(u)
    with torch.no_grad():
        for t in range(u.shape[1]):
            ref.append(step(ref[-1]))
            states.append(step(states[-1], x=u_t[:, t]))
    ref_np, states_np = torch.cat(ref).cpu().numpy(), torch.stack(states, 1).cpu().numpy()
    if not (np.all(np.isfinite(ref_np)) and np.all(np.isfinite(states_np))):
        raise DataError("the state became NaN or infinite along the input sequences; no phase can be measured")
    ref_ph = cycle.phase(ref_np)
    ph = cycle.phase(states_np)
    return np.round(ph - ref_ph[None, :], 12) % 1.0


def _check_cycle(cycle, what: str) -> None:
    if not isinstance(cycle, LimitCycle):
        raise DataError(f"cycle must be a LimitCycle (from find_limit_cycle), got {type(cycle).__name__}")
    if not cycle.is_cycle:
        raise DataError(f"{what} need a cycle; the attractor is {cycle.kind!r}")


def _finite(name: str, value) -> np.ndarray:
    """``value`` (array-like or tensor) as a float64 array; DataError naming it if not numeric or not finite."""
    try:
        arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a numeric array: {exc}") from exc
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} contains NaN or infinite values")
    return arr
