"""Dice and Jaccard per image on tiny masks computed by hand; empty-mask conventions; input checks."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import ConfigError, DataError, NumericalError
from dgen_genseg.metrics import binarize, dice_per_image, jaccard_per_image


def masks(*rows_per_image: list[str]) -> torch.Tensor:
    """``masks(["01", "11"], ...)`` -> float ``(B, 1, H, W)`` with 1 where a row has '1'."""
    return torch.tensor([[[[float(c) for c in row] for row in image]] for image in rows_per_image])


def logits_of(mask: torch.Tensor) -> torch.Tensor:
    return mask * 8 - 4  # 1 -> +4, 0 -> -4


def test_hand_computed_overlap() -> None:
    # image 0: A = 3 pixels, B = 2 pixels, A ∩ B = 2   -> dice 2*2/(3+2) = 0.8,   jaccard 2/3
    # image 1: A = 1 pixel,  B = 3 pixels, A ∩ B = 1   -> dice 2*1/(1+3) = 0.5,   jaccard 1/3
    # image 2: A = 2 pixels, B = 2 pixels, disjoint    -> dice 0,                  jaccard 0
    pred = masks(["110", "100"], ["000", "010"], ["100", "100"])
    truth = masks(["110", "000"], ["000", "111"], ["001", "001"])
    expected_dice = torch.tensor([0.8, 0.5, 0.0], dtype=torch.float64)
    expected_jaccard = torch.tensor([2 / 3, 1 / 3, 0.0], dtype=torch.float64)
    torch.testing.assert_close(dice_per_image(logits_of(pred), truth), expected_dice, rtol=0, atol=1e-15)
    torch.testing.assert_close(jaccard_per_image(logits_of(pred), truth), expected_jaccard, rtol=0, atol=1e-15)
    torch.testing.assert_close(dice_per_image(pred, truth, from_logits=False), expected_dice, rtol=0, atol=1e-15)


def test_empty_mask_conventions() -> None:
    empty, full = masks(["00", "00"]), masks(["01", "00"])
    for metric in (dice_per_image, jaccard_per_image):
        assert metric(logits_of(empty), empty).item() == 1.0  # both empty: perfect
        assert metric(logits_of(empty), full).item() == 0.0  # missed the whole object
        assert metric(logits_of(full), empty).item() == 0.0  # predicted an object that is not there


def test_mean_over_images_differs_from_pooling_pixels() -> None:
    # image 0 perfect on 1 pixel (dice 1), image 1 misses 7 of 8 pixels: A=1, B=8, A∩B=1 -> dice 2/9.
    # per-image mean = (1 + 2/9) / 2 = 11/18; pooled over pixels would be 2*2/(2+9) = 4/11.
    pred = masks(["1000", "0000"], ["1000", "0000"])
    truth = masks(["1000", "0000"], ["1111", "1111"])
    assert dice_per_image(logits_of(pred), truth).mean().item() == pytest.approx(11 / 18, abs=1e-15)


def test_threshold_on_probabilities_and_logits() -> None:
    probs = torch.tensor([0.2, 0.5, 0.500001, 0.9]).view(1, 1, 1, 4)
    assert binarize(probs, from_logits=False).flatten().tolist() == [False, False, True, True]  # strictly above 0.5
    tiny = torch.tensor([-1e-9, 0.0, 1e-9]).view(1, 1, 1, 3)  # sigmoid(1e-9) rounds to 0.5 in float32
    assert binarize(tiny).flatten().tolist() == [False, False, True]
    assert binarize(probs, from_logits=False, threshold=0.85).flatten().tolist() == [False, False, False, True]
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        binarize(probs, threshold=1.0)


def test_input_checks_name_the_problem() -> None:
    truth = masks(["01"])
    with pytest.raises(DataError, match=r"\(1, 1, 1, 3\) .* must both be \(B, 1, H, W\)"):
        dice_per_image(torch.zeros(1, 1, 1, 3), truth)
    with pytest.raises(DataError, match="only 0 and 1"):
        dice_per_image(torch.zeros(1, 1, 1, 2), truth * 255)
    with pytest.raises(NumericalError, match="NaN"):
        jaccard_per_image(torch.full((1, 1, 1, 2), float("nan")), truth)
