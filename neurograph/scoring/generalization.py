"""The field's generalization benchmarks: PGDL conditional mutual information, Kendall's tau, granulated tau, CV R².

These score how well one per-model quantity (a *measure*: a neurograph score, a complexity
measure) tracks the *generalization gap* across a set of trained models that differ in their
hyper-parameters. The input is a table with one row per model: a numeric column for the
measure, one for the gap (train accuracy minus test accuracy, in the same units for every
row) and one column per hyper-parameter (any sortable values).

* :func:`pgdl_cmi`: the score of the NeurIPS 2020 competition "Predicting Generalization in
  Deep Learning" (PGDL; Jiang et al. 2020, arXiv:2012.07976) for one task, x 100, computed as
  the organisers' scoring program computes it (details in its docstring).
* :func:`kendall_tau`: Kendall's rank correlation as defined by Jiang et al. 2020, "Fantastic
  generalization measures and where to find them" (ICLR 2020), Eq. 3 (tau-a: ties count 0).
* :func:`granulated_tau`: the granulated Kendall coefficient of the same paper (Eq. 4-5).
* :func:`cv_r2`: the cross-validated R² of a linear regression of the gap on the measure.

Rows whose measure or target is NaN or infinite are dropped by every function, never silently:
:func:`pgdl_cmi` and :func:`granulated_tau` list them in their result (``missing``, ``n_dropped``)
and log a warning naming the measure and the grid cells left out; the float-valued functions log
the count at INFO level. Chance levels for these metrics (what a random measure scores on the same
rows) are in :mod:`neurograph.scoring.chance`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._seed import as_int_seed
from .._validate import check_int, check_seed
from ..errors import DataError, OptionError

__all__ = ["GranulatedTau", "PgdlScore", "cv_r2", "granulated_tau", "kendall_tau", "pgdl_cmi"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PgdlScore:
    """Result of :func:`pgdl_cmi`.

    Attributes
    ----------
    score : float
        The task score: 100 x the minimum of ``per_pair["value"]``, in [0, 100]. NaN when a
        conditioning set's value is undefined (see :func:`pgdl_cmi`).
    per_pair : pandas.DataFrame
        One row per conditioning set: ``h1``, ``h2`` (hyper-parameter names; None where the set
        has fewer than two), ``n_strata`` (non-empty strata), ``mean_mi`` (bits, unweighted mean
        over strata of the mutual information between the measure's and the gap's sign),
        ``mean_entropy`` (bits, same mean of the entropy of the gap's sign) and
        ``value = mean_mi / mean_entropy`` (NaN where ``mean_entropy`` is 0).
    n_models : int
        Models (rows) used.
    n_pairs : int
        Ordered model pairs counted per conditioning set, self-pairs included: ``n_models ** 2``.
    n_dropped : int
        Rows dropped for a NaN or infinite measure or target.
    missing : tuple
        The index labels of the dropped rows, in table order (``len(missing) == n_dropped``).
    """

    score: float
    per_pair: pd.DataFrame
    n_models: int
    n_pairs: int
    n_dropped: int
    missing: tuple = ()


@dataclass(frozen=True)
class GranulatedTau:
    """Result of :func:`granulated_tau`.

    Attributes
    ----------
    score : float
        Psi, the mean of ``per_hparam["psi"]`` over the hyper-parameters where it is defined, in
        [-1, 1]; NaN if it is defined for none.
    per_hparam : pandas.DataFrame
        One row per hyper-parameter: ``hparam``, ``psi`` (mean Kendall tau over the groups of
        models that differ only in it; NaN with no such group of two or more models) and
        ``n_groups`` (groups of two or more models averaged).
    n_models : int
        Models (rows) used.
    n_dropped : int
        Rows dropped for a NaN or infinite measure or target.
    missing : tuple
        The index labels of the dropped rows, in table order (``len(missing) == n_dropped``).
    """

    score: float
    per_hparam: pd.DataFrame
    n_models: int
    n_dropped: int
    missing: tuple = ()


def pgdl_cmi(table: pd.DataFrame, measure: str, target: str, hparams: str | Sequence[str]) -> PgdlScore:
    """The PGDL conditional-mutual-information score of ``measure`` on one task, x 100.

    Followed exactly from the organisers' scoring program (``scoring_program/mutual_information.py``
    and ``score.py`` of the PGDL 2020 starting kit, by Yiding Jiang; read in the participants'
    copies ``cadurosar/pgdl`` and ``samiul272/pgdl_proposal``, identical there):

    1. Every *ordered* pair of models ``(i, j)`` is used, self-pairs ``(i, i)`` included:
       ``n_models ** 2`` pairs.
    2. The gap's sign variable is "+" iff ``gap_i > gap_j`` strictly, else "-" (ties and
       self-pairs fall in "-"); the measure's likewise with ``measure_i > measure_j``.
    3. For every pair of distinct hyper-parameters ``(h1, h2)`` the model pairs are split into
       strata keyed by ``(h1 of i, h1 of j, h2 of i, h2 of j)``. The organisers loop over ordered
       pairs ``(h1, h2)`` and ``(h2, h1)``; both give the same strata, so unordered pairs are used.
    4. Per stratum, from its 2 x 2 table of counts: the plug-in mutual information (log base 2)
       between the two signs, and the plug-in entropy (base 2) of the gap's sign. A stratum
       where the gap's sign is constant counts with entropy 0 and MI 0 (it stays in both means).
    5. The value of ``(h1, h2)`` is (unweighted mean over strata of MI) / (unweighted mean over
       strata of entropy). On a complete grid with the same number of models per configuration
       every stratum holds the same number of pairs, so this equals the probability-weighted
       ratio I(V_measure; V_gap | U_S) / H(V_gap | U_S) written in Jiang et al. 2020.
    6. The task score is the minimum over hyper-parameter pairs; the competition reports the
       mean over tasks x 100 (here each task's score is already x 100).

    Choices where the organisers' code says nothing usable, or where it cannot run:

    * The organisers require a complete grid with one model per configuration (``score.py``
      raises otherwise) and average over every combination of *possible* values. Here the
      strata are the non-empty ones (``n_strata``); on a complete grid that is all of them, so
      the two agree. Repeated configurations (seeds) are allowed.
    * Entropies are exact plug-in values (0 log 0 = 0); the organisers add 1e-12 inside the
      logarithm, which changes values by about 1e-12.
    * With one hyper-parameter their loop never runs and the score is infinite; here the strata
      are then keyed by ``(h of i, h of j)``. With none (``hparams=[]``) a single stratum holds
      every pair: the unconditioned version (the organisers have an unused, broken function
      for that case).
    * Where the mean entropy is 0 (the gap's sign is constant in every stratum, e.g. a complete
      grid of exactly two hyper-parameters and one model per configuration, where every
      stratum holds one pair) the value is 0/0: NaN here, and the score NaN. The organisers'
      code returns 0 there (-0.0, through its 1e-12 guard).
    * Rows with a NaN or infinite measure or gap are dropped; the organisers had none. The result
      lists them (``missing``) and a warning names the measure and the cells, so a score on an
      incomplete grid is never silent.
    * Hyper-parameter values are compared by equality, not through ``str`` as the organisers'
      string keys do (``"1" + "11" == "11" + "1"`` cannot collide here).

    Properties (tested): unchanged by a strictly increasing transform of the measure and by
    reordering rows; the gap itself scores 100 (ties included). The score does not see the
    direction of the relation except through ties: mutual information is symmetric under
    relabelling a sign, but a self-pair (or a tie) is ``(-, -)`` for both ``gap`` and
    ``-gap``, while every other pair flips. So ``-gap`` scores 100 only in strata without
    self-pairs or ties; the strata keyed ``(a, a, c, c)`` hold the self-pairs, and ``-gap``
    scores below 100, far below on small grids (43.4 in the example).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model of the task.
    measure : str
        Numeric column: the measure to score.
    target : str
        Numeric column: the generalization gap, train accuracy minus test accuracy.
    hparams : str or sequence of str
        Columns holding the hyper-parameters that were varied (the conditioning variables).

    Returns
    -------
    PgdlScore
        ``score`` (x 100), ``per_pair`` table, ``n_models``, ``n_pairs``, ``n_dropped``, ``missing``.

    Raises
    ------
    DataError
        ``table`` not a DataFrame, a named column missing, ``measure`` or ``target`` not
        numeric, a hyper-parameter column with missing values, fewer than 2 usable rows.
    OptionError
        ``hparams`` not a name or sequence of names, or naming a column twice.

    Notes
    -----
    Time and memory grow as ``n_models ** 2`` per conditioning set.

    Examples
    --------
    >>> import itertools
    >>> grid = pd.DataFrame(list(itertools.product([1, 2], [0.1, 0.2], [8, 16])), columns=["depth", "lr", "width"])
    >>> grid["gap"] = [0.1, 0.3, 0.2, 0.5, 0.4, 0.8, 0.6, 0.7]
    >>> pgdl_cmi(grid, "gap", "gap", ["depth", "lr", "width"]).score
    100.0
    >>> r = pgdl_cmi(grid.assign(m=-grid["gap"]), "m", "gap", ["depth", "lr", "width"])
    >>> round(r.score, 1), r.n_models, r.n_pairs
    (43.4, 8, 64)
    """
    _check_table(table)
    names = _hparam_names(hparams)
    m, t, keep = _measure_and_target(table, measure, target)
    n_dropped = int((~keep).sum())
    m, t = m[keep], t[keep]
    n = m.size
    if n < 2:
        raise DataError(f"pgdl_cmi needs at least 2 models with a finite {measure!r} and {target!r}, got {n} "
                        f"({n_dropped} row(s) dropped)")
    codes = {h: _codes(table, h, keep) for h in names}
    missing = _report_missing("pgdl_cmi", table, keep, measure, target, names)
    sets = _conditioning_sets(names)
    gap_plus = _plus(t)
    measure_plus = _plus(m)[None]
    rows = []
    for cond in sets:
        stratum, n_strata = _pair_strata([codes[h] for h in cond], n)
        counts = _CountPlan(gap_plus, stratum, n_strata).counts(measure_plus, varying_is_gap=False)
        mean_mi, mean_h = _cmi_means(counts)
        mean_mi, mean_h = float(mean_mi[0]), float(mean_h[0])
        value = mean_mi / mean_h if mean_h > 0 else float("nan")
        padded = (*cond, None, None)
        rows.append({"h1": padded[0], "h2": padded[1], "n_strata": n_strata, "mean_mi": mean_mi,
                     "mean_entropy": mean_h, "value": value})
    per_pair = pd.DataFrame(rows, columns=["h1", "h2", "n_strata", "mean_mi", "mean_entropy", "value"])
    values = per_pair["value"].to_numpy(dtype=float)
    score = float("nan") if np.isnan(values).any() else 100.0 * float(values.min())
    return PgdlScore(score=score, per_pair=per_pair, n_models=int(n), n_pairs=int(n * n), n_dropped=n_dropped,
                     missing=missing)


def kendall_tau(x, y) -> float:
    """Kendall's tau as in Jiang et al. 2020 (Eq. 3): tau-a over ordered pairs.

    ``tau = sum over i != j of sign(x_i - x_j) * sign(y_i - y_j) / (n (n - 1))``; a tie in
    either variable counts 0, so ties pull tau towards 0 (this is tau-a; it equals
    ``scipy.stats.kendalltau``'s default tau-b when neither variable has ties). Computed
    exactly, by counting, in O(n²) time.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        The measure and the generalization gap of ``n`` models. Pairs where either is NaN or
        infinite are dropped (the count is logged at INFO level).

    Returns
    -------
    float
        In [-1, 1].

    Raises
    ------
    DataError
        Not numeric, not 1-D, lengths differ, or fewer than 2 finite pairs.

    Examples
    --------
    >>> kendall_tau([1, 2, 3, 4], [0.1, 0.2, 0.4, 0.3])
    0.6666666666666666
    >>> kendall_tau([1, 1, 2], [1, 2, 3])     # the tie counts 0: tau-a
    0.6666666666666666
    """
    xa, ya = _vector("x", x), _vector("y", y)
    if xa.size != ya.size:
        raise DataError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    keep = np.isfinite(xa) & np.isfinite(ya)
    if not keep.all():
        logger.info("kendall_tau: dropped %d pair(s) with a NaN or infinite value", int((~keep).sum()))
    xa, ya = xa[keep], ya[keep]
    if xa.size < 2:
        raise DataError(f"kendall_tau needs at least 2 finite pairs, got {xa.size}")
    return _tau_a(xa, ya)


def granulated_tau(table: pd.DataFrame, measure: str, target: str, hparams: str | Sequence[str]) -> GranulatedTau:
    """The granulated Kendall coefficient Psi of Jiang et al. 2020 (Eq. 4-5).

    For each hyper-parameter ``h``, the models are grouped by the values of all the *other*
    hyper-parameters, so the models of a group differ only in ``h`` (and in anything not
    listed, such as the seed). Within each group of two or more models :func:`kendall_tau` of
    measure and target is computed; ``psi_h`` is their unweighted mean over groups. The score
    ``Psi`` is the mean of ``psi_h`` over the hyper-parameters. On a complete grid this is the
    paper's definition (every combination of the other values is one group). Choices: groups
    with a single model are skipped; a hyper-parameter with no group of two (e.g. one that
    takes a single value) has ``psi`` NaN and is left out of ``Psi``.

    Unchanged by a strictly increasing transform of the measure and by reordering rows; the
    gap itself scores 1 when it has no ties within a group.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model.
    measure, target : str
        Numeric columns: the measure and the generalization gap. Rows where either is NaN or
        infinite are dropped (``n_dropped``, ``missing``; a warning names them).
    hparams : str or sequence of str
        Columns of the hyper-parameters that were varied (at least one).

    Returns
    -------
    GranulatedTau
        ``score`` (Psi), ``per_hparam`` (hparam, psi, n_groups), ``n_models``, ``n_dropped``, ``missing``.

    Raises
    ------
    DataError
        As :func:`pgdl_cmi`.
    OptionError
        ``hparams`` empty, not names, or naming a column twice.

    Examples
    --------
    >>> import itertools
    >>> grid = pd.DataFrame(list(itertools.product([1, 2], [0.1, 0.2])), columns=["depth", "lr"])
    >>> grid["gap"] = [0.1, 0.3, 0.2, 0.5]
    >>> grid["m"] = [1.0, 2.0, 3.0, 2.5]
    >>> g = granulated_tau(grid, "m", "gap", ["depth", "lr"])
    >>> g.score
    0.5
    >>> g.per_hparam.values.tolist()
    [['depth', 1.0, 2], ['lr', 0.0, 2]]
    """
    _check_table(table)
    names = _hparam_names(hparams)
    if not names:
        raise OptionError("hparams is empty: name at least one hyper-parameter column")
    m, t, keep = _measure_and_target(table, measure, target)
    n_dropped = int((~keep).sum())
    m, t = m[keep], t[keep]
    if m.size < 2:
        raise DataError(f"granulated_tau needs at least 2 models with a finite {measure!r} and {target!r}, "
                        f"got {m.size} ({n_dropped} row(s) dropped)")
    codes = {h: _codes(table, h, keep) for h in names}
    missing = _report_missing("granulated_tau", table, keep, measure, target, names)
    rows = []
    for h in names:
        others = [codes[o] for o in names if o != h]
        group = _group_ids(others, m.size)
        taus = []
        for g in np.unique(group):
            idx = np.flatnonzero(group == g)
            if idx.size >= 2:
                taus.append(_tau_a(m[idx], t[idx]))
        psi = float(np.mean(taus)) if taus else float("nan")
        rows.append({"hparam": h, "psi": psi, "n_groups": len(taus)})
    per_hparam = pd.DataFrame(rows, columns=["hparam", "psi", "n_groups"])
    psis = per_hparam["psi"].to_numpy(dtype=float)
    score = float(psis[np.isfinite(psis)].mean()) if np.isfinite(psis).any() else float("nan")
    return GranulatedTau(score=score, per_hparam=per_hparam, n_models=int(m.size), n_dropped=n_dropped,
                         missing=missing)


def cv_r2(table: pd.DataFrame, measure: str, target: str, *, folds: int = 5,
          seed: int | np.random.Generator | None = 0) -> float:
    """Cross-validated R² of a linear prediction of ``target`` from ``measure`` alone.

    The rows are split into ``folds`` shuffled folds (``sklearn.model_selection.KFold``); each
    fold's targets are predicted by an ordinary least-squares line ``target ~ a + b * measure``
    (``LinearRegression``) fitted on the other folds. The score is R² of all out-of-fold
    predictions, ``1 - sum((y - y_hat)²) / sum((y - mean(y))²)`` (``r2_score``): 1 for an exact
    linear relation, about 0 or below for a measure unrelated to the target (out-of-fold
    predictions of noise do worse than the mean). Invariant to affine changes of the measure,
    not to nonlinear monotone ones.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model.
    measure, target : str
        Numeric columns. Rows where either is NaN or infinite are dropped (the count is
        logged at INFO level).
    folds : int
        Number of folds, at least 2 and at most the number of usable rows.
    seed : int, numpy Generator or None
        Seed of the fold shuffle.

    Returns
    -------
    float
        R² (at most 1, unbounded below); NaN if the target is constant.

    Raises
    ------
    OptionError
        ``folds`` not an integer >= 2, a bad ``seed``.
    DataError
        ``table`` not a DataFrame, a missing or non-numeric column, fewer usable rows than ``folds``.

    Examples
    --------
    >>> t = pd.DataFrame({"m": np.arange(10.0), "gap": 0.5 + 0.1 * np.arange(10.0)})
    >>> round(cv_r2(t, "m", "gap"), 6)
    1.0
    """
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold, cross_val_predict

    _check_table(table)
    folds = check_int("folds", folds, min=2)
    check_seed("seed", seed)
    m, t, keep = _measure_and_target(table, measure, target)
    n_dropped = int((~keep).sum())
    if n_dropped:
        logger.info("cv_r2: dropped %d row(s) with a NaN or infinite %r or %r", n_dropped, measure, target)
    m, t = m[keep], t[keep]
    if m.size < folds:
        raise DataError(f"cv_r2 with folds={folds} needs at least {folds} models with a finite {measure!r} and "
                        f"{target!r}, got {m.size} ({n_dropped} row(s) dropped)")
    if np.ptp(t) == 0:
        return float("nan")
    cv = KFold(n_splits=folds, shuffle=True, random_state=as_int_seed(seed))
    pred = cross_val_predict(LinearRegression(), m[:, None], t, cv=cv)
    return float(r2_score(t, pred))


# ---------------------------------------------------------------------- helpers


def _check_table(table) -> None:
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas DataFrame, got {type(table).__name__}")


def _column(table: pd.DataFrame, col, role: str) -> pd.Series:
    try:
        present = col in table.columns
    except TypeError:
        raise OptionError(f"{role} must be a column name, got {col!r}") from None
    if not present:
        raise DataError(f"table has no column {col!r} (the {role}; columns: {list(table.columns)})")
    s = table[col]
    if isinstance(s, pd.DataFrame):
        raise DataError(f"column {col!r} (the {role}) appears more than once in the table")
    return s


def _numeric(table: pd.DataFrame, col, role: str) -> np.ndarray:
    s = _column(table, col, role)
    try:
        if pd.api.types.is_complex_dtype(s):
            raise TypeError("complex values")
        return pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError) as exc:
        raise DataError(f"column {col!r} (the {role}) must be numeric: {exc}") from exc


def _measure_and_target(table: pd.DataFrame, measure, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = _numeric(table, measure, "measure")
    t = _numeric(table, target, "target")
    return m, t, np.isfinite(m) & np.isfinite(t)


def _hparam_names(hparams) -> list:
    return _column_names(hparams, "hparams")


def _column_names(value, arg: str, *, non_empty: bool = False) -> list:
    """``value`` (a column name or a sequence of them) as a list without repeats; OptionError naming ``arg``."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (Sequence, pd.Index, np.ndarray)) or (non_empty and len(value) == 0):
        kind = "a non-empty sequence" if non_empty else "a sequence"
        raise OptionError(f"{arg} must be a column name or {kind} of column names, got {value!r}")
    names = list(value)
    for k, h in enumerate(names):
        if h in names[:k]:
            raise OptionError(f"{arg} names column {h!r} twice")
    return names


def _codes(table: pd.DataFrame, col, keep: np.ndarray) -> np.ndarray:
    """Integer codes of the kept rows of hyper-parameter column ``col``, in sorted order of the values."""
    s = _column(table, col, "hyper-parameter")[keep]
    if s.isna().any():
        raise DataError(f"hyper-parameter column {col!r} has {int(s.isna().sum())} missing value(s)")
    try:
        codes, _ = pd.factorize(s, sort=True)  # sorted: codes do not depend on row order
    except TypeError:  # values of mixed, unorderable types
        codes, _ = pd.factorize(s, sort=False)
    return np.asarray(codes, dtype=np.int64)


def _conditioning_sets(names: list) -> list[tuple]:
    """PGDL's conditioning sets: every unordered pair of hyper-parameters, or the single set of fewer than two."""
    return list(itertools.combinations(names, 2)) if len(names) >= 2 else [tuple(names)]


def _plus(x: np.ndarray) -> np.ndarray:
    """Sign variable of every ordered pair, flattened: ``x[..., i] > x[..., j]`` at ``i * n + j``, (..., n²) bool."""
    n = x.shape[-1]
    return (x[..., :, None] > x[..., None, :]).reshape(*x.shape[:-1], n * n)


def _pair_strata(codes: list[np.ndarray], n: int) -> tuple[np.ndarray, int]:
    """Stratum id (0..n_strata-1, non-empty strata only) of every ordered pair ``i * n + j`` of ``n`` rows.

    Keyed by ``(c_i, c_j)`` for each code column ``c`` (one stratum holds every pair if there is none).
    """
    key = np.zeros((n, n), dtype=np.int64)
    for c in codes:
        k = int(c.max()) + 1
        key = key * (k * k) + (c[:, None] * k + c[None, :])
    _, stratum = np.unique(key.ravel(), return_inverse=True)
    stratum = stratum.ravel()
    return stratum, int(stratum.max()) + 1


class _CountPlan:
    """2 x 2 counts per stratum of (gap sign, measure sign) for a batch of one varying sign variable.

    Built from the ``fixed`` sign variable (P,) bool of the P ordered pairs and their ``stratum``
    ids in ``[0, n_strata)``: the pairs are sorted once by (stratum, fixed sign). :meth:`counts`
    then takes the other sign variable for a batch, ``varying`` (b, P) bool (a measure's signs, or
    a permuted gap's), with one gather and one segment sum: O(b P), no Python loop over the batch.
    :func:`pgdl_cmi` uses it with a batch of one; :mod:`neurograph.scoring.chance` with many.
    """

    def __init__(self, fixed: np.ndarray, stratum: np.ndarray, n_strata: int):
        group = stratum.astype(np.int64) * 2 + fixed.astype(np.int64)
        self.order = np.argsort(group, kind="stable")
        self.sizes = np.bincount(group, minlength=2 * n_strata)
        self.present = np.flatnonzero(self.sizes)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes[self.present])[:-1]])
        self.n_strata = n_strata

    def counts(self, varying: np.ndarray, *, varying_is_gap: bool) -> np.ndarray:
        """int64 counts (b, n_strata, 2, 2) indexed ``[batch, stratum, gap sign, measure sign]`` (1 = "+")."""
        b = varying.shape[0]
        plus = np.zeros((b, 2 * self.n_strata), dtype=np.int64)
        plus[:, self.present] = np.add.reduceat(varying[:, self.order], self.starts, axis=1, dtype=np.int64)
        by_fixed = np.stack([self.sizes - plus, plus], axis=-1).reshape(b, self.n_strata, 2, 2)
        return by_fixed.transpose(0, 1, 3, 2) if varying_is_gap else by_fixed


