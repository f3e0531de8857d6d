"""One counting pass shared by every recorder: sites → firing rule → rows of the count buffer.

:func:`count_pass` runs :func:`~neurograph._capture.run_model`; inside each site's hook the rule
writes the site's firing straight into its columns of the accumulator's row buffer
(``torch.gt(values, cut, out=...)``); after the forward pass the rows are committed with their
class rows. :class:`ClassIndex` maps label codes to class rows; :class:`Cuts` holds the rule's
cut per site (a float, or a slice of per-neuron thresholds).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .capture import BatchState, Site, SiteValues, run_model
from .batches import LabelCodes
from ..errors import DataError, MemoryBudgetError, OptionError
from .reading import Reading

log = logging.getLogger(__name__)


class Cuts:
    """The firing cut of every site: a float for all, or per-neuron values sliced per site."""

    def __init__(self, reading: Reading, thresholds: np.ndarray | None) -> None:
        if reading.rule == "positive":
            self.scalar: float | None = 0.0
            self.vector = None
        elif reading.rule == "threshold" and isinstance(reading.threshold, float):
            self.scalar, self.vector = reading.threshold, None
        else:
            self.scalar = None
            self.vector = np.asarray(reading.threshold if thresholds is None else thresholds, dtype=np.float64)
        self.per_site: dict[tuple, float | torch.Tensor] = {}
        self.offsets: list[int] = []

    def bind(self, sites: list[Site]) -> None:
        """Check the per-neuron vector against the sites' neurons; remember each site's offset."""
        self.offsets = list(np.cumsum([0] + [s.units for s in sites])[:-1])
        d = sum(s.units for s in sites)
        if self.vector is not None and self.vector.shape[0] != d:
            raise OptionError(f"threshold has {self.vector.shape[0]} values but the recorded layers have {d} "
                              f"neurons ({', '.join(f'{s.name}: {s.units}' for s in sites)}); pass one per neuron")

    def of(self, i: int, site: Site, like: torch.Tensor) -> float | torch.Tensor:
        """The cut of site ``i`` in the dtype of its values ``like``, such that ``like > cut`` is exactly
        the rule's ``a > threshold`` compared in float64 (see :func:`exact_cut`)."""
        if self.vector is None:
            if not like.is_floating_point() or like.dtype == torch.float64:
                return self.scalar
            key = ("all sites", like.dtype)
            cut = self.per_site.get(key)
            if cut is None:
                cut = self.per_site[key] = float(exact_cut(torch.tensor(self.scalar, dtype=torch.float64),
                                                           like.dtype))
            return cut
        key = (i, like.dtype, like.device)
        cut = self.per_site.get(key)
        if cut is None:
            lo = int(self.offsets[i])
            cut = torch.as_tensor(self.vector[lo:lo + site.units], dtype=torch.float64)
            if like.is_floating_point():
                cut = exact_cut(cut, like.dtype)
            cut = self.per_site[key] = cut.to(device=like.device)
        return cut


