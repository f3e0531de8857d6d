"""Fashion-MNIST (70 000 28x28 grey images of clothes, 10 classes) from local idx files.

Nothing is downloaded. The files are looked for, in this order, in the folder
passed as ``path``, in the folder named by the environment variable
``NEUROGRAPH_FASHION_MNIST``, and in ``/usr/share/datasets/fashion-mnist``, where
Debian's package puts them::

    sudo apt-get install dataset-fashion-mnist

Each of the four files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` may be gzipped (``.gz``).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
import torch

from .._seed import as_int_seed
from ..errors import DataError
from .digits import DigitsData

__all__ = ["FASHION_MNIST_CLASSES", "find_fashion_mnist", "load_fashion_mnist", "read_idx"]

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
DEBIAN_PATH = Path("/usr/share/datasets/fashion-mnist")
ENV_VAR = "NEUROGRAPH_FASHION_MNIST"
FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
INSTALL_HINT = ("install Debian's package (apt-get install dataset-fashion-mnist, files in "
                f"{DEBIAN_PATH}) or pass path= / set {ENV_VAR} to a folder holding the four idx files")

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
           0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one idx file (plain or gzipped; detected from its first bytes).

    The idx format: two zero bytes, a type code (0x08 = uint8, ...), the number of
    dimensions, then one big-endian uint32 per dimension, then the data.

    Returns
    -------
    numpy.ndarray
        Of the stored shape and dtype (native byte order).

    A gzipped file is inflated only as far as its header declares (one byte more, to tell a
    file that is too long), so a small file that would inflate to gigabytes costs nothing.

    Raises
    ------
    DataError
        If the file is missing, not idx, or its size does not match its header.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "x-idx1-ubyte")
    ...     _ = open(p, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    ...     read_idx(p).tolist()
    [7, 8, 9]
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read idx file {str(p)!r}: {exc}") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = _gunzip_bounded(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"idx file {str(p)!r} is a corrupt gzip file: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(f"{str(p)!r} is not an idx file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"idx file {str(p)!r} is truncated inside its header")
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_DTYPES[raw[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"idx file {str(p)!r} holds {len(raw)} bytes but its header (shape {shape}, "
                        f"{dtype}) needs {expected}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def _gunzip_bounded(raw: bytes) -> bytes:
    """Inflate a gzipped idx file up to the size its header declares plus one byte (never more)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(raw, 4)
    limit = 64  # not an idx header: enough bytes for the error message
    if len(out) == 4 and out[:2] == b"\0\0" and out[2] in _DTYPES:
        out += d.decompress(d.unconsumed_tail, 4 * out[3])
        if len(out) == 4 + 4 * out[3]:
            shape = np.frombuffer(out, dtype=">u4", count=out[3], offset=4).astype(np.int64)
            size = 1
            for n in shape.tolist():
                size *= n
            limit = size * np.dtype(_DTYPES[out[2]]).itemsize + 1
    rest = d.decompress(d.unconsumed_tail, limit)
    if len(rest) < limit and not d.eof:
        raise EOFError("compressed file ended before the end-of-stream marker was reached")
    return out + rest


