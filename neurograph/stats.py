"""Sufficient statistics of neuron firing: counts that add, merge, save and all-reduce.

A :class:`CoactivationStats` holds only counts, never raw activations, so a later
stage (graph, entropy, scores) never needs the data again, memory is ``O(d^2)``
whatever the number of samples, and recordings of disjoint shards of a data set
add up exactly to the recording of the whole.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .io.atomic import atomic_path, read_npz
from .errors import DataError, IncompatibleStatsError, StatsFileError
from .moments import ActivationMoments, moments_problem

__all__ = ["CoactivationStats", "reading_mismatch", "reading_of"]

FORMAT_NAME = "neurograph.CoactivationStats"
FORMAT_VERSION = 2
#: Format versions :meth:`CoactivationStats.load` reads. Version 1 files did not store the reading's
#: ``mask`` and ``dtype``: they load with those fields "not recorded" (see :func:`reading_of`).
READ_VERSIONS = (1, 2)

#: The fields of ``meta`` that describe how a layer was read (besides ``rule``): merging compares them.
READING_FIELDS = ("positions", "neuron_axis", "mask", "dtype", "per_position")
_PER_SITE_FIELDS = ("positions", "neuron_axis")


_CHUNK = 1 << 24  # entries of the co-firing matrix reduced per collective call


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
    classes : numpy.ndarray of int64 or str, shape (c,)
        The class labels seen, sorted (empty when recorded without labels).
    class_counts : numpy.ndarray of int64, shape (c,)
        Number of samples of each class in ``classes``.
    class_fire_counts : numpy.ndarray of int64, shape (c, d)
        ``class_fire_counts[k, i]`` = samples of class ``classes[k]`` on which ``i`` fired.
    pattern_counts : dict[str, dict[int, int]] or None
        Per layer, how many samples showed each binary firing pattern (keyed by a
        64-bit hash of the pattern); ``None`` unless recorded with ``patterns=True``.
    rule : str
        Description of the firing rule the counts were made with, with its cut (a threshold, or a
        hash of calibrated per-neuron cuts).
    meta : dict
        How the counts were made: the reading (:data:`READING_FIELDS`: each layer's ``positions``
        and ``neuron_axis``, the padding ``mask``, the model's ``dtype``), the ``spatial`` and
        ``time`` defaults, calibrated ``thresholds``, and anything the caller adds (``source``).
        Not compared by ``==``; merging (``+``, :meth:`all_reduce`) requires the same ``rule``
        and the same reading (:func:`reading_of`) and raises
        :class:`~neurograph.errors.IncompatibleStatsError` naming the field that differs.
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
            raise DataError(f"fired must be 2-D (n, d), got shape {b.shape}")
        if b.dtype.kind not in "biuf" or (b.size and not np.isin(b, (0, 1)).all()):
            bad = b.ravel()[~np.isin(b.ravel(), (0, 1))][0] if b.dtype.kind in "biuf" else b.dtype
            raise DataError(f"fired must hold 0/1 (or bool) values, got {bad!r}")
        b = (b != 0).astype(np.float64)  # float64 products of 0/1 are exact below 2^53
        n, d = b.shape
        if neurons is None:
            neurons = pd.DataFrame({"layer": [layer] * d, "unit": np.arange(d, dtype=np.int64)})
        if labels is None:
            classes = np.zeros(0, np.int64)
            cc = np.zeros(0, np.int64)
            cf = np.zeros((0, d), np.int64)
        else:
            y = np.asarray(labels).reshape(-1)
            if y.dtype.kind == "f" and not (np.isfinite(y).all() and np.array_equal(y, np.round(y))):
                raise DataError(f"labels must be class ids (whole numbers) or names, got e.g. "
                                f"{y[~(np.isfinite(y) & (y == np.round(y)))][0]!r}")
            if y.dtype.kind not in "biufU":
                raise DataError(f"labels must be class ids (ints) or names (str), got dtype {y.dtype}")
            y = y if y.dtype.kind == "U" else y.astype(np.int64)
            if y.shape[0] != n:
                raise DataError(f"labels has {y.shape[0]} entries but fired has {n} rows")
            classes, inv = np.unique(y, return_inverse=True)
            onehot = np.zeros((n, classes.shape[0]), np.float64)
            onehot[np.arange(n), inv] = 1
            cc = onehot.sum(0).astype(np.int64)
            cf = np.rint(onehot.T @ b).astype(np.int64)
        return cls(neurons=neurons.reset_index(drop=True), n_samples=int(n),
                   fire_counts=b.sum(0).astype(np.int64), cofire_counts=np.rint(b.T @ b).astype(np.int64),
                   classes=classes if classes.dtype.kind == "U" else classes.astype(np.int64), class_counts=cc,
                   class_fire_counts=cf, rule=rule)

    # ------------------------------------------------------------------ merge
    def _check_same_neurons(self, other: CoactivationStats, *, reading: bool = True) -> None:
        if not isinstance(other, CoactivationStats):
            raise TypeError(f"can only add CoactivationStats, got {type(other).__name__}")
        a, b = self.neurons, other.neurons
        if len(a) != len(b) or not (a["layer"].tolist() == b["layer"].tolist()
                                     and a["unit"].tolist() == b["unit"].tolist()):
            la, lb = self.layers, other.layers
            raise IncompatibleStatsError(
                f"cannot merge statistics over different neurons: {len(a)} neurons in layers {la} "
                f"vs {len(b)} neurons in layers {lb}")
        problem = reading_mismatch(reading_of(self), reading_of(other)) if reading else None
        if problem is not None:
            what = "firing rules" if problem.startswith("rule") else "readings"
            raise IncompatibleStatsError(f"cannot merge statistics made with different {what}: {problem}")
        for a_, b_ in ((self, other), (other, self)):
            if a_.n_classes and not b_.n_classes and b_.n_samples:
                raise IncompatibleStatsError(
                    f"cannot merge statistics recorded with labels ({a_.n_samples} samples) and without labels "
                    f"({b_.n_samples} samples): the class counts would not cover every sample")

    def __add__(self, other: CoactivationStats) -> CoactivationStats:
        """Exact merge: counts of the union of two disjoint sets of samples."""
        self._check_same_neurons(other)
        if self.n_classes and other.n_classes and (self.classes.dtype.kind == "U") != (other.classes.dtype.kind == "U"):
            raise IncompatibleStatsError(f"cannot merge statistics with named classes and numbered classes: "
                                         f"{self.classes.tolist()[:5]} vs {other.classes.tolist()[:5]}")
        classes = np.union1d(self.classes, other.classes)
        if classes.dtype.kind != "U":
            classes = classes.astype(np.int64)
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
            self._check_same_neurons(other, reading=False)
        except IncompatibleStatsError:
            return False
        return (self.n_samples == other.n_samples and self.rule == other.rule
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
        every rank of ``group`` must call it (also as :func:`neurograph.all_reduce_stats`).
        """
        import torch

        from ._dist import collective_device, require_dist
        from .moments import all_gather_moments

        dist = require_dist()
        world = dist.get_world_size(group)
        device = collective_device(dist, group)
        info = {"layers": self.neurons["layer"].astype(str).tolist(), "units": self.neurons["unit"].tolist(),
                "reading": reading_of(self), "classes": self.classes.tolist(),
                "patterns": self.pattern_counts is not None, "moments": self.moments is not None}
        infos: list = [None] * world
        dist.all_gather_object(infos, info, group=group)
        for r, other in enumerate(infos):
            if other["layers"] != infos[0]["layers"] or other["units"] != infos[0]["units"]:
                raise IncompatibleStatsError(
                    f"cannot all-reduce statistics over different neurons: rank 0 has {len(infos[0]['units'])} "
                    f"neurons in layers {list(dict.fromkeys(infos[0]['layers']))}, rank {r} has "
                    f"{len(other['units'])} in {list(dict.fromkeys(other['layers']))}")
            problem = reading_mismatch(infos[0]["reading"], other["reading"], names=("rank 0", f"rank {r}"))
            if problem is not None:
                hint = (" (calibrate once and pass the thresholds, or record with distributed=True, which "
                        "calibrates over all ranks)" if problem.startswith("rule") else "")
                what = "firing rules" if hint else "readings"
                raise IncompatibleStatsError(
                    f"cannot all-reduce statistics made with different {what}: {problem}{hint}")
        kinds = {isinstance(c, str) for i in infos for c in i["classes"]}
        if len(kinds) > 1:
            raise IncompatibleStatsError("cannot all-reduce statistics with named classes on some ranks and numbered "
                                         "classes on others")
        classes = np.array(sorted(set().union(*(set(i["classes"]) for i in infos))),
                           dtype=str if kinds == {True} else np.int64)
        d, c = self.n_neurons, classes.shape[0]
        idx = np.searchsorted(classes, self.classes)
        cc = np.zeros(c, np.int64)
        cf = np.zeros((c, d), np.int64)
        cc[idx] = self.class_counts
        cf[idx] = self.class_fire_counts
        small = torch.from_numpy(np.concatenate([[self.n_samples], self.fire_counts, cc, cf.reshape(-1)])
                                 .astype(np.int64)).to(device)
        dist.all_reduce(small, op=dist.ReduceOp.SUM, group=group)
        small = small.cpu().numpy()
        n, fire, cc, cf = int(small[0]), small[1:1 + d], small[1 + d:1 + d + c], small[1 + d + c:].reshape(c, d)
        cofire = np.empty((d, d), np.int64)
        flat_in, flat_out = self.cofire_counts.reshape(-1), cofire.reshape(-1)
        for start in range(0, d * d, _CHUNK):
            part = torch.from_numpy(np.array(flat_in[start:start + _CHUNK], dtype=np.int64)).to(device)
            dist.all_reduce(part, op=dist.ReduceOp.SUM, group=group)
            flat_out[start:start + _CHUNK] = part.cpu().numpy()
        patterns = None
        if all(i["patterns"] for i in infos):
            gathered: list = [None] * world
            dist.all_gather_object(gathered, self.pattern_counts, group=group)
            patterns = {}
            for layer in self.layers:
                merged = Counter()
                for pc in gathered:
                    merged.update(pc.get(layer, {}))
                patterns[layer] = dict(merged)
        moments = None
        if all(i["moments"] for i in infos):
            moments = all_gather_moments(self.moments, world=world, device=device, group=group)
        return CoactivationStats(neurons=self.neurons, n_samples=n, fire_counts=fire, cofire_counts=cofire,
                                 classes=classes, class_counts=cc, class_fire_counts=cf, pattern_counts=patterns,
                                 rule=self.rule, meta=dict(self.meta), moments=moments)

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

        The statistics are checked first (the invariants :meth:`load` checks), so a file
        this writes is always one :meth:`load` reads back.

        Returns the path written.

        Raises
        ------
        DataError
            If the statistics break an invariant (nothing is written).
        """
        path = Path(path)
        problem = _stats_problem(self)
        if problem is not None:
            raise DataError(f"cannot save statistics to {str(path)!r}: {problem}")
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
        """Read statistics written by :meth:`save`, checking every invariant.

        Nothing in the file is unpickled (``allow_pickle=False``; the header is JSON). The
        file must hold exactly the members :meth:`save` writes, with integer counts, and the
        counts must be counts of one set of samples: every count between 0 and
        ``n_samples``; ``cofire_counts`` symmetric with ``fire_counts`` on its diagonal and
        ``max(0, f_i + f_j - n) <= cofire[i, j] <= min(f_i, f_j)``; one neuron-table row per
        neuron, no (layer, unit) twice; ``classes`` sorted and unique, each seen at least
        once, ``class_counts`` summing to ``n_samples`` and ``class_fire_counts`` between 0
        and the class's count, summing over classes to ``fire_counts``; pattern counts of
        recorded layers summing to ``n_samples``; the reading's fields in ``meta`` of the right
        types (:func:`reading_of`); moments of ``n_samples`` samples, finite,
        symmetric and positive semi-definite on the diagonal (see
        :func:`neurograph.moments.moments_problem`). The ``O(d^2)`` checks run in row
        blocks (vectorised), about as long as reading the file.

        Files of format version 1 (before the reading's ``mask`` and ``dtype`` were stored) load
        with those fields absent from ``meta``: they merge with other version-1 statistics, and
        merging them with a newer recording raises an error that names the missing field and
        how to set it.

        Before any array is read, the member names and the shapes and dtypes their ``.npy``
        headers declare are checked (:func:`neurograph.io.npzheaders.npz_headers`): an
        unexpected member, or a member declaring more elements than the ``d`` neurons of
        ``layer``, the ``c`` classes of ``classes`` and the header's ``n_samples`` imply, is
        refused without being inflated.

        Raises
        ------
        StatsFileError
            Naming the file and what is wrong: missing, a folder, not a neurograph
            statistics file, corrupt (a truncated archive, a member that fails to
            decompress), a format version this neurograph cannot read, a missing or
            unexpected member, a header field of the wrong type, or a broken invariant.
        """
        path = Path(path)
        name = str(path)
        _check_declared(path)  # member names and declared sizes, before any array is read
        data = read_npz(path, "statistics file", StatsFileError)

        def bad(msg: str) -> StatsFileError:
            return StatsFileError(f"statistics file {name!r} is invalid: {msg}")

        if "header" not in data:
            raise StatsFileError(f"{name!r} is not a neurograph statistics file (no header; members "
                                 f"{sorted(data)})")
        header = _json_header(data["header"])
        if not isinstance(header, dict):
            raise StatsFileError(f"{name!r} is not a neurograph statistics file (its header is not a JSON object)")
        if header.get("format") != FORMAT_NAME:
            raise StatsFileError(f"{name!r} is not a neurograph statistics file (format {header.get('format')!r})")
        if header.get("version") not in READ_VERSIONS or isinstance(header.get("version"), bool):
            raise StatsFileError(f"{name!r} has format version {header.get('version')!r}; this neurograph "
                                 f"reads versions {', '.join(map(str, READ_VERSIONS))}")
        unknown = sorted(set(header) - _HEADER_KEYS)
        if unknown:
            raise bad(f"unknown header field(s) {unknown}")
        n = header.get("n_samples")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 2**62:
            raise bad(f"header field 'n_samples' must be an int >= 0, got {n!r}")
        rule = header.get("rule", "positive")
        if not isinstance(rule, str):
            raise bad(f"header field 'rule' must be a string, got {rule!r}")
        meta = header.get("meta", {})
        meta = {} if meta is None else meta
        if not isinstance(meta, dict):
            raise bad(f"header field 'meta' must be a JSON object, got {type(meta).__name__}")
        pattern_layers = header.get("pattern_layers")
        if pattern_layers is not None and not (isinstance(pattern_layers, list)
                                               and all(isinstance(x, str) for x in pattern_layers)):
            raise bad(f"header field 'pattern_layers' must be null or a list of layer names, got {pattern_layers!r}")
        if pattern_layers is not None and len(set(pattern_layers)) != len(pattern_layers):
            raise bad(f"header field 'pattern_layers' names a layer twice: {pattern_layers}")

        expected = set(_REQUIRED_MEMBERS)
        if pattern_layers is not None:
            expected |= {f"pattern_{kind}_{i}" for i in range(len(pattern_layers)) for kind in ("keys", "vals")}
        has_moments = any(k.startswith("moments_") for k in data)
        if has_moments:
            expected |= set(_MOMENT_MEMBERS)
        missing, extra = sorted(expected - set(data)), sorted(set(data) - expected)
        if missing:
            raise StatsFileError(f"statistics file {name!r} is incomplete: missing member(s) {missing}")
        if extra:
            raise bad(f"unexpected member(s) {extra}")

        layer = data["layer"]
        if layer.ndim != 1 or layer.dtype.kind != "U":
            raise bad(f"member 'layer' must be a 1-D array of strings, got dtype {layer.dtype} shape {layer.shape}")
        ints = {}
        for key in ("unit", "fire_counts", "cofire_counts", "class_counts", "class_fire_counts"):
            ints[key] = _int_member(data, key, bad)
        named = data["classes"]
        ints["classes"] = named if named.dtype.kind == "U" else _int_member(data, "classes", bad)
        d = layer.shape[0]
        if ints["unit"].shape != (d,):
            raise bad(f"the neuron table has {d} layer names but {ints['unit'].shape} units")
        neurons = pd.DataFrame({"layer": layer.astype(str).tolist(), "unit": ints["unit"]})
        patterns = None
        if pattern_layers is not None:
            patterns = {}
            for i, lname in enumerate(pattern_layers):
                keys, vals = data[f"pattern_keys_{i}"], data[f"pattern_vals_{i}"]
                if keys.ndim != 1 or keys.dtype != np.uint64:
                    raise bad(f"member 'pattern_keys_{i}' must be a 1-D uint64 array, got dtype {keys.dtype} "
                              f"shape {keys.shape}")
                vals = _int_member(data, f"pattern_vals_{i}", bad)
                if vals.shape != keys.shape:
                    raise bad(f"members 'pattern_keys_{i}' and 'pattern_vals_{i}' differ in length "
                              f"({keys.shape[0]} vs {vals.shape[0]})")
                patterns[lname] = dict(zip(keys.tolist(), vals.tolist()))
                if len(patterns[lname]) != keys.shape[0]:
                    raise bad(f"member 'pattern_keys_{i}' (layer {lname!r}) lists a pattern twice")
        moments = None
        if has_moments:
            mn, mean, com = data["moments_n"], data["moments_mean"], data["moments_comoment"]
            if mn.shape != () or mn.dtype.kind not in "iu":
                raise bad(f"member 'moments_n' must be an integer scalar, got dtype {mn.dtype} shape {mn.shape}")
            problem = moments_problem(int(mn), mean, com)
            if problem is not None:
                raise bad(problem)
            moments = ActivationMoments(int(mn), mean.astype(np.float64), com.astype(np.float64))
        stats = cls(neurons=neurons, n_samples=n, fire_counts=ints["fire_counts"],
                    cofire_counts=ints["cofire_counts"], classes=ints["classes"],
                    class_counts=ints["class_counts"], class_fire_counts=ints["class_fire_counts"],
                    pattern_counts=patterns, rule=rule, meta=meta, moments=moments)
        problem = _stats_problem(stats, check_moments=False)
        if problem is not None:
            raise bad(problem)
        return stats


# ---------------------------------------------------------------------- checks

_HEADER_KEYS = {"format", "version", "n_samples", "rule", "meta", "pattern_layers"}
_REQUIRED_MEMBERS = ("header", "layer", "unit", "fire_counts", "cofire_counts", "classes", "class_counts",
                     "class_fire_counts")
_MOMENT_MEMBERS = ("moments_n", "moments_mean", "moments_comoment")
_BLOCK_ELEMENTS = 1 << 20  # entries of a (d, d) matrix checked at once: bounds the checks' extra memory


_MAX_HEADER_CHARS = 1 << 24  # the JSON header member (meta included): at most 16 Mi characters
_MAX_NAME_CHARS = 4096  # one layer name or class name
_D_MEMBERS = ("unit", "fire_counts", "moments_mean")  # (d,) each; "layer" defines d


def _check_declared(path: Path) -> None:
    """StatsFileError unless the archive's members and declared sizes are what a statistics file holds.

    Reads the zip directory and the ``.npy`` headers only (plus the JSON header member, once its
    declared size is checked), so nothing large is inflated before it is known to be expected:
    members are only those :meth:`CoactivationStats.save` writes, and none declares more
    elements than ``d = len(layer)`` and ``c = len(classes)`` imply (pattern tables: at most
    ``n_samples`` entries). Smaller or otherwise wrong members are left to the full checks.
    """
    from .io.npzheaders import npz_headers

    name = str(path)
    heads = npz_headers(path, "statistics file", StatsFileError)
    if heads is None or "header" not in heads:
        return  # not a zip, or no header: read_npz and load report it as before

    def bad(msg: str) -> StatsFileError:
        return StatsFileError(f"statistics file {name!r} is invalid: {msg}")

    known = set(_REQUIRED_MEMBERS) | set(_MOMENT_MEMBERS)
    extra = sorted(m for m in heads if m not in known and not _pattern_member(m))
    if extra:
        raise bad(f"unexpected member(s) {extra}")

    def declares(m: str) -> str:
        h = heads[m]
        return f"member {m!r} declares shape {h.shape} dtype {h.dtype} ({h.nbytes:,} bytes)"

    header = heads["header"]
    if header.dtype.kind == "U" and header.size * header.dtype.itemsize // 4 > _MAX_HEADER_CHARS:
        raise bad(f"{declares('header')}; a header holds at most {_MAX_HEADER_CHARS:,} characters")
    for m in ("layer", "classes"):
        h = heads.get(m)
        if h is not None and h.dtype.kind == "U" and h.dtype.itemsize // 4 > _MAX_NAME_CHARS:
            raise bad(f"{declares(m)}; a name holds at most {_MAX_NAME_CHARS:,} characters")
    if "layer" not in heads or len(heads["layer"].shape) != 1:
        return  # load reports it
    d = heads["layer"].shape[0]
    c = heads["classes"].shape[0] if "classes" in heads and len(heads["classes"].shape) == 1 else 0
    implied = {**dict.fromkeys(_D_MEMBERS, d), "cofire_counts": d * d, "moments_comoment": d * d,
               "class_counts": c, "class_fire_counts": c * d, "moments_n": 1}
    for m, most in implied.items():
        if m in heads and heads[m].size > most:
            what = "the neuron table" if most == d else f"the neuron table ({d} neurons) and {c} classes"
            raise bad(f"{declares(m)}, more elements than {what} imply ({most:,})")
    patterns = [m for m in heads if _pattern_member(m)]
    if patterns:
        n, n_layers = _declared_patterns(path)
        if n_layers is not None:
            extra = sorted(m for m in patterns if int(m.rpartition("_")[2]) >= n_layers)
            if extra:
                raise bad(f"unexpected member(s) {extra}")
        for m in sorted(patterns):
            if n is not None and heads[m].size > n:
                raise bad(f"{declares(m)}, more patterns than the {n:,} samples of the header")


def _pattern_member(m: str) -> bool:
    kind, _, index = m.rpartition("_")
    return kind in ("pattern_keys", "pattern_vals") and index.isdigit() and len(index) < 7


def _declared_patterns(path: Path) -> tuple[int | None, int | None]:
    """``n_samples`` and the number of ``pattern_layers`` of the JSON header member (read alone, its size
    already checked); None for what the header does not state validly (load reports it)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf, zf.open("header.npy") as fp:
            value = _json_header(np.lib.format.read_array(fp, allow_pickle=False))
    except Exception:  # noqa: BLE001 - a corrupt header member: read_npz and load report it
        return None, None
    if not isinstance(value, dict):
        return None, None
    n, layers = value.get("n_samples"), value.get("pattern_layers")
    n = n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None
    return n, (len(layers) if isinstance(layers, list) else 0 if layers is None else None)


def _json_header(arr: np.ndarray):
    """The JSON value of a 0-d string array, or None when it is not one."""
    if not isinstance(arr, np.ndarray) or arr.shape != () or arr.dtype.kind != "U":
        return None
    try:
        return json.loads(str(arr))
    except (ValueError, RecursionError):
        return None


def _int_member(data: dict, key: str, bad) -> np.ndarray:
    arr = data[key]
    if arr.dtype.kind not in "iu":
        raise bad(f"member {key!r} must hold integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise bad(f"member {key!r} holds values beyond the int64 range")
    return arr.astype(np.int64)


def _stats_problem(s: CoactivationStats, *, check_moments: bool = True) -> str | None:
    """What breaks an invariant of ``s`` (see :meth:`CoactivationStats.load`), or None when nothing does."""
    n = s.n_samples
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        return f"n_samples must be an int >= 0, got {n!r}"
    if not isinstance(s.rule, str):
        return f"rule must be a string, got {s.rule!r}"
    if not isinstance(s.meta, dict):
        return f"meta must be a dict, got {type(s.meta).__name__}"
    problem = _reading_problem(s.meta)
    if problem is not None:
        return problem
    if not isinstance(s.classes, np.ndarray) or s.classes.ndim != 1 or s.classes.dtype.kind not in "iuU":
        what = f"dtype {s.classes.dtype} shape {s.classes.shape}" if isinstance(s.classes, np.ndarray) else \
            type(s.classes).__name__
        return f"classes must be a 1-D array of integer labels or of names (str), got {what}"
    arrays = {"fire_counts": (s.fire_counts, 1), "cofire_counts": (s.cofire_counts, 2),
              "class_counts": (s.class_counts, 1), "class_fire_counts": (s.class_fire_counts, 2)}
    for key, (arr, ndim) in arrays.items():
        if not isinstance(arr, np.ndarray) or arr.ndim != ndim or arr.dtype.kind not in "iu":
            what = f"dtype {arr.dtype} shape {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
            return f"{key} must be a {ndim}-D integer array, got {what}"
    fire, cofire = s.fire_counts, s.cofire_counts
    d = fire.shape[0]
    nb = s.neurons
    if not isinstance(nb, pd.DataFrame) or list(nb.columns) != ["layer", "unit"]:
        return "the neuron table must be a DataFrame with columns ['layer', 'unit']"
    if len(nb) != d:
        return f"the neuron table has {len(nb)} rows but there are {d} fire counts"
    units = nb["unit"].to_numpy()
    if units.dtype.kind not in "iu" or (units.size and units.min() < 0):
        return "the neuron table's units must be integers >= 0"
    if not all(isinstance(x, str) for x in nb["layer"].tolist()):
        return "the neuron table's layer names must be strings"
    dup = nb.duplicated()
    if dup.any():
        r = nb[dup.to_numpy()].iloc[0]
        return f"the neuron table lists neuron (layer {r['layer']!r}, unit {int(r['unit'])}) twice"
    if fire.size and (fire.min() < 0 or fire.max() > n):
        i = int(np.flatnonzero((fire < 0) | (fire > n))[0])
        return f"fire_counts[{i}] = {int(fire[i])} is outside [0, n_samples = {n}]"
    if cofire.shape != (d, d):
        return f"cofire_counts has shape {cofire.shape}, expected ({d}, {d}) for {d} neurons"
    diag = np.diagonal(cofire)
    if not np.array_equal(diag, fire):
        i = int(np.flatnonzero(diag != fire)[0])
        return f"cofire_counts[{i}, {i}] = {int(diag[i])} differs from fire_counts[{i}] = {int(fire[i])}"
    step = max(1, _BLOCK_ELEMENTS // max(d, 1))
    for a in range(0, d, step):
        b = min(d, a + step)
        blk = cofire[a:b]
        asym = blk != cofire[:, a:b].T
        if asym.any():
            i, j = np.argwhere(asym)[0]
            return (f"cofire_counts is not symmetric: [{a + i}, {j}] = {int(blk[i, j])} but "
                    f"[{j}, {a + i}] = {int(cofire[j, a + i])}")
        hi = np.minimum(fire[a:b, None], fire[None, :])
        over = blk > hi
        if over.any():
            i, j = np.argwhere(over)[0]
            return (f"cofire_counts[{a + i}, {j}] = {int(blk[i, j])} exceeds min(fire_counts[{a + i}], "
                    f"fire_counts[{j}]) = {int(hi[i, j])}")
        lo = np.maximum(fire[a:b, None] + fire[None, :] - n, 0)
        under = blk < lo
        if under.any():
            i, j = np.argwhere(under)[0]
            return (f"cofire_counts[{a + i}, {j}] = {int(blk[i, j])} is below max(0, fire_counts[{a + i}] + "
                    f"fire_counts[{j}] - n_samples) = {int(lo[i, j])}")
    classes, cc, cf = s.classes, s.class_counts, s.class_fire_counts
    c = classes.shape[0]
    if c > 1 and np.any(classes[1:] <= classes[:-1]):
        return f"classes must be sorted and unique, got {classes.tolist()[:20]}"
    if cc.shape != (c,):
        return f"class_counts has shape {cc.shape}, expected ({c},) for {c} classes"
    if cf.shape != (c, d):
        return f"class_fire_counts has shape {cf.shape}, expected ({c}, {d}) for {c} classes and {d} neurons"
    if c:
        if cc.min() < 1:
            k = int(np.argmin(cc))
            return f"class_counts[{k}] = {int(cc[k])} (class {classes[k].item()!r}): a listed class must have samples"
        if int(cc.sum()) != n:
            return f"class_counts sum to {int(cc.sum())} but n_samples is {n}"
        if cf.size and cf.min() < 0:
            k, i = np.argwhere(cf < 0)[0]
            return f"class_fire_counts[{k}, {i}] = {int(cf[k, i])} is negative"
        over = cf > cc[:, None]
        if over.any():
            k, i = np.argwhere(over)[0]
            return (f"class_fire_counts[{k}, {i}] = {int(cf[k, i])} exceeds class_counts[{k}] = {int(cc[k])} "
                    f"(class {classes[k].item()!r})")
        total = cf.sum(axis=0)
        if not np.array_equal(total, fire):
            i = int(np.flatnonzero(total != fire)[0])
            return (f"class_fire_counts[:, {i}] sums to {int(total[i])} over the classes but "
                    f"fire_counts[{i}] = {int(fire[i])}")
    if s.pattern_counts is not None:
        if not isinstance(s.pattern_counts, dict):
            return f"pattern_counts must be a dict or None, got {type(s.pattern_counts).__name__}"
        layers = set(nb["layer"].tolist())
        for lname, counts in s.pattern_counts.items():
            if lname not in layers:
                return f"pattern_counts has patterns of layer {lname!r}, which has no neurons here"
            vals = list(counts.values())
            if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in vals):
                return f"pattern_counts of layer {lname!r} must be counts >= 1"
            if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < 2**64
                   for k in counts):
                return f"pattern_counts keys of layer {lname!r} must be 64-bit pattern hashes (ints in [0, 2^64))"
            if sum(int(v) for v in vals) != n:
                return (f"pattern_counts of layer {lname!r} sum to {sum(int(v) for v in vals)} but "
                        f"n_samples is {n}")
    if s.moments is not None:
        if not isinstance(s.moments, ActivationMoments):
            return f"moments must be ActivationMoments or None, got {type(s.moments).__name__}"
        if s.moments.n_samples != n:
            return f"the moments count {s.moments.n_samples} samples but the counts {n}"
        if s.moments.n_neurons != d:
            return f"the moments have {s.moments.n_neurons} neurons but the counts {d}"
        if check_moments:
            problem = moments_problem(s.moments.n_samples, s.moments.mean, s.moments.comoment)
            if problem is not None:
                return problem
    return None


# ---------------------------------------------------------------------- the reading


def reading_of(stats: CoactivationStats) -> dict:
    """How the counts of ``stats`` were read, as merging compares it.

    ``{"rule": stats.rule}`` plus each field of :data:`READING_FIELDS` that ``stats.meta`` records:
    ``positions`` and ``neuron_axis`` (per recorded layer with positions, ``{site: value}``,
    restricted to the layers of ``stats``), ``mask`` (the padding-mask key, None, or
    ``{"callable": qualified name}``), ``dtype`` (the model's parameter dtype, e.g.
    ``"float32"``) and ``per_position`` (gates recorded one neuron per position, see
    :func:`neurograph.gating.record_gates`). A field that is absent was not recorded (statistics made by
    :meth:`CoactivationStats.from_binary`, or a file of format version 1, which stored no
    ``mask`` and ``dtype``).

    Examples
    --------
    >>> import numpy as np
    >>> reading_of(CoactivationStats.from_binary(np.eye(2, dtype=np.uint8)))
    {'rule': 'positive'}
    """
    layers = set(stats.layers)
    meta = stats.meta if isinstance(stats.meta, dict) else {}
    out: dict = {"rule": stats.rule}
    for key in READING_FIELDS:
        if key not in meta:
            continue
        value = meta[key]
        if key in _PER_SITE_FIELDS and isinstance(value, dict):
            value = {site: v for site, v in value.items() if site in layers}
        out[key] = value
    return out


def reading_mismatch(a: dict, b: dict, *, names: tuple[str, str] = ("the first", "the second")) -> str | None:
    """The first field in which readings ``a`` and ``b`` (of :func:`reading_of`) differ, or None.

    The text names the field, the layer for per-layer fields, and both values, e.g.
    ``"positions of layer 'conv' differ: 'mean' in the first vs 'all' in the second"``.

    Examples
    --------
    >>> reading_mismatch({"rule": "positive"}, {"rule": "threshold(0.5)"})
    "rule differs: 'positive' in the first vs 'threshold(0.5)' in the second"
    """
    for key in ("rule", *READING_FIELDS):
        if key not in a and key not in b:
            continue
        if (key in a) != (key in b):
            has, lacks = (names[0], names[1]) if key in a else (names[1], names[0])
            value = a[key] if key in a else b[key]
            return (f"{key} is {value!r} in {has} but was not recorded in {lacks} (statistics from from_binary, "
                    f"a file of format version 1, or made without {key}); if they were read the same way, set meta[{key!r}] of "
                    f"{lacks} to {value!r} (dataclasses.replace) and merge again")
        va, vb = a[key], b[key]
        if key in _PER_SITE_FIELDS and isinstance(va, dict) and isinstance(vb, dict):
            for site in list(va) + [x for x in vb if x not in va]:
                if site not in va or site not in vb or va[site] != vb[site]:
                    return (f"{key} of layer {site!r} differ: {va.get(site, 'none (no positions)')!r} in "
                            f"{names[0]} vs {vb.get(site, 'none (no positions)')!r} in {names[1]}")
        elif va != vb:
            return f"{key} differs: {va!r} in {names[0]} vs {vb!r} in {names[1]}"
    return None


def _reading_problem(meta: dict) -> str | None:
    """What is wrong with the reading fields of ``meta`` (types and values), or None."""
    from .recording.reading import POSITIONS

    for key in _PER_SITE_FIELDS:
        if key not in meta:
            continue
        value = meta[key]
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            return f"meta[{key!r}] must be a dict {{layer: value}}, got {value!r}"
        for site, v in value.items():
            if key == "positions" and v not in POSITIONS:
                return f"meta['positions'][{site!r}] must be one of {list(POSITIONS)}, got {v!r}"
            if key == "neuron_axis" and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
                return f"meta['neuron_axis'][{site!r}] must be an int >= 1 (axis 0 is the batch), got {v!r}"
    if "mask" in meta:
        m = meta["mask"]
        if not (m is None or isinstance(m, str) or (isinstance(m, dict) and list(m) == ["callable"]
                                                    and isinstance(m["callable"], str))):
            return f"meta['mask'] must be a dict key (str), None or {{'callable': name}}, got {m!r}"
    if "per_position" in meta and not isinstance(meta["per_position"], bool):
        return f"meta['per_position'] must be true or false, got {meta['per_position']!r}"
    if "dtype" in meta and not (meta["dtype"] is None or isinstance(meta["dtype"], str)):
        return f"meta['dtype'] must be a dtype name (str) or None, got {meta['dtype']!r}"
    return None
