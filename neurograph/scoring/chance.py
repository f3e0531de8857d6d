"""Chance levels for the generalization metrics: what a random measure scores on the same grid.

A PGDL CMI, a Kendall tau or a granulated tau means little without its chance level: on a small
grid a measure of pure noise scores far from 0 (a random measure's PGDL CMI averages about 10 on
the 36-cell recurrent grid of :func:`neurograph.zoo.grid.default_grid` and about 2 on its 81-cell
image grid; measured in docs/lines/generalization-benchmark.md). Here:

* :func:`cmi_chance`, :func:`tau_chance`, :func:`gtau_chance`: the metric of ``n`` random measures
  (i.i.d. continuous noise per row, so no ties) on exactly the rows, strata and missing cells of
  the real measure, as a :class:`ChanceLevel` with its mean, 95% quantile (``abs_q95``: of the
  absolute values, for the two-sided taus) and a Monte-Carlo p-value for any observed score.
* :func:`best_of_k`: the best of ``k`` candidate measures judged as such (a
  :class:`SelectionTest`): the target is permuted (within strata), the candidates stay fixed
  together, and the maximum over the candidates is recorded per permutation; the observed best
  is compared with that null of maxima, so choosing the winner on the very grid reported is
  paid for.

The random measures are scored by the same code as :func:`~neurograph.scoring.generalization.pgdl_cmi`
(the same pair strata, 2 x 2 counts and entropies, batched over the ``n`` measures),
:func:`~neurograph.scoring.generalization.kendall_tau` (exact integer tau-a) and
:func:`~neurograph.scoring.generalization.granulated_tau` (its groups and weights). Results do
not depend on the order of the table's rows: the draws are made for the rows sorted by their
content (strata, hyper-parameters, target, candidates), so the same seed gives the same values
for any row order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._seed import as_generator
from .._validate import check_choice, check_int, check_seed
from ..errors import DataError, OptionError
from .generalization import (
    _check_table,
    _CountPlan,
    _cmi_means,
    _cmi_means_cells,
    _codes,
    _column,
    _column_names,
    _conditioning_sets,
    _group_ids,
    _hparam_names,
    _numeric,
    _pair_strata,
    _plus,
)

__all__ = ["ChanceLevel", "SelectionTest", "best_of_k", "cmi_chance", "gtau_chance", "tau_chance"]

logger = logging.getLogger(__name__)

METRICS = ("cmi", "tau", "gtau")
MAX_N = 1_000_000  # random measures / permutations per call; time grows linearly (see the Notes)
_BATCH = 4_000_000  # pair signs held at once: batch size x rows² (about 4 MB of bools, 32 MB as floats)
_TIE = 1e-9  # values within this (relative to max(1, |score|)) of the score count as ties in a p-value


@dataclass(frozen=True, eq=False)
class ChanceLevel:
    """The metric of ``n`` random measures on one grid: the chance level a real score is read against.

    Attributes
    ----------
    metric : str
        ``"cmi"`` (PGDL CMI x 100), ``"tau"`` (Kendall tau-a) or ``"gtau"`` (granulated tau Psi).
    target : str
        The target column (the gap, or test accuracy).
    values : numpy.ndarray
        Shape (n,): the metric of each random measure, on exactly the rows used. All NaN where
        the metric is undefined on this grid whatever the measure (e.g. CMI when the gap's sign
        is constant in every stratum).
    n_models : int
        Rows (models) used.
    missing : tuple
        Index labels of the table's rows left out, in table order: rows whose target is NaN or
        infinite, and rows outside ``mask`` (where the real measure is undefined).
    """

    metric: str
    target: str
    values: np.ndarray
    n_models: int
    missing: tuple = ()

    @property
    def n(self) -> int:
        """Number of random measures."""
        return int(self.values.size)

    @property
    def mean(self) -> float:
        """Mean of ``values``: the expected score of a random measure."""
        return float(np.mean(self.values)) if self.values.size else float("nan")

    @property
    def q95(self) -> float:
        """The 0.95 quantile of ``values``: a CMI above it is above chance at the 5% level (one-sided)."""
        return _quantile(self.values, 0.95)

    @property
    def abs_q95(self) -> float:
        """The 0.95 quantile of ``|values|``: the two-sided 5% level to read ``|tau|`` and ``|Psi|`` against."""
        return _quantile(np.abs(self.values), 0.95)

    @property
    def sd(self) -> float:
        """Standard deviation of ``values`` (ddof 1); NaN with fewer than 2."""
        return float(np.std(self.values, ddof=1)) if self.values.size >= 2 else float("nan")

    def pvalue(self, score: float) -> float:
        """Monte-Carlo p-value of an observed ``score``: ``(1 + #{values >= score}) / (1 + n)``.

        For tau and gtau the comparison is two-sided, ``|values| >= |score|``. Values within
        ``1e-9 * max(1, |score|)`` of the score count as reaching it (ties: CMI and tau take few
        distinct values on small grids, and a tie must count, or the p-value is too small).
        NaN if ``score`` or the values are NaN.

        Examples
        --------
        >>> c = ChanceLevel("cmi", "gap", np.array([1.0, 2.0, 2.0, 3.0]), 8)
        >>> c.pvalue(2.0), c.pvalue(3.5)
        (0.8, 0.2)
        >>> ChanceLevel("tau", "gap", np.array([-0.5, 0.1, 0.2, 0.4]), 8).pvalue(-0.4)
        0.6
        """
        return _mc_pvalue(self._stat(self.values), self._stat(np.asarray(float(score))))

    def _stat(self, v: np.ndarray) -> np.ndarray:
        return np.abs(v) if self.metric in ("tau", "gtau") else v


@dataclass(frozen=True, eq=False)
class SelectionTest:
    """The best of ``k`` candidate measures, judged against the best of ``k`` under a permuted target.

    Attributes
    ----------
    metric : str
        ``"cmi"``, ``"tau"`` or ``"gtau"``.
    target : str
        The target column.
    measures : tuple of str
        The ``k`` candidates.
    best_measure : str
        The candidate with the best observed score (largest CMI; largest ``|tau|`` or ``|gtau|``).
    observed : float
        Its score: the CMI x 100, or ``|tau|`` / ``|Psi|``.
    null_max : numpy.ndarray
        Shape (n,): per permutation of the target, the maximum over the candidates of the same
        statistic (NaN candidates ignored; NaN where all are NaN).
    pvalue : float
        ``(1 + #{null_max >= observed}) / (1 + n)`` (ties within 1e-9 relative count).
    scores : tuple of float
        The observed statistic of every candidate, in the order of ``measures``.
    n_models : tuple of int
        Rows used for every candidate (rows where it and the target are finite).
    """

    metric: str
    target: str
    measures: tuple
    best_measure: str
    observed: float
    null_max: np.ndarray
    pvalue: float
    scores: tuple = field(default=())
    n_models: tuple = field(default=())

    @property
    def q95(self) -> float:
        """The 0.95 quantile of ``null_max``: what the best of ``k`` random measures reaches 5% of the time."""
        v = self.null_max[~np.isnan(self.null_max)]
        return float(np.quantile(v, 0.95)) if v.size else float("nan")


def cmi_chance(table: pd.DataFrame, target: str, hparams: str | Sequence[str], n: int = 1000, seed=0, *,
               mask=None) -> ChanceLevel:
    """PGDL CMI (x 100) of ``n`` random measures on the grid of ``table``: the chance level of :func:`pgdl_cmi`.

    Each random measure is i.i.d. continuous noise per row (a uniformly random ranking: no ties),
    scored exactly as :func:`~neurograph.scoring.generalization.pgdl_cmi` scores a measure: the
    same ordered pairs, the same strata of every pair of hyper-parameters, the same plug-in
    entropies, the minimum over conditioning sets. Only rows with a finite target and inside
    ``mask`` are used, as ``pgdl_cmi`` uses only rows where the real measure is defined.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model (one model per grid cell, as for ``pgdl_cmi``).
    target : str
        Numeric column: the generalization gap.
    hparams : str or sequence of str
        The hyper-parameter columns (the conditioning variables), as given to ``pgdl_cmi``.
    n : int
        Random measures, 1 to 1,000,000.
    seed : int, numpy Generator or None
        Seed of the random measures.
    mask : None, str or boolean array-like, keyword-only
        The rows where the real measure is defined: a column name (its finite rows), a boolean
        array of ``len(table)`` or a boolean Series on the table's index. None: every row.

    Returns
    -------
    ChanceLevel
        ``metric="cmi"``; ``values`` (n,), ``n_models``, ``missing`` (labels of the rows left out).

    Raises
    ------
    OptionError
        ``n`` not an integer in [1, 1,000,000], a bad ``seed``, a bad ``mask``, bad ``hparams``.
    DataError
        A named column missing or not numeric, a hyper-parameter with missing values, fewer than 2
        usable rows (an all-NaN target).

    Notes
    -----
    Batched over the random measures: per conditioning set the model pairs are sorted once by
    (stratum, gap sign), and the 2 x 2 counts of a batch of measures are one gather and one
    segment sum. Measured on the shared 2-core development machine (load average 2-6): n = 1000
    on an 81-row grid with 4 hyper-parameters (6 conditioning sets) takes 0.26-0.30 s, on a 36-row
    grid with 3 hyper-parameters 0.10-0.11 s. Time grows as ``n x rows² x sets``; memory stays
    bounded (batches of about 4 million pair signs).

    Examples
    --------
    >>> import itertools
    >>> hp = ["depth", "width", "lr"]
    >>> grid = pd.DataFrame(list(itertools.product([1, 2, 3], [8, 16, 32], [0.1, 0.01])), columns=hp)
    >>> grid["gap"] = np.random.default_rng(0).uniform(0.0, 0.3, 18)
    >>> c = cmi_chance(grid, "gap", hp, n=200)
    >>> c.values.shape, c.n_models, 0 < c.mean < c.q95 < 100, c.pvalue(100.0) == 1 / 201
    ((200,), 18, True, True)
    """
    names = _hparam_names(hparams)
    t, codes, missing, rng, n = _setup(table, target, names, n, seed, mask)
    rows = t.size
    gap_plus = _plus(t)
    plans = [_CountPlan(gap_plus, *_pair_strata([codes[h] for h in cond], rows))
             for cond in _conditioning_sets(names)]
    values = np.empty(n)
    for sl in _batches(n, rows):
        ranks = _random_ranks(rng, sl.stop - sl.start, rows)
        values[sl] = _cmi_batch(_plus(ranks), plans, varying_is_gap=False)
    if np.isnan(values).all():
        logger.warning("cmi_chance: the CMI of %r is undefined on this grid for any measure (the gap's sign is "
                       "constant in every stratum of some conditioning set)", target)
    return ChanceLevel("cmi", target, values, rows, missing)


def tau_chance(table: pd.DataFrame, target: str, n: int = 1000, seed=0, *, mask=None) -> ChanceLevel:
    """Kendall tau-a of ``n`` random measures with ``target``: the chance level of :func:`kendall_tau`.

    Exact tau-a as :func:`~neurograph.scoring.generalization.kendall_tau` computes it (ties in the
    target count 0), over the rows with a finite target inside ``mask``. Read ``|tau|`` against
    ``abs_q95`` and :meth:`ChanceLevel.pvalue` (both two-sided).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model.
    target : str
        Numeric column (test accuracy or the gap).
    n, seed, mask
        As :func:`cmi_chance`.

    Returns
    -------
    ChanceLevel
        ``metric="tau"``.

    Raises
    ------
    OptionError, DataError
        As :func:`cmi_chance`.

    Notes
    -----
    n = 1000 on 162 rows takes 0.09-0.19 s on the shared 2-core development machine (load 2-6).

    Examples
    --------
    >>> t = pd.DataFrame({"acc": np.linspace(0.5, 0.9, 20)})
    >>> c = tau_chance(t, "acc", n=500)
    >>> abs(c.mean) < 0.05, 0.2 < c.q95 < c.abs_q95 < 0.45
    (True, True)
    """
    t, _, missing, rng, n = _setup(table, target, [], n, seed, mask)
    rows = t.size
    weights = _sign_matrix(t).ravel() / (rows * (rows - 1))
    values = np.empty(n)
    for sl in _batches(n, rows):
        values[sl] = _tau_batch(_plus(_random_ranks(rng, sl.stop - sl.start, rows)), weights)
    return ChanceLevel("tau", target, values, rows, missing)


def gtau_chance(table: pd.DataFrame, target: str, hparams: str | Sequence[str], n: int = 1000, seed=0, *,
                mask=None) -> ChanceLevel:
    """Granulated tau Psi of ``n`` random measures: the chance level of :func:`granulated_tau`.

    The same groups (models that differ only in one hyper-parameter), the same unweighted means
    over groups and over hyper-parameters, and the same rows (finite target, inside ``mask``) as
    :func:`~neurograph.scoring.generalization.granulated_tau`.

    Parameters
    ----------
    table, target, hparams, n, seed, mask
        As :func:`cmi_chance`; ``hparams`` must name at least one column.

    Returns
    -------
    ChanceLevel
        ``metric="gtau"``; all NaN if no hyper-parameter has a group of two models.

    Raises
    ------
    OptionError, DataError
        As :func:`cmi_chance`; OptionError for empty ``hparams``.

    Notes
    -----
    n = 1000 on an 81-row grid takes 0.01-0.05 s on the shared 2-core development machine (load 2-6).

    Examples
    --------
    >>> import itertools
    >>> grid = pd.DataFrame(list(itertools.product([1, 2, 3], [8, 16, 32])), columns=["depth", "width"])
    >>> grid["gap"] = np.linspace(0.05, 0.4, 9)
    >>> c = gtau_chance(grid, "gap", ["depth", "width"], n=400)
    >>> abs(c.mean) < 0.1, c.n_models
    (True, 9)
    """
    names = _hparam_names(hparams)
    if not names:
        raise OptionError("hparams is empty: name at least one hyper-parameter column")
    t, codes, missing, rng, n = _setup(table, target, names, n, seed, mask)
    rows = t.size
    weights, defined = _gtau_weights([codes[h] for h in names], rows)
    weights = _sign_matrix(t).ravel() * weights
    values = np.full(n, np.nan)
    if defined:
        for sl in _batches(n, rows):
            values[sl] = _tau_batch(_plus(_random_ranks(rng, sl.stop - sl.start, rows)), weights)
    return ChanceLevel("gtau", target, values, rows, missing)


def best_of_k(table: pd.DataFrame, measures: str | Sequence[str], target: str, hparams: str | Sequence[str] = (),
              *, metric: str = "cmi", n: int = 1000, seed=0, strata=None) -> SelectionTest:
    """The best of ``k`` candidate measures, judged as the best of ``k``: a permutation test of the maximum.

    The observed statistic is the best candidate's score (the largest CMI x 100, or the largest
    ``|tau|`` / ``|Psi|``). Under the null that no candidate relates to the target, the target is
    permuted (within ``strata``: a column or array of group labels; default the whole table), the
    candidates are kept fixed together (their correlations with one another preserved), every
    candidate is scored against the permuted target on its own rows (where it and the target are
    finite) and the maximum over the candidates is recorded. The p-value compares the observed
    best with those maxima: the winner of 30 measures chosen on the grid reported has to beat
    the best of 30 under the null, not one random measure.

    The null is "the target is unrelated to every candidate", and a whole-table permutation also
    unties the target from the hyper-parameters. Where a candidate could pass only by tracking a
    hyper-parameter that drives the gap, permute within that hyper-parameter (``strata="epochs"``):
    the target's dependence on it is then kept under the null. With ``k = 1`` the test answers the
    same question as :func:`cmi_chance` from the other side (the measure fixed, the gap shuffled).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model.
    measures : str or sequence of str
        The ``k`` candidate columns (numeric; NaN where a measure is undefined).
    target : str
        Numeric column: the gap (CMI) or what tau is taken against.
    hparams : str or sequence of str
        Hyper-parameter columns (needed for ``"cmi"`` and ``"gtau"``; unused by ``"tau"``).
    metric : {"cmi", "tau", "gtau"}
        The metric: :func:`pgdl_cmi`, :func:`kendall_tau` or :func:`granulated_tau`.
    n : int
        Permutations, 1 to 1,000,000.
    seed : int, numpy Generator or None
        Seed of the permutations.
    strata : None, str or array-like
        Permute only within these groups (a column name or ``len(table)`` labels).

    Returns
    -------
    SelectionTest

    Raises
    ------
    OptionError
        Bad ``metric``, ``n``, ``seed``, ``measures`` (empty, repeated) or ``strata``.
    DataError
        A named column missing or not numeric; fewer than 2 rows with a finite target; a
        candidate with fewer than 2 usable rows.

    Notes
    -----
    Candidates defined on the same rows are scored together: per conditioning set one sparse
    product gives every candidate's 2 x 2 counts for a batch of permutations. Measured on the
    shared 2-core development machine (load average 2-6), n = 1000: CMI with 24 candidates on an
    81-row grid with 4 hyper-parameters takes 1.4-1.7 s, with 34 candidates on a 36-row grid with 3
    hyper-parameters 1.7-2.7 s; tau and gtau take under 0.3 s.

    Examples
    --------
    >>> import itertools
    >>> hp = ["depth", "width", "lr"]
    >>> grid = pd.DataFrame(list(itertools.product([1, 2, 3], [8, 16, 32], [0.1, 0.01])), columns=hp)
    >>> rng = np.random.default_rng(0)
    >>> grid["gap"] = rng.uniform(0.0, 0.3, 18)
    >>> for k in range(20):                       # 20 measures of pure noise
    ...     grid[f"m{k}"] = rng.normal(size=18)
    >>> s = best_of_k(grid, [f"m{k}" for k in range(20)], "gap", hp, n=200)
    >>> s.best_measure, round(s.observed, 1), round(s.pvalue, 2)          # judged as the best of 20
    ('m18', 28.6, 0.16)
    >>> round(cmi_chance(grid, "gap", hp, n=200).pvalue(s.observed), 3)   # judged alone: looks significant
    0.015
    """
    check_choice("metric", metric, METRICS)
    names = _hparam_names(hparams)
    if metric == "gtau" and not names:
        raise OptionError("hparams is empty: metric 'gtau' needs at least one hyper-parameter column")
    cands = _measure_names(measures)
    _check_table(table)
    n = check_int("n", n, min=1, max=MAX_N)
    check_seed("seed", seed)
    t_all = _numeric(table, target, "target")
    keep = np.isfinite(t_all)
    if keep.sum() < 2:
        raise DataError(f"best_of_k needs at least 2 rows with a finite target {target!r}, got {int(keep.sum())}")
    groups = _strata_codes(table, strata)[keep]
    codes = {h: _codes(table, h, keep) for h in names}
    mvals = {c: _numeric(table, c, "measure")[keep] for c in cands}
    t = t_all[keep]
    # canonical row order: by stratum, then content, so the draws do not depend on the table's row order
    order = np.lexsort([*(mvals[c] for c in reversed(cands)), t, *(codes[h] for h in reversed(names)), groups])
    t, groups = t[order], groups[order]
    codes = {h: c[order] for h, c in codes.items()}
    mvals = {c: v[order] for c, v in mvals.items()}

    scorers, n_models, by_rows = [], [], {}
    for c in cands:
        rows = np.flatnonzero(np.isfinite(mvals[c]))
        if rows.size < 2:
            raise DataError(f"best_of_k: measure {c!r} has {rows.size} row(s) with a finite value and target; "
                            f"need at least 2")
        n_models.append(int(rows.size))
        if rows.size < t.size:
            logger.warning("best_of_k: %r is scored on %d of the %d rows with a finite %r (NaN elsewhere)",
                           c, rows.size, t.size, target)
        by_rows.setdefault(rows.tobytes(), (rows, []))[1].append(c)
    for rows, group in by_rows.values():  # candidates defined on the same rows are scored together
        group_codes = [_recode(codes[h][rows]) for h in names]
        scorers.append(_Scorer(metric, [mvals[c][rows] for c in group], rows, group_codes, names))
    where = {c: (k, j) for k, (_, group) in enumerate(by_rows.values()) for j, c in enumerate(group)}
    observed_all = [s.score(t[None, s.rows])[:, 0] for s in scorers]
    scores = np.array([observed_all[where[c][0]][where[c][1]] for c in cands])
    stat = scores if metric == "cmi" else np.abs(scores)
    observed = float(np.nanmax(stat)) if not np.isnan(stat).all() else float("nan")
    best = cands[int(np.nanargmax(stat))] if not np.isnan(stat).all() else cands[0]

    rng = as_generator(seed)
    null_max = np.empty(n)
    rows = t.size
    for sl in _batches(n, rows, per_row=max(s.cost for s in scorers)):
        b = sl.stop - sl.start
        perm = np.argsort(groups[None, :] + rng.random((b, rows)), axis=1, kind="stable")
        tp = t[perm]  # rows sorted by stratum: each stratum's rows receive a permutation of its targets
        per = np.concatenate([s.score(tp[:, s.rows]) for s in scorers])  # (k, b)
        per = per if metric == "cmi" else np.abs(per)
        undefined = np.isnan(per).all(axis=0)
        null_max[sl] = np.where(undefined, np.nan, np.max(np.where(np.isnan(per), -np.inf, per), axis=0))
    return SelectionTest(metric=metric, target=target, measures=tuple(cands), best_measure=best, observed=observed,
                         null_max=null_max, pvalue=_mc_pvalue(null_max, np.asarray(observed)),
                         scores=tuple(float(x) for x in scores), n_models=tuple(n_models))


# ---------------------------------------------------------------------- helpers


def _cmi_batch(varying: np.ndarray, plans: list[_CountPlan], *, varying_is_gap: bool) -> np.ndarray:
    """PGDL score x 100 per batch row: min over conditioning sets of mean MI / mean entropy, as :func:`pgdl_cmi`."""
    score = np.full(varying.shape[0], np.inf)
    for plan in plans:
        mean_mi, mean_h = _cmi_means(plan.counts(varying, varying_is_gap=varying_is_gap))
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(mean_h > 0, mean_mi / mean_h, np.nan)
        score = np.minimum(score, value)  # NaN propagates: one undefined set makes the score NaN
    return 100.0 * score


def _tau_batch(plus: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_ij sign(x_i - x_j) w_ij`` for x given by its pair signs ``plus`` (b, P); w antisymmetric.

    ``weights`` is (P,) or (P, k) (one column per candidate). ``sign(x_i - x_j) = plus_ij - plus_ji``
    (ties included: both 0), and with ``w_ji = -w_ij`` both halves sum alike, so the sum is
    ``2 plus @ w``: exact integers times the weights, no sign matrix per batch row.
    """
    return 2.0 * (plus.astype(np.float64) @ weights)


class _Scorer:
    """Candidate measures of :func:`best_of_k` defined on the same rows, fixed, scored against batches of targets.

    For CMI the 2 x 2 counts of every candidate, stratum and permuted target come from one sparse
    product per conditioning set: ``R = M @ gap_plus``, where the rows of ``M`` select the pairs of a
    stratum (giving the gap's "+" count) and the pairs of a stratum where a candidate's sign is "+"
    (giving the joint "+ +" count); with the fixed totals these fill the table exactly (integers).
    For tau and gtau the candidates' antisymmetric pair weights form one (P, k) matrix.
    """

    def __init__(self, metric: str, ms: list[np.ndarray], rows: np.ndarray, codes: list[np.ndarray], names: list):
        from scipy import sparse

        self.metric, self.rows, self.k = metric, rows, len(ms)
        size = rows.size
        pairs = size * size
        if metric == "cmi":
            mplus = np.stack([_plus(m) for m in ms])  # (k, P)
            self.sets = []
            n_strata_max = 1
            for cond in _conditioning_sets(names):
                stratum, n_strata = _pair_strata([codes[names.index(h)] for h in cond], size)
                n_strata_max = max(n_strata_max, n_strata)
                total = np.bincount(stratum, minlength=n_strata)
                m_plus = np.stack([np.bincount(stratum[mp], minlength=n_strata) for mp in mplus])  # (k, S)
                sel = [np.flatnonzero(mp) for mp in mplus]
                r = np.concatenate([stratum, *((c + 1) * n_strata + stratum[idx] for c, idx in enumerate(sel))])
                col = np.concatenate([np.arange(pairs), *sel])
                mat = sparse.csr_matrix((np.ones(r.size, dtype=np.float32), (r, col)),
                                        shape=((self.k + 1) * n_strata, pairs))
                self.sets.append((mat, total, m_plus, n_strata))
            self.cost = pairs + 8 * self.k * n_strata_max  # floats held per batch row
        else:
            self.defined = True
            w = np.full(pairs, 1.0 / (size * (size - 1)))
            if metric == "gtau":
                w, self.defined = _gtau_weights(codes, size)
            self.weights = np.stack([_sign_matrix(m).ravel() * w for m in ms], axis=1)  # (P, k), antisymmetric
            self.cost = pairs

    def score(self, targets: np.ndarray) -> np.ndarray:
        """The metric of every candidate against every row of ``targets`` (b, rows): shape (k, b)."""
        b = targets.shape[0]
        if self.metric != "cmi":
            if not self.defined:
                return np.full((self.k, b), np.nan)
            return _tau_batch(_plus(targets), self.weights).T
        tt = targets.T
        gap_plus = (tt[:, None, :] > tt[None, :, :]).reshape(-1, b).astype(np.float32)  # (P, b)
        score = np.full((b, self.k), np.inf)
        for mat, total, m_plus, n_strata in self.sets:
            r = np.rint(mat @ gap_plus).astype(np.int64)  # exact: integer sums below 2**24
            g_plus = r[:n_strata].T[:, None, :]  # (b, 1, S)
            both = r[n_strata:].reshape(self.k, n_strata, b).transpose(2, 0, 1)  # (b, k, S)
            mean_mi, mean_h = _cmi_means_cells(total - g_plus - m_plus + both, m_plus - both, g_plus - both, both)
            mean_mi, mean_h = mean_mi.ravel(), mean_h.ravel()
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(mean_h > 0, mean_mi / mean_h, np.nan).reshape(b, self.k)
            score = np.minimum(score, value)
        return 100.0 * score.T


def _setup(table, target, names, n, seed, mask):
    """Validated (finite target in canonical order, codes in that order, missing labels, generator, n)."""
    _check_table(table)
    n = check_int("n", n, min=1, max=MAX_N)
    check_seed("seed", seed)
    t = _numeric(table, target, "target")
    keep = np.isfinite(t) & _mask(table, mask)
    if keep.sum() < 2:
        raise DataError(f"need at least 2 rows with a finite target {target!r} (inside mask), got {int(keep.sum())} "
                        f"of {len(table)}")
    codes = {h: _codes(table, h, keep) for h in names}
    t = t[keep]
    order = np.lexsort([t, *(codes[h] for h in reversed(names))])
    missing = tuple(table.index[~keep].tolist())
    return t[order], {h: c[order] for h, c in codes.items()}, missing, as_generator(seed), n


def _mask(table: pd.DataFrame, mask) -> np.ndarray:
    if mask is None:
        return np.ones(len(table), dtype=bool)
    if isinstance(mask, str):
        return np.isfinite(_numeric(table, mask, "mask"))
    if isinstance(mask, pd.Series):
        if not mask.index.equals(table.index):
            raise OptionError("mask is a Series whose index is not the table's index")
        mask = mask.to_numpy()
    arr = np.asarray(mask)
    if arr.dtype != bool or arr.shape != (len(table),):
        raise OptionError(f"mask must be a column name or a boolean array of length {len(table)} (one per row), "
                          f"got dtype {arr.dtype} and shape {arr.shape}")
    return arr


def _measure_names(measures) -> list:
    return _column_names(measures, "measures", non_empty=True)


def _strata_codes(table: pd.DataFrame, strata) -> np.ndarray:
    if strata is None:
        return np.zeros(len(table), dtype=np.int64)
    if isinstance(strata, str):
        values = _column(table, strata, "strata")
    else:
        arr = strata.to_numpy() if isinstance(strata, pd.Series) else np.asarray(strata, dtype=object)
        if arr.ndim != 1 or len(arr) != len(table):
            raise OptionError(f"strata must be a column name or {len(table)} labels (one per row), "
                              f"got shape {arr.shape}")
        values = pd.Series(arr)
    if pd.isna(values).any():
        raise DataError(f"strata has {int(pd.isna(values).sum())} missing label(s)")
    try:
        codes, _ = pd.factorize(values, sort=True)  # sorted: codes do not depend on row order
    except TypeError:  # labels of mixed, unorderable types
        codes, _ = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.int64)


