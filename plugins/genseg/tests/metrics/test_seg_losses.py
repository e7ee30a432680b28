"""Soft Dice/Jaccard and BCE+Dice losses: float64 values by hand, gradients by finite differences."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dgen.errors import DataError
from dgen_genseg.metrics import bce_dice_loss, bce_jaccard_loss, soft_dice, soft_dice_loss, soft_jaccard, soft_jaccard_loss


def test_soft_dice_and_jaccard_by_hand() -> None:
    # one image, two pixels: logits 0 and log(3) -> p = 0.5, 0.75; target = 1, 0.
    # sum(p t) = 0.5, sum(p) = 1.25, sum(t) = 1.
    # dice    (eps 0) = 2 * 0.5 / 2.25 = 4/9;  (eps 1) = (1 + 1) / (2.25 + 1) = 8/13
    # jaccard (eps 0) = 0.5 / (2.25 - 0.5) = 2/7
    logits = torch.tensor([0.0, math.log(3)], dtype=torch.float64).view(1, 1, 1, 2)
    target = torch.tensor([1.0, 0.0], dtype=torch.float64).view(1, 1, 1, 2)
    torch.testing.assert_close(soft_dice(logits, target, eps=0.0), torch.tensor([4 / 9], dtype=torch.float64))
    torch.testing.assert_close(soft_dice(logits, target), torch.tensor([8 / 13], dtype=torch.float64))
    torch.testing.assert_close(soft_jaccard(logits, target, eps=0.0), torch.tensor([2 / 7], dtype=torch.float64))
    bce = -(math.log(0.5) + math.log(0.25)) / 2
    expected = torch.tensor(bce + 1 - 8 / 13, dtype=torch.float64)
    torch.testing.assert_close(bce_dice_loss(logits, target), expected, rtol=1e-12, atol=1e-12)


def test_losses_average_per_image_dice() -> None:
    logits = torch.randn(3, 1, 4, 4, dtype=torch.float64)
    target = (torch.rand(3, 1, 4, 4) > 0.5).double()
    per_image = torch.stack([soft_dice(logits[i : i + 1], target[i : i + 1]) for i in range(3)]).mean()
    torch.testing.assert_close(soft_dice_loss(logits, target), 1 - per_image)
    torch.testing.assert_close(soft_jaccard_loss(logits, target), 1 - soft_jaccard(logits, target).mean())
    torch.testing.assert_close(
        bce_jaccard_loss(logits, target), F.binary_cross_entropy_with_logits(logits, target) + soft_jaccard_loss(logits, target)
    )


def test_perfect_and_empty_predictions() -> None:
    target = torch.zeros(1, 1, 8, 8, dtype=torch.float64)
    target[..., 2:5, 2:5] = 1
    confident = target * 60 - 30  # sigmoid(±30) is 0/1 to ~1e-13
    assert soft_dice_loss(confident, target).item() == pytest.approx(0.0, abs=1e-10)
    empty = torch.zeros_like(target)
    assert soft_dice_loss(torch.full_like(target, -30.0), empty).item() == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("loss", [soft_dice_loss, soft_jaccard_loss, bce_dice_loss, bce_jaccard_loss])
def test_gradients_match_finite_differences(loss) -> None:
    logits = torch.randn(2, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    target = (torch.rand(2, 1, 3, 3) > 0.5).double()
    assert torch.autograd.gradcheck(lambda x: loss(x, target), (logits,), eps=1e-6, atol=1e-7)


def test_shape_mismatch() -> None:
    with pytest.raises(DataError, match="same shape"):
        soft_dice_loss(torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 4, 5))