def exact_cut(cut: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The float64 cut(s) rounded *down* into the floating ``dtype``: for every value ``a`` of ``dtype``,
    ``a > exact_cut(t, dtype)`` exactly when ``a > t`` in float64.

    Rounding the cut to the nearest value of a narrower dtype (what ``torch.gt(bf16_values, 0.1)``
    does) moves it: ``0.1`` becomes ``0.10009765625`` in bfloat16 and a value equal to that would
    not fire although it is above 0.1. The largest ``dtype`` value not above ``t`` has no ``dtype``
    value between it and ``t``, so the comparison is exact without upcasting the activations.

    >>> t = torch.tensor(0.1, dtype=torch.float64)
    >>> a = torch.tensor(0.1, dtype=torch.bfloat16)          # 0.10009765625
    >>> bool(a > 0.1), bool(a > exact_cut(t, torch.bfloat16))
    (False, True)
    """
    if dtype == torch.float64:
        return cut.to(torch.float64)
    near = cut.to(dtype)
    below = torch.nextafter(near, torch.full_like(near, float("-inf")))
    return torch.where(near.to(torch.float64) > cut, below, near)


def fire_into(sv: SiteValues, cut, out: torch.Tensor) -> None:
    """Write the site's firing (bool) for its rows into ``out`` (rows, units)."""
    if sv.valid is None:
        torch.gt(sv.values, cut, out=out)
    else:
        hit = (sv.values > cut) & sv.valid.unsqueeze(-1)
        torch.any(hit, dim=1, out=out)


def raw_values(sv: SiteValues) -> torch.Tensor:
    """The values the rule saw, one row per sample, float64 (``"any"``: the mean over valid positions)."""
    if sv.valid is None:
        return sv.values.to(torch.float64)
    w = sv.valid.to(torch.float64).unsqueeze(-1)
    return (sv.values.to(torch.float64) * w).sum(dim=1) / w.sum(dim=1)


class ClassIndex:
    """Label codes seen so far → class rows 0..c-1 (in order of appearance), and back to class labels."""

    def __init__(self, codes: LabelCodes) -> None:
        self.codes = codes
        self.index: dict[int, int] = {}
        self.counts: list[int] = []

    def rows(self, labels: torch.Tensor | None, device) -> torch.Tensor | None:
        if labels is None:
            return None
        labels = labels.to(device)
        uniq, inv, cnt = torch.unique(labels, return_inverse=True, return_counts=True)
        lut = []
        for c, k in zip(uniq.tolist(), cnt.tolist()):
            if c not in self.index:
                self.index[c] = len(self.index)
                self.counts.append(0)
            self.counts[self.index[c]] += k
            lut.append(self.index[c])
        return torch.tensor(lut, dtype=torch.int64, device=device)[inv]

    def result(self, class_fire: torch.Tensor | None, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(classes, class_counts, class_fire_counts) sorted by class label."""
        codes = sorted(self.index)
        labels = self.codes.decode(np.asarray(codes, dtype=np.int64))
        order = np.argsort(labels, kind="stable") if len(codes) else np.zeros(0, np.int64)
        perm = [self.index[codes[k]] for k in order]
        classes = labels[order] if len(codes) else labels
        cc = np.asarray([self.counts[k] for k in perm], np.int64)
        if class_fire is None or not perm:
            cf = np.zeros((len(perm), d), np.int64)
        else:
            cf_all = class_fire.cpu().numpy()
            cf = np.zeros((len(perm), d), np.int64)
            for row, k in enumerate(perm):
                if k < cf_all.shape[0]:
                    cf[row] = cf_all[k]
        return classes, cc, cf


@dataclass
class Pass:
    """What one counting pass leaves: its sites, accumulator, class index and rows counted."""

    sites: list[Site]
    acc: object
    classes: ClassIndex
    n: int


def count_pass(model, data, layers, reading: Reading, cuts: Cuts, *, make_acc: Callable[[list[Site], int], object],
               batch_size: int, progress: bool, desc: str, on_rows: Callable | None = None,
               keep_raw: bool = False) -> Pass:
    """Run the model once over ``data`` and count the rule's firing of every site into ``make_acc(sites, d)``.

    ``on_rows(bits, raw, state)`` (optional) sees each batch's firing rows (bool (rows, d)) and,
    with ``keep_raw``, the float64 values the rule saw (rows, d), before they are committed.
    """
    codes = LabelCodes()
    classes = ClassIndex(codes)
    cur = _BatchRows()

    def on_sites(sites: list[Site]) -> None:
        cuts.bind(sites)
        cur.acc = make_acc(sites, sum(s.units for s in sites))

    def on_site(i: int, site: Site, sv: SiteValues, state: BatchState) -> None:
        rows = sv.rows
        if cur.dest is None:  # the batch's first site reserves its rows
            cur.start(rows, sv.values.device, len(cuts.offsets) if keep_raw else 0)
        elif cur.dest.shape[0] != rows:
            raise DataError(f"layer {site.name!r} gave {rows} samples on batch {state.index} but the layers before "
                            f"it gave {cur.dest.shape[0]}")
        lo = int(cuts.offsets[i])
        fire_into(sv, cuts.of(i, site, sv.values), cur.dest[:, lo:lo + site.units])
        if keep_raw:
            cur.raw[i] = raw_values(sv)

    def on_batch(state: BatchState) -> None:
        if cur.dest is None:
            return
        class_rows = classes.rows(state.row_labels(), cur.dest.device)
        if on_rows is not None:
            on_rows(cur.dest, torch.cat(cur.raw, dim=1) if keep_raw else None, state)
        cur.commit(class_rows)

    sites = run_model(model, data, batch_size=batch_size, layers=layers, reading=reading, on_sites=on_sites,
                      on_site=on_site, on_batch=on_batch, progress=progress, desc=desc, codes=codes)
    return Pass(sites=sites, acc=cur.acc, classes=classes, n=int(cur.acc.n))


class _BatchRows:
    """The firing rows of the batch being read: a view of the accumulator's buffer, or a temporary."""

    def __init__(self) -> None:
        self.acc = None
        self.dest: torch.Tensor | None = None
        self.temp = False
        self.raw: list = []

    def start(self, rows: int, device, n_raw: int) -> None:
        self.dest = self.acc.reserve(rows)
        self.temp = self.dest is None  # more rows than the buffer holds: count this batch from a temporary
        if self.temp:
            self.dest = torch.empty((rows, self.acc.d), dtype=torch.bool, device=device)
        self.raw = [None] * n_raw

    def commit(self, class_rows) -> None:
        if self.temp:
            self.acc.add(self.dest, class_rows)
        else:
            self.acc.commit(int(self.dest.shape[0]), class_rows)
        self.dest = None


# ---------------------------------------------------------------------------- memory

def bytes_needed(d: int, *, moments: bool = False) -> int:
    """Peak extra memory of a dense recording of ``d`` neurons, in bytes.

    ``12 d^2`` for the counts (int32 accumulator + int64 result), the row buffer of the count kernel
    (at most 64 MiB: ``rows x d`` bools plus a class index per row), and with ``moments`` ``16 d^2``
    more (float64 co-moments and their merge) plus the float64 row buffer (at most 64 MiB).
    """
    from .kernels import buffer_rows
    rows = buffer_rows(d)
    need = 12 * d * d + rows * (d + 8)
    if moments:
        need += 16 * d * d + max(16, (64 << 20) // (8 * max(d, 1))) * 8 * d
    return int(need)


def bytes_available(device: torch.device | str = "cpu") -> int | None:
    """Memory free for a recording on ``device`` (CUDA: free device memory; CPU: MemAvailable), or None."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except RuntimeError:
            return None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


_SHARE_OF_FREE = 0.9  # of the free memory a recording may take by default (the rest for the model and data)


def budget_bytes(device, memory_limit: int | None) -> int | None:
    """Bytes a recording may take: ``memory_limit``, else 90% of the free memory on ``device`` (None: unknown)."""
    if memory_limit is not None:
        return int(memory_limit)
    free = bytes_available(device)
    return None if free is None else int(_SHARE_OF_FREE * free)


def check_budget(sites: list[Site], device, *, moments: bool, memory_limit: int | None) -> None:
    """Raise MemoryBudgetError, with the figure and the ways out, when the d x d counts would not fit."""
    d = sum(s.units for s in sites)
    need = bytes_needed(d, moments=moments)
    have = budget_bytes(device, memory_limit)
    if have is not None and need > have:
        widest = sorted(sites, key=lambda s: -s.units)[:3]
        raise MemoryBudgetError(
            f"recording {d:,} neurons ({', '.join(f'{s.name}: {s.units:,}' for s in widest)}"
            f"{', ...' if len(sites) > 3 else ''}) needs about {need / 2**30:.1f} GiB for the d x d counts "
            f"(12 bytes per pair{' + 16 for moments' if moments else ''}) but {have / 2**30:.1f} GiB "
            f"{'is the memory_limit' if memory_limit is not None else f'is {_SHARE_OF_FREE:.0%} of the memory available'}"
            f"; record fewer layers, use "
            f"record_top_k (the exact top-k graph without a d x d matrix) or record_blocks (chosen layer pairs)")
