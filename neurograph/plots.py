"""Figures a person wants to look at: the co-activation matrix ordered by community, entropy histograms.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), so
no GUI backend is touched and nothing global changes; :func:`save_figure` writes
a PNG whole or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._io import atomic_path
from .errors import GraphError

__all__ = ["plot_coactivation", "plot_entropy", "save_figure"]


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
        return fig
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
    if labels is not None:
        lab = pd.Series(labels).to_numpy()[order]
        codes, uniques = pd.factorize(lab)
        strip = ax.inset_axes([1.0 + 0.01, 0, 0.03, 1])
        strip.imshow(codes[:, None], aspect="auto", cmap="tab10", interpolation="nearest")
        strip.set_xticks([])
        strip.set_yticks([])
        strip.set_title("layer", fontsize=7)
    ax.set_title(title or "co-activation matrix")
    return fig


def plot_entropy(table: pd.DataFrame, *, column: str = "entropy", by: str = "layer", title: str = "") -> Figure:
    """Histogram of a per-neuron column (default ``entropy``, bits) per layer.

    ``table`` is the output of :func:`neurograph.neuron_entropy` (or any table with
    ``column`` and ``by``).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"layer": ["a", "a", "b"], "entropy": [0.1, 0.9, 0.5]})
    >>> plot_entropy(t).axes[0].get_xlabel()
    'entropy (bits)'
    """
    for col in (column, by):
        if col not in table.columns:
            raise GraphError(f"table has no column {col!r} (columns: {list(table.columns)})")
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    values = table[column].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    hi = max(1.0, float(finite.max())) if finite.size else 1.0
    bins = np.linspace(0.0, hi, 21)
    for name, group in table.groupby(by, sort=False):
        v = group[column].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        ax.hist(v, bins=bins, alpha=0.55, label=f"{name} (mean {v.mean():.2f})" if v.size else str(name))
    ax.set_xlabel(f"{column} (bits)" if column in ("entropy", "mutual_info", "cond_entropy") else column)
    ax.set_ylabel("neurons")
    ax.legend(fontsize=8)
    ax.set_title(title or f"{column} per neuron")
    return fig


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG to ``path``, whole or not at all; returns the path."""
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return path
