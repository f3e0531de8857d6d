"""Tests for neurograph.models.gated: DNN, DGN, DLGN (fully connected, convolutional, residual)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

import neurograph.models.gated as gated
from neurograph.datasets import make_blobs_task
from neurograph.models.gated import DGN, DLGN, DNN, GatePoint, GatedNetwork, gated_model, hard_gates
from neurograph.gating.npk import gate_patterns, record_gates
from neurograph.recording.recorder import record
from neurograph.stats import CoactivationStats
from neurograph.zoo.training import accuracy, train_classifier


def _pre_activations(model, X):
    """Gate pre-activations captured at the gates.{l} sites, by hand-registered hooks."""
    out = {}
    hs = [model.gates[l].register_forward_hook(lambda m, i, o, l=l: out.__setitem__(l, o.detach()))
          for l in range(len(model.hidden))]
    try:
        with torch.no_grad():
            model(X)
    finally:
        for h in hs:
            h.remove()
    return [out[l] for l in range(len(model.hidden))]


def test_all_sorted_and_exported():
    assert list(gated.__all__) == sorted(gated.__all__)
    for name in gated.__all__:
        assert hasattr(gated, name)


@pytest.mark.parametrize("kind,conv,residual", list(itertools.product(["dnn", "dgn", "dlgn"], [False, True],
                                                                      [False, True])))
def test_shapes_names_and_gate_sites(kind, conv, residual):
    torch.manual_seed(0)
    m = gated_model(kind, in_features=2 if conv else 12, hidden=(5, 5, 5), n_classes=3, conv=conv, residual=residual)
    X = torch.randn(4, 2, 6, 6) if conv else torch.randn(4, 12)
    assert tuple(m(X).shape) == (4, 3)
    names = dict(m.named_modules())
    assert m.activation_layers() == ["gates.0", "gates.1", "gates.2"]
    assert all(isinstance(names[n], GatePoint) for n in m.activation_layers())
    assert ("gating.0" in names) == (kind != "dnn")
    assert m.gate_layout() == [(3 if conv else None, residual and l > 0) for l in range(3)]
    pre = _pre_activations(m, X)
    assert [tuple(p.shape) for p in pre] == [((4, 5, 6, 6) if conv else (4, 5))] * 3
    # the gates gate_patterns reads are exactly the signs at those sites
    for g, p in zip(gate_patterns(m, X), pre):
        np.testing.assert_array_equal(g, (p > 0).numpy())


def test_dnn_is_a_plain_relu_network():
    torch.manual_seed(1)
    m = DNN(6, hidden=(7, 5), n_classes=3)
    X = torch.randn(10, 6)
    W = [l.weight for l in m.value]
    want = torch.relu(torch.relu(X @ W[0].T) @ W[1].T) @ m.readout.weight.T
    torch.testing.assert_close(m(X), want)
    ref = nn.Sequential(nn.Linear(6, 7, bias=False), nn.ReLU(), nn.Linear(7, 5, bias=False), nn.ReLU(),
                        nn.Linear(5, 3, bias=False))
    assert sum(p.numel() for p in ref.parameters()) == sum(p.numel() for p in m.parameters())


def test_dnn_residual_formula():
    torch.manual_seed(2)
    m = DNN(4, hidden=(6, 6, 6), n_classes=2, residual=True)
    X = torch.randn(8, 4)
    W = [l.weight for l in m.value]
    h = torch.relu(X @ W[0].T)
    for w in W[1:]:
        h = h + torch.relu(h @ w.T)
    torch.testing.assert_close(m(X), h @ m.readout.weight.T)


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_dgn_formula(mode):
    torch.manual_seed(3)
    m = DGN(5, hidden=(6, 4), n_classes=3, beta=2.5).set_gate_mode(mode)
    X = torch.randn(9, 5)
    g = [m.gating[0](X)]
    g.append(m.gating[1](torch.relu(g[0])))
    G = [torch.sigmoid(2.5 * q) if mode == "soft" else (q > 0).float() for q in g]
    h = G[0] * (X @ m.value[0].weight.T)
    h = G[1] * (h @ m.value[1].weight.T)
    torch.testing.assert_close(m(X), h @ m.readout.weight.T)


def test_dlgn_gates_are_a_deep_linear_function_of_the_input():
    torch.manual_seed(4)
    m = DLGN(5, hidden=(6, 6, 4), n_classes=2, gate_bias=False)
    X = torch.randn(7, 5)
    pre = _pre_activations(m, X)
    prod = torch.eye(5)
    for l, layer in enumerate(m.gating):
        prod = layer.weight @ prod                      # W_l ... W_1
        torch.testing.assert_close(pre[l], X @ prod.T)
    # linearity: q(a x + b y) = a q(x) + b q(y)
    A, B = torch.randn(7, 5), torch.randn(7, 5)
    for qa, qb, qab in zip(_pre_activations(m, A), _pre_activations(m, B), _pre_activations(m, 2 * A - 3 * B)):
        torch.testing.assert_close(qab, 2 * qa - 3 * qb, rtol=1e-5, atol=1e-5)


def test_dlgn_hard_gates_scaling_laws():
    # Linear bias-free gating: gates of c*x equal gates of x (c > 0). With hard gates the
    # bias-free value network is then positively homogeneous (value_input="x": f(cx) = c f(x)),
    # and with value_input="ones" the output only sees the gates: f(cx) = f(x).
    torch.manual_seed(5)
    X = torch.randn(6, 8, dtype=torch.float64)
    mx = DLGN(8, hidden=(10, 10), n_classes=3, gate_bias=False).double().set_gate_mode("hard")
    m1 = DLGN(8, hidden=(10, 10), n_classes=3, gate_bias=False, value_input="ones").double().set_gate_mode("hard")
    torch.testing.assert_close(mx(3.0 * X), 3.0 * mx(X))
    torch.testing.assert_close(m1(3.0 * X), m1(X))
    # soft gates break both (sigmoid(beta * 3g) != sigmoid(beta * g))
    m1.set_gate_mode("soft")
    assert not torch.allclose(m1(3.0 * X), m1(X))


def test_conv_gates_rotate_with_the_input():
    torch.manual_seed(6)
    for kind in ("dnn", "dgn", "dlgn"):
        m = gated_model(kind, in_features=1, hidden=(3, 4), n_classes=2, conv=True).double()
        X = torch.randn(3, 1, 5, 5, dtype=torch.float64)
        g0 = gate_patterns(m, X)
        g1 = gate_patterns(m, torch.roll(X, (2, -1), dims=(2, 3)))
        for a, b in zip(g0, g1):
            np.testing.assert_array_equal(np.roll(a, (2, -1), axis=(2, 3)), b)
        # global average pooling: the logits are invariant to circular rotations
        torch.testing.assert_close(m(torch.roll(X, (1, 3), dims=(2, 3))), m(X))


def test_hard_gates_context_restores_modes_also_on_error():
    a, b = DGN(3, hidden=(2,), n_classes=2), DLGN(3, hidden=(2,), n_classes=2).set_gate_mode("hard")
    wrapper = nn.ModuleList([a, b, DNN(3, hidden=(2,), n_classes=2)])
    with pytest.raises(RuntimeError, match="boom"):
        with hard_gates(wrapper):
            assert a.gate_mode == b.gate_mode == "hard"
            raise RuntimeError("boom")
    assert (a.gate_mode, b.gate_mode) == ("soft", "hard")


def test_soft_and_hard_gates_differ_and_soft_tends_to_hard_as_beta_grows():
    torch.manual_seed(7)
    X = torch.randn(20, 6, dtype=torch.float64)
    outs = []
    for beta in (1.0, 1000.0):
        torch.manual_seed(8)
        m = DLGN(6, hidden=(8, 8), n_classes=2, beta=beta).double()
        soft = m(X)
        with hard_gates(m):
            hard = m(X)
        outs.append((soft - hard).abs().max().item())
    assert outs[0] > 1e-3 and outs[1] < 1e-2 * outs[0]


@pytest.mark.parametrize("bad,match", [
    (dict(hidden=()), "at least one"),
    (dict(hidden=(4, 5), residual=True), "equal hidden widths"),
    (dict(kernel_size=4, conv=True), "odd"),
    (dict(beta=0.0), "beta"),
    (dict(value_input="zeros"), "value_input"),
    (dict(hidden=(3, 0)), r"hidden\[1\]"),
])
def test_bad_arguments(bad, match):
    kw = dict(hidden=(4, 4))
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        DLGN(6, n_classes=2, **kw)


def test_mode_switch_and_factory_errors():
    with pytest.raises(ValueError, match="always hard"):
        DNN(3, hidden=(2,)).set_gate_mode("soft")
    with pytest.raises(ValueError, match="gate mode"):
        DGN(3, hidden=(2,)).set_gate_mode("fuzzy")
    with pytest.raises(ValueError, match="kind"):
        gated_model("cnn")
    with pytest.raises(ValueError, match="expects 6 input features"):
        DLGN(6, hidden=(2,))(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        DLGN(1, hidden=(2,), conv=True)(torch.zeros(2, 5))
    assert isinstance(gated_model("dnn", in_features=3, hidden=(2,)), GatedNetwork)


def test_recorded_gates_are_the_signs_of_the_pre_activations():
    torch.manual_seed(9)
    m = DLGN(6, hidden=(8, 5), n_classes=3)
    X, y = torch.randn(120, 6), torch.randint(0, 3, (120,))
    stats = record(m, (X, y), "gates.*", rule="positive", batch_size=50)
    fired = np.concatenate([(p > 0).numpy() for p in _pre_activations(m, X)], axis=1)
    want = CoactivationStats.from_binary(fired, y.numpy())
    np.testing.assert_array_equal(stats.cofire_counts, want.cofire_counts)
    np.testing.assert_array_equal(stats.class_fire_counts, want.class_fire_counts)
    via = record_gates(m, (X, y), batch_size=50)
    np.testing.assert_array_equal(via.cofire_counts, want.cofire_counts)
    assert via.layers == ["gates.0", "gates.1"]


@pytest.mark.parametrize("kind", ["dnn", "dgn", "dlgn"])
def test_models_learn_a_small_task(kind):
    task = make_blobs_task(n_samples=300, n_features=8, n_classes=3, seed=0)
    torch.manual_seed(0)
    m = gated_model(kind, in_features=8, hidden=(16, 16), n_classes=3)
    before = m.gate_mode
    train_classifier(m, task.X_train, task.y_train, epochs=15, lr=1e-2, seed=0)
    assert accuracy(m, task.X_test, task.y_test) > 0.8
    assert m.gate_mode == before
