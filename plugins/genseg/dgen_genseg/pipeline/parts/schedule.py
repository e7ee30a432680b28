"""When a method trains what: a GAN warm-up, then the segmenter's iterations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

__all__ = ["Schedule"]


@final
@dataclass(frozen=True)
class Schedule:
    """``warmup`` iterations that train only a GAN (the segmenter is neither trained nor validated), then
    ``iterations`` that train the segmenter. A method without a GAN has ``warmup=0``."""

    iterations: int
    warmup: int = 0

    @property
    def total(self) -> int:
        """Iterations of the whole run."""
        return self.warmup + self.iterations

    @property
    def segmenter_starts(self) -> int:
        """The first iteration that trains the segmenter (validation starts there)."""
        return self.warmup

    def in_warmup(self, iteration: int) -> bool:
        """Whether the 0-based ``iteration`` belongs to the GAN warm-up."""
        return iteration < self.warmup
