"""Scoring a table of models against the field's generalization measures: every metric, every measure.

A *model table* has one row per trained model: the hyper-parameter columns, ``seed``, ``model`` (a
name ending in ``_s<seed>``), ``train_acc``, ``test_acc``, ``gap`` (= train_acc - test_acc) and
measure columns named by family: ``ng_*`` (neurograph's co-activation scores), ``fsa_*`` (scores of the
FSA extracted from a recurrent model) and ``bl_*`` (baselines, :mod:`neurograph.scoring.baselines`).
:func:`neurograph.zoo.grid.run_grid` writes such tables.

* :func:`evaluate_measures`: per measure, PGDL's conditional mutual information with the gap
  (:func:`~neurograph.scoring.generalization.pgdl_cmi`, on one seed: one model per grid cell), Kendall's
  tau and granulated tau against test accuracy and against the gap, Spearman with a bootstrap interval
  (whole grid cells resampled), and the cross-validated R^2 of a one-measure linear predictor.
* :func:`family_rankings`: the label-free ranking (leave one grid cell out) from each measure family.
* :func:`confirm_measures`: the discovery / confirmation protocol. Per family the best measure is
  chosen by CMI on the discovery seed and reported on the held-out seeds, each score beside its
  chance level on that seed's grid (:mod:`neurograph.scoring.chance`).
* :func:`benchmark_summary`: per task, a verdict on neurograph's (and the FSA's) chosen measure
  against the chosen baseline that is only as strong as the held-out evidence: "beats", "matches"
  or "loses to" when every held-out seed agrees and the scores are beyond chance, else
  "undecided" with what would decide it.

Nothing NaN enters a score silently: a measure missing on some models is scored on the models
where it is defined and flagged (``n_missing``, ``missing_cells``: the models left out), and a
measure missing on more than 5% of a table is left out of the comparison with a warning that
names it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..errors import DataError, NeurographError
from .chance import best_of_k, cmi_chance
from .correlation import correlate, label_free_ranking
from .generalization import cv_r2, granulated_tau, kendall_tau, pgdl_cmi

__all__ = ["FAMILIES", "benchmark_summary", "confirm_measures", "evaluate_measures",
           "family_rankings", "measure_columns"]

log = logging.getLogger(__name__)

FAMILIES = {"ng": "neurograph", "fsa": "FSA", "bl": "baseline"}
MARGIN = 1.0  # the least margin (CMI points, x100) of a "beats" / "loses to"; see benchmark_summary
ALPHA = 0.05  # a score is beyond chance when its Monte-Carlo p-value on that seed's grid is below this
SMOKE = "smoke test — no verdict"


def measure_columns(table: pd.DataFrame, *, coverage: float = 0.95) -> list[str]:
    """The numeric, non-constant ``ng_*`` / ``fsa_*`` / ``bl_*`` columns defined on at least ``coverage`` of the rows.

    A measure missing on part of a grid (a per-layer score of a layer only deep models have) cannot be
    compared over the grid, so it is left out.

    Examples
    --------
    >>> t = pd.DataFrame({"ng_q": [0.1, 0.2, 0.3], "bl_c": [1.0, 1.0, 1.0], "gap": [0.0, 0.1, 0.2]})
    >>> measure_columns(t)
    ['ng_q']
    """
    keep, partial = [], []
    for c in table.columns:
        if not c.startswith(tuple(f"{f}_" for f in FAMILIES)):
            continue
        v = pd.to_numeric(table[c], errors="coerce")
        if not len(v) or v.nunique(dropna=True) <= 1:
            continue
        if v.notna().mean() >= coverage:
            keep.append(c)
        else:
            partial.append(f"{c} ({int(v.notna().sum())} of {len(v)})")
    if partial:
        log.warning("measures left out, defined on fewer than %.0f%% of the models: %s", 100 * coverage,
                    ", ".join(partial))
    return keep


def _missing(table: pd.DataFrame, measure: str) -> tuple[int, str]:
    """(count, ``;``-joined model names) of the rows where ``measure`` is NaN or infinite."""
    v = pd.to_numeric(table[measure], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v)
    return int(bad.sum()), ";".join(table.loc[bad, "model"].astype(str))


def _cells(table: pd.DataFrame) -> pd.Series:
    """The grid cell of each row: the model name without its ``_s<seed>`` suffix."""
    return table["model"].astype(str).str.replace(r"_s\d+$", "", regex=True)


def evaluate_measures(table: pd.DataFrame, hparams: list[str], *, seed: int = 0, n_boot: int = 1000,
                      folds: int = 5) -> pd.DataFrame:
    """Every metric for every measure column of a model table, sorted by CMI (best first).

    Parameters
    ----------
    table : pandas.DataFrame
        A model table (see the module docstring).
    hparams : list of str
        The grid's hyper-parameter columns.
    seed : int
        The seed whose models form the one-model-per-cell grid for CMI and granulated tau.
    n_boot : int
        Bootstrap resamples of the Spearman interval (grid cells resampled whole).
    folds : int
        Folds of the cross-validated R^2.

    Returns
    -------
    pandas.DataFrame
        One row per measure (those of :func:`measure_columns`): ``measure``, ``family``, ``n`` (models
        where it is defined), ``n_missing``, ``cmi_gap`` (x100), ``tau_acc``, ``tau_gap``, ``gtau_acc``,
        ``gtau_gap``, ``spearman_acc``, ``ci_low``, ``ci_high``, ``cv_r2_acc``, ``missing_cells`` (the
        models where it is NaN, ``;``-joined: every metric is taken on the others); NaN where a metric
        is undefined for a measure (the reason is logged).

    Notes
    -----
    This table is exploratory: every measure's CMI on one seed's grid, with no chance level and no
    held-out check. A winner read off it is the best of 20-40 candidates on the grid it is reported
    on; :func:`confirm_measures` is the protocol that can support a verdict.
    """
    missing = [c for c in ["model", "seed", "train_acc", "test_acc", "gap", *hparams] if c not in table.columns]
    if missing:
        raise DataError(f"the model table has no column(s) {missing}")
    one = table[table["seed"] == seed].reset_index(drop=True)
    if one.empty:
        raise DataError(f"no model of the table has seed {seed}")
    measures = measure_columns(table)
    spear = (correlate(table, measures, "test_acc", methods=("spearman",), n_boot=n_boot, seed=0,
                       groups=_cells(table)).set_index("metric") if measures else pd.DataFrame())
    rows = []
    for m in measures:
        x = pd.to_numeric(table[m], errors="coerce")
        ok = x.notna()
        n_missing, cells = _missing(table, m)
        row = {"measure": m, "family": FAMILIES[m.split("_", 1)[0]], "n": int(ok.sum()), "n_missing": n_missing,
               "missing_cells": cells}
        row["cmi_gap"] = _safe(lambda: pgdl_cmi(one, m, "gap", hparams).score, m, "CMI")
        row["tau_acc"] = kendall_tau(x[ok], table.loc[ok, "test_acc"])
        row["tau_gap"] = kendall_tau(x[ok], table.loc[ok, "gap"])
        row["gtau_acc"] = _safe(lambda: granulated_tau(one, m, "test_acc", hparams).score, m, "granulated tau")
        row["gtau_gap"] = _safe(lambda: granulated_tau(one, m, "gap", hparams).score, m, "granulated tau")
        for key, col in (("spearman_acc", "r"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            row[key] = float(spear.loc[m, col]) if m in spear.index else np.nan
        row["cv_r2_acc"] = _safe(lambda: cv_r2(table, m, "test_acc", folds=folds, seed=0), m, "CV R2")
        rows.append(row)
    cols = ["measure", "family", "n", "n_missing", "cmi_gap", "tau_acc", "tau_gap", "gtau_acc", "gtau_gap",
            "spearman_acc", "ci_low", "ci_high", "cv_r2_acc", "missing_cells"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("cmi_gap", ascending=False, na_position="last").reset_index(drop=True)


def family_rankings(table: pd.DataFrame) -> pd.DataFrame:
    """Label-free ranking from each measure family (ridge, leave one grid cell out, no test labels).

    Returns one row per feature set (``neurograph``, ``FSA``, ``baseline``, ``parameter count``,
    ``neurograph + baselines``): ``features``, ``n_features``, ``spearman`` (predicted vs true test
    accuracy over the held-out models), ``n_groups``.
    """
    measures = measure_columns(table)
    sets = {name: [c for c in measures if c.startswith(f"{prefix}_")] for prefix, name in FAMILIES.items()}
    sets["parameter count"] = ["n_params"] if "n_params" in table.columns else []
    sets["neurograph + baselines"] = sets["neurograph"] + sets["FSA"] + sets["baseline"]
    rows = []
    for name, feats in sets.items():
        if not feats:
            continue
        r = label_free_ranking(table, feats, "test_acc", groups=_cells(table))
        rows.append({"features": name, "n_features": len(feats), "spearman": r.spearman, "n_groups": r.n_groups})
    return pd.DataFrame(rows, columns=["features", "n_features", "spearman", "n_groups"])


def confirm_measures(table: pd.DataFrame, hparams: list[str], *, discovery_seed: int | None = None,
                     n_chance: int = 1000, seed: int = 0) -> pd.DataFrame:
    """The discovery / confirmation protocol: per family, one measure chosen on one seed, judged on the others.

    For each measure family (``ng`` neurograph, ``fsa`` FSA, ``bl`` baselines) the candidates are the
    family's :func:`measure_columns`. On the *discovery* seed (one model per grid cell) the candidate
    with the largest PGDL CMI with the gap is chosen, and that choice is paid for: the selection-aware
    p-value (:func:`~neurograph.scoring.chance.best_of_k`) compares it with the best of the same
    candidates under a permuted gap. The chosen measure is then scored on every *held-out* seed -
    grids of models that played no part in the choice - beside the chance level of CMI on exactly
    that grid and those rows (:func:`~neurograph.scoring.chance.cmi_chance`: random measures scored
    the same way, ``mask`` = the rows where the measure is defined).

    Parameters
    ----------
    table : pandas.DataFrame
        A model table (see the module docstring) with one model per grid cell and seed.
    hparams : list of str
        The grid's hyper-parameter columns (the CMI's conditioning variables).
    discovery_seed : int, optional
        The seed the measures are chosen on; default the smallest seed in the table. Every other
        seed of the table is held out.
    n_chance : int
        Random measures (chance levels) and target permutations (selection test) per score.
    seed : int
        Seed of the random measures and the permutations.

    Returns
    -------
    pandas.DataFrame
        One row per family and seed (discovery first): ``family``, ``seed``, ``role``
        (``"discovery"`` / ``"held-out"``), ``measure`` (the family's choice), ``n_candidates``,
        ``n_models`` (models of that seed where the measure is defined), ``n_missing``,
        ``cmi_gap`` (x100), ``chance_mean``, ``chance_q95``, ``chance_sd`` (CMI of a random measure on
        those rows), ``chance_p`` (Monte-Carlo p-value of ``cmi_gap`` against them), ``selection_p``
        and ``selection_q95`` (discovery row only: the best of ``n_candidates`` under a permuted gap),
        ``tau_acc``, ``tau_gap``, ``gtau_acc``, ``gtau_gap`` (Kendall tau and granulated tau against
        test accuracy and the gap, on that seed's models) and ``missing_cells`` (the models of that
        seed where the measure is NaN, ``;``-joined; the scores are taken on the others).

    Raises
    ------
    DataError
        A column missing, or no model with the discovery seed.

    Examples
    --------
    >>> import itertools
    >>> rng = np.random.default_rng(0)
    >>> t = pd.DataFrame([{"model": f"m_w{w}_d{d}_l{l}_s{s}", "seed": s, "width": w, "depth": d, "lr": l}
    ...                   for w, d, l, s in itertools.product((8, 16, 32), (1, 2, 3), (0.1, 0.01), (0, 1, 2))])
    >>> t["test_acc"], t["gap"] = 0.8, 0.01 * t["width"] + rng.normal(0, 0.05, 54)
    >>> t["ng_tracks"] = t["gap"] + rng.normal(0, 0.01, 54)          # a measure that tracks the gap
    >>> t["bl_noise"], t["bl_noise2"] = rng.normal(size=54), rng.normal(size=54)
    >>> c = confirm_measures(t, ["width", "depth", "lr"], n_chance=200)
    >>> c[["family", "seed", "role", "measure"]].values.tolist()[2:4]
    [['neurograph', 2, 'held-out', 'ng_tracks'], ['baseline', 0, 'discovery', 'bl_noise']]
    >>> bool((c["chance_p"] < 0.05).equals(c["family"] == "neurograph"))   # beyond chance: the tracking measure
    True
    """
    missing = [c for c in ["model", "seed", "test_acc", "gap", *hparams] if c not in table.columns]
    if missing:
        raise DataError(f"the model table has no column(s) {missing}")
    seeds = sorted(int(s) for s in pd.unique(table["seed"]))
    disc = seeds[0] if discovery_seed is None else int(discovery_seed)
    if disc not in seeds:
        raise DataError(f"no model of the table has the discovery seed {disc} (seeds: {seeds})")
    order = [disc] + [s for s in seeds if s != disc]
    grids = {s: table[table["seed"] == s].reset_index(drop=True) for s in order}
    measures = measure_columns(table)
    rows = []
    for prefix, family in FAMILIES.items():
        cands = [m for m in measures if m.startswith(f"{prefix}_")]
        if not cands:
            continue
        d = grids[disc]
        cmis = {m: _safe(lambda m=m: pgdl_cmi(d, m, "gap", hparams).score, m, "CMI") for m in cands}
        scored = [m for m in cands if np.isfinite(cmis[m])]
        if not scored:
            log.warning("family %s: no measure has a CMI on the discovery seed %d; left out", family, disc)
            continue
        best = max(scored, key=lambda m: (cmis[m], -scored.index(m)))
        sel = _safe_obj(lambda: best_of_k(d, scored, "gap", hparams, metric="cmi", n=n_chance, seed=seed),
                        family, "selection test")
        for s in order:
            g = grids[s]
            n_missing, cells = _missing(g, best)
            ok = np.isfinite(pd.to_numeric(g[best], errors="coerce").to_numpy(dtype=float))
            row = {"family": family, "seed": s, "role": "discovery" if s == disc else "held-out", "measure": best,
                   "n_candidates": len(scored), "n_models": int(ok.sum()), "n_missing": n_missing}
            row["cmi_gap"] = cmis[best] if s == disc else _safe(lambda: pgdl_cmi(g, best, "gap", hparams).score,
                                                                best, "CMI")
            chance = _safe_obj(lambda: cmi_chance(g, "gap", hparams, n=n_chance, seed=seed, mask=ok), best,
                               "chance level")
            row["chance_mean"] = chance.mean if chance else np.nan
            row["chance_q95"] = chance.q95 if chance else np.nan
            row["chance_sd"] = chance.sd if chance else np.nan
            row["chance_p"] = chance.pvalue(row["cmi_gap"]) if chance else np.nan
            row["selection_p"] = sel.pvalue if (sel and s == disc) else np.nan
            row["selection_q95"] = sel.q95 if (sel and s == disc) else np.nan
            x = pd.to_numeric(g[best], errors="coerce")
            row["tau_acc"] = kendall_tau(x[ok], g.loc[ok, "test_acc"]) if ok.sum() >= 2 else np.nan
            row["tau_gap"] = kendall_tau(x[ok], g.loc[ok, "gap"]) if ok.sum() >= 2 else np.nan
            row["gtau_acc"] = _safe(lambda: granulated_tau(g, best, "test_acc", hparams).score, best, "granulated tau")
            row["gtau_gap"] = _safe(lambda: granulated_tau(g, best, "gap", hparams).score, best, "granulated tau")
            row["missing_cells"] = cells
            rows.append(row)
    return pd.DataFrame(rows, columns=_CONFIRM_COLUMNS)


_CONFIRM_COLUMNS = ["family", "seed", "role", "measure", "n_candidates", "n_models", "n_missing", "cmi_gap",
                    "chance_mean", "chance_q95", "chance_sd", "chance_p", "selection_p", "selection_q95", "tau_acc",
                    "tau_gap", "gtau_acc", "gtau_gap", "missing_cells"]


def benchmark_summary(confirmation: pd.DataFrame, *, margin: float = MARGIN, alpha: float = ALPHA,
                      smoke: bool = False) -> pd.DataFrame:
    """Per task and per family of ours (neurograph, FSA): a verdict against the baselines, as strong as the evidence.

    ``confirmation`` stacks :func:`confirm_measures` tables with a ``task`` column. On each task, the
    measure our family chose on the discovery seed ("ours") is compared with the measure the baseline
    family chose there ("the baseline") on every held-out seed ``h``:

    * ``diff_h = CMI_h(ours) - CMI_h(baseline)`` (x100), and the margin
      ``margin_h = max(margin, chance_sd_h)``, where ``chance_sd_h`` is the standard deviation of a
      random measure's CMI on seed ``h``'s grid (:func:`~neurograph.scoring.chance.cmi_chance`): a
      difference smaller than what noise alone moves a CMI by is not a difference;
    * a measure is *beyond chance* on seed ``h`` when its Monte-Carlo p-value against random measures
      on that grid (``chance_p``) is below ``alpha``.

    The verdict is

    * **beats** when ``diff_h > margin_h`` on every held-out seed and ours is beyond chance on every
      held-out seed;
    * **loses to** when ``diff_h < -margin_h`` on every held-out seed and the baseline is beyond chance
      on every held-out seed;
    * **matches** when ``|diff_h| <= margin_h`` on every held-out seed and both are beyond chance on
      every held-out seed;
    * **undecided** otherwise, with what would decide it: no held-out seed; a CMI undefined on a
      held-out seed; held-out seeds that disagree (more seeds); or the measure that would carry the
      verdict within chance on a seed (its CMI and the chance q95 there).

    The discovery seed's scores decide nothing (they chose the measures); its selection-aware
    p-value (the best of ``n_candidates`` under a permuted gap) is quoted beside the verdict.

    Parameters
    ----------
    confirmation : pandas.DataFrame
        Stacked :func:`confirm_measures` tables with a ``task`` column.
    margin : float
        The least margin, CMI points (x100).
    alpha : float
        The chance p-value below which a score is beyond chance.
    smoke : bool
        A smoke test (grids too small or models too weak for a verdict): the verdict is
        :data:`SMOKE` ("smoke test - no verdict") and no verdict word is given.

    Returns
    -------
    pandas.DataFrame
        One row per task and family of ours: ``task``, ``family``, ``measure``, ``baseline``,
        ``held_out`` (the seeds, ``;``-joined), ``differences`` (``diff_h``, ``;``-joined),
        ``margins``, ``word`` (``"beats"``, ``"matches"``, ``"loses to"``, ``"undecided"`` or
        ``"smoke test"``), ``reason`` (what decided it, or what would) and ``verdict`` (a sentence).

    Examples
    --------
    >>> row = lambda fam, m, s, cmi, p: {"task": "t", "family": fam, "measure": m, "seed": s, "n_candidates": 3,
    ...     "role": "discovery" if s == 0 else "held-out", "cmi_gap": cmi, "chance_q95": 12.0, "chance_sd": 2.0,
    ...     "chance_p": p, "selection_p": 0.01 if s == 0 else np.nan, "n_missing": 0}
    >>> c = pd.DataFrame([row("neurograph", "ng_q", 0, 30.0, 0.001), row("neurograph", "ng_q", 1, 25.0, 0.001),
    ...                   row("neurograph", "ng_q", 2, 24.0, 0.001), row("baseline", "bl_n", 0, 20.0, 0.01),
    ...                   row("baseline", "bl_n", 1, 15.0, 0.01), row("baseline", "bl_n", 2, 26.0, 0.001)])
    >>> v = benchmark_summary(c).iloc[0]
    >>> v["word"], v["reason"]
    ('undecided', 'more seeds: the held-out seeds disagree (seed 1: +10.0, seed 2: -2.0; margins 2.0, 2.0)')
    >>> benchmark_summary(c, smoke=True)["verdict"].iloc[0]
    't: smoke test \u2014 no verdict'
    """
    if "task" not in confirmation.columns:
        raise DataError("confirmation needs a 'task' column (stack confirm_measures tables per task)")
    rows = []
    for task, c in confirmation.groupby("task", sort=False):
        if smoke:
            rows.append({"task": task, "word": "smoke test", "reason": "smoke test", "verdict": f"{task}: {SMOKE}"})
            continue
        base = c[c["family"] == FAMILIES["bl"]]
        for family in (FAMILIES["ng"], FAMILIES["fsa"]):
            ours = c[c["family"] == family]
            if ours.empty:
                continue
            if base.empty:
                rows.append({"task": task, "family": family, "measure": ours["measure"].iloc[0], "word": "undecided",
                             "reason": "no baseline measure to compare with",
                             "verdict": f"{task}: {family} undecided: no baseline measure to compare with"})
                continue
            rows.append(_verdict(task, family, ours, base, margin, alpha))
    cols = ["task", "family", "measure", "baseline", "held_out", "differences", "margins", "word", "reason",
            "verdict"]
    return pd.DataFrame(rows).reindex(columns=cols)


def _verdict(task: str, family: str, ours: pd.DataFrame, base: pd.DataFrame, margin: float, alpha: float) -> dict:
    """One verdict row of :func:`benchmark_summary` (the rule is stated there)."""
    o = ours.set_index("seed")
    b = base.set_index("seed")
    a_m, b_m = str(o["measure"].iloc[0]), str(b["measure"].iloc[0])
    held = [s for s in o.index[o["role"] == "held-out"] if s in b.index]
    disc = o.index[o["role"] == "discovery"]
    out = {"task": task, "family": family, "measure": a_m, "baseline": b_m, "held_out": ";".join(map(str, held))}
    chosen = ""
    if len(disc) and disc[0] in b.index:
        d = disc[0]
        chosen = (f"; chosen on seed {d}: {a_m} best of {int(o.loc[d, 'n_candidates'])} "
                  f"(CMI {o.loc[d, 'cmi_gap']:.1f}, "
                  f"selection p {o.loc[d, 'selection_p']:.3f}), {b_m} best of {int(b.loc[d, 'n_candidates'])} "
                  f"(CMI {b.loc[d, 'cmi_gap']:.1f}, selection p {b.loc[d, 'selection_p']:.3f})")
    flags = [f"{m} missing on {int(t.loc[s, 'n_missing'])} model(s) of seed {s}" for m, t in ((a_m, o), (b_m, b))
             for s in held if "n_missing" in t.columns and t.loc[s, "n_missing"] > 0]
    flag = f" [incomplete grid: {', '.join(flags)}]" if flags else ""

    def done(word: str, reason: str) -> dict:
        if word == "undecided":
            head = f"{task}: {family} vs the baselines undecided - {reason}"
        else:
            head = f"{task}: {family} {word} the baselines on every held-out seed ({reason})"
        return {**out, "word": word, "reason": reason, "verdict": head + chosen + flag}

    if not held:
        return done("undecided", "no held-out seed: train more seeds")
    ca = o.loc[held, "cmi_gap"].astype(float)
    cb = b.loc[held, "cmi_gap"].astype(float)
    undefined = [s for s in held if not (np.isfinite(ca[s]) and np.isfinite(cb[s]))]
    if undefined:
        return done("undecided", f"CMI undefined on seed {undefined[0]} (a measure constant or too few models there)")
    diff = ca - cb
    marg = pd.Series([max(float(margin), float(o.loc[s, "chance_sd"]) if np.isfinite(o.loc[s, "chance_sd"]) else 0.0)
                      for s in held], index=held)
    out["differences"] = ";".join(f"{diff[s]:+.2f}" for s in held)
    out["margins"] = ";".join(f"{marg[s]:.2f}" for s in held)
    per_seed = ", ".join(f"seed {s}: {diff[s]:+.1f}" for s in held)
    margins = ", ".join(f"{marg[s]:.1f}" for s in held)
    if (diff > marg).all():
        word, need = "beats", [(a_m, o)]
    elif (diff < -marg).all():
        word, need = "loses to", [(b_m, b)]
    elif (diff.abs() <= marg).all():
        word, need = "matches", [(a_m, o), (b_m, b)]
    else:
        weak = [f"{m} on seed {s} (CMI {t.loc[s, 'cmi_gap']:.1f}, chance q95 {t.loc[s, 'chance_q95']:.1f})"
                for m, t in ((a_m, o), (b_m, b)) for s in held if not float(t.loc[s, "chance_p"]) < alpha]
        also = f"; within chance: {', '.join(weak)}" if weak else ""
        return done("undecided", f"more seeds: the held-out seeds disagree ({per_seed}; margins {margins}){also}")
    for m, t in need:
        for s in held:
            p = float(t.loc[s, "chance_p"])
            if not p < alpha:
                who = "our measure" if t is o else "the baseline"
                return done("undecided", f"{who} {m} is within chance on seed {s} (CMI {t.loc[s, 'cmi_gap']:.1f}, "
                                         f"chance q95 {t.loc[s, 'chance_q95']:.1f}, p {p:.3f}); "
                                         f"held-out differences {per_seed}")
    scores = ", ".join(f"seed {s}: {ca[s]:.1f} vs {cb[s]:.1f} (chance q95 {o.loc[s, 'chance_q95']:.1f})" for s in held)
    return done(word, f"CMI {a_m} vs {b_m}: {scores}; differences {per_seed}, margins {margins}")


def _safe_obj(fn, what: str, name: str):
    """A result object that may be undefined (too few rows, a constant target): None, logged."""
    try:
        return fn()
    except (NeurographError, ValueError) as exc:
        log.info("%s of %s is undefined: %s", name, what, exc)
        return None

def _safe(fn, measure: str, what: str) -> float:
    """A metric that may be undefined for one measure (too few complete groups, a constant column)."""
    try:
        value = float(fn())
    except (NeurographError, ValueError) as exc:
        log.info("%s of %s is undefined: %s", what, measure, exc)
        return float("nan")
    return value
