"""correlate / label_free_ranking / composite_score against scipy, brute force and closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

from neurograph.scoring.correlation import (_weighted, composite_score, correlate, label_free_ranking)
from neurograph.errors import DataError, OptionError


def _table(n=30, seed=0):
    rng = np.random.default_rng(seed)
    size = rng.random(n)
    a = rng.random(n)
    return pd.DataFrame({"a": a, "b": rng.random(n), "size": size,
                         "test_accuracy": a + size + 0.3 * rng.random(n)})


def test_point_estimates_and_p_values_are_scipy():
    t = _table()
    c = correlate(t, ["a", "b"], n_boot=0).set_index(["metric", "method"])
    for metric in ("a", "b"):
        for method, fn in (("pearson", st.pearsonr), ("spearman", st.spearmanr), ("kendall", st.kendalltau)):
            r, p = fn(t[metric], t["test_accuracy"])
            assert c.loc[(metric, method), "r"] == pytest.approx(r)
            assert c.loc[(metric, method), "p_value"] == pytest.approx(p)
            assert np.isnan(c.loc[(metric, method), "ci_low"])


@settings(max_examples=40, deadline=None)
@given(hs.integers(0, 10_000))
def test_weighted_resample_equals_expanded_sample(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    x = rng.integers(0, 4, n).astype(float)      # small integers: many ties
    y = rng.integers(0, 4, n).astype(float)
    W = rng.integers(0, 3, (4, n)).astype(float)
    for method, fn in (("pearson", st.pearsonr), ("spearman", st.spearmanr), ("kendall", st.kendalltau)):
        with np.errstate(all="ignore"):
            got = _weighted(method, W, x, y)
        for b in range(W.shape[0]):
            xe, ye = np.repeat(x, W[b].astype(int)), np.repeat(y, W[b].astype(int))
            if xe.size < 2 or np.ptp(xe) == 0 or np.ptp(ye) == 0:
                assert np.isnan(got[b])
            else:
                assert got[b] == pytest.approx(fn(xe, ye)[0], abs=1e-9)


def test_partial_correlation_is_residual_correlation_with_t_test():
    t = _table(n=40, seed=3)
    c = correlate(t, "a", covariate="size", n_boot=0).set_index("method")
    Z = np.column_stack([np.ones(40), t["size"]])

    def resid(v):
        return v - Z @ np.linalg.lstsq(Z, v, rcond=None)[0]

    r = np.corrcoef(resid(t["a"].to_numpy()), resid(t["test_accuracy"].to_numpy()))[0, 1]
    assert c.loc["pearson", "partial_r"] == pytest.approx(r)
    tstat = r * np.sqrt(37 / (1 - r * r))
    assert c.loc["pearson", "partial_p"] == pytest.approx(2 * st.t.sf(abs(tstat), 37))
    ranks = t.rank()
    Zr = np.column_stack([np.ones(40), ranks["size"]])
    ra = ranks["a"] - Zr @ np.linalg.lstsq(Zr, ranks["a"], rcond=None)[0]
    ry = ranks["test_accuracy"] - Zr @ np.linalg.lstsq(Zr, ranks["test_accuracy"], rcond=None)[0]
    assert c.loc["spearman", "partial_r"] == pytest.approx(np.corrcoef(ra, ry)[0, 1])
    assert np.isnan(c.loc["kendall", "partial_p"])
    # accuracy depends on size too: controlling for it makes the partial correlation stronger
    assert c.loc["pearson", "partial_r"] > c.loc["pearson", "r"]


def test_bootstrap_intervals_are_seeded_and_sensible():
    t = _table()
    c1 = correlate(t, "a", n_boot=300, seed=5)
    c2 = correlate(t, "a", n_boot=300, seed=5)
    pd.testing.assert_frame_equal(c1, c2)
    assert not c1.equals(correlate(t, "a", n_boot=300, seed=6))
    assert ((c1["ci_low"] <= c1["r"]) & (c1["r"] <= c1["ci_high"])).all()
    wide = correlate(t, "a", n_boot=300, seed=5, confidence=0.99)
    assert ((wide["ci_high"] - wide["ci_low"]) >= (c1["ci_high"] - c1["ci_low"])).all()


def test_cluster_bootstrap_of_duplicated_rows_equals_row_bootstrap():
    t = _table(n=15, seed=1)
    t["run"] = np.arange(15)
    dup = pd.concat([t, t], ignore_index=True)   # every model twice: not independent rows
    base = correlate(t, ["a", "b"], covariate="size", n_boot=200, seed=2)
    clustered = correlate(dup, ["a", "b"], covariate="size", n_boot=200, seed=2, groups="run")
    for col in ("ci_low", "ci_high", "partial_ci_low", "partial_ci_high"):
        np.testing.assert_allclose(clustered[col], base[col], atol=1e-12)
    naive = correlate(dup, ["a"], n_boot=200, seed=2)
    assert (naive["ci_high"] - naive["ci_low"]).mean() < (base["ci_high"] - base["ci_low"]).iloc[:3].mean()


def test_missing_values_constant_columns_and_errors():
    t = _table()
    t.loc[[0, 3], "a"] = np.nan
    t["flat"] = 1.0
    t["name"] = "x"
    c = correlate(t, ["a", "flat"], n_boot=50).set_index(["metric", "method"])
    assert c.loc[("a", "pearson"), "n"] == 28
    assert np.isnan(c.loc[("flat", "spearman"), "r"]) and np.isnan(c.loc[("flat", "spearman"), "ci_low"])
    with pytest.raises(DataError, match="'nope'"):
        correlate(t, "nope")
    with pytest.raises(DataError, match="'name' must be numeric"):
        correlate(t, "name")
    with pytest.raises(OptionError, match="method"):
        correlate(t, "a", methods=["magic"])
    with pytest.raises(OptionError, match="confidence"):
        correlate(t, "a", confidence=1.5)
    with pytest.raises(DataError, match="groups"):
        correlate(t, "a", groups=[1, 2])


def test_label_free_ranking_is_leave_one_out_without_leakage():
    rng = np.random.default_rng(0)
    n = 16
    t = pd.DataFrame({"q": rng.random(n), "h": rng.random(n), "run": np.repeat(np.arange(8), 2)})
    t["test_accuracy"] = 2 * t["q"] - t["h"] + 0.05 * rng.random(n)
    r = label_free_ranking(t, ["q", "h"], groups="run", alpha=0.5)
    assert r.n == 16 and r.n_groups == 8 and r.spearman > 0.9
    # changing the held-out run's accuracy never changes its own predictions
    t2 = t.copy()
    t2.loc[t2["run"] == 3, "test_accuracy"] = [50.0, -50.0]
    r2 = label_free_ranking(t2, ["q", "h"], groups="run", alpha=0.5)
    mask = (t["run"] == 3).to_numpy()
    np.testing.assert_allclose(r2.predictions["predicted"][mask], r.predictions["predicted"][mask])
    assert not np.allclose(r2.predictions["predicted"][~mask], r.predictions["predicted"][~mask])
    # brute force: ridge on features standardised with the training fold
    from sklearn.linear_model import Ridge
    train = t[~mask]
    mu, sd = train[["q", "h"]].mean(), train[["q", "h"]].std(ddof=0)
    model = Ridge(alpha=0.5).fit((train[["q", "h"]] - mu) / sd, train["test_accuracy"])
    want = model.predict((t.loc[mask, ["q", "h"]] - mu) / sd)
    np.testing.assert_allclose(r.predictions["predicted"][mask], want, rtol=1e-10)


def test_label_free_ranking_errors_and_missing_features():
    t = pd.DataFrame({"q": [0.1, 0.2, np.nan, 0.4, 0.5], "test_accuracy": [0.1, 0.2, 0.3, 0.4, 0.5]})
    r = label_free_ranking(t, ["q"])
    assert r.n == 5 and np.isfinite(r.predictions["predicted"]).all()
    with pytest.raises(OptionError, match="label-free"):
        label_free_ranking(t, ["q", "test_accuracy"])
    with pytest.raises(DataError, match="at least 3"):
        label_free_ranking(t.iloc[:2], ["q"])


def test_composite_score_closed_form():
    t = pd.DataFrame({"modularity": [0.1, 0.2, 0.3], "mean_entropy": [0.5, 0.5, 0.2]})
    c = composite_score(t)
    zq = (t["modularity"] - 0.2) / np.std([0.1, 0.2, 0.3])
    ze = (t["mean_entropy"] - 0.4) / np.std([0.5, 0.5, 0.2])
    np.testing.assert_allclose(c, (zq - ze) / 2)
    assert c.name == "composite"
    with pytest.raises(OptionError, match="signs"):
        composite_score(t, ["modularity"], [1, -1])


def test_label_free_ranking_p_value_counts_runs_not_checkpoints():
    # the p-value's independent units are the groups: copying every run's checkpoint three times leaves
    # the ranking's predictions per run and its p-value unchanged, where a row-level p would shrink
    rng = np.random.default_rng(3)
    n = 12
    t = pd.DataFrame({"q": rng.random(n), "run": np.arange(n)})
    t["test_accuracy"] = t["q"] + 0.6 * rng.random(n)
    one = label_free_ranking(t, ["q"], groups="run")
    three = label_free_ranking(pd.concat([t] * 3, ignore_index=True), ["q"], groups="run")
    assert one.n_groups == three.n_groups == n and three.n == 3 * n
    assert three.p_value == pytest.approx(one.p_value, rel=1e-12)
    assert one.p_value == pytest.approx(st.spearmanr(one.predictions["predicted"], t["test_accuracy"])[1], rel=1e-12)
    rows_p = st.spearmanr(three.predictions["predicted"], three.predictions["true"])[1]
    assert rows_p < three.p_value                  # what counting checkpoints as runs would have claimed
    # the p-value is that of the per-run means
    means = three.predictions.groupby("group")[["predicted", "true"]].mean()
    assert three.p_value == pytest.approx(st.spearmanr(means["predicted"], means["true"])[1], rel=1e-12)


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
def test_p_value_counts_runs_when_runs_hold_several_rows(method):
    # three checkpoints per run: the coefficient is over all rows, the p-value over the 8 per-run means
    rng = np.random.default_rng(5)
    runs = 8
    base = pd.DataFrame({"run": np.arange(runs), "q": rng.random(runs)})
    base["test_accuracy"] = base["q"] + 0.5 * rng.random(runs)
    t = pd.concat([base.assign(q=base["q"] + 0.01 * k, test_accuracy=base["test_accuracy"] + 0.005 * k)
                   for k in range(3)], ignore_index=True)
    got = correlate(t, "q", methods=(method,), n_boot=0, groups="run").iloc[0]
    fn = {"pearson": st.pearsonr, "spearman": st.spearmanr, "kendall": st.kendalltau}[method]
    assert got["n"] == 24 and got["n_runs"] == runs
    assert got["r"] == pytest.approx(fn(t["q"], t["test_accuracy"])[0], rel=1e-12)
    means = t.groupby("run")[["q", "test_accuracy"]].mean()
    assert got["p_value"] == pytest.approx(fn(means["q"], means["test_accuracy"])[1], rel=1e-12)
    assert got["p_value"] > fn(t["q"], t["test_accuracy"])[1]          # rows would overstate the evidence
    # one row per run: the plain p-value, groups or not
    one = correlate(base, "q", methods=(method,), n_boot=0, groups="run").iloc[0]
    assert one["p_value"] == pytest.approx(fn(base["q"], base["test_accuracy"])[1], rel=1e-12)
