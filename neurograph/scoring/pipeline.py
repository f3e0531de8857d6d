"""From statistics to everything a person looks at: graph, communities, null z-score, entropy, files.

:func:`analyze` chains the stages of the data flow on one
:class:`~neurograph.stats.CoactivationStats`; :func:`write_analysis` writes the
results (GEXF, GraphML, CSV tables, PNG figures) into a folder. Both the
``neurograph demo`` and ``neurograph graph`` commands are built on them.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.atomic import write_csv
from .._validate import check_int, check_seed
from .._limits import MAX_N_NULL
from ..graph.communities import (ModularitySignificance, Partition, check_options, detect_communities,
                          modularity_significance)
from .entropy import layer_entropy, neuron_entropy
from ..errors import DataError, DegenerateGraphWarning, OptionError
from ..io.export import export_gexf, export_graphml
from ..graph.activation import ActivationGraph, activation_graph, edge_weights
from ..io.plots import plot_coactivation, plot_entropy, save_figure
from ..stats import CoactivationStats
from .twin import baseline_values

__all__ = ["Analysis", "analyze", "baseline_table", "write_analysis"]


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything :func:`analyze` computes from one set of statistics.

    Attributes
    ----------
    stats : CoactivationStats
    graph : ActivationGraph
    partition : Partition
        Communities of ``graph``'s nodes.
    significance : ModularitySignificance or None
        Modularity against degree/strength-preserving rewired nulls (None if ``n_null=0``).
    neurons : pandas.DataFrame
        One row per recorded neuron: the columns of :func:`neuron_entropy` plus
        ``in_graph`` (bool) and ``community`` (-1 for neurons left out of the graph).
    layers : pandas.DataFrame
        :func:`layer_entropy` per layer.
    baseline : Analysis or None
        The same analysis of the untrained twin's statistics on the same data (``analyze(...,
        baseline=...)``); None when no baseline was given.
    """

    stats: CoactivationStats
    graph: ActivationGraph
    partition: Partition
    significance: ModularitySignificance | None
    neurons: pd.DataFrame
    layers: pd.DataFrame
    baseline: Analysis | None = None

    def summary(self) -> dict:
        """One row of scores (plain Python numbers); definitions: docs/reference/scores.md.

        With a :attr:`baseline`, every score also as ``<score>_untrained`` (the twin's) and
        ``<score>_delta`` (this analysis minus the twin's), but for ``n_samples`` and ``n_neurons``.
        """
        row = self._own_summary()
        if self.baseline is not None:
            row.update(baseline_values(row, self.baseline._own_summary()))
        return row

    def _own_summary(self) -> dict:
        sig = self.significance
        ok = self.neurons["status"] == "ok"
        return {
            "n_samples": int(self.stats.n_samples),
            "n_neurons": int(self.stats.n_neurons),
            "n_nodes": int(self.graph.n_nodes),
            "n_edges": int(self.graph.n_edges),
            "dead_fraction": float((self.neurons["status"] == "dead").mean()),
            "always_on_fraction": float((self.neurons["status"] == "always_on").mean()),
            "modularity": float(self.partition.modularity),
            "modularity_null_mean": float(sig.null_mean) if sig else float("nan"),
            "modularity_null_sd": float(sig.null_sd) if sig else float("nan"),
            "modularity_z": float(sig.z) if sig else float("nan"),
            "modularity_p": float(sig.p_value) if sig else float("nan"),
            "n_communities": int(self.partition.n_communities),
            "mean_entropy": float(self.neurons["entropy"].mean()),
            "mean_entropy_active": float(self.neurons.loc[ok, "entropy"].mean()) if ok.any() else float("nan"),
            "mean_mutual_info": float(self.neurons["mutual_info"].mean()),
            "mean_pattern_entropy": float(self.layers["pattern_entropy"].mean()),
        }


