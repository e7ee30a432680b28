"""A pool of synthetic pairs' conditions, each with a learned weight (its measured utility), refilled on a schedule."""

from __future__ import annotations

from typing import Any, final

import torch
from torch import Tensor, nn

from dgen.augmenter import Augmenter
from dgen.steer import SampleWeights

__all__ = ["SyntheticPool"]


@final
class SyntheticPool(nn.Module):
    """``size`` masks (augmented training masks: the generator's conditions) and a weight each.

    Every ``refresh`` iterations the pool is refilled: new masks, drawn from the training masks and
    transformed by the mask augmenter, and every weight back at 1 (:class:`dgen.steer.SampleWeights`). The
    weights are the upper level's variables; a weight is the pair's utility, kept with its mask until
    the next refill. Every draw comes from one CPU generator seeded ``seed`` (saved with the run).

    Attributes:
        masks: buffer ``(size, 1, H, W)`` in {0, 1}.
        sources: buffer ``(size,)``: the index of the training mask each condition was augmented from.
        weights: the weights' module (``logits`` ``(size,)``).
    """

    def __init__(self, size: int, refresh: int, mask_shape: tuple[int, int, int], *, seed: int,
                 device: torch.device) -> None:
        super().__init__()
        self.size, self.refresh = size, refresh
        self.register_buffer("masks", torch.zeros(size, *mask_shape, device=device))
        self.register_buffer("sources", torch.zeros(size, dtype=torch.long, device=device))
        self.weights = SampleWeights(size).to(device)
        self.generator = torch.Generator().manual_seed(seed)

    def due(self, iteration: int) -> bool:
        """Whether the pool is refilled before ``iteration`` (counted from the first steered iteration)."""
        return iteration % self.refresh == 0

    @torch.no_grad()
    def refill(self, train_masks: Tensor, augmenter: Augmenter) -> None:
        """New conditions from ``train_masks`` ``(N, 1, H, W)`` (drawn with replacement, then augmented) and
        every weight back at 1."""
        index = torch.randint(train_masks.shape[0], (self.size,), generator=self.generator)
        augmented, _ = augmenter(train_masks[index.to(train_masks.device)], generator=self.generator)
        self.masks.copy_(augmented)
        self.sources.copy_(index)
        self.weights.reset()

    def draw(self, batch: int) -> Tensor:
        """Indices ``(b,)`` of ``b = min(batch, size)`` distinct pairs of the pool, on the masks' device."""
        return torch.randperm(self.size, generator=self.generator)[: min(batch, self.size)].to(self.masks.device)

    def utility(self) -> Tensor:
        """The current weight of every pair ``(size,)``, detached."""
        return self.weights.utility()

    def state(self) -> dict[str, Any]:
        """The parts a checkpoint holds: this module (masks and weights) and its generator."""
        return {"pool": self, "pool_generator": self.generator}
