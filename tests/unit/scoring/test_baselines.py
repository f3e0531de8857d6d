"""Baseline generalization measures: closed forms, sklearn / numpy references, and the model left as it was."""

from __future__ import annotations

import copy
import importlib.util
import math
import sys

import numpy as np
import pytest
import torch
from sklearn.metrics import davies_bouldin_score
from torch import nn
from torch.nn import functional as F

from neurograph.errors import DataError, OptionError
from neurograph.models import MLP, RecurrentClassifier, SmallCNN
from neurograph.scoring.baselines import (
    BASELINES,
    baseline_scores,
    disagreement,
    distance_from_init,
    early_dbi,
    log_prod_of_fro,
    log_prod_of_spec,
    log_spec_over_margin,
    log_sum_of_fro,
    log_sum_of_spec,
    mixup_accuracy,
    mixup_loss,
    natekar_sharma,
    output_margin,
    pacbayes_flatness,
    parameter_count,
    ww_alpha,
    ww_alpha_weighted,
)

HAS_WW = importlib.util.find_spec("weightwatcher") is not None
WW_REASON = "optional package weightwatcher not installed (pip install weightwatcher)"


def _blobs(n=60, d=6, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    centers = 3.0 * torch.randn(k, d, generator=g)
    return centers[y] + torch.randn(n, d, generator=g), y


def _np_norms(mats):
    spec = sum(math.log(np.linalg.norm(w, 2) ** 2) for w in mats)
    fro = sum(math.log(np.linalg.norm(w, "fro") ** 2) for w in mats)
    d = len(mats)
    return spec, math.log(d) + spec / d, fro, math.log(d) + fro / d


def _bn_cnn():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(3, 3))
    with torch.no_grad():
        net[1].running_var.copy_(torch.tensor([0.5, 2.0, 4.0]))
        net[1].running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
        net[1].weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
    return net


class _AbsModel(nn.Module):
    """logits (1 - |x|, |x| - 1): class 1 iff |x| > 1, so the midpoint of -2 and 2 is class 0."""

    def forward(self, x):
        a = x[:, 0].abs()
        return torch.stack([1 - a, a - 1], dim=1)


# ------------------------------------------------------------------ closed forms

def test_distance_from_init_known_shift_module_and_state_dict():
    torch.manual_seed(0)
    init = MLP(4, hidden=(3,), n_classes=2)
    model = copy.deepcopy(init)
    with torch.no_grad():
        model.layers[0].weight.add_(0.5)              # 12 entries moved by 0.5
        model.layers[3].bias.sub_(2.0)                # 2 entries moved by -2
    want = math.sqrt(12 * 0.25 + 2 * 4.0)
    assert distance_from_init(model, init) == pytest.approx(want, rel=1e-6)   # float32 parameters
    assert distance_from_init(model, init.state_dict()) == distance_from_init(model, init)
    assert distance_from_init(init, init) == 0.0
    with pytest.raises(DataError, match="layers.0.weight"):
        distance_from_init(model, MLP(5, hidden=(3,), n_classes=2))
    with pytest.raises(DataError, match="no parameter"):
        distance_from_init(model, {})


def test_norms_of_hand_set_mlp_match_numpy():
    model = MLP(3, hidden=(2,), n_classes=2)
    w1 = np.array([[3.0, 0.0, 4.0], [1.0, 2.0, 0.0]])
    w2 = np.array([[0.5, -1.0], [2.0, 1.0]])
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor(w1))
        model.layers[3].weight.copy_(torch.tensor(w2))
    want = _np_norms([w1, w2])
    got = (log_prod_of_spec(model), log_sum_of_spec(model), log_prod_of_fro(model), log_sum_of_fro(model))
    assert got == pytest.approx(want, rel=1e-10)
    assert log_prod_of_fro(model) == pytest.approx(math.log(30.0) + math.log(6.25), rel=1e-12)