def analyze(stats: CoactivationStats, *, weight: str = "npmi", threshold: float = 0.0, top_k: int | None = None,
            alpha: float | None = None, method: str = "leiden", resolution: float = 1.0, n_null: int = 20,
            seed: int = 0, progress: bool = False, baseline: CoactivationStats | Analysis | None = None) -> Analysis:
    """Build the activation graph, its communities, their null z-score and the entropy tables.

    Parameters are those of :func:`activation_graph`, :func:`detect_communities` and
    :func:`modularity_significance` (``n_null=0`` skips the null model; ``progress`` shows a
    tqdm bar over the null graphs). Cost: one community detection per null graph, so about
    ``n_null + 1`` detections.

    ``baseline``: the statistics of the untrained twin recorded on the same data (see
    :func:`neurograph.scoring.twin.untrained_twin`), analysed with the same options (twice the
    cost), or its :class:`Analysis`; it becomes :attr:`Analysis.baseline`, and
    :meth:`Analysis.summary` gains ``<score>_untrained`` and ``<score>_delta``. Its layers and
    neurons per layer must be those of ``stats`` (DataError naming the first that differs).

    Every option is checked before any work: a bad value raises
    :class:`~neurograph.errors.OptionError` naming it (``n_null`` must be 0 or an int >= 2);
    ``stats`` that is not a CoactivationStats (or has no samples) raises DataError.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fired = rng.random((200, 12)) < 0.4
    >>> a = analyze(CoactivationStats.from_binary(fired, rng.integers(0, 2, 200)), n_null=3)
    >>> sorted(a.summary())[:3]
    ['always_on_fraction', 'dead_fraction', 'mean_entropy']
    """
    if not isinstance(stats, CoactivationStats):
        raise DataError(f"stats must be a CoactivationStats, got {type(stats).__name__}")
    n_null = check_int("n_null", n_null, min=0, max=MAX_N_NULL)
    if n_null == 1:
        raise OptionError("n_null must be 0 (no null model) or >= 2, got 1")
    check_seed("seed", seed)
    check_options(method, resolution, "modularity")
    if baseline is not None:
        base_stats = baseline.stats if isinstance(baseline, Analysis) else baseline
        if not isinstance(base_stats, CoactivationStats):
            raise DataError(f"baseline must be a CoactivationStats or an Analysis, got {type(baseline).__name__}")
        _check_same_neurons(stats, base_stats)
        if not isinstance(baseline, Analysis):
            baseline = analyze(baseline, weight=weight, threshold=threshold, top_k=top_k, alpha=alpha, method=method,
                               resolution=resolution, n_null=n_null, seed=seed)
        elif baseline.baseline is not None:
            baseline = replace(baseline, baseline=None)
    graph = activation_graph(stats, weight, threshold=threshold, top_k=top_k, alpha=alpha)
    partition = detect_communities(graph, method=method, resolution=resolution, seed=seed)
    if graph.n_edges == 0:
        _warn_empty(stats, graph)
    sig = None
    if n_null > 0 and graph.n_edges > 0:
        sig = modularity_significance(graph, partition, method=method, resolution=resolution, n_null=n_null,
                                      seed=seed, progress=bool(progress))
    table = neuron_entropy(stats)
    community = np.full(stats.n_neurons, -1, dtype=np.int64)
    idx = graph.nodes["neuron"].to_numpy(np.int64)
    community[idx] = partition.membership
    table["in_graph"] = False
    table.loc[idx, "in_graph"] = True
    table["community"] = community
    return Analysis(stats=stats, graph=graph, partition=partition, significance=sig, neurons=table,
                    layers=layer_entropy(stats), baseline=baseline)


def baseline_table(analysis: Analysis) -> pd.DataFrame:
    """The scores of ``analysis`` beside its untrained twin's: columns ``score``, ``trained``, ``untrained``, ``delta``.

    One row per score of :meth:`Analysis.summary` that has a twin value; DataError if the
    analysis has no :attr:`~Analysis.baseline`.
    """
    if not isinstance(analysis, Analysis) or analysis.baseline is None:
        raise DataError("baseline_table needs an Analysis made with analyze(..., baseline=...)")
    own, twin = analysis._own_summary(), analysis.baseline._own_summary()
    delta = baseline_values(own, twin)
    rows = [{"score": k, "trained": own[k], "untrained": twin[k], "delta": delta[f"{k}_delta"]}
            for k in own if f"{k}_delta" in delta]
    return pd.DataFrame(rows, columns=["score", "trained", "untrained", "delta"])


def _check_same_neurons(stats: CoactivationStats, base: CoactivationStats) -> None:
    """DataError naming the first layer whose neurons differ between ``stats`` and its baseline ``base``."""
    ours, theirs = _layer_sizes(stats), _layer_sizes(base)
    if ours != theirs:
        diff = next(((a, b) for a, b in zip(ours, theirs) if a != b), None)
        what = (f"layer {diff[1][0]!r} has {diff[1][1]} neurons, the model's {diff[0][0]!r} {diff[0][1]}" if diff
                else f"{len(theirs)} layers, the model's {len(ours)}")
        raise DataError(f"baseline statistics do not record the model's neurons: {what}")


def _layer_sizes(stats: CoactivationStats) -> list[tuple[str, int]]:
    counts = stats.neurons["layer"].astype(str).value_counts()
    return [(name, int(counts.get(name, 0))) for name in stats.layers]


