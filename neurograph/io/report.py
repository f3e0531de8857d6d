"""A self-contained static HTML report of a zoo run: tables and figures in one file, no scripts.

:func:`write_report` reads a run folder written by :func:`neurograph.zoo.run_zoo`
(``scores.csv``, optionally ``neurons.csv``, ``timeline.gexf``, co-activation PNGs and
the ``summary.csv`` of ``neurograph demo``), has
:func:`neurograph.scoring.comparison.compare_models` compute every statistic (the
correlations of every score with test accuracy per task, their bootstrap intervals, the
label-free ranking, the accuracy bands of the neurons), draws the figures from them and
writes ``report.html`` (figures embedded as base64 PNG, every user-provided name
HTML-escaped), ``correlations.csv``, ``ranking.csv`` and ``figures/*.png``. This module
computes nothing itself: it reads, renders and writes. The score definitions on the page
come from :data:`neurograph.scoring.definitions.SCORE_DEFINITIONS`.

Sections of the page (``<section id=...>``): ``summary``, ``definitions``,
``correlation``, ``ranking``, ``scatter``, ``training``, ``entropy``, ``coactivation``,
``models``, ``files``.
"""

from __future__ import annotations

import base64
import html
import logging
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._validate import check_int, check_number, check_seed
from ..errors import DataError, OptionError
from ..scoring.comparison import DEFAULT_METRICS, ModelComparison, compare_models
from ..scoring.correlation import correlation_table
from ..scoring.definitions import definition_rows
from .atomic import atomic_path, read_csv, write_csv
from .plots import figure_png, plot_entropy, plot_ranking, plot_score_grid, plot_training_curves

__all__ = ["DEFAULT_METRICS", "ReportResult", "correlation_table", "render_report", "write_report"]

logger = logging.getLogger(__name__)

SECTIONS = ("summary", "definitions", "correlation", "ranking", "scatter", "training", "entropy", "coactivation",
            "models", "files")


@dataclass(frozen=True, eq=False)
class ReportResult:
    """What :func:`write_report` wrote: the page, the correlation table, the rankings (one row per task).

    ``comparison`` is the :class:`~neurograph.scoring.comparison.ModelComparison` the page renders.
    """

    path: Path
    correlations: pd.DataFrame
    rankings: pd.DataFrame
    figures: dict
    comparison: ModelComparison | None = None


