"""Segmentation metrics (per-image Dice, Jaccard, HD95 and a streaming accumulator) and training losses.

Metrics take predictions ``(B, 1, H, W)`` (logits by default, probabilities with ``from_logits=False``,
thresholded at probability 0.5) and binary truths ``(B, 1, H, W)``; they score each image and average
over images, as the ISIC challenge does (never pooled over the pixels of a batch).
"""

from dgen_genseg.metrics.accumulator import MetricAccumulator
from dgen_genseg.metrics.hausdorff import hd95_binary, hd95_per_image
from dgen_genseg.metrics.losses import (
    bce_dice_loss,
    bce_jaccard_loss,
    soft_dice,
    soft_dice_loss,
    soft_jaccard,
    soft_jaccard_loss,
)
from dgen_genseg.metrics.masks import binarize, check_pair
from dgen_genseg.metrics.overlap import dice_per_image, jaccard_per_image

__all__ = [
    "MetricAccumulator",
    "bce_dice_loss",
    "bce_jaccard_loss",
    "binarize",
    "check_pair",
    "dice_per_image",
    "hd95_binary",
    "hd95_per_image",
    "jaccard_per_image",
    "soft_dice",
    "soft_dice_loss",
    "soft_jaccard",
    "soft_jaccard_loss",
]
