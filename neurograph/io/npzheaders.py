"""What a ``.npz`` archive declares, read from its zip directory and ``.npy`` headers alone (internal, as
:mod:`neurograph.io.atomic`).

:func:`npz_headers` lists every member of an archive with the shape and dtype its ``.npy``
header declares, inflating only the few hundred bytes of each header and reading no array:
a loader checks the member names and the declared sizes against what it expects (a statistics
file: what its ``d`` neurons and ``c`` classes imply) *before* anything large is read, so a
hostile or broken file (an unexpected 800 MB member, a header declaring a huge shape) is
refused in milliseconds instead of being inflated first.
"""

from __future__ import annotations

import ast
import math
import os
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


_MAX_HEADER_BYTES = 10_000  # numpy's own default limit on a .npy header (max_header_size)


@dataclass(frozen=True)
class NpyHeader:
    """One member of a ``.npz`` archive as its ``.npy`` header declares it (nothing of the array is read).

    Attributes
    ----------
    shape : tuple of int
        Declared shape.
    dtype : numpy.dtype
        Declared dtype.
    stored_size : int
        Bytes the zip directory says the member holds once inflated (header included).
    """

    shape: tuple
    dtype: np.dtype
    stored_size: int

    @property
    def size(self) -> int:
        """Declared number of elements (product of ``shape``)."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Declared bytes of the array: what reading it would allocate."""
        return self.size * self.dtype.itemsize


def npz_headers(path: str | os.PathLike, what: str, error: type[Exception]) -> dict[str, NpyHeader] | None:
    """The members of the ``.npz`` archive ``path`` and what each declares, reading no array.

    Returns ``{member name without .npy: NpyHeader}``, or None when ``path`` is not a zip
    archive (the caller's reader reports that). Reads the zip directory and, per member, the
    ``.npy`` magic and header (``numpy.lib.format.read_magic`` /
    ``read_array_header_1_0`` / ``read_array_header_2_0``; version 3.0 headers are parsed with
    :func:`ast.literal_eval`): a compressed member is inflated only as far as its header.

    Examples
    --------
    >>> import io, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.savez_compressed(f"{tmp}/a.npz", x=np.zeros((3, 4)))
    ...     h = npz_headers(f"{tmp}/a.npz", "file", ValueError)["x"]
    >>> h.shape, str(h.dtype), h.nbytes
    ((3, 4), 'float64', 96)

    Raises
    ------
    error
        Naming ``what``, the file and the member: a member that is not a ``.npy`` array, the
        same member twice, or a header that cannot be read.
    """
    path = Path(path)
    name = str(path)
    try:
        if not zipfile.is_zipfile(path):
            return None
        zf = zipfile.ZipFile(path)
    except Exception:  # noqa: BLE001 - any unreadable zip directory: the caller's reader reports it
        return None
    out: dict[str, NpyHeader] = {}
    with zf:
        for info in zf.infolist():
            member = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if not info.filename.endswith(".npy"):
                raise error(f"{what} {name!r}: member {member!r} is not a numpy array (.npy)")
            if member in out:
                raise error(f"{what} {name!r} is corrupt: it holds member {member!r} twice")
            try:
                with zf.open(info) as fp:
                    out[member] = NpyHeader(*_read_header(fp), stored_size=info.file_size)
            except Exception as exc:  # noqa: BLE001 - zlib.error, BadZipFile, ValueError, EOFError, ...
                text = " ".join(str(exc).split()) or type(exc).__name__
                raise error(f"{what} {name!r} is corrupt (member {member!r}): its .npy header cannot be read "
                            f"({text[:200]})") from exc
    return out


def _read_header(fp) -> tuple[tuple, np.dtype]:
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fp, max_header_size=_MAX_HEADER_BYTES)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(fp, max_header_size=_MAX_HEADER_BYTES)
    else:  # (3, 0): as 2.0 with a UTF-8 header
        (length,) = struct.unpack("<I", fp.read(4))
        if length > _MAX_HEADER_BYTES:
            raise ValueError(f"header of {length} bytes (the limit is {_MAX_HEADER_BYTES})")
        d = ast.literal_eval(fp.read(length).decode("utf-8"))
        if not isinstance(d, dict) or not {"descr", "fortran_order", "shape"} <= set(d):
            raise ValueError("not a .npy header")
        shape, dtype = d["shape"], np.lib.format.descr_to_dtype(d["descr"])
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"shape {shape!r} is not a tuple of sizes")
    return tuple(shape), dtype