def write_report(run_dir: str | os.PathLike, *, target: str = "test_accuracy", metrics: list[str] | None = None,
                 covariate: str | None = "n_params", n_boot: int = 1000, seed: int = 0, title: str = "",
                 wall_time: float | None = None) -> ReportResult:
    """Compare the models of ``run_dir/scores.csv`` and write ``run_dir/report.html`` (plus CSVs and PNGs).

    Parameters
    ----------
    run_dir : path
        A folder with ``scores.csv`` (one row per model/checkpoint; columns ``run``,
        ``task``, ``epoch`` are used when present).
    target : str
        The accuracy column.
    metrics : list of str, optional
        Scores to correlate (default :data:`DEFAULT_METRICS` present in the table).
        ``composite`` (:func:`neurograph.scoring.composite_score`, computed per task)
        is added to the table.
    covariate : str or None
        Partial correlations control for it (if the column exists and varies).
    n_boot, seed
        Bootstrap resamples and seed of :func:`neurograph.scoring.correlate`; rows of
        one ``run`` are resampled together.
    title : str
        Page title (escaped).
    wall_time : float, optional
        Seconds the run took, shown in the summary.

    Returns
    -------
    ReportResult

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` or ``scores.csv`` is missing.
    NotADirectoryError
        If ``run_dir`` (or its ``figures`` entry) is a file.
    FileFormatError
        If ``scores.csv`` (or an optional ``neurons.csv`` / ``summary.csv``) is not a readable
        CSV table (the message names the file).
    DataError
        If ``scores.csv`` lacks ``target``.
    OptionError
        ``n_boot`` not an int >= 0, a bad ``seed``, ``target`` / ``title`` not a str,
        ``wall_time`` not None or a finite number.
    """
    if not isinstance(target, str):
        raise OptionError(f"target must be a column name (str), got {target!r}")
    if not isinstance(title, str):
        raise OptionError(f"title must be a str, got {title!r}")
    n_boot = check_int("n_boot", n_boot, min=0)
    check_seed("seed", seed)
    if wall_time is not None:
        wall_time = check_number("wall_time", wall_time, low=0.0)
    run = Path(run_dir)
    path = run / "scores.csv"
    if run.exists() and not run.is_dir():
        raise NotADirectoryError(f"run folder {str(run)!r} is a file, not a folder")
    if not run.is_dir():
        raise FileNotFoundError(f"run folder {str(run)!r} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a CSV file")
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist: write it with `neurograph zoo` or `neurograph score`")
    table = read_csv(path)
    # optional inputs are read (and so checked) before anything is written
    neurons = read_csv(run / "neurons.csv") if (run / "neurons.csv").is_file() else None
    reference = read_csv(run / "summary.csv") if (run / "summary.csv").exists() else None
    generalization = read_csv(run / "generalization.csv") if (run / "generalization.csv").is_file() else None
    verdicts = (read_csv(run / "generalization_summary.csv") if (run / "generalization_summary.csv").is_file()
                else None)
    fig_dir = run / "figures"
    if fig_dir.exists() and not fig_dir.is_dir():
        raise NotADirectoryError(f"cannot write figures into {str(fig_dir)!r}: it is a file, not a folder")
    try:
        comparison = compare_models(table, target=target, metrics=metrics, covariate=covariate, n_boot=n_boot,
                                    seed=seed, neurons=neurons)
    except DataError as exc:  # the table is the file: name it
        raise DataError(f"{str(path)!r}: {exc}") from exc
    fig_dir.mkdir(exist_ok=True)
    figures = _figures(comparison, fig_dir)
    write_csv(comparison.correlations, run / "correlations.csv")
    write_csv(comparison.rankings, run / "ranking.csv")
    if len(comparison.predictions):
        write_csv(comparison.predictions, run / "ranking_predictions.csv")
    coact = sorted(run.glob("*_coactivation.png")) + sorted(run.glob("timeline/*_coactivation.png"))
    page = render_report(table=comparison.table, correlations=comparison.correlations,
                         rankings=comparison.rankings, figures=figures, coactivation=coact, run_dir=run,
                         target=target, title=title or f"neurograph report: {run.name}", wall_time=wall_time,
                         reference=reference, generalization=generalization, verdicts=verdicts)
    out = run / "report.html"
    with atomic_path(out, suffix=".html") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return ReportResult(path=out, correlations=comparison.correlations, rankings=comparison.rankings,
                        figures=figures, comparison=comparison)


