"""Limit cycles, phases, phase shifts and phase automata on hand-built cells with exact answers."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from neurograph.errors import DataError, OptionError
from neurograph.dynamics.limit_cycle import LimitCycle, find_limit_cycle
from neurograph.dynamics.phase_code import PhaseAutomaton, phase_shifts, relative_phases


def rotation_cell(turn: float, contraction: float = 0.5):
    """Planar cell: turn by ``turn + x[:, 0]`` cycles per step, radius r -> r + contraction (1 - r)."""
    def cell(x, h):
        a = 2 * math.pi * (turn + x[:, 0])
        r = h.norm(dim=1, keepdim=True)
        h = h * (r + contraction * (1 - r)) / r
        return torch.stack([a.cos() * h[:, 0] - a.sin() * h[:, 1], a.sin() * h[:, 0] + a.cos() * h[:, 1]], 1)
    return cell


def _angle_phase(cycle, angles):
    """Phase of unit-circle points at ``angles`` measured from the cycle's phase-0 point."""
    a0 = math.atan2(cycle.states[0, 1], cycle.states[0, 0])
    return ((angles - a0) / (2 * math.pi)) % 1.0


def _circ_err(a, b):
    return np.abs((np.asarray(a) - np.asarray(b) + 0.5) % 1.0 - 0.5)


