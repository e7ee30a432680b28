"""The live view of a grid and the progress files it reads: states, iteration and ETA, plain lines off a terminal."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from dgen.bench.live import GridView, duration_text, grid_view
from dgen.bench.plan import PlannedRun
from dgen.bench.runner import BenchEvent, RunOutcome
from dgen.bench.spec import RunPoint
from dgen.progress import Heartbeat, Progress, read_progress, write_progress


def test_progress_rate_and_eta_by_hand(tmp_path):
    # resumed at iteration 100 at t=1000; at t=1060 it reached 130 of 400: 2 s per iteration, 270 left
    progress = Progress(130, 400, 1000.0, 100, 1060.0)
    assert progress.seconds_per_iteration() == 2.0 and progress.eta_seconds() == 540.0
    assert Progress(100, 400, 1000.0, 100, 1000.0).eta_seconds() is None
    write_progress(tmp_path, progress)
    assert read_progress(tmp_path) == progress
    assert read_progress(tmp_path / "none") is None
    (tmp_path / "progress.json").write_text("{")
    assert read_progress(tmp_path) is None


def test_heartbeat_writes_at_most_every_interval_and_at_the_end(tmp_path, monkeypatch):
    now = [100.0]
    monkeypatch.setattr("dgen.progress.time.time", lambda: now[0])
    beat = Heartbeat(tmp_path, every=10.0)
    beat(1, 5)
    now[0] = 104.0
    beat(2, 5)  # within 10 s: not written
    assert read_progress(tmp_path).iteration == 1
    now[0] = 112.0
    beat(3, 5)
    assert read_progress(tmp_path).iteration == 3 and read_progress(tmp_path).seconds_per_iteration() == 6.0
    now[0] = 113.0
    beat(5, 5)  # the last iteration is always written
    assert read_progress(tmp_path).iteration == 5


@pytest.mark.parametrize("seconds, text", [(None, "–"), (42.4, "42s"), (425, "7m05s"), (7380, "2h03m")])
def test_duration_text(seconds, text):
    assert duration_text(seconds) == text


def planned(tmp_path, seed: int) -> PlannedRun:
    return PlannedRun(RunPoint("p", seed=seed), tmp_path / f"s{seed}", "new")


def test_the_table_shows_every_state(tmp_path):
    runs = [planned(tmp_path, s) for s in range(4)]
    view = GridView(Console(file=io.StringIO()), live=True)
    for i, run in enumerate(runs, 1):
        view.update(BenchEvent("queue", run, i, 4))
    view.update(BenchEvent("start", runs[0], 1, 4))
    runs[0].run_dir.mkdir()
    write_progress(runs[0].run_dir, Progress(30, 120, 0.0, 0, 60.0))  # 2 s per iteration, 90 left
    view.update(BenchEvent("start", runs[1], 2, 4))
    view.update(BenchEvent("done", runs[1], 2, 4, outcome=RunOutcome(runs[1], "finished", 75.0, 0)))
    view.update(BenchEvent("start", runs[2], 3, 4))
    view.update(BenchEvent("fail", runs[2], 3, 4, outcome=RunOutcome(runs[2], "failed", 1.0, 1, "error: bad option")))
    out = io.StringIO()
    Console(file=out, width=200).print(view.table())
    text = out.getvalue()
    assert "4 runs: 1 done, 1 running, 1 failed, 0 skipped, 1 queued" in text
    lines = {line.split()[1]: line for line in text.splitlines() if line.strip().startswith("│ s")}
    assert "running" in lines["s0"] and "30/120" in lines["s0"] and "ETA 3m00s" in lines["s0"]
    assert "done" in lines["s1"] and "in 1m15s" in lines["s1"]
    assert "failed" in lines["s2"] and "error: bad option" in lines["s2"]
    assert "queued" in lines["s3"]


def test_plain_lines_when_stdout_is_not_a_terminal(tmp_path):
    out = io.StringIO()
    run = planned(tmp_path, 0)
    with grid_view(Console(file=out, force_terminal=False)) as view:
        assert not view.live
        view.update(BenchEvent("queue", run, 1, 1))
        view.update(BenchEvent("start", run, 1, 1))
        view.update(BenchEvent("done", run, 1, 1, outcome=RunOutcome(run, "finished", 2.0, 0)))
    assert out.getvalue().splitlines() == ["[1/1] start s0", "[1/1] done s0 in 2.0 s"]


def test_a_terminal_gets_the_live_table(tmp_path):
    out = io.StringIO()
    run = planned(tmp_path, 0)
    with grid_view(Console(file=out, force_terminal=True, width=120)) as view:
        assert view.live
        view.update(BenchEvent("queue", run, 1, 1))
        view.update(BenchEvent("start", run, 1, 1))
        view.update(BenchEvent("fail", run, 1, 1, outcome=RunOutcome(run, "failed", 1.0, 1, "error: no data")))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "1 runs: 0 done, 0 running, 1 failed" in text and "error: no data" in text
    assert "[1/1]" not in text  # no plain lines on a terminal