def render_report(*, table: pd.DataFrame, correlations: pd.DataFrame, rankings: pd.DataFrame, figures: dict,
                  coactivation: list, run_dir: Path, target: str, title: str,
                  wall_time: float | None = None, reference: pd.DataFrame | None = None,
                  generalization: pd.DataFrame | None = None, verdicts: pd.DataFrame | None = None) -> str:
    """The HTML text of the report (see :func:`write_report`); every value from the data is escaped.

    Renders what it is given: ``table`` (one row per model), ``correlations`` (stacked
    :func:`~neurograph.scoring.correlate` tables, shown through
    :func:`~neurograph.scoring.correlation.correlation_table`), ``rankings``, ``figures``
    (name -> PNG path or bytes; names start with ``ranking_``, ``scatter_``, ``training_`` or
    are ``entropy``), the ``coactivation`` PNGs, the files of ``run_dir`` and the
    ``reference`` table (the ``summary.csv`` of ``neurograph demo``), with the score
    definitions of :data:`~neurograph.scoring.definitions.SCORE_DEFINITIONS`; and, when given, the
    ``generalization`` measures table (stacked :func:`~neurograph.scoring.benchmark.evaluate_measures`
    tables, from ``generalization.csv``) with its ``verdicts``
    (:func:`~neurograph.scoring.benchmark.benchmark_summary`, from ``generalization_summary.csv``).

    Examples
    --------
    >>> t = pd.DataFrame({"run": ["<b>x</b>"], "test_accuracy": [0.5]})
    >>> page = render_report(table=t, correlations=pd.DataFrame(), rankings=pd.DataFrame(), figures={},
    ...                      coactivation=[], run_dir=Path("."), target="test_accuracy", title="a & b")
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page and "<title>a &amp; b</title>" in page
    True
    """
    e = html.escape
    acc = pd.to_numeric(table[target], errors="coerce")
    tasks = ", ".join(f"{e(str(t))} ({n})" for t, n in table["task"].value_counts().sort_index().items()) \
        if "task" in table.columns else ""
    n_runs = table["run"].nunique() if "run" in table.columns else len(table)
    summary = (f"<p>{len(table)} models (checkpoints) from {n_runs} training runs; tasks: {tasks or 'n/a'}. "
               f"{e(target)} from {acc.min():.3f} to {acc.max():.3f}"
               + (f"; wall time {wall_time:.0f} s" if wall_time is not None else "") + ".</p>")
    if reference is not None:
        summary += "<h3>Reference models (neurograph demo)</h3>" + _table(reference)
    corr_note = ("<p>Pearson, Spearman and Kendall (tau-b) correlation of each score with "
                 f"{e(target)} across models, per task; p-values from scipy.stats assume independent models; "
                 "95% intervals are percentile bootstrap intervals resampling whole training runs "
                 "(checkpoints of one run together). partial_r controls for the covariate.</p>")
    rank_note = ("<p>Each run in turn is held out; a ridge regression fitted on the other runs predicts the "
                 "held-out models' accuracy from their label-free structure scores only. Spearman between "
                 "predicted and true accuracy over all held-out predictions:</p>")
    body = [
        _section("summary", "Summary", summary),
        _section("definitions", "Scores", _table(pd.DataFrame(definition_rows()))),
        _section("correlation", f"Correlation with {e(target)}", corr_note + _table(correlation_table(correlations))
                 + "<details><summary>all columns</summary>" + _table(correlations) + "</details>"),
        _section("ranking", "Label-free ranking", rank_note + _table(rankings)
                 + "".join(_img(v, k) for k, v in figures.items() if k.startswith("ranking_"))),
        _section("scatter", f"Scores against {e(target)}",
                 "".join(_img(v, k) for k, v in figures.items() if k.startswith("scatter_"))
                 or "<p>No scatter plots.</p>"),
        _section("training", "Modularity along training",
                 "".join(_img(v, k) for k, v in figures.items() if k.startswith("training_"))
                 or "<p>No run has more than one checkpoint.</p>"),
        _section("entropy", "Entropy distributions",
                 _img(figures["entropy"], "entropy") if "entropy" in figures else "<p>No neurons.csv.</p>"),
        _section("coactivation", "Co-activation matrices, ordered by community",
                 "".join(f"<h3>{e(p.stem)}</h3>" + _img(p, p.stem) for p in coactivation)
                 or "<p>No co-activation figures in this folder.</p>"),
        *([_section("generalization", "Against the field's generalization measures", _generalization(
            generalization, verdicts))] if generalization is not None else []),
        _section("models", "Models", _table(table)),
        _section("files", "Files", _files(run_dir)),
    ]
    css = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:12px}"
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}"
           "img{max-width:100%;display:block;margin:1em 0}dt{font-weight:bold}.wide{overflow-x:auto}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>{css}</style></head><body>"
            f"<h1>{e(title)}</h1>" + "".join(body) + "</body></html>\n")


# ---------------------------------------------------------------------- helpers


