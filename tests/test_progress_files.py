"""``progress.json`` leaves no temporary behind: its writes are atomic like every file of a run, and the
temporaries of a writer killed mid-write (kill -9) are removed when the run starts or resumes."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dgen.progress import Progress, read_progress, remove_stale_progress, write_progress
from dgen.run import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
PROGRESS = Progress(3, 8, 1000.0, 0, 1003.0)

#: a writer that blocks just before its rename: killing it then leaves whatever temporary it wrote.
_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from dgen.progress import Progress, write_progress

run_dir = Path(sys.argv[1])
def blocked(*args):
    (run_dir.parent / "ready").write_text("")
    time.sleep(60)
os.replace = blocked
write_progress(run_dir, Progress(3, 8, 1000.0, 0, 1003.0))
"""


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def _debris(run_dir: Path) -> list[str]:
    return sorted(p.name for p in run_dir.iterdir() if p.name.startswith(".progress.json."))


def test_a_failed_progress_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    write_progress(tmp_path, PROGRESS)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError):
        write_progress(tmp_path, Progress(4, 8, 1000.0, 0, 1004.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["progress.json"]
    assert read_progress(tmp_path) == PROGRESS


def test_only_the_pid_temporaries_of_dead_processes_are_removed(tmp_path):
    dead, alive = f".progress.json.{_dead_pid()}.tmp", f".progress.json.{os.getpid()}.tmp"
    kept = [alive, "progress.json", ".progress.json.tmp", ".metrics.json.123.tmp"]
    for name in [dead, *kept]:
        (tmp_path / name).write_text("{")
    assert [p.name for p in remove_stale_progress(tmp_path)] == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert remove_stale_progress(tmp_path / "none") == []


def test_the_temporary_of_a_progress_writer_killed_mid_write_is_removed_when_the_run_resumes(tmp_path):
    run_dir = tmp_path / "run"
    run_pipeline("toy", {"iterations": "2", "n_train": "4", "n_val": "4"}, out=run_dir, device="cpu", progress=False,
                 threads=1)
    (run_dir / "metrics.json").unlink()  # as if killed before it finished
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(run_dir)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ready").exists():
            assert writer.poll() is None and time.monotonic() < deadline, "the writer did not get to its rename"
            time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert len(_debris(run_dir)) == 1, "the killed writer left its temporary"
    (run_dir / f".progress.json.{_dead_pid()}.tmp").write_text("{")  # what an earlier version left
    result = run_pipeline("toy", {}, resume=run_dir, device="cpu", progress=False, threads=1)
    assert result.metrics and _debris(run_dir) == []
    assert json.loads((run_dir / "progress.json").read_text())["iteration"] == 2
