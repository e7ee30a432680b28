"""Checkpoint and resume: a run killed at any moment continues to the same result as an
uninterrupted one; finished runs and changed configurations are recognised; nothing unpickles."""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from dgen.checkpoint import load_state, load_weights, save_state, save_weights
from dgen.errors import DgenError
from dgen_genseg.pipeline.methods import GenSeg, Joint, Steer, Wgan

ROOT = Path(__file__).resolve().parents[4]
KILL_AFTER = 3  # SIGKILL once log.csv has the row of this (0-based) iteration: after the checkpoint at 2


@contextmanager
def sigint_after(monkeypatch: pytest.MonkeyPatch, trainer_class: type, stop_after: int) -> Iterator[None]:
    """While active, ``trainer_class.step`` sends this process SIGINT during iteration ``stop_after`` (1-based)."""
    step = trainer_class.step

    def interrupted(self, iteration):
        if iteration == stop_after - 1:
            os.kill(os.getpid(), signal.SIGINT)
        return step(self, iteration)

    with monkeypatch.context() as patch:
        patch.setattr(trainer_class, "step", interrupted)
        yield


def _rows(log: Path) -> int:
    return max(0, len(log.read_text().splitlines()) - 1) if log.is_file() else 0


def test_a_killed_run_resumes_to_the_metrics_of_an_uninterrupted_one(tiny, reference_run, tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "dgen.cli", "run", "genseg", "--out", str(run), "--device", "cpu", "--no-progress"]
    process = subprocess.Popen(
        command + tiny.set_args(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while _rows(run / "log.csv") <= KILL_AFTER and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)  # no handler, no cleanup: as a crash or an OOM kill
    _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, f"the run ended by itself before it was killed: {stderr}"
    assert not (run / "metrics.json").exists()
    killed_at = load_state(run / "checkpoint.safetensors")["iteration"]
    assert 2 <= killed_at < tiny.total
    half_written = run / ".checkpoint.safetensors.k9x_2ab7.tmp"  # what a kill during a checkpoint write leaves
    half_written.write_bytes((run / "checkpoint.safetensors").read_bytes()[:1000])

    result = tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress")

    assert result.exit_code == 0, result.output
    assert not list(run.glob(".*.tmp")), "the resumed run removes the temporary files of the killed one"
    assert not (run / "checkpoint.safetensors").exists() and not (run / "segmenter_best.safetensors").exists()
    resumed = json.loads((run / "metrics.json").read_text())
    assert tiny.without_timing(resumed) == tiny.without_timing(json.loads((reference_run / "metrics.json").read_text()))
    assert (run / "log.csv").read_text() == (reference_run / "log.csv").read_text()
    assert (run / "segmenter.safetensors").read_bytes() == (reference_run / "segmenter.safetensors").read_bytes()


def test_a_run_stopped_by_sigint_resumes_with_its_best_segmenter_from_the_checkpoint(
    tiny, reference_run, tmp_path, monkeypatch
):
    """SIGINT finishes the iteration and saves; on resume the best segmenter comes from the checkpoint,
    even if ``segmenter_best.safetensors`` was written after it (a kill between the two writes)."""
    reference = json.loads((reference_run / "metrics.json").read_text())
    stop_after = 5
    assert reference["best_iteration"] <= stop_after, "the final model must be one chosen before the interruption"
    run = tmp_path / "run"
    with sigint_after(monkeypatch, GenSeg, stop_after):
        with pytest.raises(DgenError, match=f"stopped by signal 2 after iteration {stop_after}; the checkpoint is saved"):
            tiny.run(run)
    state = load_state(run / "checkpoint.safetensors")
    assert state["iteration"] == stop_after
    best = run / "segmenter_best.safetensors"
    save_weights(best, {k: torch.zeros_like(v) for k, v in load_weights(best).items()})  # a best from a lost future

    result = tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress")

    assert result.exit_code == 0, result.output
    assert tiny.without_timing(json.loads((run / "metrics.json").read_text())) == tiny.without_timing(reference)
    assert (run / "log.csv").read_text() == (reference_run / "log.csv").read_text()


@pytest.fixture(scope="module")
def wgan_reference(tiny, tmp_path_factory) -> Path:
    """An uninterrupted tiny wgan run; treat it as read-only."""
    out = tmp_path_factory.mktemp("wgan_reference") / "run"
    tiny.run(out, method="wgan", keep_checkpoint="true")
    return out


@pytest.mark.parametrize("stop_after", [1, 3], ids=["in-warmup", "after-warmup"])
def test_a_stopped_wgan_run_resumes_to_the_uninterrupted_one(tiny, wgan_reference, tmp_path, monkeypatch, stop_after):
    """Stopped inside the pair GAN's warm-up (critic, generator, their optimisers and the noise are resumed) or
    after it (the frozen generator's noise stream is resumed)."""
    run = tmp_path / "run"
    with sigint_after(monkeypatch, Wgan, stop_after):
        with pytest.raises(DgenError, match=f"stopped by signal 2 after iteration {stop_after}"):
            tiny.run(run, method="wgan")
    assert load_state(run / "checkpoint.safetensors")["iteration"] == stop_after

    result = tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress",
                      "--set", "keep_checkpoint=true")  # an option a resumed run may change

    assert result.exit_code == 0, result.output
    reference = json.loads((wgan_reference / "metrics.json").read_text())
    assert tiny.without_timing(json.loads((run / "metrics.json").read_text())) == tiny.without_timing(reference)
    assert (run / "log.csv").read_text() == (wgan_reference / "log.csv").read_text()
    assert (run / "segmenter.safetensors").read_bytes() == (wgan_reference / "segmenter.safetensors").read_bytes()
    resumed, uninterrupted = (load_state(r / "checkpoint.safetensors")["trainer"] for r in (run, wgan_reference))
    for key in ("pair_generator", "critic"):
        for name, value in uninterrupted[key].items():
            torch.testing.assert_close(resumed[key][name], value, rtol=0, atol=0)


