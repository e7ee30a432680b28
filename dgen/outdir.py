"""The run directory: checked before anything is written into it, and disk errors told in one line.

A fresh run's ``--out`` must be a new folder, or an empty one, that this process can write:
:func:`check_fresh_run_dir` refuses a file, a folder that already holds a run, a folder holding
someone's files (they would be overwritten: ``log.csv``, ``metrics.json``, weights), and a folder
that cannot be written (read-only disk, no permission), before anything is created.

:func:`disk_errors` turns an ``OSError`` raised while a run writes (a full disk, a quota, a
folder made read-only mid-run) into an :class:`OutputError` naming the file and the fix.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dgen.errors import DgenError
from dgen.rundir import BENCH_FILE, BENCH_LOG, PROGRESS_FILE

__all__ = ["OutputError", "LAUNCHER_FILES", "check_fresh_run_dir", "disk_errors"]

#: files a launcher writes into a run's folder before it starts the run (``dgen bench``'s log and label).
LAUNCHER_FILES = frozenset({BENCH_LOG, BENCH_FILE})
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EROFS, errno.EACCES, errno.EPERM}
_WRITE_ERRNOS = _FULL | _DENIED | {errno.ENOTDIR, errno.EISDIR, errno.EEXIST}


class OutputError(DgenError):
    """A run directory cannot be used or written."""


def check_fresh_run_dir(run_dir: Path, config_file: str) -> None:
    """Refuse ``run_dir`` as the folder of a new run unless it is absent or empty and writable.

    Raises:
        OutputError: ``run_dir`` is a file, or a folder with someone's files, or cannot be written.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise OutputError(f"--out {run_dir} is a file, not a folder; give a new folder, e.g. --out {run_dir}.run.")
    existing = run_dir.parent if not run_dir.exists() else run_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"--out {run_dir}: {existing} is a file, not a folder; give --out a path through folders.")
    if run_dir.is_dir():
        theirs = sorted(p.name for p in run_dir.iterdir() if p.name not in LAUNCHER_FILES)
        if theirs and config_file not in theirs:
            shown = ", ".join(theirs[:3]) + (f" and {len(theirs) - 3} more" if len(theirs) > 3 else "")
            raise OutputError(
                f"--out {run_dir} is not empty ({shown}) and holds no run: a run would overwrite files there; "
                f"give a new or empty folder, e.g. --out {run_dir / 'run'}."
            )
    _check_writable(existing, run_dir)


def _check_writable(folder: Path, run_dir: Path) -> None:
    """Create and remove a probe file in ``folder`` (permissions and read-only mounts, as root too)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".dgen-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot write into {folder} for --out {run_dir} ({exc.strerror or exc}); "
            "give an --out in a folder you can write, e.g. --out ~/runs/NAME."
        ) from None
    os.close(fd)
    os.unlink(probe)


def _fix(exc: OSError, run_dir: Path, resumable: bool) -> str:
    again = f"then continue with --resume {run_dir}" if resumable else "then run the same command again"
    if exc.errno in _FULL:
        return f"free space on that disk (or raise your quota), {again}"
    if exc.errno in _DENIED:
        return f"make {run_dir} writable, {again}, or start a new run with an --out you can write"
    return f"check that path, {again}"


@contextmanager
def disk_errors(run_dir: Path, resumable: Callable[[], bool]) -> Iterator[None]:
    """Turn an ``OSError`` of writing (full disk, read-only, not a folder) inside into one ``OutputError``.

    Args:
        run_dir: the run's folder, named in the fix.
        resumable: called after the error; whether ``--resume run_dir`` can continue the run.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in _WRITE_ERRNOS:
            raise
        where = exc.filename or run_dir
        reason = (exc.strerror or str(exc)).rstrip(".")
        raise OutputError(f"cannot write {where}: {reason}; {_fix(exc, Path(run_dir), resumable())}.") from exc


@contextmanager
def fresh_start(run_dir: Path, config_file: str, config_text: str) -> Iterator[None]:
    """Create ``run_dir`` (checked by :func:`check_fresh_run_dir`) and write ``config_file`` into it; if the
    run fails before it wrote anything else (any exception: a failed start), undo both, so that the same
    command can be run again once the problem is fixed. A run that wrote more (a log, a checkpoint) keeps
    its folder, to be continued with ``--resume``.
    """
    from dgen.checkpoint import atomic_write_text

    run_dir = Path(run_dir)
    created = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / config_file, config_text)
        yield
    except BaseException:
        left = {p.name for p in run_dir.iterdir()} - LAUNCHER_FILES if run_dir.is_dir() else set()
        if left <= {config_file, PROGRESS_FILE}:  # the options and the progress note: nothing of a run yet
            for name in left:
                (run_dir / name).unlink(missing_ok=True)
            for folder in created:  # innermost first; a folder someone else filled meanwhile stays
                try:
                    folder.rmdir()
                except OSError:
                    break
        raise
