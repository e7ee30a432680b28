"""Real and synthetic images in separate BatchNorm passes: running statistics from real images only."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from dgen.mlo import Context
from dgen_genseg.metrics import bce_dice_loss
from dgen_genseg.pipeline.batchnorm import running_stats_frozen
from dgen_genseg.pipeline.levels import GenSegBatch, SegLevel, synthetic_plus_real_loss


def segmenter() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 1, 1))


def batches() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, GenSegBatch]:
    g = torch.Generator().manual_seed(0)
    real = torch.rand(3, 3, 8, 8, generator=g)
    synthetic = 3.0 + 2.0 * torch.rand(3, 3, 8, 8, generator=g)  # far from the real statistics
    masks = (torch.rand(3, 1, 8, 8, generator=g) > 0.5).float()
    batch = GenSegBatch(real, masks, masks, real[:0], masks[:0])
    return real, synthetic, masks, batch


def bn_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}


def test_running_statistics_equal_those_of_the_real_batch_alone() -> None:
    real, synthetic, _, batch = batches()
    model, reference = segmenter(), segmenter()
    model.train(), reference.train()
    loss = synthetic_plus_real_loss(model, bce_dice_loss, synthetic, batch, 1.0, separate_batchnorm=model)
    loss.backward()
    reference(real)
    for key, value in bn_state(reference).items():
        torch.testing.assert_close(bn_state(model)[key], value, rtol=0, atol=0)
    joint = segmenter().train()
    synthetic_plus_real_loss(joint, bce_dice_loss, synthetic, batch, 1.0)  # the default: one joint batch
    assert not torch.allclose(bn_state(joint)["1.running_mean"], bn_state(reference)["1.running_mean"])


def test_synthetic_pass_is_normalised_with_its_own_statistics() -> None:
    real, synthetic, _, _ = batches()
    model = segmenter().train()
    alone = copy.deepcopy(model)(synthetic)
    with running_stats_frozen(model):
        frozen = model(synthetic)
    torch.testing.assert_close(frozen, alone)
    assert all(m.track_running_stats for m in model.modules() if isinstance(m, nn.BatchNorm2d))  # restored


def test_seg_level_look_ahead_with_real_buffers_keeps_real_statistics() -> None:
    """The look-ahead step that replaces the ordinary update (update_buffers=True) updates from real images only."""
    real, synthetic, masks, batch = batches()
    model, reference = segmenter().train(), segmenter().train()

    class Fixed(nn.Module):
        """A generator stub: always the synthetic images, in the tanh range."""

        def forward(self, condition: torch.Tensor) -> torch.Tensor:
            return synthetic * 2 - 1

    level = SegLevel(
        "seg", list(model.parameters()), torch.optim.SGD(model.parameters(), lr=0.1), generator=Fixed(),
        segmenter=model, seg_loss=bce_dice_loss, gamma=1.0, separate_batchnorm=True,
    )
    params = [p.detach().clone().requires_grad_() for p in model.parameters()]
    level.loss(Context(list(zip(model.parameters(), params)), update_buffers=True), batch)
    reference(real)
    torch.testing.assert_close(bn_state(model)["1.running_mean"], bn_state(reference)["1.running_mean"], rtol=0, atol=0)


@pytest.mark.parametrize("mode", ["joint", "separate"])
def test_same_loss_value_definition(mode: str) -> None:
    """Both modes compute Eq. 2; in eval mode (fixed statistics) they give the same loss."""
    real, synthetic, _, batch = batches()
    model = segmenter().eval()
    joint = synthetic_plus_real_loss(model, bce_dice_loss, synthetic, batch, 0.5)
    other = synthetic_plus_real_loss(
        model, bce_dice_loss, synthetic, batch, 0.5, separate_batchnorm=model if mode == "separate" else None
    )
    torch.testing.assert_close(other, joint)