def test_conv_kernels_reshaped_out_by_in_k_k():
    torch.manual_seed(1)
    cnn = SmallCNN(2, 3, channels=(4, 5), image_size=4, global_pool=True)
    mats = [p.detach().double().numpy().reshape(p.shape[0], -1) for p in cnn.parameters() if p.ndim >= 2]
    assert [m.shape for m in mats] == [(4, 18), (5, 36), (3, 5)]
    assert (log_prod_of_spec(cnn), log_sum_of_spec(cnn), log_prod_of_fro(cnn), log_sum_of_fro(cnn)) == \
        pytest.approx(_np_norms(mats), rel=1e-10)


def test_batchnorm_folded_into_the_conv_before_it():
    net = _bn_cnn()
    bn = net[1]
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().double().numpy()
    conv = net[0].weight.detach().double().numpy().reshape(3, -1)
    lin = net[5].weight.detach().double().numpy()
    assert log_prod_of_spec(net) == pytest.approx(_np_norms([conv * scale[:, None], lin])[0], abs=1e-6)
    assert log_prod_of_fro(net, fold_batchnorm=False) == pytest.approx(_np_norms([conv, lin])[2], rel=1e-10)
    with pytest.raises(OptionError, match="fold_batchnorm"):
        log_prod_of_spec(net, fold_batchnorm="yes")


