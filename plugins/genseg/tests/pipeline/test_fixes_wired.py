"""Each fix of the review changes what the methods do when its option is set (and nothing when it is not: the
method-results fixture), and a tiny run with all of them on trains, exports and resumes bit for bit."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
from torch import Tensor, nn

from dgen.checkpoint import load_state
from dgen.config import build_config
from dgen.errors import DgenError
from dgen.plugins import create, registry
from dgen.search import Genotype
from dgen_genseg.gan.generator import DOWN_CHOICE, FUNCTIONAL_DOWN_CHOICE, FUNCTIONAL_UP_CHOICE, UP_CHOICE
from dgen_genseg.gan.losses import to_tanh_range
from dgen_genseg.generate import generate, load_generator_run
from dgen_genseg.metrics import bce_dice_loss
from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
from dgen_genseg.pipeline.methods import GenSeg, build_trainer
from dgen_genseg.pipeline.parts import SegmenterStep, Updates
from dgen_genseg.pipeline.preflight import make_task
from dgen_genseg.pipeline.sample_mode import render
from dgen_genseg.pipeline.sampler import PairSampler
from test_resume import sigint_after

CPU = torch.device("cpu")
#: every fix on (the "genseg + fixes" recipe of docs/genseg.md, with the tiny run's sizes)
ALL_FIXES = {
    "search_space": "functional", "seg_batchnorm": "separate", "lookahead_lr": "0.001",
    "diffaugment": "color,translation,cutout", "gan_augment": "true", "sample_mode": "eval",
    "real_augmenter": "strong" if "strong" in registry("augmenters") else "combine",  # strong needs its library
}


def _config(tiny, **overrides: str) -> GenSegConfig:
    return resolve_preset(build_config(GenSegConfig, {**tiny.values, **overrides}), CPU)[0]


def _method(tiny, **overrides: str):
    """The tiny run's method, built as the pipeline builds it (seeded: two calls give the same)."""
    config = _config(tiny, **overrides)
    task = make_task(config)
    splits = task.splits()
    torch.manual_seed(config.seed)
    train, val = PairSampler(splits.train, CPU, config.seed), PairSampler(splits.val, CPU, config.seed + 1)
    return build_trainer(config, task, train, val, CPU).method


def _first_segmenter_step(tiny) -> int:
    return int(tiny.values["warmup_iterations"])


@contextmanager
def recorded_calls(module: nn.Module) -> Iterator[list[tuple[bool, tuple[Tensor, ...]]]]:
    """While active, every call of ``module`` (plain or functional) as ``(module.training, inputs detached)``."""
    calls: list[tuple[bool, tuple[Tensor, ...]]] = []
    handle = module.register_forward_pre_hook(lambda m, args: calls.append((m.training, tuple(a.detach() for a in args))))
    try:
        yield calls
    finally:
        handle.remove()


def _cut_out(image: Tensor) -> Tensor:
    """``(B,)``: pixels of each image ``(B, C, H, W)`` that are exactly 0 in every channel (DiffAugment's cutout fill)."""
    return (image == 0).all(dim=1).flatten(1).sum(dim=1)


# --- DiffAugment and jointly augmented GAN pairs -------------------------------------------------------------

@pytest.mark.parametrize("policy", ["none", "cutout"])
def test_diffaugment_transforms_every_discriminator_input_with_one_draw_per_iteration(tiny, policy):
    method = _method(tiny, diffaugment=policy)
    with recorded_calls(method.gan.discriminator) as calls:
        method.step(_first_segmenter_step(tiny) - 1)  # a warm-up pix2pix step
        warmup_calls = len(calls)
        method.step(_first_segmenter_step(tiny))  # the discriminator step and the MLO iteration
    assert warmup_calls == 3 and len(calls) > 5  # D: real, fake, G's fake; then D's step and G's look-ahead loss
    holes = [(_cut_out(image) > 0) for _, (_, image) in calls]  # (B,) per call
    if policy == "none":
        assert not any(h.any() for h in holes)
        return
    side = int(tiny.values["image_size"])
    assert all(h.all() for h in holes), "every input of the discriminator, real and fake, has its cut-out"
    patterns = [(image == 0).all(dim=1) for _, (_, image) in calls]  # (B, H, W)
    assert all(torch.equal(p, patterns[0]) for p in patterns[:warmup_calls]), "one draw for D and G in a warm-up step"
    assert all(torch.equal(p, patterns[warmup_calls]) for p in patterns[warmup_calls:]), "one draw per MLO iteration"
    assert not torch.equal(patterns[0], patterns[warmup_calls]), "a new draw each iteration"
    assert int(_cut_out(calls[0][1][1]).min()) >= (side // 4) ** 2 // 4, "at least a quarter of the H/2 x W/2 square"


def test_gan_augment_trains_the_gan_on_jointly_augmented_real_pairs(tiny, monkeypatch):
    drawn = []
    for gan_augment in ("false", "true"):
        method = _method(tiny, gan_augment=gan_augment)
        real = method.data.real
        batches = []
        monkeypatch.setattr(method.data, "real", lambda: batches.append(real()) or batches[-1])
        with recorded_calls(method.gan.discriminator) as calls:
            method.step(_first_segmenter_step(tiny))
        images, masks = batches[0]
        condition, image = calls[0][1]  # the discriminator's real pair
        conditions = [c for _, (c, _) in calls]
        drawn.append((torch.equal(condition, to_tanh_range(masks)), torch.equal(image, to_tanh_range(images))))
        assert all(torch.equal(c, condition) for c in conditions), "D's step and G's loss use the same masks"
        assert set(condition.unique().tolist()) <= {-1.0, 1.0}, "augmented masks stay binary"
        if gan_augment == "true":
            assert "gan_aug_generator" in method.saved()
    assert drawn[0] == (True, True), "by default the GAN sees the real batch as drawn"
    assert drawn[1] == (False, False), "with gan_augment, the pair moved together"


# --- separate BatchNorm passes ---------------------------------------------------------------------------------

def _tiny_segmenter() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 1, 1))


