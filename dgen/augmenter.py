"""The `Augmenter` interface: random transforms of masks, or of aligned image-mask pairs."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

__all__ = ["Augmenter"]


class Augmenter(ABC):
    """A random geometric transform applied to a batch of binary masks.

    When ``image`` is given (classic paired augmentation) the same transform is applied
    to it, so image and mask stay aligned. Masks stay binary (values in ``{0, 1}``).
    """

    @abstractmethod
    def __call__(
        self, mask: Tensor, image: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Transform ``mask`` ``(B, 1, H, W)`` and optionally ``image`` ``(B, C, H, W)``.

        Returns the transformed ``(mask, image)``; ``image`` is None when none was given.
        Each sample in the batch draws its own random parameters from ``generator``.
        """
