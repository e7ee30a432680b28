"""A NaN/Inf in any level stops the run naming the level, the pipeline iteration and the option to
lower, and keeps the last good checkpoint; ``nan_policy=skip`` skips the step and the run finishes.

NaNs are injected at one pipeline iteration (0-based ``AT``) by wrapping a level's loss.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from dgen.checkpoint import load_state
from dgen.errors import NumericalError
from dgen_genseg.pipeline import genseg, levels
from dgen_genseg.pipeline.methods import GenSeg, Supervised
from dgen_genseg.gan import pair_losses
from dgen_genseg.pipeline.parts import pix2pix, segmenter

AT = 5  # a GenSeg iteration (the warm-up is 0-1); the checkpoints before it are after iterations 2 and 4


class Injector:
    """Knows the pipeline iteration being run and poisons results at iteration ``at``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: int) -> None:
        self.monkeypatch, self.at, self.now = monkeypatch, at, -1
        for cls in (Supervised, GenSeg):
            monkeypatch.setattr(cls, "step", self._tracking(cls.step))

    def _tracking(self, step: Callable) -> Callable:
        def tracked(trainer, iteration):
            self.now = iteration
            return step(trainer, iteration)

        return tracked

    @property
    def active(self) -> bool:
        return self.now == self.at

    def nan_loss(self, owner: object, name: str) -> None:
        """Replace ``owner.name`` (a loss function or method) by one returning NaN at ``at``."""
        original = getattr(owner, name)

        def poisoned(*args, **kwargs):
            loss = original(*args, **kwargs)
            return loss * math.nan if self.active else loss

        self.monkeypatch.setattr(owner, name, poisoned)


