"""cmi_chance, tau_chance, gtau_chance and best_of_k against brute force, calibration and hostile input."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

from neurograph.errors import DataError, OptionError
from neurograph.scoring.chance import (
    MAX_N,
    ChanceLevel,
    SelectionTest,
    best_of_k,
    cmi_chance,
    gtau_chance,
    tau_chance,
)
from neurograph.scoring.generalization import granulated_tau, kendall_tau, pgdl_cmi

NAMES = ["a", "b", "c"]


def _grid(seed=0, levels=(3, 2, 2), *, ties=False):
    """A complete grid (12 cells by default) with a gap column; unsorted hyper-parameter values."""
    rng = np.random.default_rng(seed)
    names = NAMES[: len(levels)]
    t = pd.DataFrame(list(itertools.product(*[rng.permutation(n) * 1.5 for n in levels])), columns=names)
    t["gap"] = rng.integers(0, 4, len(t)) / 10.0 if ties else rng.uniform(0.0, 0.3, len(t))
    return t, names


def _mc_close(values, brute, z=4.5):
    """Two Monte-Carlo means agree within z standard errors."""
    se = np.sqrt(np.var(values, ddof=1) / len(values) + np.var(brute, ddof=1) / len(brute))
    assert abs(np.mean(values) - np.mean(brute)) <= z * se + 1e-12, (np.mean(values), np.mean(brute), se)


# ---------------------------------------------------------------- agreement with a plain loop over random columns


@pytest.mark.parametrize("ties", [False, True])
def test_cmi_chance_matches_a_brute_force_loop(ties):
    t, names = _grid(1, ties=ties)
    c = cmi_chance(t, "gap", names, n=2000, seed=3)
    rng = np.random.default_rng(9)
    brute = [pgdl_cmi(t.assign(m=rng.normal(size=len(t))), "m", "gap", names).score for _ in range(200)]
    assert c.values.shape == (2000,) and c.n_models == len(t) and c.missing == ()
    _mc_close(c.values, brute)
    assert 0.0 <= c.values.min() and c.values.max() <= 100.0


def _replayed_measures(t, names, n, seed):
    """The random measures the chance functions draw: a random ranking of the rows in content order."""
    codes = [pd.factorize(t[h], sort=True)[0] for h in names]
    order = np.lexsort([t["gap"].to_numpy(), *reversed(codes)])
    ranks = np.random.default_rng(seed).permuted(np.broadcast_to(np.arange(len(t)), (n, len(t))), axis=1)
    measures = np.empty((n, len(t)))
    measures[:, order] = ranks
    return measures


def test_each_random_measure_scores_what_the_metric_gives_it():
    # replay the draws: every value is exactly the metric of one column of noise (the same code path)
    t, names = _grid(11, (3, 2, 2), ties=True)
    c, tau, g = (cmi_chance(t, "gap", names, n=30, seed=7), tau_chance(t, "gap", n=30, seed=7),
                 gtau_chance(t, "gap", names, n=30, seed=7))
    for k, m in enumerate(_replayed_measures(t, names, 30, 7)):
        assert c.values[k] == pgdl_cmi(t.assign(m=m), "m", "gap", names).score
        assert g.values[k] == pytest.approx(granulated_tau(t.assign(m=m), "m", "gap", names).score, abs=1e-12)
    unconditioned = cmi_chance(t, "gap", [], n=30, seed=7)  # no hyper-parameter: one stratum, as pgdl_cmi
    for k, m in enumerate(_replayed_measures(t, [], 30, 7)):
        assert tau.values[k] == pytest.approx(kendall_tau(m, t["gap"]), abs=1e-12)
        assert unconditioned.values[k] == pgdl_cmi(t.assign(m=m), "m", "gap", []).score
    one = cmi_chance(t, "gap", names, n=1, seed=7)
    assert one.values[0] == c.values[0] and np.isnan(one.sd) and one.pvalue(one.values[0]) == 1.0


def test_tau_and_gtau_chance_match_brute_force_loops():
    t, names = _grid(2, (3, 3, 2), ties=True)
    c, g = tau_chance(t, "gap", n=2000, seed=1), gtau_chance(t, "gap", names, n=2000, seed=1)
    rng = np.random.default_rng(4)
    cols = [rng.normal(size=len(t)) for _ in range(200)]
    _mc_close(c.values, [kendall_tau(x, t["gap"]) for x in cols])
    _mc_close(np.abs(c.values), [abs(kendall_tau(x, t["gap"])) for x in cols])
    brute_g = [granulated_tau(t.assign(m=x), "m", "gap", names).score for x in cols]
    _mc_close(g.values, brute_g)
    _mc_close(np.abs(g.values), np.abs(brute_g))
    # tau-a of a tie-free measure against a tied target: exact multiples of 2 / (n (n - 1)), bounded by the ties
    n = len(t)
    steps = c.values * n * (n - 1) / 2
    assert np.allclose(steps, np.round(steps))


def test_best_of_k_scores_are_the_metrics_own_values(caplog):
    t, names = _grid(3, (3, 3, 2))
    rng = np.random.default_rng(0)
    ms = [f"m{k}" for k in range(5)]
    for m in ms:
        t[m] = rng.normal(size=len(t))
    t.loc[[2, 7], "m1"] = np.nan  # a candidate on fewer rows: scored on its own rows
    with caplog.at_level(logging.WARNING, logger="neurograph.scoring.chance"):
        s = best_of_k(t, ms, "gap", names, n=50)
    assert "'m1' is scored on 16 of the 18 rows" in caplog.text
    assert s.scores == tuple(pgdl_cmi(t, m, "gap", names).score for m in ms)  # exactly: the same counts and code
    assert s.n_models == (18, 16, 18, 18, 18)
    assert s.observed == max(s.scores) and s.best_measure == ms[int(np.argmax(s.scores))]
    tau = best_of_k(t, ms, "gap", metric="tau", n=50)
    assert tau.scores == pytest.approx([kendall_tau(t[m], t["gap"]) for m in ms], abs=1e-12)
    assert tau.observed == pytest.approx(max(abs(x) for x in tau.scores))
    gt = best_of_k(t, ms, "gap", names, metric="gtau", n=50)
    assert gt.scores == pytest.approx([granulated_tau(t, m, "gap", names).score for m in ms], abs=1e-12)


def test_best_of_k_null_matches_a_brute_force_permutation_loop():
    t, names = _grid(4)
    rng = np.random.default_rng(1)
    ms = [f"m{k}" for k in range(4)]
    for m in ms:
        t[m] = rng.normal(size=len(t))
    s = best_of_k(t, ms, "gap", names, n=1000, seed=2)
    brute = []
    for _ in range(120):
        p = t.assign(gap=rng.permutation(t["gap"].to_numpy()))
        brute.append(max(pgdl_cmi(p, m, "gap", names).score for m in ms))
    _mc_close(s.null_max, brute)
    # the maximum of k is stochastically larger than one random measure's score
    assert s.q95 > cmi_chance(t, "gap", names, n=1000).q95


def test_best_of_k_permutes_within_strata_only():
    t, names = _grid(5, (2, 2, 3))
    t["gap"] = np.where(t["c"] == t["c"].max(), 10.0, 0.0) + np.random.default_rng(0).uniform(0, 1, len(t))
    t["m"] = t["gap"]
    # within strata of c the large gaps never move to other rows: the null max keeps their structure
    within = best_of_k(t, ["m"], "gap", metric="tau", n=300, strata="c")
    free = best_of_k(t, ["m"], "gap", metric="tau", n=300)
    assert within.null_max.min() > free.null_max.min()
    assert np.mean(within.null_max) > 0.4 > np.mean(free.null_max)
    same = best_of_k(t, ["m"], "gap", metric="tau", n=300, strata=t["c"].to_numpy())
    np.testing.assert_array_equal(same.null_max, within.null_max)


# ---------------------------------------------------------------- calibration


def test_pvalues_of_random_measures_are_uniform():
    t, names = _grid(5)
    c = cmi_chance(t, "gap", names, n=999, seed=1)
    rng = np.random.default_rng(5)
    p = np.array([c.pvalue(pgdl_cmi(t.assign(m=rng.normal(size=len(t))), "m", "gap", names).score)
                  for _ in range(200)])
    assert st.kstest(p, "uniform").pvalue > 0.05
    assert (p < 0.05).mean() <= 0.08
    assert ((1 / 1000) <= p).all() and (p <= 1).all()


def test_pvalues_count_ties_on_a_discrete_statistic():
    # |tau| of 4 models takes 4 values; |tau| = 1 has probability 1/12 > 0.05: a p-value that does not
    # count the null values equal to the score (">" for ">=") calls those measures significant
    t = pd.DataFrame({"gap": [0.1, 0.2, 0.3, 0.4]})
    c = tau_chance(t, "gap", n=4000, seed=0)
    assert set(np.round(np.abs(c.values), 12)) == {0.0, round(1 / 3, 12), round(2 / 3, 12), 1.0}
    rng = np.random.default_rng(2)
    p = np.array([c.pvalue(kendall_tau(rng.normal(size=4), t["gap"])) for _ in range(3000)])
    for alpha in (0.05, 0.1, 0.2, 0.5):
        assert (p <= alpha).mean() <= alpha + 0.02, alpha
    assert c.pvalue(1.0) == pytest.approx(np.mean(np.abs(c.values) >= 1 - 1e-12), abs=1e-3) and c.pvalue(1.0) > 0.05
    # two-sided: the sign of tau does not matter
    assert c.pvalue(-2 / 3) == c.pvalue(2 / 3)


def test_pvalue_arithmetic():
    c = ChanceLevel("cmi", "gap", np.array([1.0, 2.0, 2.0, 3.0]), 8)
    assert c.pvalue(2.0) == 4 / 5 and c.pvalue(3.0) == 2 / 5 and c.pvalue(0.0) == 1.0 and c.pvalue(3.5) == 1 / 5
    assert c.pvalue(2.0 + 1e-13) == 4 / 5  # a rounding difference is still a tie
    assert np.isnan(c.pvalue(float("nan")))
    assert c.mean == 2.0 and c.sd == pytest.approx(np.std([1, 2, 2, 3], ddof=1)) and c.n == 4
    assert c.q95 == pytest.approx(np.quantile([1, 2, 2, 3], 0.95))
    tau = ChanceLevel("tau", "gap", np.array([-0.9, -0.1, 0.2, 0.5]), 8)
    assert tau.pvalue(0.5) == 3 / 5 and tau.pvalue(-0.5) == 3 / 5 and tau.pvalue(0.95) == 1 / 5
    assert tau.abs_q95 == pytest.approx(np.quantile([0.9, 0.1, 0.2, 0.5], 0.95))
    assert tau.q95 == pytest.approx(np.quantile([-0.9, -0.1, 0.2, 0.5], 0.95))
    assert np.isnan(ChanceLevel("cmi", "gap", np.full(3, np.nan), 4).pvalue(5.0))


def test_the_gap_itself_is_as_far_from_chance_as_n_allows():
    t, names = _grid(6)
    t["m"] = 2 * t["gap"] + 1
    n = 199
    assert cmi_chance(t, "gap", names, n=n).pvalue(pgdl_cmi(t, "m", "gap", names).score) == 1 / (n + 1)
    assert tau_chance(t, "gap", n=n).pvalue(kendall_tau(t["m"], t["gap"])) == 1 / (n + 1)
    assert gtau_chance(t, "gap", names, n=n).pvalue(granulated_tau(t, "m", "gap", names).score) == 1 / (n + 1)
    rng = np.random.default_rng(0)
    for k in range(5):
        t[f"r{k}"] = rng.normal(size=len(t))
    for metric in ("cmi", "tau", "gtau"):
        s = best_of_k(t, ["r0", "m", "r1", "r2", "r3", "r4"], "gap", names, metric=metric, n=n)
        assert isinstance(s, SelectionTest) and s.best_measure == "m" and s.pvalue == 1 / (n + 1), metric


def test_best_of_k_random_candidates_are_no_better_than_chance_but_look_better_alone():
    t, names = _grid(0)
    ms = [f"m{k}" for k in range(8)]
    significant = naive = 0
    n_grids = 120
    for s in range(n_grids):
        rng = np.random.default_rng(100 + s)
        t["gap"] = rng.uniform(size=len(t))
        for m in ms:
            t[m] = rng.normal(size=len(t))
        test = best_of_k(t, ms, "gap", names, n=39, seed=s)  # p < 0.05 iff no permutation reaches it: P = 1/40
        significant += test.pvalue < 0.05
        naive += cmi_chance(t, "gap", names, n=39, seed=s).pvalue(test.observed) < 0.05
    assert significant <= 0.05 * n_grids  # the best of 8 random measures, judged as such: >= 95% not significant
    assert naive >= 0.10 * n_grids  # judged as one measure, the winner of 8 often looks significant (about 18%)


# ---------------------------------------------------------------- rows: missing, mask, order


def test_missing_rows_are_listed_and_the_mask_is_honoured():
    t, names = _grid(7, (3, 3, 2))
    t.index = [f"r{i}" for i in range(len(t))]
    t.loc[["r3", "r10"], "gap"] = np.nan
    t["m"] = np.random.default_rng(0).normal(size=len(t))
    t.loc[["r0", "r10"], "m"] = np.nan
    mask = t["m"].notna()
    for fn, args in ((cmi_chance, (names,)), (tau_chance, ()), (gtau_chance, (names,))):
        c = fn(t, "gap", *args, n=300, seed=4, mask=mask)
        assert c.missing == ("r0", "r3", "r10") and c.n_models == len(t) - 3
        same = fn(t, "gap", *args, n=300, seed=4, mask="m")  # a column name: its finite rows
        clean = fn(t.dropna(subset=["gap", "m"]), "gap", *args, n=300, seed=4)
        np.testing.assert_array_equal(c.values, same.values)
        np.testing.assert_array_equal(c.values, clean.values)  # exactly the rows a complete table would give
        unmasked = fn(t, "gap", *args, n=300, seed=4)
        assert unmasked.missing == ("r3", "r10")
    assert pgdl_cmi(t, "m", "gap", names).n_models == cmi_chance(t, "gap", names, n=5, mask="m").n_models


def test_pgdl_cmi_and_granulated_tau_report_what_they_drop(caplog):
    t, names = _grid(8)
    t["m"] = np.random.default_rng(0).normal(size=len(t))
    t.loc[[1, 5], "m"] = np.nan
    t.loc[9, "gap"] = np.nan
    with caplog.at_level(logging.WARNING, logger="neurograph.scoring.generalization"):
        r = pgdl_cmi(t, "m", "gap", names)
        g = granulated_tau(t, "m", "gap", names)
    assert r.missing == (1, 5, 9) and r.n_dropped == 3 and g.missing == (1, 5, 9) and g.n_dropped == 3
    text = caplog.text
    assert "pgdl_cmi" in text and "granulated_tau" in text and "'m'" in text and "incomplete grid" in text
    row = t.loc[5]
    assert f"5 (a={float(row['a'])!r}, b={float(row['b'])!r}, c={float(row['c'])!r})" in text  # the cell is named
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="neurograph.scoring.generalization"):
        assert pgdl_cmi(t.dropna(), "m", "gap", names).missing == ()
    assert caplog.text == ""


@settings(max_examples=15, deadline=None)
@given(seed=hs.integers(0, 10_000), ties=hs.booleans())
def test_chance_levels_do_not_depend_on_row_order(seed, ties):
    t, names = _grid(seed % 50, (2, 3, 2), ties=ties)
    t["m0"] = np.random.default_rng(seed).normal(size=len(t))
    t["m1"] = np.random.default_rng(seed + 1).integers(0, 3, len(t)).astype(float)
    shuffled = t.sample(frac=1.0, random_state=seed)
    for fn, args in ((cmi_chance, (names,)), (tau_chance, ()), (gtau_chance, (names,))):
        np.testing.assert_array_equal(fn(t, "gap", *args, n=40, seed=seed).values,
                                      fn(shuffled, "gap", *args, n=40, seed=seed).values)
    for metric in ("cmi", "tau", "gtau"):
        a = best_of_k(t, ["m0", "m1"], "gap", names, metric=metric, n=30, seed=seed, strata="a")
        b = best_of_k(shuffled, ["m0", "m1"], "gap", names, metric=metric, n=30, seed=seed, strata="a")
        np.testing.assert_array_equal(a.null_max, b.null_max)
        assert a.pvalue == b.pvalue and a.best_measure == b.best_measure


def test_seed_reproduces_and_differs():
    t, names = _grid(9)
    a, b = cmi_chance(t, "gap", names, n=100, seed=1), cmi_chance(t, "gap", names, n=100, seed=1)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, cmi_chance(t, "gap", names, n=100, seed=2).values)
    gen = cmi_chance(t, "gap", names, n=100, seed=np.random.default_rng(1))
    np.testing.assert_array_equal(gen.values, a.values)


def test_undefined_metric_gives_nan_chance():
    # two hyper-parameters, one model per cell: every stratum holds one pair, the gap's sign is constant
    t = pd.DataFrame(list(itertools.product(range(3), range(3))), columns=["a", "b"])
    t["gap"] = np.arange(9.0)
    c = cmi_chance(t, "gap", ["a", "b"], n=20)
    assert np.isnan(c.values).all() and np.isnan(c.mean) and np.isnan(c.q95) and np.isnan(c.pvalue(1.0))
    t["single"] = 0  # no group of two models differing only in 'single'... and 'a' alone: groups of 1
    g = gtau_chance(t.assign(a=np.arange(9)), "gap", ["a"], n=10)
    assert np.isfinite(g.values).all()  # one hyper-parameter: one group of all models
    none = gtau_chance(t.assign(a=np.arange(9), b=np.arange(9)), "gap", ["a", "b"], n=10)
    assert np.isnan(none.values).all()


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("n", [0, -3, True, 2.5, "10", MAX_N + 1, 10**12])
def test_bad_n_is_refused_and_named(n):
    t, names = _grid(0)
    t["m"] = t["gap"]
    for call in (lambda: cmi_chance(t, "gap", names, n=n), lambda: tau_chance(t, "gap", n=n),
                 lambda: gtau_chance(t, "gap", names, n=n), lambda: best_of_k(t, ["m"], "gap", names, n=n)):
        with pytest.raises(OptionError, match=r"\bn\b"):
            call()


def test_hostile_columns_and_options_are_named():
    t, names = _grid(0)
    t["m"] = t["gap"]
    with pytest.raises(DataError, match="'nope'"):
        cmi_chance(t, "nope", names)
    with pytest.raises(DataError, match="'depth'"):
        cmi_chance(t, "gap", ["a", "depth"])
    with pytest.raises(DataError, match="'depth'"):
        gtau_chance(t, "gap", ["depth"])
    with pytest.raises(DataError, match="'gap'"):
        tau_chance(t.assign(gap=np.nan), "gap")
    with pytest.raises(DataError, match="'gap'"):
        cmi_chance(t.assign(gap=np.nan), "gap", names)
    with pytest.raises(DataError, match="'gap'"):
        best_of_k(t.assign(gap=np.nan), ["m"], "gap", names)
    with pytest.raises(DataError, match="'a'"):
        cmi_chance(t.assign(a=np.where(t.index == 0, np.nan, t["a"])), "gap", names)
    with pytest.raises(OptionError, match="mask"):
        cmi_chance(t, "gap", names, mask=np.ones(3, dtype=bool))
    with pytest.raises(OptionError, match="mask"):
        cmi_chance(t, "gap", names, mask=np.ones(len(t)))  # not boolean
    with pytest.raises(DataError, match="'zz'"):
        cmi_chance(t, "gap", names, mask="zz")
    with pytest.raises(OptionError, match="metric"):
        best_of_k(t, ["m"], "gap", names, metric="spearman")
    with pytest.raises(OptionError, match="measures"):
        best_of_k(t, [], "gap", names)
    with pytest.raises(OptionError, match="'m'"):
        best_of_k(t, ["m", "m"], "gap", names)
    with pytest.raises(DataError, match="'q'"):
        best_of_k(t, ["m", "q"], "gap", names)
    with pytest.raises(DataError, match="'m'"):
        best_of_k(t.assign(m=np.nan), ["m"], "gap", names)
    with pytest.raises(DataError, match="'s'"):
        best_of_k(t, ["m"], "gap", names, strata="s")
    with pytest.raises(OptionError, match="strata"):
        best_of_k(t, ["m"], "gap", names, strata=[0, 1])
    with pytest.raises(OptionError, match="strata"):
        best_of_k(t, ["m"], "gap", names, strata=5)
    with pytest.raises(DataError, match="strata"):
        best_of_k(t, ["m"], "gap", names, strata=np.where(t.index == 0, np.nan, 1.0))
    with pytest.raises(OptionError, match="hparams"):
        gtau_chance(t, "gap", [])
    with pytest.raises(OptionError, match="seed"):
        cmi_chance(t, "gap", names, seed="x")
    with pytest.raises(DataError, match="DataFrame"):
        cmi_chance(t.to_numpy(), "gap", names)
