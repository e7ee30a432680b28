"""Dice and Jaccard per image, the way ISIC scores them: one value per image, then the mean over images.

For a predicted mask ``A`` and a truth ``B`` of one image: ``dice = 2|A ∩ B| / (|A| + |B|)`` and
``jaccard = |A ∩ B| / |A ∪ B|``. When both masks are empty the prediction is perfect and both are
1.0; when exactly one is empty both are 0.0 (what the formulas give).
"""

from __future__ import annotations

import torch
from torch import Tensor

from dgen_genseg.metrics.masks import binarize, check_pair

__all__ = ["dice_per_image", "jaccard_per_image", "overlap_counts", "dice_from_counts", "jaccard_from_counts"]


def overlap_counts(
    pred: Tensor, truth: Tensor, *, from_logits: bool = True, threshold: float = 0.5
) -> tuple[Tensor, Tensor]:
    """``(|A ∩ B|, |A| + |B|)`` per image, each ``(B,)`` float64, for ``pred`` and ``truth`` ``(B, 1, H, W)``."""
    check_pair(pred, truth)
    a = binarize(pred, from_logits=from_logits, threshold=threshold)
    b = truth.bool()
    intersection = (a & b).sum(dim=(1, 2, 3)).double()
    total = a.sum(dim=(1, 2, 3)).double() + b.sum(dim=(1, 2, 3)).double()
    return intersection, total


def dice_from_counts(intersection: Tensor, total: Tensor) -> Tensor:
    """Dice from :func:`overlap_counts` ``(B,)``; 1.0 where both masks are empty."""
    return torch.where(total == 0, torch.ones_like(total), 2 * intersection / total.clamp(min=1))


def jaccard_from_counts(intersection: Tensor, total: Tensor) -> Tensor:
    """Jaccard from :func:`overlap_counts` ``(B,)``; 1.0 where both masks are empty."""
    union = total - intersection
    return torch.where(union == 0, torch.ones_like(union), intersection / union.clamp(min=1))


def dice_per_image(pred: Tensor, truth: Tensor, *, from_logits: bool = True, threshold: float = 0.5) -> Tensor:
    """Dice of each image ``(B,)`` (float64); ``pred`` logits (or probabilities with ``from_logits=False``)."""
    return dice_from_counts(*overlap_counts(pred, truth, from_logits=from_logits, threshold=threshold))


def jaccard_per_image(pred: Tensor, truth: Tensor, *, from_logits: bool = True, threshold: float = 0.5) -> Tensor:
    """Jaccard (IoU) of each image ``(B,)`` (float64); both masks empty -> 1.0."""
    return jaccard_from_counts(*overlap_counts(pred, truth, from_logits=from_logits, threshold=threshold))
