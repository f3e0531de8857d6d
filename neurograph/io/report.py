"""A self-contained HTML report of a zoo run: tables, figures and interactive graphs in one offline file.

:func:`write_report` reads a run folder written by :func:`neurograph.zoo.run_zoo`
(``scores.csv``, optionally ``neurons.csv``, ``timeline.gexf``, co-activation PNGs and
the ``summary.csv`` of ``neurograph demo``), has
:func:`neurograph.scoring.comparison.compare_models` compute every statistic (the
correlations of every score with test accuracy per task, their bootstrap intervals, the
label-free ranking, the accuracy bands of the neurons), draws the figures from them and
writes ``report.html`` (figures embedded as base64 PNG, every user-provided name
HTML-escaped; rendered from the Jinja2 templates in ``neurograph/io/templates``, with the
co-activation graphs of the ``NAME.gexf`` files beside it drawn by the vendored sigma.js viewer of
:mod:`neurograph.io.viewer`), ``correlations.csv``, ``ranking.csv`` and ``figures/*.png``. This module
computes nothing itself: it reads, renders and writes. The score definitions on the page
come from :data:`neurograph.scoring.definitions.SCORE_DEFINITIONS`.

Sections of the page (``<section id=...>``): ``summary``, ``definitions``,
``correlation``, ``ranking``, ``scatter``, ``training``, ``entropy``, ``coactivation``,
``graphs``, (``generalization``,) (``untrained``: trained beside untrained, when ``scores.csv`` has
``*_untrained`` columns,) ``models``, ``files``; each opens with verdict sentences computed
by :func:`~neurograph.scoring.comparison.compare_models`.
"""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from .._validate import check_int, check_number, check_seed
from ..errors import DataError, FileFormatError, OptionError
from ..scoring.comparison import MIN_SAMPLE, DEFAULT_METRICS, ModelComparison, compare_models, reference_verdict
from ..scoring.correlation import correlation_table
from ..scoring.definitions import definition_rows
from ..scoring.verdicts import NO_VERDICT_SMALL, calibrated_correlations
from .atomic import atomic_path, check_writable_target, read_csv, write_csv
from .names import is_plain_name, relative_href
from .plots import figure_png, plot_entropy, plot_ranking, plot_score_grid, plot_training_curves
from .viewer import DEFAULT_TOP_K, read_graph_view, script_json, viewer_js

__all__ = ["DEFAULT_METRICS", "ReportResult", "correlation_table", "render_report", "write_report"]

logger = logging.getLogger(__name__)

