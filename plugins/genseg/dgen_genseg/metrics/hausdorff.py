"""HD95: the 95th-percentile symmetric Hausdorff distance between mask boundaries, in pixels.

The boundary of a mask is its pixels that a 4-connected (cross) erosion removes; pixels on the image
border count as boundary. With ``d(A -> B)`` the distances from each boundary pixel of ``A`` to the
nearest boundary pixel of ``B`` (scipy's exact Euclidean distance transform),
``HD95 = max(P95(d(A -> B)), P95(d(B -> A)))``, percentiles linearly interpolated. This is MONAI's
``compute_hausdorff_distance(percentile=95)``; medpy's ``hd95`` takes the 95th percentile of the pooled
distances instead, which can be slightly smaller.

Empty masks: both empty -> 0.0; exactly one empty -> the image diagonal ``sqrt(H^2 + W^2)``, larger
than any distance between two pixels of the image, so it scores worse than any non-empty prediction.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.ndimage import binary_erosion, distance_transform_edt
from torch import Tensor

from dgen_genseg.metrics.masks import binarize, check_pair

__all__ = ["hd95_per_image", "hd95_binary"]


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` ``(H, W)`` bool that a cross-shaped erosion removes."""
    return mask & ~binary_erosion(mask, border_value=0)


def hd95_binary(pred: np.ndarray, truth: np.ndarray) -> float:
    """HD95 in pixels of two bool masks ``(H, W)``, with the empty-mask conventions above."""
    if not pred.any() and not truth.any():
        return 0.0
    if not pred.any() or not truth.any():
        return math.hypot(*pred.shape)
    edge_pred, edge_truth = _boundary(pred), _boundary(truth)
    to_truth = distance_transform_edt(~edge_truth)[edge_pred]  # each predicted boundary pixel -> truth boundary
    to_pred = distance_transform_edt(~edge_pred)[edge_truth]
    return float(max(np.percentile(to_truth, 95), np.percentile(to_pred, 95)))


def hd95_per_image(pred: Tensor, truth: Tensor, *, from_logits: bool = True, threshold: float = 0.5) -> Tensor:
    """HD95 of each image ``(B,)`` float64 (CPU) for ``pred`` logits/probabilities and ``truth`` ``(B, 1, H, W)``."""
    check_pair(pred, truth)
    a = binarize(pred, from_logits=from_logits, threshold=threshold)[:, 0].cpu().numpy()
    b = truth[:, 0].bool().cpu().numpy()
    return torch.tensor([hd95_binary(p, t) for p, t in zip(a, b)], dtype=torch.float64)
