"""Thread counts of runs: the fair share of runs started by hand, its re-sizing, explicit --threads, the engines' share."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from dataclasses import dataclass

import pytest
import torch

import dgen.plugins
from dgen.errors import ConfigError
from dgen.hookspecs import hookimpl
from dgen.pipeline import Pipeline, RunContext
from dgen.plugins import load_plugins
from dgen.progress import read_progress
from dgen.run import run_pipeline
from dgen.threads import ThreadShare, RunEntry, check_threads, fair_share, share_of

CORES = frozenset(range(8))


def peer(pid: int, fixed: int | None = None, cores: frozenset[int] = CORES) -> RunEntry:
    return RunEntry(pid, fixed, cores)


@pytest.mark.parametrize(
    "peers, cap, expected",
    [
        ([peer(1)], None, 8),  # alone: every core
        ([peer(1), peer(2)], None, 4),  # two runs by hand: half each, never 8 + 8 on 8 cores
        ([peer(1), peer(2), peer(3)], None, 2),  # 8 // 3
        ([peer(1), peer(2, fixed=6)], None, 2),  # a run with --threads 6 leaves 2
        ([peer(1), peer(2, fixed=8)], None, 1),  # nothing left: still 1
        ([peer(1), peer(2, cores=frozenset({8, 9}))], None, 8),  # a run on other cores does not count
        ([peer(1), peer(2)], 1, 1),  # OMP_NUM_THREADS=1 caps the share
    ],
)
def test_fair_share_by_hand(peers, cap, expected):
    assert fair_share(CORES, peers, cap) == expected


def test_share_of_jobs_and_the_threads_check():
    assert [share_of(8, j) for j in (1, 2, 3, 16)] == [8, 4, 2, 1]
    assert check_threads(None) is None and check_threads(2) == 2
    with pytest.raises(ConfigError, match=r"threads=0 is invalid; give a whole number >= 1, e.g. --threads 2"):
        check_threads(0)


@pytest.fixture
def keep_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def sleeper():
    """A live process standing for another run registered in the folder."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def register(folder, pid: int, threads: int | None, cores) -> None:
    (folder / f"{pid}.json").write_text(json.dumps({"pid": pid, "threads": threads, "cores": sorted(cores)}))


def test_a_run_registers_sizes_its_pools_and_unregisters(tmp_path, keep_threads, sleeper, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    share = ThreadShare(folder=tmp_path)
    cores = share.cores
    register(tmp_path, sleeper.pid, None, cores)  # another run without --threads on the same cores
    register(tmp_path, 2**22 + 7, 1, cores)  # a dead run: ignored, its file removed
    torch.set_num_threads(1)
    with share:
        assert (tmp_path / f"{share.pid}.json").is_file() and not (tmp_path / f"{2**22 + 7}.json").exists()
        assert share.threads == torch.get_num_threads() == max(1, len(cores) // 2)
    assert not (tmp_path / f"{share.pid}.json").exists()
    assert torch.get_num_threads() == 1  # the pool it found is given back


def test_the_share_grows_and_shrinks_between_iterations(tmp_path, keep_threads, sleeper, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    now = [0.0]
    cores = frozenset(range(4))
    share = ThreadShare(folder=tmp_path, monotonic=lambda: now[0])
    monkeypatch.setattr(share, "cores", cores)
    with share:
        assert share.threads == 4
        register(tmp_path, sleeper.pid, None, cores)  # a second run starts
        assert share.refresh() == 4  # not re-checked within a few seconds
        now[0] = 3.0
        assert share.refresh() == 2 and torch.get_num_threads() == 2
        (tmp_path / f"{sleeper.pid}.json").unlink()  # it ended
        now[0] = 6.0
        assert share.refresh() == 4 and torch.get_num_threads() == 4


def test_explicit_threads_are_exact_and_count_for_the_others(tmp_path, keep_threads, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with ThreadShare(1, folder=tmp_path) as fixed:
        assert fixed.threads == torch.get_num_threads() == 1
        entry = json.loads((tmp_path / f"{fixed.pid}.json").read_text())
        assert entry["threads"] == 1
        other = ThreadShare(folder=tmp_path, pid=fixed.pid + 1)  # a second run, in this process for the test
        other.folder = tmp_path
        monkeypatch.setattr("dgen.threads._alive", lambda pid: True)
        assert other.compute() == max(1, len(fixed.cores) - 1)


def test_omp_num_threads_caps_the_default(tmp_path, keep_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with ThreadShare(folder=tmp_path) as share:
        assert share.threads == 1


@dataclass
class ProbeConfig:
    seed: int = 0


class ProbePipeline(Pipeline):
    """Records the intra-op threads it runs with and beats twice."""

    config_class = ProbeConfig
    seen: list[int] = []

    def run(self, config: ProbeConfig, context: RunContext) -> dict:
        ProbePipeline.seen.append(torch.get_num_threads())
        context.heartbeat(1, 2)
        context.heartbeat(2, 2)
        return {}


@pytest.fixture
def probe_plugins(monkeypatch):
    plugin = types.SimpleNamespace(
        __name__="probe_plugin",
        register_pipelines=hookimpl(lambda register: register("probe", ProbePipeline, description="tests")),
    )
    plugins = load_plugins("", extra={"probe": plugin})
    monkeypatch.setattr(dgen.plugins, "get_plugins", lambda: plugins)
    ProbePipeline.seen = []


def test_dgen_run_sets_the_threads_before_the_pipeline_and_writes_progress(tmp_path, keep_threads, probe_plugins):
    torch.set_num_threads(1)
    run_pipeline("probe", {}, out=tmp_path / "a", threads=2, progress=False)
    assert ProbePipeline.seen == [2] and torch.get_num_threads() == 1
    progress = read_progress(tmp_path / "a")
    assert (progress.iteration, progress.total, progress.threads) == (2, 2, 2)
    with pytest.raises(ConfigError, match="threads=0 is invalid"):
        run_pipeline("probe", {}, out=tmp_path / "b", threads=0)
    assert not (tmp_path / "b").exists()  # refused before anything was written


def test_the_engines_share_is_capped_by_omp_num_threads(monkeypatch):
    from dgen.bench.engines import run_share
    from dgen.threads import available_cores

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert run_share(None, 1) == available_cores() and run_share(3, 1) == 3
    assert run_share(None, 10**6) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert run_share(None, 1) == 1 and run_share(3, 1) == 3  # an explicit --threads wins
