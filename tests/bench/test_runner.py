"""Running grids with the fake ``dgen run`` (``fake_dgen.py``): skip, resume, jobs, failures, interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dgen.bench import DgenRunCommand, grid_spec, run_bench, run_grid
from dgen.bench.plan import PlannedRun, plan_grid
from dgen.bench.process import bench_lock
from dgen.bench.runner import BenchEvent, describe_event, describe_report, last_error_line
from dgen.bench.spec import RunPoint
from dgen.errors import ConfigError
from dgen.records import Axis

from bench.conftest import FAKE_DGEN, calls
from bench.fake_config import FAKE_RECORDS, FakeBenchConfig

REPO = Path(__file__).resolve().parents[2]


def two_runs(**extras: str):
    axes = {"task": ["shapes"], "backbone": ["unet"], "method": ["none", "genseg"], "seed": [0]}
    return grid_spec(pipeline="benchfake", axes=axes, extras=extras, records=FAKE_RECORDS)


def bench(spec, out, command, **kwargs):
    return run_bench(spec, out, command=command, config_class=FakeBenchConfig, **kwargs)


def test_dgen_run_command_for_fresh_and_unfinished_runs(tmp_path):
    axes = ((Axis("task"), "isic"), (Axis("method"), "genseg"), (Axis("n_labeled", int, "n"), 40))
    point = RunPoint("genseg", axes, seed=2,
                     extras={"preset": "cpu", "ood_dirs": ["a", "b"], "backbone_options": {"encoder": "r18"},
                             "reuse_grads": False})
    command = DgenRunCommand(device="cuda", prefix=("dgen",), threads=3)
    assert command(PlannedRun(point, tmp_path / "r", "new")) == [
        "dgen", "run", "genseg", "--task", "isic", "--seed", "2", "--set", "method=genseg", "--set", "n_labeled=40",
        "--set", "preset=cpu", "--set", "ood_dirs=a,b", "--set", 'backbone_options={"encoder": "r18"}',
        "--set", "reuse_grads=false", "--out", str(tmp_path / "r"), "--device", "cuda", "--threads", "3",
        "--no-progress",
    ]
    assert command(PlannedRun(point, tmp_path / "r", "unfinished")) == [
        "dgen", "run", "genseg", "--resume", str(tmp_path / "r"), "--device", "cuda", "--threads", "3", "--no-progress",
    ]
    assert DgenRunCommand().prefix == (sys.executable, "-m", "dgen.cli")


def test_a_grid_runs_each_point_once_and_a_rerun_skips_finished_runs(tmp_path, fake_command):
    events: list[BenchEvent] = []
    report = bench(two_runs(), tmp_path, fake_command, on_event=events.append)
    assert report.ok and [o.status for o in report.outcomes] == ["finished", "finished"]
    names = ["shapes-unet-none-s0", "shapes-unet-genseg-s0"]
    assert [(e.kind, e.run.point.name) for e in events] == [
        ("queue", names[0]), ("queue", names[1]), ("start", names[0]), ("done", names[0]), ("start", names[1]),
        ("done", names[1]),
    ]
    for name in names:
        run_dir = tmp_path / "runs" / name
        assert calls(run_dir) == ["fresh"]
        assert json.loads((run_dir / "metrics.json").read_text())["method"] == name.split("-")[2]
        log = (run_dir / "bench.log").read_text()
        assert log.startswith("# dgen bench ") and "fake fresh run" in log and "--device cpu" in log
    again = bench(two_runs(), tmp_path, fake_command)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert all(calls(tmp_path / "runs" / n) == ["fresh"] for n in names)
    assert describe_report(again) == "2 runs: 0 ran, 2 already finished, none failed."


def test_an_unfinished_run_is_resumed(tmp_path, fake_command):
    planned = plan_grid(two_runs(), tmp_path, FakeBenchConfig)
    half = planned[1].run_dir  # as a killed `dgen run` leaves it: config.json, no metrics.json
    half.mkdir(parents=True)
    saved = {"pipeline": "benchfake", "task": "shapes", "backbone": "unet", "method": "genseg", "seed": 0}
    (half / "config.json").write_text(json.dumps(saved))
    events: list[BenchEvent] = []
    report = bench(two_runs(), tmp_path, fake_command, on_event=events.append)
    assert report.ok
    assert calls(half) == ["resume"] and calls(planned[0].run_dir) == ["fresh"]
    assert "--resume" in next(e.command for e in events if e.kind == "start" and e.run.run_dir == half)
    start = next(e for e in events if e.run.run_dir == half and e.kind == "start")
    assert describe_event(start) == "[2/2] resume shapes-unet-genseg-s0"


def test_jobs_run_concurrently(tmp_path, fake_command):
    """With 2 jobs both runs are alive at once: each waits for the other to start (no timing assumption;
    run one after the other, the first would give up after 60 s without logging ``met``)."""
    report = bench(two_runs(rendezvous="2"), tmp_path, fake_command, jobs=2)
    assert report.ok
    assert [calls(o.run.run_dir) for o in report.outcomes] == [["fresh", "met"], ["fresh", "met"]]


def test_a_failing_run_is_reported_and_the_grid_goes_on(tmp_path, fake_command):
    failing = grid_spec({"pipeline": "benchfake", "settings": [{"seed": 0, "set": {"fail": True}}, {"seed": 1}]},
                        records=FAKE_RECORDS)
    events: list[BenchEvent] = []
    report = bench(failing, tmp_path, fake_command, on_event=events.append)
    assert not report.ok
    assert [o.status for o in report.outcomes] == ["failed", "finished"]
    bad = report.failed[0]
    assert bad.returncode == 1 and bad.error.startswith("error: fake failure")
    assert bad.log == tmp_path / "runs" / "s0" / "bench.log" and bad.log.is_file()
    line = describe_event(next(e for e in events if e.kind == "fail"))
    assert line.startswith("[1/2] FAILED s0 (exit 1): error: fake failure") and str(bad.log) in line
    assert "1 failed (s0); see each run's bench.log" in describe_report(report)


def test_exit_zero_without_metrics_is_a_failure(tmp_path):
    runs = plan_grid(grid_spec(pipeline="benchfake", records=FAKE_RECORDS), tmp_path, FakeBenchConfig)
    report = run_grid(runs, command=lambda run: [sys.executable, "-c", "print('did nothing')"])
    assert report.failed[0].error == "the run exited 0 but wrote no metrics.json; see its log"


def test_a_run_that_cannot_start_is_reported(tmp_path):
    runs = plan_grid(grid_spec(pipeline="benchfake", axes={"seed": [0, 1]}, records=FAKE_RECORDS), tmp_path, FakeBenchConfig)
    report = run_grid(runs, command=lambda run: [str(tmp_path / "no-such-program")])
    assert [o.status for o in report.outcomes] == ["failed", "failed"]
    assert report.outcomes[0].error.startswith(f"cannot start {tmp_path / 'no-such-program'}: ")
    assert describe_event(BenchEvent("fail", runs[0], 1, 2, outcome=report.outcomes[0])).startswith(
        "[1/2] FAILED s0: cannot start"
    )


def test_last_error_line(tmp_path):
    log = tmp_path / "bench.log"
    assert last_error_line(log) == "(no log)"
    log.write_text("# dgen bench cmd\nstarting\nTraceback\n  File x\nValueError: bad\nbye\n")
    assert last_error_line(log) == "ValueError: bad"
    log.write_text("# dgen bench cmd\nKilled\n")
    assert last_error_line(log) == "Killed"


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match=r"jobs=0 is invalid; give a whole number >= 1"):
        run_grid([], jobs=0)


def test_a_second_bench_on_the_same_directory_is_refused(tmp_path, fake_command):
    with bench_lock(tmp_path):
        with pytest.raises(ConfigError, match=rf"is in use by another dgen bench \(pid {os.getpid()}\) or by a run"):
            bench(two_runs(), tmp_path, fake_command)
    assert bench(two_runs(), tmp_path, fake_command).ok  # released


def wait_for_configs(runs_root: Path, names: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not all((runs_root / n / "config.json").exists() for n in names):
        assert time.monotonic() < deadline, f"the runs {names} did not all start"
        time.sleep(0.02)


NAMES = ["shapes-unet-none-s0", "shapes-unet-genseg-s0"]


@pytest.mark.skipif(sys.platform == "win32", reason="no advisory locks on Windows")
def test_the_runs_hold_the_lock_until_they_exit(tmp_path):
    runs = plan_grid(grid_spec(pipeline="benchfake", records=FAKE_RECORDS), tmp_path, FakeBenchConfig)
    with bench_lock(tmp_path) as fds:
        probe = f"import os; os.fstat({fds[0]})"  # fails with EBADF unless the run inherited the lock
        report = run_grid(runs, command=lambda run: [sys.executable, "-c", probe], inherit_fds=fds)
        orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], pass_fds=fds)
    assert report.failed[0].error == "the run exited 0 but wrote no metrics.json; see its log"
    try:
        with pytest.raises(ConfigError, match="or by a run it started that is still stopping"):
            with bench_lock(tmp_path):
                pass
    finally:
        orphan.kill()
        orphan.wait()
    with bench_lock(tmp_path):  # free once the last holder exited
        pass


def test_an_interrupted_grid_stops_its_runs_and_a_rerun_resumes_them(tmp_path, fake_command):
    def interrupt(event: BenchEvent) -> None:  # Ctrl-C once both runs are under way
        if event.kind == "start" and event.index == 2:
            wait_for_configs(tmp_path / "runs", NAMES)
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        bench(two_runs(sleep="30"), tmp_path, fake_command, jobs=2, on_event=interrupt)
    assert time.monotonic() - started < 25  # the 30 s runs were terminated, not awaited
    assert not any((tmp_path / "runs" / n / "metrics.json").exists() for n in NAMES)
    report = bench(two_runs(sleep="30"), tmp_path, fake_command)
    assert report.ok and all(calls(tmp_path / "runs" / n) == ["fresh", "resume"] for n in NAMES)


DRIVER = """
import sys
sys.path[:0] = [{repo!r}, {tests!r}]
from dgen.bench import DgenRunCommand, grid_spec, run_bench
from bench.fake_config import FAKE_RECORDS, FakeBenchConfig
axes = {{"task": ["shapes"], "backbone": ["unet"], "method": ["none", "genseg"], "seed": [0]}}
spec = grid_spec(pipeline="benchfake", axes=axes, extras={{"sleep": "60"}}, records=FAKE_RECORDS)
run_bench(spec, {out!r}, jobs=2, command=DgenRunCommand(device="cpu", prefix=(sys.executable, {fake!r})),
          config_class=FakeBenchConfig)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie has exited


