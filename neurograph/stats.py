"""Sufficient statistics of neuron firing: counts that add, merge, save and all-reduce.

A :class:`CoactivationStats` holds only counts, never raw activations, so a later
stage (graph, entropy, scores) never needs the data again, memory is ``O(d^2)``
whatever the number of samples, and recordings of disjoint shards of a data set
add up exactly to the recording of the whole.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import atomic_path
from .errors import IncompatibleStatsError, StatsFileError
from .moments import ActivationMoments

__all__ = ["CoactivationStats"]

FORMAT_NAME = "neurograph.CoactivationStats"
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class CoactivationStats:
    """Exact firing counts of ``d`` neurons over ``n_samples`` samples.

    Attributes
    ----------
    neurons : pandas.DataFrame, shape (d, 2)
        One row per neuron, columns ``layer`` (module name, str) and ``unit``
        (index of the unit or channel within that layer, int).
    n_samples : int
        Number of samples counted (rows: inputs, or time steps for recurrent layers).
    fire_counts : numpy.ndarray of int64, shape (d,)
        ``fire_counts[i]`` = number of samples on which neuron ``i`` fired.
    cofire_counts : numpy.ndarray of int64, shape (d, d)
        ``cofire_counts[i, j]`` = number of samples on which ``i`` and ``j`` both
        fired; symmetric, with ``fire_counts`` on its diagonal.
    classes : numpy.ndarray of int64, shape (c,)
        The class labels seen, sorted (empty when recorded without labels).
    class_counts : numpy.ndarray of int64, shape (c,)
        Number of samples of each class in ``classes``.
    class_fire_counts : numpy.ndarray of int64, shape (c, d)
        ``class_fire_counts[k, i]`` = samples of class ``classes[k]`` on which ``i`` fired.
    pattern_counts : dict[str, dict[int, int]] or None
        Per layer, how many samples showed each binary firing pattern (keyed by a
        64-bit hash of the pattern); ``None`` unless recorded with ``patterns=True``.
    rule : str
        Description of the firing rule the counts were made with (merging requires equal rules).
    meta : dict
        How the counts were made (spatial and time modes, thresholds); not compared by ``==``.
    moments : ActivationMoments or None
        Means and centred cross-products of the raw activations (Pearson statistics), kept
        when recorded with ``moments=True``; merged in float64 by ``+`` and :meth:`all_reduce`.
        ``==`` compares counts exactly and moments up to float64 rounding
        (:meth:`ActivationMoments.isclose`).

    Examples
    --------
    >>> import numpy as np
    >>> fired = np.array([[1, 0], [1, 1], [0, 1]], dtype=np.uint8)
    >>> s = CoactivationStats.from_binary(fired, labels=np.array([0, 1, 1]))
    >>> s.cofire_counts.tolist()
    [[2, 1], [1, 2]]
    >>> (s + s).n_samples
    6
    """

    neurons: pd.DataFrame
    n_samples: int
    fire_counts: np.ndarray
    cofire_counts: np.ndarray
    classes: np.ndarray
    class_counts: np.ndarray
    class_fire_counts: np.ndarray
    pattern_counts: dict | None = None
    rule: str = "positive"
    meta: dict = field(default_factory=dict)
    moments: ActivationMoments | None = None

    # ------------------------------------------------------------------ basics
    @property
    def n_neurons(self) -> int:
        """Number of neurons ``d``."""
        return int(self.fire_counts.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes seen ``c``."""
        return int(self.classes.shape[0])

    @property
    def layers(self) -> list[str]:
        """Recorded layer names, in recording order."""
        return list(dict.fromkeys(self.neurons["layer"].tolist()))

    @property
    def fire_prob(self) -> np.ndarray:
        """Firing probability of each neuron, shape (d,), in [0, 1] (NaN when no samples)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.fire_counts / float(self.n_samples) if self.n_samples else np.full(self.n_neurons, np.nan)

    @classmethod
    def from_binary(cls, fired, labels=None, *, layer: str = "layer", rule: str = "positive",
                    neurons: pd.DataFrame | None = None) -> CoactivationStats:
        """Count a ready-made binary firing matrix ``fired`` of shape (n, d) (0/1 or bool).

        A reference implementation for tests and for users who compute firing elsewhere;
        :func:`neurograph.record` is the streaming way.
        """
        b = np.asarray(fired)
        if b.ndim != 2:
            raise ValueError(f"fired must be 2-D (n, d), got shape {b.shape}")
        b = (b != 0).astype(np.float64)  # float64 products of 0/1 are exact below 2^53
        n, d = b.shape
        if neurons is None:
            neurons = pd.DataFrame({"layer": [layer] * d, "unit": np.arange(d, dtype=np.int64)})
        if labels is None:
            classes = np.zeros(0, np.int64)
            cc = np.zeros(0, np.int64)
            cf = np.zeros((0, d), np.int64)
        else:
            y = np.asarray(labels).astype(np.int64).reshape(-1)
            if y.shape[0] != n:
                raise ValueError(f"labels has {y.shape[0]} entries but fired has {n} rows")
            classes, inv = np.unique(y, return_inverse=True)
            onehot = np.zeros((n, classes.shape[0]), np.float64)
            onehot[np.arange(n), inv] = 1
            cc = onehot.sum(0).astype(np.int64)
            cf = np.rint(onehot.T @ b).astype(np.int64)
        return cls(neurons=neurons.reset_index(drop=True), n_samples=int(n),
                   fire_counts=b.sum(0).astype(np.int64), cofire_counts=np.rint(b.T @ b).astype(np.int64), classes=classes.astype(np.int64), class_counts=cc,
                   class_fire_counts=cf, rule=rule)

    # ------------------------------------------------------------------ merge
    def _check_same_neurons(self, other: CoactivationStats) -> None:
        if not isinstance(other, CoactivationStats):
            raise TypeError(f"can only add CoactivationStats, got {type(other).__name__}")
        a, b = self.neurons, other.neurons
        if len(a) != len(b) or not (a["layer"].tolist() == b["layer"].tolist()
                                     and a["unit"].tolist() == b["unit"].tolist()):
            la, lb = self.layers, other.layers
            raise IncompatibleStatsError(
                f"cannot merge statistics over different neurons: {len(a)} neurons in layers {la} "
                f"vs {len(b)} neurons in layers {lb}")
        if self.rule != other.rule:
            raise IncompatibleStatsError(
                f"cannot merge statistics made with different firing rules: {self.rule!r} vs {other.rule!r}")

    def __add__(self, other: CoactivationStats) -> CoactivationStats:
        """Exact merge: counts of the union of two disjoint sets of samples."""
        self._check_same_neurons(other)
        classes = np.union1d(self.classes, other.classes).astype(np.int64)
        d = self.n_neurons
        cc = np.zeros(classes.shape[0], np.int64)
        cf = np.zeros((classes.shape[0], d), np.int64)
        for s in (self, other):
            idx = np.searchsorted(classes, s.classes)
            cc[idx] += s.class_counts
            cf[idx] += s.class_fire_counts
        patterns = None
        if self.pattern_counts is not None and other.pattern_counts is not None:
            patterns = {}
            for layer in self.layers:
                c = Counter(self.pattern_counts.get(layer, {}))
                c.update(other.pattern_counts.get(layer, {}))
                patterns[layer] = dict(c)
        moments = None
        if self.moments is not None and other.moments is not None:
            moments = self.moments + other.moments
        return CoactivationStats(neurons=self.neurons, n_samples=self.n_samples + other.n_samples,
                                 fire_counts=self.fire_counts + other.fire_counts,
                                 cofire_counts=self.cofire_counts + other.cofire_counts,
                                 classes=classes, class_counts=cc, class_fire_counts=cf,
                                 pattern_counts=patterns, rule=self.rule, meta=dict(self.meta),
                                 moments=moments)

    def __radd__(self, other):
        if other == 0:  # lets sum([...]) work
            return self
        return NotImplemented

    def __eq__(self, other) -> bool:
        if not isinstance(other, CoactivationStats):
            return NotImplemented
        try:
            self._check_same_neurons(other)
        except IncompatibleStatsError:
            return False
        return (self.n_samples == other.n_samples
                and np.array_equal(self.fire_counts, other.fire_counts)
                and np.array_equal(self.cofire_counts, other.cofire_counts)
                and np.array_equal(self.classes, other.classes)
                and np.array_equal(self.class_counts, other.class_counts)
                and np.array_equal(self.class_fire_counts, other.class_fire_counts)
                and self.pattern_counts == other.pattern_counts
                and (self.moments is None) == (other.moments is None)
                and (self.moments is None or self.moments.isclose(other.moments)))

    __hash__ = None

    def all_reduce(self, *, group=None) -> CoactivationStats:
        """Sum these statistics over every rank of a ``torch.distributed`` process group.

        Each rank passes the statistics of its own shard of the data; every rank gets back
        the statistics of the whole (counts exact; moments merged in float64). A collective:
        every rank of ``group`` must call it. See :func:`neurograph.distributed.all_reduce_stats`.
        """
        from .distributed import all_reduce_stats

        return all_reduce_stats(self, group=group)

    def select(self, layers: str | list[str]) -> CoactivationStats:
        """Statistics restricted to the neurons of ``layers`` (a name or a list of names)."""
        if isinstance(layers, str):
            layers = [layers]
        unknown = [name for name in layers if name not in self.layers]
        if unknown:
            from .errors import LayerError
            raise LayerError(f"layers {unknown} are not in these statistics (recorded: {self.layers})")
        mask = self.neurons["layer"].isin(layers).to_numpy()
        idx = np.flatnonzero(mask)
        patterns = None
        if self.pattern_counts is not None:
            patterns = {k: v for k, v in self.pattern_counts.items() if k in layers}
        return CoactivationStats(neurons=self.neurons.iloc[idx].reset_index(drop=True),
                                 n_samples=self.n_samples, fire_counts=self.fire_counts[idx],
                                 cofire_counts=self.cofire_counts[np.ix_(idx, idx)],
                                 classes=self.classes, class_counts=self.class_counts,
                                 class_fire_counts=self.class_fire_counts[:, idx],
                                 pattern_counts=patterns, rule=self.rule, meta=dict(self.meta),
                                 moments=None if self.moments is None else self.moments.select(idx))

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the statistics to ``path`` (a ``.npz`` file), whole or not at all.

        Returns the path written.
        """
        path = Path(path)
        header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "n_samples": int(self.n_samples),
                  "rule": self.rule, "meta": self.meta,
                  "pattern_layers": None if self.pattern_counts is None else list(self.pattern_counts)}
        arrays = {
            "header": np.array(json.dumps(header)),
            "layer": np.array(self.neurons["layer"].astype(str).tolist(), dtype=str),
            "unit": self.neurons["unit"].to_numpy(np.int64),
            "fire_counts": self.fire_counts, "cofire_counts": self.cofire_counts,
            "classes": self.classes, "class_counts": self.class_counts,
            "class_fire_counts": self.class_fire_counts,
        }
        if self.pattern_counts is not None:
            for i, layer in enumerate(self.pattern_counts):
                items = self.pattern_counts[layer]
                arrays[f"pattern_keys_{i}"] = np.fromiter(items.keys(), np.uint64, len(items))
                arrays[f"pattern_vals_{i}"] = np.fromiter(items.values(), np.int64, len(items))
        if self.moments is not None:
            arrays["moments_n"] = np.array(int(self.moments.n_samples), np.int64)
            arrays["moments_mean"] = self.moments.mean
            arrays["moments_comoment"] = self.moments.comoment
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> CoactivationStats:
        """Read statistics written by :meth:`save`.

        Raises
        ------
        StatsFileError
            If the file is missing, is not a neurograph statistics file, is corrupt,
            or has a format version this neurograph cannot read.
        """
        path = Path(path)
        if not path.exists():
            raise StatsFileError(f"statistics file {str(path)!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise StatsFileError(f"statistics file {str(path)!r} is corrupt or not a .npz file: {exc}") from exc
        try:
            header = json.loads(str(data["header"]))
        except (KeyError, json.JSONDecodeError) as exc:
            raise StatsFileError(f"{str(path)!r} is not a neurograph statistics file (no valid header)") from exc
        if header.get("format") != FORMAT_NAME:
            raise StatsFileError(f"{str(path)!r} is not a neurograph statistics file "
                                 f"(format {header.get('format')!r})")
        if header.get("version") != FORMAT_VERSION:
            raise StatsFileError(f"{str(path)!r} has format version {header.get('version')!r}; this neurograph "
                                 f"reads version {FORMAT_VERSION}")
        try:
            neurons = pd.DataFrame({"layer": data["layer"].astype(str).tolist(),
                                    "unit": data["unit"].astype(np.int64)})
            patterns = None
            if header.get("pattern_layers") is not None:
                patterns = {}
                for i, layer in enumerate(header["pattern_layers"]):
                    keys, vals = data[f"pattern_keys_{i}"], data[f"pattern_vals_{i}"]
                    patterns[layer] = dict(zip(keys.tolist(), vals.tolist()))
            moments = None
            if "moments_mean" in data:
                moments = ActivationMoments(int(data["moments_n"]), data["moments_mean"].astype(np.float64),
                                            data["moments_comoment"].astype(np.float64))
            stats = cls(neurons=neurons, n_samples=int(header["n_samples"]),
                        fire_counts=data["fire_counts"].astype(np.int64),
                        cofire_counts=data["cofire_counts"].astype(np.int64),
                        classes=data["classes"].astype(np.int64),
                        class_counts=data["class_counts"].astype(np.int64),
                        class_fire_counts=data["class_fire_counts"].astype(np.int64),
                        pattern_counts=patterns, rule=str(header.get("rule", "positive")),
                        meta=dict(header.get("meta") or {}), moments=moments)
        except KeyError as exc:
            raise StatsFileError(f"statistics file {str(path)!r} is incomplete: missing {exc}") from exc
        d = stats.n_neurons
        bad_moments = stats.moments is not None and (stats.moments.mean.shape != (d,)
                                                     or stats.moments.comoment.shape != (d, d))
        if stats.cofire_counts.shape != (d, d) or stats.class_fire_counts.shape != (stats.n_classes, d) \
                or bad_moments:
            raise StatsFileError(f"statistics file {str(path)!r} is inconsistent: shapes "
                                 f"{stats.cofire_counts.shape} and {stats.class_fire_counts.shape} for {d} neurons")
        return stats