def _figures(c: ModelComparison, fig_dir: Path) -> dict[str, Path]:
    """Draw and save the figures of a comparison; name -> PNG path, per kind in task order."""
    target, table = c.target, c.table
    figures: dict[str, Path] = {}
    for task, sub in table.groupby("task", sort=True):
        r = c.ranking_results.get(task)
        if r is not None:
            figures[f"ranking_{task}"] = _save(plot_ranking(r.predictions, spearman=r.spearman, target=target,
                                                            title=f"{task}: held-out models, Spearman "
                                                                  f"{r.spearman:.2f} (n = {r.n})"),
                                               fig_dir / f"ranking_{_slug(task)}.png")
        figures[f"scatter_{task}"] = _save(plot_score_grid(sub, list(c.metrics), target,
                                                           title=f"{task}: scores vs {target}"),
                                           fig_dir / f"scatter_{_slug(task)}.png")
    if {"run", "epoch", "modularity"} <= set(table.columns):
        panels = ("modularity", "mean_entropy", target) if "mean_entropy" in table.columns else ("modularity", target)
        for task, sub in table.groupby("task", sort=True):
            if sub.groupby("run")["epoch"].nunique().max() > 1:
                figures[f"training_{task}"] = _save(
                    plot_training_curves(sub, panels, title=f"{task}: {', '.join(panels)} along training "
                                                            f"(colour = final {target})"),
                    fig_dir / f"training_{_slug(task)}.png")
    if c.bands is not None:
        figures["entropy"] = _save(plot_entropy(c.bands, by="accuracy band", density=True,
                                                title="neuron entropy in final models, by accuracy tercile"),
                                   fig_dir / "entropy.png")
    return figures


def _generalization(measures: pd.DataFrame, verdicts: pd.DataFrame | None) -> str:
    e = html.escape
    note = ("<p>Per task, every measure: PGDL's conditional mutual information with the generalization gap "
            "(cmi_gap, x100, one model per grid cell), Kendall's tau and granulated tau against test accuracy "
            "and the gap, Spearman with test accuracy [bootstrap interval over grid cells], cross-validated "
            "R<sup>2</sup>. Families: neurograph (ng_*), FSA (fsa_*), baseline (bl_*).</p>")
    words = ""
    if verdicts is not None and "verdict" in verdicts.columns:
        words = "<ul>" + "".join(f"<li>{e(str(v))}</li>" for v in verdicts["verdict"]) + "</ul>"
    top = measures.sort_values(["task", "cmi_gap"], ascending=[True, False]).groupby("task", sort=False).head(8)
    return (note + words + _table(top.round(3)) + "<details><summary>all measures</summary>"
            + _table(measures.round(3)) + "</details>")


def _section(sid: str, heading: str, content: str) -> str:
    return f'<section id="{sid}"><h2>{heading}</h2>{content}</section>'


def _table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return "<p>(empty)</p>"
    return '<div class="wide">' + df.to_html(index=False, escape=True, na_rep="NaN", border=0,
                                             float_format=lambda v: f"{v:.3f}") + "</div>"


def _img(src, alt: str) -> str:
    data = src if isinstance(src, bytes) else Path(src).read_bytes()
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img alt="{html.escape(str(alt))}" src="data:image/png;base64,{b64}">'


def _files(run: Path) -> str:
    items = []
    for p in sorted(run.iterdir()):
        if p.name.startswith(".") or p.name == "report.html":
            continue
        name = p.name + ("/" if p.is_dir() else "")
        href = urllib.parse.quote(name)
        note = " (open in Gephi; Window &gt; Timeline)" if p.name == "timeline.gexf" else ""
        items.append(f'<li><a href="{html.escape(href)}">{html.escape(name)}</a>{note}</li>')
    return f"<ul>{''.join(items)}</ul>"


def _save(fig, path: Path) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        tmp.write_bytes(figure_png(fig))
    return path


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(s))[:60] or "task"
