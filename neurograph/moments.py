"""Pearson-style statistics of raw activations: means and centred cross-products, merged in float64.

:func:`neurograph.recording.record` keeps them when asked (``moments=True``) beside the firing
counts, in :attr:`CoactivationStats.moments <neurograph.stats.CoactivationStats.moments>`.
They are the sufficient statistics of Pearson correlation (sums and cross-products of the
activations), held the numerically safe way: per neuron the mean and, per pair, the *centred*
cross-product ``sum_k (x_ki - mean_i)(x_kj - mean_j)``. Chunks of rows are reduced in float64
(two-pass within the chunk) and chunks, shards and ranks are merged with the pairwise update
of Chan, Golub & LeVeque (1979). Raw float32 sums lose every digit of a variance when the
activations are large compared with their spread (mean 1e4, sd 1: the square sums agree in
their first 8 digits); this keeps the relative error at float64 rounding whatever the order.

Exact integer counts add exactly; these are floats, so merges done in another order agree to
rounding (about 1e-15 relative), not bit for bit: compare them with :meth:`ActivationMoments.isclose`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import DataError

__all__ = ["ActivationMoments"]

_BUFFER_BYTES = 32 << 20


@dataclass(frozen=True, eq=False)
class ActivationMoments:
    """Mean and centred cross-products of the raw activations of ``d`` neurons.

    Attributes
    ----------
    n_samples : int
        Number of samples (rows) summarised.
    mean : numpy.ndarray of float64, shape (d,)
        Mean activation of each neuron.
    comoment : numpy.ndarray of float64, shape (d, d)
        ``comoment[i, j] = sum_k (x_ki - mean_i) (x_kj - mean_j)``; symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [3.0, 1.0], [5.0, 0.0]])
    >>> m = ActivationMoments.from_values(x[:1]) + ActivationMoments.from_values(x[1:])
    >>> m.mean.tolist(), m.correlation().round(6).tolist()
    ([3.0, 1.0], [[1.0, -1.0], [-1.0, 1.0]])
    """

    n_samples: int
    mean: np.ndarray
    comoment: np.ndarray

    def __post_init__(self) -> None:
        # O(1) structural checks only; the O(d^2) invariants are checked by moments_problem on load.

        n, m, c = self.n_samples, self.mean, self.comoment
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise DataError(f"ActivationMoments n_samples must be an int >= 0, got {n!r}")
        if not (isinstance(m, np.ndarray) and m.ndim == 1):
            raise DataError(f"ActivationMoments mean must be a 1-D numpy array, got {_describe(m)}")
        if not (isinstance(c, np.ndarray) and c.shape == (m.shape[0], m.shape[0])):
            raise DataError(f"ActivationMoments comoment must be a ({m.shape[0]}, {m.shape[0]}) numpy array "
                            f"(one row and column per neuron of mean), got {_describe(c)}")

    @property
    def n_neurons(self) -> int:
        """Number of neurons ``d``."""
        return int(self.mean.shape[0])

    @property
    def sums(self) -> np.ndarray:
        """Sum of each neuron's activations, shape (d,)."""
        return self.n_samples * self.mean

    @property
    def cross_products(self) -> np.ndarray:
        """Raw cross-products ``sum_k x_ki x_kj``, shape (d, d) (derived; may lose digits when means are large)."""
        return self.comoment + self.n_samples * np.outer(self.mean, self.mean)

    def covariance(self, *, ddof: int = 1) -> np.ndarray:
        """Covariance matrix, shape (d, d): ``comoment / (n_samples - ddof)`` (NaN if that is <= 0)."""
        denom = self.n_samples - ddof
        return self.comoment / denom if denom > 0 else np.full_like(self.comoment, np.nan)

    def correlation(self) -> np.ndarray:
        """Pearson correlation, shape (d, d), clipped to [-1, 1]; NaN in the rows/columns of constant neurons."""
        sd = np.sqrt(np.clip(np.diag(self.comoment), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = self.comoment / np.outer(sd, sd)
        r[sd == 0, :] = np.nan
        r[:, sd == 0] = np.nan
        return np.clip(r, -1.0, 1.0)

    @classmethod
    def from_values(cls, values) -> ActivationMoments:
        """Reference two-pass float64 moments of an (n, d) array of activations."""
        x = np.asarray(values, dtype=np.float64)
        if x.ndim != 2:
            raise DataError(f"values must be 2-D (n, d), got shape {x.shape}")
        if x.shape[0] == 0:
            return cls(0, np.zeros(x.shape[1]), np.zeros((x.shape[1],) * 2))
        mean = x.mean(axis=0)
        xc = x - mean
        return cls(int(x.shape[0]), mean, xc.T @ xc)

    def __add__(self, other: ActivationMoments) -> ActivationMoments:
        """Moments of the union of two disjoint sets of samples (Chan et al. pairwise update)."""
        if not isinstance(other, ActivationMoments):
            return NotImplemented
        if other.n_neurons != self.n_neurons:
            from .errors import IncompatibleStatsError
            raise IncompatibleStatsError(f"cannot merge moments over {self.n_neurons} and {other.n_neurons} neurons")
        n, mean, com = chan_merge(self.n_samples, self.mean, self.comoment, other.n_samples, other.mean, other.comoment)
        return ActivationMoments(int(n), mean, com)

    def isclose(self, other: ActivationMoments, *, rtol: float = 1e-9) -> bool:
        """Equal up to float64 rounding: same ``n_samples``, means and comoments within ``rtol``.

        Rounding the activations themselves costs about ``eps |mean|`` each, so the tolerance of
        a comoment entry is ``rtol (s_i s_j + sqrt(n) (|m_i| s_j + |m_j| s_i))`` with
        ``s_i = sqrt(comoment_ii)`` and of a mean ``rtol (s_i / sqrt(n) + |m_i|)``: merges done
        in another order pass, real differences do not.
        """
        if not isinstance(other, ActivationMoments) or other.n_neurons != self.n_neurons:
            return False
        if self.n_samples != other.n_samples:
            return False
        n = max(self.n_samples, 1)
        s = np.sqrt(np.maximum(np.abs(np.diag(self.comoment)), np.abs(np.diag(other.comoment))))
        m = np.maximum(np.abs(self.mean), np.abs(other.mean))
        tol_mean = rtol * (s / np.sqrt(n) + m)
        tol_com = rtol * (np.outer(s, s) + np.sqrt(n) * (np.outer(m, s) + np.outer(s, m)))
        return bool(np.all(np.abs(self.mean - other.mean) <= tol_mean)
                    and np.all(np.abs(self.comoment - other.comoment) <= tol_com))

    def select(self, idx: np.ndarray) -> ActivationMoments:
        """Moments of the neurons ``idx`` only."""
        idx = np.asarray(idx, dtype=np.int64)
        return ActivationMoments(self.n_samples, self.mean[idx], self.comoment[np.ix_(idx, idx)])


def _describe(x) -> str:
    return f"shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__


def moments_problem(n_samples, mean, comoment, *, rtol: float = 1e-6) -> str | None:
    """What is wrong with ``(n_samples, mean, comoment)`` as moments, or None when they are valid.

    Checks types and shapes (real arrays, mean (d,), comoment (d, d)), finiteness,
    ``n_samples >= 0``, and the invariants of centred cross-products: a non-negative
    diagonal, symmetry and Cauchy-Schwarz (``|C_ij| <= sqrt(C_ii C_jj)``), the last two up
    to ``rtol`` times the rounding scale of :meth:`ActivationMoments.isclose`
    (``s_i s_j + sqrt(n) (|m_i| s_j + |m_j| s_i)``, ``s_i = sqrt(C_ii)``): merges and matrix
    products round, corruption does not hide in the last digits. The ``O(d^2)`` work is done
    in row blocks, so extra memory stays small whatever ``d``. Used by
    :meth:`CoactivationStats.load <neurograph.stats.CoactivationStats.load>` and ``save``.
    """
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, (int, np.integer)) or n_samples < 0:
        return f"moments n_samples must be an int >= 0, got {n_samples!r}"
    for name, arr, ndim in (("moments mean", mean, 1), ("moments comoment", comoment, 2)):
        if not isinstance(arr, np.ndarray) or arr.ndim != ndim:
            return f"{name} must be a {ndim}-D array, got {_describe(arr)}"
        if arr.dtype.kind not in "fiu":
            return f"{name} must be a real (float) array, got dtype {arr.dtype}"
    d = mean.shape[0]
    if comoment.shape != (d, d):
        return f"moments comoment has shape {comoment.shape}, expected ({d}, {d}) for {d} means"
    m = np.abs(mean.astype(np.float64))
    if not np.isfinite(m).all():
        return f"moments mean[{int(np.argmin(np.isfinite(m)))}] is NaN or infinite"
    diag = np.diagonal(comoment).astype(np.float64)
    bad = ~np.isfinite(diag) | (diag < -rtol * np.maximum(np.sqrt(n_samples) * m, 1.0) ** 2)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return f"moments comoment[{i}, {i}] = {diag[i]!r} is not a sum of squares (must be finite and >= 0)"
    s = np.sqrt(np.clip(diag, 0.0, None))
    root_n = np.sqrt(float(n_samples))
    step = max(1, (1 << 20) // max(d, 1))
    for a in range(0, d, step):
        b = min(d, a + step)
        blk = comoment[a:b].astype(np.float64, copy=False)
        if not np.isfinite(blk).all():
            i, j = np.argwhere(~np.isfinite(blk))[0]
            return f"moments comoment[{a + i}, {j}] is NaN or infinite"
        scale = np.outer(s[a:b], s)
        tol = rtol * (scale + root_n * (np.outer(m[a:b], s) + np.outer(s[a:b], m))) + 1e-300
        asym = np.abs(blk - comoment[:, a:b].T) > tol
        if asym.any():
            i, j = np.argwhere(asym)[0]
            return (f"moments comoment is not symmetric: [{a + i}, {j}] = {blk[i, j]!r} but "
                    f"[{j}, {a + i}] = {comoment[j, a + i]!r}")
        over = np.abs(blk) > scale + tol
        if over.any():
            i, j = np.argwhere(over)[0]
            return (f"moments comoment[{a + i}, {j}] = {blk[i, j]!r} exceeds sqrt(comoment[{a + i}, {a + i}] "
                    f"* comoment[{j}, {j}]) = {scale[i, j]!r} (Cauchy-Schwarz)")
    if n_samples <= 1 and d and np.abs(comoment).max() > 0:
        return f"moments of {n_samples} sample(s) must have an all-zero comoment"
    if n_samples == 0 and d and m.max() > 0:
        return "moments of 0 samples must have all-zero means"
    return None


def chan_merge(na, ma, ca, nb, mb, cb):
    """Pairwise merge of (n, mean, comoment) triples; works on numpy arrays and torch tensors."""
    n = na + nb
    if na == 0:
        return nb, mb, cb
    if nb == 0:
        return na, ma, ca
    delta = mb - ma
    mean = ma + delta * (nb / n)
    outer = delta[:, None] * delta[None, :]
    return n, mean, ca + cb + outer * (na * nb / n)


class MomentAccumulator:
    """Running float64 moments on the model's device: row chunks reduced two-pass, merged pairwise."""

    def __init__(self, d: int, *, device: torch.device | str = "cpu", buffer_bytes: int = _BUFFER_BYTES) -> None:
        self.d = int(d)
        self.device = torch.device(device)
        self.capacity = max(16, int(buffer_bytes // (8 * max(self.d, 1))))
        self.buf = torch.empty((self.capacity, self.d), dtype=torch.float64, device=self.device)
        self.rows = 0
        self.n = 0
        self.mean = torch.zeros(self.d, dtype=torch.float64, device=self.device)
        self.com = torch.zeros((self.d, self.d), dtype=torch.float64, device=self.device)

    def add(self, values: torch.Tensor) -> None:
        """Add a batch of activations, shape (n, d)."""
        n = int(values.shape[0])
        start = 0
        while start < n:
            take = min(n - start, self.capacity - self.rows)
            self.buf[self.rows:self.rows + take].copy_(values[start:start + take])
            self.rows += take
            start += take
            if self.rows == self.capacity:
                self._flush()

    def _flush(self) -> None:
        r = self.rows
        if r == 0:
            return
        x = self.buf[:r]
        mb = x.mean(dim=0)
        xc = x - mb
        cb = xc.T @ xc
        self.n, self.mean, self.com = chan_merge(self.n, self.mean, self.com, r, mb, cb)
        self.rows = 0

    def result(self) -> ActivationMoments:
        """The moments, moved to the CPU as numpy arrays."""
        self._flush()
        com = self.com
        com = (com + com.T) * 0.5  # exact symmetry (BLAS may round the two triangles differently)
        return ActivationMoments(int(self.n), self.mean.cpu().numpy().copy(), com.cpu().numpy())


def all_gather_moments(m: ActivationMoments, *, world: int, device, group=None) -> ActivationMoments:
    """Moments of all ranks of a ``torch.distributed`` group, merged exactly in float64 (a collective)."""
    import torch.distributed as dist

    d = m.n_neurons
    head = torch.from_numpy(np.concatenate([[float(m.n_samples)], m.mean])).to(device)
    heads = [torch.empty_like(head) for _ in range(world)]
    dist.all_gather(heads, head, group=group)
    com = torch.from_numpy(np.ascontiguousarray(m.comoment)).to(device)
    coms = [torch.empty_like(com) for _ in range(world)]
    dist.all_gather(coms, com, group=group)
    n, mean, total = 0, np.zeros(d), np.zeros((d, d))
    for h, cm in zip(heads, coms):
        h = h.cpu().numpy()
        n, mean, total = chan_merge(n, mean, total, int(h[0]), h[1:], cm.cpu().numpy())
    return ActivationMoments(int(n), np.asarray(mean, np.float64), np.asarray(total, np.float64))
