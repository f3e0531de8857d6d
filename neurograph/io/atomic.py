"""Whole-or-nothing file writes and the checks every file loader shares.

Writes go to a temporary name in the same folder, then are renamed onto the target
(:func:`atomic_path`). Loaders call :func:`check_file` first, so a missing file, a folder
given for a file and an unreadable file are reported the same way everywhere, naming the
path, with :class:`~neurograph.errors.FileFormatError` (or the subclass a loader asks for).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import FileFormatError

#: Temporary files of :func:`atomic_path` are named ``.NAME.ngtmp-HOST-PID-RANDOM[SUFFIX]``.
_TMP_TAG = "ngtmp"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    On any exception the temporary file is removed and ``path`` is left untouched,
    so a reader never sees a half-written file.

    The temporary file is named ``.NAME.ngtmp-HOST-PID-RANDOM`` + ``suffix`` (``HOST`` a
    short hash of the host name, ``PID`` the writing process). A writer killed mid-write
    (SIGKILL, power loss) cannot remove its temporary file; the next write to the same
    target removes such leftovers, but only those made on this host by a process that no
    longer exists, so a concurrent writer's live temporary file is never touched (a
    recycled pid only delays the clean-up). Clean-up is skipped where processes cannot be
    probed safely (Windows) and never raises.

    Raises
    ------
    FileNotFoundError
        If the folder of ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder, not a file")
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_TMP_TAG}-{_host_tag()}-{os.getpid()}-",
                               suffix=suffix if suffix is not None else ".tmp", dir=path.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files that a killed writer of ``path`` left behind; returns those removed.

    Only files named by :func:`atomic_path` for this very target, made on this host, whose
    writing process no longer exists, are removed (see :func:`atomic_path`). Errors are ignored.
    """
    if os.name != "posix":  # os.kill(pid, 0) is not a harmless probe on Windows
        return []
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.{_TMP_TAG}-{_host_tag()}-(\d+)-[A-Za-z0-9_]+(\.[^/]*)?$")
    removed = []
    try:
        entries = list(os.scandir(path.parent or "."))
    except OSError:
        return []
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None:
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _pid_alive(pid: int) -> bool:
    """True when a process ``pid`` exists (or might: any answer but 'no such process')."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _host_tag() -> str:
    """Eight hex digits identifying this host in temporary file names."""
    import socket

    return f"{zlib.crc32(socket.gethostname().encode('utf-8', 'replace')):08x}"


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_file(path: str | os.PathLike, what: str, error: type[Exception] = FileFormatError) -> Path:
    """Return ``path`` as a Path if it is an existing regular file; else raise ``error`` naming it.

    ``what`` describes the file in the message (e.g. ``"statistics file"``). A folder is
    reported as a folder, not as missing.
    """
    path = Path(path)
    if path.is_dir():
        raise error(f"{what} {str(path)!r} is a folder, not a file")
    if not path.exists():
        raise error(f"{what} {str(path)!r} does not exist")
    if not path.is_file():
        raise error(f"{what} {str(path)!r} is not a regular file")
    if not os.access(path, os.R_OK):
        raise error(f"{what} {str(path)!r} is not readable (permission denied)")
    return path


def write_csv(table, path: str | os.PathLike) -> Path:
    """Write a pandas DataFrame as CSV (no index), whole or not at all; returns the path."""
    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp:
        table.to_csv(tmp, index=False)
    return path


def read_csv(path: str | os.PathLike):
    """Read a UTF-8 CSV file into a pandas DataFrame.

    Raises
    ------
    FileFormatError
        Naming the file: missing, a folder, unreadable, binary (NUL bytes), not UTF-8,
        empty, or not parseable as CSV.
    """
    import pandas as pd

    path = check_file(path, "CSV file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError as exc:
        raise FileFormatError(f"CSV file {str(path)!r} cannot be read: {exc.strerror or exc}") from exc
    if b"\x00" in head:
        raise FileFormatError(f"CSV file {str(path)!r} is a binary file, not a CSV table")
    if not head.strip():
        raise FileFormatError(f"CSV file {str(path)!r} is empty")
    try:
        return pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"CSV file {str(path)!r} is not UTF-8 text (byte {exc.start}: "
                              f"{exc.object[exc.start:exc.start + 1]!r})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileFormatError(f"CSV file {str(path)!r} is not a readable CSV table: {first}") from exc


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (or its class name): for one-line errors."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _first_byte(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(1)
    except OSError:
        return b""


def read_npz(path: str | os.PathLike, what: str, error: type[Exception] = FileFormatError) -> dict:
    """Read every member of a ``.npz`` archive as a numpy array, never unpickling anything.

    Returns ``{name: array}``. Raises ``error`` naming the file (and the member where one is
    at fault) when it is missing, a folder, not a ``.npz`` archive, truncated or corrupt
    (including a compressed member that fails to inflate or its CRC check), holds pickled
    objects, a member that is not a numpy array, or the same member twice.
    """
    import numpy as np

    path = check_file(path, what, error)
    name = str(path)
    try:
        obj = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():  # numpy takes anything that is neither zip nor .npy for a pickle
            if _first_byte(path) == b"\x80":
                raise error(f"{what} {name!r} is a Python pickle, not a .npz archive; neurograph never "
                            "unpickles files") from exc
            raise error(f"{what} {name!r} is corrupt or not a .npz archive (neither a zip archive nor a "
                        "numpy file)") from exc
        raise error(f"{what} {name!r} is corrupt or not a .npz archive: {first_line(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - a corrupt archive raises many kinds
        raise error(f"{what} {name!r} is corrupt or not a .npz archive: {first_line(exc)}") from exc
    if not isinstance(obj, np.lib.npyio.NpzFile):
        raise error(f"{what} {name!r} is a single .npy array, not a .npz archive")
    data: dict = {}
    member = None
    try:
        with obj as z:
            if len(set(z.files)) != len(z.files):
                raise error(f"{what} {name!r} is corrupt: it holds some member twice ({sorted(z.files)})")
            for member in z.files:
                value = z[member]
                if not isinstance(value, np.ndarray):
                    raise error(f"{what} {name!r} is corrupt: member {member!r} is not a numpy array")
                data[member] = value
    except error:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise error(f"{what} {name!r}: member {member!r} holds Python objects (pickled); neurograph "
                        "reads plain numeric and text arrays only and never unpickles") from exc
        raise error(f"{what} {name!r} is corrupt (member {member!r}): {first_line(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - zlib.error, BadZipFile (CRC), EOFError, MemoryError, ...
        where = f" (member {member!r})" if member is not None else ""
        raise error(f"{what} {name!r} is corrupt{where}: {type(exc).__name__}: {first_line(exc)}") from exc
    return data
