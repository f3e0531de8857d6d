"""Smoke and statistics tests of experiments/fsa_gate_power.py (loaded from its path; the library never imports it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def power():
    spec = importlib.util.spec_from_file_location("fsa_gate_power", ROOT / "experiments" / "fsa_gate_power.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_holm_matches_the_step_down_rule(power):
    p = [0.01, 0.04, 0.03, 0.5]
    # sorted 0.01, 0.03, 0.04, 0.5 -> x4, x3, x2, x1, then running max
    assert np.allclose(power.holm(p), [0.04, 0.09, 0.09, 0.5])
    assert np.allclose(power.holm([0.9, 0.8]), [1.0, 1.0])                 # 0.8 x 2 capped at 1


def test_paired_tests_on_a_planted_difference(power):
    rng = np.random.default_rng(0)
    rows = []
    for lang in ("x", "y"):
        for seed in range(10):
            base = rng.uniform(0.5, 0.8)
            for cell, bump in (("rnn", 0.0), ("mgu", 0.2), ("gru", 0.0), ("lstm", 0.0)):
                rows.append({"lang": lang, "seed": seed, "cell": cell, "fsa_acc": base + bump + 0.01 * rng.random()})
    df = pd.DataFrame(rows)
    out = power.paired_tests(df, "fsa_acc", ("rnn", "mgu", "gru", "lstm"))
    assert out["blocks"] == 20 and out["friedman_p"] < 1e-4 and out["mean_rank"]["mgu"] == 1.0
    wide = df.pivot_table(index=["lang", "seed"], columns="cell", values="fsa_acc")
    want = stats.wilcoxon(wide["mgu"], wide["gru"]).pvalue
    pair = next(p for p in out["pairs"] if {p["a"], p["b"]} == {"mgu", "gru"})
    assert np.isclose(pair["p"], want) and pair["p_holm"] >= pair["p"]
    same = df.assign(fsa_acc=1.0)
    flat = power.paired_tests(same, "fsa_acc", ("rnn", "mgu", "gru", "lstm"))
    assert flat["friedman_p"] == 1.0 and all(p["p"] == 1.0 for p in flat["pairs"])


@pytest.mark.slow
def test_run_one_smoke(power, tmp_path):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        args = power.parse(["--n-train", "64", "--n-test", "40", "--n-val", "30", "--ks", "2,3", "--n-random", "20",
                            "--train-len", "0,6", "--test-len", "7,9", "--out", str(tmp_path)])
        rows, _, _, _ = power.run_one("ones_mod3", "mgu", 0, args, [1, 2])
    finally:
        torch.set_num_threads(before)
    assert [r["epochs"] for r in rows] == [1, 2] and all(r["k"] in (2, 3) for r in rows)
    for r in rows:
        assert 0.0 <= r["fsa_acc"] <= 1.0 and r["net_queries"] > 0 and r["true_n"] == 3
    report = power.report(pd.DataFrame(rows * 1), None, ["mgu"], 1.0)
    assert "verdict" in report
