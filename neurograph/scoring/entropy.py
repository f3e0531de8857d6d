"""Predictability of neurons: firing entropy and mutual information with the class, in bits.

Every quantity here is computed from the counts of a
:class:`~neurograph.stats.CoactivationStats` alone (no raw activations), vectorised
over neurons so that tens of thousands of neurons cost a few array operations.

Definitions (all logarithms base 2, so every value is in **bits**). Neuron ``i`` fires
on a sample with probability ``p = fire_counts[i] / n_samples``; its firing ``F`` is a
Bernoulli(p) variable and ``C`` is the class label.

- entropy ``H(F) = h(p) = -p log2 p - (1 - p) log2 (1 - p)``, with ``h(0) = h(1) = 0``.
  ``0 <= H <= 1``; 1 bit means the neuron fires on exactly half the samples (least
  predictable), 0 means it never or always fires (dead / always on: it carries no
  information at all).
- class-conditional entropy ``H(F | C) = sum_c P(c) h(p_c)`` with
  ``p_c = class_fire_counts[c, i] / class_counts[c]`` and ``P(c)`` the class frequency.
  ``0 <= H(F|C) <= H(F)``; low means that once the class is known the neuron is
  predictable.
- mutual information ``I(F; C) = H(F) - H(F | C)``.
  ``0 <= I <= min(H(F), log2 c)`` for ``c`` classes; high means the neuron's firing
  tells much about the class (a class detector); ``I = H(F)`` means its firing is a
  function of the class.
- pattern entropy of a layer: the Shannon entropy of the distribution of whole-layer
  binary firing patterns, ``-sum_x P(x) log2 P(x)``, at most ``log2 n_samples`` (every
  sample shows a different pattern) and at most the layer's number of neurons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import entr

from ..errors import DataError
from ..stats import CoactivationStats

__all__ = ["layer_entropy", "neuron_entropy"]

_LN2 = float(np.log(2.0))

STATUS_OK = "ok"
STATUS_DEAD = "dead"
STATUS_ALWAYS_ON = "always_on"


def neuron_entropy(stats: CoactivationStats) -> pd.DataFrame:
    """Firing entropy and mutual information with the class of every neuron, in bits.

    Parameters
    ----------
    stats : CoactivationStats
        Counts over ``d`` neurons and ``n_samples > 0`` samples.

    Returns
    -------
    pandas.DataFrame, shape (d, 7)
        One row per neuron, in the order of ``stats.neurons``; the index, named
        ``neuron``, is the neuron index (row of ``stats.neurons``), which lets
        :func:`neurograph.io.export_gexf` join the table onto graph nodes. Columns:

        - ``layer`` (str), ``unit`` (int): as in ``stats.neurons``;
        - ``fire_prob`` (float): ``p = fire_counts / n_samples``, in [0, 1];
        - ``entropy`` (float, bits): ``H(F) = h(p)``, in [0, 1];
        - ``cond_entropy`` (float, bits): ``H(F | C)``, in [0, H]; NaN when the
          statistics were recorded without labels;
        - ``mutual_info`` (float, bits): ``I(F; C) = H(F) - H(F | C)``, in
          ``[0, min(H, log2 c)]`` (round-off below 0 is clipped to 0); NaN without labels;
        - ``status`` (str): ``"dead"`` (never fired), ``"always_on"`` (fired on every
          sample) or ``"ok"``.

        See the module docstring for the definitions. ``mutual_info`` and
        ``cond_entropy`` use the labelled samples (``class_counts``); when these are
        all the samples, as with :func:`neurograph.record`, ``H(F)`` over them is the
        ``entropy`` column and ``mutual_info <= entropy`` holds exactly.

    Raises
    ------
    DataError
        If ``stats`` counts no samples or its counts are inconsistent.

    Examples
    --------
    >>> import numpy as np
    >>> from neurograph.stats import CoactivationStats
    >>> fired = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1], [0, 1, 0]])
    >>> s = CoactivationStats.from_binary(fired, labels=[0, 0, 1, 1])
    >>> t = neuron_entropy(s)
    >>> t[["fire_prob", "entropy", "mutual_info"]].round(3).values.tolist()
    [[0.5, 1.0, 1.0], [0.5, 1.0, 0.0], [0.5, 1.0, 0.0]]
    >>> t["status"].tolist()
    ['ok', 'ok', 'ok']
    """
    n, fire = _checked_counts(stats)
    p = fire / float(n)
    h = _binary_entropy(p)
    cond = _conditional_entropy(stats)
    if cond is None:
        cond = np.full(p.shape[0], np.nan)
        mi = np.full(p.shape[0], np.nan)
    else:
        cond, h_labelled = cond
        mi = np.maximum(h_labelled - cond, 0.0)
    status = np.full(p.shape[0], STATUS_OK, dtype=object)
    status[fire == 0] = STATUS_DEAD
    status[fire == n] = STATUS_ALWAYS_ON
    table = pd.DataFrame({
        "layer": stats.neurons["layer"].to_numpy(),
        "unit": stats.neurons["unit"].to_numpy(np.int64),
        "fire_prob": p,
        "entropy": h,
        "cond_entropy": cond,
        "mutual_info": mi,
        "status": status.astype(str),
    })
    table.index.name = "neuron"
    return table


def layer_entropy(stats: CoactivationStats) -> pd.DataFrame:
    """Per-layer summary of neuron entropies and of whole-layer firing-pattern entropy, in bits.

    Parameters
    ----------
    stats : CoactivationStats
        Counts over ``n_samples > 0`` samples; ``pattern_counts`` is used when recorded.

    Returns
    -------
    pandas.DataFrame, shape (n_layers, 9)
        One row per layer, in recording order (``stats.layers``), with columns

        - ``layer`` (str), ``n_neurons`` (int);
        - ``mean_entropy`` (bits, in [0, 1]): mean of :func:`neuron_entropy`'s ``entropy``;
        - ``mean_mutual_info`` (bits): mean ``mutual_info``; NaN without labels;
        - ``dead_fraction``, ``always_on_fraction`` (in [0, 1]): share of the layer's
          neurons that never / always fired;
        - ``pattern_entropy`` (bits): Shannon entropy of the distribution of the layer's
          binary firing patterns (``stats.pattern_counts[layer]``), in
          ``[0, min(log2 n_samples, n_neurons)]``; high means the layer's code uses many
          distinct, evenly used patterns; NaN when patterns were not recorded;
        - ``n_patterns`` (float): number of distinct patterns seen; NaN when not recorded
          (float so that it can hold NaN);
        - ``max_pattern_entropy`` (bits): ``log2 n_samples``, the pattern entropy if
          every sample showed its own pattern, for reference.

    Raises
    ------
    DataError
        If ``stats`` counts no samples or its counts are inconsistent.

    Examples
    --------
    >>> import numpy as np
    >>> from neurograph.stats import CoactivationStats
    >>> s = CoactivationStats.from_binary(np.array([[1, 0], [0, 1], [1, 1], [0, 0]]))
    >>> row = layer_entropy(s).iloc[0]
    >>> float(row["mean_entropy"]), float(row["max_pattern_entropy"])
    (1.0, 2.0)
    """
    per_neuron = neuron_entropy(stats)
    n = int(stats.n_samples)
    rows = []
    for layer in stats.layers:
        part = per_neuron[per_neuron["layer"] == layer]
        pattern_h, n_patterns = np.nan, np.nan
        if stats.pattern_counts is not None and layer in stats.pattern_counts:
            pattern_h, n_patterns = _pattern_entropy(stats.pattern_counts[layer], layer)
        rows.append({
            "layer": layer,
            "n_neurons": int(len(part)),
            "mean_entropy": float(part["entropy"].mean()),
            "mean_mutual_info": float(part["mutual_info"].mean()),
            "dead_fraction": float((part["status"] == STATUS_DEAD).mean()),
            "always_on_fraction": float((part["status"] == STATUS_ALWAYS_ON).mean()),
            "pattern_entropy": pattern_h,
            "n_patterns": n_patterns,
            "max_pattern_entropy": float(np.log2(n)),
        })
    columns = ["layer", "n_neurons", "mean_entropy", "mean_mutual_info", "dead_fraction",
               "always_on_fraction", "pattern_entropy", "n_patterns", "max_pattern_entropy"]
    table = pd.DataFrame(rows, columns=columns)
    table["n_neurons"] = table["n_neurons"].astype(np.int64)
    for col in columns[2:]:
        table[col] = table[col].astype(np.float64)
    return table


# ---------------------------------------------------------------------- helpers
def _binary_entropy(p: np.ndarray) -> np.ndarray:
    """``h(p)`` in bits, elementwise, 0 at p in {0, 1}, clipped to [0, 1]."""
    return np.clip((entr(p) + entr(1.0 - p)) / _LN2, 0.0, 1.0)


def _checked_counts(stats) -> tuple[int, np.ndarray]:
    if not isinstance(stats, CoactivationStats):
        raise DataError(f"stats must be a CoactivationStats, got {type(stats).__name__}")
    n = int(stats.n_samples)
    if n <= 0:
        raise DataError(f"stats counts {n} samples; entropies need at least one sample")
    fire = np.asarray(stats.fire_counts, dtype=np.int64)
    if fire.ndim != 1 or fire.shape[0] != len(stats.neurons):
        raise DataError(f"stats.fire_counts has shape {fire.shape} but stats.neurons has "
                        f"{len(stats.neurons)} rows")
    if fire.size and (fire.min() < 0 or fire.max() > n):
        raise DataError(f"stats.fire_counts must lie in [0, n_samples={n}], "
                        f"got range [{fire.min()}, {fire.max()}]")
    return n, fire


def _conditional_entropy(stats: CoactivationStats) -> tuple[np.ndarray, np.ndarray] | None:
    """``(H(F|C), H(F) over the labelled samples)``, each (d,) in bits; None without labels.

    Loops over classes (few) and vectorises over neurons (many), so memory stays O(d).
    """
    cc = np.asarray(stats.class_counts, dtype=np.int64)
    cf = np.asarray(stats.class_fire_counts, dtype=np.int64)
    d = stats.n_neurons
    if cc.size == 0 or cc.sum() == 0:
        return None
    if cf.shape != (cc.shape[0], d):
        raise DataError(f"stats.class_fire_counts has shape {cf.shape}, expected "
                        f"({cc.shape[0]}, {d}) for {cc.shape[0]} classes and {d} neurons")
    if cc.min() < 0 or (cf < 0).any() or (cf > cc[:, None]).any():
        raise DataError("stats.class_fire_counts must lie in [0, class_counts] for every class")
    total = float(cc.sum())
    cond = np.zeros(d)
    for k in np.flatnonzero(cc):
        cond += (cc[k] / total) * _binary_entropy(cf[k] / float(cc[k]))
    h_labelled = _binary_entropy(cf.sum(0) / total)
    return cond, h_labelled


def _pattern_entropy(counts: dict, layer: str) -> tuple[float, float]:
    """Shannon entropy (bits) of a ``{pattern: count}`` table and its number of patterns."""
    c = np.fromiter((int(v) for v in counts.values()), dtype=np.float64, count=len(counts))
    if (c < 0).any():
        raise DataError(f"stats.pattern_counts[{layer!r}] holds negative counts")
    c = c[c > 0]
    if c.size == 0:
        return np.nan, 0.0
    q = c / c.sum()
    return float(max(entr(q).sum() / _LN2, 0.0)), float(c.size)
