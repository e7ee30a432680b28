"""``dgen.run.run_pipeline``: fresh runs, refusals, resuming, default run directories."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import torch

from dgen.errors import ConfigError, DgenError, ResumeError, UnknownNameError
from dgen.run import CONFIG_FILE, METRICS_FILE, default_run_dir, run_pipeline

from fake_components import FakeConfig, FakePipeline, install_fake_plugins


@pytest.fixture(autouse=True)
def fake_plugins(monkeypatch):
    return install_fake_plugins(monkeypatch)


def run(values=None, **kwargs):
    return run_pipeline("fake", values or {}, device="cpu", progress=False, **kwargs)


def saved_config(run_dir: Path) -> dict:
    return json.loads((run_dir / CONFIG_FILE).read_text())


def test_fresh_run_writes_config_then_runs(tmp_path):
    out = tmp_path / "a" / "b"
    result = run({"iterations": "3", "sizes": "8,16", "data_root": "/d"}, out=out)
    assert result.run_dir == out and not result.already_finished
    assert result.metrics["iterations"] == 3
    assert saved_config(out) == {
        "pipeline": "fake", "task": "shapes", "backbone": "unet", "seed": 0, "iterations": 3, "lr": 1e-3,
        "reuse": True, "solver": "unroll", "sizes": [8, 16], "data_root": "/d",
    }
    (call,) = FakePipeline.calls
    assert call.config == FakeConfig(iterations=3, sizes=(8, 16), data_root=Path("/d"))
    assert call.context.run_dir == out and call.context.device == torch.device("cpu")
    assert call.context.resume is False and call.context.progress is False


def test_out_holding_a_run_is_refused_with_the_resume_hint(tmp_path):
    run(out=tmp_path)
    before = saved_config(tmp_path)
    with pytest.raises(ConfigError, match=re.escape(f"already holds a run; continue it with --resume {tmp_path}")):
        run({"iterations": "5"}, out=tmp_path)
    assert saved_config(tmp_path) == before and len(FakePipeline.calls) == 1


def test_out_may_be_an_existing_empty_directory(tmp_path):
    run(out=tmp_path)
    assert (tmp_path / CONFIG_FILE).is_file()


def test_out_holding_files_but_no_run_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DgenError, match=re.escape(f"--out {tmp_path} is not empty (notes.txt) and holds no run")):
        run(out=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"] and FakePipeline.calls == []


def test_resume_of_a_finished_run_does_not_call_the_pipeline(tmp_path):
    first = run({"iterations": "4"}, out=tmp_path)
    result = run(resume=tmp_path)
    assert result.already_finished and result.run_dir == tmp_path
    assert result.metrics == first.metrics == json.loads((tmp_path / METRICS_FILE).read_text())
    assert len(FakePipeline.calls) == 1


def _interrupted_run(run_dir: Path, **values) -> None:
    """A run that wrote its config but no metrics (killed midway)."""
    run({k: str(v) for k, v in values.items()}, out=run_dir)
    (run_dir / METRICS_FILE).unlink()
    FakePipeline.calls.clear()


def test_resume_with_differing_values_is_refused_naming_the_fields(tmp_path):
    _interrupted_run(tmp_path, iterations=4, lr=0.5, seed=1)
    with pytest.raises(ResumeError) as info:
        run({"iterations": "5", "lr": "0.5", "seed": 2}, resume=tmp_path)
    message = str(info.value)
    assert "iterations: saved 4, given 5" in message and "seed: saved 1, given 2" in message
    assert "lr" not in message and "start a new run with --out" in message
    assert FakePipeline.calls == []


def test_resume_refuses_a_value_that_differs_from_a_default_saved_implicitly(tmp_path):
    _interrupted_run(tmp_path)
    with pytest.raises(ResumeError, match="reuse: saved True, given False"):
        run({"reuse": "false"}, resume=tmp_path)


@pytest.mark.parametrize("given", [{}, {"iterations": "4", "lr": "5e-1", "sizes": "8,16"}, {"iterations": 4.0}])
def test_resume_with_matching_or_no_values_uses_the_saved_config(tmp_path, given):
    _interrupted_run(tmp_path, iterations=4, lr=0.5, sizes="8,16")
    result = run(given, resume=tmp_path)
    assert not result.already_finished
    (call,) = FakePipeline.calls
    assert call.config == FakeConfig(iterations=4, lr=0.5, sizes=(8, 16))
    assert call.context.resume is True and call.context.run_dir == tmp_path


def test_resume_of_a_directory_without_config_fails_clearly(tmp_path):
    with pytest.raises(ResumeError, match=f"cannot resume {re.escape(str(tmp_path))}: it has no config.json"):
        run(resume=tmp_path)
    assert FakePipeline.calls == []


def test_resume_of_a_corrupt_config_fails_clearly(tmp_path):
    (tmp_path / CONFIG_FILE).write_text('{"iterations": 4')
    with pytest.raises(ResumeError, match="config.json is not valid JSON"):
        run(resume=tmp_path)


def test_resume_of_another_pipelines_run_is_refused(tmp_path):
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"pipeline": "genseg", "iterations": 4}))
    with pytest.raises(ResumeError, match=r"it is a run of 'genseg'; run `dgen run genseg --resume"):
        run(resume=tmp_path)


def test_out_and_resume_must_agree(tmp_path):
    _interrupted_run(tmp_path / "r")
    with pytest.raises(ConfigError, match="disagree"):
        run(out=tmp_path / "other", resume=tmp_path / "r")
    run(out=tmp_path / "r", resume=tmp_path / "r")
    assert len(FakePipeline.calls) == 1


def test_bad_values_are_refused_before_anything_is_written(tmp_path, monkeypatch):
    with pytest.raises(UnknownNameError, match="Did you mean 'iterations'"):
        run({"iteratons": "3"}, out=tmp_path / "r")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        run_pipeline("fake", {}, out=tmp_path / "r", device="cuda")
    assert not (tmp_path / "r").exists() and FakePipeline.calls == []


def test_default_run_dir_names_pipeline_task_backbone_seed_and_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run({"task": "derm", "backbone": "deeplab", "seed": 3})
    relative = result.run_dir.relative_to("runs")
    assert re.fullmatch(r"fake-derm-deeplab-s3-\d{8}-\d{6}", str(relative)), relative
    assert (tmp_path / result.run_dir / CONFIG_FILE).is_file()


def test_default_run_dir_skips_missing_fields_and_never_reuses_a_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "strftime", lambda fmt: "20260101-120000")
    first = default_run_dir("toy", {"seed": 0}, root=tmp_path)
    assert first == tmp_path / "toy-s0-20260101-120000"
    first.mkdir()
    second = default_run_dir("toy", {"seed": 0}, root=tmp_path)
    assert second == tmp_path / "toy-s0-20260101-120000.2"
    second.mkdir()
    assert default_run_dir("toy", {"seed": 0}, root=tmp_path).name == "toy-s0-20260101-120000.3"
    assert default_run_dir("toy", {}, root=tmp_path).name == "toy-s0-20260101-120000.3"
