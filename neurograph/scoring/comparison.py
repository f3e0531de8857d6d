"""Compare the models of a zoo: per task, each score against accuracy, the label-free ranking, accuracy bands.

:func:`compare_models` computes every statistic the report page of a zoo shows, from the
score table (``scores.csv``: one row per model or checkpoint) and optionally the neuron
table (``neurons.csv``): per task, the composite score, the correlation of each score with
the target (:func:`~neurograph.scoring.correlation.correlate`, bootstrap over whole runs),
the label-free ranking of held-out runs (:func:`~neurograph.scoring.correlation.label_free_ranking`)
and the neurons of each run's final model labelled by accuracy tercile. The report
(:func:`neurograph.io.report.write_report`) only renders the :class:`ModelComparison`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from .._validate import check_int, check_seed
from .._limits import MAX_N_BOOT
from ..errors import DataError, OptionError
from .correlation import composite_score, correlate, label_free_ranking
from .definitions import LABEL_FREE_SCORES
from .verdicts import MIN_SAMPLE, calibrated_correlations, verdict

__all__ = ["DEFAULT_METRICS", "MIN_SAMPLE", "ModelComparison", "accuracy_bands", "compare_models",
           "correlation_verdict", "ranking_verdict", "reference_verdict", "strength_word"]

#: Scores correlated with accuracy by default (those present in the table are used).
DEFAULT_METRICS: tuple[str, ...] = ("modularity", "modularity_z", "n_communities", "mean_entropy",
                                    "mean_mutual_info", "pattern_entropy", "dead_fraction", "composite")

_RANKING_COLUMNS = ["task", "n", "n_groups", "spearman", "p_value", "verdict", "n_dropped", "dropped_reason",
                    "features"]

_VERDICT_COLUMNS = ["task", "section", "metric", "n", "n_groups", "r", "ci_low", "ci_high", "small_sample",
                    "verdict", "words", "n_dropped", "dropped_reason"]


@dataclass(frozen=True, eq=False)
class ModelComparison:
    """What :func:`compare_models` computed.

    Attributes
    ----------
    table : pandas.DataFrame
        The score table, one row per model, with ``task`` as str (``"all"`` when it had no
        ``task`` column) and ``composite`` added (z-scored within each task) when
        ``modularity`` and ``mean_entropy`` are present.
    target : str
        The accuracy column.
    metrics : tuple of str
        The scores correlated with ``target``.
    correlations : pandas.DataFrame
        :func:`~neurograph.scoring.correlation.correlate` of every task, stacked, with a
        first column ``task``, through :func:`~neurograph.scoring.verdicts.calibrated_correlations`
        (a ``verdict`` column; intervals and p-values NaN below :data:`MIN_SAMPLE` runs): the
        table of ``correlations.csv``.
    rankings : pandas.DataFrame
        One row per task with a label-free ranking: ``task``, ``n``, ``n_groups``,
        ``spearman``, ``p_value`` (NaN below :data:`MIN_SAMPLE` runs), ``verdict`` (the words of
        :func:`~neurograph.scoring.verdicts.verdict`), ``n_dropped``, ``dropped_reason``,
        ``features`` (space-separated).
    ranking_results : mapping of str to Ranking
        The :class:`~neurograph.scoring.correlation.Ranking` of each task in ``rankings``.
    predictions : pandas.DataFrame
        Every task's held-out predictions, stacked, with a column ``task`` (empty when no
        task has a ranking).
    bands : pandas.DataFrame or None
        Neurons of each run's final model with a column ``accuracy band`` (the run's
        accuracy tercile within its task); None without a neuron table or with fewer than
        3 runs.
    verdicts : pandas.DataFrame
        One sentence per task and finding (columns ``task``, ``section`` (``"correlation"``,
        ``"ranking"``, ``"training"`` or ``"entropy"``), ``metric``, ``n``, ``n_groups``, ``r``,
        ``ci_low``, ``ci_high``, ``small_sample``, ``verdict``, ``words``, ``n_dropped``,
        ``dropped_reason``): the Spearman correlation of each metric with the target in words and
        the label-free ranking, both by the one rule :func:`~neurograph.scoring.verdicts.verdict`
        (``words`` is its short form, as in the CSVs and the printed tables), the change of
        modularity along training and the entropy of neurons by accuracy band (no strength words).
        ``n_groups`` counts the runs behind the numbers (after dropped models); ``small_sample`` is
        True below :data:`MIN_SAMPLE` of them: those verdicts say "n too small: no verdict".
    """

    table: pd.DataFrame
    target: str
    metrics: tuple[str, ...]
    correlations: pd.DataFrame
    rankings: pd.DataFrame
    ranking_results: MappingProxyType
    predictions: pd.DataFrame
    bands: pd.DataFrame | None = None
    verdicts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_VERDICT_COLUMNS))

    def verdict_list(self, section: str, task: str | None = None) -> list[str]:
        """The verdict sentences of one ``section`` (optionally one ``task``), in table order."""
        v = self.verdicts
        keep = v["section"] == section
        if task is not None:
            keep &= v["task"] == task
        return [str(x) for x in v.loc[keep, "verdict"]]

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks, sorted."""
        return tuple(sorted(self.table["task"].unique()))


