"""Atomic file writes without torch: a temporary file in the same folder, fsynced, renamed over the target.

A kill at any moment leaves the previous file intact and at most a temporary ``.NAME.XXXXXXXX.tmp``,
which :func:`remove_stale_temporaries` removes when the run that owns the folder starts again. Used for
every file a run writes (:mod:`dgen.checkpoint` for tensors, ``progress.json``, ``metrics.json``, ...);
importing it costs nothing (the bench's live view and its fake runs have no torch).
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "remove_stale_temporaries"]

_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # what mkstemp(prefix=".NAME.", suffix=".tmp") makes
_OS_CODE = re.compile(r"code: (\d+)")  # safetensors reports an OS error as "IoError(Os { code: 28, ... })"


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _as_os_error(exc: Exception, path: Path) -> OSError:
    """``exc`` (an ``OSError`` or a library's wrapper of one) as an ``OSError`` naming ``path``, not the temporary."""
    code = exc.errno if isinstance(exc, OSError) else None
    if code is None and (found := _OS_CODE.search(str(exc))):
        code = int(found.group(1))
    return OSError(code or errno.EIO, os.strerror(code) if code else str(exc), str(path))


def atomic_write(path: Path, write: Callable[[str], object], *errors: type[Exception]) -> None:
    """Write ``path`` through ``write(tmp)``; the file gets the permissions the umask allows (not mkstemp's 0600).

    Args:
        path: the file to write.
        write: writes the whole content into the temporary file it is given.
        errors: exception types of ``write`` besides ``OSError`` that report a failed write (e.g. safetensors').

    Raises:
        OSError: naming ``path`` (e.g. ENOSPC); ``path`` is then untouched and no temporary is left.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except (OSError, *errors) as exc:
        raise _as_os_error(exc, path) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(path.parent)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Remove the temporary files that a killed process left in ``directory`` (``.NAME.XXXXXXXX.tmp``).

    Call it only when no other process writes into ``directory``. Returns the files removed.
    """
    directory = Path(directory)
    stale = [p for p in directory.iterdir() if _TEMPORARY.match(p.name) and p.is_file()] if directory.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            handle.write(data)

    atomic_write(path, write)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