def test_rotation_by_a_third_is_a_period_3_cycle_with_known_floquet_multipliers():
    kappa = 0.5
    c = find_limit_cycle(rotation_cell(1 / 3, kappa), np.zeros(1), [2.0, 0.0], n_transient=60)
    assert c.kind == "periodic" and c.is_cycle and c.period == 3.0 and c.return_steps == 3.0 and c.winding == 1
    np.testing.assert_allclose(np.linalg.norm(c.states, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(c.phases, [0, 1 / 3, 2 / 3])
    # one multiplier along the circle (1), one across it ((1 - kappa) per step, 3 steps)
    np.testing.assert_allclose(np.abs(c.floquet_multipliers), [1.0, (1 - kappa) ** 3], atol=1e-10)
    assert c.is_stable
    # orbit points have phase k/3 exactly; chord points interpolate; radial offsets keep the phase
    np.testing.assert_allclose(c.phase(c.states), [0, 1 / 3, 2 / 3], atol=1e-12)
    mid = 0.75 * c.states[1] + 0.25 * c.states[2]
    assert c.phase(mid) == pytest.approx(1 / 3 + 0.25 / 3, abs=1e-12)
    np.testing.assert_allclose(c.phase(2.0 * c.states), c.phases, atol=1e-12)
    assert c.phase(np.zeros((2, 4, 2))).shape == (2, 4)
    np.testing.assert_allclose(c.distance(3.0 * c.states), 2.0, atol=1e-12)


def test_rotation_by_two_fifths_winds_twice_per_return():
    c = find_limit_cycle(rotation_cell(2 / 5), np.zeros(1), [1.0, 0.0], n_transient=0)
    assert c.kind == "periodic" and c.return_steps == 5.0 and c.winding == 2 and c.period == 2.5
    # phase order is the geometric order around the circle: consecutive points 1/5 turn apart
    angles = np.arctan2(c.states[:, 1], c.states[:, 0])
    np.testing.assert_allclose(_circ_err(np.diff(angles) / (2 * math.pi), 0.2), 0.0, atol=1e-12)
    np.testing.assert_allclose(c.phase(c.states), np.arange(5) / 5, atol=1e-12)


def test_irrational_rotation_is_quasi_periodic_with_the_right_period_and_phase():
    period = math.sqrt(50.0)                               # 7.07... steps per turn, never returns exactly
    c = find_limit_cycle(rotation_cell(1 / period), np.zeros(1), [1.5, 0.5], n_transient=80)
    assert c.kind == "quasi_periodic" and c.winding == 1 and c.is_stable
    assert c.period == pytest.approx(period, rel=1e-4)
    angles = np.random.default_rng(0).uniform(0, 2 * math.pi, 200)
    pts = np.stack([np.cos(angles), np.sin(angles)], 1)
    assert _circ_err(c.phase(pts), _angle_phase(c, angles)).max() < 1e-3
    assert np.all(np.diff(c.phases) >= 0) and c.phases[0] == 0.0
    # along the curve neutral, across it (1 - kappa) = 1/2 per step over one return of ~7.07 steps
    np.testing.assert_allclose(np.abs(c.floquet_multipliers), [1.0, 0.5**c.return_steps], rtol=1e-3, atol=1e-6)
    assert isinstance(c.plot(), Figure)


def test_contracting_cell_reports_a_fixed_point_not_a_cycle():
    b = torch.tensor([1.0, -2.0], dtype=torch.float64)
    c = find_limit_cycle(lambda x, h: 0.5 * h + b, np.zeros(1), [10.0, 10.0], n_transient=100)
    assert c.kind == "fixed_point" and not c.is_cycle and c.is_stable and math.isnan(c.period)
    np.testing.assert_allclose(c.states[0], [2.0, -4.0], atol=1e-12)
    np.testing.assert_allclose(c.floquet_multipliers, [0.5, 0.5])
    with pytest.raises(DataError, match="fixed_point"):
        c.phase([0.0, 0.0])
    with pytest.raises(DataError, match="fixed_point"):
        phase_shifts(lambda x, h: 0.5 * h + b, [[0.0]], c)


def test_slowly_converging_map_still_reports_its_fixed_point():
    # |lambda| = 0.999: after the transient the steps are still far above tol; Newton finds the point
    c = find_limit_cycle(lambda x, h: 0.999 * h + 0.001, np.zeros(1), [5.0], n_transient=10, max_period=50)
    assert c.kind == "fixed_point" and c.states[0, 0] == pytest.approx(1.0, abs=1e-9)


def test_period_two_of_the_logistic_map_and_chaos_reported_as_none():
    c = find_limit_cycle(lambda x, h: 3.2 * h * (1 - h), np.zeros(1), [0.3])
    assert c.kind == "periodic" and c.return_steps == 2.0
    # Floquet multiplier of the 2-cycle: f'(a) f'(b) = 4 + 2r - r^2
    assert c.floquet_multipliers[0].real == pytest.approx(4 + 2 * 3.2 - 3.2**2, abs=1e-8)
    chaos = find_limit_cycle(lambda x, h: 3.9 * h * (1 - h), np.zeros(1), [0.3])
    assert chaos.kind == "none" and not chaos.is_cycle and not chaos.is_stable


def test_bad_arguments_raise():
    with pytest.raises(OptionError, match="max_period"):
        find_limit_cycle(rotation_cell(0.25), np.zeros(1), [1.0, 0.0], max_period=0)
    with pytest.raises(DataError, match="NaN"):
        find_limit_cycle(rotation_cell(0.25), np.zeros(1), [np.nan, 0.0])
    with pytest.raises(DataError, match="kind"):
        LimitCycle(kind="spiral", period=1.0, return_steps=1.0, winding=1, states=np.zeros((1, 2)),
                   phases=np.zeros(1), floquet_multipliers=np.zeros(2, complex), is_stable=True,
                   return_distance=0.0, input=np.zeros(1))


# --------------------------------------------------------------------------- phase shifts and automata

def test_phase_shifts_of_known_turns_and_the_mod_3_automaton():
    cell = rotation_cell(0.1)                              # period 10 steps without input
    c = find_limit_cycle(cell, np.zeros(1), [1.0, 0.0], n_transient=5)
    assert c.kind == "periodic" and c.period == 10.0
    # each value turns the state by value/6 of a cycle per step, for 2 steps: 0, 1/3, 2/3 in all
    ps = phase_shifts(cell, {0: [0.0], 1: [1 / 6], 2: [1 / 3]}, c, n_phases=10, input_steps=2)
    np.testing.assert_allclose(_circ_err(ps.shifts, np.array([0, 1 / 3, 2 / 3])[:, None]), 0.0, atol=1e-3)
    np.testing.assert_allclose(ps.mean_shift, [0, 1 / 3, 2 / 3], atol=1e-3)
    # states end on the circle; the 10-gon through the orbit points is at most 1 - cos(pi / 10) from it
    assert ps.spread.max() < 1e-3 and ps.off_cycle.max() <= 1 - math.cos(math.pi / 10) + 1e-12
    auto = ps.automaton(3)
    assert auto.steps.tolist() == [0, 1, 2] and auto.quantisation_error < 1e-3
    assert auto.transitions.tolist() == [[0, 1, 2], [1, 2, 0], [2, 0, 1]]
    for values in ([0, 0, 0], [0, 1, 2], [2, 2, 1], [1, 1, 0]):
        assert auto.run(values) == sum(values) % 3
    assert isinstance(ps.plot(), Figure)


def test_automaton_takes_the_common_offset_out():
    cell = rotation_cell(0.1)
    c = find_limit_cycle(cell, np.zeros(1), [1.0, 0.0], n_transient=5)
    turns = {"a": [0.05], "b": [0.05 + 1 / 6], "c": [0.05 + 1 / 3]}   # every value adds 0.1 cycle extra
    auto = phase_shifts(cell, turns, c, n_phases=5).automaton(3)
    assert auto.offset == pytest.approx(0.1, abs=1e-3) and auto.steps.tolist() == [0, 1, 2]
    # state of a relative phase after k inputs: remove k * offset, then round to thirds
    assert auto.state_of_phase(np.array([0.2 + 1 / 3, 0.3 + 2 / 3]), np.array([2, 3])).tolist() == [1, 2]
    with pytest.raises(DataError, match="value 'z'"):
        auto.run(["a", "z"])


def test_relative_phases_follow_whole_sequences():
    cell = rotation_cell(0.1)
    c = find_limit_cycle(cell, np.zeros(1), [1.0, 0.0], n_transient=0)
    seq = np.zeros((2, 6, 1))
    seq[0, 1:3, 0] = 1 / 6                                 # value 1 at steps 1-2
    seq[1, 0, 0], seq[1, 4, 0] = 1 / 3, 1 / 3               # one step of 1/3 twice
    rel = relative_phases(cell, seq, c, [1.0, 0.0])
    assert rel.shape == (2, 7)
    np.testing.assert_allclose(_circ_err(rel[0], [0, 0, 1 / 6, 1 / 3, 1 / 3, 1 / 3, 1 / 3]), 0, atol=1e-3)
    np.testing.assert_allclose(_circ_err(rel[1], [0, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3]), 0, atol=1e-3)


def test_phase_automaton_run_by_hand():
    auto = PhaseAutomaton(n_states=4, values=np.array([0, 1]), steps=np.array([1, 3]), offset=0.0,
                          transitions=np.array([[1, 3], [2, 0], [3, 1], [0, 2]]), quantisation_error=0.0)
    assert auto.run([0, 0, 1]) == 1 and auto.run([], start=2) == 2
