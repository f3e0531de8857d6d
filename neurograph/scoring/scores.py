"""One row of structure scores per model: modularity, its null z-score, entropy, mutual information.

:func:`score_model` records a model's layers on some data and returns a
:class:`ModelScores` whose ``values`` is one flat row (a dict of plain numbers)
ready to be stacked into a table of many models and correlated with their test
accuracy (:func:`neurograph.correlation.correlate`). :func:`score_stats` does the
same from statistics recorded earlier. Both are built on
:func:`neurograph.pipeline.analyze`.

What every score means (definition, range, what a high value means, whether it needs
labels) is in :data:`neurograph.scoring.definitions.SCORE_DEFINITIONS`, the single source
that the report page prints and ``docs/reference/scores.md`` is generated from.

Per recorded layer the same scores are computed on that layer alone (its own
graph, communities and null) and stored under ``"<score>@<layer>"``.

With ``baseline="untrained"`` (or a model or checkpoint of the untrained network) every
score is computed for the untrained twin on the same data too (:mod:`neurograph.scoring.twin`)
and the row gains ``<score>_untrained`` and ``<score>_delta`` (trained minus untrained;
per layer ``<score>_untrained@<layer>``). Read a score against its twin's: an untrained
network already has modularity far above the rewired null.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..recording.capture import run_model
from ..recording.batches import LabelCodes, is_reiterable, logits_of
from ..errors import DataError, ModelError
from .definitions import LABEL_FREE_SCORES, PER_LAYER_SCORES, SCORE_DEFINITIONS  # noqa: F401 - re-exported
from .pipeline import Analysis, analyze
from .twin import baseline_values, resolve_baseline
from ..recording.reading import Reading
from ..recording.recorder import record
from ..stats import CoactivationStats

__all__ = ["ModelScores", "score_model", "score_stats", "with_baseline"]

logger = logging.getLogger(__name__)

_LAYER_SCORES = PER_LAYER_SCORES


class ScoreRow(dict):
    """The dict of :attr:`ModelScores.values`; also callable, so that ``scores.values()`` is the
    :class:`~collections.abc.Mapping` method (the values) while ``scores.values`` stays the dict."""

    __slots__ = ()

    def __call__(self):
        return dict.values(self)


@dataclass(frozen=True, eq=False)
class ModelScores(Mapping):
    """Structure scores of one model; a read-only :class:`~collections.abc.Mapping` score name → value.

    Attributes
    ----------
    values : dict[str, float]
        One flat row: the overall scores of :data:`~neurograph.scoring.definitions.SCORE_DEFINITIONS`
        (all but the ``composite`` ones, which need a table of models; computed on the graph over
        all recorded layers together) and the per-layer ones under ``"<score>@<layer>"``.
        Plain Python ``float``/``int``; NaN where undefined. (``scores.values`` is this dict;
        ``scores.values()``, as for any mapping, its values.)
    layers : pandas.DataFrame
        One row per recorded layer: ``layer`` and the per-layer scores (``modularity``,
        ``modularity_z``, ``n_communities``, ``mean_entropy``, ``mean_mutual_info``,
        ``pattern_entropy``, ``dead_fraction``).
    analysis : Analysis
        The overall analysis (graph, partition, null, per-neuron table) the row comes from.
    baseline : ModelScores or None
        The untrained twin's scores on the same data, when scored with ``baseline=``; their
        numbers are also in :attr:`values` as ``<score>_untrained`` and ``<score>_delta``.

    The mapping (``in``, ``len``, iteration over names, ``keys``, ``items``, ``get``) is over
    :attr:`values`; two ModelScores are equal only if they are the same object.

    Examples
    --------
    >>> s = ModelScores(values={"modularity": 0.4}, layers=pd.DataFrame(), analysis=None)
    >>> s["modularity"], list(s.keys()), "test_accuracy" in s, s.get("test_accuracy")
    (0.4, ['modularity'], False, None)
    """

    values: dict = field()  # field(): not Mapping.values as a default
    layers: pd.DataFrame
    analysis: Analysis | None
    baseline: ModelScores | None = None

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __post_init__(self) -> None:
        if not isinstance(self.values, ScoreRow):
            object.__setattr__(self, "values", ScoreRow(self.values))

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __contains__(self, key) -> bool:
        return key in self.values

    def keys(self):
        """Names of the scores in :attr:`values`."""
        return self.values.keys()

    def items(self):
        """(name, value) pairs of :attr:`values`."""
        return self.values.items()

    def to_series(self) -> pd.Series:
        """The row as a pandas Series."""
        return pd.Series(dict(self.values))


def score_stats(stats: CoactivationStats, *, test_accuracy: float | None = None, per_layer: bool = True,
                weight: str = "npmi", threshold: float = 0.0, top_k: int | None = None, method: str = "leiden",
                resolution: float = 1.0, n_null: int = 10, seed: int = 0, baseline: CoactivationStats | None = None,
                baseline_accuracy: float | None = None) -> ModelScores:
    """Structure scores from recorded statistics (see the module docstring for every score).

    Parameters
    ----------
    stats : CoactivationStats
        Counts over ``d`` neurons of one or more layers (record with ``patterns=True``
        for ``pattern_entropy``; with labels for ``mean_mutual_info``).
    test_accuracy : float, optional
        Stored as the ``test_accuracy`` score (NaN when None).
    per_layer : bool
        Also score every layer alone (one more analysis, with its own nulls, per layer).
    weight, threshold, top_k, method, resolution, n_null, seed
        As for :func:`neurograph.pipeline.analyze` (``n_null=0`` skips the null model;
        otherwise ``n_null >= 2``).
    baseline : CoactivationStats, optional
        The untrained twin's statistics on the same data, scored with the same options (twice
        the cost): :attr:`ModelScores.baseline`, and ``<score>_untrained`` / ``<score>_delta``
        in the row.
    baseline_accuracy : float, optional
        The twin's ``test_accuracy``.

    Returns
    -------
    ModelScores

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fired = rng.random((300, 10)) < 0.3
    >>> s = score_stats(CoactivationStats.from_binary(fired, rng.integers(0, 2, 300)), n_null=0)
    >>> s["dead_fraction"], s["n_communities"] >= 1, 0 < s["mean_entropy"] <= 1
    (0.0, True, True)
    """
    if not isinstance(stats, CoactivationStats):
        raise DataError(f"stats must be a CoactivationStats, got {type(stats).__name__}")
    opts = dict(weight=weight, threshold=threshold, top_k=top_k, method=method, resolution=resolution,
                n_null=n_null, seed=seed)
    if baseline is not None and not isinstance(baseline, CoactivationStats):
        raise DataError(f"baseline must be a CoactivationStats, got {type(baseline).__name__}")
    overall = analyze(stats, **opts)
    values: dict = {"test_accuracy": float("nan") if test_accuracy is None else float(test_accuracy)}
    values.update(_row(overall))
    layer_rows = []
    if per_layer:
        for layer in stats.layers:
            a = overall if len(stats.layers) == 1 else analyze(stats.select(layer), **opts)
            row = _row(a)
            layer_rows.append({"layer": layer, **{k: row[k] for k in _LAYER_SCORES}})
            for k in _LAYER_SCORES:
                values[f"{k}@{layer}"] = row[k]
    layers = pd.DataFrame(layer_rows, columns=["layer", *_LAYER_SCORES])
    scores = ModelScores(values=values, layers=layers, analysis=overall)
    if baseline is None:
        return scores
    twin = score_stats(baseline, test_accuracy=baseline_accuracy, per_layer=per_layer, **opts)
    return with_baseline(scores, twin)


def score_model(model: nn.Module, data, layers: str | Sequence[str], rule: str = "positive", *,
                threshold: float = 0.0, quantile: float = 0.9, z: float = 1.0, spatial: str = "mean",
                time: str = "all", neuron_axis: str | int | dict = "auto", positions: str | None = None,
                mask="attention_mask", reading: Reading | None = None, batch_size: int = 256,
                per_layer: bool = True, weight: str = "npmi",
                method: str = "leiden", resolution: float = 1.0, n_null: int = 10, seed: int = 0,
                progress: bool = False, baseline=None) -> ModelScores:
    """Record ``layers`` of ``model`` on ``data`` and return its row of structure scores.

    ``test_accuracy`` is measured on the same data when it carries labels (NaN
    otherwise); ``n_params`` counts the model's trainable parameters. All other
    scores come from :func:`score_stats`.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits of shape (B, n_classes).
    data : (X, y), DataLoader or iterable of (inputs, labels) batches
        As for :func:`neurograph.record`; ``y`` may be None (no accuracy, no mutual
        information). A one-shot iterator is materialised as a list of batches first.
    layers : str or list of str
        Module names (glob patterns allowed).
    rule, threshold, quantile, z, spatial, time, neuron_axis, positions, mask, reading, batch_size
        Firing rule and reading options of :func:`neurograph.record`.
    per_layer, weight, method, resolution, n_null, seed
        As for :func:`score_stats`.
    progress : bool
        Show tqdm bars while recording.
    baseline : None, "untrained", torch.nn.Module or path
        Also score the untrained network on the same data with the same options (twice the
        cost): ``"untrained"`` is :func:`~neurograph.scoring.twin.untrained_twin` of ``model``
        (a copy with every submodule's ``reset_parameters()`` called under
        ``torch.manual_seed(seed)``; ``model`` and the global random state are untouched); a
        module of the same architecture, or a state_dict file (e.g. the run's epoch-0
        checkpoint) loaded into a copy of ``model``, is used as the untrained network instead.
        The row gains ``<score>_untrained`` and ``<score>_delta`` for every score (but
        ``n_params``); :attr:`ModelScores.baseline` holds the twin's scores.

    Returns
    -------
    ModelScores

    Raises
    ------
    DataError, LayerError, ModelError
        As :func:`neurograph.record`; also ``ModelError`` if the model does not return
        (B, n_classes) logits while measuring accuracy, if a ``baseline`` module or checkpoint
        does not have ``model``'s architecture, or (``"untrained"``) naming a submodule with
        parameters but no ``reset_parameters``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> X = torch.randn(200, 4)
    >>> s = score_model(net, (X, (X[:, 0] > 0).long()), "1", n_null=0)
    >>> 0 <= s["test_accuracy"] <= 1, s["n_params"]
    (True, 58)
    """
    twin = resolve_baseline(model, baseline, seed=seed)  # checked before any recording
    if not is_reiterable(data):
        data = list(data)
    opts = dict(threshold=threshold, quantile=quantile, z=z, spatial=spatial, time=time, neuron_axis=neuron_axis,
                positions=positions, mask=mask, reading=reading, batch_size=batch_size, patterns=True,
                progress=progress)
    stats = record(model, data, layers, rule, **opts)
    labelled = int(stats.class_counts.sum()) > 0
    acc = _accuracy(model, data, batch_size) if labelled else None
    twin_stats = twin_acc = None
    if twin is not None:
        twin_stats = record(twin, data, layers, rule, **opts)
        twin_acc = _accuracy(twin, data, batch_size) if labelled else None
    sopts = dict(per_layer=per_layer, weight=weight, method=method, resolution=resolution, n_null=n_null, seed=seed)
    scores = score_stats(stats, test_accuracy=acc, **sopts)
    n_params = int(sum(p.numel() for p in model.parameters() if p.requires_grad))
    scores.values["n_params"] = n_params
    if twin_stats is None:
        return scores
    untrained = score_stats(twin_stats, test_accuracy=twin_acc, **sopts)
    untrained.values["n_params"] = n_params
    return with_baseline(scores, untrained)


def with_baseline(scores: ModelScores, untrained: ModelScores) -> ModelScores:
    """``scores`` with the untrained twin's ``untrained`` scores (on the same data) added as its baseline.

    The row gains ``<score>_untrained`` and ``<score>_delta`` (trained minus untrained; see
    :func:`neurograph.scoring.twin.baseline_values`), :attr:`ModelScores.baseline` is
    ``untrained`` and the analysis's :attr:`~neurograph.scoring.pipeline.Analysis.baseline` the
    twin's analysis. Used by :func:`score_model` and by the zoo, which scores a run's
    untrained network once for all its checkpoints.

    Examples
    --------
    >>> a = ModelScores(values={"modularity": 0.5}, layers=pd.DataFrame(), analysis=None)
    >>> b = ModelScores(values={"modularity": 0.25}, layers=pd.DataFrame(), analysis=None)
    >>> with_baseline(a, b).values
    {'modularity': 0.5, 'modularity_untrained': 0.25, 'modularity_delta': 0.25}
    """
    own = {k: v for k, v in scores.values.items() if not _is_baseline_key(k)}
    values = {**own, **baseline_values(own, {k: v for k, v in untrained.values.items() if not _is_baseline_key(k)})}
    analysis = scores.analysis
    if analysis is not None and untrained.analysis is not None:
        analysis = replace(analysis, baseline=untrained.analysis)
    return ModelScores(values=values, layers=scores.layers, analysis=analysis, baseline=untrained)


def _is_baseline_key(key: str) -> bool:
    score = key.partition("@")[0]
    return score.endswith("_untrained") or score.endswith("_delta")


# ---------------------------------------------------------------------- helpers


def _row(a: Analysis) -> dict:
    s = a.summary()
    return {
        "modularity": s["modularity"],
        "modularity_z": s["modularity_z"],
        "modularity_null": s["modularity_null_mean"],
        "n_communities": int(s["n_communities"]) if a.graph.n_nodes else 0,
        "mean_entropy": s["mean_entropy"],
        "mean_entropy_active": s["mean_entropy_active"],
        "mean_mutual_info": s["mean_mutual_info"],
        "pattern_entropy": s["mean_pattern_entropy"],
        "dead_fraction": s["dead_fraction"],
        "always_on_fraction": s["always_on_fraction"],
        "n_neurons": s["n_neurons"],
        "n_nodes": s["n_nodes"],
        "n_edges": s["n_edges"],
    }


def _accuracy(model: nn.Module, data, batch_size: int) -> float:
    """Accuracy over the labelled batches of ``data`` (unlabelled batches are skipped).

    Logits are ``.logits`` of a Hugging Face ``ModelOutput`` or the first tensor of the output.
    Named (string) labels are compared with the output index of their rank among the sorted names.
    """
    codes = LabelCodes()
    preds: list[np.ndarray] = []
    truth: list[np.ndarray] = []

    def on_batch(state) -> None:
        labels = state.batch.labels
        if labels is None:
            return
        logits = logits_of(state.output)
        if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != labels.shape[0]:
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(state.output).__name__
            raise ModelError(f"the model must return logits of shape ({labels.shape[0]}, n_classes) "
                             f"to measure accuracy; batch {state.index} gave {shape}")
        preds.append(logits.argmax(dim=1).cpu().numpy())
        truth.append(labels.cpu().numpy())

    run_model(model, data, batch_size=batch_size, on_batch=on_batch, codes=codes, desc="accuracy")
    if not truth:
        return float("nan")
    y = np.concatenate(truth)
    if codes.kind == "named":
        names = codes.decode(np.arange(len(codes.names)))
        rank = np.empty(len(names), np.int64)
        rank[np.argsort(names, kind="stable")] = np.arange(len(names))
        y = rank[y]
    return float((np.concatenate(preds) == y).mean())

