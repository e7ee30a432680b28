"""The standardized random numbers of one learnable geometric augmentation, drawn once per iteration."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["GeometryDraw"]


@dataclass(frozen=True)
class GeometryDraw:
    """Standardized random numbers of :class:`~dgen.steer.LearnableGeometry`, without magnitudes.

    The module scales them by its learnable magnitudes (``angle = m * u``), so gradients reach the magnitudes
    and every evaluation of a loss in one iteration (look-aheads included) sees the same warp. Put the draw in
    the batch.

    Attributes:
        rotate: ``(B,)``, U(-1, 1).
        scale: ``(B,)``, U(-1, 1).
        translate: ``(B, 2)``, U(-1, 1): the x and y shifts.
    """

    rotate: Tensor
    scale: Tensor
    translate: Tensor

    @classmethod
    def sample(
        cls,
        batch: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> GeometryDraw:
        """Draw every field (whatever transforms are used), in the order of the attributes, from ``generator``
        (the global generator when None; a generator must live on ``device``)."""
        options = {"generator": generator, "device": device, "dtype": dtype}
        return cls(
            rotate=2 * torch.rand(batch, **options) - 1,
            scale=2 * torch.rand(batch, **options) - 1,
            translate=2 * torch.rand(batch, 2, **options) - 1,
        )

    @property
    def batch(self) -> int:
        """``B``, the number of images this draw is for."""
        return int(self.rotate.shape[0])

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> GeometryDraw:
        """This draw with every field moved to ``device`` and/or cast to ``dtype``."""
        return dataclasses.replace(
            self, **{f.name: getattr(self, f.name).to(device=device, dtype=dtype) for f in dataclasses.fields(self)}
        )
