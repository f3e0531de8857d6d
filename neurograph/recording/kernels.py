"""Exact count kernels: ``B^T B`` for binary batches ``B``, one product or accumulated over batches.

Counts must be exact integers. Measured on the 2-core CPU dev machine for B of 4,096 rows x 4,096
neurons (``experiments/benchmarks/bench_kernels.py``, one thread): int8 ``torch._int_mm`` (int32
output) is the fastest exact dense kernel, 2-3x numpy's float32 ``syrk`` and 4-5x torch's float32
product; a scipy sparse product beats it only when firing is rare (mean firing probability below
about 1%).

Kernels, and when each is exact:

* ``"int8"``: ``torch._int_mm`` (a private PyTorch API, wrapped defensively). Products of 0/1 int8
  are exact in int32 while a product has fewer than 2^31 rows. On torch 2.13's CPU build it returns
  uninitialised memory when the output is 1 x 1 (found by tests/test_kernels.py), so it never gets
  an output block narrower than 16 (narrow problems go to float32, where they cost nothing).
* ``"float32"``: numpy float32 ``X.T @ X`` (BLAS ``syrk``) on CPU, torch's product elsewhere: exact
  while every partial sum stays below 2^24, so rows are taken at most 2^24 - 1 at a time. The
  fallback when ``_int_mm`` is missing or refuses the device.
* ``"sparse"``: scipy CSR product (CPU only), exact in int64; cost grows with the sum over rows of
  (neurons firing on that row)^2, not with d^2.

bf16/fp16 products are never used: they round counts above 256/2048.

:class:`GramAccumulator` is what :func:`neurograph.recording.record` uses: it copies each batch into
a row-major bool buffer of a few MiB (read as int8; so the per-product overhead is paid once per buffer),
computes only the upper-triangle blocks of the product (about half the work for large d), adds them
into an int32 accumulator that is flushed into int64 before any entry could reach 2^31, and chooses
per buffer between the sparse and the dense kernel from the buffer's actual firing.
"""

from __future__ import annotations

import numpy as np
import torch

_F32_EXACT_ROWS = 2**24 - 1
_I32_EXACT_ROWS = 2**31 - 1
_INT8_MIN_D = 16
_BLOCK = 1024  # width of the upper-triangle blocks of the dense int8 product
_BUFFER_BYTES = 64 << 20  # int8 rows buffered before one product
_MAX_BUFFER_ROWS = 1 << 16
_MIN_BUFFER_ROWS = 256
# sparse when sum_r nnz_r^2 < _SPARSE_RATIO * rows * d^2 (measured crossover about 1e-4: p ~ 1%)
_SPARSE_RATIO = 5e-5
KERNELS = ("auto", "int8", "float32", "sparse")


def int_mm_available(device: torch.device | str = "cpu") -> bool:
    """True if ``torch._int_mm`` exists and works on ``device`` (checked on a tiny product)."""
    if not hasattr(torch, "_int_mm"):
        return False
    try:
        a = torch.ones((32, 32), dtype=torch.int8, device=device)
        return bool(torch._int_mm(a, a)[0, 0].item() == 32)
    except (RuntimeError, NotImplementedError):
        return False