def _cmi_means(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean MI, mean entropy of the gap sign) over strata, bits, from counts (b, n_strata, 2, 2) ``[gap, measure]``."""
    return _cmi_means_cells(counts[..., 0, 0], counts[..., 0, 1], counts[..., 1, 0], counts[..., 1, 1])


def _cmi_means_cells(n00: np.ndarray, n01: np.ndarray, n10: np.ndarray,
                     n11: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_cmi_means` from the four cells ``n[gap sign][measure sign]``, each (b, n_strata).

    Plug-in mutual information and gap-sign entropy per stratum (0 log 0 = 0), then unweighted
    means over strata: shape (b,) each. Written cell by cell (no reductions over tiny axes), which
    is what makes the batched chance levels fast.
    """
    total = n00 + n01 + n10 + n11
    p00, p01, p10, p11 = n00 / total, n01 / total, n10 / total, n11 / total
    g0, g1 = p00 + p01, p10 + p11  # the gap's sign
    m0, m1 = p00 + p10, p01 + p11  # the measure's sign
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = _plogq(p00, g0 * m0) + _plogq(p01, g0 * m1) + _plogq(p10, g1 * m0) + _plogq(p11, g1 * m1)
        h = np.where(g0 > 0, -g0 * np.log2(g0), 0.0) + np.where(g1 > 0, -g1 * np.log2(g1), 0.0)
    mi = np.maximum(mi, 0.0)  # clip -1e-17 rounding
    return mi.mean(axis=-1), h.mean(axis=-1)