def test_output_margin_of_hand_set_linear_model():
    lin = nn.Linear(2, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        lin.bias.copy_(torch.tensor([0.0, 0.5, 0.0]))
    X = torch.tensor([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [-2.0, -1.0], [0.5, 0.0]])
    y = torch.tensor([0, 1, 0, 2, 1])
    logits = X.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    margins = [logits[i, y[i]] - np.delete(logits[i], int(y[i])).max() for i in range(5)]
    assert output_margin(lin, (X, y)) == pytest.approx(np.quantile(margins, 0.1), rel=1e-6)
    assert output_margin(lin, (X, y), quantile=0.5) == pytest.approx(np.median(margins), rel=1e-6)
    # misclassified inputs make the 10th percentile negative: the margin-normalised norm is then undefined
    assert output_margin(lin, (X, y)) < 0
    assert math.isnan(log_spec_over_margin(lin, (X, y)))
    gamma = output_margin(lin, (X, y), quantile=0.9)
    assert log_spec_over_margin(lin, (X, y), quantile=0.9) == pytest.approx(
        log_prod_of_spec(lin) - 2 * math.log(gamma), rel=1e-9)


def test_margin_with_named_labels_uses_their_sorted_rank():
    X = torch.tensor([[3.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    assert output_margin(nn.Identity(), (X, np.array(["cat", "dog", "cat"])), quantile=0.0) == 1.0


def test_disagreement_with_itself_is_zero_and_with_a_label_flipped_copy_is_one():
    X, _ = _blobs(50, 6, 2)
    torch.manual_seed(0)
    model = MLP(6, hidden=(5,), n_classes=2)
    flipped = copy.deepcopy(model)
    with torch.no_grad():
        flipped.layers[3].weight.neg_()
        flipped.layers[3].bias.neg_()
    assert disagreement(model, model, (X, None)) == 0.0
    assert disagreement(model, copy.deepcopy(model), (X, torch.zeros(50))) == 0.0
    assert disagreement(model, flipped, (X, None)) == 1.0
    # a twin of another seed: some value in between, and baseline_scores uses disagreement_data
    twin = MLP(6, hidden=(5,), n_classes=2)
    d = disagreement(model, twin, (X[:20], None))
    row = baseline_scores(model, (X, torch.arange(50) % 2), twin_model=twin, disagreement_data=(X[:20], None),
                          measures=["disagreement"])
    assert row == {"disagreement": d}


def test_parameter_count():
    assert parameter_count(MLP(4, hidden=(3,), n_classes=2)) == 4 * 3 + 3 + 3 * 2 + 2
    assert parameter_count(SmallCNN(1, 10, channels=(2, 3), image_size=4, global_pool=True)) == \
        (9 * 2 + 2) + (2 * 9 * 3 + 3) + (3 * 10 + 10)
    shared = nn.Linear(3, 3)
    assert parameter_count(nn.Sequential(shared, shared)) == 12


# ------------------------------------------------------------------ Natekar & Sharma

def test_early_dbi_equals_sklearn_on_hand_extracted_features():
    X, y = _blobs(60, 6, 3)
    torch.manual_seed(0)
    mlp = MLP(6, hidden=(8,), n_classes=3)
    with torch.no_grad():
        feats = (X @ mlp.layers[0].weight.T + mlp.layers[0].bias).double().numpy()
    assert early_dbi(mlp, (X, y), chunk_size=100) == pytest.approx(davies_bouldin_score(feats, y.numpy()), rel=1e-6)
    # a CNN: the first convolution's output, max-pooled 4x4 and flattened
    Xi = torch.randn(40, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    yi = torch.arange(40) % 4
    cnn = SmallCNN(1, 4, channels=(3, 4), image_size=8, global_pool=True)
    with torch.no_grad():
        maps = F.max_pool2d(cnn.features[0](Xi), 4, 4).reshape(40, -1).double().numpy()
    assert maps.shape == (40, 12)
    assert early_dbi(cnn, (Xi, yi), chunk_size=40) == pytest.approx(davies_bouldin_score(maps, yi.numpy()), rel=1e-6)
    # several chunks: the mean of per-chunk DBIs, each computed by sklearn
    perm = np.random.default_rng(7).permutation(60)[:40]
    per = [davies_bouldin_score(feats[perm[i:i + 20]], y.numpy()[perm[i:i + 20]]) for i in (0, 20)]
    assert early_dbi(mlp, (X, y), chunk_size=20, n_chunks=2, seed=7) == pytest.approx(np.mean(per), rel=1e-6)


def test_early_dbi_layer_option_and_nan_for_recurrent_models():
    X, y = _blobs(30, 6, 3)
    mlp = MLP(6, hidden=(8, 4), n_classes=3)
    with torch.no_grad():
        h = mlp.layers[3](mlp.layers[1](mlp.layers[0](X))).double().numpy()
    assert early_dbi(mlp, (X, y), layer="layers.3") == pytest.approx(davies_bouldin_score(h, y.numpy()), rel=1e-6)
    rnn = RecurrentClassifier(5, 2, cell="gru", hidden_size=4)
    tokens = torch.randint(0, 5, (20, 4), generator=torch.Generator().manual_seed(0))
    assert math.isnan(early_dbi(rnn, (tokens, torch.arange(20) % 2)))
    with pytest.raises(DataError, match="no labels"):
        early_dbi(mlp, (X, None))


def test_label_wise_mixup_closed_form():
    X = torch.tensor([[-2.0], [2.0], [-0.5], [0.5]])
    y = torch.tensor([1, 1, 0, 0])
    # the only class-1 pair mixes to 0 (predicted 0: wrong), the class-0 pair to 0 (right)
    assert mixup_accuracy(_AbsModel(), (X, y)) == 0.5
    assert mixup_loss(_AbsModel(), (X, y)) == pytest.approx(math.log(math.e + 1 / math.e), rel=1e-12)
    # lam = 1 mixes nothing: the pairs' first members, all right but the class-1 pair's first (|x| = 2 > 1: right)
    assert mixup_accuracy(_AbsModel(), (X, y), lam=1.0) == 1.0
    assert math.isnan(mixup_accuracy(_AbsModel(), (X[:3], torch.tensor([1, 0, 2]))))   # no class with a pair


def test_natekar_sharma_is_dbi_times_one_minus_mixup_accuracy():
    X, y = _blobs(90, 6, 3)
    torch.manual_seed(0)
    mlp = MLP(6, hidden=(8,), n_classes=3)
    want = early_dbi(mlp, (X, y), seed=5) * (1 - mixup_accuracy(mlp, (X, y), seed=5))
    assert natekar_sharma(mlp, (X, y), seed=5) == pytest.approx(want, rel=1e-12)
    assert baseline_scores(mlp, (X, y), measures=["natekar_sharma"], seed=5)["natekar_sharma"] == \
        pytest.approx(want, rel=1e-12)


# ------------------------------------------------------------------ sharpness

def test_pacbayes_flatness_is_seeded_and_closed_form_without_parameters():
    X, y = _blobs(40, 2, 2)
    torch.manual_seed(0)
    mlp = MLP(2, hidden=(4,), n_classes=2)
    a = pacbayes_flatness(mlp, (X, y), n_steps=4, n_draws=2, seed=3)
    assert a == pacbayes_flatness(mlp, (X, y), n_steps=4, n_draws=2, seed=3)
    # nothing to perturb: the deviation stays 0, bisection climbs 1, 1.5, 1.75 towards sigma_max = 2
    assert pacbayes_flatness(nn.Identity(), (X, y), n_steps=3) == pytest.approx(1 / 1.75 ** 2)
    with pytest.raises(OptionError, match="target_deviation"):
        pacbayes_flatness(mlp, (X, y), target_deviation=0.0)


def test_pacbayes_flatness_ranks_a_rescaled_sharp_model_above_a_flat_one():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 2, generator=g)
    y = (X[:, 1] > X[:, 0]).long()
    sharp, flat = nn.Linear(2, 2), nn.Linear(2, 2)
    with torch.no_grad():
        for lin, s in ((sharp, 0.05), (flat, 5.0)):
            lin.weight.copy_(s * torch.eye(2))
            lin.bias.zero_()
    opts = {"n_steps": 8, "n_draws": 3, "seed": 0}
    assert pacbayes_flatness(sharp, (X, y), **opts) > 10 * pacbayes_flatness(flat, (X, y), **opts)


# ------------------------------------------------------------------ the model is left as it was

def _snapshot(model):
    return ({k: v.detach().clone() for k, v in model.state_dict().items()},
            [m.training for m in model.modules()], [p.requires_grad for p in model.parameters()])


def _hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


@pytest.mark.parametrize("name", list(BASELINES))
def test_model_unchanged_after_every_measure(name):
    if "weightwatcher" in BASELINES[name].needs and not HAS_WW:
        pytest.skip(WW_REASON)
    net = _bn_cnn()
    net.train()
    net[5].eval()                                # a submodule in its own mode
    net[0].bias.requires_grad_(False)
    init, twin = copy.deepcopy(net), _bn_cnn()
    X = torch.randn(24, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    y = torch.arange(24) % 3
    before = _snapshot(net)
    row = baseline_scores(net, (X, y), init_model=init, twin_model=twin, measures=[name])
    assert set(row) == {name}
    state, modes, grads = _snapshot(net)
    assert all(torch.equal(before[0][k], v) for k, v in state.items())   # bitwise, buffers included
    assert modes == before[1] and grads == before[2]
    assert _hooks(net) == 0 and all(p.grad is None for p in net.parameters())


def test_baseline_scores_row_matches_the_functions_and_reports_none():
    X, y = _blobs(60, 6, 3)
    torch.manual_seed(0)
    mlp, init = MLP(6, hidden=(8,), n_classes=3), MLP(6, hidden=(8,), n_classes=3)
    names = [n for n in BASELINES if "weightwatcher" not in BASELINES[n].needs]
    row = baseline_scores(mlp, (X, y), init_model=init, measures=names, seed=4)
    assert list(row) == names
    assert row["disagreement"] is None
    assert row["early_dbi"] == pytest.approx(early_dbi(mlp, (X, y), seed=4), rel=1e-12)
    assert row["mixup_loss"] == pytest.approx(mixup_loss(mlp, (X, y), seed=4), rel=1e-12)
    assert row["pacbayes_flatness"] == pacbayes_flatness(mlp, (X, y), seed=4)
    assert row["distance_from_init"] == pytest.approx(distance_from_init(mlp, init))
    assert row["log_sum_of_fro"] == pytest.approx(log_sum_of_fro(mlp))
    assert row["output_margin"] == pytest.approx(output_margin(mlp, (X, y)))
    assert row["parameter_count"] == parameter_count(mlp)
    assert baseline_scores(mlp, (X, y), measures=["distance_from_init"]) == {"distance_from_init": None}
    with pytest.raises(OptionError, match="unknown measure 'sharpness'"):
        baseline_scores(mlp, (X, y), measures=["sharpness"])
    with pytest.raises(OptionError, match="torch.nn.Module"):
        baseline_scores("model", (X, y))
    assert {b.sign for b in BASELINES.values()} == {-1, 1}


def test_recurrent_classifier_norms_apply_representation_measures_are_nan():
    torch.manual_seed(0)
    rnn, twin = RecurrentClassifier(5, 2, cell="lstm", hidden_size=4), RecurrentClassifier(5, 2, cell="lstm",
                                                                                            hidden_size=4)
    init = copy.deepcopy(rnn)
    tokens = torch.randint(0, 5, (30, 5), generator=torch.Generator().manual_seed(1))
    names = [n for n in BASELINES if "weightwatcher" not in BASELINES[n].needs]
    row = baseline_scores(rnn, (tokens, torch.arange(30) % 2), init_model=init, twin_model=twin, measures=names)
    for name in ("natekar_sharma", "early_dbi", "mixup_accuracy", "mixup_loss"):
        assert math.isnan(row[name]), name
    for name in ("distance_from_init", "log_prod_of_spec", "log_sum_of_spec", "log_prod_of_fro", "log_sum_of_fro",
                 "pacbayes_flatness", "output_margin", "parameter_count", "disagreement"):
        assert math.isfinite(row[name]), name
    # embedding (5, 8), LSTM weight_ih (16, 8) and weight_hh (16, 4), readout (2, 4)
    mats = [p.detach().double().numpy() for p in rnn.parameters() if p.ndim == 2]
    assert [m.shape for m in mats] == [(5, 8), (16, 8), (16, 4), (2, 4)]
    assert row["log_prod_of_fro"] == pytest.approx(_np_norms(mats)[2], rel=1e-10)


# ------------------------------------------------------------------ WeightWatcher (optional)

def test_weightwatcher_missing_raises_import_error_naming_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "weightwatcher", None)
    mlp = MLP(4, hidden=(3,), n_classes=2)
    with pytest.raises(ImportError, match="pip install weightwatcher"):
        ww_alpha(mlp)
    with pytest.raises(ImportError, match="pip install weightwatcher"):
        baseline_scores(mlp, (torch.randn(6, 4), torch.arange(6) % 2), measures=["ww_alpha_weighted"])
    row = baseline_scores(mlp, (torch.randn(6, 4), torch.arange(6) % 2))
    assert math.isnan(row["ww_alpha"]) and math.isnan(row["ww_alpha_weighted"])


@pytest.mark.skipif(not HAS_WW, reason=WW_REASON)
def test_weightwatcher_alpha_is_the_layer_mean_of_analyze():
    import logging
    import warnings

    torch.manual_seed(0)
    mlp = MLP(64, hidden=(64, 32), n_classes=10)
    filters, root = list(warnings.filters), logging.getLogger().handlers[:]
    alpha, weighted = ww_alpha(mlp), ww_alpha_weighted(mlp)
    assert list(warnings.filters) == filters and logging.getLogger().handlers == root   # no global side effects
    import weightwatcher  # imported (quietly) by ww_alpha already

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        details = weightwatcher.WeightWatcher(model=mlp).analyze()
    ok = details["alpha"] > 0
    assert alpha == pytest.approx(details["alpha"][ok].mean(), rel=1e-9)
    assert weighted == pytest.approx(details["alpha_weighted"][ok].mean(), rel=1e-9)
