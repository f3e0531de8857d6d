"""The zoo's untrained baseline: [score] baseline = "untrained", the epoch-0 checkpoint or the run's own init."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neurograph.datasets import make_blobs_task
from neurograph.errors import ConfigError, FileFormatError
from neurograph.models import MLP
from neurograph.zoo.checkpoints import CustomSpec, score_checkpoints
from neurograph.zoo.config import RunSpec, ScoreSettings, parse_zoo_config
from neurograph.zoo.runs import initial_model, score_run, train_run


@pytest.fixture(scope="module")
def blobs():
    return make_blobs_task(n_samples=120, seed=0)


def _same(a, b) -> bool:
    return (isinstance(a, float) and math.isnan(a) and isinstance(b, float) and math.isnan(b)) or a == b


def test_zoo_uses_the_epoch0_checkpoint_and_the_fallback_is_the_same_network(tmp_path, blobs):
    for sub in "abc":
        (tmp_path / sub).mkdir()
    settings = ScoreSettings(n_null=0, baseline="untrained")
    with_zero = RunSpec("r", "blobs", "mlp", (8,), 0.0, 0.0, 3, 2, (0, 2))
    ckpts = train_run(with_zero, blobs, tmp_path / "a")
    rng = torch.get_rng_state()
    init = initial_model(with_zero, blobs)
    assert torch.equal(torch.get_rng_state(), rng)  # the run's init is rebuilt without touching global state
    saved = torch.load(ckpts[0][1], weights_only=True)
    assert all(torch.equal(v, saved[k]) for k, v in init.state_dict().items())
    table = score_run(with_zero, blobs, ckpts, settings, root=tmp_path).table
    epoch0, final = table.iloc[0], table.iloc[1]
    for score in ("modularity", "mean_entropy", "test_accuracy", "n_communities"):
        assert _same(final[f"{score}_untrained"], epoch0[score])  # the baseline is the epoch-0 network
        assert epoch0[f"{score}_delta"] == 0 or math.isnan(epoch0[f"{score}_delta"])
    # without an epoch-0 checkpoint: the same initial weights, rebuilt from the run's seed
    no_zero = RunSpec("r", "blobs", "mlp", (8,), 0.0, 0.0, 3, 2, (2,))
    fallback = score_run(no_zero, blobs, train_run(no_zero, blobs, tmp_path / "b"), settings, root=tmp_path).table
    cols = [c for c in table.columns if c.endswith("_untrained") or c.endswith("_delta")]
    assert cols and all(_same(fallback.iloc[0][c], final[c]) for c in cols)
    # the default scores no baseline
    plain = score_run(no_zero, blobs, train_run(no_zero, blobs, tmp_path / "c"), ScoreSettings(n_null=0),
                      root=tmp_path).table
    assert not any(c.endswith("_untrained") for c in plain.columns)


def test_score_baseline_in_the_config_is_checked():
    raw = {"family": [{"task": "blobs", "hidden": [[4]], "epochs": 1}]}
    assert parse_zoo_config({**raw, "score": {"baseline": "untrained"}}).score.baseline == "untrained"
    assert parse_zoo_config(raw).score.baseline is None
    assert parse_zoo_config({**raw, "score": {"baseline": "none"}}).score.baseline is None
    with pytest.raises(ConfigError, match=r"\[score\].*baseline must be one of \['none', 'untrained'\]"):
        parse_zoo_config({**raw, "score": {"baseline": "epoch0"}})


def test_score_checkpoints_baseline_untrained_and_path(tmp_path):
    (tmp_path / "twinfactory_ng_test.py").write_text(
        "from neurograph.models import MLP\n\ndef build():\n    return MLP(4, hidden=(8,), n_classes=3)\n")
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(90, 4, generator=gen)
    np.savez(tmp_path / "data.npz", X=X.numpy(), y=(X[:, 0] > 0).long().numpy())
    torch.manual_seed(1)
    torch.save(MLP(4, hidden=(8,), n_classes=3).state_dict(), tmp_path / "e0.pt")
    torch.manual_seed(2)
    torch.save(MLP(4, hidden=(8,), n_classes=3).state_dict(), tmp_path / "e9.pt")
    spec = CustomSpec(name="mine", factory="twinfactory_ng_test:build", kwargs={},
                      checkpoints=(tmp_path / "e0.pt", tmp_path / "e9.pt"), data=tmp_path / "data.npz",
                      layers=("layers.1",))
    by_path = score_checkpoints(spec, n_null=0, search_path=tmp_path, baseline=tmp_path / "e0.pt").table
    assert by_path.loc[1, "modularity_untrained"] == by_path.loc[0, "modularity"]
    assert by_path.loc[0, "modularity_delta"] == 0
    fresh = score_checkpoints(spec, n_null=0, search_path=tmp_path, baseline="untrained").table
    assert "mean_entropy_untrained" in fresh and fresh["mean_entropy_untrained"].nunique() == 1
    with pytest.raises(FileFormatError, match="baseline checkpoint .*nope.pt"):
        score_checkpoints(spec, n_null=0, search_path=tmp_path, baseline=tmp_path / "nope.pt")
