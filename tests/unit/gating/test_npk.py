"""Tests for neurograph.gating.npk: the neural path kernel against brute-force path enumeration."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest
import torch
from torch import nn

import neurograph.gating.npk as npk
from neurograph.errors import DataError, LayerError
from neurograph.models import MLP
from neurograph.models.gated import DNN, gated_model, hard_gates
from neurograph.gating.npk import gate_layers, gate_patterns, neural_path_kernel, path_kernel


# ------------------------------------------------------------------ brute force

def enumerate_paths(model, image_hw=None):
    """Every input-to-last-layer path of a GatedNetwork's value network, by explicit graph search.

    Returns (paths (P, L+1) node ids, through (P, L) bool: gated edge (True) or identity
    skip (False), weights (P,) product of the value weights along the path, shapes per layer).
    Node ids are flat indices into (C, H, W) (conv) or (units,) (fully connected).
    """
    widths = (model.in_features, *model.hidden)
    shapes = [(w, *image_hw) if model.conv else (w,) for w in widths]
    layers = []  # per layer: dict src -> list of (dst, weight, gated)
    for l, layer in enumerate(model.value):
        out = defaultdict(list)
        W = layer.weight.detach().double().numpy()
        if model.conv:
            H, Wd = image_hw
            k = W.shape[2]
            pad = k // 2
            for co, ci, y, x, dy, dx in itertools.product(range(W.shape[0]), range(W.shape[1]), range(H), range(Wd),
                                                          range(k), range(k)):
                src = np.ravel_multi_index((ci, (y + dy - pad) % H, (x + dx - pad) % Wd), shapes[l])
                dst = np.ravel_multi_index((co, y, x), shapes[l + 1])
                out[src].append((dst, W[co, ci, dy, dx], True))
        else:
            for j, i in itertools.product(range(W.shape[0]), range(W.shape[1])):
                out[i].append((j, W[j, i], True))
        if model.residual and l > 0:
            for u in range(int(np.prod(shapes[l]))):
                out[u].append((u, 1.0, False))
        layers.append(out)
    paths = [((i,), (), 1.0) for i in range(int(np.prod(shapes[0])))]
    for out in layers:
        paths = [(p + (dst,), t + (g,), w * ew) for p, t, w in paths for dst, ew, g in out[p[-1]]]
    nodes = np.array([p for p, _, _ in paths], dtype=np.int64)
    through = np.array([t for _, t, _ in paths], dtype=bool)
    weights = np.array([w for _, _, w in paths])
    return nodes, through, weights, shapes


def path_features(nodes, through, xv, gates):
    """phi(x, p) = x(p_0) * prod over gated edges of the gate of their end node; shape (n, P)."""
    n = xv.shape[0]
    phi = xv.reshape(n, -1)[:, nodes[:, 0]].astype(np.float64)
    for l, g in enumerate(gates):
        on = g.reshape(n, -1)[:, nodes[:, l + 1]].astype(np.float64)
        phi = phi * np.where(through[:, l][None, :], on, 1.0)
    return phi


def rotation_maps(shapes, shift):
    """Per layer, the node id each node moves to under a circular rotation of the image."""
    maps = []
    for shape in shapes:
        idx = np.arange(int(np.prod(shape))).reshape(shape)
        maps.append(np.roll(idx, shift, axis=(1, 2)).reshape(-1).argsort())
    return maps


def brute_force_kernel(model, X, Y, image_hw=None, rotations=False):
    nodes, through, _, shapes = enumerate_paths(model, image_hw)
    xv = model.value_input_of(model.prepare_input(X)).detach().numpy()
    yv = model.value_input_of(model.prepare_input(Y)).detach().numpy()
    gx, gy = gate_patterns(model, X), gate_patterns(model, Y)
    phi_x = path_features(nodes, through, xv, gx)
    if not rotations:
        return phi_x @ path_features(nodes, through, yv, gy).T
    K = np.zeros((X.shape[0], Y.shape[0]))
    for shift in itertools.product(range(image_hw[0]), range(image_hw[1])):
        maps = rotation_maps(shapes, shift)
        rotated = np.stack([maps[l][nodes[:, l]] for l in range(nodes.shape[1])], axis=1)  # rho(p)
        K += phi_x @ path_features(rotated, through, yv, gy).T
    return K


def int_inputs(shape, seed):
    return torch.from_numpy(np.random.default_rng(seed).integers(-3, 4, size=shape).astype(np.float64))


# ------------------------------------------------------------------ closed forms

def test_hand_weighted_two_layer_network():
    net = DNN(2, hidden=(2, 2), n_classes=1).double()
    with torch.no_grad():
        net.value[0].weight.copy_(torch.eye(2))
        net.value[1].weight.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
    X = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
    # x = (1, 2): gates (1, 1), (1, 0); x' = (3, -1): gates (1, 0), (1, 1)
    # K = <x, x'> * overlap_1 * overlap_2 = [[5*2*1, 1*1*1], [1*1*1, 10*1*2]]
    assert neural_path_kernel(net, X).tolist() == [[10.0, 1.0], [1.0, 20.0]]
    assert brute_force_kernel(net, X, X).tolist() == [[10.0, 1.0], [1.0, 20.0]]


def test_path_kernel_literal_and_residual_literal():
    X = np.array([[1.0, 2.0], [3.0, 0.0]])
    G = [np.array([[1, 1, 0], [1, 0, 1]]), np.array([[1, 0, 0], [1, 1, 0]])]
    # plain: <x,x'> * o1 * o2; residual 2nd layer: <x,x'> * o1 * (1 + o2)
    assert path_kernel(X, G).tolist() == [[5 * 2 * 1, 3 * 1 * 1], [3 * 1 * 1, 9 * 2 * 2]]
    assert path_kernel(X, G, layout=[(None, False), (None, True)]).tolist() == [[5 * 2 * 2, 3 * 1 * 2],
                                                                               [3 * 1 * 2, 9 * 2 * 3]]


CASES = [
    ("dnn", False, False, (3, 4, 2)), ("dgn", False, False, (3, 4, 2)), ("dlgn", False, False, (3, 4, 2)),
    ("dnn", False, True, (3, 3, 3)), ("dlgn", False, True, (3, 3, 3)), ("dgn", False, True, (3, 3, 3)),
]


@pytest.mark.parametrize("kind,conv,residual,hidden", CASES)
def test_fully_connected_kernel_equals_brute_force_and_output_is_a_sum_over_paths(kind, conv, residual, hidden):
    torch.manual_seed(0)
    m = gated_model(kind, in_features=3, hidden=hidden, n_classes=2, residual=residual).double()
    X, Y = int_inputs((5, 3), 1), int_inputs((4, 3), 2)
    np.testing.assert_array_equal(neural_path_kernel(m, X, Y), brute_force_kernel(m, X, Y))
    # dual view: with hard gates, y(x) = sum_p phi(x, p) v(p), v = weights along p times readout
    nodes, through, w, _ = enumerate_paths(m)
    phi = path_features(nodes, through, m.value_input_of(X).numpy(), gate_patterns(m, X))
    readout = m.readout.weight.detach().numpy()[:, nodes[:, -1]]          # (classes, P)
    with hard_gates(m):
        np.testing.assert_allclose(m(X).detach().numpy(), phi @ (w[None, :] * readout).T, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind,residual", [("dnn", False), ("dlgn", False), ("dgn", True), ("dlgn", True)])
def test_conv_kernel_equals_brute_force_with_and_without_rotations(kind, residual):
    torch.manual_seed(1)
    m = gated_model(kind, in_features=1, hidden=(2, 2), n_classes=2, conv=True, residual=residual).double()
    X, Y = int_inputs((3, 1, 4, 4), 3), int_inputs((2, 1, 4, 4), 4)
    for rot in (False, True):
        np.testing.assert_array_equal(neural_path_kernel(m, X, Y, rotations=rot),
                                      brute_force_kernel(m, X, Y, image_hw=(4, 4), rotations=rot))
    nodes, through, w, shapes = enumerate_paths(m, (4, 4))
    phi = path_features(nodes, through, X.numpy(), gate_patterns(m, X))
    channel = nodes[:, -1] // 16                                         # GAP: (c, u) -> c, weight 1/16
    readout = m.readout.weight.detach().numpy()[:, channel] / 16.0
    with hard_gates(m):
        np.testing.assert_allclose(m(X).detach().numpy(), phi @ (w[None, :] * readout).T, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ stated properties

@pytest.mark.parametrize("kind,residual", [("dnn", False), ("dgn", False), ("dlgn", False), ("dlgn", True)])
def test_conv_with_global_pooling_gives_a_rotation_invariant_kernel(kind, residual):
    torch.manual_seed(2)
    m = gated_model(kind, in_features=2, hidden=(3, 3), n_classes=2, conv=True, residual=residual).double()
    X, Y = int_inputs((4, 2, 5, 6), 5), int_inputs((3, 2, 5, 6), 6)
    K = neural_path_kernel(m, X, Y)
    K0 = neural_path_kernel(m, X, Y, rotations=False)
    changed = False
    for a, b in [((1, 0), (0, 0)), ((0, 0), (2, 5)), ((3, 2), (4, 1))]:
        Xr, Yr = torch.roll(X, a, dims=(2, 3)), torch.roll(Y, b, dims=(2, 3))
        np.testing.assert_array_equal(neural_path_kernel(m, Xr, Yr), K)              # exact
        changed |= not np.array_equal(neural_path_kernel(m, Xr, Yr, rotations=False), K0)
    assert changed  # without the sum over rotations the kernel is not invariant


@pytest.mark.parametrize("conv", [False, True])
def test_skip_connections_give_an_ensemble_of_plain_networks(conv):
    # K_residual = sum over subsets J of the skippable layers of K of the plain net keeping layers J
    torch.manual_seed(3)
    m = gated_model("dlgn", in_features=2, hidden=(4, 4, 4, 4), n_classes=2, conv=conv, residual=True).double()
    X = int_inputs((5, 2, 4, 4) if conv else (5, 2), 7)
    gates = gate_patterns(m, X)
    K = neural_path_kernel(m, X)
    total = np.zeros_like(K)
    for r in range(4):
        for J in itertools.combinations([1, 2, 3], r):
            keep = [gates[0]] + [gates[l] for l in J]
            total += path_kernel(X.numpy(), keep, layout=[(3 if conv else None, False)] * len(keep))
    np.testing.assert_array_equal(K, total)
    assert not np.array_equal(K, path_kernel(X.numpy(), gates, layout=[(3 if conv else None, False)] * 4))


def test_cross_kernel_is_a_block_of_the_full_kernel_and_symmetric():
    torch.manual_seed(4)
    m = gated_model("dgn", in_features=6, hidden=(8, 8), n_classes=3)
    X, Y = torch.randn(7, 6), torch.randn(5, 6)
    full = neural_path_kernel(m, torch.cat([X, Y]))
    np.testing.assert_allclose(neural_path_kernel(m, X, Y), full[:7, 7:], rtol=1e-12)
    np.testing.assert_array_equal(full, full.T)
    assert np.linalg.eigvalsh(full).min() > -1e-8 * np.abs(full).max()  # a Gram matrix


def test_value_input_ones_kernel_counts_shared_active_paths():
    torch.manual_seed(5)
    m = gated_model("dlgn", in_features=5, hidden=(6, 6), n_classes=2, value_input="ones")
    X = torch.randn(6, 5)
    g = [a.astype(np.int64) for a in gate_patterns(m, X)]
    want = 5.0 * (g[0] @ g[0].T) * (g[1] @ g[1].T)          # <1, 1> = 5 inputs
    np.testing.assert_array_equal(neural_path_kernel(m, X), want)


# ------------------------------------------------------------------ any ReLU network

def test_plain_relu_network_through_hooks_matches_the_gated_dnn():
    torch.manual_seed(6)
    dnn = DNN(4, hidden=(6, 5), n_classes=3)
    seq = nn.Sequential(nn.Linear(4, 6, bias=False), nn.ReLU(), nn.Linear(6, 5, bias=False), nn.ReLU(),
                        nn.Linear(5, 3, bias=False))
    with torch.no_grad():
        seq[0].weight.copy_(dnn.value[0].weight)
        seq[2].weight.copy_(dnn.value[1].weight)
    X = torch.randn(9, 4)
    assert gate_layers(seq) == ["1", "3"]
    np.testing.assert_array_equal(neural_path_kernel(seq, X), neural_path_kernel(dnn, X))
    # the MLP reference model (with biases): its ReLU modules, or chosen layers by glob
    mlp = MLP(4, hidden=(6, 5), n_classes=3)
    g = [a.astype(float) for a in gate_patterns(mlp, X)]
    want = (X.double().numpy() @ X.double().numpy().T) * (g[0] @ g[0].T) * (g[1] @ g[1].T)
    np.testing.assert_allclose(neural_path_kernel(mlp, X), want, rtol=1e-6)
    np.testing.assert_allclose(neural_path_kernel(mlp, X, layers="layers.[14]"), want, rtol=1e-6)
    assert mlp.training  # mode restored


def test_errors_name_the_problem():
    with pytest.raises(LayerError, match="no nn.ReLU"):
        neural_path_kernel(nn.Sequential(nn.Linear(3, 2)), torch.randn(4, 3))
    with pytest.raises(LayerError, match="matches no module"):
        gate_patterns(DNN(3, hidden=(2,)), torch.randn(4, 3), layers="nope")
    X = np.ones((3, 2))
    with pytest.raises(DataError, match="layout has 2 layers"):
        path_kernel(X, [np.ones((3, 4))], layout=[(None, False)] * 2)
    with pytest.raises(DataError, match=r"gates\[0\]"):
        path_kernel(X, [np.ones((2, 4))])
    with pytest.raises(DataError, match="image inputs"):
        path_kernel(X, [np.ones((3, 1, 2, 2))], layout=[(3, False)])
    with pytest.raises(DataError, match="NaN"):
        neural_path_kernel(DNN(2, hidden=(2,)), torch.tensor([[np.nan, 1.0]]))
    assert list(npk.__all__) == sorted(npk.__all__)


# ------------------------------------------------------------------ gates as activation graphs

def test_record_gates_per_position_counts_every_conv_gate():
    from neurograph.scoring.pipeline import analyze
    from neurograph.stats import CoactivationStats

    torch.manual_seed(7)
    m = gated_model("dlgn", in_features=1, hidden=(2, 3), n_classes=3, conv=True)
    X, y = torch.randn(60, 1, 3, 4), torch.randint(0, 3, (60,))
    stats = npk.record_gates(m, (X, y), per_position=True, patterns=True, batch_size=25)
    flat = np.concatenate([g.reshape(60, -1) for g in gate_patterns(m, X)], axis=1)
    want = CoactivationStats.from_binary(flat, y.numpy())
    np.testing.assert_array_equal(stats.cofire_counts, want.cofire_counts)
    np.testing.assert_array_equal(stats.class_fire_counts, want.class_fire_counts)
    assert stats.neurons["layer"].tolist() == ["gates.0"] * 24 + ["gates.1"] * 36
    assert stats.neurons["unit"].tolist() == list(range(24)) + list(range(36))
    assert sorted(stats.pattern_counts) == ["gates.0", "gates.1"]
    assert sum(stats.pattern_counts["gates.1"].values()) == 60
    # per channel (default): one neuron per channel, mean pre-activation > 0
    assert npk.record_gates(m, (X, y)).n_neurons == 5
    assert analyze(stats, n_null=0).graph.n_nodes > 0


# ------------------------------------------------------------------ kernel machine: learning is in the gates

def _xor_in_noise(n, seed):
    """Label = XOR of the signs of the first two of 20 Gaussian coordinates (18 are noise)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20)).astype(np.float32)
    return torch.from_numpy(X), torch.from_numpy(((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64))


def _npk_svc_accuracy(model, Xtr, ytr, Xte, yte):
    from sklearn.svm import SVC

    K, Kt = neural_path_kernel(model, Xtr), neural_path_kernel(model, Xte, Xtr)
    d, dt = np.diag(K), np.diag(neural_path_kernel(model, Xte))
    K, Kt = K / np.sqrt(np.outer(d, d)), Kt / np.sqrt(np.outer(dt, d))
    return SVC(kernel="precomputed", C=10).fit(K, ytr.numpy()).score(Kt, yte.numpy())


@pytest.mark.parametrize("kind", ["dnn", "dlgn"])
def test_kernel_machine_on_trained_gates_beats_random_gates(kind):
    from neurograph.zoo.training import accuracy, train_classifier

    Xtr, ytr = _xor_in_noise(400, 0)
    Xte, yte = _xor_in_noise(300, 1)
    torch.manual_seed(0)
    random_gates = gated_model(kind, in_features=20, hidden=(32, 32), n_classes=2)
    torch.manual_seed(0)
    trained = gated_model(kind, in_features=20, hidden=(32, 32), n_classes=2)
    train_classifier(trained, Xtr, ytr, epochs=30, lr=1e-2, seed=0)
    net = accuracy(trained, Xte, yte)
    k_trained = _npk_svc_accuracy(trained, Xtr, ytr, Xte, yte)
    k_random = _npk_svc_accuracy(random_gates, Xtr, ytr, Xte, yte)
    # measured (seeds 0-2): net 0.76-0.84, trained gates 0.74-0.80, random gates 0.63-0.66
    assert k_trained > k_random + 0.07
    assert k_trained > net - 0.07


def test_skip_needs_equal_widths():
    X = np.ones((3, 2))
    with pytest.raises(DataError, match="identity skip needs equal widths"):
        path_kernel(X, [np.ones((3, 4)), np.ones((3, 5))], layout=[(None, False), (None, True)])
