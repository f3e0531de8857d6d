"""score_stats / score_model: one row of scores, checked against the stages they are built on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from neurograph.scoring.entropy import layer_entropy, neuron_entropy
from neurograph.errors import ModelError
from neurograph.scoring.pipeline import analyze
from neurograph.scoring.scores import LABEL_FREE_SCORES, SCORE_DEFINITIONS, score_model, score_stats
from neurograph.stats import CoactivationStats


def _two_layer_stats(seed=0, n=300):
    """Layer a: two planted groups of co-firing neurons; layer b: independent neurons and one dead."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base = np.where(y[:, None] == 1, 0.8, 0.1)
    a = np.hstack([rng.random((n, 4)) < base, rng.random((n, 4)) < 0.9 - base])
    b = np.hstack([rng.random((n, 3)) < 0.5, np.zeros((n, 1), bool)])
    neurons = pd.DataFrame({"layer": ["a"] * 8 + ["b"] * 4, "unit": [*range(8), *range(4)]})
    return CoactivationStats.from_binary(np.hstack([a, b]), y, neurons=neurons)


def test_score_stats_matches_analyze_and_entropy_tables():
    stats = _two_layer_stats()
    s = score_stats(stats, test_accuracy=0.75, n_null=3, seed=2)
    a = analyze(stats, n_null=3, seed=2)
    summ = a.summary()
    assert s["test_accuracy"] == 0.75
    assert s["modularity"] == pytest.approx(summ["modularity"])
    assert s["modularity_z"] == pytest.approx(summ["modularity_z"])
    assert s["n_communities"] == a.partition.n_communities
    ent = neuron_entropy(stats)
    assert s["mean_entropy"] == pytest.approx(ent["entropy"].mean())
    assert s["mean_mutual_info"] == pytest.approx(ent["mutual_info"].mean())
    assert s["dead_fraction"] == pytest.approx(1 / 12)
    assert np.isnan(s["pattern_entropy"])  # patterns were not recorded
    # per layer: the same scores on that layer alone
    la = analyze(stats.select("a"), n_null=3, seed=2)
    assert s["modularity@a"] == pytest.approx(la.partition.modularity)
    assert s["dead_fraction@b"] == pytest.approx(0.25) and s["dead_fraction@a"] == 0.0
    le = layer_entropy(stats).set_index("layer")
    assert s["mean_entropy@b"] == pytest.approx(le.loc["b", "mean_entropy"])
    assert list(s.layers["layer"]) == ["a", "b"]
    # the planted groups are found in layer a
    assert s["n_communities@a"] == 2 and s["modularity@a"] > 0.3


def test_score_stats_without_nulls_and_single_layer():
    stats = _two_layer_stats().select("a")
    s = score_stats(stats, n_null=0)
    assert np.isnan(s["test_accuracy"]) and np.isnan(s["modularity_z"])
    assert s["modularity@a"] == s["modularity"]
    assert set(SCORE_DEFINITIONS) >= set(LABEL_FREE_SCORES)


def _hand_model():
    """Hidden unit k = relu(x_k) for k = 0, 1; unit 2 = relu(-x_0 - x_1); unit 3 is dead (bias -100).
    Logits: class 0 <- unit 0, class 1 <- unit 1, so the prediction is argmax(x_0, x_1) when positive."""
    lin1 = nn.Linear(2, 4)
    lin2 = nn.Linear(4, 2)
    with torch.no_grad():
        lin1.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [-1, -1], [0, 0]]))
        lin1.bias.copy_(torch.tensor([0.0, 0, 0, -100]))
        lin2.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0]]))
        lin2.bias.zero_()
    return nn.Sequential(lin1, nn.ReLU(), lin2)


def test_score_model_accuracy_dead_fraction_and_params_are_exact():
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(200, 2, generator=gen) + 0.01       # positive inputs: units 0, 1 fire, unit 2 never
    y = torch.randint(0, 2, (200,), generator=gen)
    model = _hand_model()
    s = score_model(model, (X, y), "1", n_null=0, batch_size=64)
    want = float((X.argmax(1) == y).float().mean())
    assert s["test_accuracy"] == pytest.approx(want)
    assert s["n_params"] == 4 * 2 + 4 + 2 * 4 + 2
    assert s["dead_fraction"] == pytest.approx(2 / 4)     # unit 2 (inputs positive) and unit 3
    assert s["always_on_fraction"] == pytest.approx(2 / 4)
    assert s["mean_entropy"] == 0.0 and s["n_edges"] == 0 and np.isnan(s["modularity"])


def test_score_model_unlabelled_iterators_and_modes():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 2))
    model.train()
    X = torch.randn(120, 3)
    y = (X[:, 0] > 0).long()
    full = score_model(model, (X, y), "1", n_null=0)
    assert model.training and all(m.training for m in model.modules())
    one_shot = score_model(model, ((X[i:i + 50], y[i:i + 50]) for i in range(0, 120, 50)), "1", n_null=0)
    for key in ("test_accuracy", "modularity", "mean_entropy", "mean_mutual_info", "pattern_entropy"):
        assert one_shot[key] == pytest.approx(full[key], nan_ok=True), key
    unlabelled = score_model(model, (X, None), "1", n_null=0)
    assert np.isnan(unlabelled["test_accuracy"]) and np.isnan(unlabelled["mean_mutual_info"])
    assert unlabelled["mean_entropy"] == pytest.approx(full["mean_entropy"])
    assert unlabelled["pattern_entropy"] > 0


def test_score_model_names_a_model_without_logits():
    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 3)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.lin(x)).sum(1)     # (B,), not logits

    X, y = torch.randn(20, 2), torch.zeros(20, dtype=torch.long)
    with pytest.raises(ModelError, match="logits"):
        score_model(Flat(), (X, y), "act", n_null=0)
