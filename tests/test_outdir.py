"""The run directory and the files written into it: checked before writing, shared with the umask's
permissions, temporaries of killed writers removed, disk errors told in one line (dgen.outdir,
dgen.checkpoint)."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest
import torch

from dgen.checkpoint import atomic_write_text, load_state, remove_stale_temporaries, save_state, save_weights
from dgen.errors import ResumeError
from dgen.outdir import LAUNCHER_FILES, OutputError, check_fresh_run_dir, disk_errors, fresh_start


@pytest.fixture
def umask():
    """Set the umask for one test, then restore it."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_take_the_permissions_the_umask_allows(tmp_path, umask, mask, mode):
    umask(mask)
    atomic_write_text(tmp_path / "metrics.json", "{}")
    save_state(tmp_path / "checkpoint.safetensors", {"w": torch.ones(2), "iteration": 3})
    save_weights(tmp_path / "segmenter.safetensors", {"w": torch.ones(2)})
    for name in ("metrics.json", "checkpoint.safetensors", "segmenter.safetensors"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_a_failed_write_names_the_target_and_leaves_it_and_no_temporary(tmp_path, monkeypatch):
    atomic_write_text(tmp_path / "metrics.json", "old")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as caught:
        atomic_write_text(tmp_path / "metrics.json", "new")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "metrics.json")
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"] and (tmp_path / "metrics.json").read_text() == "old"


def test_only_the_temporaries_of_atomic_writes_are_removed(tmp_path):
    leftovers = [".checkpoint.safetensors.ab_12cd9.tmp", ".metrics.json.zz99aa11.tmp"]
    kept = ["notes.tmp", ".hidden.tmp", "checkpoint.safetensors", ".x.toolong123.tmp"]
    for name in leftovers + kept:
        (tmp_path / name).write_text("x")
    assert sorted(p.name for p in remove_stale_temporaries(tmp_path)) == sorted(leftovers)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)


def test_a_checkpoint_index_naming_a_missing_tensor_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"a": torch.ones(1)}, str(tmp_path / "c.safetensors"),
              metadata={"dgen_state": json.dumps({"w": {"__tensor__": "b"}})})
    with pytest.raises(ResumeError, match="index names a tensor 'b' that the file does not hold; delete it"):
        load_state(tmp_path / "c.safetensors")


def test_a_fresh_run_dir_may_be_new_empty_or_hold_a_launchers_log(tmp_path):
    check_fresh_run_dir(tmp_path / "a" / "b", "config.json")
    check_fresh_run_dir(tmp_path, "config.json")
    (tmp_path / "bench").mkdir()
    for name in LAUNCHER_FILES:
        (tmp_path / "bench" / name).write_text("log")
    check_fresh_run_dir(tmp_path / "bench", "config.json")
    assert "bench.log" in LAUNCHER_FILES  # dgen bench writes its log there before the run starts


def test_dgen_bench_writes_only_a_launcher_file_before_the_run():
    from dgen.bench.runner import LOG_FILE

    assert LOG_FILE in LAUNCHER_FILES


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: (d / "out").write_text("x"), "--out {d}/out is a file, not a folder"),
        (lambda d: ((d / "out").mkdir(), (d / "out" / "log.csv").write_text("x")), "is not empty (log.csv) and holds no run"),
        (lambda d: (d / "parent").write_text("x"), "{d}/parent is a file, not a folder"),
    ],
    ids=["file", "foreign-files", "parent-is-a-file"],
)
def test_unusable_run_dirs_are_refused_before_anything_is_written(tmp_path, make, message):
    make(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    target = tmp_path / ("parent/run" if "parent" in message else "out")
    with pytest.raises(OutputError, match=message.format(d=tmp_path).replace("(", r"\(").replace(")", r"\)")):
        check_fresh_run_dir(target, "config.json")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_failed_fresh_start_removes_its_config_and_the_folders_it_made(tmp_path):
    with pytest.raises(KeyError):
        with fresh_start(tmp_path / "a" / "b", "config.json", "{}"):
            raise KeyError("not a DgenError")
    assert list(tmp_path.iterdir()) == []


def test_a_fresh_run_that_wrote_more_keeps_its_folder_for_resume(tmp_path):
    with pytest.raises(RuntimeError):
        with fresh_start(tmp_path / "run", "config.json", "{}"):
            (tmp_path / "run" / "log.csv").write_text("iteration\n0\n")
            raise RuntimeError("crash at iteration 1")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "log.csv"]


@pytest.mark.parametrize(
    "code, resumable, fix",
    [
        (errno.ENOSPC, True, "free space on that disk (or raise your quota), then continue with --resume {d}."),
        (errno.ENOSPC, False, "free space on that disk (or raise your quota), then run the same command again."),
        (errno.EROFS, True, "make {d} writable, then continue with --resume {d}, or start a new run"),
    ],
)
def test_disk_errors_become_one_line_naming_the_file_and_fix(tmp_path, code, resumable, fix):
    with pytest.raises(OutputError) as caught:
        with disk_errors(tmp_path, lambda: resumable):
            raise OSError(code, os.strerror(code), str(tmp_path / "log.csv"))
    assert str(caught.value).startswith(f"cannot write {tmp_path / 'log.csv'}: {os.strerror(code)}; ")
    assert fix.format(d=tmp_path) in str(caught.value)


def test_other_os_errors_are_not_disguised(tmp_path):
    with pytest.raises(FileNotFoundError):
        with disk_errors(tmp_path, lambda: True):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", "data/x.png")