def compare_models(table: pd.DataFrame, *, target: str = "test_accuracy", metrics: Sequence[str] | None = None,
                   covariate: str | None = "n_params", n_boot: int = 1000, seed: int = 0,
                   neurons: pd.DataFrame | None = None) -> ModelComparison:
    """Per task, correlate every score with ``target`` and rank held-out runs from label-free scores.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model (checkpoint); columns ``target``, the scores, and when present
        ``task`` (models are compared within each task), ``run`` (rows of one run are
        resampled together and held out together) and ``epoch``.
    target : str
        The accuracy column.
    metrics : sequence of str, optional
        Scores to correlate (default :data:`DEFAULT_METRICS`); those absent from the table
        are skipped. ``composite`` (:func:`~neurograph.scoring.correlation.composite_score`
        of modularity and mean_entropy, computed per task) is added to the table first.
    covariate : str or None
        Partial correlations control for it, in tasks where the column exists and varies.
    n_boot, seed
        Bootstrap resamples and seed of :func:`~neurograph.scoring.correlation.correlate`.
    neurons : pandas.DataFrame, optional
        Per-neuron table (``neurons.csv``: ``run``, ``epoch``, ``entropy``, ...) for :attr:`ModelComparison.bands`.

    Returns
    -------
    ModelComparison

    Raises
    ------
    DataError
        ``table`` not a DataFrame, without ``target`` or without any of the metrics.
    OptionError
        ``target`` not a str, ``n_boot`` not an int >= 0, a bad ``seed``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> acc = rng.random(12)
    >>> t = pd.DataFrame({"run": np.arange(12), "test_accuracy": acc, "modularity": acc + 0.1 * rng.random(12),
    ...                   "mean_entropy": rng.random(12)})
    >>> c = compare_models(t, n_boot=50)
    >>> c.metrics, c.tasks, round(float(c.rankings["spearman"].iloc[0]), 2) > 0.5
    (('modularity', 'mean_entropy', 'composite'), ('all',), True)
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    if not isinstance(target, str):
        raise OptionError(f"target must be a column name (str), got {target!r}")
    n_boot = check_int("n_boot", n_boot, min=0, max=MAX_N_BOOT)
    check_seed("seed", seed)
    if target not in table.columns:
        raise DataError(f"table has no {target!r} column (columns: {list(table.columns)})")
    table = table.copy()
    if "task" not in table.columns:
        table["task"] = "all"
    table["task"] = table["task"].astype(str)
    if {"modularity", "mean_entropy"} <= set(table.columns):
        table["composite"] = np.nan
        for idx in table.groupby("task").groups.values():
            table.loc[idx, "composite"] = composite_score(table.loc[idx])
    metrics = tuple(m for m in (metrics or DEFAULT_METRICS) if m in table.columns)
    if not metrics:
        raise DataError(f"table has none of the score columns {list(DEFAULT_METRICS)} "
                        f"(columns: {list(table.columns)})")
    groups = "run" if "run" in table.columns else None
    corr, ranks, results, preds = [], [], {}, []
    for task, sub in table.groupby("task", sort=True):
        cov = covariate if covariate in sub.columns and sub[covariate].nunique() > 1 else None
        c = correlate(sub, list(metrics), target, cov, n_boot=n_boot, seed=seed, groups=groups)
        c.insert(0, "task", task)
        corr.append(c)
        features = [f for f in LABEL_FREE_SCORES if f in sub.columns and sub[f].notna().any()]
        scored = sub[np.isfinite(pd.to_numeric(sub[target], errors="coerce"))]
        n_groups = scored[groups].nunique() if groups else len(scored)
        if features and n_groups >= 3:         # models without a finite target cannot be ranked against it
            r = label_free_ranking(sub, features, target, groups=groups)
            v = verdict(r.spearman, n_units=r.n_groups, p_value=r.p_value, n=r.n)
            ranks.append({"task": task, "n": r.n, "n_groups": r.n_groups, "spearman": r.spearman,
                          "p_value": r.p_value if r.n_groups >= MIN_SAMPLE else np.nan, "verdict": v.words,
                          "n_dropped": r.n_dropped, "dropped_reason": r.dropped_reason,
                          "features": " ".join(r.features)})
            results[task] = r
            preds.append(r.predictions.assign(task=task))
    correlations = calibrated_correlations(pd.concat(corr, ignore_index=True))
    rankings = pd.DataFrame(ranks, columns=_RANKING_COLUMNS)
    bands = accuracy_bands(neurons, table, target)
    return ModelComparison(table=table, target=target, metrics=metrics, correlations=correlations,
                           rankings=rankings, ranking_results=MappingProxyType(results),
                           predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
                           bands=bands, verdicts=_verdicts(table, correlations, rankings, bands, target,
                                                           "runs" if groups else "models"))


def accuracy_bands(neurons: pd.DataFrame | None, table: pd.DataFrame, target: str = "test_accuracy"
                   ) -> pd.DataFrame | None:
    """Neurons of each run's final checkpoint, labelled by the run's accuracy tercile within its task.

    The final checkpoint of a run is its row of largest ``epoch`` in ``table``; runs are
    ranked by ``target`` within each task (ties by order) and cut into thirds, labelled
    ``"low <target>"``, ``"middle <target>"``, ``"high <target>"`` in the column
    ``accuracy band``.

    Returns
    -------
    pandas.DataFrame or None
        ``neurons`` rows of final checkpoints with ``accuracy band`` (and ``task``); None when ``neurons``
        is None, a table lacks ``run``/``epoch`` (or ``entropy``), there are fewer than 3
        runs, or no neuron matches.

    Examples
    --------
    >>> t = pd.DataFrame({"run": list("abc"), "epoch": [1, 1, 1], "task": "x", "test_accuracy": [0.2, 0.9, 0.5]})
    >>> n = pd.DataFrame({"run": list("abc"), "epoch": [1, 1, 1], "entropy": [0.1, 0.2, 0.3]})
    >>> accuracy_bands(n, t)["accuracy band"].tolist()
    ['low test_accuracy', 'high test_accuracy', 'middle test_accuracy']
    """
    if neurons is None or not {"run", "epoch"} <= set(table.columns):
        return None
    if not {"run", "epoch", "entropy"} <= set(neurons.columns):
        return None
    if "task" not in table.columns:
        table = table.assign(task="all")
    final = table.sort_values("epoch").groupby("run").tail(1)[["run", "epoch", "task", target]].copy()
    if len(final) < 3:
        return None
    final["accuracy band"] = ""
    for idx in final.groupby("task").groups.values():
        acc = final.loc[idx, target].rank(method="first")
        band = pd.qcut(acc, 3, labels=["low", "middle", "high"]) if len(idx) >= 3 else pd.Series("all", index=idx)
        final.loc[idx, "accuracy band"] = [f"{b} {target}" for b in band.astype(str)]
    keep = ["run", "epoch", "accuracy band"] + (["task"] if "task" not in neurons.columns else [])
    merged = neurons.merge(final[keep], on=["run", "epoch"])
    return merged if len(merged) else None


def strength_word(r: float, ci_low: float = float("nan"), ci_high: float = float("nan"),
                  n_units: int = 0) -> str | None:
    """The strength word of a correlation under :func:`~neurograph.scoring.verdicts.verdict`, or None.

    A word (Cohen's bands of ``|r|``: 0.1, 0.3, 0.5) only with at least :data:`MIN_SAMPLE`
    independent runs and an interval that excludes 0; None otherwise, whatever ``r``.

    Examples
    --------
    >>> [strength_word(r, r - 0.05, r + 0.05, 12) for r in (0.07, -0.2, 0.43, 0.8)]
    ['negligibly', 'weakly', 'moderately', 'strongly']
    >>> strength_word(0.8, 0.5, 0.9, 6) is None and strength_word(0.8) is None
    True
    """
    return verdict(r, ci_low, ci_high, n_units).strength


def correlation_verdict(metric: str, target: str, r: float, ci_low: float, ci_high: float, n: int,
                        n_groups: int | None = None, *, method: str = "Spearman", n_dropped: int = 0,
                        dropped_reason: str = "") -> str:
    """One sentence on a correlation (:attr:`~neurograph.scoring.verdicts.Verdict.sentence` of :func:`verdict`).

    ``n_groups`` runs are the independent units (``n`` models when None). Below :data:`MIN_SAMPLE`
    of them, or when the interval includes 0, there is no strength word.

    Examples
    --------
    >>> correlation_verdict("modularity", "test accuracy", 0.43, 0.07, 0.72, 30)
    'modularity relates moderately and positively to test accuracy (Spearman 0.43, 95% CI 0.07 to 0.72, 30 models).'
    >>> correlation_verdict("q", "acc", 0.68, -1.0, 1.0, 5, 5, n_dropped=1, dropped_reason="q undefined (no edges)")
    'q against acc: n too small: no verdict (5 runs, fewer than 10; Spearman 0.68 is not a verdict; 5 models; 1 model dropped: q undefined (no edges)).'
    """
    units = n_groups if n_groups is not None else n
    return verdict(r, ci_low, ci_high, units, n=n, subject=metric, target=target, method=method,
                   unit="runs" if n_groups is not None else "models", n_dropped=n_dropped,
                   dropped_reason=dropped_reason).sentence


def reference_verdict(row) -> str:
    """One sentence on a reference model of ``neurograph demo`` (a row of its ``summary.csv``).

    Where the row holds the untrained twin's scores (``modularity_untrained``, ``modularity_z_untrained``:
    ``score_model(..., baseline="untrained")``) they are given beside the trained ones: a z-score is read
    against the twin's, since an untrained network's graph is already far more modular than its rewirings.

    Examples
    --------
    >>> reference_verdict({"model": "mlp", "test_accuracy": 0.97, "modularity": 0.39, "modularity_z": 103.4,
    ...                    "n_communities": 5, "n_nodes": 164, "mean_entropy": 0.52})
    'mlp (test accuracy 0.970): modularity 0.390 with 5 communities over 164 neurons, 103.4 standard deviations above rewired graphs of the same degrees; mean neuron entropy 0.52 bits.'
    >>> reference_verdict({"model": "mlp", "test_accuracy": 0.97, "modularity": 0.39, "modularity_z": 103.4,
    ...                    "modularity_untrained": 0.26, "modularity_z_untrained": 61.7})
    'mlp (test accuracy 0.970): modularity 0.390 (untrained twin 0.260), 103.4 standard deviations above rewired graphs of the same degrees (untrained twin 61.7).'
    """
    get = (lambda k: row.get(k, float("nan"))) if hasattr(row, "get") else (lambda k: float("nan"))

    def twin(key: str, fmt: str) -> str:
        value = float(get(f"{key}_untrained"))
        return f" (untrained twin {value:{fmt}})" if np.isfinite(value) else ""

    parts = [f"{get('model')} (test accuracy {float(get('test_accuracy')):.3f}): modularity "
             f"{float(get('modularity')):.3f}{twin('modularity', '.3f')}"]
    if np.isfinite(float(get("n_communities"))):
        parts.append(f" with {int(get('n_communities'))} communities over {int(get('n_nodes'))} neurons")
    z = float(get("modularity_z"))
    if np.isfinite(z):
        parts.append(f", {z:.1f} standard deviations above rewired graphs of the same degrees"
                     f"{twin('modularity_z', '.1f')}")
    if np.isfinite(float(get("mean_entropy"))):
        parts.append(f"; mean neuron entropy {float(get('mean_entropy')):.2f} bits{twin('mean_entropy', '.2f')}")
    return "".join(parts) + "."


def ranking_verdict(target: str, spearman: float, p_value: float, n: int, n_groups: int, *, n_dropped: int = 0,
                    dropped_reason: str = "") -> str:
    """One sentence on a label-free ranking of held-out runs (:func:`~neurograph.scoring.verdicts.verdict` with a p-value).

    Examples
    --------
    >>> ranking_verdict("test accuracy", 0.62, 0.001, 36, 12)
    'Ranking held-out runs by their label-free scores alone orders them strongly like their test accuracy (Spearman 0.62 between predicted and true, p = 0.001, 36 models from 12 runs).'
    >>> ranking_verdict("test accuracy", 0.8, 0.01, 12, 6)
    'The label-free ranking of held-out runs: n too small: no verdict (6 runs, fewer than 10; Spearman 0.80 between predicted and true is not a verdict; 12 models from 6 runs).'
    """
    return verdict(spearman, n_units=n_groups, p_value=p_value, n=n, target=target, n_dropped=n_dropped,
                   dropped_reason=dropped_reason).sentence


def _verdicts(table: pd.DataFrame, corr: pd.DataFrame, ranks: pd.DataFrame, bands: pd.DataFrame | None,
              target: str, unit: str = "runs") -> pd.DataFrame:
    rows = []
    for task, sub in table.groupby("task", sort=True):
        sp = corr[(corr["task"] == task) & (corr["method"] == "spearman")]
        for _, c in sp.iterrows():
            units = int(c["n_runs"])
            v = verdict(float(c["r"]), float(c["ci_low"]), float(c["ci_high"]), units, n=int(c["n"]),
                        subject=str(c["metric"]), target=target, unit=unit, n_dropped=int(c["n_dropped"]),
                        dropped_reason=str(c["dropped_reason"]))
            rows.append({"task": task, "section": "correlation", "metric": c["metric"], "n": int(c["n"]),
                         "n_groups": units, "r": c["r"], "ci_low": c["ci_low"], "ci_high": c["ci_high"],
                         "small_sample": units < MIN_SAMPLE, "verdict": v.sentence, "words": v.words,
                         "n_dropped": int(c["n_dropped"]), "dropped_reason": c["dropped_reason"]})
        for _, k in ranks[ranks["task"] == task].iterrows():
            v = verdict(float(k["spearman"]), n_units=int(k["n_groups"]), p_value=float(k["p_value"]),
                        n=int(k["n"]), target=target, unit=unit, n_dropped=int(k["n_dropped"]),
                        dropped_reason=str(k["dropped_reason"]))
            rows.append({"task": task, "section": "ranking", "metric": "label-free ranking", "n": int(k["n"]),
                         "n_groups": int(k["n_groups"]), "r": k["spearman"], "ci_low": np.nan, "ci_high": np.nan,
                         "small_sample": int(k["n_groups"]) < MIN_SAMPLE, "verdict": v.sentence, "words": v.words,
                         "n_dropped": int(k["n_dropped"]), "dropped_reason": k["dropped_reason"]})
        if {"run", "epoch", "modularity"} <= set(sub.columns) and sub.groupby("run")["epoch"].nunique().max() > 1:
            ends = sub.sort_values("epoch").groupby("run")["modularity"].agg(["first", "last"]).dropna()
            delta = ends["last"] - ends["first"]
            lost = int(sub["run"].nunique()) - len(ends)
            why = f"; {lost} run{'s' if lost != 1 else ''} dropped: modularity undefined" if lost else ""
            rows.append({"task": task, "section": "training", "metric": "modularity", "n": len(sub),
                         "n_groups": len(ends), "r": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                         "small_sample": len(ends) < MIN_SAMPLE, "n_dropped": lost,
                         "dropped_reason": "modularity undefined" if lost else "",
                         "verdict": f"Modularity rose from the first to the last checkpoint in {int((delta > 0).sum())}"
                                    f" of {len(ends)} runs (median change {delta.median():+.3f}{why})."})
    if bands is not None:
        tagged = bands if "task" in bands.columns else bands.merge(table[["run", "task"]].drop_duplicates("run"),
                                                                   on="run")
        for task, sub in tagged.groupby("task"):
            med = sub.groupby("accuracy band")["entropy"].median()
            lo, hi = f"low {target}", f"high {target}"
            if lo in med.index and hi in med.index:
                runs = int(sub["run"].nunique())
                rows.append({"task": task, "section": "entropy", "metric": "entropy", "n": len(sub),
                             "n_groups": runs, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                             "small_sample": runs < MIN_SAMPLE,
                             "verdict": f"Neurons of the most accurate third of the final models have median entropy "
                                        f"{med[hi]:.2f} bits, against {med[lo]:.2f} in the least accurate third "
                                        f"({len(sub)} neurons from {runs} runs)."})
    return pd.DataFrame(rows, columns=_VERDICT_COLUMNS)