#: a steer run with every variable, a pool refilled during it and a hypergradient every other iteration
STEER_ALL = {"method": "steer", "steer": "appearance,geometry,weights,generator,arch", "pool_size": "6",
             "pool_refresh": "3", "hyper_every": "2", "hyper_start": "1"}


@pytest.fixture(scope="module")
def steer_reference(tiny, tmp_path_factory) -> Path:
    """An uninterrupted tiny steer run with every variable; treat it as read-only."""
    out = tmp_path_factory.mktemp("steer_reference") / "run"
    tiny.run(out, **STEER_ALL)
    return out


@pytest.mark.parametrize("stop_after", [2, 5], ids=["in-warmup", "after-warmup"])
def test_a_stopped_steer_run_resumes_to_the_uninterrupted_one(tiny, steer_reference, tmp_path, monkeypatch, stop_after):
    """The appearance and the geometry (their magnitudes and draws), the pool (its masks, weights and draws), the
    steer level's optimiser and the solver's iteration (``hyper_every``) are resumed exactly."""
    run = tmp_path / "run"
    with sigint_after(monkeypatch, Steer, stop_after):
        with pytest.raises(DgenError, match=f"stopped by signal 2 after iteration {stop_after}"):
            tiny.run(run, **STEER_ALL)
    result = tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress")
    assert result.exit_code == 0, result.output
    assert (run / "log.csv").read_text() == (steer_reference / "log.csv").read_text()
    for name in ("segmenter.safetensors", "synthetic_pool.safetensors", "appearance.safetensors", "geometry.safetensors"):
        assert (run / name).read_bytes() == (steer_reference / name).read_bytes(), name


#: a steer run whose pool is weighed by a network, the generator rendering in train mode inside the loss
STEER_WEIGHTNET = {**STEER_ALL, "steer": "appearance,weightnet,generator", "sample_mode": "train"}


def _stop_resume_and_compare(tiny, tmp_path, monkeypatch, trainer: type, options: dict, files: tuple[str, ...]) -> None:
    """Run ``options`` uninterrupted and again stopped by SIGINT after iteration 5 then resumed; the log and ``files``
    of the two must be identical."""
    reference, run = tmp_path / "reference", tmp_path / "run"
    tiny.run(reference, **options)
    with sigint_after(monkeypatch, trainer, 5):
        with pytest.raises(DgenError, match="stopped by signal 2 after iteration 5"):
            tiny.run(run, **options)
    result = tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress")
    assert result.exit_code == 0, result.output
    assert (run / "log.csv").read_text() == (reference / "log.csv").read_text()
    for name in files:
        assert (run / name).read_bytes() == (reference / name).read_bytes(), name


def test_a_stopped_weightnet_run_resumes_to_the_uninterrupted_one(tiny, tmp_path, monkeypatch):
    """The weighting network and its Adam moments are resumed exactly (the network is kept over refills)."""
    _stop_resume_and_compare(tiny, tmp_path, monkeypatch, Steer, STEER_WEIGHTNET,
                             ("segmenter.safetensors", "synthetic_pool.safetensors"))


def test_a_stopped_filtered_joint_run_resumes_to_the_uninterrupted_one(tiny, tmp_path, monkeypatch):
    """``synthetic_filter`` keeps no state and draws nothing: a filtered run resumes bit for bit."""
    _stop_resume_and_compare(tiny, tmp_path, monkeypatch, Joint, {"method": "joint", "synthetic_filter": "0.5"},
                             ("segmenter.safetensors",))


