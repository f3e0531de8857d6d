"""One rule for every verdict in words: when a correlation (or a ranking) may be called weak, moderate or strong.

:func:`verdict` is the only place where neurograph turns a coefficient into words. The
report's sentences (:func:`~neurograph.scoring.comparison.compare_models`), the ``verdict``
column of ``correlations.csv`` and ``ranking.csv``, and the tables printed by ``neurograph
correlate | report | zoo | demo`` all come from it, so the page, the files and the terminal
say the same thing. The rule:

1. The independent unit is the training run (the group resampled together), not the
   checkpoint. Below :data:`MIN_SAMPLE` runs there is no verdict: the words are
   ``"n too small: no verdict"`` and the coefficient is shown beside them as a number that
   is not a verdict; its interval and p-value are not shown (:func:`calibrated_correlations`
   writes them as NaN).
2. With enough runs, a correlation gets a strength word only when its bootstrap interval
   excludes 0 (a ranking: only when its p-value is below ``alpha``). Otherwise the words
   say why there is no verdict (``"no verdict: the interval includes 0"``, ``"no verdict:
   p >= 0.05"``, ``"no verdict: no usable interval"``).
3. The strength word is Cohen's band of ``|r|`` (0.1, 0.3, 0.5): ``negligibly``,
   ``weakly``, ``moderately``, ``strongly``; a band's edge belongs to the band above
   (``|r| = 0.3`` is ``moderately``). An interval that touches 0 includes it; an interval on
   the other side of 0 from ``r`` (or ``r = 0``) gives ``"no verdict: r and its interval
   disagree in sign"``.

Every sentence names its sample ("36 models from 12 runs") and, when models were left
out, how many and why ("1 model dropped: modularity undefined (no edges)").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import check_int, check_number
from ..errors import DataError

__all__ = ["MIN_SAMPLE", "NO_VERDICT_SMALL", "STRENGTHS", "Verdict", "calibrated_correlations", "verdict"]

#: Below this many independent units (training runs; models when no run is given) nothing is called
#: weak, moderate or strong, and intervals and p-values are not shown.
MIN_SAMPLE = 10

#: The words of every verdict refused for the sample size.
NO_VERDICT_SMALL = "n too small: no verdict"

#: Strength words, by Cohen's bands of |r|: below 0.1, 0.3, 0.5 and above.
STRENGTHS: tuple[str, ...] = ("negligibly", "weakly", "moderately", "strongly")

_BANDS = (0.1, 0.3, 0.5)


@dataclass(frozen=True)
class Verdict:
    """What :func:`verdict` decided about one coefficient.

    Attributes
    ----------
    words : str
        Short text for a table cell or a CSV column: ``"strongly positive"``,
        ``"n too small: no verdict"``, ``"no verdict: the interval includes 0"``, ...
    strength : str or None
        One of :data:`STRENGTHS`, or None when there is no verdict.
    sentence : str
        The whole sentence of the report, with the numbers and the sample.
    reason : str
        Why the verdict was given or refused (e.g. ``"6 runs, fewer than 10"``).
    """

    words: str
    strength: str | None
    sentence: str
    reason: str

    @property
    def given(self) -> bool:
        """True when the rule allowed a strength word."""
        return self.strength is not None


def verdict(r: float, ci_low: float = float("nan"), ci_high: float = float("nan"), n_units: int = 0, *,
            p_value: float | None = None, n: int | None = None, subject: str = "the score",
            target: str = "test accuracy", method: str = "Spearman", unit: str = "runs", n_dropped: int = 0,
            dropped_reason: str = "", alpha: float = 0.05, confidence: float = 0.95) -> Verdict:
    """The verdict on one coefficient ``r`` with ``n_units`` independent runs behind it.

    Parameters
    ----------
    r : float
        The coefficient (a correlation; for a ranking, Spearman of predicted vs true).
    ci_low, ci_high : float
        Its bootstrap interval (NaN: none). The evidence of a correlation.
    n_units : int
        Independent units behind ``r``: training runs (groups resampled together), or models
        when each model is its own run.
    p_value : float, optional
        Given for a label-free ranking: then the evidence is ``p_value < alpha`` instead of
        the interval, and the sentence is the ranking's.
    n : int, optional
        Models (rows) behind ``r``; default ``n_units``.
    subject, target, method : str
        Names in the sentence: the score, the accuracy column, the coefficient.
    unit : str
        What ``n_units`` counts ("runs", or "models" when rows are independent).
    n_dropped, dropped_reason
        Models left out before computing ``r`` and why (from :func:`~neurograph.scoring.correlate`).
    alpha : float
        Significance level of a ranking's p-value.
    confidence : float
        Level of the interval, for the sentence.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> verdict(0.68, -1.0, 1.0, 6).words
    'n too small: no verdict'
    >>> verdict(0.43, 0.07, 0.72, 30, subject="modularity").sentence
    'modularity relates moderately and positively to test accuracy (Spearman 0.43, 95% CI 0.07 to 0.72, 30 models).'
    >>> verdict(-0.2, -0.5, 0.1, 20, n=40).words
    'no verdict: the interval includes 0'
    >>> verdict(0.62, p_value=0.001, n_units=12, n=36).strength
    'strongly'
    """
    r = float(r) if r is not None else float("nan")
    n_units = check_int("n_units", n_units, min=0)
    n = n_units if n is None else check_int("n", n, min=0)
    n_dropped = check_int("n_dropped", n_dropped, min=0)
    check_number("alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True)
    ranking = p_value is not None
    lo, hi = float(ci_low), float(ci_high)
    p = float(p_value) if ranking else float("nan")
    sample = _sample(n, n_units, unit, n_dropped, dropped_reason)
    if not np.isfinite(r):
        words, reason = "no verdict: no coefficient", "a constant column or fewer than 3 models"
    elif n_units < MIN_SAMPLE:
        words, reason = NO_VERDICT_SMALL, f"{n_units} {unit}, fewer than {MIN_SAMPLE}"
    elif ranking and not np.isfinite(p):
        words, reason = "no verdict: no p-value", "no p-value"
    elif ranking and p >= alpha:
        words, reason = f"no verdict: p >= {alpha:g}", f"p = {p:.3g}, not below {alpha:g}"
    elif not ranking and not _usable(lo, hi):
        words, reason = "no verdict: no usable interval", "no bootstrap interval, or one spanning -1 to 1"
    elif not ranking and lo <= 0.0 <= hi:
        words, reason = "no verdict: the interval includes 0", f"{confidence:.0%} CI {lo:.2f} to {hi:.2f}"
    elif not ranking and (r == 0 or (r > 0) != (lo > 0)):   # a percentile interval can lie across 0 from r (or r = 0)
        words, reason = "no verdict: r and its interval disagree in sign", \
            f"r = {r:.2f}, {confidence:.0%} CI {lo:.2f} to {hi:.2f}"
    else:
        strength = STRENGTHS[int(np.searchsorted(_BANDS, abs(r), side="right"))]
        reason = f"p = {p:.3g} with {n_units} {unit}" if ranking else \
            f"{confidence:.0%} CI excludes 0 with {n_units} {unit}"
        sign = "positive" if r > 0 else "negative"
        if ranking:
            how = f"orders them {strength} {'like' if r > 0 else 'opposite to'} their {target}"
            sentence = (f"Ranking held-out runs by their label-free scores alone {how} ({method} {r:.2f} between "
                        f"predicted and true, p = {p:.3g}, {sample}).")
        else:
            sentence = (f"{subject} relates {strength} and {sign}ly to {target} ({method} {r:.2f}, "
                        f"{confidence:.0%} CI {lo:.2f} to {hi:.2f}, {sample}).")
        return Verdict(words=f"{strength} {sign}", strength=strength, sentence=sentence, reason=reason)
    return Verdict(words=words, strength=None, reason=reason,
                   sentence=_refused(words, reason, r, lo, hi, p, sample, subject=subject, target=target,
                                     method=method, ranking=ranking, small=words == NO_VERDICT_SMALL,
                                     confidence=confidence))


def calibrated_correlations(correlations: pd.DataFrame) -> pd.DataFrame:
    """:func:`~neurograph.scoring.correlate` output as it is shown: with a ``verdict`` column, no hollow numbers.

    Each row gets ``verdict``, the :attr:`Verdict.words` of its coefficient (of its own
    method) under :func:`verdict`, and, where there is no verdict for lack of runs, its
    interval, p-value and partial-correlation interval and p-value become NaN (an interval of
    6 runs spans nearly -1 to 1 and is not evidence); an interval that covers -1 to 1 becomes
    NaN with any sample. ``r`` and ``n`` are kept. Applying it twice changes nothing. This is the
    table written to ``correlations.csv`` by the report and by ``neurograph correlate``, and
    the table :func:`~neurograph.scoring.correlation.correlation_table` formats.

    Parameters
    ----------
    correlations : pandas.DataFrame
        Rows of :func:`~neurograph.scoring.correlate` (``metric``, ``method``, ``n``, ``r``,
        ``p_value``, ``ci_low``, ``ci_high``; ``n_runs`` (default ``n``), ``n_dropped``,
        ``dropped_reason`` and the partial columns when present).

    Returns
    -------
    pandas.DataFrame
        A copy with ``verdict`` (after ``ci_high``, or last).

    Raises
    ------
    DataError
        A required column is missing.

    Examples
    --------
    >>> c = pd.DataFrame({"metric": ["q", "h"], "method": "spearman", "n": [6, 12], "n_runs": [6, 12],
    ...                   "r": [0.68, 0.9], "p_value": [0.2, 0.001], "ci_low": [-1.0, 0.6], "ci_high": [1.0, 0.97]})
    >>> calibrated_correlations(c)[["metric", "r", "ci_low", "p_value", "verdict"]].values.tolist()
    [['q', 0.68, nan, nan, 'n too small: no verdict'], ['h', 0.9, 0.6, 0.001, 'strongly positive']]
    """
    if not isinstance(correlations, pd.DataFrame):
        raise DataError(f"correlations must be a pandas DataFrame, got {type(correlations).__name__}")
    out = correlations.copy()
    if out.empty:
        if "verdict" not in out.columns:
            out["verdict"] = pd.Series(dtype=object)
        return out
    missing = [c for c in ("method", "n", "r", "ci_low", "ci_high") if c not in out.columns]
    if missing:
        raise DataError(f"correlations lacks the column(s) {missing} (columns: {list(out.columns)})")
    units = out["n_runs"] if "n_runs" in out.columns else out["n"]
    small = units.astype(int).to_numpy() < MIN_SAMPLE
    words = []
    for k, row in enumerate(out.itertuples(index=False)):
        row = row._asdict()
        lo, hi = float(row["ci_low"]), float(row["ci_high"])
        if small[k] or not _usable(lo, hi):
            lo = hi = float("nan")
        words.append(verdict(row["r"], lo, hi, int(units.iloc[k])).words)
    hollow = small | ~np.array([_usable(a, b) for a, b in zip(out["ci_low"], out["ci_high"])], dtype=bool)
    out.loc[hollow, ["ci_low", "ci_high"]] = np.nan
    blank_small = [c for c in ("p_value", "partial_p", "partial_ci_low", "partial_ci_high") if c in out.columns]
    out.loc[small, blank_small] = np.nan
    if {"partial_ci_low", "partial_ci_high"} <= set(out.columns):
        hollow_p = ~np.array([_usable(a, b) for a, b in zip(out["partial_ci_low"], out["partial_ci_high"])],
                             dtype=bool)
        out.loc[hollow_p, ["partial_ci_low", "partial_ci_high"]] = np.nan
    if "verdict" in out.columns:
        out["verdict"] = words
    else:
        out.insert(list(out.columns).index("ci_high") + 1, "verdict", words)
    return out


# ---------------------------------------------------------------------- helpers


def _usable(lo: float, hi: float) -> bool:
    """A finite interval that does not span the whole range [-1, 1] of a correlation."""
    lo, hi = float(lo), float(hi)
    return bool(np.isfinite(lo) and np.isfinite(hi) and not (lo <= -1.0 + 1e-9 and hi >= 1.0 - 1e-9))


def _sample(n: int, n_units: int, unit: str, n_dropped: int, dropped_reason: str) -> str:
    s = f"{n} model{'s' if n != 1 else ''}" + (f" from {n_units} {unit}" if n_units != n else "")
    if n_dropped:
        s += f"; {n_dropped} model{'s' if n_dropped != 1 else ''} dropped" + (f": {dropped_reason}"
                                                                              if dropped_reason else "")
    return s


def _refused(words: str, reason: str, r: float, lo: float, hi: float, p: float, sample: str, *, subject: str,
             target: str, method: str, ranking: bool, small: bool, confidence: float) -> str:
    head = "The label-free ranking of held-out runs" if ranking else f"{subject} against {target}"
    if not np.isfinite(r):
        return f"{head}: {words} ({reason}; {sample})."
    numbers = f"{method} {r:.2f}" + (" between predicted and true" if ranking else "")
    if small:   # the coefficient alone, said not to be a verdict
        return f"{head}: {words} ({reason}; {numbers} is not a verdict; {sample})."
    if ranking:
        return f"{head}: {words} ({numbers}, p = {p:.3g}, {sample})."
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{head}: {words} ({numbers}, {confidence:.0%} CI {lo:.2f} to {hi:.2f}, {sample})."
    return f"{head}: {words} ({numbers}, {sample})."
