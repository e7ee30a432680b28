"""Checks and thresholding shared by the metrics: predictions and truths are ``(B, 1, H, W)``."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from dgen.errors import ConfigError, DataError, NumericalError

__all__ = ["check_pair", "binarize"]


def check_pair(pred: Tensor, truth: Tensor) -> None:
    """Raise unless ``pred`` and ``truth`` are both ``(B, 1, H, W)``, ``truth`` in ``{0, 1}`` and ``pred`` finite."""
    if pred.dim() != 4 or pred.shape[1] != 1 or pred.shape != truth.shape:
        raise DataError(
            f"prediction {tuple(pred.shape)} and truth {tuple(truth.shape)} must both be (B, 1, H, W) with the same "
            f"shape; pass one binary mask channel per image."
        )
    if not bool(((truth == 0) | (truth == 1)).all()):
        raise DataError(
            f"truth masks must hold only 0 and 1, found values like {truth.unique()[:5].tolist()}; binarise them "
            f"(e.g. mask > 0.5) before scoring."
        )
    if pred.is_floating_point() and not bool(torch.isfinite(pred).all()):
        raise NumericalError("predictions contain NaN or Inf; check the model's outputs before scoring.")


def binarize(pred: Tensor, *, from_logits: bool = True, threshold: float = 0.5) -> Tensor:
    """``(B, 1, H, W)`` logits or probabilities -> bool mask, positive where the probability is ``> threshold``.

    Logits are compared with ``log(t / (1 - t))`` rather than passed through a sigmoid, so a logit just
    above 0 is positive at ``threshold=0.5`` even where float32 rounds its sigmoid to 0.5.
    """
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold={threshold} must be strictly between 0 and 1; the default is 0.5.")
    if from_logits:
        return pred > math.log(threshold / (1.0 - threshold))
    return pred > threshold
