"""Fixed points, Jacobians, stability and attractor dimension on cells with closed-form answers."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from neurograph.dynamics.fixed_points import (AttractorDimension, FixedPoints, attractor_dimension, cell_from_layer,
                                 find_fixed_points, sample_initial_states)
from neurograph.errors import DataError, FileFormatError, LayerError, ModelError, OptionError
from neurograph.models.recurrent import RecurrentLayer
from neurograph.recording.states import StateTrace


def _linear_cell(A, b):
    A_t, b_t = torch.as_tensor(A), torch.as_tensor(b)
    return lambda x, h: h @ A_t.T + b_t


def _random_matrix(rng, d, radius):
    M = rng.normal(size=(d, d))
    return M * (radius / np.max(np.abs(np.linalg.eigvals(M))))


# --------------------------------------------------------------------------- closed-form fixed points

@pytest.mark.parametrize("radius, stable", [(0.8, True), (1.5, False)])
def test_linear_cell_fixed_point_jacobian_and_stability(radius, stable):
    rng = np.random.default_rng(0)
    A, b = _random_matrix(rng, 4, radius), rng.normal(size=4)
    fps = find_fixed_points(_linear_cell(A, b), np.zeros(1), rng.normal(size=(6, 4)))
    want = np.linalg.solve(np.eye(4) - A, b)
    assert len(fps) == 1
    np.testing.assert_allclose(fps.states[0], want, atol=1e-8)
    assert fps.q[0] < 1e-12
    np.testing.assert_allclose(fps.jacobians[0], A, atol=1e-12)
    lam = np.linalg.eigvals(A)
    np.testing.assert_allclose(np.abs(fps.eigenvalues[0]), np.sort(np.abs(lam))[::-1], atol=1e-10)
    assert bool(fps.is_stable[0]) is stable
    np.testing.assert_allclose(fps.time_constants[0], np.abs(1 / np.log(np.abs(fps.eigenvalues[0]))))
    np.testing.assert_allclose(fps.inputs, np.zeros((1, 1)))


def test_tanh_cell_with_zero_recurrence_has_fixed_point_tanh_b_and_user_cell_untouched():
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(3, 5)
    with torch.no_grad():
        cell.weight_hh.zero_()
    before = {k: v.clone() for k, v in cell.state_dict().items()}
    fps = find_fixed_points(cell, torch.zeros(3), torch.randn(8, 5), unique_tol=1e-6)
    b = (cell.bias_ih + cell.bias_hh).detach().double().numpy()
    assert len(fps) == 1
    np.testing.assert_allclose(fps.states[0], np.tanh(b), atol=1e-7)
    np.testing.assert_allclose(fps.jacobians[0], 0.0, atol=1e-12)
    assert fps.is_stable.all()
    for k, v in cell.state_dict().items():
        assert torch.equal(v, before[k]) and v.dtype == torch.float32
    assert all(p.requires_grad and p.grad is None for p in cell.parameters())


def test_unique_merges_duplicates_and_unique_tol_none_keeps_all():
    cell = _linear_cell(0.5 * np.eye(2), np.array([1.0, -1.0]))
    init = np.random.default_rng(1).normal(size=(7, 2))
    assert len(find_fixed_points(cell, np.zeros(1), init)) == 1
    assert len(find_fixed_points(cell, np.zeros(1), init, unique_tol=None)) == 7


def _cubic(x, h):
    # h' = h - 0.01 h (h - 2)(h - 10): fixed points 0 (f' = 0.8), 2 (f' = 1.16), 10 (f' = 0.2)
    return h - 0.01 * h * (h - 2.0) * (h - 10.0)


def test_three_fixed_points_of_cubic_map_and_outlier_exclusion():
    rng = np.random.default_rng(2)
    init = np.concatenate([rng.normal(0, 0.1, 20), rng.normal(2, 0.1, 20), [9.9, 10.1]])[:, None]
    fps = find_fixed_points(_cubic, np.zeros(1), init)
    order = np.argsort(fps.states[:, 0])
    np.testing.assert_allclose(fps.states[order, 0], [0.0, 2.0, 10.0], atol=1e-8)
    np.testing.assert_allclose(fps.eigenvalues[order, 0].real, [0.8, 1.16, 0.2], atol=1e-8)
    assert fps.is_stable[order].tolist() == [True, False, True]
    near = find_fixed_points(_cubic, np.zeros(1), init, outlier_distance=3.0)
    np.testing.assert_allclose(np.sort(near.states[:, 0]), [0.0, 2.0], atol=1e-8)
    assert len(find_fixed_points(_cubic, np.zeros(1), init, max_q=-1.0)) == 0


def test_lstm_state_pair_closed_form():
    torch.manual_seed(3)
    H = 3
    cell = torch.nn.LSTMCell(2, H)
    with torch.no_grad():
        cell.weight_hh.zero_()
    b = (cell.bias_ih + cell.bias_hh).detach().double().numpy()
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = sig(b[:H]), sig(b[H:2 * H]), np.tanh(b[2 * H:3 * H]), sig(b[3 * H:])
    c_star = i * g / (1 - f)
    want = np.concatenate([o * np.tanh(c_star), c_star])
    for init in (np.random.default_rng(0).normal(size=(4, 2 * H)), np.zeros((4, H))):   # [h, c] or h with c = 0
        fps = find_fixed_points(cell, np.zeros(2), init)
        assert len(fps) == 1 and fps.n_states == 2 * H
        np.testing.assert_allclose(fps.states[0], want, atol=1e-8)
        np.testing.assert_allclose(np.sort(np.abs(fps.eigenvalues[0]))[::-1], np.concatenate([np.sort(f)[::-1],
                                   np.zeros(H)]), atol=1e-8)
    # step 4's flat-state step function gives the same point as a plain callable
    layer = RecurrentLayer("lstm", 2, H)
    layer.cell.load_state_dict(cell.state_dict())
    flat = find_fixed_points(layer.step, np.zeros(2), np.zeros((3, 2 * H)))   # runs on a float64 copy
    np.testing.assert_allclose(flat.states[0], want, atol=1e-8)
    assert layer.cell.weight_ih.dtype == torch.float32 and layer.cell.weight_ih.requires_grad


def test_gru_cell_fixed_points_are_fixed():
    torch.manual_seed(4)
    cell = torch.nn.GRUCell(2, 6)
    x = torch.tensor([0.3, -0.2])
    fps = find_fixed_points(cell, x, torch.randn(10, 6))
    out = cell(x.expand(len(fps), 2), torch.as_tensor(fps.states, dtype=torch.float32)).detach().double().numpy()
    np.testing.assert_allclose(out, fps.states, atol=1e-6)
    assert (fps.q < 1e-12).all()


# --------------------------------------------------------------------------- cell_from_layer

@pytest.mark.parametrize("layer", [torch.nn.RNN(3, 4, batch_first=True),
                                   torch.nn.RNN(3, 4, nonlinearity="relu", batch_first=True),
                                   torch.nn.GRU(3, 4, batch_first=True), torch.nn.LSTM(3, 4, batch_first=True)])
def test_cell_from_layer_reproduces_every_step(layer):
    torch.manual_seed(5)
    cell = cell_from_layer(layer)
    x = torch.randn(2, 6, 3)
    out, _ = layer(x)
    lstm = isinstance(layer, torch.nn.LSTM)
    h = (torch.zeros(2, 4), torch.zeros(2, 4)) if lstm else torch.zeros(2, 4)
    for t in range(6):
        h = cell(x[:, t], h)
        torch.testing.assert_close(h[0] if lstm else h, out[:, t], rtol=0, atol=1e-6)
    assert cell.weight_hh is not (layer.weight_hh_l0)


def test_cell_from_layer_refuses_what_has_no_single_cell():
    with pytest.raises(LayerError, match="num_layers=2"):
        cell_from_layer(torch.nn.GRU(3, 4, num_layers=2))
    with pytest.raises(LayerError, match="bidirectional=True"):
        cell_from_layer(torch.nn.RNN(3, 4, bidirectional=True))
    with pytest.raises(LayerError, match="Linear"):
        cell_from_layer(torch.nn.Linear(3, 4))
    gru_cell = torch.nn.GRUCell(2, 2)
    assert cell_from_layer(gru_cell) is gru_cell


# --------------------------------------------------------------------------- input errors

def test_bad_inputs_raise_named_errors():
    cell = _linear_cell(0.5 * np.eye(2), np.zeros(2))
    with pytest.raises(DataError, match="initial_states"):
        find_fixed_points(cell, np.zeros(1), np.zeros((0, 2)))
    with pytest.raises(DataError, match="NaN"):
        find_fixed_points(cell, np.zeros(1), np.full((2, 2), np.nan))
    with pytest.raises(OptionError, match="lr"):
        find_fixed_points(cell, np.zeros(1), np.zeros((2, 2)), lr=0)
    with pytest.raises(ModelError, match="same shape"):
        find_fixed_points(lambda x, h: h[:, :1], np.zeros(1), np.zeros((2, 2)))
    with pytest.raises(ModelError, match="state_pair"):
        find_fixed_points(lambda x, h: (h, h), np.zeros(1), np.zeros((2, 2)))


# --------------------------------------------------------------------------- the FixedPoints container

def _two_points():
    cell = _linear_cell(np.diag([0.5, 0.25]), np.array([1.0, 1.0]))
    a = find_fixed_points(cell, np.zeros(1), np.zeros((1, 2)))
    b = find_fixed_points(_linear_cell(np.diag([2.0, 0.5]), np.zeros(2)), np.ones(1), np.ones((1, 2)))
    return FixedPoints.concatenate([a, b])


def test_container_slicing_concatenate_and_time_constants():
    fps = _two_points()
    assert len(fps) == 2 and len(fps[0]) == 1 and len(fps[1:]) == 1 and len(fps[np.array([True, False])]) == 1
    np.testing.assert_allclose(fps[0].states, [[2.0, 4.0 / 3.0]])
    np.testing.assert_allclose(fps.inputs[:, 0], [0.0, 1.0])
    assert fps.is_stable.tolist() == [True, False]
    np.testing.assert_allclose(fps.time_constants[0], [1 / math.log(2), 1 / math.log(4)])
    assert fps.n_slow_modes(1.0).tolist() == [1, 2]
    # unique never merges points of different inputs
    same_place = FixedPoints.concatenate([fps[0], fps[0]])
    assert len(same_place.unique()) == 1
    moved = FixedPoints(states=fps.states * 0, q=fps.q, jacobians=fps.jacobians, eigenvalues=fps.eigenvalues,
                        inputs=fps.inputs)
    assert len(moved.unique()) == 2
    with pytest.raises(DataError, match="inconsistent"):
        FixedPoints(states=np.zeros((2, 2)), q=np.zeros(1), jacobians=np.zeros((2, 2, 2)),
                    eigenvalues=np.zeros((2, 2), complex), inputs=np.zeros((2, 1)))


def test_save_load_roundtrip_and_bad_files(tmp_path):
    fps = _two_points()
    path = fps.save(tmp_path / "fp.npz")
    back = FixedPoints.load(path)
    for name in ("states", "q", "jacobians", "eigenvalues", "inputs"):
        np.testing.assert_array_equal(getattr(back, name), getattr(fps, name))
    with pytest.raises(FileFormatError, match="does not exist"):
        FixedPoints.load(tmp_path / "missing.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="corrupt"):
        FixedPoints.load(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        fps.save(tmp_path / "no_folder" / "fp.npz")


def test_plot_returns_a_figure():
    fps = _two_points()
    fig = fps.plot(states=np.random.default_rng(0).normal(size=(30, 2)))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert isinstance(fps.plot(), Figure)


# --------------------------------------------------------------------------- initial states

def test_sample_initial_states_from_trace_uses_valid_states_only():
    states = np.arange(6 * 2, dtype=np.float32).reshape(6, 2)   # 3 + 1 and 1 + 1 states
    trace = StateTrace(states=states, tokens=np.array([[1, 1, 1], [2, 0, 0]]), lengths=np.array([3, 1]),
                       labels=None, predictions=np.array([0, 1]))
    draw = sample_initial_states(trace, 5, noise_sd=0.0, seed=0)
    assert draw.shape == (5, 2)
    assert {tuple(r) for r in draw} <= {tuple(r) for r in states.astype(float)}
    assert len({tuple(r) for r in draw}) == 5                      # without replacement while possible
    noisy = sample_initial_states(trace, 2000, noise_sd=0.4, seed=1)
    pool = states.astype(float)
    resid = noisy - pool[np.argmin(((noisy[:, None] - pool[None]) ** 2).sum(-1), axis=1)]
    assert abs(resid.std() - 0.4) < 0.05
    np.testing.assert_array_equal(sample_initial_states(trace, 3, seed=7), sample_initial_states(trace, 3, seed=7))
    with pytest.raises(OptionError, match="n must"):
        sample_initial_states(trace, 0)


# --------------------------------------------------------------------------- attractor dimension

def _rotation(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_points_on_a_plane_in_10d_have_dimension_2():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(300, 2)) @ _rotation(10, 1)[:2] + 5.0
    dim = attractor_dimension(pts, variance=0.999)
    assert isinstance(dim, AttractorDimension) and dim.n_components == 2
    assert dim.explained_variance_ratio[2:].max() < 1e-20
    np.testing.assert_allclose(np.linalg.norm(dim.project(pts, 2), axis=1),
                               np.linalg.norm(pts - pts.mean(0), axis=1), rtol=1e-10)


@pytest.mark.parametrize("s1, s2", [(1.0, 1.0), (3.0, 1.0), (2.0, 0.5)])
def test_participation_ratio_closed_form(s1, s2):
    corners = np.array([[s1, s2], [s1, -s2], [-s1, s2], [-s1, -s2]])
    pts = corners @ _rotation(10, 2)[:2]
    dim = attractor_dimension(pts)
    a, b = s1**2, s2**2
    assert dim.participation_ratio == pytest.approx((a + b) ** 2 / (a**2 + b**2), rel=1e-10)
    np.testing.assert_allclose(dim.explained_variance_ratio[:2], np.sort([a, b])[::-1] / (a + b), rtol=1e-10)
    assert dim.n_components == (1 if a / (a + b) >= 0.95 else 2)


def test_gap_components_ignores_a_tail_of_small_directions():
    rng = np.random.default_rng(3)
    signal = rng.normal(size=(2000, 3)) * [3.0, 2.5, 2.0]           # a 3-D manifold ...
    noise = rng.normal(size=(2000, 12)) * 0.45                      # ... plus 12 weak noise directions
    dim = attractor_dimension(np.hstack([signal, noise]) @ _rotation(15, 4))
    assert dim.gap_components == 3
    assert dim.n_components > 3                                      # the 95% count is inflated by the tail


def test_attractor_dimension_of_fixed_points_and_errors():
    fps = _two_points()
    assert attractor_dimension(fps).n_components == 1
    with pytest.raises(DataError, match="at least 2"):
        attractor_dimension(np.zeros((1, 3)))
    with pytest.raises(OptionError, match="variance"):
        attractor_dimension(np.zeros((3, 3)), variance=1.5)
    assert attractor_dimension(np.ones((4, 3))).n_components == 0


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 30), d=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_dimension_bounds_and_monotone_in_variance(n, d, seed):
    pts = np.random.default_rng(seed).normal(size=(n, d))
    lo, hi = attractor_dimension(pts, 0.5), attractor_dimension(pts, 0.99)
    assert 1 <= lo.n_components <= hi.n_components <= min(n - 1, d)
    assert 1 - 1e-9 <= hi.participation_ratio <= min(n - 1, d) + 1e-9
    assert hi.explained_variance_ratio.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("mod", ["dynamics.fixed_points", "dynamics.limit_cycle", "dynamics.phase_code",
                                 "datasets.evidence", "datasets.set_game", "models.oscillator"])
def test_step5_modules_have_sorted_public_names(mod):
    import importlib

    module = importlib.import_module(f"neurograph.{mod}")
    assert module.__all__ == sorted(module.__all__)
    assert all(getattr(module, name) is not None for name in module.__all__)
