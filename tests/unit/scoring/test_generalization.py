"""pgdl_cmi / kendall_tau / granulated_tau / cv_r2 against independent brute force, scipy and invariants."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

from neurograph.errors import DataError, OptionError
from neurograph.scoring.generalization import (
    GranulatedTau,
    PgdlScore,
    cv_r2,
    granulated_tau,
    kendall_tau,
    pgdl_cmi,
)

# ---------------------------------------------------------------- brute force, written from the definitions


def _grid(sizes, rng, *, ties=True, repeats=1):
    """A complete grid of hyper-parameters h0, h1, ... with a random measure and gap (integers: ties)."""
    names = [f"h{k}" for k in range(len(sizes))]
    values = [rng.permutation([0.5 * v + k for v in range(s)]) for k, s in enumerate(sizes)]  # unsorted values
    rows = [combo for combo in itertools.product(*values) for _ in range(repeats)]
    t = pd.DataFrame(rows, columns=names)
    n = len(t)
    if ties:
        t["m"] = rng.integers(0, 4, n).astype(float)
        t["gap"] = rng.integers(0, 5, n) / 10.0
    else:
        t["m"] = rng.permutation(n).astype(float)
        t["gap"] = rng.permutation(n) / n
    return t, names


def _brute_pgdl(t, measure, gap, hparams):
    """Enumerate ordered pairs, build the strata dict, count 2 x 2 tables by hand."""
    n = len(t)
    m, g = t[measure].tolist(), t[gap].tolist()
    hp = {h: t[h].tolist() for h in hparams}
    sets = list(itertools.combinations(hparams, 2)) if len(hparams) >= 2 else [tuple(hparams)]
    values = []
    for cond in sets:
        strata = {}
        for i in range(n):
            for j in range(n):
                key = tuple(v for h in cond for v in (hp[h][i], hp[h][j]))
                cell = ("+" if g[i] > g[j] else "-", "+" if m[i] > m[j] else "-")
                strata.setdefault(key, Counter())[cell] += 1
        mis, hs_ = [], []
        for tab in strata.values():
            total = sum(tab.values())
            pg = {a: sum(c for (x, _), c in tab.items() if x == a) / total for a in "+-"}
            pm = {b: sum(c for (_, y), c in tab.items() if y == b) / total for b in "+-"}
            mi = sum(c / total * math.log2(c / total / (pg[a] * pm[b])) for (a, b), c in tab.items() if c)
            mis.append(mi)
            hs_.append(-sum(p * math.log2(p) for p in pg.values() if p > 0))
        mean_h = sum(hs_) / len(hs_)
        values.append(sum(mis) / len(mis) / mean_h if mean_h > 0 else float("nan"))
    return 100 * min(values) if not any(math.isnan(v) for v in values) else float("nan"), values


def _brute_tau(x, y):
    n = len(x)
    s = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i in range(n) for j in range(n) if i != j)
    return s / (n * (n - 1))


def _brute_granulated(t, measure, gap, hparams):
    psis = {}
    for h in hparams:
        groups = {}
        for _, row in t.iterrows():
            groups.setdefault(tuple(row[o] for o in hparams if o != h), []).append((row[measure], row[gap]))
        taus = [_brute_tau(*map(list, zip(*pairs))) for pairs in groups.values() if len(pairs) >= 2]
        psis[h] = sum(taus) / len(taus)
    return sum(psis.values()) / len(psis), psis


# ---------------------------------------------------------------- pgdl_cmi


@settings(max_examples=25, deadline=None)
@given(hs.integers(0, 10_000))
def test_pgdl_equals_brute_force_on_complete_grids(seed):
    rng = np.random.default_rng(seed)
    sizes = [int(s) for s in rng.integers(2, 4, 3)]
    t, names = _grid(sizes, rng, ties=bool(seed % 2))
    got = pgdl_cmi(t, "m", "gap", names)
    want, values = _brute_pgdl(t, "m", "gap", names)
    assert isinstance(got, PgdlScore)
    assert got.score == pytest.approx(want, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(got.per_pair["value"], values, rtol=1e-12, atol=1e-14)
    assert got.per_pair[["h1", "h2"]].values.tolist() == [list(p) for p in itertools.combinations(names, 2)]
    assert got.n_models == len(t) and got.n_pairs == len(t) ** 2 and got.n_dropped == 0
    # complete grid: every (h1_i, h1_j, h2_i, h2_j) combination is a stratum
    k = dict(zip(names, sizes))
    assert got.per_pair["n_strata"].tolist() == [(k[a] * k[b]) ** 2 for a, b in itertools.combinations(names, 2)]


@settings(max_examples=15, deadline=None)
@given(hs.integers(0, 10_000))
def test_pgdl_equals_brute_force_on_incomplete_grids_with_repeats(seed):
    rng = np.random.default_rng(seed)
    t, names = _grid([2, 3, 2, 2], rng, repeats=2)
    t = t.sample(frac=0.6, random_state=seed).reset_index(drop=True)
    want, _ = _brute_pgdl(t, "m", "gap", names)
    assert pgdl_cmi(t, "m", "gap", names).score == pytest.approx(want, rel=1e-12, abs=1e-12, nan_ok=True)


def test_pgdl_with_one_or_no_hyper_parameter():
    t, _ = _grid([3, 4], np.random.default_rng(1), repeats=2)
    one = pgdl_cmi(t, "m", "gap", "h0")
    assert one.score == pytest.approx(_brute_pgdl(t, "m", "gap", ["h0"])[0], rel=1e-12)
    assert one.per_pair[["h1", "h2"]].values.tolist() == [["h0", None]] and one.per_pair["n_strata"][0] == 9
    none = pgdl_cmi(t, "m", "gap", [])
    assert none.score == pytest.approx(_brute_pgdl(t, "m", "gap", [])[0], rel=1e-12)
    assert none.per_pair["n_strata"].tolist() == [1]


def test_pgdl_two_hparams_one_model_per_configuration_is_undefined():
    # every stratum holds one pair: the gap's sign never varies within a stratum (0/0)
    t, names = _grid([3, 3], np.random.default_rng(2))
    r = pgdl_cmi(t, "m", "gap", names)
    assert math.isnan(r.score) and r.per_pair["mean_entropy"][0] == 0.0
    assert math.isnan(_brute_pgdl(t, "m", "gap", names)[0])


@settings(max_examples=30, deadline=None)
@given(hs.integers(0, 10_000), hs.sampled_from(["affine", "cube", "exp"]))
def test_invariant_to_increasing_transforms_and_row_order(seed, kind):
    rng = np.random.default_rng(seed)
    t, names = _grid([2, 3, 2], rng, ties=bool(seed % 2))
    f = {"affine": lambda v: 3.0 * v + 7.0, "cube": lambda v: v ** 3 - 2.0, "exp": np.exp}[kind]
    moved = t.assign(m=f(t["m"]))
    shuffled = t.sample(frac=1.0, random_state=seed)
    base = (pgdl_cmi(t, "m", "gap", names).score, kendall_tau(t["m"], t["gap"]),
            granulated_tau(t, "m", "gap", names).score)
    for other in (moved, shuffled):
        again = (pgdl_cmi(other, "m", "gap", names).score, kendall_tau(other["m"], other["gap"]),
                 granulated_tau(other, "m", "gap", names).score)
        assert again == base or (np.isnan(base[0]) and again[1:] == base[1:])


@settings(max_examples=20, deadline=None)
@given(hs.integers(0, 10_000))
def test_gap_as_measure_scores_100_and_minus_gap_does_not(seed):
    rng = np.random.default_rng(seed)
    t, names = _grid([2, 3, 2], rng, ties=True)
    assert pgdl_cmi(t.assign(m=t["gap"]), "m", "gap", names).score == pytest.approx(100.0)  # ties included
    flipped = t.assign(m=-t["gap"])
    r = pgdl_cmi(flipped, "m", "gap", names)
    assert r.score == pytest.approx(_brute_pgdl(flipped, "m", "gap", names)[0], rel=1e-12)
    assert r.score < 100.0    # self-pairs sit in (-, -) for both gap and -gap
    # without ties, Kendall and granulated tau are exactly +1 / -1
    u, _ = _grid([2, 3, 2], rng, ties=False)
    assert kendall_tau(u["gap"], u["gap"]) == 1.0 and kendall_tau(-u["gap"], u["gap"]) == -1.0
    assert granulated_tau(u.assign(m=u["gap"]), "m", "gap", names).score == 1.0
    assert granulated_tau(u.assign(m=-u["gap"]), "m", "gap", names).score == -1.0


def test_independent_measure_scores_near_zero():
    rng = np.random.default_rng(0)
    t, names = _grid([2] * 7, rng, ties=False)    # 128 models, 16 strata of 1024 pairs per hparam pair
    t["m"] = rng.permutation(len(t)).astype(float)
    assert 0.0 <= pgdl_cmi(t, "m", "gap", names).score < 1.0
    assert abs(kendall_tau(t["m"], t["gap"])) < 0.2     # about 3 standard errors at n = 128
    assert abs(granulated_tau(t, "m", "gap", names).score) < 0.2


def test_nan_rows_are_dropped_and_counted():
    t, names = _grid([2, 3, 2], np.random.default_rng(3), repeats=2)
    holed = t.copy()
    holed.loc[[0, 5], "m"] = np.nan
    holed.loc[7, "gap"] = np.inf
    clean = holed.drop(index=[0, 5, 7])
    r, c = pgdl_cmi(holed, "m", "gap", names), pgdl_cmi(clean, "m", "gap", names)
    assert r.score == c.score and r.n_dropped == 3 and r.n_models == len(t) - 3
    g = granulated_tau(holed, "m", "gap", names)
    assert g.score == granulated_tau(clean, "m", "gap", names).score and g.n_dropped == 3
    assert kendall_tau(holed["m"], holed["gap"]) == kendall_tau(clean["m"], clean["gap"])
    assert cv_r2(holed, "m", "gap") == cv_r2(clean, "m", "gap")


# ---------------------------------------------------------------- kendall_tau, granulated_tau


@settings(max_examples=40, deadline=None)
@given(hs.integers(0, 10_000))
def test_kendall_tau_is_tau_a_and_equals_scipy_without_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    x, y = rng.integers(0, 5, n).astype(float), rng.integers(0, 5, n).astype(float)
    assert kendall_tau(x, y) == pytest.approx(_brute_tau(x, y), abs=1e-15)
    u, v = rng.permutation(n).astype(float), rng.standard_normal(n)
    assert kendall_tau(u, v) == pytest.approx(st.kendalltau(u, v, variant="b").statistic, abs=1e-12)


def test_kendall_tau_with_ties_is_below_tau_b():
    x, y = [1, 1, 2, 3], [1, 2, 3, 4]
    assert kendall_tau(x, y) == pytest.approx(5 / 6)
    assert st.kendalltau(x, y).statistic > 5 / 6


@settings(max_examples=15, deadline=None)
@given(hs.integers(0, 10_000))
def test_granulated_tau_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    t, names = _grid([int(s) for s in rng.integers(2, 4, 3)], rng, ties=bool(seed % 2))
    got = granulated_tau(t, "m", "gap", names)
    want, psis = _brute_granulated(t, "m", "gap", names)
    assert isinstance(got, GranulatedTau)
    assert got.score == pytest.approx(want, abs=1e-12)
    np.testing.assert_allclose(got.per_hparam["psi"], [psis[h] for h in names], atol=1e-12)
    sizes = {h: t[h].nunique() for h in names}
    assert got.per_hparam["n_groups"].tolist() == [len(t) // sizes[h] for h in names]


def test_granulated_tau_skips_a_hyper_parameter_that_never_varies():
    t, names = _grid([2, 3], np.random.default_rng(4), ties=False)
    t["fixed"] = 1
    g = granulated_tau(t, "m", "gap", [*names, "fixed"])
    assert math.isnan(g.per_hparam["psi"].iloc[2]) and g.per_hparam["n_groups"].iloc[2] == 0
    assert g.score == pytest.approx(g.per_hparam["psi"].iloc[:2].mean())


# ---------------------------------------------------------------- cv_r2


def test_cv_r2_perfect_linear_relation_is_one():
    rng = np.random.default_rng(5)
    m = rng.standard_normal(40)
    t = pd.DataFrame({"m": m, "gap": 0.2 - 0.05 * m})
    assert cv_r2(t, "m", "gap") == pytest.approx(1.0)
    assert cv_r2(t, "m", "gap", folds=10, seed=np.random.default_rng(1)) == pytest.approx(1.0)


def test_cv_r2_of_noise_is_at_most_about_zero():
    rng = np.random.default_rng(6)
    scores = []
    for _ in range(10):
        t = pd.DataFrame({"m": rng.standard_normal(200), "gap": rng.standard_normal(200)})
        scores.append(cv_r2(t, "m", "gap", seed=int(rng.integers(1000))))
    assert max(scores) < 0.03 and np.mean(scores) <= 0.0 and min(scores) > -0.1


def test_cv_r2_constant_target_is_nan():
    assert math.isnan(cv_r2(pd.DataFrame({"m": np.arange(6.0), "gap": np.ones(6)}), "m", "gap"))


# ---------------------------------------------------------------- errors name the culprit


def test_errors_name_the_culprit():
    t, names = _grid([2, 2, 2], np.random.default_rng(7))
    t["label"] = "x"
    for fn in (lambda **k: pgdl_cmi(t, hparams=names, **k), lambda **k: granulated_tau(t, hparams=names, **k),
               lambda **k: cv_r2(t, **k)):
        with pytest.raises(DataError, match="'nope'.*measure"):
            fn(measure="nope", target="gap")
        with pytest.raises(DataError, match="'missing'.*target"):
            fn(measure="m", target="missing")
        with pytest.raises(DataError, match="'label'.*numeric"):
            fn(measure="label", target="gap")
    for fn in (pgdl_cmi, granulated_tau):
        with pytest.raises(DataError, match="'lr'.*hyper-parameter"):
            fn(t, "m", "gap", [*names, "lr"])
        with pytest.raises(OptionError, match="'h0' twice"):
            fn(t, "m", "gap", ["h0", "h0"])
        with pytest.raises(OptionError, match="hparams must be"):
            fn(t, "m", "gap", 3)
        with pytest.raises(DataError, match="DataFrame"):
            fn(t.to_dict(), "m", "gap", names)
        with pytest.raises(DataError, match="'h1'.*missing"):
            fn(t.assign(h1=t["h1"].where(t.index > 0)), "m", "gap", names)
        with pytest.raises(DataError, match="at least 2"):
            fn(t.assign(m=np.nan), "m", "gap", names)
    with pytest.raises(OptionError, match="hparams is empty"):
        granulated_tau(t, "m", "gap", [])
    with pytest.raises(OptionError, match="folds"):
        cv_r2(t, "m", "gap", folds=1)
    with pytest.raises(OptionError, match="seed"):
        cv_r2(t, "m", "gap", seed="a")
    with pytest.raises(DataError, match="folds=9.*got 8"):
        cv_r2(t, "m", "gap", folds=9)
    with pytest.raises(DataError, match="same length"):
        kendall_tau([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="at least 2"):
        kendall_tau([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(DataError, match="x must be a numeric array"):
        kendall_tau(["a", "b"], [1, 2])