@pytest.mark.parametrize("mode", ["joint", "separate"])
def test_segmenter_step_keeps_running_statistics_of_real_images_with_separate_batchnorm(tiny, mode):
    """The step of joint, separate and wgan: running statistics after it are those of the real images alone."""
    config = _config(tiny, seg_batchnorm=mode)
    segmenter = _tiny_segmenter()
    step = SegmenterStep(config, segmenter, bce_dice_loss, Updates(config))
    reference = _tiny_segmenter().train()
    generator = torch.Generator().manual_seed(1)
    real, synthetic = torch.rand(4, 3, 8, 8, generator=generator), torch.rand(4, 3, 8, 8, generator=generator) + 2
    masks = (torch.rand(4, 1, 8, 8, generator=generator) > 0.5).float()
    step.on_synthetic_and_real(synthetic, masks, real, masks)
    reference(real)
    bn, expected = segmenter[1], reference[1]
    same = torch.allclose(bn.running_mean, expected.running_mean) and torch.allclose(bn.running_var, expected.running_var)
    assert same == (mode == "separate")


@pytest.mark.parametrize("mode", ["joint", "separate"])
def test_genseg_step_updates_running_statistics_from_real_batches_only(tiny, mode):
    method = _method(tiny, seg_batchnorm=mode)
    batch = int(tiny.values["batch_size"]) if "batch_size" in tiny.values else _config(tiny).batch_size
    first_bn = next(m for m in method.seg.segmenter.modules() if isinstance(m, nn.BatchNorm2d))
    updates: list[tuple[bool, int]] = []
    handle = first_bn.register_forward_pre_hook(
        lambda m, args: updates.append((m.training and m.track_running_stats, args[0].shape[0]))
    )
    try:
        method.step(_first_segmenter_step(tiny))
    finally:
        handle.remove()
    updating = {size for update, size in updates if update}  # real training (B), validation (α's loss) batches
    if mode == "joint":
        assert 2 * batch in updating, "the paper: synthetic + real in one batch that updates the running statistics"
    else:
        assert updating and 2 * batch not in updating, "only real batches update the running statistics"
        assert (False, batch) in updates, "the synthetic pass is normalised on its own and leaves them alone"


# --- fixed look-ahead step --------------------------------------------------------------------------------------

@pytest.mark.parametrize("lookahead_lr", [None, "0.001"])
def test_lookahead_lr_makes_the_hypergradient_independent_of_the_segmenter_lr(tiny, lookahead_lr):
    overrides = {} if lookahead_lr is None else {"lookahead_lr": lookahead_lr}
    norms = []
    for cut in (1.0, 0.01):  # the plateau scheduler cutting seg_lr twice
        method = _method(tiny, **overrides)
        for group in method.seg.optimizer.param_groups:
            group["lr"] *= cut
        norms.append(method.step(_first_segmenter_step(tiny))["arch_grad_norm"])
    assert norms[0] > 0
    if lookahead_lr is None:
        assert norms[1] < norms[0] / 5, "the hypergradient shrinks with the scheduled lr"
    else:
        assert norms[1] == pytest.approx(norms[0], rel=1e-6)


# --- sampling mode ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method_name, sample_mode, expected", [
    ("genseg", None, {True}), ("genseg", "eval", {True, False}), ("joint", "eval", {True, False}),
    ("separate", None, {False}), ("separate", "train", {True}),
])
def test_sample_mode_sets_the_generator_mode_of_the_segmenters_images(tiny, method_name, sample_mode, expected):
    overrides = {"method": method_name} if sample_mode is None else {"method": method_name, "sample_mode": sample_mode}
    method = _method(tiny, **overrides)
    with recorded_calls(method.gan.generator) as calls:
        method.step(_first_segmenter_step(tiny))
    assert {training for training, _ in calls} == expected  # genseg/joint: G trains in train mode, S's images in eval
    assert method.sample_mode == (sample_mode or method.default_sample_mode)