def _log_rows(run: Path) -> list[dict[str, str]]:
    with (run / "log.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _assert_kept(run: Path, after: int) -> None:
    """The checkpoint is the one written after iteration ``after``, and it is all finite."""
    state = load_state(run / "checkpoint.safetensors")
    assert state["iteration"] == after
    tensors = [v for v in _leaves(state["trainer"]) if isinstance(v, torch.Tensor) and v.is_floating_point()]
    assert tensors and all(bool(torch.isfinite(t).all()) for t in tensors)
    assert [int(r["iteration"]) for r in _log_rows(run)] == list(range(AT))


def _leaves(state):
    if isinstance(state, dict):
        for value in state.values():
            yield from _leaves(value)
    elif isinstance(state, (list, tuple)):
        for value in state:
            yield from _leaves(value)
    else:
        yield state


# level, where its loss is computed, the option named in the fix
MLO_LEVELS = [
    ("arch", (levels.ArchLevel, "loss"), "arch_lr"),
    ("gen", (levels.GenLevel, "loss"), "gen_lr"),
    ("seg", (levels.SegLevel, "loss"), "seg_lr"),
    ("discriminator", (pix2pix, "discriminator_pair_loss"), "gen_lr"),
]


@pytest.mark.parametrize("level, where, option", MLO_LEVELS, ids=[m[0] for m in MLO_LEVELS])
def test_a_nan_loss_stops_the_run_naming_level_iteration_and_fix(tiny, tmp_path, monkeypatch, level, where, option):
    Injector(monkeypatch, AT).nan_loss(*where)
    with pytest.raises(NumericalError) as caught:
        tiny.run(tmp_path / "run")
    message = str(caught.value)
    assert message.startswith(f"iteration {AT + 1} of {tiny.total}: ")
    assert f"the loss of level '{level}' is nan" in message
    assert f"lower {option}" in message and f"--set {option}=" in message and "--set nan_policy=skip" in message
    assert f"the last good checkpoint (after iteration 4) is kept in {tmp_path / 'run' / 'checkpoint.safetensors'}" in message
    assert "\n" not in message
    _assert_kept(tmp_path / "run", after=4)


def test_a_nan_gradient_with_a_finite_loss_is_caught_too(tiny, tmp_path, monkeypatch):
    injector = Injector(monkeypatch, AT)
    original = pair_losses.discriminator_loss

    def nan_gradients(real_logits, fake_logits):
        if injector.active:
            real_logits.register_hook(lambda grad: torch.full_like(grad, math.nan))
        return original(real_logits, fake_logits)

    monkeypatch.setattr(pair_losses, "discriminator_loss", nan_gradients)
    with pytest.raises(NumericalError, match=f"iteration {AT + 1} of 8: a gradient of level 'discriminator' has NaN/Inf"):
        tiny.run(tmp_path / "run")
    _assert_kept(tmp_path / "run", after=4)


def test_a_nan_in_the_warmup_before_any_checkpoint_says_so(tiny, tmp_path, monkeypatch):
    Injector(monkeypatch, 1).nan_loss(pix2pix, "generator_pair_loss")  # the warm-up's pix2pix loss
    with pytest.raises(NumericalError) as caught:
        tiny.run(tmp_path / "run")
    message = str(caught.value)
    assert message.startswith("iteration 2 of 8: the loss of level 'gen' is nan; lower gen_lr")
    assert message.endswith("no checkpoint had been written yet (the first comes after iteration 2).")
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


def test_a_nan_in_a_baseline_names_the_segmenter(tiny, tmp_path, monkeypatch):
    injector = Injector(monkeypatch, AT)
    original = segmenter.SEG_LOSSES["bce_dice"]
    monkeypatch.setitem(
        segmenter.SEG_LOSSES, "bce_dice", lambda *a: original(*a) * math.nan if injector.active else original(*a)
    )
    with pytest.raises(NumericalError, match=f"iteration {AT + 1} of 6: the loss of level 'seg' is nan; lower seg_lr"):
        tiny.run(tmp_path / "run", method="none")


def test_nan_validation_predictions_name_the_segmenter(tiny, tmp_path, monkeypatch):
    injector = Injector(monkeypatch, AT)
    original = genseg.evaluate
    monkeypatch.setattr(
        genseg, "evaluate",
        lambda segmenter, images, masks, **kw: original(segmenter, images * (math.nan if injector.active else 1), masks, **kw),
    )
    with pytest.raises(NumericalError) as caught:
        tiny.run(tmp_path / "run")
    message = str(caught.value)
    assert message.startswith(f"validation after iteration {AT + 1} of 8: predictions contain NaN or Inf")
    assert "lower seg_lr" in message
    _assert_kept(tmp_path / "run", after=4)


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # TensorBoard's image of inf α
def test_weights_that_overflow_are_not_saved_over_the_last_good_checkpoint(tiny, tmp_path, monkeypatch):
    """An update that overflows α without a NaN loss (validation does not read α) is caught before the checkpoint."""
    step = GenSeg.step

    def overflowing(trainer, iteration):
        stats = step(trainer, iteration)
        if iteration == 3:
            with torch.no_grad():
                next(iter(trainer.gan.generator.arch_parameters())).fill_(math.inf)
        return stats

    monkeypatch.setattr(GenSeg, "step", overflowing)
    with pytest.raises(NumericalError) as caught:
        tiny.run(tmp_path / "run")
    message = str(caught.value)
    assert message.startswith("after iteration 4 of 8, generator/down.0.conv.alpha holds NaN/Inf values")
    assert "(an update overflowed); not saving that state: lower arch_lr" in message
    assert load_state(tmp_path / "run" / "checkpoint.safetensors")["iteration"] == 2


@pytest.mark.parametrize("level, where", [("arch", (levels.ArchLevel, "loss")), ("disc", (pix2pix, "discriminator_pair_loss"))])
def test_nan_policy_skip_skips_the_step_and_finishes(tiny, tmp_path, monkeypatch, level, where):
    Injector(monkeypatch, AT).nan_loss(*where)
    metrics = tiny.run(tmp_path / "run", nan_policy="skip")
    assert metrics["best_iteration"] > 0 and "skipped_steps" not in metrics  # metrics.json keeps its fixed keys
    rows = _log_rows(tmp_path / "run")
    assert [r["skipped"] for r in rows] == ["0"] * AT + ["1"] + ["0"] * (tiny.total - AT - 1)
    assert rows[AT][level] == "nan"


def test_the_cli_prints_a_nan_as_one_red_line(tiny, tmp_path, monkeypatch):
    Injector(monkeypatch, AT).nan_loss(levels.ArchLevel, "loss")
    result = tiny.cli("run", "genseg", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress", *tiny.set_args())
    line = tiny.error_line(result)
    assert f"error: iteration {AT + 1} of 8: the loss of level 'arch' is nan" in line
    assert "--set arch_lr=" in line and "the last good checkpoint (after iteration 4)" in line


def test_the_advice_for_a_nan_with_alpha_frozen_does_not_suggest_lowering_a_zero_learning_rate():
    from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
    from dgen_genseg.pipeline.parts.updates import Updates

    frozen, _ = resolve_preset(GenSegConfig(arch_lr=0.0, preset="cpu"), torch.device("cpu"))
    advice = Updates(frozen).advice("arch")
    assert "lower arch_lr" not in advice and "arch_lr is 0 (α frozen)" in advice and "nan_policy=skip" in advice
    moving, _ = resolve_preset(GenSegConfig(preset="cpu"), torch.device("cpu"))
    assert Updates(moving).advice("arch").startswith("lower arch_lr, now 0.003")
