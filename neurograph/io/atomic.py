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
#: The longest file name (in bytes) most file systems allow (NAME_MAX).
_NAME_MAX = 255
#: Bytes a temporary name adds to ``NAME`` at most: ``.`` + ``.ngtmp-`` + host + pid + random + suffix.
_TMP_EXTRA = 1 + len(_TMP_TAG) + 2 + 8 + 1 + 10 + 1 + 8 + 16


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    On any exception the temporary file is removed and ``path`` is left untouched,
    so a reader never sees a half-written file.

    What is refused, before anything is written (the message names ``path``): a target that
    is a folder, a FIFO, a device, a socket or anything else that is not a regular file, and a
    target that is a symbolic link (neurograph never writes through a link onto the file it
    points to, nor silently replaces the link: remove it or write elsewhere). A folder on the
    way to ``path`` may be a link. An existing file keeps its permission bits (not its
    set-user/group-id bits); a new file gets ``0o666 & ~umask``.

    The temporary file is named ``.NAME.ngtmp-HOST-PID-RANDOM`` + ``suffix`` (``HOST`` a
    short hash of the host name, ``PID`` the writing process); where that would be longer than
    255 bytes, ``NAME`` is replaced by a 16-digit hash of it, so any name that fits the file
    system can be written. A writer killed mid-write (SIGKILL, power loss) cannot remove its
    temporary file; the next write to the same target removes such leftovers, but only those
    made on this host by a process that no longer exists, so a concurrent writer's live
    temporary file is never touched (a recycled pid only delays the clean-up). Clean-up is
    skipped where processes cannot be probed safely (Windows) and never raises.

    Raises
    ------
    FileNotFoundError
        If the folder of ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    FileFormatError
        If ``path`` is a link, a FIFO, a device or a socket; or, with the ``errno`` of the
        cause, when the write fails (disk full, file too large, permission denied, read-only
        file system, ...): the message names ``path`` (not the temporary file), and the
        temporary file is removed.
    """
    path = Path(path)
    mode = check_writable_target(path)
    remove_stale_temporaries(path)
    if suffix is not None and len(suffix.encode("utf-8")) > 16:
        suffix = suffix[-16:]
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{_tmp_stem(path.name)}.{_TMP_TAG}-{_host_tag()}-{os.getpid()}-",
                                   suffix=suffix if suffix is not None else ".tmp", dir=path.parent or ".")
    except OSError as exc:
        raise _write_error(path, exc) from exc
    tmp_path = Path(tmp)
    try:
        os.close(fd)
        yield tmp_path
        # mkstemp makes 0600: give the file the mode the target has, or the usual one for a new file
        # (after the write, so that a read-only mode does not stop the writer)
        os.chmod(tmp_path, mode if mode is not None else 0o666 & ~_umask())
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
            check_writable_target(path)  # the target changed while we wrote: refuse, as up front
        os.replace(tmp_path, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, FileFormatError) and _about(exc, tmp_path, path):
            raise _write_error(path, exc) from exc
        if isinstance(exc, RuntimeError) and _WRITE_FAILED.search(str(exc)):  # torch.save on a full disk
            raise _write_error(path, exc) from exc
        raise


#: RuntimeErrors of writers that mean the file could not be written (torch's zip writer).
_WRITE_FAILED = re.compile(r"PytorchStreamWriter failed|file write failed|unexpected pos", re.IGNORECASE)


def check_writable_target(path: str | os.PathLike) -> int | None:
    """Check that ``path`` may be written by :func:`atomic_path`; return the mode to keep (None: a new file).

    Raises ``FileNotFoundError`` (its folder does not exist), ``NotADirectoryError`` (its
    folder is a file), ``IsADirectoryError`` (it is a folder), or
    :class:`~neurograph.errors.FileFormatError` (a link, FIFO, device, socket), naming ``path``.
    """
    import errno
    import stat

    path = Path(path)
    folder = path.parent
    if str(folder) and not folder.exists():
        raise _oserror(FileNotFoundError, errno.ENOENT,
                       f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    if str(folder) and not folder.is_dir():
        raise _oserror(NotADirectoryError, errno.ENOTDIR,
                       f"cannot write {str(path)!r}: {str(folder)!r} is a file, not a folder")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _write_error(path, exc) from exc
    if stat.S_ISLNK(st.st_mode):
        try:
            to = os.readlink(path)
        except OSError:
            to = "?"
        raise _refusal(path, f"is a symbolic link (to {to!r}); neurograph does not write through or over links: "
                             "remove the link or write elsewhere", errno.ELOOP)
    if stat.S_ISDIR(st.st_mode):
        raise _oserror(IsADirectoryError, errno.EISDIR, f"cannot write {str(path)!r}: it is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise _refusal(path, f"is {kind}; neurograph writes regular files only and does not replace it", errno.EEXIST)
    return stat.S_IMODE(st.st_mode) & 0o777  # the permission bits, without set-user/group-id or sticky bits


def check_not_input(out: str | os.PathLike, inputs: dict, flag: str = "--out") -> None:
    """Refuse an output file that is one of the ``inputs`` (``{argument: path}``), by inode, not by name.

    Two names of one file (a link, a hard link, ``./x`` and ``x``) are caught; a missing
    output or input is never the same file. Raises :class:`~neurograph.errors.FileFormatError`
    naming both arguments, so nothing is overwritten.
    """
    if not os.path.exists(out):
        return
    for arg, p in inputs.items():
        if p is None:
            continue
        for one in (p if isinstance(p, (list, tuple)) else [p]):
            try:
                same = os.path.exists(one) and os.path.samefile(out, one)
            except OSError:
                same = False
            if same:
                raise FileFormatError(f"{flag}: {str(out)!r} is the same file as the input {arg} {str(one)!r}; "
                                      "neurograph does not overwrite its input: write elsewhere")


def copy_file(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy the bytes of regular file ``src`` to ``dst`` through :func:`atomic_path` (never through a link)."""
    import shutil

    src, dst = Path(src), Path(dst)
    check_file(src, "file to copy")
    if dst.exists() and os.path.samefile(src, dst):
        return dst
    with atomic_path(dst, suffix=src.suffix[:16] or ".tmp") as tmp:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    return dst


