"""The discovery / confirmation protocol: verdicts only as strong as the held-out evidence, never a silent NaN."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd
import pytest

from neurograph.errors import DataError
from neurograph.scoring.benchmark import SMOKE, benchmark_summary, confirm_measures, evaluate_measures
from neurograph.scoring.chance import best_of_k, cmi_chance
from neurograph.scoring.generalization import granulated_tau, kendall_tau, pgdl_cmi

HP = ["width", "depth", "lr"]
WORDS = ("beats", "matches", "loses to")


def _grid(rng, *, seeds=(0, 1, 2), n_ng=3, n_bl=3, planted=False):
    """A 3 x 3 x 2 grid per seed; the gap depends on the hyper-parameters (plus noise); noise measures."""
    rows = [{"model": f"t_w{w}_d{d}_l{l}_s{s}", "seed": s, "width": w, "depth": d, "lr": l}
            for w, d, l, s in itertools.product((8, 16, 32), (1, 2, 3), (0.1, 0.01), seeds)]
    t = pd.DataFrame(rows)
    n = len(t)
    t["gap"] = 0.004 * t["width"] + 0.03 * t["depth"] + rng.normal(0, 0.03, n)
    t["test_acc"] = 0.9 - t["gap"] + rng.normal(0, 0.01, n)
    t["train_acc"] = t["test_acc"] + t["gap"]
    for k in range(n_ng):
        t[f"ng_noise{k}"] = rng.normal(size=n)
    for k in range(n_bl):
        t[f"bl_noise{k}"] = rng.normal(size=n)
    if planted:
        t["ng_planted"] = -t["gap"] + rng.normal(0, 0.002, n)
    return t


def _summary(t, n=100):
    return benchmark_summary(confirm_measures(t, HP, n_chance=n).assign(task="t")).iloc[0]


@pytest.mark.slow  # 20 simulated grids: about 10 s on a loaded 2-core machine
def test_random_measures_are_not_judged_better_than_chance():
    words = [_summary(_grid(np.random.default_rng(s), n_ng=2, n_bl=2), n=50)["word"] for s in range(20)]
    assert sum(w == "undecided" for w in words) >= 0.95 * len(words)
    assert "beats" not in words


def test_a_planted_measure_beats_noise_baselines_on_every_held_out_seed():
    v = _summary(_grid(np.random.default_rng(1), planted=True), n=200)
    assert v["measure"] == "ng_planted" and v["word"] == "beats", v["verdict"]
    assert v["held_out"] == "1;2" and all(float(d) > 10 for d in v["differences"].split(";"))
    assert v["verdict"].startswith("t: neurograph beats the baselines on every held-out seed")


def test_confirmation_equals_the_metrics_one_by_one():
    t = _grid(np.random.default_rng(2), planted=True)
    c = confirm_measures(t, HP, n_chance=80, seed=3)
    assert c["role"].tolist() == ["discovery", "held-out", "held-out"] * 2
    assert set(c["family"]) == {"neurograph", "baseline"}
    # the choice is made on seed 0 alone: the best CMI of the family there
    d = t[t.seed == 0].reset_index(drop=True)
    ng = [m for m in t if m.startswith("ng_")]
    assert c.loc[0, "measure"] == max(ng, key=lambda m: pgdl_cmi(d, m, "gap", HP).score)
    sel = best_of_k(d, ng, "gap", HP, n=80, seed=3)
    assert c.loc[0, "selection_p"] == sel.pvalue and c.loc[0, "n_candidates"] == len(ng)
    for i in (1, 2):
        r = c.loc[i]
        g = t[t.seed == r["seed"]].reset_index(drop=True)
        chance = cmi_chance(g, "gap", HP, n=80, seed=3, mask=np.ones(len(g), bool))
        assert r["cmi_gap"] == pytest.approx(pgdl_cmi(g, r["measure"], "gap", HP).score)
        assert r["chance_q95"] == chance.q95 and r["chance_p"] == chance.pvalue(r["cmi_gap"])
        assert r["tau_gap"] == pytest.approx(kendall_tau(g[r["measure"]], g["gap"]))
        assert r["gtau_acc"] == pytest.approx(granulated_tau(g, r["measure"], "test_acc", HP).score)
        assert np.isnan(r["selection_p"])  # only the discovery seed chose


def test_nan_cells_are_flagged_and_scored_on_the_rest(caplog):
    t = _grid(np.random.default_rng(3), planted=True)
    hole = t.index[(t.seed == 1) & (t.width == 8) & (t.depth == 1) & (t.lr == 0.1)][0]
    t.loc[hole, "ng_planted"] = np.nan
    t["bl_sparse"] = np.where(t.depth == 1, np.nan, np.arange(len(t), dtype=float))  # a third of the grid
    with caplog.at_level(logging.WARNING):
        c = confirm_measures(t, HP, n_chance=60)
    assert "bl_sparse" in caplog.text and "fewer than 95%" in caplog.text  # left out, by name
    assert "bl_sparse" not in set(c["measure"])
    r = c[(c.family == "neurograph") & (c.seed == 1)].iloc[0]
    assert r["measure"] == "ng_planted" and r["n_missing"] == 1 and r["n_models"] == 17
    assert r["missing_cells"] == "t_w8_d1_l0.1_s1"
    g = t[t.seed == 1]
    assert r["cmi_gap"] == pytest.approx(pgdl_cmi(g.dropna(subset=["ng_planted"]), "ng_planted", "gap", HP).score)
    # the chance level is taken on the same 17 rows
    assert r["chance_q95"] == cmi_chance(g.reset_index(drop=True), "gap", HP, n=60, seed=0,
                                         mask=g["ng_planted"].notna().to_numpy()).q95
    v = benchmark_summary(c.assign(task="t")).iloc[0]
    assert "incomplete grid: ng_planted missing on 1 model(s) of seed 1" in v["verdict"]
    e = evaluate_measures(t, HP, n_boot=0).set_index("measure")
    assert e.loc["ng_planted", "n_missing"] == 1 and e.loc["ng_planted", "missing_cells"] == "t_w8_d1_l0.1_s1"
    assert e.loc["ng_noise0", "n_missing"] == 0 and e.loc["ng_noise0", "missing_cells"] == ""


def _conf(ours, base, *, p_ours=0.001, p_base=0.001, sd=2.0):
    """A confirmation table: CMI per seed (0, 1, 2) for ours and the baseline."""
    rows = []
    for fam, m, cmis, p in (("neurograph", "ng_q", ours, p_ours), ("baseline", "bl_n", base, p_base)):
        for s, v in enumerate(cmis):
            rows.append({"task": "t", "family": fam, "measure": m, "seed": s, "n_candidates": 4, "n_missing": 0,
                         "role": "discovery" if s == 0 else "held-out", "cmi_gap": v, "chance_q95": 12.0,
                         "chance_sd": sd, "chance_p": p if s else 0.5, "selection_p": 0.2 if s == 0 else np.nan})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("ours, base, kw, word, reason", [
    ((30, 25, 24), (20, 15, 14), {}, "beats", "differences seed 1: +10.0, seed 2: +10.0, margins 2.0, 2.0"),
    ((30, 25, 24), (20, 15, 14), {"sd": 12.0}, "matches", "margins 12.0, 12.0"),  # within what noise moves a CMI
    ((30, 25, 24), (20, 15, 26), {}, "undecided", "more seeds: the held-out seeds disagree (seed 1: +10.0, "
                                                 "seed 2: -2.0; margins 2.0, 2.0)"),
    ((30, 25, 24), (20, 15, 26), {"p_ours": 0.2}, "undecided",
     "seed 2: -2.0; margins 2.0, 2.0); within chance: ng_q on seed 1 (CMI 25.0, chance q95 12.0), ng_q on seed 2"),
    ((30, 25, 24), (20, 15, 14), {"p_ours": 0.2}, "undecided", "our measure ng_q is within chance on seed 1 "
                                                               "(CMI 25.0, chance q95 12.0, p 0.200)"),
    ((10, 10, 11), (20, 25, 24), {"p_ours": 0.2}, "loses to", "differences seed 1: -15.0, seed 2: -13.0"),
    ((10, 10, 11), (20, 25, 24), {"p_base": 0.3}, "undecided", "the baseline bl_n is within chance on seed 1"),
    ((20, 20, 21), (20, 21, 20), {}, "matches", "differences seed 1: -1.0, seed 2: +1.0"),
    ((20, 20, 21), (20, 21, 20), {"p_base": 0.3}, "undecided", "within chance"),
    ((20, 20, np.nan), (20, 21, 20), {}, "undecided", "CMI undefined on seed 2"),
])
def test_the_verdict_rule(ours, base, kw, word, reason):
    v = benchmark_summary(_conf(ours, base, **kw)).iloc[0]
    assert v["word"] == word and reason in v["reason"], v["verdict"]
    assert (word in v["verdict"]) and not any(w in v["verdict"] for w in WORDS if w != word)


def test_discovery_scores_decide_nothing():
    # a huge lead on the discovery seed, none on the held-out seeds
    v = benchmark_summary(_conf((90, 20, 21), (10, 20, 20))).iloc[0]
    assert v["word"] == "matches" and "chosen on seed 0: ng_q best of 4 (CMI 90.0, selection p 0.200)" in v["verdict"]


def test_one_seed_is_undecided_and_smoke_has_no_verdict_word():
    c = _conf((30, 25, 24), (20, 15, 14))
    v = benchmark_summary(c[c.seed == 0]).iloc[0]
    assert v["word"] == "undecided" and "no held-out seed" in v["reason"]
    s = benchmark_summary(c, smoke=True)
    assert s["verdict"].tolist() == [f"t: {SMOKE}"] and not any(w in s["verdict"].iloc[0] for w in WORDS)


def test_protocol_inputs_are_checked():
    t = _grid(np.random.default_rng(4), seeds=(0, 1))
    with pytest.raises(DataError, match="discovery seed 5"):
        confirm_measures(t, HP, discovery_seed=5)
    with pytest.raises(DataError, match="'depth2'"):
        confirm_measures(t, ["depth2"])
    with pytest.raises(DataError, match="'task'"):
        benchmark_summary(_conf((1, 2, 3), (1, 2, 3)).drop(columns="task"))
    c = confirm_measures(t, HP, discovery_seed=1, n_chance=20)  # any seed can be the discovery seed
    assert c.loc[c.role == "discovery", "seed"].unique().tolist() == [1]