# --- all fixes on, end to end ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fixes_run(tiny, tmp_path_factory):
    run = tmp_path_factory.mktemp("fixes") / "run"
    tiny.run(run, **ALL_FIXES, keep_checkpoint="true")
    return run


def _with_bias(op):
    """``op`` with ``bias=True`` where it has the field (a cell followed by a norm is built without bias)."""
    return dataclasses.replace(op, bias=True) if "bias" in {f.name for f in dataclasses.fields(op)} else op


def test_a_run_with_every_fix_trains_writes_a_functional_genotype_and_generates(tiny, fixes_run, reference_run, tmp_path):
    assert (fixes_run / "log.csv").read_text() != (reference_run / "log.csv").read_text()
    genotype = Genotype.load(fixes_run / "genotype.json")
    functional = set(FUNCTIONAL_DOWN_CHOICE.candidates) | set(FUNCTIONAL_UP_CHOICE.candidates)
    chosen = {_with_bias(op) for op in genotype.values()}
    assert len(genotype) > 0 and chosen <= functional, "every searched cell chose a candidate of the functional space"
    assert not chosen & (set(DOWN_CHOICE.candidates) | set(UP_CHOICE.candidates)) - functional
    config = json.loads((fixes_run / "config.json").read_text())
    assert config["search_space"] == "functional"
    run = load_generator_run(fixes_run, CPU)
    assert run.mode == "eval" and run.generator.search_space == "functional"
    result = generate(fixes_run, 3, tmp_path / "synth", seed=0, device="cpu")
    assert len(result.cases) == 3 and len(list((tmp_path / "synth" / "images").iterdir())) == 3


def test_a_run_with_every_fix_resumes_bit_for_bit(tiny, fixes_run, tmp_path, monkeypatch):
    run = tmp_path / "run"
    with sigint_after(monkeypatch, GenSeg, 3):
        with pytest.raises(DgenError, match="stopped by signal 2 after iteration 3"):
            tiny.run(run, **ALL_FIXES)
    result = tiny.cli("run", "genseg", "--resume", str(run), "--device", "cpu", "--no-progress",
                      "--set", "keep_checkpoint=true")
    assert result.exit_code == 0, result.output
    assert (run / "log.csv").read_text() == (fixes_run / "log.csv").read_text()
    assert (run / "segmenter.safetensors").read_bytes() == (fixes_run / "segmenter.safetensors").read_bytes()
    resumed, uninterrupted = (load_state(r / "checkpoint.safetensors")["trainer"] for r in (run, fixes_run))
    assert torch.equal(resumed["gan_aug_generator"], uninterrupted["gan_aug_generator"])


def test_render_in_train_mode_leaves_the_run_untouched():
    """samples.png, TensorBoard and dgen generate render in the run's mode without changing its training."""
    torch.manual_seed(0)
    generator = create("generators", "pix2pix", in_channels=1, out_channels=3, ngf=4, num_downs=6, max_mult=2).eval()
    masks = (torch.rand(4, 1, 64, 64, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    buffers = {k: v.clone() for k, v in generator.named_buffers()}
    rng = torch.get_rng_state()
    train, again, other = (render(generator, masks, "train", seed=s) for s in (0, 0, 1))
    assert torch.equal(train, again) and not torch.equal(train, other), "dropout drawn from the seed"
    assert not torch.equal(train, render(generator, masks, "eval", seed=0))
    assert not generator.training and torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(v, buffers[k]) for k, v in generator.named_buffers())


@pytest.mark.slow
def test_joint_is_still_genseg_with_alpha_frozen_with_every_fix_on(tiny, tmp_path):
    """Both make the same GAN-augmentation draws in the same order; the look-ahead lr (here unlike seg_lr) only
    shapes α's hypergradient, which α-frozen does not use."""
    fixes = {**ALL_FIXES, "lookahead_lr": "0.0005"}
    tiny.run(tmp_path / "joint", method="joint", **fixes)
    tiny.run(tmp_path / "frozen", arch_lr="0", **fixes)
    shared = ("disc", "gen", "seg", "skipped", "val_dice", "val_jaccard", "seg_lr")
    rows = [(tmp_path / name / "log.csv").read_text().splitlines() for name in ("joint", "frozen")]
    columns = [r[0].split(",") for r in rows]
    picked = [[[line.split(",")[c.index(k)] for k in shared] for line in r[1:]] for c, r in zip(columns, rows)]
    assert picked[0] == picked[1]
    for weights in ("segmenter.safetensors", "generator.safetensors", "discriminator.safetensors"):
        assert (tmp_path / "joint" / weights).read_bytes() == (tmp_path / "frozen" / weights).read_bytes(), weights