def _tmp_stem(name: str) -> str:
    """``name`` in temporary names, or a hash of it where the temporary name would pass 255 bytes."""
    if len(name.encode("utf-8", "surrogateescape")) + _TMP_EXTRA <= _NAME_MAX:
        return name
    import hashlib

    return hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _about(exc: OSError, *paths: Path) -> bool:
    """True when OS error ``exc`` is about one of ``paths`` or names no file (a failed write: ENOSPC, EFBIG)."""
    names = [f for f in (exc.filename, exc.filename2) if f is not None]
    return not names or any(os.fspath(f) in {os.fspath(p) for p in paths} for f in names)


def _refusal(path: Path, why: str, code: int) -> FileFormatError:
    return _oserror(FileFormatError, code, f"cannot write {str(path)!r}: it {why}")


def _oserror(cls: type[OSError], code: int, message: str) -> OSError:
    """``cls(message)`` with ``errno`` set: one line, no ``[Errno n]`` prefix."""
    err = cls(message)
    err.errno = code
    return err


def _write_error(path: Path, exc: BaseException) -> FileFormatError:
    """``exc`` (an OSError of the write, or torch's failed write) as a FileFormatError naming ``path``."""
    import errno as errno_mod

    code = getattr(exc, "errno", None)
    why = (exc.strerror if isinstance(exc, OSError) and exc.strerror else first_line(exc))
    if not isinstance(exc, OSError):  # torch's writer does not say why: a full disk, a file size limit, ...
        why = f"the write failed (disk full or file too large?): {why}"
    name = errno_mod.errorcode.get(code, "") if code else ""
    err = FileFormatError(f"cannot write {str(path)!r}: {why}" + (f" ({name})" if name else ""))
    err.errno = code
    return err


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files that a killed writer of ``path`` left behind; returns those removed.

    Only files named by :func:`atomic_path` for this very target, made on this host, whose
    writing process no longer exists, are removed (see :func:`atomic_path`). Errors are ignored.
    """
    if os.name != "posix":  # os.kill(pid, 0) is not a harmless probe on Windows
        return []
    path = Path(path)
    stem = re.escape(_tmp_stem(path.name))
    pattern = re.compile(rf"^\.{stem}\.{_TMP_TAG}-{_host_tag()}-(\d+)-[A-Za-z0-9_]+(\.[^/]*)?$")
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
    """Write a pandas DataFrame as CSV (no index), whole or not at all; returns the path.

    The file is UTF-8; a lone surrogate in a name (a file name that is not UTF-8, ``b"\\xff"``)
    is written as the text ``\\udcff`` rather than failing the write.
    """
    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8", errors="backslashreplace")
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
