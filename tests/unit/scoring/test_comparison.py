"""compare_models computes every statistic of the report; the report renders what it computed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from neurograph.errors import DataError, OptionError
from neurograph.scoring.comparison import DEFAULT_METRICS, accuracy_bands, compare_models
from neurograph.scoring.correlation import composite_score, correlate, correlation_table, label_free_ranking
from neurograph.scoring.verdicts import calibrated_correlations


def _table(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows, neurons = [], []
    for task in ("a", "b"):
        for r in range(6):
            for epoch in (1, 5):
                acc = 0.4 + 0.05 * r + 0.02 * epoch + 0.02 * rng.random()
                rows.append({"run": f"{task}{r}", "task": task, "epoch": epoch, "n_params": 10 * (r + 1),
                             "test_accuracy": acc, "modularity": acc + 0.05 * rng.random(),
                             "mean_entropy": rng.random(), "dead_fraction": 0.0})
                neurons += [{"run": f"{task}{r}", "epoch": epoch, "entropy": rng.random()} for _ in range(3)]
    return pd.DataFrame(rows), pd.DataFrame(neurons)


def test_compare_models_is_correlate_and_ranking_per_task():
    table, neurons = _table()
    c = compare_models(table, n_boot=50, seed=1, neurons=neurons)
    assert c.tasks == ("a", "b") and c.metrics == ("modularity", "mean_entropy", "dead_fraction", "composite")
    for task in c.tasks:
        sub = table[table["task"] == task].copy()
        sub["composite"] = composite_score(sub)
        want = calibrated_correlations(correlate(sub, list(c.metrics), "test_accuracy", "n_params", n_boot=50,
                                                 seed=1, groups="run"))
        got = c.correlations[c.correlations["task"] == task].drop(columns="task").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want)
        r = label_free_ranking(sub, ["dead_fraction", "mean_entropy", "modularity"], groups="run")
        assert c.ranking_results[task].spearman == r.spearman
        row = c.rankings[c.rankings["task"] == task].iloc[0]
        assert row["n_groups"] == 6 and row["spearman"] == r.spearman
    assert set(c.predictions["task"]) == {"a", "b"}
    assert set(c.bands["accuracy band"]) == {"low test_accuracy", "middle test_accuracy", "high test_accuracy"}
    assert (c.bands["epoch"] == 5).all()


def test_compare_models_errors():
    table, _ = _table()
    with pytest.raises(DataError, match="test_accuracy"):
        compare_models(table.drop(columns="test_accuracy"))
    with pytest.raises(DataError, match="none of the score columns"):
        compare_models(table[["run", "test_accuracy"]])
    with pytest.raises(OptionError, match="n_boot"):
        compare_models(table, n_boot=-1)
    with pytest.raises(DataError, match="DataFrame"):
        compare_models([1, 2])


def test_accuracy_bands_need_three_runs_and_a_neuron_table():
    table, neurons = _table()
    assert accuracy_bands(None, table) is None
    assert accuracy_bands(neurons, table[table["run"].isin(["a0", "a1"])]) is None
    assert len(accuracy_bands(neurons, table)) == 12 * 3


def test_the_report_renders_what_compare_models_computed(tmp_path):
    from neurograph.io import report

    table, neurons = _table()
    table.to_csv(tmp_path / "scores.csv", index=False)
    neurons.to_csv(tmp_path / "neurons.csv", index=False)
    rep = report.write_report(tmp_path, n_boot=50, seed=2)
    c = compare_models(pd.read_csv(tmp_path / "scores.csv"), n_boot=50, seed=2,
                       neurons=pd.read_csv(tmp_path / "neurons.csv"))
    pd.testing.assert_frame_equal(rep.correlations, c.correlations)
    pd.testing.assert_frame_equal(rep.rankings, c.rankings)
    on_file = pd.read_csv(tmp_path / "correlations.csv", dtype={"dropped_reason": str}).fillna({"dropped_reason": ""})
    pd.testing.assert_frame_equal(on_file, c.correlations, check_dtype=False)
    assert rep.comparison.metrics == c.metrics
    # the report module computes nothing itself: its statistics come from neurograph.scoring
    assert report.correlation_table is correlation_table and report.DEFAULT_METRICS is DEFAULT_METRICS
    for name in ("correlate", "label_free_ranking", "composite_score"):
        assert not hasattr(report, name), name
    page = rep.path.read_text()
    # tasks with fewer than MIN_SAMPLE runs (here 6) show r without its interval: "n too small", no verdict
    v = rep.comparison.verdicts
    assert v.loc[v["section"] == "correlation", "small_sample"].all()
    shown = correlation_table(c.correlations)
    for cell, words in zip(shown["spearman"], shown["verdict"]):
        if cell != "NaN":                                      # dead_fraction is constant here: no coefficient
            assert cell.endswith(" (n too small)") and cell in page and words == "n too small: no verdict"
    said = " ".join(re.findall(r'class="verdict">(.*?)</(?:p|ul)>', page, flags=re.S))
    assert "[" not in "".join(shown["spearman"]) and "n too small: no verdict" in said
    assert not re.search(r"negligibly|weakly|moderately|strongly|relates", said)


def test_ranking_is_skipped_not_raised_when_fewer_than_three_models_have_an_accuracy():
    # 3 rows but only 2 finite accuracies: the ranking needs 3, so the task has no ranking row (it raised before)
    t = pd.DataFrame({"modularity": [0.1, 0.2, 0.3], "mean_entropy": [1.0, 2.0, 3.0],
                      "test_accuracy": [0.5, 0.7, np.nan]})
    c = compare_models(t)
    assert c.rankings.empty
    assert len(c.correlations)
