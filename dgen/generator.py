"""The `Generator` interface: a conditional sampler with searchable architecture."""

from __future__ import annotations

from abc import ABC, abstractmethod

from torch import Tensor, nn

from dgen.search import arch_parameters, weight_parameters

__all__ = ["Generator"]


class Generator(nn.Module, ABC):
    """Maps a condition ``(B, C_in, H, W)`` (e.g. a mask) to a sample ``(B, C_out, H, W)``.

    Its parameters split into architecture weights (the α of every search-space
    choice, see :mod:`dgen.search`) and ordinary weights; the two lists are disjoint
    and together hold every parameter.
    """

    @abstractmethod
    def forward(self, condition: Tensor) -> Tensor:
        """``(B, C_in, H, W)`` condition -> ``(B, C_out, H, W)`` sample."""

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture weights α of every choice in this generator."""
        return arch_parameters(self)

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every parameter that is not an architecture weight."""
        return weight_parameters(self)