def gram_counts(fired: torch.Tensor, *, kernel: str = "auto") -> torch.Tensor:
    """Return ``fired.T @ fired`` as int64, exactly.

    Parameters
    ----------
    fired : torch.Tensor, shape (n, d), bool or 0/1
        Firing matrix of one batch, on any device.
    kernel : {"auto", "int8", "float32", "sparse"}
        ``"auto"`` tries the int8 kernel and falls back to float32.

    Returns
    -------
    torch.Tensor of int64, shape (d, d), on the same device.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    if kernel == "sparse":
        out = np.zeros((fired.shape[1],) * 2, np.int64)
        _add_sparse(out, fired.to(torch.int8).cpu())
        return torch.from_numpy(out).to(fired.device)
    if kernel == "int8" or (kernel == "auto" and fired.shape[1] >= _INT8_MIN_D and hasattr(torch, "_int_mm")):
        try:
            return _gram_int8(fired)
        except (RuntimeError, NotImplementedError):
            if kernel == "int8":
                raise
    return _gram_float32(fired)


class GramAccumulator:
    """Exact running ``B^T B`` over batches of a 0/1 matrix with ``d`` columns (its diagonal: column sums).

    Parameters
    ----------
    d : int
        Number of columns (neurons).
    device : torch.device
        Where the buffer and accumulator live (the model's device); :meth:`result` stays there.
    kernel : {"auto", "int8", "float32", "sparse"}
        ``"auto"`` picks, per buffer, sparse (CPU, rare firing) or int8 (else float32).
    buffer_bytes : int
        Size of the row buffer; memory is ``O(buffer_bytes + d^2)``.

    The buffer is row-major bool (rows x d): a recorder writes a batch's firing straight into it
    with ``torch.gt(values, cut, out=acc.reserve(n)[:, a:b])`` (no copy, no transpose), then calls
    :meth:`commit`; :meth:`add` does both for a ready (n, d) matrix. The bool buffer is read as
    int8 by the products (same bytes).

    Memory: the int32 accumulator (4 d^2 bytes), the buffer, and at :meth:`result` the
    int64 counts (8 d^2 bytes); about 12 d^2 bytes at the peak.
    """

    def __init__(self, d: int, *, device: torch.device | str = "cpu", kernel: str = "auto",
                 buffer_bytes: int = _BUFFER_BYTES, _dense: bool = True) -> None:
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        self.d = int(d)
        self.device = torch.device(device)
        self.cpu = self.device.type == "cpu"
        if kernel == "sparse" and not self.cpu:
            raise ValueError(f"kernel 'sparse' runs on the CPU only, the model is on {self.device}")
        self.kernel = kernel
        self.int8 = (kernel in ("auto", "int8") and self.d >= _INT8_MIN_D and int_mm_available(self.device))
        if kernel == "int8" and not self.int8:
            raise ValueError(f"kernel 'int8' is not available here (torch._int_mm on {self.device}, d={self.d})")
        self.capacity = buffer_rows(self.d, buffer_bytes)
        self.buf = torch.zeros((self.capacity, self.d), dtype=torch.bool, device=self.device)
        self.rows = 0  # rows buffered
        self.acc32 = torch.zeros((self.d, self.d) if _dense else (0, 0), dtype=torch.int32, device=self.device)
        self.rows32 = 0  # rows accumulated in acc32 since its last flush
        self.acc64: torch.Tensor | None = None
        self.n = 0
        self.kernel_rows = {"int8": 0, "float32": 0, "sparse": 0}
        self.bounds = _block_bounds(self.d)
        self.row_class = torch.full((self.capacity,), -1, dtype=torch.int64, device=self.device)
        self.class_fire = torch.zeros((0, self.d), dtype=torch.int64, device=self.device)
        self._reserved = 0

    def reserve(self, n: int) -> torch.Tensor | None:
        """A writable (n, d) bool view of the buffer for the next ``n`` rows (None if ``n`` > capacity).

        Flushes first when the rows would not fit. Write every entry, then :meth:`commit`.
        """
        if n > self.capacity:
            return None
        if self.rows + n > self.capacity:
            self._flush()
        self._reserved = n
        return self.buf[self.rows:self.rows + n]

    def commit(self, n: int, class_rows: torch.Tensor | None = None) -> None:
        """Count the ``n`` rows written into :meth:`reserve`'s view (``class_rows`` as in :meth:`add`)."""
        if n != self._reserved:
            raise ValueError(f"commit({n}) after reserve({self._reserved})")
        r = self.rows
        if class_rows is None:
            self.row_class[r:r + n] = -1
        else:
            self.row_class[r:r + n] = class_rows
        self.rows += n
        self.n += n
        self._reserved = 0
        if self.rows == self.capacity:
            self._flush()

    def pending(self, n: int) -> torch.Tensor:
        """The last ``n`` committed rows still in the buffer (bool, (n, d)); valid until the next flush."""
        return self.buf[self.rows - n:self.rows]

    def add(self, fired: torch.Tensor, class_rows: torch.Tensor | None = None) -> None:
        """Count a batch ``fired`` of shape (n, d) (bool or 0/1, on ``device``).

        ``class_rows`` (n,) int64, optional: a class index 0..c-1 per row, for :attr:`class_fire`
        (per-class firing counts, shape (c, d)); -1 or None counts the row in no class.
        """
        n = int(fired.shape[0])
        start = 0
        while start < n:
            take = min(n - start, self.capacity)
            view = self.reserve(take)
            view.copy_(fired[start:start + take] != 0 if fired.dtype != torch.bool else fired[start:start + take])
            self.commit(take, None if class_rows is None else class_rows[start:start + take])
            start += take

    def result(self) -> torch.Tensor:
        """The exact int64 counts, shape (d, d), symmetric, on ``device``. Ends the accumulation."""
        self._flush()
        out = self.acc32.to(torch.int64)
        self.acc32 = None
        if self.acc64 is not None:
            out += self.acc64
            self.acc64 = None
        # only the upper-triangle blocks are computed (diagonal blocks whole): mirror them
        b = self.bounds
        for bi in range(len(b) - 1):
            for bj in range(bi + 1, len(b) - 1):
                out[b[bj]:b[bj + 1], b[bi]:b[bi + 1]] = out[b[bi]:b[bi + 1], b[bj]:b[bj + 1]].T
        return out

    # ------------------------------------------------------------------ internals
    def _flush(self) -> None:
        r = self.rows
        if r == 0:
            return
        if self.rows32 + r > _I32_EXACT_ROWS:
            self.acc64 = self.acc32.to(torch.int64) if self.acc64 is None else self.acc64 + self.acc32
            self.acc32.zero_()
            self.rows32 = 0
        rb = self.buf[:r].view(torch.int8)  # (r, d) 0/1
        self._add_classes(rb, self.row_class[:r])
        kind = self._choose(rb)
        self.kernel_rows[kind] += r
        if kind == "sparse":
            _add_sparse(self.acc32.numpy(), rb)
        elif not self.cpu:  # GPUs: one whole (zero-padded) product; the accelerator's kernels like big shapes
            self.acc32 += gram_counts(rb, kernel="int8" if self.int8 else "float32").to(torch.int32)
        elif kind == "int8":
            b = self.bounds
            for bi in range(len(b) - 1):
                rows_i = rb[:, b[bi]:b[bi + 1]].T
                for bj in range(bi, len(b) - 1):
                    self.acc32[b[bi]:b[bi + 1], b[bj]:b[bj + 1]] += torch._int_mm(rows_i, rb[:, b[bj]:b[bj + 1]])
        else:
            x = rb.numpy().astype(np.float32)
            np.add(self.acc32.numpy(), x.T @ x, out=self.acc32.numpy(), casting="unsafe")
        self.rows32 += r
        self.rows = 0

    def _add_classes(self, rb: torch.Tensor, rows: torch.Tensor) -> None:
        c = int(rows.max()) + 1
        if c <= 0:
            return
        if c > self.class_fire.shape[0]:
            grow = torch.zeros((c - self.class_fire.shape[0], self.d), dtype=torch.int64, device=self.device)
            self.class_fire = torch.cat([self.class_fire, grow])
        labelled = rows >= 0
        if self.int8 and self.cpu:
            onehot = torch.zeros((c, rb.shape[0]), dtype=torch.int8, device=self.device)
            cols = torch.arange(rb.shape[0], device=self.device)
            onehot[rows[labelled], cols[labelled]] = 1
            self.class_fire[:c] += torch._int_mm(onehot, rb).to(torch.int64)
            return
        for start in range(0, rb.shape[0], 1024):  # bounded int64 temporaries
            part = rows[start:start + 1024]
            keep = part >= 0
            self.class_fire.index_add_(0, part[keep], rb[start:start + 1024][keep].to(torch.int64))

    def _choose(self, rb: torch.Tensor) -> str:
        if self.kernel != "auto":
            return "float32" if (self.kernel == "int8" and not self.int8) else self.kernel
        if self.cpu and self.d >= _INT8_MIN_D:
            # cost of the sparse product ~ sum over rows of nnz^2: estimated on <= 256 rows
            step = max(1, rb.shape[0] // 256)
            per_row = rb[::step].sum(dim=1, dtype=torch.int32).to(torch.float64)
            if float((per_row * per_row).mean()) < _SPARSE_RATIO * float(self.d) ** 2:
                return "sparse"
        return "int8" if self.int8 else "float32"


class TileAccumulator(GramAccumulator):
    """Exact ``B[:, r0:r1]^T B[:, c0:c1]`` for a list of tiles, accumulated over batches.

    For recordings where a whole ``d x d`` matrix does not fit: only the tiles asked for are
    kept (int32 partial sums flushed into int64, like :class:`GramAccumulator`), and the
    same buffered rows serve every tile. Memory: 12 bytes per tile entry at the peak, plus
    the buffer.
    """

    def __init__(self, d: int, tiles: list[tuple[int, int, int, int]], *, device: torch.device | str = "cpu",
                 kernel: str = "auto", buffer_bytes: int = _BUFFER_BYTES) -> None:
        self.tiles = [tuple(int(x) for x in t) for t in tiles]
        for r0, r1, c0, c1 in self.tiles:
            if not (0 <= r0 <= r1 <= d and 0 <= c0 <= c1 <= d):
                raise ValueError(f"tile {(r0, r1, c0, c1)} is outside 0..{d}")
        super().__init__(d, device=device, kernel=kernel, buffer_bytes=buffer_bytes, _dense=False)
        self.tile32 = [torch.zeros((r1 - r0, c1 - c0), dtype=torch.int32, device=self.device)
                       for r0, r1, c0, c1 in self.tiles]
        self.tile64: list[torch.Tensor] | None = None

    def result(self) -> list[torch.Tensor]:  # type: ignore[override]
        """The exact int64 counts of each tile, in the order given. Ends the accumulation."""
        self._flush()
        out = [t.to(torch.int64) for t in self.tile32]
        if self.tile64 is not None:
            out = [a + b for a, b in zip(out, self.tile64)]
        self.tile32 = self.tile64 = None
        return out

    def _flush(self) -> None:
        r = self.rows
        if r == 0:
            return
        if self.rows32 + r > _I32_EXACT_ROWS:
            wide = [t.to(torch.int64) for t in self.tile32]
            self.tile64 = wide if self.tile64 is None else [a + b for a, b in zip(self.tile64, wide)]
            for t in self.tile32:
                t.zero_()
            self.rows32 = 0
        rb = self.buf[:r].view(torch.int8)
        self._add_classes(rb, self.row_class[:r])
        kind = self._choose(rb)
        self.kernel_rows[kind] += r
        csr = _csr(rb) if kind == "sparse" else None
        x = None
        for (r0, r1, c0, c1), acc in zip(self.tiles, self.tile32):
            for s0 in range(c0, c1, _BLOCK):  # column strips bound the temporaries
                s1 = min(s0 + _BLOCK, c1)
                if r1 == r0 or s1 == s0:
                    continue
                if csr is not None:
                    prod = (csr[r0:r1] @ csr[s0:s1].T).tocoo()
                    acc[prod.row, prod.col + (s0 - c0)] += torch.from_numpy(prod.data.astype(np.int32))
                elif self.int8 and self.cpu and r1 - r0 >= _INT8_MIN_D and s1 - s0 >= _INT8_MIN_D:
                    acc[:, s0 - c0:s1 - c0] += torch._int_mm(rb[:, r0:r1].T, rb[:, s0:s1])
                else:
                    x = rb.to(torch.float32) if x is None else x
                    acc[:, s0 - c0:s1 - c0] += (x[:, r0:r1].T @ x[:, s0:s1]).round_().to(torch.int32)
        self.rows32 += r
        self.rows = 0


def buffer_rows(d: int, buffer_bytes: int = _BUFFER_BYTES) -> int:
    """Rows of the count buffer for ``d`` neurons: about ``buffer_bytes`` of bools, within [256, 65536]."""
    rows = buffer_bytes // max(int(d), 1)
    return int(min(max(rows, _MIN_BUFFER_ROWS), _MAX_BUFFER_ROWS, _F32_EXACT_ROWS))


def _csr(rb: torch.Tensor):
    """scipy CSR (int64 data) of the neurons x samples matrix of a row-major 0/1 int8 (r, d) CPU tensor."""
    import scipy.sparse as sp

    r, d = rb.shape
    flat = np.flatnonzero(rb.numpy().view(np.bool_))  # C order: sorted by sample
    sample, neuron = np.divmod(flat, max(d, 1))
    indptr = np.zeros(r + 1, np.int64)
    np.cumsum(np.bincount(sample, minlength=r), out=indptr[1:])
    by_sample = sp.csr_matrix((np.ones(flat.shape[0], np.int64), neuron, indptr), shape=(r, d))
    return by_sample.T.tocsr()


def _block_bounds(d: int) -> list[int]:
    """Boundaries of near-equal blocks of about ``_BLOCK`` columns, each at least ``_INT8_MIN_D`` wide."""
    nb = max(1, round(d / _BLOCK))
    return [int(x) for x in np.linspace(0, d, nb + 1).round().astype(np.int64)]


def _add_sparse(acc: np.ndarray, rb: torch.Tensor) -> None:
    """Add ``rb.T @ rb`` of a row-major 0/1 int8 (r, d) CPU tensor into ``acc`` (numpy (d, d)), via scipy CSR."""
    d = rb.shape[1]
    s = _csr(rb)
    prod = (s @ s.T.tocsr()).tocsr()
    rows = np.repeat(np.arange(d, dtype=np.int64), np.diff(prod.indptr))
    flat = acc.reshape(-1)
    idx = rows * d + prod.indices
    flat[idx] += prod.data.astype(acc.dtype)


def _gram_int8(fired: torch.Tensor) -> torch.Tensor:
    n, d = fired.shape
    if fired.device.type == "cuda":
        # cuBLAS int8 GEMM wants every dimension > 16 and a multiple of 8: zero-padding is exact.
        pad_n, pad_d = (-n) % 8 + (16 if n <= 16 else 0), (-d) % 8 + (16 if d <= 16 else 0)
        b = torch.nn.functional.pad(fired.to(torch.int8), (0, pad_d, 0, pad_n))
    else:
        b = fired.to(torch.int8)
    out = torch.zeros((b.shape[1], b.shape[1]), dtype=torch.int64, device=fired.device)
    for start in range(0, max(n, 1), _I32_EXACT_ROWS):
        chunk = b[start:start + _I32_EXACT_ROWS]
        if chunk.shape[0]:
            out += torch._int_mm(chunk.T.contiguous(), chunk).to(torch.int64)
    return out[:d, :d]


def _gram_float32(fired: torch.Tensor) -> torch.Tensor:
    n, d = fired.shape
    out = torch.zeros((d, d), dtype=torch.int64, device=fired.device)
    for start in range(0, max(n, 1), _F32_EXACT_ROWS):
        chunk = fired[start:start + _F32_EXACT_ROWS].to(torch.float32)
        if chunk.shape[0]:
            out += (chunk.T @ chunk).round_().to(torch.int64)
    return out


def class_fire_counts(fired: torch.Tensor, class_rows: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Per-class firing counts of one batch: shape (n_classes, d), int64.

    ``class_rows[i]`` is the row (0 .. n_classes-1) of sample ``i``'s class.
    """
    out = torch.zeros((n_classes, fired.shape[1]), dtype=torch.int64, device=fired.device)
    out.index_add_(0, class_rows, fired.to(torch.int64))
    return out
