"""A live view of a running grid: a table of its runs, or plain lines when stdout is not a terminal.

Each run is *queued*, *running* (with the iteration reached, the total and the ETA, read from the
``progress.json`` its run directory holds: see :mod:`dgen.progress`), *done* (with its wall time),
*skipped* (finished before) or *failed* (with the one-line reason). The states come from the engine's
:class:`~dgen.bench.runner.BenchEvent` stream and the progress from the run directories, so the view
is the same for the local and the Ray engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from dgen.progress import read_progress

from dgen.bench.plan import PlannedRun
from dgen.bench.runner import BenchEvent, describe_event

__all__ = ["GridView", "grid_view", "progress_text", "duration_text"]

_STYLES = {"queued": "dim", "running": "cyan", "done": "green", "skipped": "dim green", "failed": "bold red"}


def duration_text(seconds: float | None) -> str:
    """``42s``, ``7m05s``, ``2h03m``; ``–`` for None."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_text(run: PlannedRun) -> tuple[str, str]:
    """``("120/400", "ETA 7m05s")`` from the run's ``progress.json`` (``("", "")`` while it has none)."""
    progress = read_progress(run.run_dir)
    if progress is None:
        return "", ""
    return f"{progress.iteration}/{progress.total}", f"ETA {duration_text(progress.eta_seconds())}"


@dataclass
class _Row:
    run: PlannedRun
    state: str = "queued"
    note: str = ""


@dataclass
class GridView:
    """The state of every run of a grid, updated by :meth:`update` (an engine's ``on_event``).

    ``live``: render a table (call :meth:`table`); else print one plain line per event to ``console``.
    """

    console: Console
    live: bool
    rows: dict[str, _Row] = field(default_factory=dict)
    total: int = 0

    def update(self, event: BenchEvent) -> None:
        """Record ``event``; in plain mode print its line."""
        self.total = event.total
        row = self.rows.setdefault(event.run.point.name, _Row(event.run))
        outcome = event.outcome
        if event.kind == "queue":
            row.state, row.note = "queued", ""
        elif event.kind == "start":
            row.state, row.note = "running", "resumed" if event.run.state == "unfinished" else ""
        elif event.kind == "skip":
            row.state, row.note = "skipped", "finished before"
        elif event.kind == "done":
            row.state, row.note = "done", f"in {duration_text(outcome.seconds if outcome else None)}"
        else:
            row.state, row.note = "failed", outcome.error if outcome else ""
        if not self.live and event.kind != "queue":
            self.console.print(describe_event(event), markup=False, soft_wrap=True, highlight=False)

    def table(self) -> Group:
        """A summary line and the table of runs as they stand now (running runs read their ``progress.json``)."""
        counts = {s: sum(r.state == s for r in self.rows.values()) for s in _STYLES}
        title = (f"{self.total} runs: {counts['done']} done, {counts['running']} running, "
                 f"{counts['failed']} failed, {counts['skipped']} skipped, {counts['queued']} queued")
        table = Table("run", "state", "iteration", "ETA / note")
        for name, row in self.rows.items():
            iteration, eta = progress_text(row.run) if row.state == "running" else ("", "")
            note = " ".join(p for p in (eta, row.note) if p)
            table.add_row(name, f"[{_STYLES[row.state]}]{row.state}[/]", iteration, Text(note))
        return Group(Text(title, style="bold"), table)


@contextmanager
def grid_view(console: Console, *, refresh_per_second: float = 1.0) -> Iterator[GridView]:
    """A :class:`GridView` shown live on ``console`` while the block runs (when it is a terminal), else
    printing plain lines."""
    view = GridView(console, live=console.is_terminal)
    if not view.live:
        yield view
        return
    with Live(console=console, refresh_per_second=refresh_per_second, get_renderable=view.table, transient=False):
        yield view
