"""``synthetic_filter``: the synthetic pairs the segmenter fits worst are left out of its loss (joint, separate,
wgan); the weights against hand-computed cases, one update against a hand-written one, and a run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dgen.errors import ConfigError
from dgen.steer import weighted_mean
from dgen_genseg.metrics import bce_dice_loss
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import per_sample_loss
from dgen_genseg.pipeline.parts.segmenter import SegmenterStep
from dgen_genseg.pipeline.parts.synthetic_filter import keep_weights, pair_losses
from dgen_genseg.pipeline.parts.updates import Updates


@pytest.mark.parametrize(("losses", "fraction", "expected"), [
    ([0.3, 0.9, 0.1, 0.5], 0.0, [1, 1, 1, 1]),
    ([0.3, 0.9, 0.1, 0.5], 0.25, [4 / 3, 0, 4 / 3, 4 / 3]),
    ([0.3, 0.9, 0.1, 0.5], 0.49, [4 / 3, 0, 4 / 3, 4 / 3]),  # floor(0.49 * 4) = 1
    ([0.3, 0.9, 0.1, 0.5], 0.5, [2, 0, 2, 0]),
    ([0.3, 0.9, 0.1, 0.5], 0.9, [0, 0, 4, 0]),  # floor(3.6) = 3: the best-fitted pair alone
    ([0.7], 0.9, [1]),  # one pair is always kept
    ([0.2, 0.2, 0.2, 0.2], 0.25, [4 / 3, 4 / 3, 4 / 3, 0]),  # a tie: the later pair goes first
])
def test_keep_weights_leave_out_the_worst_fitted_pairs(losses, fraction, expected):
    weights = keep_weights(torch.tensor(losses, dtype=torch.float64), fraction)
    assert torch.allclose(weights, torch.tensor(expected, dtype=torch.float64), rtol=0, atol=1e-15)


@pytest.mark.parametrize(("losses", "fraction", "expected"), [
    ([0.3, 0.9, 0.1, 0.5], 0.25, [4 / 3, 4 / 3, 0, 4 / 3]),
    ([0.3, 0.9, 0.1, 0.5], 0.5, [0, 2, 0, 2]),
    ([0.3, 0.9, 0.1, 0.5], 0.9, [0, 4, 0, 0]),  # the worst-fitted pair alone
    ([0.2, 0.2, 0.2, 0.2], 0.25, [0, 4 / 3, 4 / 3, 4 / 3]),  # a tie: the earlier pair goes first
])
def test_drop_best_leaves_out_the_best_fitted_pairs(losses, fraction, expected):
    weights = keep_weights(torch.tensor(losses, dtype=torch.float64), fraction, "best")
    assert torch.allclose(weights, torch.tensor(expected, dtype=torch.float64), rtol=0, atol=1e-15)


def test_the_weighted_mean_is_the_mean_over_the_kept_pairs():
    per_pair = torch.tensor([0.3, 0.9, 0.1, 0.5, 0.8], dtype=torch.float64)
    kept = weighted_mean(per_pair, keep_weights(per_pair, 0.4))  # floor(2.0) = 2 left out: 0.9 and 0.8
    assert float(kept) == pytest.approx((0.3 + 0.1 + 0.5) / 3, rel=1e-15)


@pytest.mark.parametrize("fraction", [-0.1, 1.0])
def test_a_fraction_outside_0_1_is_refused(fraction):
    with pytest.raises(ConfigError, match=r"synthetic_filter=.* must be in \[0, 1\)"):
        keep_weights(torch.ones(4), fraction)


def test_the_option_is_range_checked_with_the_fix():
    with pytest.raises(ConfigError, match=r"synthetic_filter=0\.95 must be in \[0, 0\.9\].*synthetic_filter=0\.25"):
        GenSegConfig(synthetic_filter=0.95)


def test_a_drop_without_a_filter_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match=r"synthetic_filter_drop='best' is read only with synthetic_filter > 0.*"
                                          r"--set synthetic_filter=0\.25"):
        GenSegConfig(synthetic_filter_drop="best")


def _segmenter() -> nn.Module:
    """No BatchNorm: leaving a pair out of the loss is then the same as leaving it out of the batch."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 1, 1)).double()


