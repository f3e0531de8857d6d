"""Held-out checks of the one verdict rule: edges of its thresholds, and the report saying what its numbers are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurograph.scoring.comparison import compare_models
from neurograph.scoring.verdicts import MIN_SAMPLE, NO_VERDICT_SMALL, verdict


def test_exactly_min_sample_runs_allow_a_word_one_fewer_do_not():
    assert verdict(0.6, 0.2, 0.8, MIN_SAMPLE).strength == "strongly"
    assert verdict(0.6, 0.2, 0.8, MIN_SAMPLE - 1).words == NO_VERDICT_SMALL
    assert verdict(0.6, p_value=0.01, n_units=MIN_SAMPLE).given
    assert not verdict(0.6, p_value=0.01, n_units=MIN_SAMPLE - 1).given


@pytest.mark.parametrize("r, word", [(0.0999, "negligibly"), (0.1, "weakly"), (0.3, "moderately"),
                                     (0.5, "strongly"), (-0.3, "moderately"), (-0.1, "weakly")])
def test_band_edges_belong_to_the_band_above(r, word):
    lo, hi = (0.05, 0.9) if r > 0 else (-0.9, -0.05)
    assert verdict(r, lo, hi, 12).strength == word


@pytest.mark.parametrize("lo, hi", [(0.0, 0.5), (-0.5, 0.0), (-0.0, 0.4)])
def test_an_interval_touching_zero_is_no_verdict(lo, hi):
    assert verdict(0.3 if hi > 0 else -0.3, lo, hi, 12).words == "no verdict: the interval includes 0"


def test_p_equal_to_alpha_is_no_verdict():
    assert verdict(0.7, p_value=0.05, n_units=12).words == "no verdict: p >= 0.05"


@pytest.mark.parametrize("r, lo, hi, words", [(float("nan"), 0.1, 0.5, "no verdict: no coefficient"),
                                              (0.4, float("nan"), 0.5, "no verdict: no usable interval"),
                                              (0.4, -1.0, 1.0, "no verdict: no usable interval")])
def test_nan_and_hollow_intervals_give_no_word(r, lo, hi, words):
    v = verdict(r, lo, hi, 12)
    assert v.words == words and not v.given and "relates" not in v.sentence and "nan" not in v.sentence.lower()


@pytest.mark.parametrize("r, lo, hi", [(0.0, 0.01, 0.3), (-0.01, 0.02, 0.3), (0.0, -0.3, -0.01), (0.5, -0.5, -0.2)])
def test_r_across_zero_from_its_interval_gets_no_word(r, lo, hi):
    # a percentile bootstrap interval can exclude 0 on one side while r sits at 0 or across it
    v = verdict(r, lo, hi, 12)
    assert not v.given and v.words == "no verdict: r and its interval disagree in sign"
    assert "relates" not in v.sentence and "positively" not in v.sentence and "negatively" not in v.sentence


def _runs(n_runs, seed=0):
    rng = np.random.default_rng(seed)
    acc = rng.random(n_runs * 3)
    return pd.DataFrame({"run": np.repeat(np.arange(n_runs), 3), "epoch": np.tile([1, 3, 5], n_runs),
                         "test_accuracy": acc, "modularity": acc + 0.1 * rng.random(len(acc)),
                         "mean_entropy": rng.random(len(acc))})


def test_report_says_the_p_values_count_runs():
    from neurograph.io.report import render_report
    t = _runs(12)
    c = compare_models(t, n_boot=50)
    page = render_report(table=t, correlations=c.correlations, rankings=pd.DataFrame(), figures={},
                         coactivation=[], run_dir=Path("."), target="test_accuracy", title="t", comparison=c)
    assert "assume independent models" not in page
    assert "per-run means" in page


def test_report_benchmark_section_shows_the_held_out_chance_levels_and_says_undecided():
    from neurograph.io.report import render_report
    measures = pd.DataFrame({"task": "t", "measure": ["ng_q", "bl_norm"], "family": ["neurograph", "baseline"],
                             "n": 8, "cmi_gap": [9.0, 3.0]})
    confirm = pd.DataFrame({"task": "t", "family": ["neurograph", "neurograph"], "seed": [0, 1],
                            "role": ["discovery", "held-out"], "measure": "ng_q", "n_candidates": 20,
                            "cmi_gap": [9.0, 2.0], "chance_mean": [1.1, 1.2], "chance_q95": [2.5, 2.6],
                            "chance_p": [0.01, 0.3]})
    summary = pd.DataFrame({"task": ["t"], "family": ["neurograph"], "word": ["undecided"],
                            "verdict": ["t: neurograph vs the baselines undecided - more seeds"]})
    t = pd.DataFrame({"run": ["r"], "test_accuracy": [0.5]})
    page = render_report(table=t, correlations=pd.DataFrame(), rankings=pd.DataFrame(), figures={},
                         coactivation=[], run_dir=Path("."), target="test_accuracy", title="t",
                         generalization=measures, verdicts=summary, confirmation=confirm)
    section = page[page.index('id="generalization"'):]
    assert "undecided" in section and "chance_q95" in section and "2.600" in section
    assert "exploratory" in section


def test_untrained_verdicts_say_the_models_left_out():
    from neurograph.scoring.twin import untrained_verdicts
    t = pd.DataFrame({"modularity_z": [40.0, 30.0, float("nan")], "modularity_z_untrained": [20.0, 35.0, 10.0]})
    (line,) = untrained_verdicts(t)
    assert "1 of 2 models above their twin" in line and "1 model left out" in line
    (full,) = untrained_verdicts(t.iloc[:2])
    assert "left out" not in full


def test_the_z_definition_does_not_read_z_as_evidence_without_the_twin():
    from neurograph.scoring.definitions import SCORE_DEFINITIONS
    z = SCORE_DEFINITIONS["modularity_z"]
    assert "untrained" in z.high
