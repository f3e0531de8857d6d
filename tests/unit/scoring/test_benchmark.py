"""Scoring a model table against the generalization metrics: every measure, every metric, the verdict."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from neurograph.errors import DataError
from neurograph.scoring.benchmark import (benchmark_summary, confirm_measures, evaluate_measures, family_rankings,
                                         measure_columns)
from neurograph.scoring.generalization import kendall_tau, pgdl_cmi


def _grid(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for w, d, f in itertools.product((8, 16, 32), (1, 2), (0.5, 1.0)):
        for s in (0, 1):
            test = 0.5 + 0.01 * w / 8 + 0.05 * d + rng.normal(0, 0.01)
            gap = 0.2 * (1 - f) + 0.002 * w + rng.normal(0, 0.005)
            rows.append({"model": f"t_w{w}_d{d}_f{f}_s{s}", "seed": s, "width": w, "depth": d, "train_fraction": f,
                         "train_acc": test + gap, "test_acc": test, "gap": gap, "n_params": w * w * d,
                         "ng_good": gap + rng.normal(0, 1e-4), "bl_noise": rng.normal(size=1)[0],
                         "fsa_const": 3.0, "ng_partial": np.nan if d == 1 else rng.normal()})
    return pd.DataFrame(rows)


def test_measure_columns_keep_complete_varying_measures_only(caplog):
    assert measure_columns(_grid()) == ["ng_good", "bl_noise"]
    assert "ng_partial (12 of 24)" in caplog.text  # left out, never silently


def test_evaluate_measures_equals_the_metrics_one_by_one():
    t = _grid()
    res = evaluate_measures(t, ["width", "depth", "train_fraction"], n_boot=50).set_index("measure")
    one = t[t.seed == 0]
    assert res.loc["ng_good", "cmi_gap"] == pytest.approx(pgdl_cmi(one, "ng_good", "gap",
                                                                    ["width", "depth", "train_fraction"]).score)
    assert res.loc["ng_good", "tau_gap"] == pytest.approx(kendall_tau(t["ng_good"], t["gap"]))
    assert res.loc["ng_good", "family"] == "neurograph" and res.loc["bl_noise", "family"] == "baseline"
    assert res.index[0] == "ng_good"  # sorted by CMI: the measure that tracks the gap first
    assert res.loc["ng_good", "cmi_gap"] > 50 > res.loc["bl_noise", "cmi_gap"]
    with pytest.raises(DataError, match="seed 7"):
        evaluate_measures(t, ["width"], seed=7)
    with pytest.raises(DataError, match="depth2"):
        evaluate_measures(t, ["depth2"])


def test_summary_and_rankings():
    t = _grid()
    c = confirm_measures(t, ["width", "depth", "train_fraction"], n_chance=200).assign(task="t")
    assert c[["family", "seed", "measure"]].values.tolist() == [
        ["neurograph", 0, "ng_good"], ["neurograph", 1, "ng_good"], ["baseline", 0, "bl_noise"], ["baseline", 1, "bl_noise"]]
    s = benchmark_summary(c)
    assert s.loc[0, "measure"] == "ng_good" and s.loc[0, "baseline"] == "bl_noise" and s.loc[0, "held_out"] == "1"
    assert s.loc[0, "word"] == "beats" and "beats the baselines on every held-out seed" in s.loc[0, "verdict"]
    r = family_rankings(t).set_index("features")
    assert set(r.index) == {"neurograph", "baseline", "parameter count", "neurograph + baselines"}
    assert (r["n_groups"] == 12).all()