@pytest.mark.parametrize("kill", ["process group", "bench process only"])
def test_killing_the_bench_mid_grid_then_rerunning_finishes_the_grid(tmp_path, fake_command, kill):
    if kill == "bench process only" and not sys.platform.startswith("linux"):
        pytest.skip("runs die with dgen bench only on Linux (PR_SET_PDEATHSIG)")
    script = DRIVER.format(repo=str(REPO), tests=str(REPO / "tests"), out=str(tmp_path), fake=str(FAKE_DGEN))
    driver = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        wait_for_configs(tmp_path / "runs", NAMES)
    finally:
        if kill == "process group":
            os.killpg(driver.pid, signal.SIGKILL)
        else:
            driver.kill()
        driver.wait()
    pids = [int((tmp_path / "runs" / n / "calls.txt").read_text().split()[2]) for n in NAMES]
    deadline = time.monotonic() + 20
    while any(map(_alive, pids)):  # the runs die with dgen bench: none keeps going beside the rerun
        assert time.monotonic() < deadline, "runs outlived the killed dgen bench"
        time.sleep(0.05)
    assert not any((tmp_path / "runs" / n / "metrics.json").exists() for n in NAMES)
    report = bench(two_runs(sleep="60"), tmp_path, fake_command)
    assert report.ok and all(calls(tmp_path / "runs" / n) == ["fresh", "resume"] for n in NAMES)
