"""Model zoo: config parsing, determinism, checkpoints, scores, timeline."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

from neurograph.zoo.checkpoints import ConfigError, load_checkpoint
from neurograph.datasets import make_blobs_task
from neurograph.models import MLP
from neurograph.zoo.training import accuracy
from neurograph.zoo.runs import RunSpec, load_zoo_config, noisy_labels, parse_zoo_config, run_zoo, train_run

TINY = """
name = "tiny <zoo>"
data_seed = 1
[score]
n_null = 2
[blobs]
n_samples = 160
n_features = 6
n_classes = 3
[[family]]
task = "blobs"
hidden = [[6], [8, 4]]
label_noise = [0.0, 0.5]
epochs = 3
checkpoints = [1]
lr = 0.01
"""


def test_families_expand_to_every_combination():
    cfg = parse_zoo_config({"family": [
        {"task": "digits", "hidden": [[16], [32, 16]], "dropout": [0.0, 0.5], "label_noise": [0, 0.2],
         "seeds": [0, 1], "epochs": 4, "checkpoints": [0, 2]},
        {"task": "digits", "arch": "cnn", "hidden": [4, 8], "epochs": 2}]})
    assert len(cfg.runs) == 2 * 2 * 2 * 2 + 1
    assert len({r.name for r in cfg.runs}) == len(cfg.runs)
    assert {r.checkpoints for r in cfg.runs} == {(0, 2, 4), (2,)}
    cnn = cfg.runs[-1]
    assert cnn.arch == "cnn" and cnn.hidden == (4, 8)


@pytest.mark.parametrize("raw, match", [
    ({}, "empty"),
    ({"family": [{"task": "mnist"}]}, "task must be"),
    ({"family": [{"task": "blobs", "arch": "cnn"}]}, "needs image inputs"),
    ({"family": [{"arch": "cnn", "dropout": 0.5}]}, "no dropout"),
    ({"family": [{"hidden": [[0]]}]}, "hidden"),
    ({"family": [{"dropout": 1.5}]}, "dropout"),
    ({"family": [{"epochs": 3, "checkpoints": [5]}]}, "beyond epochs"),
    ({"family": [{"colour": "red"}]}, "unknown key"),
    ({"family": [{}, {}]}, "defined twice"),
    ({"family": [{}], "score": {"n_null": 1}}, "n_null"),
    ({"family": [{}], "score": {"method": "magic"}}, "method must be"),
    ({"family": [{}], "score": {"per_layer": "yes"}}, "per_layer"),
    ({"family": [{}], "timeline": "nope"}, "timeline run"),
    ({"family": [{}], "extra": 1}, "unknown key"),
])
def test_bad_configs_name_the_problem(raw, match):
    with pytest.raises(ConfigError, match=match):
        parse_zoo_config(raw)


def test_config_files(tmp_path):
    (tmp_path / "ok.toml").write_text(TINY)
    cfg = load_zoo_config(tmp_path / "ok.toml")
    assert cfg.name == "tiny <zoo>" and len(cfg.runs) == 4 and cfg.base_dir == tmp_path
    (tmp_path / "bad.toml").write_text("[[family]\n")
    with pytest.raises(ConfigError, match="bad.toml.*TOML"):
        load_zoo_config(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="missing.toml"):
        load_zoo_config(tmp_path / "missing.toml")


def test_noisy_labels_flip_exactly_the_asked_fraction():
    y = torch.arange(100) % 4
    z = noisy_labels(y, 4, 0.3, seed=3)
    assert int((z != y).sum()) == 30 and int(z.min()) >= 0 and int(z.max()) <= 3
    assert torch.equal(z, noisy_labels(y, 4, 0.3, seed=3))
    assert not torch.equal(z, noisy_labels(y, 4, 0.3, seed=4))
    assert torch.equal(noisy_labels(y, 4, 0.0, seed=3), y)


def test_training_is_deterministic_per_seed_and_checkpoints_reload(tmp_path):
    data = make_blobs_task(n_samples=120, n_features=5, n_classes=3, seed=0)
    spec = RunSpec("r", "blobs", "mlp", (8,), 0.2, 0.1, 7, 3, (0, 1, 3), lr=0.01)
    for sub in ("a", "b", "c"):
        (tmp_path / sub).mkdir()
    a = train_run(spec, data, tmp_path / "a")
    b = train_run(spec, data, tmp_path / "b")
    assert [e for e, _ in a] == [0, 1, 3]
    for (_, pa), (_, pb) in zip(a, b):
        sa, sb = torch.load(pa, weights_only=True), torch.load(pb, weights_only=True)
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    s0, s3 = torch.load(a[0][1], weights_only=True), torch.load(a[2][1], weights_only=True)
    assert not torch.equal(s0["layers.0.weight"], s3["layers.0.weight"])
    other = train_run(RunSpec("r", "blobs", "mlp", (8,), 0.2, 0.1, 8, 3, (3,), lr=0.01), data, tmp_path / "c")
    assert not torch.equal(torch.load(other[0][1], weights_only=True)["layers.0.weight"], s3["layers.0.weight"])


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory):
    out = tmp_path_factory.mktemp("zoo")
    (out / "tiny.toml").write_text(TINY)
    return out, run_zoo(load_zoo_config(out / "tiny.toml"), out)


def test_run_zoo_scores_every_checkpoint(tiny_zoo):
    out, res = tiny_zoo
    table = pd.read_csv(out / "scores.csv")
    assert len(table) == 8 and table["run"].nunique() == 4
    assert sorted(table["epoch"].unique()) == [1, 3] and table["final"].sum() == 4
    data = make_blobs_task(n_samples=160, n_features=6, n_classes=3, seed=1)
    for _, row in table.iterrows():
        model = MLP(6, hidden=tuple(int(h) for h in str(row["hidden"]).split("x")), n_classes=3)
        load_checkpoint(model, out / row["checkpoint"])
        assert row["test_accuracy"] == pytest.approx(accuracy(model, data.X_test, data.y_test))
        assert row["n_params"] == sum(p.numel() for p in model.parameters())
    assert {"modularity", "modularity_z", "mean_entropy", "mean_mutual_info", "pattern_entropy",
            "dead_fraction"} <= set(table.columns)
    neurons = pd.read_csv(out / "neurons.csv")
    assert len(neurons) == 2 * (6 + 6 + 12 + 12)


def test_run_zoo_writes_a_timeline_matching_the_scores(tiny_zoo):
    out, res = tiny_zoo
    G = nx.read_gexf(out / "timeline.gexf")
    run = _timeline_name(out / "timeline.gexf")
    assert run in set(res.table["run"])
    neurons = res.neurons[res.neurons["run"] == run]
    for epoch in (1, 3):
        at = neurons[(neurons["epoch"] == epoch) & (neurons["community"] >= 0)]
        for _, r in at.iterrows():
            values = G.nodes[f"{r['layer']}:{r['unit']}"]["snapshot_community"]
            assert [v for v, a, b in values if a <= epoch <= b] == [r["community"]]
    assert (out / "timeline" / f"{run}_coactivation.png").stat().st_size > 0


def test_zoo_trains_and_scores_gated_networks(tmp_path):
    from neurograph.models.gated import gated_model

    cfg = parse_zoo_config({"data_seed": 1, "blobs": {"n_samples": 160, "n_features": 6, "n_classes": 3},
                            "score": {"n_null": 2},
                            "family": [{"task": "blobs", "arch": arch, "hidden": [[8, 8]], "epochs": 2}
                                       for arch in ("dnn", "dgn", "dlgn")]})
    res = run_zoo(cfg, tmp_path)
    table = res.table
    assert table["arch"].tolist() == ["dnn", "dgn", "dlgn"]
    data = make_blobs_task(n_samples=160, n_features=6, n_classes=3, seed=1)
    for _, row in table.iterrows():
        model = load_checkpoint(gated_model(row["arch"], in_features=6, hidden=(8, 8), n_classes=3),
                                tmp_path / row["checkpoint"])
        assert row["test_accuracy"] == pytest.approx(accuracy(model, data.X_test, data.y_test))
        assert np.isfinite(row["mean_entropy"]) and "mean_entropy@gates.1" in table.columns
    with pytest.raises(ConfigError, match="no dropout"):
        parse_zoo_config({"family": [{"arch": "dlgn", "dropout": 0.5}]})


def test_run_zoo_returns_typed_results_per_run(tiny_zoo):
    from neurograph.zoo.results import RunResult, ZooResult

    out, res = tiny_zoo
    assert isinstance(res, ZooResult) and len(res.runs) == 4
    assert all(isinstance(r, RunResult) for r in res.runs)
    assert [r.name for r in res.runs] == list(dict.fromkeys(res.table["run"]))
    stacked = pd.concat([r.table for r in res.runs], ignore_index=True)
    pd.testing.assert_frame_equal(stacked, res.table, check_dtype=False)
    assert sum(len(r.neurons) for r in res.runs) == len(res.neurons)
    # only the timeline run keeps its analyses, one per checkpoint
    kept = [r for r in res.runs if r.snapshots]
    assert [r.name for r in kept] == [_timeline_name(out / "timeline.gexf")]
    assert [e for e, _ in kept[0].snapshots] == [1, 3]
    assert set(res.paths) == {"scores", "neurons", "checkpoints", "timeline_gexf", "timeline_files"}


def test_run_zoo_on_a_process_pool_equals_in_process(tiny_zoo, tmp_path):
    from neurograph.zoo.executors import Executor

    out, res = tiny_zoo
    (tmp_path / "tiny.toml").write_text(TINY)
    pooled = run_zoo(load_zoo_config(tmp_path / "tiny.toml"), tmp_path, executor=Executor("process", workers=2))
    a = pd.read_csv(out / "scores.csv").drop(columns=["checkpoint"], errors="ignore")
    b = pd.read_csv(tmp_path / "scores.csv").drop(columns=["checkpoint"], errors="ignore")
    pd.testing.assert_frame_equal(a, b)
    assert len(pooled.table) == len(res.table)


def _timeline_name(path):
    """The run name, which the GEXF file keeps in <meta><description> (the schema has no graph name)."""
    import xml.etree.ElementTree as ET

    return ET.parse(path).getroot().findtext("{http://gexf.net/1.3}meta/{http://gexf.net/1.3}description")
