"""Relate structure scores to accuracy across models: correlations with bootstrap CIs, label-free ranking.

:func:`correlate` gives, for every score, the Pearson, Spearman and Kendall (tau-b)
correlation with the target (``test_accuracy``) across the rows (models) of a
table, their p-values (:mod:`scipy.stats`), percentile bootstrap confidence
intervals and, if asked, the partial correlation controlling for a covariate
(e.g. the number of parameters).

The bootstrap resamples rows with replacement, or whole groups of rows
(``groups=``: e.g. every checkpoint of one training run), which is the honest
choice when rows are not independent. A resample is represented by integer
weights (how often each row was drawn) and each coefficient is computed on the
weighted sample exactly as on the expanded sample with repeated rows (tests check
this against :mod:`scipy.stats`), so all resamples are evaluated at once.

:func:`label_free_ranking` predicts the accuracy of held-out models from their
structure scores alone (no labels of the held-out models are used) with ridge
regression, validated leave-one-model-out (or leave-one-group-out), and reports
the Spearman correlation between predicted and true accuracy.

:func:`composite_score` is a documented composite: the mean of z-scored scores with
fixed signs (by default ``+modularity`` and ``-mean_entropy``: modular, predictable
networks score high). Report its correlation beside those of its parts.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from .._seed import as_int_seed
from .._validate import check_choice, check_int, check_number, check_seed
from .._limits import MAX_N_BOOT
from ..errors import DataError, OptionError
from .verdicts import MIN_SAMPLE, calibrated_correlations

__all__ = ["METHODS", "Ranking", "composite_score", "correlate", "correlation_table", "label_free_ranking"]

#: Correlation coefficients :func:`correlate` computes.
METHODS: tuple[str, ...] = ("pearson", "spearman", "kendall")


def correlate(table: pd.DataFrame, metrics: str | Sequence[str], target: str = "test_accuracy",
              covariate: str | None = None, *, methods: Sequence[str] = METHODS, n_boot: int = 1000,
              confidence: float = 0.95, groups: str | Sequence | None = None,
              seed: int | np.random.Generator | None = 0) -> pd.DataFrame:
    """Correlation of each metric with ``target`` across the rows of ``table``.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model; numeric columns ``metrics``, ``target`` (and ``covariate``).
        For each metric, rows where the metric, the target or the covariate is NaN or
        infinite are left out (``n`` says how many rows were used).
    metrics : str or sequence of str
        Columns to correlate with ``target``.
    target : str
        The column to relate them to.
    covariate : str, optional
        Also report the partial correlation of metric and target controlling for this
        column: ``(r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2))`` with the same
        coefficient (for Pearson this equals the correlation of the residuals of linear
        regressions on the covariate; for Spearman, the same on ranks).
    methods : sequence of {"pearson", "spearman", "kendall"}
    n_boot : int
        Bootstrap resamples for the confidence intervals (0: no intervals).
    confidence : float
        Confidence level of the percentile intervals, in (0, 1).
    groups : column name or array-like of shape (n_rows,), optional
        Resample whole groups (cluster bootstrap) instead of rows.
    seed : int, numpy Generator or None
        Seed of the resampling; every metric sees the same resamples.

    Returns
    -------
    pandas.DataFrame
        One row per (metric, method) with columns ``metric``, ``method``, ``n`` (rows used),
        ``n_runs`` (independent units among them: groups, or rows without ``groups``), ``r``,
        ``p_value`` (two-sided, from scipy.stats; where ``groups`` put several rows in one group,
        the p-value of the same coefficient over the per-group means, ``n_runs`` pairs: the rows
        of one run are not independent evidence), ``ci_low``,
        ``ci_high``, ``n_dropped`` (rows left out) and ``dropped_reason`` (which column was not
        finite, e.g. ``"modularity undefined (no edges)"`` when those rows have ``n_edges`` 0;
        each row is charged to the first of metric, target, covariate); with a covariate also ``covariate``, ``partial_r``, ``partial_p``
        (t-test with n_runs - 3 degrees of freedom; NaN for Kendall, which has no such
        closed form), ``partial_ci_low``, ``partial_ci_high``. NaN where undefined
        (fewer than 3 rows, a constant column, or a degenerate resample is dropped
        from the interval). These are raw statistics: with fewer than
        :data:`~neurograph.scoring.verdicts.MIN_SAMPLE` runs the interval and p-value are not
        evidence; :func:`~neurograph.scoring.verdicts.calibrated_correlations` adds the
        ``verdict`` and blanks them, as the CLI and the report do.

    Raises
    ------
    OptionError
        ``metrics`` empty, an unknown method, ``n_boot`` not an int >= 0, ``confidence``
        not in (0, 1), a bad ``seed``.
    DataError
        ``table`` not a DataFrame, a missing or non-numeric column, ``groups`` of the wrong length.

    Examples
    --------
    >>> t = pd.DataFrame({"q": [0.1, 0.3, 0.2, 0.5, 0.4], "test_accuracy": [0.5, 0.7, 0.6, 0.9, 0.8]})
    >>> c = correlate(t, "q", n_boot=200)
    >>> c[["method", "n", "r"]].round(3).values.tolist()
    [['pearson', 5, 1.0], ['spearman', 5, 1.0], ['kendall', 5, 1.0]]
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise OptionError("metrics is empty: name at least one column to correlate")
    methods = [methods] if isinstance(methods, str) else list(methods)
    if not methods:
        raise OptionError("methods is empty: name at least one of " + ", ".join(METHODS))
    for m in methods:
        check_choice("methods", m, METHODS)
    n_boot = check_int("n_boot", n_boot, min=0, max=MAX_N_BOOT)
    confidence = check_number("confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True)
    check_seed("seed", seed)
    if target in metrics:
        raise OptionError(f"metrics include the target {target!r}: a column correlated with itself says nothing")
    if covariate is not None and covariate == target:
        raise OptionError(f"covariate {covariate!r} is the target: controlling for the target leaves nothing "
                          f"to correlate")
    if covariate is not None and covariate in metrics:
        raise OptionError(f"covariate {covariate!r} is also one of the metrics: controlling a metric for itself "
                          f"leaves nothing to correlate")
    cols = [*metrics, target] + ([covariate] if covariate is not None else [])
    values = {c: _numeric_column(table, c) for c in dict.fromkeys(cols)}
    codes = _group_codes(table, groups)
    base_seed = as_int_seed(seed)
    q = [(1.0 - float(confidence)) / 2.0, 1.0 - (1.0 - float(confidence)) / 2.0]
    y_all = values[target]
    z_all = values[covariate] if covariate is not None else None
    rows = []
    for metric in metrics:
        x_all = values[metric]
        keep = np.isfinite(x_all) & np.isfinite(y_all)
        if z_all is not None:
            keep &= np.isfinite(z_all)
        x, y = x_all[keep], y_all[keep]
        z = z_all[keep] if z_all is not None else None
        n = int(keep.sum())
        n_runs = int(np.unique(codes[keep]).size)
        reason = _dropped_reason(table, [metric, *cols[len(metrics):]], values)
        W = _boot_weights(codes[keep], n_boot, base_seed) if n >= 3 and n_boot > 0 else None
        if n_runs < n:  # several rows per run: the p-value counts runs (per-run means), not rows
            inv = np.unique(codes[keep], return_inverse=True)[1]
            size = np.bincount(inv)
            x_runs, y_runs = np.bincount(inv, weights=x) / size, np.bincount(inv, weights=y) / size
        else:
            x_runs, y_runs = x, y
        for method in methods:
            row = {"metric": metric, "method": method, "n": n, "n_runs": n_runs}
            r = _point(method, x, y)[0]
            p = _point(method, x_runs, y_runs)[1]
            row.update(r=r, p_value=p)
            boot = _weighted(method, W, x, y) if W is not None else np.empty(0)
            row["ci_low"], row["ci_high"] = _interval(boot, q)
            row.update(n_dropped=len(table) - n, dropped_reason=reason)
            if z is not None:
                pr = _partial(_point(method, x, y)[0], _point(method, x, z)[0], _point(method, y, z)[0])
                pp = _partial_p(pr, n_runs) if method != "kendall" else float("nan")
                row.update(covariate=covariate, partial_r=pr, partial_p=pp)
                if W is not None:
                    pboot = _partial(boot, _weighted(method, W, x, z), _weighted(method, W, y, z))
                else:
                    pboot = np.empty(0)
                row["partial_ci_low"], row["partial_ci_high"] = _interval(pboot, q)
            rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class Ranking:
    """Result of :func:`label_free_ranking`.

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per model used: ``row`` (index label in the input table), ``group``,
        ``true`` (target), ``predicted`` (predicted while the model's group was held out).
    features : tuple of str
        The structure scores the predictions used.
    target : str
    spearman : float
        Spearman correlation between predicted and true target over all held-out models.
    p_value : float
        Two-sided p-value of the ranking with the groups as the independent units: scipy.stats.spearmanr
        between the per-group means of ``predicted`` and ``true`` (``n_groups`` pairs). Equal to the p of
        ``spearman`` when every group holds one model; several checkpoints of one run do not shrink it.
    n : int
        Number of models.
    n_groups : int
        Number of folds (groups held out one at a time).
    alpha : float
        Ridge penalty on standardised features.
    n_dropped : int
        Rows left out (target not finite).
    dropped_reason : str
        Why (``"<target> undefined"``), or ``""``.
    """

    predictions: pd.DataFrame
    features: tuple
    target: str
    spearman: float
    p_value: float
    n: int
    n_groups: int
    alpha: float
    n_dropped: int = 0
    dropped_reason: str = ""


def label_free_ranking(table: pd.DataFrame, features: Sequence[str], target: str = "test_accuracy", *,
                       groups: str | Sequence | None = None, alpha: float = 1.0) -> Ranking:
    """Predict held-out models' accuracy (rank) from structure scores alone, leave-one-model-out.

    For each model (or each group of rows, e.g. all checkpoints of one run, when
    ``groups`` is given) a ridge regression of ``target`` on the standardised
    ``features`` is fitted on all *other* models, and the held-out model's target is
    predicted from its features only: its labels and accuracy are never used. A
    missing feature value is filled with the training fold's median; a feature that is
    constant or all missing in a fold is ignored in that fold.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model.
    features : sequence of str
        Label-free score columns (e.g. :data:`neurograph.scores.LABEL_FREE_SCORES`);
        must not contain ``target``.
    target : str
        The column to predict (rows where it is NaN are dropped).
    groups : column name or array-like, optional
        Rows sharing a group are held out together.
    alpha : float
        Ridge penalty (on standardised features), > 0.

    Returns
    -------
    Ranking

    Raises
    ------
    OptionError
        ``features`` empty or holding ``target``, ``alpha`` not a finite number > 0.
    DataError
        Missing/non-numeric columns or fewer than 3 groups.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> acc = rng.random(12)
    >>> t = pd.DataFrame({"q": acc + 0.05 * rng.random(12), "h": rng.random(12), "test_accuracy": acc})
    >>> r = label_free_ranking(t, ["q", "h"])
    >>> r.n, r.spearman > 0.8
    (12, True)
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    features = [features] if isinstance(features, str) else list(features)
    if not features:
        raise OptionError("features is empty: name at least one structure score")
    if target in features:
        raise OptionError(f"features must not contain the target {target!r}: the ranking is label-free")
    alpha = check_number("alpha", alpha, low=0.0, low_open=True)
    y_all = _numeric_column(table, target)
    X_all = np.column_stack([_numeric_column(table, f) for f in features])
    codes_all = _group_codes(table, groups)
    keep = np.isfinite(y_all)
    y, X, codes = y_all[keep], X_all[keep], codes_all[keep]
    uniq = np.unique(codes)
    if uniq.size < 3:
        raise DataError(f"label-free ranking needs at least 3 models (groups) with a finite {target!r}, "
                        f"got {uniq.size}")
    pred = np.empty(y.shape[0])
    for g in uniq:
        test = codes == g
        pred[test] = _ridge_predict(X[~test], y[~test], X[test], float(alpha))
    # the groups are the independent units: the p-value is that of the per-group means
    g_pred = np.bincount(np.searchsorted(uniq, codes), weights=pred) / np.bincount(np.searchsorted(uniq, codes))
    g_true = np.bincount(np.searchsorted(uniq, codes), weights=y) / np.bincount(np.searchsorted(uniq, codes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", st.ConstantInputWarning)
        rho = st.spearmanr(pred, y)[0]
        p = st.spearmanr(g_pred, g_true)[1]
    labels = table.index[keep]
    gcol = (table[groups].to_numpy()[keep] if isinstance(groups, str) else codes)
    predictions = pd.DataFrame({"row": labels, "group": gcol, "true": y, "predicted": pred})
    return Ranking(predictions=predictions, features=tuple(features), target=target, spearman=float(rho),
                   p_value=float(p), n=int(y.shape[0]), n_groups=int(uniq.size), alpha=float(alpha),
                   n_dropped=int((~keep).sum()), dropped_reason=f"{target} undefined" if not keep.all() else "")


def composite_score(table: pd.DataFrame, metrics: Sequence[str] = ("modularity", "mean_entropy"),
                    signs: Sequence[float] = (1.0, -1.0)) -> pd.Series:
    """A composite interpretability score: the mean of signed, z-scored metrics.

    ``composite = mean_k( sign_k * (m_k - mean(m_k)) / sd(m_k) )`` with the mean and
    population sd of each metric over the rows of ``table`` (a constant metric
    contributes 0; NaN values are skipped in the mean). The default, ``+modularity``
    and ``-mean_entropy``, scores networks whose neurons form distinct communities and
    behave predictably. The signs are fixed in advance, never fitted to accuracy, so the
    composite can be correlated with accuracy like any single score; it is relative to
    the table (adding models changes every value).

    Returns
    -------
    pandas.Series
        Named ``"composite"``, same index as ``table``.

    Examples
    --------
    >>> t = pd.DataFrame({"modularity": [0.1, 0.3], "mean_entropy": [0.9, 0.5]})
    >>> composite_score(t).round(3).tolist()
    [-1.0, 1.0]
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    signs = [check_number(f"signs[{k}]", s) for k, s in enumerate(signs)]
    if not metrics or len(metrics) != len(signs):
        raise OptionError(f"metrics and signs must be non-empty and of equal length, got {len(metrics)} "
                          f"metrics and {len(signs)} signs")
    parts = []
    for m, s in zip(metrics, signs):
        v = _numeric_column(table, m)
        v = np.where(np.isfinite(v), v, np.nan)
        sd = float(np.nanstd(v)) if np.isfinite(v).any() else 0.0
        parts.append(s * (v - np.nanmean(v)) / sd if sd > 0 else np.where(np.isfinite(v), 0.0, np.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        comp = np.nanmean(np.vstack(parts), axis=0)
    return pd.Series(comp, index=table.index, name="composite")


def correlation_table(correlations: pd.DataFrame) -> pd.DataFrame:
    """A compact, printable view of :func:`correlate` output: one row per metric (and task).

    The rows are first put through :func:`~neurograph.scoring.verdicts.calibrated_correlations`,
    so the terminal, the report page and ``correlations.csv`` show the same numbers and the same
    words. Each method's cell reads ``"r [ci_low, ci_high]"`` (two decimals), or ``"r (n too
    small)"`` with fewer than :data:`~neurograph.scoring.verdicts.MIN_SAMPLE` runs (``"r (no
    interval)"`` without a usable interval); ``p (spearman)`` is Spearman's p-value (``"n too
    small"`` likewise), which counts runs: where runs hold several rows it is the p of the per-run
    means, so it can disagree with the interval of ``r`` over all rows (within-run trends: the
    interval, not p, decides the verdict); ``partial spearman | <covariate>`` the partial Spearman correlation and its
    interval when a covariate was given; ``verdict`` the words of Spearman's verdict
    (:func:`~neurograph.scoring.verdicts.verdict`); ``dropped``, when any model was left out,
    how many and why.

    Examples
    --------
    >>> c = pd.DataFrame({"metric": ["q", "q"], "method": ["pearson", "spearman"], "n": [12, 12],
    ...                   "r": [0.5, 0.4], "p_value": [0.1, 0.2], "ci_low": [0.1, 0.0], "ci_high": [0.8, 0.7]})
    >>> correlation_table(c).astype(str).iloc[0].tolist()
    ['q', '12', '12', '0.50 [0.10, 0.80]', '0.40 [0.00, 0.70]', '0.200', 'no verdict: the interval includes 0']
    >>> correlation_table(c.assign(n=6)).astype(str).iloc[0].tolist()
    ['q', '6', '6', '0.50 (n too small)', '0.40 (n too small)', 'n too small', 'n too small: no verdict']
    """
    correlations = calibrated_correlations(correlations)
    keys = [k for k in ("task", "metric") if k in correlations.columns]
    rows = []
    for key, g in correlations.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        row["n"] = int(g["n"].iloc[0])
        units = int(g["n_runs"].iloc[0]) if "n_runs" in g.columns else row["n"]
        row["n_runs"] = units
        small = units < MIN_SAMPLE
        for _, r in g.iterrows():
            row[r["method"]] = _fmt_ci(r["r"], r["ci_low"], r["ci_high"], small)
        sp = g[g["method"] == "spearman"]
        if len(sp):
            p = sp["p_value"].iloc[0]
            row["p (spearman)"] = "n too small" if small else f"{p:.3f}" if pd.notna(p) else "NaN"
            if "partial_r" in g.columns and pd.notna(sp["partial_r"].iloc[0]):
                s0 = sp.iloc[0]
                row[f"partial spearman | {s0['covariate']}"] = _fmt_ci(s0["partial_r"], s0["partial_ci_low"],
                                                                       s0["partial_ci_high"], small)
        row["verdict"] = str((sp if len(sp) else g)["verdict"].iloc[0])
        if "n_dropped" in g.columns and int(g["n_dropped"].iloc[0]) > 0:
            row["dropped"] = f"{int(g['n_dropped'].iloc[0])}: {g['dropped_reason'].iloc[0]}"
        rows.append(row)
    out = pd.DataFrame(rows)
    if "dropped" in out.columns:
        out["dropped"] = out["dropped"].fillna("")
    return out


# ---------------------------------------------------------------------- helpers


def _fmt_ci(r, lo, hi, small: bool = False) -> str:
    if pd.isna(r):
        return "NaN"
    if pd.notna(lo) and pd.notna(hi):
        return f"{r:.2f} [{lo:.2f}, {hi:.2f}]"
    return f"{r:.2f} ({'n too small' if small else 'no interval'})"



def _dropped_reason(table: pd.DataFrame, cols: list[str], values: dict[str, np.ndarray]) -> str:
    """Why rows are left out: each is charged to the first of ``cols`` (metric, target, covariate) not finite.

    A metric undefined on rows whose ``n_edges`` is 0 says "(no edges)".
    """
    ok = np.ones(len(table), dtype=bool)
    parts = []
    for k, col in enumerate(dict.fromkeys(cols)):
        bad = ok & ~np.isfinite(values[col])
        if bad.any():
            edges = pd.to_numeric(table["n_edges"], errors="coerce").to_numpy()[bad] \
                if k == 0 and col != "n_edges" and "n_edges" in table.columns else None
            why = " (no edges)" if edges is not None and bool(np.all(edges == 0)) else ""
            parts.append((col, int(bad.sum()), why))
        ok &= ~bad
    if len(parts) == 1:
        return f"{parts[0][0]} undefined{parts[0][2]}"
    return "; ".join(f"{col} undefined{why}: {k}" for col, k, why in parts)


def _numeric_column(table: pd.DataFrame, col: str) -> np.ndarray:
    if col not in table.columns:
        raise DataError(f"table has no column {col!r} (columns: {list(table.columns)})")
    try:
        return pd.to_numeric(table[col], errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError) as exc:
        raise DataError(f"column {col!r} must be numeric: {exc}") from exc


def _group_codes(table: pd.DataFrame, groups) -> np.ndarray:
    n = len(table)
    if groups is None:
        return np.arange(n)
    if isinstance(groups, str):
        if groups not in table.columns:
            raise DataError(f"groups column {groups!r} is not in the table (columns: {list(table.columns)})")
        g = table[groups].to_numpy()
    else:
        g = np.asarray(groups)
    if g.shape != (n,):
        raise DataError(f"groups must have one entry per row ({n}), got shape {g.shape}")
    return pd.factorize(g)[0].astype(np.int64)


def _boot_weights(codes: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) integer weights: how often each row's group was drawn in each resample."""
    _, inv = np.unique(codes, return_inverse=True)
    k = int(inv.max()) + 1
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot)
    return counts[:, inv].astype(np.float64)


def _point(method: str, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if x.shape[0] < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    fn = {"pearson": st.pearsonr, "spearman": st.spearmanr, "kendall": st.kendalltau}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", st.ConstantInputWarning)
        res = fn(x, y)
    return float(res[0]), float(res[1])


def _weighted(method: str, W: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coefficient on each weighted resample (rows of W), equal to that of the expanded sample."""
    if method == "pearson":
        return _wpearson(W, x, y)
    if method == "spearman":
        return _wpearson(W, _wranks(W, x), _wranks(W, y), degenerate=_degenerate(W, x) | _degenerate(W, y))
    return _wkendall(W, x, y)


def _degenerate(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    present = W > 0
    hi = np.where(present, x[None, :], -np.inf).max(axis=1)
    lo = np.where(present, x[None, :], np.inf).min(axis=1)
    return hi == lo


def _wpearson(W: np.ndarray, x: np.ndarray, y: np.ndarray, *, degenerate: np.ndarray | None = None) -> np.ndarray:
    X = np.broadcast_to(x, W.shape)
    Y = np.broadcast_to(y, W.shape)
    sw = W.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = X - (W * X).sum(axis=1, keepdims=True) / sw
        dy = Y - (W * Y).sum(axis=1, keepdims=True) / sw
        r = (W * dx * dy).sum(1) / np.sqrt((W * dx * dx).sum(1) * (W * dy * dy).sum(1))
    if degenerate is None:
        degenerate = _degenerate(W, x) | _degenerate(W, y)
    r[degenerate] = np.nan
    return np.clip(r, -1.0, 1.0)


def _wranks(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Mid-ranks of every row's value within each weighted resample (the expanded sample's ranks)."""
    less = (x[None, :] < x[:, None]).astype(np.float64)   # less[i, j] = x_j < x_i
    equal = (x[None, :] == x[:, None]).astype(np.float64)
    return W @ less.T + (W @ equal.T + 1.0) / 2.0


def _wkendall(W: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    num = ((W @ (sx * sy)) * W).sum(1)
    ax = ((W @ np.abs(sx)) * W).sum(1)
    ay = ((W @ np.abs(sy)) * W).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = num / np.sqrt(ax * ay)
    tau[(ax == 0) | (ay == 0)] = np.nan
    return np.clip(tau, -1.0, 1.0)


def _partial(rxy, rxz, ryz):
    rxy, rxz, ryz = np.asarray(rxy, float), np.asarray(rxz, float), np.asarray(ryz, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (rxy - rxz * ryz) / np.sqrt((1 - rxz ** 2) * (1 - ryz ** 2))
    out = np.where(np.isfinite(out), np.clip(out, -1.0, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def _partial_p(r: float, n: int) -> float:
    df = n - 3
    if not np.isfinite(r) or df < 1:
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    t = r * np.sqrt(df / (1.0 - r * r))
    return float(2.0 * st.t.sf(abs(t), df))


def _interval(boot: np.ndarray, q: list[float]) -> tuple[float, float]:
    b = np.asarray(boot, dtype=float)
    b = b[np.isfinite(b)]
    if b.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(b, q)
    return float(lo), float(hi)


def _ridge_predict(X: np.ndarray, y: np.ndarray, X_new: np.ndarray, alpha: float) -> np.ndarray:
    X = X.copy()
    X_new = X_new.copy()
    usable = []
    for j in range(X.shape[1]):
        col = X[:, j]
        fin = np.isfinite(col)
        if not fin.any():
            continue
        med = float(np.median(col[fin]))
        col[~fin] = med
        X_new[~np.isfinite(X_new[:, j]), j] = med
        if np.ptp(col) > 0:
            usable.append(j)
    mu_y = float(y.mean())
    if not usable:
        return np.full(X_new.shape[0], mu_y)
    A, B = X[:, usable], X_new[:, usable]
    mu, sd = A.mean(0), A.std(0)
    A, B = (A - mu) / sd, (B - mu) / sd
    beta = np.linalg.solve(A.T @ A + alpha * np.eye(A.shape[1]), A.T @ (y - mu_y))
    return mu_y + B @ beta