SECTIONS = ("summary", "definitions", "correlation", "ranking", "scatter", "training", "entropy", "coactivation",
            "graphs", "models", "files")


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
                 wall_time: float | None = None, graph_top_k: int = DEFAULT_TOP_K, graphs: bool = True
                 ) -> ReportResult:
    """Compare the models of ``run_dir/scores.csv`` and write ``run_dir/report.html`` (plus CSVs and PNGs).

    Names are not trusted: every link is a relative, URL-quoted path inside ``run_dir``; a file
    of the folder that is a link to outside it is neither linked, drawn nor shown; a ``model``
    name of ``summary.csv`` that is not a plain file name (``../x``, ``/etc/x``, a URL scheme, a
    control character) opens no file and is reported by a warning on the page (see
    :mod:`neurograph.io.names`). Files are written by :func:`~neurograph.io.atomic.atomic_path`.

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
    graph_top_k : int
        The interactive graph view draws, per node, its ``graph_top_k`` heaviest edges
        (:func:`neurograph.io.viewer.sparsify_top_k`); the page says how many of how many.
    graphs : bool
        Draw the static GEXF files beside the report (``NAME.gexf`` of ``neurograph demo`` /
        ``neurograph graph``; not ``timeline.gexf``) in the interactive view: sigma.js and
        graphology, bundled into the package and inlined into the page (works offline).

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
    graph_top_k = check_int("graph_top_k", graph_top_k, min=1)
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
    confirmation = (read_csv(run / "generalization_confirm.csv") if (run / "generalization_confirm.csv").is_file()
                    else None)
    fig_dir = run / "figures"
    if fig_dir.is_symlink():  # never write through a link, not even one to a folder inside the run
        raise FileFormatError(f"cannot write figures into {str(fig_dir)!r}: it is a symbolic link (to "
                              f"{os.readlink(fig_dir)!r}); neurograph does not write through links: remove it")
    if fig_dir.exists() and not fig_dir.is_dir():
        raise NotADirectoryError(f"cannot write figures into {str(fig_dir)!r}: it is a file, not a folder")
    for name in ("report.html", "correlations.csv", "ranking.csv", "ranking_predictions.csv"):
        check_writable_target(run / name)  # refused before anything is written
    try:
        comparison = compare_models(table, target=target, metrics=metrics, covariate=covariate, n_boot=n_boot,
                                    seed=seed, neurons=neurons)
    except DataError as exc:  # the table is the file: name it
        raise DataError(f"{str(path)!r}: {exc}") from exc
    if fig_dir.is_dir():  # a figure that is a link or a FIFO is refused before anything is written
        for task in comparison.table["task"].unique():
            for kind in ("ranking", "scatter", "training"):
                check_writable_target(fig_dir / f"{kind}_{_slug(task)}.png")
        if comparison.bands is not None:
            check_writable_target(fig_dir / "entropy.png")
    fig_dir.mkdir(exist_ok=True)
    figures = _figures(comparison, fig_dir)
    write_csv(comparison.correlations, run / "correlations.csv")
    write_csv(comparison.rankings, run / "ranking.csv")
    if len(comparison.predictions):
        write_csv(comparison.predictions, run / "ranking_predictions.csv")
    coact, skipped_png = [], []
    for p in sorted(run.glob("*_coactivation.png")) + sorted(run.glob("timeline/*_coactivation.png")):
        if not p.is_file():  # a FIFO or a device would block the reader
            skipped_png.append(f"{str(p.relative_to(run))!r} is not a regular file; not shown")
        elif relative_href(p.relative_to(run), run) is None:
            skipped_png.append(f"{str(p.relative_to(run))!r} is a link to a file outside the report's folder; "
                               "not shown")
        else:
            coact.append(p)
    views, skipped_graphs = _graph_views(run, reference, k=graph_top_k, seed=0) if graphs else ([], [])
    page = render_report(table=comparison.table, correlations=comparison.correlations,
                         rankings=comparison.rankings, figures=figures, coactivation=coact, run_dir=run,
                         target=target, title=title or f"neurograph report: {run.name}", wall_time=wall_time,
                         reference=reference, generalization=generalization, verdicts=verdicts,
                         confirmation=confirmation, comparison=comparison, graphs=views,
                         warnings={"graphs": skipped_graphs, "coactivation": skipped_png})
    out = run / "report.html"
    with atomic_path(out, suffix=".html") as tmp:  # a file name that is not UTF-8 is shown as \udcff, not fatal
        tmp.write_text(page, encoding="utf-8", errors="backslashreplace")
    return ReportResult(path=out, correlations=comparison.correlations, rankings=comparison.rankings,
                        figures=figures, comparison=comparison)


def render_report(*, table: pd.DataFrame, correlations: pd.DataFrame, rankings: pd.DataFrame, figures: dict,
                  coactivation: list, run_dir: Path, target: str, title: str,
                  wall_time: float | None = None, reference: pd.DataFrame | None = None,
                  generalization: pd.DataFrame | None = None, verdicts: pd.DataFrame | None = None,
                  confirmation: pd.DataFrame | None = None, comparison: ModelComparison | None = None, graphs: list[dict] | None = None,
                  warnings: dict[str, list[str]] | None = None) -> str:
    """The HTML text of the report (see :func:`write_report`), rendered from the Jinja2 templates.

    Renders what it is given: ``table`` (one row per model), ``correlations`` (stacked
    :func:`~neurograph.scoring.correlate` tables, shown through
    :func:`~neurograph.scoring.correlation.correlation_table`), ``rankings``, ``figures``
    (name -> PNG path or bytes; names start with ``ranking_``, ``scatter_``, ``training_`` or
    are ``entropy``), the ``coactivation`` PNGs, the files of ``run_dir`` and the
    ``reference`` table (the ``summary.csv`` of ``neurograph demo``), with the score
    definitions of :data:`~neurograph.scoring.definitions.SCORE_DEFINITIONS`; and, when given, the
    ``generalization`` measures table (stacked :func:`~neurograph.scoring.benchmark.evaluate_measures`
    tables, from ``generalization.csv``) with its ``verdicts``
    (:func:`~neurograph.scoring.benchmark.benchmark_summary`, from ``generalization_summary.csv``)
    and the ``confirmation`` table they rest on (:func:`~neurograph.scoring.benchmark.confirm_measures`,
    from ``generalization_confirm.csv``: each chosen measure's CMI per seed beside its chance mean,
    q95 and p), shown first; the exploratory measures table is then folded below it.
    ``comparison`` supplies the verdict sentences of each section
    (:attr:`~neurograph.scoring.comparison.ModelComparison.verdicts`) and marks the tasks with too
    few runs for intervals; ``graphs`` are :func:`~neurograph.io.viewer.graph_view` dicts drawn by the
    inlined viewer; ``warnings`` (section id -> lines) are shown at the top of those sections.
    Autoescaping is on: every value from the data is escaped, and graph data is JSON escaped for
    a ``<script>`` element (:func:`~neurograph.io.viewer.script_json`). Every link is a relative,
    URL-quoted path inside ``run_dir`` (:func:`~neurograph.io.names.relative_href`); a file that
    is a link to outside the folder is listed without a link.

    Examples
    --------
    >>> t = pd.DataFrame({"run": ["<b>x</b>"], "test_accuracy": [0.5]})
    >>> page = render_report(table=t, correlations=pd.DataFrame(), rankings=pd.DataFrame(), figures={},
    ...                      coactivation=[], run_dir=Path("."), target="test_accuracy", title="a & b")
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page and "<title>a &amp; b</title>" in page
    True
    """
    acc = pd.to_numeric(table[target], errors="coerce")
    tasks = ", ".join(f"{t} ({n})" for t, n in table["task"].value_counts().sort_index().items()) \
        if "task" in table.columns else ""
    n_runs = table["run"].nunique() if "run" in table.columns else len(table)
    summary = (f"{len(table)} models (checkpoints) from {n_runs} training runs; tasks: {tasks or 'n/a'}. "
               f"{target} from {acc.min():.3f} to {acc.max():.3f}"
               + (f"; wall time {wall_time:.0f} s" if wall_time is not None else "") + ".")
    multi = "task" in table.columns and table["task"].nunique() > 1
    said = _said(comparison, multi)
    corr_note = (f"Pearson, Spearman and Kendall (tau-b) correlation of each score with {target} across models, "
                 "per task; p-values (scipy.stats) count runs: where a run holds several models, the p-value is that of "
                 "the same coefficient over the per-run means; 95% intervals are percentile "
                 "bootstrap intervals resampling whole training runs (checkpoints of one run together). partial "
                 f"controls for the covariate. A score is called weakly, moderately or strongly related only with "
                 f"{MIN_SAMPLE} or more runs and an interval that excludes 0; with fewer runs the verdict is "
                 f"\u201c{NO_VERDICT_SMALL}\u201d and r is shown without its interval and p-value, as in "
                 "correlations.csv.")
    rank_note = ("Each run in turn is held out; a ridge regression fitted on the other runs predicts the held-out "
                 "models' accuracy from their label-free structure scores only. Spearman between predicted and "
                 "true accuracy over all held-out predictions:")
    reference_verdicts = ([reference_verdict(r) for r in reference.to_dict("records")]
                          if reference is not None and {"model", "modularity"} <= set(reference.columns) else [])
    sections = [
        dict(id="summary", heading="Summary", template="summary.j2", text=summary,
             verdicts=said("correlation", "modularity") + said("ranking"),
             reference=_table(reference) if reference is not None else None),
        dict(id="definitions", heading="Scores", template="definitions.j2", table=_table(pd.DataFrame(definition_rows()))),
        dict(id="correlation", heading=f"Correlation with {target}", template="table.j2",
             verdicts=_strongest(comparison, multi), note=corr_note,
             table=_table(correlation_table(correlations)) if len(correlations) else _table(None),
             more=_table(calibrated_correlations(correlations)) if len(correlations) else _table(None),
             more_label="all columns"),
        dict(id="ranking", heading="Label-free ranking", template="figures.j2", verdicts=said("ranking"),
             note=rank_note, table=_table(_mask_small_ranking(rankings)),
             figures=[_fig(v, k, _caption(k, target)) for k, v in figures.items() if k.startswith("ranking_")],
             empty="No task has three or more runs to rank."),
        dict(id="scatter", heading=f"Scores against {target}", template="figures.j2",
             figures=[_fig(v, k, _caption(k, target)) for k, v in figures.items() if k.startswith("scatter_")],
             empty="No scatter plots."),
        dict(id="training", heading="Modularity along training", template="figures.j2", verdicts=said("training"),
             figures=[_fig(v, k, _caption(k, target)) for k, v in figures.items() if k.startswith("training_")],
             empty="No run has more than one checkpoint."),
        dict(id="entropy", heading="Entropy distributions", template="figures.j2", verdicts=said("entropy"),
             figures=[_fig(figures["entropy"], "entropy", _caption("entropy", target))] if "entropy" in figures else [],
             empty="No neurons.csv."),
        dict(id="coactivation", heading="Co-activation matrices, ordered by community", template="figures.j2",
             verdicts=reference_verdicts,
             figures=[_fig(p, p.stem, _caption("coactivation", target), heading=p.stem) for p in coactivation],
             empty="No co-activation figures in this folder."),
        dict(id="graphs", heading="Co-activation graphs (interactive)", template="graphs.j2",
             verdicts=[f"{g['name']}: {g['n_nodes']} neurons in {len(g['communities'])} communities; "
                       f"{g['n_edges_shown']} of its {g['n_edges_total']} edges drawn (each node's {g['k']} heaviest)."
                       for g in graphs or []],
             empty="No graph files (NAME.gexf, written by `neurograph graph` and `neurograph demo`) beside this "
                   "report."),
        *([dict(id="generalization", heading="Against the field's generalization measures", template="table.j2",
                **_generalization(generalization, verdicts, confirmation))] if generalization is not None else []),
        *_untrained_section(table),
        dict(id="models", heading="Models", template="table.j2",
             note=f"{len(table)} rows of scores.csv, with the composite score added.",
             more=_table(table), more_label=f"show all {len(table)} models"),
        dict(id="files", heading="Files", template="files.j2", files=_files(run_dir)),
    ]
    for sec in sections:
        sec["warnings"] = list((warnings or {}).get(sec["id"], []))
    views = [{"data": g, "json": Markup(script_json(g)),
              "sparsity": f"{100 * g['n_edges_shown'] / max(g['n_edges_total'], 1):.0f}%"} for g in graphs or []]
    return _env().get_template("report.html.j2").render(
        title=title, sections=sections, graphs=views, viewer_js=Markup(viewer_js()) if views else "")


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
                                               fig_dir / f"ranking_{_slug(task)}.png", target)
        figures[f"scatter_{task}"] = _save(plot_score_grid(sub, list(c.metrics), target,
                                                           title=f"{task}: scores vs {target}"),
                                           fig_dir / f"scatter_{_slug(task)}.png", target)
    if {"run", "epoch", "modularity"} <= set(table.columns):
        panels = ("modularity", "mean_entropy", target) if "mean_entropy" in table.columns else ("modularity", target)
        for task, sub in table.groupby("task", sort=True):
            if sub.groupby("run")["epoch"].nunique().max() > 1:
                figures[f"training_{task}"] = _save(
                    plot_training_curves(sub, panels, title=f"{task}: {', '.join(panels)} along training "
                                                            f"(colour = final {target})"),
                    fig_dir / f"training_{_slug(task)}.png", target)
    if c.bands is not None:
        per = "task" if "task" in c.bands.columns and c.bands["task"].nunique() > 1 else None
        figures["entropy"] = _save(plot_entropy(c.bands, by="accuracy band", density=True, per=per,
                                                title="neuron entropy in final models, by accuracy tercile"
                                                      + (" within each task" if per else "")),
                                   fig_dir / "entropy.png")
    return figures


def _generalization(measures: pd.DataFrame, verdicts: pd.DataFrame | None,
                    confirmation: pd.DataFrame | None = None) -> dict:
    explore = ("Per task, every measure: PGDL's conditional mutual information with the generalization gap "
               "(cmi_gap, x100, one model per grid cell), Kendall's tau and granulated tau against test accuracy "
               "and the gap, Spearman with test accuracy [bootstrap interval over grid cells], cross-validated "
               "R\u00b2. Families: neurograph (ng_*), FSA (fsa_*), baseline (bl_*). That table is exploratory: one "
               "seed's grid, no chance level, no held-out check; a winner read off it is the best of many.")
    words = [str(v) for v in verdicts["verdict"]] if verdicts is not None and "verdict" in verdicts.columns else []
    top = measures.sort_values(["task", "cmi_gap"], ascending=[True, False]).groupby("task", sort=False).head(8)
    if confirmation is None or confirmation.empty:
        return {"note": explore, "verdicts": words, "table": _table(top.round(3)), "more": _table(measures.round(3)),
                "more_label": "all measures"}
    note = ("The verdicts rest on this table: per task and family, the measure chosen on the discovery seed and "
            "its CMI (x100) on every seed beside the CMI of random measures on the same grid (chance_mean, "
            "chance_q95, chance_p) and the best-of-n_candidates selection level (selection_p). " + explore)
    return {"note": note, "verdicts": words, "table": _table(confirmation.round(3)),
            "more": _table(measures.round(3)), "more_label": "all measures (exploratory)"}


def _untrained_section(table: pd.DataFrame) -> list[dict]:
    """The ``untrained`` section (trained beside the untrained twin), when the table has ``*_untrained`` columns."""
    from ..scoring.twin import untrained_table, untrained_verdicts
    side = untrained_table(table)
    if not len(side):
        return []
    note = ("Each model's scores beside its untrained twin's (the same architecture freshly initialised, or the "
            "run's epoch-0 checkpoint), recorded on the same data; delta = trained - untrained; epoch-0 rows "
            "(the untrained network itself) are left out. An untrained network can already be far above the "
            "rewired null (the demo's MLP on digits: z = 61.7 untrained, 103.4 trained): read z against the twin's.")
    return [dict(id="untrained", heading="Against the untrained twin", template="untrained.j2",
                 verdicts=untrained_verdicts(table), note=note, table=_table(side))]


def _table(df: pd.DataFrame | None) -> Markup:
    if df is None or df.empty:
        return Markup("<p>(empty)</p>")
    return Markup(df.to_html(index=False, escape=True, na_rep="NaN", border=0, float_format=lambda v: f"{v:.3f}"))


def _fig(src, alt: str, caption: str, heading: str = "") -> dict:
    data = src if isinstance(src, bytes) else Path(src).read_bytes()
    return {"alt": str(alt), "b64": base64.b64encode(data).decode("ascii"), "caption": caption, "heading": heading}


def _caption(name: str, target: str) -> str:
    if name.startswith("ranking_"):
        return (f"Task {name[8:]}: each point is a held-out model, its {target} predicted from label-free structure "
                f"scores by a model fitted on the other runs, against its true {target}. Points along a rising line "
                "mean structure alone ranks the models correctly; a flat cloud means it does not.")
    if name.startswith("scatter_"):
        return (f"Task {name[8:]}: one panel per score; each point is a model (a checkpoint), the score against "
                f"{target} (axis within 0 to 1). The correlations and their intervals are in the table above.")
    if name.startswith("training_"):
        return (f"Task {name[9:]}: one line per training run, coloured by its final {target}, from the first to the "
                "last checkpoint. Rising modularity with rising accuracy means communities form as the model learns.")
    if name == "entropy":
        return ("Neuron entropy (bits: 0 for a neuron that always or never fires, 1 for one firing half the time) in "
                f"each run's final model, one curve per third of the runs ranked by {target}.")
    return ("Co-activation weight between every pair of neurons, rows and columns ordered by community; the strips "
            "mark each neuron's layer and community, in the colours of the graph view and the GEXF files. Dark blocks "
            "on the diagonal are communities: neurons that fire together more than with the rest.")


def _files(run: Path) -> list[dict]:
    items = []
    for p in sorted(run.iterdir()):
        if p.name.startswith(".") or p.name == "report.html":
            continue
        name = p.name + ("/" if p.is_dir() else "")
        note = "open in Gephi; Window > Timeline" if p.name == "timeline.gexf" else ""
        href = relative_href(p.name, run)
        if href is None:
            note = "a link to outside this folder: not linked"
        items.append({"name": name, "href": href, "note": note})
    return items


def _said(comparison: ModelComparison | None, multi: bool):
    """verdicts(section, metric=None): the verdict sentences of a section, prefixed by task when several."""
    def said(section: str, metric: str | None = None) -> list[str]:
        if comparison is None:
            return []
        v = comparison.verdicts
        v = v[v["section"] == section]
        if metric is not None:
            v = v[v["metric"] == metric]
        return [(f"{t}: " if multi else "") + str(x) for t, x in zip(v["task"], v["verdict"])]
    return said


def _strongest(comparison: ModelComparison | None, multi: bool) -> list[str]:
    """Per task: the modularity verdict and the verdict of the score with the largest |Spearman|."""
    if comparison is None:
        return []
    v = comparison.verdicts[comparison.verdicts["section"] == "correlation"]
    out = []
    for task, sub in v.groupby("task", sort=True):
        picks = list(sub.index[sub["metric"] == "modularity"])
        r = sub["r"].abs()
        if r.notna().any() and r.idxmax() not in picks:
            picks.append(r.idxmax())
        out += [(f"{task}: " if multi else "") + str(sub.at[i, "verdict"]) for i in picks]
    return out


def _mask_small_ranking(rankings: pd.DataFrame) -> pd.DataFrame:
    if rankings.empty or "n_groups" not in rankings.columns:
        return rankings
    out = rankings.astype({"p_value": object}).copy()
    out["p_value"] = ["n too small" if g < MIN_SAMPLE else "NaN" if pd.isna(p) else
                      ("< 0.001" if p < 0.001 else f"{p:.3f}")
                      for g, p in zip(out["n_groups"], rankings["p_value"])]
    return out


def _accuracy_axes(fig, target: str):
    """Clamp the axes showing ``target`` (an accuracy) to within [0, 1]."""
    for ax in fig.axes:
        for label, get, set_ in ((ax.get_xlabel(), ax.get_xlim, ax.set_xlim), (ax.get_ylabel(), ax.get_ylim, ax.set_ylim)):
            if target in label and "predicted" not in label:
                lo, hi = get()
                set_(max(lo, 0.0), min(hi, 1.0))
    return fig


def _graph_views(run: Path, reference: pd.DataFrame | None, *, k: int, seed: int) -> tuple[list[dict], list[str]]:
    """Graph views of the static GEXF files beside the report (reference models first, never timeline.gexf),
    and a warning per file not drawn.

    A ``model`` name of ``summary.csv`` must be a plain file name (:func:`~neurograph.io.names.check_plain_name`),
    checked before any file is opened: ``../x`` or ``/etc/x`` is skipped with a warning on the page. A GEXF file
    that is a link to a file outside the folder is skipped too. The download link is relative and URL-quoted.
    """
    names = [str(m) for m in reference["model"]] if reference is not None and "model" in reference.columns else []
    skipped: list[str] = []
    files: list[Path] = []
    for m in names:
        if not is_plain_name(m):
            skipped.append(f"summary.csv names the model {m!r}, which is not a plain file name; its graph is not "
                           "drawn (a model name must not hold a path separator, '..', a control character or a "
                           "URL scheme)")
            continue
        p = run / f"{m}.gexf"
        if p.name == "timeline.gexf":  # the dynamic GEXF of the zoo is never drawn as a static graph
            continue
        try:
            found = p.is_file()
        except OSError:  # a name too long for the file system, ...
            found = False
        if found and p not in files:
            files.append(p)
    files += [p for p in sorted(run.glob("*.gexf")) if p not in files and p.name != "timeline.gexf"]
    views = []
    for path in files:
        if not path.is_file():  # a FIFO or a device would block the reader
            skipped.append(f"{path.name!r} is not a regular file; not drawn")
            continue
        href = relative_href(path.name, run)
        if href is None:
            skipped.append(f"{path.name!r} is a link to a file outside the report's folder; not drawn")
            continue
        try:
            view = read_graph_view(path, k=k, seed=seed)
        except Exception as exc:  # noqa: BLE001 - a file we cannot draw is skipped, not fatal to the report
            logger.warning("report: cannot draw %s (%s); skipped", path, exc)
            continue
        if view["n_nodes"]:
            views.append({**view, "download": href})
    for line in skipped:
        logger.warning("report: %s", line)
    return views, skipped


def _env() -> Environment:
    return Environment(loader=PackageLoader("neurograph.io", "templates"), autoescape=select_autoescape(
        enabled_extensions=("html", "j2", "css"), default_for_string=True, default=True), trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)


def _save(fig, path: Path, target: str = "") -> Path:
    if target:
        _accuracy_axes(fig, target)
    with atomic_path(path, suffix=".png") as tmp:
        tmp.write_bytes(figure_png(fig))
    return path


def _slug(s: str) -> str:
    """A file-name part for task ``s``: ASCII letters, digits, ``-`` and ``_``; where that changes ``s``
    (``a/b``, ``a_b`` would both be ``a_b``), a short hash of ``s`` is added, so two tasks never share a file.

    >>> _slug("digits"), _slug("a/b") != _slug("a_b"), _slug("../x").startswith("___x-")
    ('digits', True, True)
    """
    import hashlib

    s = str(s)
    slug = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "_" for c in s)[:60]
    if slug != s or not slug:
        slug = f"{slug}-{hashlib.sha256(s.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return slug