def _warn_empty(stats: CoactivationStats, graph) -> None:
    """Say why modularity and the community scores are NaN: the graph has no edge."""
    d = stats.n_neurons
    why = []
    if graph.n_dead or graph.n_always_on:
        why.append(f"{graph.n_dead} of {d} neurons never fire and {graph.n_always_on} always fire under rule "
                   f"{stats.rule!r}, so they are left out")
    if stats.n_samples < 2:
        why.append(f"only {stats.n_samples} sample(s) were recorded")
    if not why:
        why.append("no pair of neurons passes the sparsification (threshold / top_k / alpha)")
    advice = ("record with rule='zscore' or rule='quantile', which adapt the cut to each neuron"
              if stats.rule == "positive" or stats.rule.startswith("threshold") else "loosen the sparsification")
    warnings.warn(DegenerateGraphWarning(
        f"the co-activation graph has {graph.n_nodes} node(s) and no edge, so modularity, its z-score and the "
        f"communities are NaN: {'; '.join(why)}; {advice}"), stacklevel=3)


def write_analysis(analysis: Analysis, out_dir: str | os.PathLike, *, name: str = "model",
                   title: str = "", write_stats: bool = True) -> dict[str, Path]:
    """Write an :class:`Analysis` into ``out_dir`` with file names prefixed by ``name``.

    Files: ``NAME.gexf`` and ``NAME.graphml`` (open in Gephi), ``NAME_stats.npz``,
    ``NAME_neurons.csv`` (per-neuron metrics and community), ``NAME_layers.csv``,
    ``NAME_coactivation.png`` (weights ordered by community) and ``NAME_entropy.png``; with a
    :attr:`Analysis.baseline` also ``NAME_untrained.csv`` (one row per score: ``score``,
    ``trained``, ``untrained``, ``delta``) and the twin's Q and z in the figure's title.
    Returns a dict from kind to path. With ``write_stats=False`` the statistics are not
    written (``NAME_stats.npz`` is the input they were read from); its path is still returned.

    Raises OptionError if ``name`` is empty or holds a path separator (or ``title`` is not a
    str), DataError if ``analysis`` is not an Analysis, and an ``OSError`` naming ``out_dir``
    if it is a file or cannot be made.
    """
    if not isinstance(analysis, Analysis):
        raise DataError(f"analysis must be an Analysis (from analyze), got {type(analysis).__name__}")
    if not isinstance(name, str) or not name or "/" in name or os.sep in name or name in (".", ".."):
        raise OptionError(f"name must be a non-empty file name prefix without path separators, got {name!r}")
    if not isinstance(title, str):
        raise OptionError(f"title must be a str, got {title!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"cannot write into {str(out)!r}: it is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err = type(exc)(f"cannot make folder {str(out)!r}: {exc.strerror or exc}")
        err.errno = exc.errno
        raise err from exc
    a = analysis
    node_table = a.neurons.loc[a.graph.nodes["neuron"].to_numpy(np.int64),
                               ["entropy", "cond_entropy", "mutual_info", "status"]]
    node_table = node_table.reset_index(drop=True)
    paths = {
        "gexf": export_gexf(a.graph, out / f"{name}.gexf", partition=a.partition, node_table=node_table),
        "graphml": export_graphml(a.graph, out / f"{name}.graphml", partition=a.partition, node_table=node_table),
        "stats": a.stats.save(out / f"{name}_stats.npz") if write_stats else out / f"{name}_stats.npz",
        "neurons": write_csv(a.neurons, out / f"{name}_neurons.csv"),
        "layers": write_csv(a.layers, out / f"{name}_layers.csv"),
    }
    idx = a.graph.nodes["neuron"].to_numpy(np.int64)
    w = edge_weights(a.stats, a.graph.weight)[np.ix_(idx, idx)]
    q = a.partition.modularity
    z = a.significance.z if a.significance else float("nan")
    heading = f"{title or name}: Q = {q:.3f}, z = {z:.1f}"
    if a.baseline is not None:
        paths["untrained"] = write_csv(baseline_table(a), out / f"{name}_untrained.csv")
        b = a.baseline
        bz = b.significance.z if b.significance else float("nan")
        heading += f"\nuntrained twin on the same data: Q = {b.partition.modularity:.3f}, z = {bz:.1f}"
    fig = plot_coactivation(w, a.partition.membership, labels=a.graph.nodes["layer"], weight_name=a.graph.weight,
                            title=heading)
    paths["coactivation_png"] = save_figure(fig, out / f"{name}_coactivation.png")
    paths["entropy_png"] = save_figure(plot_entropy(a.neurons, title=f"{title or name}: neuron entropy"),
                                       out / f"{name}_entropy.png")
    return paths
