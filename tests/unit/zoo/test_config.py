"""The zoo configuration: one typed schema, one parser, faults as ConfigError naming the file and the key."""

from __future__ import annotations

import dataclasses

import pytest

from neurograph.errors import ConfigError, OptionError
from neurograph.zoo.config import (BlobsTask, CustomSpec, FamilySpec, FiringRule, RunSpec, ScoreSettings, ZooConfig,
                                   expand_family, load_zoo_config, parse_zoo_config, timeline_run)

TOML = """
name = "typed"
data_seed = 3
[score]
n_null = 0
method = "multilevel"
per_layer = false
[blobs]
n_samples = 120
test_fraction = 0.5
[[family]]
task = "blobs"
hidden = [[4], [6, 3]]
dropout = [0.0, 0.25]
seeds = [1]
epochs = 4
checkpoints = [2, 0]
lr = 0.01
[[custom]]
name = "mine"
factory = "mypkg.models:build"
kwargs = { width = 8 }
checkpoints = ["c/a.pt"]
data = "d.npz"
layers = "layers.1"
rule = "zscore"
z = 0.5
"""


def test_a_config_parses_into_typed_frozen_objects_only(tmp_path):
    (tmp_path / "zoo.toml").write_text(TOML)
    cfg = load_zoo_config(tmp_path / "zoo.toml")
    assert isinstance(cfg, ZooConfig) and cfg.name == "typed" and cfg.data_seed == 3
    assert cfg.score == ScoreSettings(n_null=0, method="multilevel", per_layer=False)
    assert cfg.blobs == BlobsTask(n_samples=120, test_fraction=0.5)
    fam = cfg.families[0]
    assert isinstance(fam, FamilySpec) and fam.hidden == ((4,), (6, 3)) and fam.checkpoints == (0, 2, 4)
    assert cfg.runs == expand_family(fam) and len(cfg.runs) == 4 and all(isinstance(r, RunSpec) for r in cfg.runs)
    (custom,) = cfg.custom
    assert isinstance(custom, CustomSpec) and custom.checkpoints == (tmp_path / "c" / "a.pt",)
    assert custom.firing == FiringRule("zscore", z=0.5) and custom.config_dir == tmp_path
    for obj in (cfg, cfg.score, cfg.blobs, fam, cfg.runs[0], custom):
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.name = "x"  # frozen: nothing may change a parsed config
    # no settings travel as dicts: every field but the factory's own kwargs is typed
    assert [f.name for f in dataclasses.fields(cfg) if isinstance(getattr(cfg, f.name), dict)] == []


def test_defaults_match_the_functions_they_feed():
    import inspect

    from neurograph.datasets import make_blobs_task
    from neurograph.scoring.scores import score_model

    blobs = inspect.signature(make_blobs_task).parameters
    for f in dataclasses.fields(BlobsTask):
        assert f.default == blobs[f.name].default, f.name
    score = inspect.signature(score_model).parameters
    for f in dataclasses.fields(ScoreSettings):
        assert f.default == score[f.name].default, f.name


@pytest.mark.parametrize("raw, fragment", [
    ({"family": [{}], "score": {"n_null": "ten"}}, "[score]: n_null must be an int >= 0, got 'ten'"),
    ({"family": [{}], "score": {"weight": "cosine"}}, "[score]: weight must be one of"),
    ({"family": [{}], "score": {"seed": -1}}, "[score]: seed must be an int >= 0"),
    ({"family": [{}], "blobs": {"n_classes": 1}}, "[blobs]: n_classes must be an int >= 2, got 1"),
    ({"family": [{"lr": 0}]}, "[[family]] #1: lr must be a positive number, got 0"),
    ({"family": [{"weight_decay": -1.0}]}, "weight_decay must be a number >= 0"),
    ({"family": [{"batch_size": 0}]}, "batch_size must be an int >= 1"),
    ({"family": [{"seeds": [0, True]}]}, "seeds must be an int >= 0, got True"),
    ({"family": [{"label_noise": [0.1, 1.0]}]}, "label_noise values must be numbers in [0.0, 1.0), got 1.0"),
    ({"family": [{"arch": "rnn"}]}, "arch must be one of"),
    ({"family": [{}], "data_seed": 1.5}, "data_seed must be an int >= 0"),
])
def test_bad_values_are_config_errors_naming_source_table_and_key(raw, fragment):
    with pytest.raises(ConfigError) as info:
        parse_zoo_config(raw, source="my.toml")
    msg = str(info.value)
    assert msg.startswith("my.toml") and fragment in msg, msg
    assert isinstance(info.value.__cause__, OptionError)  # the same _validate check as the keyword argument


def test_timeline_run_defaults_to_the_run_with_most_checkpoints():
    cfg = parse_zoo_config({"family": [{"task": "blobs", "hidden": [[4]], "epochs": 2},
                                       {"task": "blobs", "hidden": [[8]], "epochs": 3, "checkpoints": [1]}]})
    assert timeline_run(cfg) == "blobs-mlp-8-do0-ln0-s0"
    assert timeline_run(dataclasses.replace(cfg, timeline="blobs-mlp-4-do0-ln0-s0")) == "blobs-mlp-4-do0-ln0-s0"
    one = parse_zoo_config({"family": [{"task": "blobs", "hidden": [[4]], "epochs": 2}]})
    assert timeline_run(one) == ""


def test_old_import_paths_still_work():
    from neurograph.zoo import checkpoints, runs
    from neurograph.zoo.results import ZooResult

    assert runs.RunSpec is RunSpec and runs.parse_zoo_config is parse_zoo_config
    assert checkpoints.CustomSpec is CustomSpec and checkpoints.ZooResult is ZooResult
    assert ZooResult.__module__ == "neurograph.zoo.results"
