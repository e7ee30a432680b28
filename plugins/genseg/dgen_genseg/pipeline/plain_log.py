"""Progress where there is no terminal (Slurm, CI, ``nohup``, a pipe): a plain line every N iterations.

A progress bar redraws one line with control characters; in a file it is noise, and rich shows
nothing until the end. When stdout is not a terminal, the training loop uses :class:`PlainProgress`
instead, which prints lines such as::

    iteration 150/1000 (15%) seg_loss=0.412 gen_loss=1.93 val_dice=0.731 best=0.742 | elapsed 0:02:31, ETA 0:14:16

every ``every`` iterations and after the last one. It has the part of ``rich.progress.Progress``'s
interface that the loop uses (a context manager with ``add_task`` and ``update``).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["PlainProgress", "duration", "wants_plain_lines"]


def wants_plain_lines(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stdout) is not a terminal, so that a progress bar would not show
    (a Jupyter notebook, where rich draws its bar as a widget, is not such a case)."""
    if stream is None:
        from rich.console import Console

        if Console().is_jupyter:
            return False
        stream = sys.stdout
    isatty = getattr(stream, "isatty", None)
    return not (isatty is not None and isatty())


def duration(seconds: float) -> str:
    """``3725.2`` -> ``"1:02:05"``."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class PlainProgress:
    """Prints ``iteration i/total (p%) STATS | elapsed E, ETA R`` every ``every`` iterations and at the end.

    Args:
        every: iterations between lines (the option ``log_every``).
        stream: where lines go (default stdout), flushed at once so that ``tail -f`` shows them.
        clock: seconds, monotonic (tests give a fake one).
    """

    def __init__(self, every: int, stream: TextIO | None = None, clock: Any = time.perf_counter) -> None:
        if every < 1:
            raise ValueError(f"every={every} must be >= 1")
        self.every, self.stream, self.clock = every, stream, clock
        self._total = self._done = self._first = 0
        self._started = 0.0

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def add_task(self, description: str, *, total: int, completed: int = 0, **fields: Any) -> int:
        """Start counting at ``completed`` (a resumed run) of ``total``; returns a task id (always 0)."""
        self._total, self._done, self._first, self._started = total, completed, completed, self.clock()
        return 0

    def update(self, task: int, *, advance: int = 1, stats: str = "", **fields: Any) -> None:
        """Count ``advance`` iterations; print a line on every ``every``-th and on the last one."""
        self._done += advance
        if self._done % self.every and self._done != self._total:
            return
        elapsed = self.clock() - self._started
        ran = self._done - self._first
        eta = duration(elapsed / ran * (self._total - self._done)) if ran else "?"
        percent = 100 * self._done // max(self._total, 1)
        line = f"iteration {self._done}/{self._total} ({percent}%) {stats} | elapsed {duration(elapsed)}, ETA {eta}"
        print(" ".join(line.split()), file=self.stream or sys.stdout, flush=True)
