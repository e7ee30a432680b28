"""The elementary GenSeg mask augmenters: rotate, flip, translate, scale, shear and crop/pad.

Each draws its parameters independently per sample (from the ``generator`` given to the call) and
expresses them as a forward affine map about the image centre (see :mod:`dgen_genseg.augment.warp`).
Ranges are ``(low, high)`` pairs; ``low == high`` fixes the value, so ``Rotate(degrees=(0, 0))`` is the
identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dgen_genseg.augment.affine import (
    AffineAugmenter,
    affine_matrices,
    bernoulli,
    check_probability,
    check_range,
    uniform,
)

__all__ = ["Rotate", "Flip", "Translate", "Scale", "Shear", "CropPad"]


class Rotate(AffineAugmenter):
    """Rotate about the image centre by an angle drawn from ``degrees`` (positive = clockwise on screen).

    Args:
        degrees: ``(low, high)`` in degrees, within [-180, 180]; default ±15°.
    """

    def __init__(self, *, degrees: Sequence[float] = (-15.0, 15.0)) -> None:
        self.degrees = check_range("degrees", degrees, lowest=-180.0, highest=180.0, example="(-15, 15)")

    def sample_transforms(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> Tensor:
        angle = torch.deg2rad(uniform(*self.degrees, batch, generator))  # (B,)
        cos, sin = torch.cos(angle), torch.sin(angle)
        return affine_matrices(cos, -sin, sin, cos, torch.zeros_like(cos), torch.zeros_like(cos))

    def __repr__(self) -> str:
        return f"Rotate(degrees={self.degrees})"


class Flip(AffineAugmenter):
    """Mirror left-right with probability ``p_horizontal`` and, independently, top-bottom with ``p_vertical``.

    Args:
        p_horizontal: probability of a horizontal flip (default 0.5).
        p_vertical: probability of a vertical flip (default 0: off, as in GenSeg).
    """

    def __init__(self, *, p_horizontal: float = 0.5, p_vertical: float = 0.0) -> None:
        self.p_horizontal = check_probability("p_horizontal", p_horizontal)
        self.p_vertical = check_probability("p_vertical", p_vertical)

    def sample_transforms(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> Tensor:
        sign_x = 1.0 - 2.0 * bernoulli(self.p_horizontal, batch, generator).double()  # (B,) in {-1, 1}
        sign_y = 1.0 - 2.0 * bernoulli(self.p_vertical, batch, generator).double()
        zero = torch.zeros_like(sign_x)
        return affine_matrices(sign_x, zero, zero, sign_y, zero, zero)

    def __repr__(self) -> str:
        return f"Flip(p_horizontal={self.p_horizontal}, p_vertical={self.p_vertical})"


class Translate(AffineAugmenter):
    """Shift by fractions of the image size drawn from ``percent``, independently along x (of W) and y (of H).

    Args:
        percent: ``(low, high)`` as fractions in [-1, 1]; default ±0.1 (±10 %).
    """

    def __init__(self, *, percent: Sequence[float] = (-0.1, 0.1)) -> None:
        self.percent = check_range("percent", percent, lowest=-1.0, highest=1.0, example="(-0.1, 0.1)")

    def sample_transforms(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> Tensor:
        tx = uniform(*self.percent, batch, generator) * width  # (B,) pixels
        ty = uniform(*self.percent, batch, generator) * height
        one, zero = torch.ones_like(tx), torch.zeros_like(tx)
        return affine_matrices(one, zero, zero, one, tx, ty)

    def __repr__(self) -> str:
        return f"Translate(percent={self.percent})"


class Scale(AffineAugmenter):
    """Zoom about the image centre by a factor drawn from ``factor`` (> 1 enlarges the content).

    Args:
        factor: ``(low, high)``, both in (0, 10); default (0.8, 1.2).
        per_axis: draw x and y factors independently (anisotropic) instead of one factor.
    """

    def __init__(self, *, factor: Sequence[float] = (0.8, 1.2), per_axis: bool = False) -> None:
        self.factor = check_range("factor", factor, lowest=0.0, highest=10.0, open_bounds=True, example="(0.8, 1.2)")
        self.per_axis = bool(per_axis)

    def sample_transforms(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> Tensor:
        sx = uniform(*self.factor, batch, generator)  # (B,)
        sy = uniform(*self.factor, batch, generator) if self.per_axis else sx
        zero = torch.zeros_like(sx)
        return affine_matrices(sx, zero, zero, sy, zero, zero)

    def __repr__(self) -> str:
        return f"Scale(factor={self.factor}, per_axis={self.per_axis})"


class Shear(AffineAugmenter):
    """Shear along x by an angle drawn from ``degrees``: ``x' = x + tan(angle) * y`` about the centre.

    Args:
        degrees: ``(low, high)`` in degrees, within (-90, 90); default ±8°.
    """

    def __init__(self, *, degrees: Sequence[float] = (-8.0, 8.0)) -> None:
        self.degrees = check_range("degrees", degrees, lowest=-90.0, highest=90.0, open_bounds=True, example="(-8, 8)")

    def sample_transforms(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> Tensor:
        slope = torch.tan(torch.deg2rad(uniform(*self.degrees, batch, generator)))  # (B,)
        one, zero = torch.ones_like(slope), torch.zeros_like(slope)
        return affine_matrices(one, slope, zero, one, zero, zero)

    def __repr__(self) -> str:
        return f"Shear(degrees={self.degrees})"


class CropPad(AffineAugmenter):
    """Crop (positive) or pad (negative) each side by a fraction drawn from ``percent``, then resize to H x W.

    The four sides draw independently, so the result is also shifted and stretched; padding is 0.

    Args:
        percent: ``(low, high)`` fractions of the side length, within (-0.5, 0.5); default ±0.1
            (crop or pad each side by 0-10 %).
    """

    def __init__(self, *, percent: Sequence[float] = (-0.1, 0.1)) -> None:
        self.percent = check_range("percent", percent, lowest=-0.5, highest=0.5, open_bounds=True, example="(-0.1, 0.1)")

    def sample_transforms(
        self, batch: int, height: int, width: int, generator: torch.Generator | None = None
    ) -> Tensor:
        left, right, top, bottom = (uniform(*self.percent, batch, generator) for _ in range(4))  # (B,) each
        # The kept window [-W/2 + left W, W/2 - right W] is stretched onto [-W/2, W/2] (likewise in y).
        keep_x, keep_y = 1.0 - left - right, 1.0 - top - bottom
        centre_x, centre_y = (left - right) * width / 2.0, (top - bottom) * height / 2.0
        zero = torch.zeros_like(keep_x)
        return affine_matrices(1.0 / keep_x, zero, zero, 1.0 / keep_y, -centre_x / keep_x, -centre_y / keep_y)

    def __repr__(self) -> str:
        return f"CropPad(percent={self.percent})"
