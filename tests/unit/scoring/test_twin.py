"""Tests for the untrained twin (neurograph.scoring.twin) and the baseline= option of score_model / analyze."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from neurograph.errors import DataError, FileFormatError, ModelError, OptionError
from neurograph.scoring.pipeline import analyze, baseline_table, write_analysis
from neurograph.scoring.scores import ModelScores, score_model, score_stats, with_baseline
from neurograph.scoring.twin import (baseline_key, baseline_values, resolve_baseline, untrained_table, untrained_twin,
                                     untrained_verdicts)
from neurograph.recording.recorder import record
from neurograph.stats import CoactivationStats


def _net(seed: int = 5) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 3))


def _data(n: int = 160):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 4, generator=g)
    return X, (X[:, 0] > 0).long() + (X[:, 1] > 0.5).long()


def _trained() -> nn.Module:
    net = _net()
    X, y = _data()
    opt = torch.optim.Adam(net.parameters(), lr=0.03)
    for _ in range(40):
        opt.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        opt.step()
    return net


def _same(a, b) -> bool:
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


class _NoReset(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(10))

    def forward(self, x):
        return x * self.scale


# ---------------------------------------------------------------------- the twin itself


def test_twin_is_reset_parameters_under_the_seed_and_leaves_the_model_and_rng_alone():
    net = _trained()
    net.train()
    before = copy.deepcopy(net.state_dict())
    rng = torch.get_rng_state()
    twin = untrained_twin(net, seed=3)
    # the caller's model and the global random state are untouched
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
    assert net.training and twin.training
    # brute force: a copy, the seed, every parametrised module's reset_parameters in module order
    ref = copy.deepcopy(net)
    torch.manual_seed(3)
    for m in ref.modules():
        if list(m.parameters(recurse=False)):
            m.reset_parameters()
    assert all(torch.equal(v, ref.state_dict()[k]) for k, v in twin.state_dict().items())
    assert not torch.equal(twin[0].weight, net[0].weight)
    assert torch.equal(untrained_twin(net, seed=3)[2].weight, twin[2].weight)
    assert not torch.equal(untrained_twin(net, seed=4)[2].weight, twin[2].weight)


def test_twin_refuses_a_parametrised_module_without_reset_parameters_and_names_it():
    net = nn.Sequential(nn.Linear(4, 10), _NoReset(), nn.ReLU(), nn.Linear(10, 3))
    calls = []
    net.register_forward_hook(lambda *a: calls.append(1))
    with pytest.raises(ModelError, match=r"submodule '1' \(_NoReset\).*reset_parameters"):
        score_model(net, _data(), "2", n_null=0, baseline="untrained")
    assert calls == []  # refused before anything ran
    with pytest.raises(ModelError, match=r"the model itself \(_NoReset\)"):
        untrained_twin(_NoReset())


def test_twin_resets_batchnorm_statistics_and_uses_private_reset_of_attention():
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6))
    net.train()
    net(torch.randn(32, 4))  # running statistics move away from (0, 1)
    twin = untrained_twin(net)
    assert torch.equal(twin[1].running_mean, torch.zeros(6)) and not torch.equal(net[1].running_mean, torch.zeros(6))
    mha = nn.MultiheadAttention(8, 2)
    with torch.no_grad():
        mha.in_proj_weight.fill_(1.0)
    assert not torch.equal(untrained_twin(mha).in_proj_weight, mha.in_proj_weight)


def test_resolve_baseline_checks_architecture_and_type(tmp_path):
    net = _net()
    with pytest.raises(ModelError, match=r"parameter '2.weight' has shape \(9, 10\), the model's \(8, 10\)"):
        resolve_baseline(net, nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 9), nn.ReLU(), nn.Linear(9, 3)))
    with pytest.raises(ModelError, match=r"submodule '1' is a Tanh, the model's '1' a ReLU"):
        resolve_baseline(net, nn.Sequential(nn.Linear(4, 10), nn.Tanh(), nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 3)))
    with pytest.raises(ModelError, match="'5' .* only one of them"):
        resolve_baseline(net, nn.Sequential(*net, nn.ReLU()))
    with pytest.raises(OptionError, match="baseline must be"):
        resolve_baseline(net, 3)
    with pytest.raises(FileFormatError, match="missing.pt"):
        resolve_baseline(net, tmp_path / "missing.pt")
    torch.save(nn.Linear(4, 3).state_dict(), tmp_path / "other.pt")
    with pytest.raises(ModelError, match="other.pt"):
        resolve_baseline(net, tmp_path / "other.pt")


def test_a_baseline_module_of_another_architecture_is_refused_before_recording():
    net = _trained()
    calls = []
    net.register_forward_hook(lambda *a: calls.append(1))
    with pytest.raises(ModelError, match="architecture"):
        score_model(net, _data(), "3", n_null=0, baseline=nn.Sequential(nn.Linear(4, 3)))
    assert calls == []


# ---------------------------------------------------------------------- scores against the twin


def test_baseline_scores_equal_scoring_the_twin_directly_and_deltas_are_differences():
    net, data = _trained(), _data()
    opts = dict(n_null=3, seed=2)
    s = score_model(net, data, ["1", "3"], baseline="untrained", **opts)
    alone = score_model(net, data, ["1", "3"], **opts)
    twin = score_model(untrained_twin(net, seed=2), data, ["1", "3"], **opts)
    assert isinstance(s.baseline, ModelScores)
    for key, value in alone.values.items():
        assert _same(s.values[key], value), key  # the trained scores are unchanged by the baseline
        if key in ("n_params", "n_neurons"):  # equal by construction
            assert baseline_key(key, "untrained") not in s.values
            continue
        assert _same(s.values[baseline_key(key, "untrained")], twin.values[key]), key
        delta = s.values[baseline_key(key, "delta")]
        if math.isnan(value) or math.isnan(twin.values[key]):
            assert math.isnan(delta)
        else:
            assert delta == pytest.approx(value - twin.values[key], abs=1e-12), key
    assert {"modularity_z_untrained", "modularity_z_delta", "mean_entropy_delta", "modularity_untrained@1",
            "test_accuracy_untrained"} <= set(s.keys())
    assert s.values["test_accuracy"] > s.values["test_accuracy_untrained"]


def test_baseline_as_module_and_as_checkpoint_path_give_the_same_row(tmp_path):
    init = _net()
    torch.save(init.state_dict(), tmp_path / "epoch0.pt")
    net, data = _trained(), _data()
    a = score_model(net, data, "3", n_null=0, baseline=init)
    b = score_model(net, data, "3", n_null=0, baseline=tmp_path / "epoch0.pt")
    direct = score_model(init, data, "3", n_null=0)
    assert a.values.keys() == b.values.keys()
    assert all(_same(a.values[k], b.values[k]) for k in a.values)
    assert a.values["modularity_untrained"] == direct.values["modularity"]


def test_with_baseline_matches_score_stats_baseline_and_does_not_stack():
    net, data = _trained(), _data()
    stats = record(net, data, "3", patterns=True)
    twin_stats = record(untrained_twin(net), data, "3", patterns=True)
    s = score_stats(stats, n_null=2, baseline=twin_stats)
    again = with_baseline(s, score_stats(twin_stats, n_null=2))  # no "_untrained_untrained" keys
    assert s.values.keys() == again.values.keys()
    assert not any("untrained_untrained" in k or "delta_delta" in k for k in again.values)
    assert s.analysis.baseline is s.baseline.analysis
    with pytest.raises(DataError, match="CoactivationStats"):
        score_stats(stats, baseline=net)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["modularity", "modularity_z", "n_params", "n_neurons", "q@a"]),
                       st.one_of(st.floats(-1e6, 1e6, width=32), st.just(float("nan")), st.integers(-5, 5)),
                       min_size=1),
       st.floats(-3, 3))
def test_baseline_values_are_differences_and_skip_what_is_equal_by_construction(untrained, shift):
    trained = {k: (v + shift if not math.isnan(v) else v) for k, v in untrained.items()}
    out = baseline_values(trained, untrained)
    for key, value in untrained.items():
        if key in ("n_params", "n_neurons"):
            assert baseline_key(key, "untrained") not in out
            continue
        assert _same(out[baseline_key(key, "untrained")], value)
        d = out[baseline_key(key, "delta")]
        assert math.isnan(d) if math.isnan(value) else d == trained[key] - value


# ---------------------------------------------------------------------- analyze / write_analysis


def test_analyze_baseline_summary_and_files(tmp_path):
    net, data = _trained(), _data()
    stats = record(net, data, ["1", "3"])
    twin_stats = record(untrained_twin(net), data, ["1", "3"])
    a = analyze(stats, n_null=2, baseline=twin_stats)
    own, twin = analyze(stats, n_null=2).summary(), analyze(twin_stats, n_null=2).summary()
    row = a.summary()
    for k, v in twin.items():
        if k in ("n_samples", "n_neurons"):
            assert f"{k}_untrained" not in row
            continue
        assert _same(row[f"{k}_untrained"], v) and _same(row[k], own[k])
    paths = write_analysis(a, tmp_path, name="m")
    written = pd.read_csv(paths["untrained"]).set_index("score")
    assert written.loc["modularity_z", "untrained"] == pytest.approx(twin["modularity_z"])
    assert written.loc["modularity_z", "trained"] == pytest.approx(own["modularity_z"])
    assert written.loc["mean_entropy", "delta"] == pytest.approx(own["mean_entropy"] - twin["mean_entropy"])
    assert list(baseline_table(a).columns) == ["score", "trained", "untrained", "delta"]
    # no baseline: no file, and the summary has no twin keys
    plain = write_analysis(analyze(stats, n_null=0), tmp_path / "plain", name="m")
    assert "untrained" not in plain and not (tmp_path / "plain" / "m_untrained.csv").exists()


def test_analyze_refuses_a_baseline_over_other_neurons():
    rng = np.random.default_rng(0)
    stats = CoactivationStats.from_binary(rng.random((100, 6)) < 0.4, layer="a")
    with pytest.raises(DataError, match="layer 'a' has 7 neurons, the model's 'a' 6"):
        analyze(stats, n_null=0, baseline=CoactivationStats.from_binary(rng.random((100, 7)) < 0.4, layer="a"))
    with pytest.raises(DataError, match="baseline must be"):
        analyze(stats, n_null=0, baseline="untrained")


# ---------------------------------------------------------------------- the report's table


def test_untrained_table_and_verdicts():
    t = pd.DataFrame({"run": ["a", "b", "c", "a"], "epoch": [3, 3, 3, 0], "modularity_z": [40.0, 30.0, 5.0, 20.0],
                      "modularity_z_untrained": [20.0, 35.0, float("nan"), 20.0], "modularity": [0.4, 0.3, 0.2, 0.1]})
    side = untrained_table(t)
    assert side["run"].tolist() == ["a", "b"]  # rows without a twin value, and the epoch-0 networks, are left out
    assert side["modularity_z_delta"].tolist() == [20.0, -5.0]
    assert "modularity_untrained" not in side  # only scores that have a twin column
    assert untrained_verdicts(t) == ["modularity_z: median 35 trained against 27.5 for the untrained twin on the "
                                     "same data; 1 of 2 models from 2 runs above their twin."]
    assert untrained_table(t.drop(columns="modularity_z_untrained")).empty


@pytest.mark.hf
def test_hugging_face_models_are_redrawn_by_their_own_init_weights():
    transformers = pytest.importorskip("transformers", reason="Hugging Face transformers is not installed")
    config = transformers.ViTConfig(image_size=8, patch_size=4, num_channels=1, hidden_size=16, num_hidden_layers=1,
                                    num_attention_heads=2, intermediate_size=32, num_labels=3)
    model = transformers.ViTForImageClassification(config)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.5)
    before = copy.deepcopy(model.state_dict())
    twin = untrained_twin(model, seed=1)  # ViTEmbeddings holds parameters without reset_parameters
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    q = next(m for m in twin.modules() if isinstance(m, nn.Linear)).weight  # the first projection
    assert abs(float(q.std()) - config.initializer_range) < 0.01  # its own scheme, not PyTorch's default
    assert float(twin.vit.embeddings.cls_token.abs().max()) < 0.5
    assert torch.equal(untrained_twin(model, seed=1).vit.embeddings.cls_token, twin.vit.embeddings.cls_token)
