"""Verdict sentences of the report: computed in scoring, small samples said as such on the page."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurograph.io.report import correlation_table
from neurograph.scoring.comparison import MIN_SAMPLE, compare_models, correlation_verdict, ranking_verdict


def _table(n_runs, seed=0):
    rng = np.random.default_rng(seed)
    acc = rng.random(n_runs * 2)
    return pd.DataFrame({"run": np.repeat(np.arange(n_runs), 2), "epoch": np.tile([1, 5], n_runs),
                         "test_accuracy": acc, "modularity": acc + 0.1 * rng.random(len(acc)),
                         "mean_entropy": rng.random(len(acc))})


def test_correlation_verdict_words():
    v = correlation_verdict("modularity", "test accuracy", 0.43, 0.07, 0.72, 30)
    assert v == ("modularity relates moderately and positively to test accuracy "
                 "(Spearman 0.43, 95% CI 0.07 to 0.72, 30 models).")
    assert "no verdict: the interval includes 0" in correlation_verdict("q", "acc", -0.2, -0.5, 0.1, 40, 20)
    assert "relates" not in correlation_verdict("q", "acc", 0.05, -0.3, 0.3, 40)
    small = correlation_verdict("q", "acc", 0.9, 0.5, 1.0, 20, MIN_SAMPLE - 1)
    assert "n too small: no verdict" in small and "CI" not in small and "strongly" not in small
    assert "p = " not in ranking_verdict("acc", 0.8, 0.01, 12, 6) and "n too small" in ranking_verdict(
        "acc", 0.8, 0.01, 12, 6)


def test_compare_models_verdicts_and_small_sample_flags():
    big = compare_models(_table(12), n_boot=50)
    v = big.verdicts
    assert set(v["section"]) >= {"correlation", "ranking", "training"}
    assert not v["small_sample"].any() and v["verdict"].str.contains("95% CI").any()
    assert big.verdict_list("training")[0].startswith("Modularity rose")
    small = compare_models(_table(5), n_boot=50)
    corr = small.verdicts[small.verdicts["section"] == "correlation"]
    assert corr["small_sample"].all() and corr["verdict"].str.contains("n too small").all()
    shown = correlation_table(small.correlations)
    assert (shown["p (spearman)"] == "n too small").all()
    assert shown["spearman"].str.endswith("(n too small)").all() and not shown["spearman"].str.contains(r"\[").any()
