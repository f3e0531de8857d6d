"""Figures a person wants to look at: co-activation matrix, entropy histograms, scores against accuracy.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), so
no GUI backend is touched and nothing global changes; :func:`save_figure` writes
a PNG whole or not at all. Every text is drawn as written: names holding ``$`` are not read
as mathtext (:func:`~neurograph.io.names.plain_figure_text`).

Errors: a bad option value (``ncols``, ``dpi``, ``density``, an empty ``metrics``) raises
:class:`~neurograph.errors.OptionError`; a table that is not a DataFrame or lacks a named
column raises :class:`~neurograph.errors.DataError`; a weight matrix or membership of the
wrong shape raises :class:`~neurograph.errors.GraphError`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .._validate import check_bool, check_int, check_output_file
from ..errors import DataError, GraphError, OptionError
from .atomic import atomic_path
from .names import plain_figure_text
from .palette import community_color, community_color_hex, layer_color

__all__ = ["figure_png", "plot_coactivation", "plot_entropy", "plot_ranking", "plot_score_grid",
           "plot_score_vs_accuracy", "plot_training_curves", "save_figure"]


def plot_coactivation(weights: np.ndarray, membership: np.ndarray | None = None, *,
                      labels: pd.Series | None = None, title: str = "", weight_name: str = "weight") -> Figure:
    """Heat map of a (n, n) co-activation weight matrix, rows and columns ordered by community.

    Parameters
    ----------
    weights : numpy.ndarray, shape (n, n)
        Edge weights between the graph's nodes (e.g. NPMI, in [-1, 1]); NaN shown blank.
    membership : numpy.ndarray of int, shape (n,), optional
        Community of each node; nodes are grouped by community (largest first) and
        community boundaries are drawn. Without it the given order is kept.
    labels : pandas.Series, optional
        Layer of each node; drawn as a colour strip so layers can be told apart.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Community ``k`` is drawn in a colour strip beside the matrix in
    :func:`neurograph.io.palette.community_color` ``(k)``, the colour its nodes get in the
    GEXF / GraphML files and the timeline GEXF; layers in
    :func:`~neurograph.io.palette.layer_color` (order of first appearance), with a legend
    (layer name -> colour) below the figure. The strips are inset axes labelled
    ``"community"`` and ``"layer"``, named below them (the title stays clear of them).

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_coactivation(np.eye(4), np.array([1, 0, 1, 0]))
    >>> len(fig.axes) >= 1
    True
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise GraphError(f"weights must be a square (n, n) matrix, got shape {w.shape}")
    n = w.shape[0]
    if membership is not None:
        membership = np.asarray(membership)
        if membership.shape != (n,):
            raise GraphError(f"membership has shape {membership.shape}, expected ({n},) for a {n}x{n} matrix")
        order = np.lexsort((np.arange(n), membership))
    else:
        order = np.arange(n)
    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    ax = fig.add_subplot()
    if n == 0:
        ax.text(0.5, 0.5, "no active neurons: the graph is empty", ha="center", va="center")
        ax.set_axis_off()
        ax.set_title(title or "co-activation matrix")
        return plain_figure_text(fig)
    m = w[np.ix_(order, order)]
    finite = m[np.isfinite(m)]
    vmax = float(np.max(np.abs(finite))) if finite.size else 1.0
    vmin = -vmax if finite.size and finite.min() < 0 else 0.0
    im = ax.imshow(m, cmap="RdBu_r" if vmin < 0 else "viridis", vmin=vmin, vmax=vmax or 1.0,
                   interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.8, label=weight_name)
    if membership is not None:
        sorted_m = membership[order]
        cuts = np.flatnonzero(np.diff(sorted_m)) + 0.5
        for c in cuts:
            ax.axhline(c, color="k", lw=0.6)
            ax.axvline(c, color="k", lw=0.6)
        k = len(np.unique(membership))
        ax.set_xlabel(f"neurons, grouped by community ({k} communities)")
    else:
        ax.set_xlabel("neurons")
    ax.set_ylabel("neurons")
    strips = []
    if membership is not None:
        strips.append(("community", [community_color(int(c)) for c in membership[order]]))
    if labels is not None:
        lab = pd.Series(labels).to_numpy()
        if lab.shape != (n,):
            raise GraphError(f"labels has shape {lab.shape}, expected ({n},) for a {n}x{n} matrix")
        codes, _ = pd.factorize(lab[order])
        strips.append(("layer", [layer_color(int(c)) for c in codes]))
    for k, (name, colours) in enumerate(strips):
        strip = ax.inset_axes([1.01 + 0.045 * k, 0, 0.035, 1])
        strip.imshow(np.asarray(colours, dtype=np.uint8)[:, None, :], aspect="auto", interpolation="nearest")
        strip.set_xticks([])
        strip.set_yticks([])
        # named below the strip (not above: a title there ran into the figure title)
        strip.set_xlabel(name, fontsize=7, rotation=90, labelpad=2)
        strip.set_label(name)
    if labels is not None:
        from matplotlib.patches import Patch

        names = pd.unique(pd.Series(lab[order]).astype(str))
        handles = [Patch(facecolor=np.asarray(layer_color(i)) / 255.0, label=str(nm)) for i, nm in enumerate(names)]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), fontsize=7,
                   title="layer strip", title_fontsize=7, frameon=False)
    ax.set_title(title or "co-activation matrix")
    return plain_figure_text(fig)


