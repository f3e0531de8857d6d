"""Running counts of :func:`neurograph.record.record`: on the batches' device, to numpy at the end."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter

import numpy as np
import pandas as pd
import torch

from . import _kernels
from .moments import MomentAccumulator
from .stats import CoactivationStats

log = logging.getLogger(__name__)


class Accumulator:
    """Counts (exact, int64), per-class counts, optional pattern counts and optional float64 moments.

    Memory: ``O(d^2)`` for the co-firing counts (and moments), ``O(buffer)`` for the row buffers;
    nothing grows with the number of samples except the pattern dictionaries.
    """

    def __init__(self, *, patterns: bool, moments: bool = False, kernel: str = "auto") -> None:
        self.n = 0
        self.gram: _kernels.GramAccumulator | None = None
        self.moments: MomentAccumulator | None = None
        self.want_moments = moments
        self.kernel = kernel
        self.class_index: dict[int, int] = {}
        self.class_counts: torch.Tensor | None = None
        self.patterns: list[Counter] | None = [] if patterns else None
        self.layer_sizes: list[int] = []

    def add(self, fired: torch.Tensor, labels: torch.Tensor | None, values: torch.Tensor | None = None) -> None:
        n, d = fired.shape
        dev = fired.device
        if self.gram is None:
            self.gram = _kernels.GramAccumulator(d, device=dev, kernel=self.kernel)
            self.class_counts = torch.zeros(0, dtype=torch.int64, device=dev)
            if self.want_moments:
                self.moments = MomentAccumulator(d, device=dev)
        self.n += n
        if self.moments is not None and values is not None:
            self.moments.add(values)
        rows = None
        if labels is not None:
            labels = labels.to(dev).contiguous()
            uniq = torch.unique(labels).tolist()
            new = [c for c in uniq if c not in self.class_index]
            if new:
                for c in new:
                    self.class_index[c] = len(self.class_index)
                grow = len(new)
                self.class_counts = torch.cat([self.class_counts, torch.zeros(grow, dtype=torch.int64, device=dev)])
            lut = torch.tensor([self.class_index[c] for c in uniq], dtype=torch.int64, device=dev)
            rows = lut[torch.searchsorted(torch.tensor(uniq, device=dev), labels)]
            self.class_counts += torch.bincount(rows, minlength=len(self.class_index))
        self.gram.add(fired, rows)
        if self.patterns is not None:
            self._add_patterns(fired)

    def _add_patterns(self, fired: torch.Tensor) -> None:
        bits = fired.cpu().numpy()
        start = 0
        for i, width in enumerate(self.layer_sizes):
            if len(self.patterns) <= i:
                self.patterns.append(Counter())
            packed = np.packbits(bits[:, start:start + width], axis=1)
            start += width
            rows = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1])))[:, 0]
            uniq, counts = np.unique(rows, return_counts=True)
            counter = self.patterns[i]
            for u, c in zip(uniq, counts):
                key = int.from_bytes(hashlib.blake2b(u.tobytes(), digest_size=8).digest(), "little")
                counter[key] += int(c)

    def result(self, neurons: pd.DataFrame, rule: str, layer_names: list[str], meta: dict) -> CoactivationStats:
        cofire = self.gram.result()
        class_fire = self.gram.class_fire
        log.debug("record: %d rows counted per kernel %s", self.n, self.gram.kernel_rows)
        cofire = cofire.cpu().numpy()
        order = sorted(self.class_index)
        perm = [self.class_index[c] for c in order]
        patterns = None
        if self.patterns is not None:
            patterns = {name: dict(c) for name, c in zip(layer_names, self.patterns)}
        d = cofire.shape[0]
        return CoactivationStats(
            neurons=neurons, n_samples=int(self.n), fire_counts=np.diagonal(cofire).copy(),
            cofire_counts=cofire, classes=np.asarray(order, dtype=np.int64),
            class_counts=self.class_counts[perm].cpu().numpy() if perm else np.zeros(0, np.int64),
            class_fire_counts=(class_fire[perm].cpu().numpy() if perm else np.zeros((0, d), np.int64)),
            pattern_counts=patterns, rule=rule, meta=meta,
            moments=None if self.moments is None else self.moments.result())
