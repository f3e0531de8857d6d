"""The one verdict rule: no strength word below 10 runs or with an interval holding 0; the same words everywhere."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from neurograph._main import main
from neurograph.errors import DataError, OptionError
from neurograph.scoring import comparison
from neurograph.scoring.correlation import correlate, correlation_table
from neurograph.scoring.verdicts import (MIN_SAMPLE, NO_VERDICT_SMALL, STRENGTHS, Verdict,
                                         calibrated_correlations, verdict)

WORDS = re.compile(r"\b(negligibly|weakly|moderately|strongly|relates|no relation)\b")
unit_r = hs.floats(-1.0, 1.0, allow_nan=False)


def _band(r: float) -> str:       # Cohen's bands, written out
    a = abs(r)
    if a < 0.1:
        return "negligibly"
    if a < 0.3:
        return "weakly"
    if a < 0.5:
        return "moderately"
    return "strongly"


@settings(max_examples=200, deadline=None)
@given(r=unit_r, a=unit_r, b=unit_r, n_units=hs.integers(0, MIN_SAMPLE - 1), extra=hs.integers(0, 40),
       p=hs.floats(0.0, 1.0))
def test_no_strength_word_below_ten_runs_for_any_r(r, a, b, n_units, extra, p):
    lo, hi = min(a, b), max(a, b)
    for v in (verdict(r, lo, hi, n_units, n=n_units + extra, subject="q"),
              verdict(r, n_units=n_units, p_value=p, n=n_units + extra)):
        assert v.strength is None and not v.given and v.words == NO_VERDICT_SMALL
        assert not WORDS.search(v.sentence) and "CI" not in v.sentence and "p = " not in v.sentence
        assert f"{r:.2f}" in v.sentence and "is not a verdict" in v.sentence     # the number, labelled


@settings(max_examples=200, deadline=None)
@given(r=unit_r, a=hs.floats(-1.0, 0.0), b=hs.floats(0.0, 1.0), n_units=hs.integers(MIN_SAMPLE, 500))
def test_no_strength_word_when_the_interval_includes_zero(r, a, b, n_units):
    v = verdict(r, a, b, n_units, subject="q")
    assert v.strength is None and not WORDS.search(v.sentence)
    assert v.words in ("no verdict: the interval includes 0", "no verdict: no usable interval")


@settings(max_examples=200, deadline=None)
@given(r=hs.floats(-0.999, 0.999), a=hs.floats(0.001, 0.99), w=hs.floats(0.0, 0.5), sign=hs.sampled_from([1, -1]),
       n_units=hs.integers(MIN_SAMPLE, 500))
def test_a_strength_word_is_cohens_band_when_the_interval_excludes_zero(r, a, w, sign, n_units):
    lo, hi = sorted((sign * a, sign * min(a + w, 1.0)))
    v = verdict(r, lo, hi, n_units, subject="q", target="acc")
    if r == 0 or (r > 0) != (lo > 0):
        assert v.strength is None and v.words == "no verdict: r and its interval disagree in sign"
        return
    assert v.strength == _band(r) and v.words == f"{_band(r)} {'positive' if r > 0 else 'negative'}"
    assert v.sentence.startswith(f"q relates {_band(r)} and ") and f"{lo:.2f} to {hi:.2f}" in v.sentence


@settings(max_examples=100, deadline=None)
@given(r=unit_r, p=hs.floats(0.0, 1.0), n_units=hs.integers(MIN_SAMPLE, 200))
def test_ranking_verdict_needs_p_below_alpha(r, p, n_units):
    v = verdict(r, n_units=n_units, p_value=p)
    if p >= 0.05:
        assert v.strength is None and v.words == "no verdict: p >= 0.05" and not WORDS.search(v.sentence)
    else:
        assert v.strength == _band(r) and ("like" if r > 0 else "opposite to") in v.sentence


def test_the_public_wrappers_are_the_rule():
    assert comparison.strength_word(0.8) is None and comparison.strength_word(0.8, 0.5, 0.9, 6) is None
    assert comparison.strength_word(0.8, 0.5, 0.9, 12) == "strongly"
    assert comparison.correlation_verdict("q", "acc", 0.68, -1.0, 1.0, 6, 6) == verdict(
        0.68, -1.0, 1.0, 6, subject="q", target="acc").sentence
    assert comparison.ranking_verdict("acc", 0.62, 0.001, 36, 12) == verdict(
        0.62, n_units=12, p_value=0.001, n=36, target="acc").sentence
    assert comparison.MIN_SAMPLE == MIN_SAMPLE and STRENGTHS[-1] == "strongly"
    assert isinstance(verdict(0.5, 0.1, 0.8, 10), Verdict)
    assert verdict(float("nan"), 0.1, 0.2, 40).words == "no verdict: no coefficient"
    # a bootstrap interval over the whole range is not evidence, with any number of runs
    assert verdict(0.9, -1.0, 1.0, 50).words == "no verdict: no usable interval"
    with pytest.raises(OptionError, match="n_units"):
        verdict(0.5, 0.1, 0.8, -1)
    with pytest.raises(OptionError, match="alpha"):
        verdict(0.5, n_units=12, p_value=0.01, alpha=0.0)


def test_the_sample_says_how_many_models_were_dropped_and_why():
    v = verdict(0.7, 0.3, 0.9, 11, n=11, subject="modularity", n_dropped=1,
                dropped_reason="modularity undefined (no edges)")
    assert v.sentence.endswith("11 models; 1 model dropped: modularity undefined (no edges)).")


def test_calibrated_correlations_blanks_hollow_numbers_and_is_idempotent():
    c = pd.DataFrame({"metric": ["q", "h", "g"], "method": "spearman", "n": [12, 24, 24], "n_runs": [6, 12, 12],
                      "r": [0.68, 0.9, 0.3], "p_value": [0.2, 0.001, 0.3], "ci_low": [-1.0, 0.6, -1.0],
                      "ci_high": [1.0, 0.97, 1.0], "partial_p": [0.1, 0.01, 0.2]})
    out = calibrated_correlations(c)
    assert out["verdict"].tolist() == [NO_VERDICT_SMALL, "strongly positive", "no verdict: no usable interval"]
    assert out.loc[0, ["ci_low", "ci_high", "p_value", "partial_p"]].isna().all()
    assert out.loc[1, "ci_low"] == 0.6 and out.loc[1, "p_value"] == 0.001 and out.loc[1, "partial_p"] == 0.01
    assert np.isnan(out.loc[2, "ci_low"]) and out.loc[2, "p_value"] == 0.3      # enough runs: p kept
    assert out["r"].tolist() == c["r"].tolist() and c["ci_low"].iloc[0] == -1.0  # input untouched
    pd.testing.assert_frame_equal(calibrated_correlations(out), out)
    with pytest.raises(DataError, match="ci_low"):
        calibrated_correlations(c.drop(columns="ci_low"))


def test_correlate_counts_dropped_models_and_says_why():
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"run": np.repeat(np.arange(6), 2), "modularity": rng.random(12), "n_edges": 5,
                      "test_accuracy": rng.random(12)})
    t.loc[0, ["modularity", "n_edges"]] = [np.nan, 0]        # a graph without edges has no modularity
    c = correlate(t, "modularity", groups="run", n_boot=0, methods=["spearman"]).iloc[0]
    assert (c["n"], c["n_runs"], c["n_dropped"], c["dropped_reason"]) == (11, 6, 1,
                                                                            "modularity undefined (no edges)")
    t.loc[[2, 3], "test_accuracy"] = np.nan                  # both rows of run 1: one run fewer
    c = correlate(t, "modularity", groups="run", n_boot=0, methods=["spearman"]).iloc[0]
    assert (c["n"], c["n_runs"], c["n_dropped"]) == (9, 5, 3)
    assert c["dropped_reason"] == "modularity undefined (no edges): 1; test_accuracy undefined: 2"
    c = correlate(t.drop(columns="n_edges"), "modularity", n_boot=0, methods=["spearman"]).iloc[0]
    assert c["n_runs"] == c["n"] == 9 and c["dropped_reason"].startswith("modularity undefined: 1;")
    c = correlate(t.dropna(), "modularity", n_boot=0, methods=["spearman"]).iloc[0]
    assert c["n_dropped"] == 0 and c["dropped_reason"] == ""


def _zoo(tmp_path, n_runs: int, *, strong: bool, drop_one: bool = False):
    """Two checkpoints per run; accuracy planted as a function of modularity when ``strong``."""
    rng = np.random.default_rng(n_runs)
    mod = rng.random(2 * n_runs)
    acc = 0.5 + 0.4 * mod + 0.01 * rng.random(2 * n_runs) if strong else rng.random(2 * n_runs)
    t = pd.DataFrame({"run": np.repeat([f"r{k}" for k in range(n_runs)], 2), "epoch": np.tile([1, 5], n_runs),
                      "test_accuracy": acc, "modularity": mod, "mean_entropy": rng.random(2 * n_runs),
                      "n_edges": 10})
    if drop_one:
        t.loc[0, ["modularity", "n_edges"]] = [np.nan, 0]
    d = tmp_path / f"zoo{n_runs}"
    d.mkdir()
    t.to_csv(d / "scores.csv", index=False)
    return d


def _three_places(d, capsys):
    """The modularity verdict as the terminal, correlations.csv and report.html show it."""
    assert main(["report", str(d), "--n-boot", "100", "--covariate", ""]) == 0
    terminal = capsys.readouterr().out
    csv = pd.read_csv(d / "correlations.csv")
    row = csv[(csv["metric"] == "modularity") & (csv["method"] == "spearman")].iloc[0]
    page = (d / "report.html").read_text()
    table = terminal.split("\nverdicts:")[0]
    line = next(x for x in table.splitlines() if " modularity " in f" {x} ")
    assert main(["correlate", str(d / "scores.csv"), "--n-boot", "100", "--out", str(d / "c")]) == 0
    correlate_out = capsys.readouterr().out
    row_c = pd.read_csv(d / "c" / "correlations.csv").query("metric == 'modularity' and method == 'spearman'")
    return terminal, line, row, page, correlate_out, row_c.iloc[0]


def test_terminal_csv_and_report_agree_with_six_runs(tmp_path, capsys):
    terminal, line, row, page, correlate_out, row_c = _three_places(_zoo(tmp_path, 6, strong=True), capsys)
    assert row["verdict"] == row_c["verdict"] == NO_VERDICT_SMALL and row["n_runs"] == 6
    assert np.isnan(row["ci_low"]) and np.isnan(row["p_value"]) and np.isnan(row_c["ci_high"])
    cell = f"{row['r']:.2f} (n too small)"
    for text in (line, page, correlate_out):
        assert NO_VERDICT_SMALL in text and cell in text
    assert "[-1.00, 1.00]" not in terminal + page + correlate_out
    said = " ".join(re.findall(r'class="verdict">(.*?)</(?:p|ul)>', page, flags=re.S))
    assert not WORDS.search(said) and not WORDS.search(terminal) and not WORDS.search(correlate_out)
    assert "counted as one run" in correlate_out         # correlate counts runs, not checkpoints, by default
    d = tmp_path / "zoo6"
    assert main(["correlate", str(d / "scores.csv"), "--groups", "", "--n-boot", "0", "--out", str(d / "rows")]) == 0
    assert (pd.read_csv(d / "rows" / "correlations.csv")["n_runs"] == 12).all()   # '' : every row independent


def test_terminal_csv_and_report_agree_with_twelve_runs_and_a_strong_relation(tmp_path, capsys):
    terminal, line, row, page, correlate_out, row_c = _three_places(_zoo(tmp_path, 12, strong=True), capsys)
    assert row["verdict"] == row_c["verdict"] == "strongly positive" and row["ci_low"] > 0
    cell = f"{row['r']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
    for text in (line, page, correlate_out):
        assert "strongly positive" in text and cell in text
    assert "modularity relates strongly and positively to test_accuracy" in terminal
    assert "modularity relates strongly and positively to test_accuracy" in page


def test_dropped_models_are_counted_in_every_place(tmp_path, capsys):
    terminal, line, row, page, correlate_out, row_c = _three_places(
        _zoo(tmp_path, 12, strong=True, drop_one=True), capsys)
    why = "modularity undefined (no edges)"
    assert (row["n"], row["n_runs"], row["n_dropped"], row["dropped_reason"]) == (23, 12, 1, why)
    assert f"23 models from 12 runs; 1 model dropped: {why}" in terminal
    assert f"23 models from 12 runs; 1 model dropped: {why}" in page
    assert f"1: {why}" in line and f"1: {why}" in correlate_out


def test_compare_models_says_which_models_each_verdict_left_out():
    rng = np.random.default_rng(3)
    mod = rng.random(24)
    t = pd.DataFrame({"run": np.repeat(np.arange(12), 2), "epoch": np.tile([1, 5], 12), "modularity": mod,
                      "test_accuracy": 0.5 + 0.4 * mod, "mean_entropy": rng.random(24)})
    t.loc[5, "test_accuracy"] = np.nan
    t.loc[[6, 7], "modularity"] = np.nan                      # run 3 has no modularity at all
    c = comparison.compare_models(t, n_boot=100)
    v = c.verdicts.set_index(["section", "metric"])
    assert c.rankings.loc[0, "n_dropped"] == 1 and c.rankings.loc[0, "dropped_reason"] == "test_accuracy undefined"
    assert "23 models from 12 runs; 1 model dropped: test_accuracy undefined" in v.loc[("ranking", "label-free ranking"),
                                                                                      "verdict"]
    mod_v = v.loc[("correlation", "modularity")]
    assert (mod_v["n"], mod_v["n_groups"], mod_v["n_dropped"]) == (21, 11, 3)
    assert mod_v["verdict"].endswith("21 models from 11 runs; 3 models dropped: "
                                     "modularity undefined: 2; test_accuracy undefined: 1).")
    assert "of 11 runs" in v.loc[("training", "modularity"), "verdict"]
    assert "1 run dropped: modularity undefined" in v.loc[("training", "modularity"), "verdict"]