def find_fashion_mnist(path: str | os.PathLike | None = None) -> dict[str, Path]:
    """Locate the four Fashion-MNIST idx files.

    Parameters
    ----------
    path : folder, optional
        Looked in alone when given; else ``$NEUROGRAPH_FASHION_MNIST``, then
        ``/usr/share/datasets/fashion-mnist``.

    Returns
    -------
    dict
        ``train_images``, ``train_labels``, ``test_images``, ``test_labels`` -> file path
        (the plain name if present, else the ``.gz`` one).

    Raises
    ------
    DataError
        If no folder holds all four files; the message says how to install them.
    """
    if path is not None:
        folders = [Path(path)]
    else:
        folders = [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
        folders.append(DEBIAN_PATH)
    tried = []
    for folder in folders:
        found: dict[str, Path] = {}
        for key, stem in FILES.items():
            for name in (stem, stem + ".gz"):
                if (folder / name).is_file():
                    found[key] = folder / name
                    break
        if len(found) == len(FILES):
            return found
        missing = sorted(set(FILES.values()) - {FILES[k] for k in found})
        tried.append(f"{str(folder)!r} (missing {', '.join(missing)})")
    raise DataError(f"Fashion-MNIST idx files not found in {'; '.join(tried)}: {INSTALL_HINT}")


def load_fashion_mnist(path: str | os.PathLike | None = None, *, n_train: int | None = None,
                       n_test: int | None = None, seed: int | np.random.Generator | None = 0,
                       image: bool = False) -> DigitsData:
    """Load Fashion-MNIST's official train (60 000) and test (10 000) splits, or subsets of them.

    Pixels (0..255) are divided by 255, so inputs lie in ``[0, 1]``.

    Parameters
    ----------
    path : folder, optional
        Where the idx files are (see :func:`find_fashion_mnist`).
    n_train, n_test : int, optional
        Keep a class-stratified random subset of this many samples of each split
        (default: the whole split, in file order).
    seed : int, numpy Generator or None, default 0
        Seed of the subsets; the same int gives the same subsets.
    image : bool, default False
        Inputs of shape (n, 784), or images (n, 1, 28, 28).

    Returns
    -------
    DigitsData
        ``name == "fashion_mnist"``, ``n_classes == 10`` (names in ``FASHION_MNIST_CLASSES``).

    Raises
    ------
    DataError
        Files not found (with install instructions), corrupt, or of mismatched
        sizes; a subset size out of range.
    """
    files = find_fashion_mnist(path)
    parts = []
    seed_int = as_int_seed(seed)
    for split, n_keep in (("train", n_train), ("test", n_test)):
        X = read_idx(files[f"{split}_images"])
        y = read_idx(files[f"{split}_labels"])
        if X.ndim != 3 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
            raise DataError(f"Fashion-MNIST {split} files do not fit: images {X.shape} "
                            f"({files[f'{split}_images']}), labels {y.shape} ({files[f'{split}_labels']})")
        if y.max() > 9:
            raise DataError(f"Fashion-MNIST {split} labels must be 0..9, found {int(y.max())} in "
                            f"{files[f'{split}_labels']}")
        idx = _subset(y, n_keep, seed_int, f"n_{split}")
        X, y = X[idx], y[idx]
        shape = (1, *X.shape[1:]) if image else (int(np.prod(X.shape[1:])),)
        Xt = torch.from_numpy(X.astype(np.float32) / np.float32(255.0)).reshape(-1, *shape)
        parts.append((Xt, torch.from_numpy(y.astype(np.int64)), shape))
    (X_tr, y_tr, shape), (X_te, y_te, _) = parts
    return DigitsData(X_train=X_tr, y_train=y_tr, X_test=X_te, y_test=y_te, n_classes=10,
                      input_shape=tuple(shape), name="fashion_mnist")


def _subset(y: np.ndarray, n_keep: int | None, seed: int, what: str) -> np.ndarray:
    n = y.shape[0]
    if n_keep is None:
        return np.arange(n)
    if isinstance(n_keep, bool) or not isinstance(n_keep, (int, np.integer)) or not 1 <= n_keep <= n:
        raise DataError(f"{what} must be an int in 1..{n}, got {n_keep!r}")
    if n_keep == n:
        return np.arange(n)
    # stratified: each class keeps round(n_keep * share) samples, ties settled by largest remainder
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    want = n_keep * counts / n
    take = np.floor(want).astype(np.int64)
    extra = n_keep - int(take.sum())
    take[np.argsort(-(want - take), kind="stable")[:extra]] += 1
    chosen = [rng.choice(np.flatnonzero(y == c), size=int(k), replace=False) for c, k in zip(classes, take)]
    return np.sort(np.concatenate(chosen))
