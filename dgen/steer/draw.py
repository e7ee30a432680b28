"""The standardized random numbers of one appearance augmentation, drawn once per iteration."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["BIAS_FIELD_TERMS", "AppearanceDraw"]

#: K, the number of smooth basis functions of the bias field: x, y, x², y², xy on [-1, 1]²
BIAS_FIELD_TERMS = 5


@dataclass(frozen=True)
class AppearanceDraw:
    """Standardized random numbers of :class:`~dgen.steer.LearnableAppearance`, without magnitudes.

    The module scales them by its learnable magnitudes (``shift = m * u``): the reparameterisation
    that lets gradients reach the magnitudes, and lets every evaluation of a loss in one iteration
    (look-aheads included) see the same transform. Put the draw in the batch.

    Attributes:
        brightness: ``(B, 1, 1, 1)``, U(-1, 1).
        contrast: ``(B, 1, 1, 1)``, U(-1, 1).
        gamma: ``(B, 1, 1, 1)``, U(-1, 1).
        bias_field: ``(B, K)``, N(0, 1): coefficients of the K = :data:`BIAS_FIELD_TERMS` basis functions.
        noise: ``(B, C, H, W)``, N(0, 1).
        blur: ``(B, 1, 1, 1)``, U(0, 1).
    """

    brightness: Tensor
    contrast: Tensor
    gamma: Tensor
    bias_field: Tensor
    noise: Tensor
    blur: Tensor

    @classmethod
    def sample(
        cls,
        batch: int,
        channels: int,
        height: int,
        width: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> AppearanceDraw:
        """Draw every field (whatever transforms are used, so the draws do not depend on them), in the
        order of the attributes, from ``generator`` (the global generator when None; a generator must live
        on ``device``, e.g. ``torch.Generator("cuda")`` for CUDA draws)."""
        options = {"generator": generator, "device": device, "dtype": dtype}

        def uniform(low: float) -> Tensor:  # U(low, 1), (B, 1, 1, 1)
            return low + (1.0 - low) * torch.rand(batch, 1, 1, 1, **options)

        return cls(
            brightness=uniform(-1.0),
            contrast=uniform(-1.0),
            gamma=uniform(-1.0),
            bias_field=torch.randn(batch, BIAS_FIELD_TERMS, **options),
            noise=torch.randn(batch, channels, height, width, **options),
            blur=uniform(0.0),
        )

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(B, C, H, W)`` of the images this draw is for."""
        batch, channels, height, width = self.noise.shape
        return batch, channels, height, width

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> AppearanceDraw:
        """This draw with every field moved to ``device`` and/or cast to ``dtype``."""
        return dataclasses.replace(
            self, **{f.name: getattr(self, f.name).to(device=device, dtype=dtype) for f in dataclasses.fields(self)}
        )