def _recode(c: np.ndarray) -> np.ndarray:
    """Sorted dense codes of a subset of rows, as :func:`_codes` gives when only these rows are kept."""
    return np.unique(c, return_inverse=True)[1].ravel().astype(np.int64)


def _sign_matrix(x: np.ndarray) -> np.ndarray:
    """(n, n) float ``sign(x_i - x_j)``."""
    return np.sign(x[:, None] - x[None, :]).astype(np.float64)


def _gtau_weights(codes: list[np.ndarray], n: int) -> tuple[np.ndarray, bool]:
    """Pair weights (n * n,) such that Psi = sum_ij sign(m_i - m_j) sign(t_i - t_j) w_ij, as :func:`granulated_tau`.

    For each hyper-parameter with a group of two or more models (grouped by all the others), a
    pair in one such group of size g weighs 1 / (g (g - 1) groups); the hyper-parameters are then
    averaged. Returns (weights, whether any hyper-parameter is defined).
    """
    total = np.zeros((n, n))
    n_defined = 0
    for k in range(len(codes)):
        group = _group_ids([c for j, c in enumerate(codes) if j != k], n)
        size = np.bincount(group)
        big = size >= 2
        if not big.any():
            continue
        n_defined += 1
        same = (group[:, None] == group[None, :]) & ~np.eye(n, dtype=bool)
        g = size[group].astype(np.float64)
        with np.errstate(divide="ignore"):
            w = np.where(same, 1.0 / (g * (g - 1))[:, None], 0.0)
        total += w / int(big.sum())
    if not n_defined:
        return total.ravel(), False
    return (total / n_defined).ravel(), True


def _random_ranks(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """(b, n) random rankings: each row a uniformly random permutation of 0..n-1 (continuous noise, no ties)."""
    return rng.permuted(np.broadcast_to(np.arange(n), (b, n)), axis=1)


def _batches(n: int, rows: int, per_row: int | None = None):
    """Slices of ``range(n)`` whose batches hold about ``_BATCH`` numbers (``per_row`` each; default rows²)."""
    step = max(1, _BATCH // (per_row or rows * rows))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _quantile(v: np.ndarray, q: float) -> float:
    return float(np.quantile(v, q)) if v.size and not np.isnan(v).any() else float("nan")


def _mc_pvalue(null: np.ndarray, stat: np.ndarray) -> float:
    s = float(stat)
    if np.isnan(s) or null.size == 0 or np.isnan(null).all():
        return float("nan")
    reached = int(np.sum(null >= s - _TIE * max(1.0, abs(s))))
    return (1 + reached) / (1 + null.size)