@pytest.mark.parametrize("drop", ["worst", "best"])
def test_one_filtered_update_equals_a_hand_written_step_on_the_kept_pairs(drop):
    torch.manual_seed(1)
    synthetic, images = torch.rand(4, 3, 8, 8, dtype=torch.float64), torch.rand(4, 3, 8, 8, dtype=torch.float64)
    synthetic_masks, masks = (torch.rand(4, 1, 8, 8) > 0.6).double(), (torch.rand(4, 1, 8, 8) > 0.6).double()
    synthetic_masks[2] = 1 - synthetic_masks[2]  # a pair its image does not show
    config = GenSegConfig(seg_optimizer="sgd", seg_lr=0.5, seg_weight_decay=0.0, gamma=0.7, synthetic_filter=0.25,
                          synthetic_filter_drop=drop)
    step = SegmenterStep(config, _segmenter(), bce_dice_loss, Updates(config))

    reference = _segmenter()
    losses = pair_losses(reference, bce_dice_loss, synthetic, synthetic_masks)
    left_out = int(losses.argmax() if drop == "worst" else losses.argmin())
    kept = [i for i in range(4) if i != left_out]
    loss = (per_sample_loss(bce_dice_loss, reference(synthetic[kept]), synthetic_masks[kept]).mean()
            + 0.7 * bce_dice_loss(reference(images), masks))
    grads = torch.autograd.grad(loss, list(reference.parameters()))
    loss = float(loss.detach())

    logged = step.on_synthetic_and_real(synthetic, synthetic_masks, images, masks)
    assert logged["seg"] == pytest.approx(loss, rel=1e-12) and logged["skipped"] == 0.0
    for after, before, grad in zip(step.segmenter.parameters(), reference.parameters(), grads):
        assert torch.allclose(after, before - 0.5 * grad, rtol=0, atol=1e-13)


@pytest.mark.parametrize("fraction", [0.0, 0.2])  # 0.2 of 4 pairs leaves none out
def test_without_a_pair_left_out_the_loss_is_the_unfiltered_one(fraction):
    torch.manual_seed(2)
    synthetic, images = torch.rand(4, 3, 8, 8, dtype=torch.float64), torch.rand(4, 3, 8, 8, dtype=torch.float64)
    synthetic_masks, masks = (torch.rand(4, 1, 8, 8) > 0.6).double(), (torch.rand(4, 1, 8, 8) > 0.6).double()
    config = GenSegConfig(seg_optimizer="sgd", seg_lr=0.5, seg_weight_decay=0.0, synthetic_filter=fraction)
    step = SegmenterStep(config, _segmenter(), bce_dice_loss, Updates(config))
    reference = _segmenter()
    expected = bce_dice_loss(reference(synthetic), synthetic_masks) + bce_dice_loss(reference(images), masks)
    assert step.on_synthetic_and_real(synthetic, synthetic_masks, images, masks)["seg"] == pytest.approx(
        float(expected.detach()), rel=1e-12)


@pytest.mark.parametrize("method", ["joint", "separate"])
def test_a_filtered_run_trains_another_segmenter(tiny, tmp_path, method):
    plain = tiny.run(tmp_path / "plain", method=method)
    filtered = tiny.run(tmp_path / "filtered", method=method, synthetic_filter="0.5")
    assert filtered["iterations"] == plain["iterations"] == tiny.total
    segmenter = "segmenter.safetensors"
    assert (tmp_path / "plain" / segmenter).read_bytes() != (tmp_path / "filtered" / segmenter).read_bytes()


def test_a_method_that_does_not_read_it_refuses_it(tiny, tmp_path):
    result = tiny.cli("run", "genseg", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress",
                      "--method", "genseg", *tiny.set_args(synthetic_filter="0.25"))
    assert "synthetic_filter=0.25 is not read by method 'genseg' (only by joint, separate, wgan)" in (
        tiny.error_line(result))
