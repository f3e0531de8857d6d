"""Tests for neurograph.models.gated.GatedCNN: strided-conv + dense DNN, DGN and DLGN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from neurograph.gating.npk import gate_patterns, record_gates
from neurograph.models.gated import GatedCNN, GatePoint, gated_cnn, hard_gates
from neurograph.zoo.training import accuracy, train_classifier


def _pre_activations(model, *args, method="forward"):
    """Gate pre-activations at the gates.{l} sites, by hand-registered hooks."""
    out = {}
    n = len(model.activation_layers())
    hs = [model.gates[l].register_forward_hook(lambda m, i, o, l=l: out.__setitem__(l, o.detach()))
          for l in range(n)]
    try:
        with torch.no_grad():
            getattr(model, method)(*args)
    finally:
        for h in hs:
            h.remove()
    return [out[l] for l in range(n)]


@pytest.mark.parametrize("kind", ["dnn", "dgn", "dlgn"])
@pytest.mark.parametrize("size,stride,dense", [(12, 2, (16,)), ((11, 9), 2, (7, 5)), (8, 1, ())])
def test_shapes_names_and_gate_sites(kind, size, stride, dense):
    torch.manual_seed(0)
    m = gated_cnn(kind, in_channels=2, image_size=size, channels=(3, 4), dense=dense, n_classes=5, stride=stride)
    h, w = (size, size) if isinstance(size, int) else size
    X = torch.randn(6, 2, h, w)
    assert tuple(m(X).shape) == (6, 5)
    names = dict(m.named_modules())
    sites = m.activation_layers()
    assert sites == [f"gates.{l}" for l in range(2 + len(dense))]
    assert all(isinstance(names[n], GatePoint) for n in sites)
    assert ("gating.0" in names) == (kind != "dnn")
    # zero padding k // 2, stride s: out = (in - 1) // s + 1 for k = 3
    h1, w1 = (h - 1) // stride + 1, (w - 1) // stride + 1
    h2, w2 = (h1 - 1) // stride + 1, (w1 - 1) // stride + 1
    assert m.feature_shape == (4, h2, w2)
    pre = _pre_activations(m, X)
    want = [(6, 3, h1, w1), (6, 4, h2, w2)] + [(6, d) for d in dense]
    assert [tuple(p.shape) for p in pre] == want
    assert m.readout.in_features == (dense[-1] if dense else 4 * h2 * w2)
    # the neurograph.gating tools see the gates when told the sites
    for g, p in zip(gate_patterns(m, X, layers=sites), pre):
        np.testing.assert_array_equal(g, (p > 0).numpy())


def test_default_is_a_28x28_cnn():
    torch.manual_seed(0)
    m = GatedCNN()
    assert (m.kind, m.channels, m.dense, m.feature_shape, m.gate_mode) == ("dnn", (32, 64), (128,), (64, 7, 7), "hard")
    assert tuple(m(torch.zeros(2, 1, 28, 28)).shape) == (2, 10)


def test_dnn_is_a_plain_relu_cnn():
    torch.manual_seed(1)
    m = gated_cnn("dnn", image_size=10, channels=(3, 5), dense=(6,), n_classes=4)
    ref = nn.Sequential(nn.Conv2d(1, 3, 3, stride=2, padding=1, bias=False), nn.ReLU(),
                        nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=False), nn.ReLU(), nn.Flatten(),
                        nn.Linear(5 * 3 * 3, 6, bias=False), nn.ReLU(), nn.Linear(6, 4, bias=False))
    with torch.no_grad():
        for dst, src in zip([ref[0], ref[2], ref[5], ref[7]], [*m.value, m.readout]):
            dst.weight.copy_(src.weight)
    X = torch.randn(7, 1, 10, 10)
    torch.testing.assert_close(m(X), ref(X))
    assert sum(p.numel() for p in ref.parameters()) == sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_dgn_formula(mode):
    torch.manual_seed(2)
    m = gated_cnn("dgn", image_size=8, channels=(3,), dense=(5,), n_classes=2, beta=2.5).set_gate_mode(mode)
    X = torch.randn(4, 1, 8, 8)
    q0 = m.gating[0](X)
    q1 = m.gating[1](torch.relu(q0).flatten(1))
    G = [torch.sigmoid(2.5 * q) if mode == "soft" else (q > 0).float() for q in (q0, q1)]
    h = G[0] * m.value[0](X)
    h = G[1] * m.value[1](h.flatten(1))
    torch.testing.assert_close(m(X), m.readout(h))
    assert m.value[0].bias is None and m.value[1].bias is None and m.gating[0].bias is not None


def test_dlgn_gates_are_affine_in_the_input():
    torch.manual_seed(3)
    m = gated_cnn("dlgn", image_size=9, channels=(3, 4), dense=(6,), n_classes=3).double()
    A, B = torch.randn(5, 1, 9, 9, dtype=torch.float64), torch.randn(5, 1, 9, 9, dtype=torch.float64)
    for qa, qb, qab in zip(_pre_activations(m, A), _pre_activations(m, B), _pre_activations(m, 0.3 * A + 0.7 * B)):
        torch.testing.assert_close(qab, 0.3 * qa + 0.7 * qb)
    # a DGN's gates are not (its gating network has ReLUs)
    torch.manual_seed(3)
    d = gated_cnn("dgn", image_size=9, channels=(3, 4), dense=(6,), n_classes=3).double()
    last = [_pre_activations(d, Z)[-1] for Z in (A, B, 0.3 * A + 0.7 * B)]
    assert not torch.allclose(last[2], 0.3 * last[0] + 0.7 * last[1])


@pytest.mark.parametrize("kind", ["dgn", "dlgn"])
@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_value_network_is_linear_in_its_input_given_the_gates(kind, mode):
    torch.manual_seed(4)
    m = gated_cnn(kind, image_size=10, channels=(3, 4), dense=(6,), n_classes=3).double().set_gate_mode(mode)
    X = torch.randn(5, 1, 10, 10, dtype=torch.float64)
    U, V = torch.randn_like(X), torch.randn_like(X)
    torch.testing.assert_close(m.forward_split(X, 2.0 * U - 3.0 * V),
                               2.0 * m.forward_split(X, U) - 3.0 * m.forward_split(X, V))
    torch.testing.assert_close(m.forward_split(X, X), m(X))
    # the gates are those of x whatever the value input
    for a, b in zip(_pre_activations(m, X, U, method="forward_split"), _pre_activations(m, X)):
        torch.testing.assert_close(a, b)
    # ... and the whole network is not linear in x (the gates move)
    assert not torch.allclose(m(2.0 * U - 3.0 * V), 2.0 * m(U) - 3.0 * m(V))


def test_value_input_ones_and_hard_gate_homogeneity():
    torch.manual_seed(5)
    X = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    m1 = GatedCNN("dlgn", image_size=8, channels=(3,), dense=(4,), n_classes=2, gate_bias=False,
                  value_input="ones").double()
    mx = GatedCNN("dlgn", image_size=8, channels=(3,), dense=(4,), n_classes=2, gate_bias=False).double()
    with hard_gates(nn.ModuleList([m1, mx])):
        assert m1.gate_mode == mx.gate_mode == "hard"
        torch.testing.assert_close(m1(3.0 * X), m1(X))        # only the (scale-free) gates see x
        torch.testing.assert_close(mx(3.0 * X), 3.0 * mx(X))  # positively homogeneous
    assert m1.gate_mode == mx.gate_mode == "soft"


def test_record_gates_with_the_sites():
    torch.manual_seed(6)
    m = gated_cnn("dlgn", image_size=8, channels=(2,), dense=(3,), n_classes=2)
    X, y = torch.randn(40, 1, 8, 8), torch.randint(0, 2, (40,))
    stats = record_gates(m, (X, y), layers="gates.*")
    assert stats.n_neurons == 2 + 3   # conv gates: one neuron per channel by default
    per = record_gates(m, (X, y), layers=m.activation_layers(), per_position=True)
    assert per.n_neurons == 2 * 4 * 4 + 3


def test_dlgn_cnn_learns_an_image_task():
    # bright blob in the left vs the right half of a noisy 8x8 image
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (400,), generator=g)
    X = 0.5 * torch.randn(400, 1, 8, 8, generator=g)
    X[y == 0, :, 2:6, 0:3] += 1.0
    X[y == 1, :, 2:6, 5:8] += 1.0
    torch.manual_seed(7)
    m = gated_cnn("dlgn", image_size=8, channels=(4,), dense=(8,), n_classes=2)
    train_classifier(m, X[:300], y[:300], epochs=15, lr=1e-2, seed=0)
    assert accuracy(m, X[300:], y[300:]) > 0.9


@pytest.mark.parametrize("bad,match", [
    ({"kind": "cnn"}, "kind"),
    ({"channels": ()}, "at least one"),
    ({"channels": (3, 0)}, r"channels\[1\]"),
    ({"dense": (0,)}, r"dense\[0\]"),
    ({"kernel_size": 4}, "odd"),
    ({"stride": 0}, "stride"),
    ({"beta": 0.0}, "beta"),
    ({"value_input": "zeros"}, "value_input"),
    ({"kind": "dnn", "value_input": "ones"}, "value_input must be 'x'"),
    ({"image_size": (8, 8, 8)}, "image_size"),
])
def test_bad_arguments(bad, match):
    kw = {"kind": "dlgn", "image_size": 8, "channels": (2,), "dense": (3,)}
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        GatedCNN(**kw)


def test_bad_inputs_and_modes():
    m = gated_cnn("dlgn", image_size=8, channels=(2,), dense=())
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        m(torch.zeros(2, 1, 9, 8))
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        m(torch.zeros(2, 64))
    with pytest.raises(ValueError, match="gate mode"):
        m.set_gate_mode("fuzzy")
    d = gated_cnn("dnn", image_size=8, channels=(2,), dense=())
    with pytest.raises(ValueError, match="always hard"):
        d.set_gate_mode("soft")
    with pytest.raises(ValueError, match="DGN or DLGN"):
        d.forward_split(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))


def test_default_gate_sites_and_the_path_kernel_refusal():
    # without layers=, the gating tools take the model's own gate sites; the NPK, whose exact path count
    # is not implemented for strided convolutions, refuses rather than silently using the FC formula
    from neurograph.errors import ModelError
    from neurograph.gating.npk import gate_layers, neural_path_kernel
    torch.manual_seed(7)
    m = gated_cnn("dlgn", image_size=8, channels=(2,), dense=(3,), n_classes=2)
    X = torch.randn(6, 1, 8, 8)
    assert gate_layers(m) == list(m.activation_layers())
    assert [g.shape for g in gate_patterns(m, X)] == [g.shape for g in gate_patterns(m, X, layers="gates.*")]
    with pytest.raises(ModelError, match="layers=model.activation_layers"):
        neural_path_kernel(m, X)
    K = neural_path_kernel(m, X, layers=m.activation_layers())
    assert K.shape == (6, 6) and np.allclose(K, K.T)