def _plogq(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``p log2(p / q)``, 0 where ``p`` is 0."""
    return np.where(p > 0, p * np.log2(p / q), 0.0)


def _report_missing(fn: str, table: pd.DataFrame, keep: np.ndarray, measure, target, names: list) -> tuple:
    """Index labels of the rows not kept; a warning names ``measure`` and the grid cells of those rows."""
    if keep.all():
        return ()
    labels = tuple(table.index[~keep].tolist())
    cells = _describe_rows(table, ~keep, names)
    logger.warning("%s: %r scored on an incomplete grid: %d row(s) with a NaN or infinite %r or %r left out: %s",
                   fn, measure, len(labels), measure, target, cells)
    return labels


def _describe_rows(table: pd.DataFrame, rows: np.ndarray, names: list, limit: int = 10) -> str:
    """``label (h1=v, h2=w)`` for each selected row, at most ``limit`` of them."""
    sub = table[rows]
    cols = {h: sub[h].tolist()[:limit] for h in names if h in table.columns}
    parts = []
    for k, label in enumerate(sub.index[:limit]):
        cell = ", ".join(f"{h}={v[k]!r}" for h, v in cols.items())
        parts.append(f"{label!r} ({cell})" if cell else repr(label))
    more = f" and {len(sub) - limit} more" if len(sub) > limit else ""
    return "; ".join(parts) + more


def _group_ids(codes: list[np.ndarray], n: int) -> np.ndarray:
    """One id per distinct combination of the given code columns (all rows one group if none)."""
    if not codes:
        return np.zeros(n, dtype=np.int64)
    _, ids = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
    return ids.ravel()


def _tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """Exact tau-a: the integer sum of sign products over ordered pairs, by row blocks."""
    n = x.size
    total = 0
    step = max(1, 2_000_000 // n)
    for start in range(0, n, step):
        sl = slice(start, start + step)
        sx = np.sign(x[sl, None] - x[None, :]).astype(np.int8)
        sy = np.sign(y[sl, None] - y[None, :]).astype(np.int8)
        total += int(np.sum(sx * sy, dtype=np.int64))
    return total / (n * (n - 1))


def _vector(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a numeric array: {exc}") from exc
    if arr.ndim != 1:
        raise DataError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr
