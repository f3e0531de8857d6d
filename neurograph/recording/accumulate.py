"""Pattern counts and the assembly of :class:`~neurograph.stats.CoactivationStats` after a counting pass."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter

import numpy as np
import pandas as pd
import torch

from ..stats import CoactivationStats

log = logging.getLogger(__name__)


class PatternCounter:
    """Counts of each site's whole binary firing pattern (hashed to 64 bits), for pattern entropy."""

    def __init__(self, widths: list[int]) -> None:
        self.widths = widths
        self.counters = [Counter() for _ in widths]

    def add(self, fired: torch.Tensor) -> None:
        bits = fired.cpu().numpy()
        start = 0
        for counter, width in zip(self.counters, self.widths):
            packed = np.packbits(bits[:, start:start + width], axis=1)
            start += width
            rows = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1])))[:, 0]
            uniq, counts = np.unique(rows, return_counts=True)
            for u, c in zip(uniq, counts):
                key = int.from_bytes(hashlib.blake2b(u.tobytes(), digest_size=8).digest(), "little")
                counter[key] += int(c)

    def result(self, names: list[str]) -> dict[str, dict[int, int]]:
        return {name: dict(c) for name, c in zip(names, self.counters)}


def neuron_table(sites) -> pd.DataFrame:
    """One row per recorded neuron: ``layer`` (the site name) and ``unit``."""
    return pd.concat([pd.DataFrame({"layer": s.name, "unit": np.arange(s.units, dtype=np.int64)}) for s in sites],
                     ignore_index=True)


def build_stats(p, *, rule: str, meta: dict, patterns: PatternCounter | None = None,
                moments=None) -> CoactivationStats:
    """CoactivationStats from a finished :class:`~neurograph._firing.Pass` with a GramAccumulator."""
    gram = p.acc
    cofire = gram.result().cpu().numpy()
    log.debug("record: %d rows counted per kernel %s", gram.n, gram.kernel_rows)
    d = cofire.shape[0]
    classes, cc, cf = p.classes.result(gram.class_fire, d)
    names = [s.name for s in p.sites]
    return CoactivationStats(
        neurons=neuron_table(p.sites), n_samples=int(gram.n), fire_counts=np.diagonal(cofire).copy(),
        cofire_counts=cofire, classes=classes, class_counts=cc, class_fire_counts=cf,
        pattern_counts=None if patterns is None else patterns.result(names), rule=rule, meta=meta,
        moments=None if moments is None else moments.result())
