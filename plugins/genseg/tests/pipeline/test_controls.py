"""The controls that isolate GenSeg's MLO: α frozen (``arch_lr=0``) and ``joint`` (no hypergradient), both on
GenSeg's data stream; and ``strong``, the classic baseline with the augmenter registered as ``strong``."""

from __future__ import annotations

import csv
import json

import pytest
import torch

import dgen.plugins
from dgen.checkpoint import load_state, load_weights
from dgen.errors import DgenError
from dgen_genseg.generate import generate


def _rows(run):
    with (run / "log.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _alphas(run):
    return {k: v for k, v in load_weights(run / "generator.safetensors").items() if k.endswith(".alpha")}


def _stream(run):
    """The state of every random stream of the data (batches, augmentations) after the run."""
    trainer = load_state(run / "checkpoint.safetensors")["trainer"]
    return {key: trainer[key] for key in ("train", "aug_generator", "val") if key in trainer}


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


@pytest.fixture(scope="module")
def frozen_run(tiny, tmp_path_factory):
    run = tmp_path_factory.mktemp("frozen") / "run"
    tiny.run(run, arch_lr="0", keep_checkpoint="true")  # its checkpoint is read below
    return run


def test_arch_lr_0_freezes_alpha_and_keeps_genseg_paired(tiny, frozen_run, reference_run):
    alphas = _alphas(frozen_run)
    assert alphas and all(torch.equal(a, torch.zeros_like(a)) for a in alphas.values()), "α stays at its initial value"
    assert not all(torch.equal(a, torch.zeros_like(a)) for a in _alphas(reference_run).values()), "genseg moves α"
    warmup = int(tiny.values["warmup_iterations"])
    frozen, genseg = _rows(frozen_run), _rows(reference_run)
    assert frozen[:warmup + 1] == genseg[:warmup + 1], "identical up to the first update of α"
    assert all(float(r["arch_grad_norm"]) > 0 for r in frozen[warmup:]), "the hypergradient is still computed"
    assert _equal(_stream(frozen_run), _stream(reference_run)), "the same batches and augmentations were drawn"
    assert load_state(frozen_run / "checkpoint.safetensors")["trainer"]["arch_opt"]["param_groups"][0]["lr"] == 0


@pytest.fixture(scope="module")
def joint_run(tiny, tmp_path_factory):
    """A tiny joint run, its metrics, and its generator's weights after each iteration."""
    from dgen_genseg.pipeline.methods import Joint

    run, weights, step = tmp_path_factory.mktemp("joint") / "run", {}, Joint.step

    def recording(method, iteration):
        stats = step(method, iteration)
        weights[iteration] = [p.detach().clone() for p in method.gan.generator.weight_parameters()]
        return stats

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Joint, "step", recording)
        metrics = tiny.run(run, method="joint", keep_checkpoint="true")  # its checkpoint is read below
    return run, metrics, weights


def test_joint_trains_g_d_and_s_together_without_hypergradient(tiny, joint_run, reference_run):
    run, metrics, weights = joint_run
    assert metrics["method"] == "joint" and metrics["solver"] is None and metrics["iterations"] == tiny.total
    rows, genseg = _rows(run), _rows(reference_run)
    assert list(rows[0]) == ["iteration", "disc", "gen", "seg", "skipped", "seg_iteration", "val_dice", "val_jaccard", "seg_lr"]
    warmup = int(tiny.values["warmup_iterations"])
    shared = ("disc", "gen", "seg", "skipped")
    assert [[r[c] for c in shared] for r in rows[:warmup]] == [[r[c] for c in shared] for r in genseg[:warmup]], (
        "the same GAN warm-up as genseg"
    )
    assert all(r[c] not in ("", "nan") for r in rows[warmup:] for c in ("disc", "gen", "seg")), "G, D and S each step"
    assert not any(torch.equal(a, b) for a, b in zip(weights[warmup - 1], weights[tiny.total - 1])), (
        "the generator keeps training after the warm-up"
    )
    assert all(torch.equal(a, torch.zeros_like(a)) for a in _alphas(run).values()), "no α update"
    stream, paired = _stream(run), _stream(reference_run)
    assert _equal(stream, {k: v for k, v in paired.items() if k != "val"}), "GenSeg's batches and augmentations"
    assert "val" not in stream, "joint reads no validation batch (only α's loss does)"


def test_dgen_generate_accepts_a_joint_run(joint_run, tmp_path):
    run, _, _ = joint_run
    result = generate(run, 2, tmp_path / "out", device="cpu")
    assert len(result.cases) == 2


def _skip_without_strong():
    if "strong" not in dgen.plugins.registry("augmenters"):
        pytest.skip("strong augmenter not registered")


def test_method_strong_is_classic_training_with_the_strong_augmenter(tiny, tmp_path):
    _skip_without_strong()
    metrics = tiny.run(tmp_path / "strong", method="strong")
    plain = tiny.run(tmp_path / "none", method="none")
    assert metrics["method"] == "strong" and metrics["solver"] is None
    assert metrics["iterations"] == int(tiny.values["iterations"])
    assert [r["seg"] for r in _rows(tmp_path / "strong")] != [r["seg"] for r in _rows(tmp_path / "none")]
    assert not (tmp_path / "strong" / "generator.safetensors").exists() and plain["method"] == "none"


@pytest.mark.parametrize("method", ["genseg", "joint"])
def test_real_augmenter_strong_is_accepted_by_generative_methods(tiny, tmp_path, method):
    _skip_without_strong()
    metrics = tiny.run(tmp_path / "run", method=method, real_augmenter="strong")
    assert metrics["method"] == method and metrics["best_iteration"] > 0


def test_a_stopped_joint_run_resumes_to_the_uninterrupted_one(tiny, joint_run, tmp_path, monkeypatch):
    from dgen_genseg.pipeline.methods import Joint

    from test_resume import sigint_after

    reference, _, _ = joint_run
    run, stop_after = tmp_path / "run", int(tiny.values["warmup_iterations"]) + 1
    with sigint_after(monkeypatch, Joint, stop_after):
        with pytest.raises(DgenError, match=f"stopped by signal 2 after iteration {stop_after}"):
            tiny.run(run, method="joint")
    result = tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress")
    assert result.exit_code == 0, result.output
    assert (run / "log.csv").read_text() == (reference / "log.csv").read_text()
    assert (run / "segmenter.safetensors").read_bytes() == (reference / "segmenter.safetensors").read_bytes()
    assert (run / "generator.safetensors").read_bytes() == (reference / "generator.safetensors").read_bytes()


def test_joint_is_genseg_with_alpha_frozen_bit_for_bit(tiny, joint_run, frozen_run):
    """With the default solver options (unroll, reuse_grads, one look-ahead step) the MLO's G′ and S′ steps are
    joint's ordinary steps, so the only thing GenSeg's MLO changes is α."""
    run, metrics, _ = joint_run
    shared = ("disc", "gen", "seg", "skipped", "val_dice", "val_jaccard", "seg_lr")
    assert [[r[c] for c in shared] for r in _rows(run)] == [[r[c] for c in shared] for r in _rows(frozen_run)]
    for weights in ("segmenter.safetensors", "generator.safetensors", "discriminator.safetensors"):
        assert (run / weights).read_bytes() == (frozen_run / weights).read_bytes(), weights
    frozen = json.loads((frozen_run / "metrics.json").read_text())
    assert metrics["test"] == frozen["test"] and metrics["val"] == frozen["val"]
