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
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from .._validate import check_int, check_seed
from ..errors import DataError, OptionError
from .correlation import composite_score, correlate, label_free_ranking
from .definitions import LABEL_FREE_SCORES

__all__ = ["DEFAULT_METRICS", "ModelComparison", "accuracy_bands", "compare_models"]

#: Scores correlated with accuracy by default (those present in the table are used).
DEFAULT_METRICS: tuple[str, ...] = ("modularity", "modularity_z", "n_communities", "mean_entropy",
                                    "mean_mutual_info", "pattern_entropy", "dead_fraction", "composite")

_RANKING_COLUMNS = ["task", "n", "n_groups", "spearman", "p_value", "features"]


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
        first column ``task``.
    rankings : pandas.DataFrame
        One row per task with a label-free ranking: ``task``, ``n``, ``n_groups``,
        ``spearman``, ``p_value``, ``features`` (space-separated).
    ranking_results : mapping of str to Ranking
        The :class:`~neurograph.scoring.correlation.Ranking` of each task in ``rankings``.
    predictions : pandas.DataFrame
        Every task's held-out predictions, stacked, with a column ``task`` (empty when no
        task has a ranking).
    bands : pandas.DataFrame or None
        Neurons of each run's final model with a column ``accuracy band`` (the run's
        accuracy tercile within its task); None without a neuron table or with fewer than
        3 runs.
    """

    table: pd.DataFrame
    target: str
    metrics: tuple[str, ...]
    correlations: pd.DataFrame
    rankings: pd.DataFrame
    ranking_results: MappingProxyType
    predictions: pd.DataFrame
    bands: pd.DataFrame | None = None

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
    n_boot = check_int("n_boot", n_boot, min=0)
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
        n_groups = sub[groups].nunique() if groups else len(sub)
        if features and n_groups >= 3:
            r = label_free_ranking(sub, features, target, groups=groups)
            ranks.append({"task": task, "n": r.n, "n_groups": r.n_groups, "spearman": r.spearman,
                          "p_value": r.p_value, "features": " ".join(r.features)})
            results[task] = r
            preds.append(r.predictions.assign(task=task))
    return ModelComparison(table=table, target=target, metrics=metrics,
                           correlations=pd.concat(corr, ignore_index=True),
                           rankings=pd.DataFrame(ranks, columns=_RANKING_COLUMNS),
                           ranking_results=MappingProxyType(results),
                           predictions=pd.concat(preds, ignore_index=True) if preds else pd.DataFrame(),
                           bands=accuracy_bands(neurons, table, target))


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
        ``neurons`` rows of final checkpoints with ``accuracy band``; None when ``neurons``
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
    merged = neurons.merge(final[["run", "epoch", "accuracy band"]], on=["run", "epoch"])
    return merged if len(merged) else None
