"""The ``ray`` engine on a local Ray instance (2 CPUs, shared by this module's tests), with the fake ``dgen run``:
the same semantics as the local engine (skip, resume, failures, the grid going on, the CLI)."""

from __future__ import annotations

import json
import re
import sys
import time

import pytest
from typer.testing import CliRunner

import dgen.bench.command
from dgen.bench import DgenRunCommand, grid_spec, run_bench
from dgen.bench.plan import plan_grid
from dgen.bench.ray_engine import RayEngine
from dgen.bench.runner import BenchEvent, describe_report
from dgen.cli import app

from bench.conftest import FAKE_DGEN, calls
from bench.fake_config import FAKE_RECORDS, FakeBenchConfig
from bench.test_runner import _alive

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'dgen[ray]'); the ray engine is untested")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module", autouse=True)
def ray_instance():
    """One local Ray instance for the module (starting one costs seconds); the engine uses it and leaves it up."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def grid(**extras: str):
    axes = {"task": ["shapes"], "method": ["none", "genseg"], "seed": [0]}
    return grid_spec(pipeline="benchfake", axes=axes, extras=extras, records=FAKE_RECORDS)


def bench(spec, out, **kwargs):
    return run_bench(spec, out, command=DgenRunCommand(device="cpu", prefix=(sys.executable, str(FAKE_DGEN)), threads=1),
                     config_class=FakeBenchConfig, engine=RayEngine(cpus=1), **kwargs)


def test_a_grid_runs_as_ray_tasks_and_a_rerun_skips_it(tmp_path):
    events: list[BenchEvent] = []
    report = bench(grid(), tmp_path, jobs=2, on_event=events.append)
    assert report.ok and [o.status for o in report.outcomes] == ["finished", "finished"]
    names = ["shapes-none-s0", "shapes-genseg-s0"]
    for name in names:
        run_dir = tmp_path / "runs" / name
        assert calls(run_dir) == ["fresh"]
        assert json.loads((run_dir / "metrics.json").read_text())["method"] == name.split("-")[1]
        assert "--threads 1" in (run_dir / "bench.log").read_text()
    assert sorted(e.kind for e in events) == ["done", "done", "queue", "queue", "start", "start"]
    again = bench(grid(), tmp_path)
    assert describe_report(again) == "2 runs: 0 ran, 2 already finished, none failed."
    assert all(calls(tmp_path / "runs" / n) == ["fresh"] for n in names)


def test_tasks_run_concurrently_on_the_cluster(tmp_path):
    """2 CPUs, 1 per task, 2 in flight: each run waits for the other to start (no timing assumption)."""
    report = bench(grid(rendezvous="2"), tmp_path, jobs=2)
    assert report.ok and [calls(o.run.run_dir) for o in report.outcomes] == [["fresh", "met"], ["fresh", "met"]]


def test_an_unfinished_run_is_resumed_and_a_failed_one_reported_while_the_grid_goes_on(tmp_path):
    spec = grid_spec({"pipeline": "benchfake", "settings": [{"seed": 0, "set": {"fail": True}}, {"seed": 1},
                                                            {"seed": 2}]}, records=FAKE_RECORDS)
    half = plan_grid(spec, tmp_path, FakeBenchConfig)[1].run_dir  # as a killed grid leaves it
    half.mkdir(parents=True)
    (half / "config.json").write_text(json.dumps({"pipeline": "benchfake", "seed": 1}))
    report = bench(spec, tmp_path, jobs=3)
    assert [o.status for o in report.outcomes] == ["failed", "finished", "finished"]
    assert report.failed[0].error.startswith("error: fake failure") and report.failed[0].returncode == 1
    assert calls(half) == ["resume"]


def test_dgen_bench_engine_ray_on_the_command_line(tmp_path, monkeypatch, bench_plugins):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(dgen.bench.command, "DgenRunCommand", lambda device, threads: DgenRunCommand(
        device=device, threads=threads, prefix=(sys.executable, str(FAKE_DGEN))))
    args = ["bench", "--pipeline", "benchfake", "--task", "shapes", "--method", "none", "--method", "genseg",
            "--engine", "ray", "--jobs", "2", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    out = ANSI.sub("", result.output)
    assert result.exit_code == 0, out
    assert "2 runs: 2 ran, 0 already finished, none failed." in out
    assert "| shapes (n=20) | in-domain | genseg | 1 |" in (tmp_path / "results.md").read_text()
    assert "--engine ray" in (tmp_path / "commands.txt").read_text()
    result = CliRunner().invoke(app, args)
    assert "2 runs: 0 ran, 2 already finished" in ANSI.sub("", result.output)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="runs die with their task only on Linux (PDEATHSIG)")
def test_an_interrupted_grid_cancels_its_tasks_and_a_rerun_resumes_them(tmp_path):
    names = ["shapes-none-s0", "shapes-genseg-s0"]

    def interrupt(event: BenchEvent) -> None:  # Ctrl-C once both runs have written their config.json
        if event.kind == "start" and event.index == 2:
            deadline = time.monotonic() + 60
            while not all((tmp_path / "runs" / n / "config.json").exists() for n in names):
                assert time.monotonic() < deadline, "the tasks did not start"
                time.sleep(0.05)
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        bench(grid(sleep="30"), tmp_path, jobs=2, on_event=interrupt)
    assert time.monotonic() - started < 25  # the 30 s runs were cancelled, not awaited
    pids = [int((tmp_path / "runs" / n / "calls.txt").read_text().split()[2]) for n in names]
    deadline = time.monotonic() + 20
    while any(map(_alive, pids)):  # the runs die with their cancelled tasks
        assert time.monotonic() < deadline, "runs outlived their cancelled Ray tasks"
        time.sleep(0.05)
    report = bench(grid(sleep="30"), tmp_path, jobs=2)
    assert report.ok and all(calls(tmp_path / "runs" / n) == ["fresh", "resume"] for n in names)


def test_runs_on_cuda_are_refused_on_a_cluster_without_gpus_before_any_task_starts(tmp_path):
    """The local instance has no GPU: a task asking for one would wait forever."""
    from dgen.errors import ConfigError

    with pytest.raises(ConfigError, match="--device cuda asks a GPU for every run, but the Ray cluster has none"):
        run_bench(grid(), tmp_path, command=DgenRunCommand(device="cpu", prefix=(sys.executable, str(FAKE_DGEN)),
                                                           threads=1),
                  config_class=FakeBenchConfig, engine=RayEngine(cpus=1, device="cuda"))
    assert not list((tmp_path / "runs").glob("*/calls.txt")), "no run started"