def plot_entropy(table: pd.DataFrame, *, column: str = "entropy", by: str = "layer", title: str = "",
                 density: bool = False, per: str | None = None) -> Figure:
    """Histogram of a per-neuron column (default ``entropy``, bits) per layer (or per group ``by``).

    ``table`` is the output of :func:`neurograph.neuron_entropy` (or any table with
    ``column`` and ``by``). ``density=True`` normalises each group's histogram to unit
    area, to compare groups of different sizes (e.g. neurons of low- and high-accuracy models).

    The groups' bars stand side by side in each bin (none hides another), in the palette's
    colours, with a legend giving each group's mean. With ``per`` (e.g. ``"task"``) there
    is one panel per value of that column. Without it, if the table has a ``task`` column
    with several tasks, the title says that the tasks are pooled.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"layer": ["a", "a", "b"], "entropy": [0.1, 0.9, 0.5]})
    >>> plot_entropy(t).axes[0].get_xlabel()
    'entropy (bits)'
    """
    _check_table(table)
    density = check_bool("density", density)
    for col in (column, by) + ((per,) if per is not None else ()):
        if col not in table.columns:
            raise DataError(f"table has no column {col!r} (columns: {list(table.columns)})")
    values = table[column].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    hi = max(1.0, float(finite.max())) if finite.size else 1.0
    bins = np.linspace(0.0, hi, 21)
    panels = list(table.groupby(per, sort=True)) if per is not None else [(None, table)]
    fig = Figure(figsize=(6.4 if len(panels) == 1 else 4.6 * min(len(panels), 3), 4.0 * (-(-len(panels) // 3))),
                 layout="constrained")
    group_names = list(pd.unique(table[by]))
    colour = {name: community_color_hex(i) for i, name in enumerate(group_names)}
    ncols = min(len(panels), 3)
    for k, (pname, sub) in enumerate(panels):
        ax = fig.add_subplot(-(-len(panels) // ncols), ncols, k + 1)
        groups = [(name, g[column].to_numpy(dtype=float)) for name, g in sub.groupby(by, sort=False)]
        groups = [(name, v[np.isfinite(v)]) for name, v in groups]
        width = np.diff(bins) / max(len(groups), 1)
        for j, (name, v) in enumerate(groups):
            h, _ = np.histogram(v, bins=bins, density=density and v.size > 0)
            ax.bar(bins[:-1] + j * width, h, width=width, align="edge", color=colour[name], alpha=0.85,
                   label=f"{name} (n {v.size}, mean {v.mean():.2f})" if v.size else f"{name} (n 0)")
        ax.set_xlabel(f"{column} (bits)" if column in ("entropy", "mutual_info", "cond_entropy") else column)
        ax.set_ylabel("density" if density else "neurons")
        ax.legend(fontsize=7, title=by, title_fontsize=7)
        if pname is not None:
            ax.set_title(f"{per} = {pname}", fontsize=9)
    main = title or f"{column} per neuron"
    if per is None and "task" in table.columns:
        tasks = pd.unique(table["task"].dropna())
        if len(tasks) > 1:
            main += f" (pooled over {len(tasks)} tasks: {', '.join(map(str, tasks[:4]))}{', ...' if len(tasks) > 4 else ''})"
    if len(panels) == 1:
        fig.axes[0].set_title(main)
    else:
        fig.suptitle(main)
    return plain_figure_text(fig)


def plot_score_vs_accuracy(table: pd.DataFrame, metric: str, target: str = "test_accuracy", *,
                           hue: str | None = None, title: str = "", run: str | None = "run",
                           x: str = "epoch") -> Figure:
    """Scatter of ``metric`` against ``target`` across models, with a least-squares line and its 95% band.

    The band is the pointwise 95% confidence interval of the fitted mean
    (``t_{0.975, n-2} * s * sqrt(1/n + (x - mean x)^2 / Sxx)``). With ``hue`` (e.g.
    ``"task"``), each group gets its own colour, line and band. The title gives
    Pearson's r and n of each group.

    - An accuracy-like ``target`` (name containing ``"acc"``, values in [0, 1]) gets the
      y-axis ``[-0.02, 1.02]``: accuracies are fractions.
    - Points of one run (same value of the ``run`` column, e.g. the checkpoints of one
      training run) are linked by a thin line in order of ``x`` (when the table has it).
    - A ``metric`` constant across all models (e.g. ``dead_fraction`` all 0) is not drawn
      as a vertical line of points: the panel says ``"constant: 0.00"``.

    Examples
    --------
    >>> t = pd.DataFrame({"q": [0.1, 0.2, 0.3, 0.4], "test_accuracy": [0.5, 0.6, 0.8, 0.9]})
    >>> plot_score_vs_accuracy(t, "q").axes[0].get_ylabel()
    'test_accuracy'
    """
    _check_table(table)
    fig = Figure(figsize=(5.0, 4.0), layout="constrained")
    _score_panel(fig.add_subplot(), table, metric, target, hue, run=run, order=x)
    if title:
        fig.suptitle(title)
    return plain_figure_text(fig)


def plot_score_grid(table: pd.DataFrame, metrics: list[str], target: str = "test_accuracy", *,
                    hue: str | None = None, ncols: int = 3, title: str = "", run: str | None = "run",
                    x: str = "epoch") -> Figure:
    """One :func:`plot_score_vs_accuracy` panel per metric, in a grid of ``ncols`` columns.

    Each panel follows :func:`plot_score_vs_accuracy` (accuracy axis in [0, 1], points of
    one run linked, a constant metric shown as a note).

    Examples
    --------
    >>> t = pd.DataFrame({"a": [1, 2, 3], "b": [3, 1, 2], "test_accuracy": [0.2, 0.5, 0.9]})
    >>> len(plot_score_grid(t, ["a", "b"]).axes)
    2
    """
    _check_table(table)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise OptionError("metrics is empty: nothing to plot")
    ncols = min(check_int("ncols", ncols, min=1), len(metrics))
    nrows = -(-len(metrics) // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.4 * nrows), layout="constrained")
    for k, metric in enumerate(metrics):
        _score_panel(fig.add_subplot(nrows, ncols, k + 1), table, metric, target, hue, run=run, order=x)
    if title:
        fig.suptitle(title)
    return plain_figure_text(fig)


def plot_training_curves(table: pd.DataFrame, metrics: tuple[str, ...] = ("modularity", "test_accuracy"), *,
                         x: str = "epoch", by: str = "run", title: str = "") -> Figure:
    """``metrics`` (one panel each) along training: one line per run (``by``) over ``x``.

    ``table`` has one row per checkpoint (as ``scores.csv`` of a zoo). Runs are
    coloured by their final value of the last metric (viridis), so lines of good and
    poor models can be told apart; a colour bar gives the scale. Panels of an
    accuracy-like metric (name containing ``"acc"``, values in [0, 1]) have the y-axis
    ``[-0.02, 1.02]``.

    Examples
    --------
    >>> t = pd.DataFrame({"run": ["a", "a", "b", "b"], "epoch": [1, 5, 1, 5],
    ...                   "modularity": [0.2, 0.3, 0.25, 0.2], "test_accuracy": [0.5, 0.9, 0.4, 0.6]})
    >>> [ax.get_ylabel() for ax in plot_training_curves(t).axes[:2]]
    ['modularity', 'test_accuracy']
    """
    from matplotlib import colormaps

    _check_table(table)
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not metrics:
        raise OptionError("metrics is empty: nothing to plot")
    for col in (x, by, *metrics):
        if col not in table.columns:
            raise DataError(f"table has no column {col!r} (columns: {list(table.columns)})")
    fig = Figure(figsize=(5.0 * len(metrics), 3.8), layout="constrained")
    axes = [fig.add_subplot(1, len(metrics), k + 1) for k in range(len(metrics))]
    groups = [(name, g.sort_values(x)) for name, g in table.groupby(by, sort=False)]
    last = np.array([float(g[metrics[-1]].iloc[-1]) for _, g in groups]) if groups else np.zeros(0)
    finite = last[np.isfinite(last)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    cmap = colormaps["viridis"]
    for (name, g), v in zip(groups, last):
        colour = cmap((v - lo) / (hi - lo) if hi > lo and np.isfinite(v) else 0.5)
        for ax, metric in zip(axes, metrics):
            ax.plot(g[x].to_numpy(float), g[metric].to_numpy(float), "-o", ms=3, lw=1, color=colour, alpha=0.8,
                    label=str(name))
    for ax, metric in zip(axes, metrics):
        ax.set_xlabel(x)
        ax.set_ylabel(metric)
        if _is_fraction(metric, table[metric]):
            ax.set_ylim(*_FRACTION_LIM)
    if groups:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        sm = ScalarMappable(norm=Normalize(lo, hi if hi > lo else lo + 1e-9), cmap=cmap)
        fig.colorbar(sm, ax=axes, label=f"final {metrics[-1]}", shrink=0.9)
    if 0 < len(groups) <= 8:
        axes[-1].legend(fontsize=6)
    fig.suptitle(title or f"{', '.join(metrics)} along training ({len(groups)} runs; colour = final {metrics[-1]})")
    return plain_figure_text(fig)


def plot_ranking(predictions: pd.DataFrame, *, spearman: float = float("nan"), target: str = "test_accuracy",
                 title: str = "", clip: bool | None = None) -> Figure:
    """Predicted against true ``target`` of held-out models (``predictions`` of a label-free ranking).

    With ``clip`` (default: when ``target`` is accuracy-like, its name containing
    ``"acc"``), predictions are clipped to [0, 1], the axes span ``[-0.02, 1.02]`` and the
    clipped points are drawn as triangles (up: predicted above 1, down: below 0) labelled
    ``"clipped to [0, 1]"`` in the legend, so an impossible prediction is visible as one.

    Examples
    --------
    >>> p = pd.DataFrame({"true": [0.5, 0.7, 0.9], "predicted": [0.55, 0.65, 1.3]})
    >>> fig = plot_ranking(p, spearman=1.0)
    >>> fig.axes[0].get_xlabel(), tuple(float(v) for v in fig.axes[0].get_ylim())
    ('true test_accuracy', (-0.02, 1.02))
    """
    if not isinstance(predictions, pd.DataFrame) or not {"true", "predicted"} <= set(predictions.columns):
        raise DataError("predictions must be a DataFrame with columns 'true' and 'predicted'")
    if clip is None:
        clip = "acc" in target.lower()
    clip = check_bool("clip", clip)
    fig = Figure(figsize=(4.6, 4.2), layout="constrained")
    ax = fig.add_subplot()
    t, p = predictions["true"].to_numpy(float), predictions["predicted"].to_numpy(float)
    above = below = np.zeros(p.shape, dtype=bool)
    if clip:
        with np.errstate(invalid="ignore"):
            above, below = p > 1.0, p < 0.0
        p = np.clip(p, 0.0, 1.0)
    inside = ~(above | below)
    ax.scatter(t[inside], p[inside], s=18, alpha=0.8, color="C0", label="held-out model")
    n_clipped = int(above.sum() + below.sum())
    if above.any():
        ax.scatter(t[above], p[above], s=40, marker="^", facecolors="none", edgecolors="C3", lw=1.2,
                   label=f"clipped to [0, 1]: predicted > 1 ({int(above.sum())})", gid="clipped")
    if below.any():
        ax.scatter(t[below], p[below], s=40, marker="v", facecolors="none", edgecolors="C3", lw=1.2,
                   label=f"clipped to [0, 1]: predicted < 0 ({int(below.sum())})", gid="clipped")
    if clip:
        lo, hi = 0.0, 1.0
    elif t.size and np.isfinite(np.r_[t, p]).any():
        lo, hi = float(np.nanmin(np.r_[t, p])), float(np.nanmax(np.r_[t, p]))
    else:
        lo, hi = 0.0, 1.0
    if t.size:
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="predicted = true")
        ax.legend(fontsize=7)
    if clip:
        ax.set_xlim(*_FRACTION_LIM)
        ax.set_ylim(*_FRACTION_LIM)
    ax.set_xlabel(f"true {target}")
    ax.set_ylabel(f"predicted {target}\n(held out, from structure scores)")
    default = f"label-free ranking: Spearman {spearman:.2f}, n = {t.size}"
    if n_clipped:
        default += f"; {n_clipped} clipped"
    ax.set_title(title or default, fontsize=10)
    return plain_figure_text(fig)


def figure_png(fig: Figure, *, dpi: int = 100) -> bytes:
    """The PNG bytes of ``fig`` (for embedding in a report page); its text is drawn as written (no mathtext)."""
    import io

    dpi = check_int("dpi", dpi, min=1)
    plain_figure_text(fig)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format="png")
    return buf.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG to ``path``, whole or not at all; returns the path. Text is drawn as written."""
    dpi = check_int("dpi", dpi, min=1)
    path = check_output_file(path)
    plain_figure_text(fig)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return path


# ---------------------------------------------------------------------- helpers
def _check_table(table) -> None:
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"table must be a pandas DataFrame, got {type(table).__name__}")



_FRACTION_LIM = (-0.02, 1.02)


def _is_fraction(name: str, values) -> bool:
    """An accuracy-like column: its name says so and its finite values lie in [0, 1]."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    v = v[np.isfinite(v)]
    return "acc" in str(name).lower() and bool(v.size) and bool(((v >= 0) & (v <= 1)).all())


def _score_panel(ax, table: pd.DataFrame, metric: str, target: str, hue: str | None, *,
                 run: str | None = "run", order: str | None = "epoch") -> None:
    from scipy import stats as st

    for col in (metric, target) + ((hue,) if hue else ()):
        if col not in table.columns:
            raise DataError(f"table has no column {col!r} (columns: {list(table.columns)})")
    ax.set_xlabel(metric)
    ax.set_ylabel(target)
    if _is_fraction(target, table[target]):
        ax.set_ylim(*_FRACTION_LIM)
    xs_all = pd.to_numeric(table[metric], errors="coerce").to_numpy(float)
    ys_all = pd.to_numeric(table[target], errors="coerce").to_numpy(float)
    both = np.isfinite(xs_all) & np.isfinite(ys_all)
    if not both.any():
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", fontsize=10, gid="note")
        ax.set_xticks([])
        ax.set_title(metric, fontsize=8)
        return
    if np.ptp(xs_all[both]) == 0:  # a constant score: a vertical line of points says nothing
        ax.text(0.5, 0.5, f"constant: {xs_all[both][0]:.2f}\n({int(both.sum())} models)", transform=ax.transAxes,
                ha="center", va="center", fontsize=10, color="0.3", gid="note")
        ax.set_xticks([])
        ax.set_title(f"{metric}: constant across models", fontsize=8)
        return
    groups = list(table.groupby(hue, sort=True)) if hue else [("", table)]
    link = run is not None and run in table.columns
    notes = []
    for k, (name, g) in enumerate(groups):
        colour = f"C{k % 10}"
        if link:
            for _, r in g.groupby(run, sort=False):
                if len(r) < 2:
                    continue
                if order is not None and order in r.columns:
                    r = r.sort_values(order)
                rx = pd.to_numeric(r[metric], errors="coerce").to_numpy(float)
                ry = pd.to_numeric(r[target], errors="coerce").to_numpy(float)
                ok = np.isfinite(rx) & np.isfinite(ry)
                if ok.sum() >= 2:
                    ax.plot(rx[ok], ry[ok], "-", color=colour, lw=0.5, alpha=0.45, gid="run-link")
        x = pd.to_numeric(g[metric], errors="coerce").to_numpy(float)
        y = pd.to_numeric(g[target], errors="coerce").to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        ax.scatter(x, y, s=14, alpha=0.75, color=colour, label=str(name) if hue else None)
        n = x.size
        if n >= 3 and np.ptp(x) > 0:
            slope, icpt = np.polyfit(x, y, 1)
            xs = np.linspace(x.min(), x.max(), 50)
            resid = y - (slope * x + icpt)
            s = np.sqrt(resid @ resid / (n - 2))
            half = st.t.ppf(0.975, n - 2) * s * np.sqrt(1 / n + (xs - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum())
            ax.plot(xs, slope * xs + icpt, color=colour, lw=1.2)
            ax.fill_between(xs, slope * xs + icpt - half, slope * xs + icpt + half, color=colour, alpha=0.15,
                            lw=0)
            r = np.corrcoef(x, y)[0, 1] if np.ptp(y) > 0 else float("nan")
            notes.append(f"{f'{name}: ' if hue else ''}r={r:.2f}, n={n}")
        else:
            notes.append(f"{f'{name}: ' if hue else ''}n={n}")
    ax.set_title("; ".join(notes), fontsize=8)
    if hue and len(groups) > 1:
        ax.legend(fontsize=7)
