"""Running planned grid runs, each in its own process, ``jobs`` at a time.

Finished runs are skipped, unfinished ones resumed, new ones started. Each run's output (stdout
and stderr) is appended to ``<run dir>/bench.log``. A run that fails (non-zero exit, or exit 0
without ``metrics.json``) is reported with its last error line and the grid goes on.

The command each run executes is built by a :data:`CommandBuilder`; the default,
:class:`DgenRunCommand`, is ``python -m dgen.cli run ...``. Tests inject another one.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dgen.errors import ConfigError
from dgen.rundir import BENCH_LOG, METRICS_FILE

from dgen.bench.labels import write_label
from dgen.bench.plan import PlannedRun
from dgen.bench.process import child_preexec

__all__ = [
    "LOG_FILE", "CommandBuilder", "DgenRunCommand", "RunOutcome", "BenchEvent", "GridReport", "run_grid",
    "start_run", "run_outcome", "skip_finished", "check_jobs", "last_error_line", "describe_event", "describe_report",
]

#: each run's log, in its run directory.
LOG_FILE = BENCH_LOG
#: builds the command line of one planned run.
CommandBuilder = Callable[[PlannedRun], list[str]]
_DIRECT_OPTIONS = ("task", "backbone", "seed")  # options `dgen run` takes directly; the rest go through --set
_TAIL_BYTES = 65536


def _as_text(value: Any) -> str:
    """A JSON value as ``dgen run --set`` parses it back (lists comma-joined, objects as JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return ",".join(_as_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


@dataclass(frozen=True)
class DgenRunCommand:
    """``dgen run`` for a planned run: fresh runs get every option and ``--out``, unfinished ones
    ``--resume`` (their options are saved in ``config.json``).

    Attributes:
        device: passed to ``--device``.
        prefix: the program that takes ``run ...`` arguments (default ``python -m dgen.cli``).
        threads: passed to ``--threads`` (the run's CPU threads), or None (the run takes its fair share).
    """

    device: str = "auto"
    prefix: tuple[str, ...] = (sys.executable, "-m", "dgen.cli")
    threads: int | None = None

    def __call__(self, run: PlannedRun) -> list[str]:
        point = run.point
        command = [*self.prefix, "run", point.pipeline]
        if run.state == "unfinished":
            command += ["--resume", str(run.run_dir)]
        else:
            options = point.options()
            for key in _DIRECT_OPTIONS:
                if key in options:
                    command += [f"--{key}", _as_text(options.pop(key))]
            for key, value in options.items():
                command += ["--set", f"{key}={_as_text(value)}"]
            command += ["--out", str(run.run_dir)]
        threads = ["--threads", str(self.threads)] if self.threads is not None else []
        return command + ["--device", self.device, *threads, "--no-progress"]


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one planned run.

    Attributes:
        status: ``skipped`` (already finished), ``finished`` or ``failed``.
        seconds: wall time of the process (0 when skipped).
        returncode: the process's exit code (None when skipped).
        error: the last error line of the log (failed runs), else ``""``.
        log: the run's log file.
    """

    run: PlannedRun
    status: Literal["skipped", "finished", "failed"]
    seconds: float = 0.0
    returncode: int | None = None
    error: str = ""

    @property
    def log(self) -> Path:
        return self.run.run_dir / LOG_FILE


@dataclass(frozen=True)
class BenchEvent:
    """A progress event: ``queue`` (every run to run, before any starts), ``start`` (with the command), or
    ``skip``/``done``/``fail`` (with the outcome).

    ``index`` counts from 1 over the ``total`` planned runs.
    """

    kind: Literal["queue", "start", "skip", "done", "fail"]
    run: PlannedRun
    index: int
    total: int
    command: tuple[str, ...] = ()
    outcome: RunOutcome | None = None


@dataclass(frozen=True)
class GridReport:
    """The outcome of every planned run, in plan order."""

    outcomes: tuple[RunOutcome, ...]

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        """True when no run failed."""
        return not self.failed


def last_error_line(log: Path) -> str:
    """The last line of ``log`` that mentions an error, else its last non-empty line."""
    if not log.is_file():
        return "(no log)"
    with open(log, "rb") as handle:
        handle.seek(max(0, log.stat().st_size - _TAIL_BYTES))
        lines = [ln.strip() for ln in handle.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("# dgen bench")]
    errors = [ln for ln in lines if "error" in ln.lower()]
    return (errors or lines or ["(no output)"])[-1]


@dataclass
class _Active:
    index: int
    run: PlannedRun
    process: subprocess.Popen
    started: float


def start_run(run: PlannedRun, command: Sequence[str], inherit_fds: Sequence[int] = ()) -> subprocess.Popen:
    """Start ``command`` for ``run``: its label recorded (``bench.json``), its output appended to the run's
    ``bench.log`` (headed by the command),
    the process tied to this one (it gets SIGTERM when this process dies, on Linux). ``OSError`` when the
    program cannot be started."""
    run.run_dir.mkdir(parents=True, exist_ok=True)
    write_label(run.run_dir, run.point.label)
    with open(run.run_dir / LOG_FILE, "ab") as log:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"# dgen bench {stamp}: {shlex.join(command)}\n".encode())
        log.flush()
        return subprocess.Popen(  # the child keeps its own copy of the log descriptor
            list(command), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=child_preexec(), pass_fds=tuple(inherit_fds),
        )


def run_outcome(run: PlannedRun, code: int, seconds: float) -> RunOutcome:
    """The outcome of ``run`` whose process exited with ``code``: failed (non-zero, or no ``metrics.json``)
    with the last error line of its log, else finished."""
    if code != 0:
        return RunOutcome(run, "failed", seconds, code, last_error_line(run.run_dir / LOG_FILE))
    if not (run.run_dir / METRICS_FILE).is_file():
        return RunOutcome(run, "failed", seconds, code, f"the run exited 0 but wrote no {METRICS_FILE}; see its log")
    return RunOutcome(run, "finished", seconds, code)


def _stop(processes: Sequence[subprocess.Popen], grace: float = 30.0) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check_jobs(jobs: int) -> None:
    """``ConfigError`` unless ``jobs`` is a whole number >= 1."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError(f"jobs={jobs!r} is invalid; give a whole number >= 1 (runs at a time), e.g. --jobs 2.")


def skip_finished(
    runs: Sequence[PlannedRun], outcomes: dict[int, RunOutcome], emit: Callable[[BenchEvent], None]
) -> list[tuple[int, PlannedRun]]:
    """Record (and report) the finished runs as skipped and the others as queued; returns the others as
    ``(index, run)`` in reverse plan order (``pop()`` takes them in plan order)."""
    pending = []
    for index, run in enumerate(runs, 1):
        if run.state == "finished":
            outcomes[index] = RunOutcome(run, "skipped")
            emit(BenchEvent("skip", run, index, len(runs), outcome=outcomes[index]))
        else:
            pending.append((index, run))
            emit(BenchEvent("queue", run, index, len(runs)))
    return pending[::-1]


def run_grid(
    runs: Sequence[PlannedRun],
    *,
    jobs: int = 1,
    command: CommandBuilder | None = None,
    on_event: Callable[[BenchEvent], None] | None = None,
    inherit_fds: Sequence[int] = (),
    poll_seconds: float = 0.05,
) -> GridReport:
    """Run ``runs`` (see :func:`dgen.bench.plan.plan_grid`), at most ``jobs`` processes at a time.

    ``inherit_fds`` are file descriptors every run inherits (the benchmark directory's lock). If
    this function is interrupted (Ctrl-C), its running processes are terminated (SIGTERM, then
    SIGKILL after 30 s); rerunning the grid resumes them.
    """
    check_jobs(jobs)
    build = command or DgenRunCommand()
    emit = on_event or (lambda event: None)
    total = len(runs)
    outcomes: dict[int, RunOutcome] = {}
    pending = skip_finished(runs, outcomes, emit)
    active: list[_Active] = []
    try:
        while pending or active:
            while pending and len(active) < jobs:
                index, run = pending.pop()
                argv = build(run)
                try:
                    active.append(_Active(index, run, start_run(run, argv, inherit_fds), time.monotonic()))
                except OSError as exc:  # e.g. the program does not exist: this run fails, the grid goes on
                    outcomes[index] = RunOutcome(run, "failed", error=f"cannot start {argv[0]}: {exc}")
                    emit(BenchEvent("fail", run, index, total, command=tuple(argv), outcome=outcomes[index]))
                    continue
                emit(BenchEvent("start", run, index, total, command=tuple(argv)))
            done = [a for a in active if a.process.poll() is not None]
            for item in done:
                active.remove(item)
                outcome = outcomes[item.index] = run_outcome(item.run, item.process.returncode,
                                                             time.monotonic() - item.started)
                emit(BenchEvent("done" if outcome.status == "finished" else "fail", item.run, item.index, total,
                                outcome=outcome))
            if not done:
                time.sleep(poll_seconds)
    finally:
        _stop([a.process for a in active])
    return GridReport(tuple(outcomes[i] for i in sorted(outcomes)))


def describe_event(event: BenchEvent) -> str:
    """One line about ``event``, e.g. ``[3/12] done darts-n8-s0 in 81.4 s``."""
    head = f"[{event.index}/{event.total}]"
    name = event.run.point.name
    outcome = event.outcome
    if event.kind == "skip":
        return f"{head} skip {name} (finished)"
    if event.kind == "queue":
        return f"{head} queued {name}"
    if event.kind == "start":
        return f"{head} {'resume' if event.run.state == 'unfinished' else 'start'} {name}"
    if event.kind == "fail" and outcome is not None:
        code = "" if outcome.returncode is None else f" (exit {outcome.returncode})"
        return f"{head} FAILED {name}{code}: {outcome.error} — log: {outcome.log}"
    return f"{head} done {name} in {outcome.seconds if outcome else 0.0:.1f} s"


def describe_report(report: GridReport) -> str:
    """A one-line summary: how many runs finished, were skipped and failed (naming the failed ones)."""
    counts = {s: sum(o.status == s for o in report.outcomes) for s in ("finished", "skipped", "failed")}
    line = f"{len(report.outcomes)} runs: {counts['finished']} ran, {counts['skipped']} already finished"
    if report.failed:
        names = ", ".join(o.run.point.name for o in report.failed)
        return f"{line}, {counts['failed']} failed ({names}); see each run's {LOG_FILE}, fix, and rerun to retry them."
    return line + ", none failed."