def test_the_checkpoint_holds_every_level_optimizer_and_generator(reference_run):
    state = load_state(reference_run / "checkpoint.safetensors")
    trainer = state["trainer"]
    assert set(trainer) == {
        "segmenter", "seg_opt", "train", "aug_generator",
        "generator", "discriminator", "gen_opt", "arch_opt", "disc_opt", "val", "solver",
    }
    assert any(key.endswith(".alpha") for key in trainer["generator"])  # α lives in the generator's state
    for optimizer in ("seg_opt", "gen_opt", "arch_opt", "disc_opt"):
        assert trainer[optimizer]["state"], f"{optimizer} has no moments saved"
    assert trainer["solver"] == {"solver": "unroll", "iteration": 6, "skipped": 0}
    assert set(state["scheduler"]) >= {"best", "num_bad_epochs", "last_epoch"}
    assert {"python", "numpy", "torch"} <= set(state["rng"])
    assert state["iteration"] == 8 and state["wall_seconds"] > 0 and state["skipped_steps"] == 0
    metrics = json.loads((reference_run / "metrics.json").read_text())
    assert state["best"]["iteration"] == metrics["best_iteration"]
    assert {k: state["best"]["val"][k] for k in ("dice", "jaccard")} == metrics["val"]
    best = load_weights(reference_run / "segmenter_best.safetensors")
    assert best.keys() == state["best"]["segmenter"].keys()
    for key, value in best.items():
        torch.testing.assert_close(value, state["best"]["segmenter"][key], rtol=0, atol=0)


def _copy(run: Path, to: Path) -> Path:
    shutil.copytree(run, to)
    return to


def test_resuming_a_finished_run_says_so_and_exits_0(tiny, reference_run, tmp_path):
    run = _copy(reference_run, tmp_path / "run")
    before = tiny.snapshot(run)
    result = tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress")
    assert result.exit_code == 0, result.output
    assert f"run {run} had already finished; nothing to do." in " ".join(result.stdout.split())
    assert tiny.snapshot(run) == before


def test_resuming_with_another_configuration_is_refused_naming_the_fields(tiny, reference_run, tmp_path):
    run = _copy(reference_run, tmp_path / "run")
    (run / "metrics.json").unlink()  # an unfinished run
    before = tiny.snapshot(run)
    result = tiny.cli("run", "genseg", "--resume", str(run), "--set", "iterations=9", "--seed", "3", "--device", "cpu")
    line = tiny.error_line(result)
    assert f"cannot resume {run} with a different configuration" in line
    assert "iterations: saved 6, given 9" in line and "seed: saved 0, given 3" in line
    assert "start a new run with --out" in line
    assert tiny.snapshot(run) == before


def test_a_checkpoint_that_does_not_fit_the_trainer_is_refused_clearly(tiny, reference_run, tmp_path):
    run = _copy(reference_run, tmp_path / "run")
    (run / "metrics.json").unlink()
    state = load_state(run / "checkpoint.safetensors")
    del state["trainer"]["generator"]
    save_state(run / "checkpoint.safetensors", state)
    line = tiny.error_line(tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress"))
    assert "checkpoint.safetensors cannot continue this run: it has no tensor trainer/generator/" in line
    assert "delete it to restart the run from its first iteration" in line


def _unsafe_loads(path: Path) -> list[str]:
    """``torch.load`` calls without ``weights_only=True``, and any pickle import, in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load":
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "torch":
                safe = any(
                    k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords
                )
                if not safe:
                    found.append(f"{path}:{node.lineno}: torch.load without weights_only=True")
        if isinstance(node, ast.Import) and any(a.name in ("pickle", "dill", "cloudpickle") for a in node.names):
            found.append(f"{path}:{node.lineno}: imports a pickle module")
        if isinstance(node, ast.ImportFrom) and (node.module in ("pickle", "dill", "cloudpickle") or (
            node.module == "torch" and any(a.name == "load" for a in node.names)
        )):
            found.append(f"{path}:{node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}")
    return found


def test_no_code_unpickles_weights():
    """Weights are safetensors; a ``torch.load`` anywhere in dgen or its plugins must pass weights_only=True."""
    files = [p for folder in ("dgen", "plugins") for p in (ROOT / folder).rglob("*.py") if "tests" not in p.parts]
    assert len(files) > 50
    assert [problem for path in files for problem in _unsafe_loads(path)] == []


def test_the_unpickling_check_catches_an_unsafe_load(tmp_path):
    code = tmp_path / "bad.py"
    code.write_text(
        "import torch\nimport pickle\n"
        "a = torch.load('w.pt')\nb = torch.load('w.pt', weights_only=False)\nc = torch.load('w.pt', weights_only=True)\n"
    )
    assert [p.split(": ", 1)[1] for p in _unsafe_loads(code)] == [
        "imports a pickle module", "torch.load without weights_only=True", "torch.load without weights_only=True",
    ]
