"""Differentiable segmentation losses on logits ``(B, 1, H, W)`` and targets ``(B, 1, H, W)`` in ``[0, 1]``.

Soft Dice and soft Jaccard are computed per image with probabilities ``p = sigmoid(logits)`` and a
smoothing term ``eps`` (default 1.0), then averaged over images, matching the per-image metrics::

    soft_dice_i    = (2 sum(p t) + eps) / (sum(p) + sum(t) + eps)
    soft_jaccard_i = (sum(p t) + eps) / (sum(p) + sum(t) - sum(p t) + eps)

so an empty target with an all-background prediction scores 1 (loss 0). ``bce_dice_loss`` is
BCE-with-logits (mean over pixels) plus ``1 - mean soft Dice`` (the JSRT setting of the official code);
``bce_jaccard_loss`` uses soft Jaccard instead (its ISIC setting).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dgen.errors import DataError

__all__ = ["soft_dice", "soft_jaccard", "soft_dice_loss", "soft_jaccard_loss", "bce_dice_loss", "bce_jaccard_loss"]


def _sums(logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per image ``(B,)``: ``sum(p t)``, ``sum(p)``, ``sum(t)``."""
    if logits.shape != target.shape or logits.dim() < 2:
        raise DataError(
            f"logits {tuple(logits.shape)} and target {tuple(target.shape)} must have the same shape (B, 1, H, W); "
            f"pass one mask channel per image."
        )
    p = torch.sigmoid(logits).flatten(1)
    t = target.to(p.dtype).flatten(1)
    return (p * t).sum(1), p.sum(1), t.sum(1)


def soft_dice(logits: Tensor, target: Tensor, *, eps: float = 1.0) -> Tensor:
    """Soft Dice of each image ``(B,)``."""
    inter, p, t = _sums(logits, target)
    return (2 * inter + eps) / (p + t + eps)


def soft_jaccard(logits: Tensor, target: Tensor, *, eps: float = 1.0) -> Tensor:
    """Soft Jaccard of each image ``(B,)``."""
    inter, p, t = _sums(logits, target)
    return (inter + eps) / (p + t - inter + eps)


def soft_dice_loss(logits: Tensor, target: Tensor, *, eps: float = 1.0) -> Tensor:
    """``1 - mean_i soft_dice_i`` (a scalar)."""
    return 1 - soft_dice(logits, target, eps=eps).mean()


def soft_jaccard_loss(logits: Tensor, target: Tensor, *, eps: float = 1.0) -> Tensor:
    """``1 - mean_i soft_jaccard_i`` (a scalar)."""
    return 1 - soft_jaccard(logits, target, eps=eps).mean()


def bce_dice_loss(logits: Tensor, target: Tensor, *, eps: float = 1.0) -> Tensor:
    """BCE-with-logits (mean over pixels) + soft Dice loss (a scalar)."""
    bce = F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))
    return bce + soft_dice_loss(logits, target, eps=eps)


def bce_jaccard_loss(logits: Tensor, target: Tensor, *, eps: float = 1.0) -> Tensor:
    """BCE-with-logits (mean over pixels) + soft Jaccard loss (a scalar)."""
    bce = F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))
    return bce + soft_jaccard_loss(logits, target, eps=eps)
