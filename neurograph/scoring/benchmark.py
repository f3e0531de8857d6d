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
* :func:`benchmark_summary`: per task, the best measure of each family by CMI and a verdict in words.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..errors import DataError, NeurographError
from .correlation import correlate, label_free_ranking
from .generalization import cv_r2, granulated_tau, kendall_tau, pgdl_cmi

__all__ = ["FAMILIES", "benchmark_summary", "evaluate_measures", "family_rankings", "measure_columns"]

log = logging.getLogger(__name__)

FAMILIES = {"ng": "neurograph", "fsa": "FSA", "bl": "baseline"}
_MATCH = 1.0  # CMI points (x100) within which two measures are said to match


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
    keep = []
    for c in table.columns:
        if not c.startswith(tuple(f"{f}_" for f in FAMILIES)):
            continue
        v = pd.to_numeric(table[c], errors="coerce")
        if len(v) and v.notna().mean() >= coverage and v.nunique(dropna=True) > 1:
            keep.append(c)
    return keep


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
        One row per measure: ``measure``, ``family``, ``n``, ``cmi_gap`` (x100), ``tau_acc``, ``tau_gap``,
        ``gtau_acc``, ``gtau_gap``, ``spearman_acc``, ``ci_low``, ``ci_high``, ``cv_r2_acc``; NaN where
        a metric is undefined for a measure (the reason is logged).
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
        row = {"measure": m, "family": FAMILIES[m.split("_", 1)[0]], "n": int(ok.sum())}
        row["cmi_gap"] = _safe(lambda: pgdl_cmi(one, m, "gap", hparams).score, m, "CMI")
        row["tau_acc"] = kendall_tau(x[ok], table.loc[ok, "test_acc"])
        row["tau_gap"] = kendall_tau(x[ok], table.loc[ok, "gap"])
        row["gtau_acc"] = _safe(lambda: granulated_tau(one, m, "test_acc", hparams).score, m, "granulated tau")
        row["gtau_gap"] = _safe(lambda: granulated_tau(one, m, "gap", hparams).score, m, "granulated tau")
        for key, col in (("spearman_acc", "r"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            row[key] = float(spear.loc[m, col]) if m in spear.index else np.nan
        row["cv_r2_acc"] = _safe(lambda: cv_r2(table, m, "test_acc", folds=folds, seed=0), m, "CV R2")
        rows.append(row)
    cols = ["measure", "family", "n", "cmi_gap", "tau_acc", "tau_gap", "gtau_acc", "gtau_gap", "spearman_acc",
            "ci_low", "ci_high", "cv_r2_acc"]
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


def benchmark_summary(measures: pd.DataFrame) -> pd.DataFrame:
    """Per task: the best neurograph (``ng``/``fsa``) measure and the best baseline by CMI, and a verdict.

    ``measures`` stacks :func:`evaluate_measures` tables with a ``task`` column. The verdict says
    whether co-activation / FSA structure beats (by more than 1 CMI point), matches (within 1) or loses
    to the best baseline on that task, with both measures, their CMI and their Spearman with test
    accuracy, and the number of models: a single grid per task, so differences of a few points are
    within what another grid could change.

    Examples
    --------
    >>> m = pd.DataFrame({"task": ["a", "a"], "measure": ["ng_q", "bl_n"], "family": ["neurograph", "baseline"],
    ...                   "n": [20, 20], "cmi_gap": [6.0, 3.5], "spearman_acc": [0.4, 0.6]})
    >>> benchmark_summary(m)["verdict"].iloc[0]
    'a: neurograph beats the baselines by CMI: ng_q 6.00 vs bl_n 3.50 (Spearman with test accuracy 0.40 vs 0.60; 20 models)'
    """
    if "task" not in measures.columns:
        raise DataError("measures needs a 'task' column (stack evaluate_measures tables per task)")
    rows = []
    for task, m in measures.groupby("task", sort=False):
        m = m.dropna(subset=["cmi_gap"])
        ours = m[m["family"].isin(["neurograph", "FSA"])].sort_values("cmi_gap", ascending=False)
        base = m[m["family"] == "baseline"].sort_values("cmi_gap", ascending=False)
        if ours.empty or base.empty:
            rows.append({"task": task, "verdict": f"{task}: not enough measures to compare"})
            continue
        a, b = ours.iloc[0], base.iloc[0]
        diff = float(a["cmi_gap"] - b["cmi_gap"])
        word = "beats" if diff > _MATCH else ("matches" if diff >= -_MATCH else "loses to")
        verdict = (f"{task}: neurograph {word} the baselines by CMI: {a['measure']} {a['cmi_gap']:.2f} vs "
                   f"{b['measure']} {b['cmi_gap']:.2f} (Spearman with test accuracy {a['spearman_acc']:.2f} vs "
                   f"{b['spearman_acc']:.2f}; {int(a['n'])} models)")
        rows.append({"task": task, "best_neurograph": a["measure"], "cmi_neurograph": float(a["cmi_gap"]),
                     "best_baseline": b["measure"], "cmi_baseline": float(b["cmi_gap"]), "difference": diff,
                     "verdict": verdict})
    return pd.DataFrame(rows)


def _safe(fn, measure: str, what: str) -> float:
    """A metric that may be undefined for one measure (too few complete groups, a constant column)."""
    try:
        value = float(fn())
    except (NeurographError, ValueError) as exc:
        log.info("%s of %s is undefined: %s", what, measure, exc)
        return float("nan")
    return value
