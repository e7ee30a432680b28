"""Several affine augmenters applied in a random order, and GenSeg's mask augmentation built from them."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dgen.errors import ConfigError
from dgen_genseg.augment.affine import AffineAugmenter
from dgen_genseg.augment.transforms import CropPad, Flip, Rotate, Scale, Shear, Translate

__all__ = ["RandomOrder", "combine"]


class RandomOrder(AffineAugmenter):
    """Apply every augmenter of ``augmenters``, in an order drawn independently for each sample.

    The maps are composed into one affine map per sample, so a batch is resampled once (no blur
    accumulates and the mask is re-binarised once). Every sub-augmenter draws its parameters for
    the whole batch in list order, then the per-sample orders are drawn, so a seeded generator
    reproduces the result.

    Args:
        augmenters: the affine augmenters to combine (at least one).
    """

    def __init__(self, augmenters: Sequence[AffineAugmenter]) -> None:
        bad = [a for a in augmenters if not isinstance(a, AffineAugmenter)]
        if not augmenters or bad:
            raise ConfigError(
                f"RandomOrder needs a non-empty list of affine augmenters, got {list(augmenters)!r}; "
                f"pass e.g. [Rotate(), Flip()]."
            )
        self.augmenters = list(augmenters)

    def sample_transforms(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> Tensor:
        drawn = [a.sample_transforms(batch, height, width, generator) for a in self.augmenters]
        maps = torch.stack(drawn)  # (K, B, 3, 3)
        count = len(self.augmenters)
        scores = torch.rand(batch, count, generator=generator, device=maps.device, dtype=torch.float64)
        order = scores.argsort(dim=1)  # (B, K): a random permutation per sample
        rows = torch.arange(batch, device=maps.device)
        total = torch.eye(3, dtype=maps.dtype, device=maps.device).expand(batch, 3, 3)
        for step in range(count):
            total = maps[order[:, step], rows] @ total  # apply the step-th op after the previous ones
        return total  # (B, 3, 3)

    def __repr__(self) -> str:
        return f"RandomOrder({self.augmenters!r})"


def combine(
    *,
    p_horizontal: float = 0.5,
    crop_pad: Sequence[float] = (-0.1, 0.1),
    scale: Sequence[float] = (0.8, 1.2),
    translate: Sequence[float] = (-0.1, 0.1),
    rotate: Sequence[float] = (-15.0, 15.0),
    shear: Sequence[float] = (-8.0, 8.0),
) -> RandomOrder:
    """GenSeg's mask augmentation: flip, crop/pad, scale, translate, rotate and shear in a random order per sample.

    Args:
        p_horizontal: probability of a horizontal flip (default 0.5).
        crop_pad: per-side crop (+) / pad (-) fraction range (default ±0.1).
        scale: zoom factor range (default 0.8-1.2).
        translate: shift range as a fraction of the image size (default ±0.1).
        rotate: rotation range in degrees (default ±15).
        shear: x-shear range in degrees (default ±8).

    A range of ``(0, 0)`` (``(1, 1)`` for ``scale``, ``0`` for ``p_horizontal``) switches that op off.
    """
    options = {
        "p_horizontal": (p_horizontal, lambda v: Flip(p_horizontal=v)),
        "crop_pad": (crop_pad, lambda v: CropPad(percent=v)),
        "scale": (scale, lambda v: Scale(factor=v)),
        "translate": (translate, lambda v: Translate(percent=v)),
        "rotate": (rotate, lambda v: Rotate(degrees=v)),
        "shear": (shear, lambda v: Shear(degrees=v)),
    }
    augmenters = []
    for option, (value, make) in options.items():
        try:
            augmenters.append(make(value))
        except ConfigError as error:
            raise ConfigError(f"combine({option}={value!r}) is invalid: {error}") from error
    return RandomOrder(augmenters)
