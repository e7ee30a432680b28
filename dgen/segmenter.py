"""The `Segmenter` interface: an image-to-mask network."""

from __future__ import annotations

from abc import ABC, abstractmethod

from torch import Tensor, nn

__all__ = ["Segmenter"]


class Segmenter(nn.Module, ABC):
    """Maps images ``(B, C, H, W)`` to mask logits ``(B, K, H, W)`` (``K = 1`` for binary).

    Subclasses implement :meth:`forward` and :meth:`check_input_size`, which raises a
    ``ConfigError`` naming the sizes the network can take when ``(h, w)`` is not one of them.
    """

    @abstractmethod
    def forward(self, image: Tensor) -> Tensor:
        """``(B, C, H, W)`` float images -> ``(B, K, H, W)`` logits."""

    @abstractmethod
    def check_input_size(self, height: int, width: int) -> None:
        """Raise ``ConfigError`` (with the nearest valid sizes) if ``(height, width)`` is not accepted."""
