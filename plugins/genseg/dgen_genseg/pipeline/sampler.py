"""Seeded random batches from in-memory labelled pairs."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

__all__ = ["PairSampler", "stack_pairs"]


def stack_pairs(dataset: Dataset, device: torch.device) -> tuple[Tensor, Tensor]:
    """All ``(image, mask)`` items of ``dataset`` stacked: ``(N, C, H, W)`` and ``(N, 1, H, W)`` on ``device``."""
    images, masks = zip(*(dataset[i] for i in range(len(dataset))))  # type: ignore[arg-type]
    return torch.stack(images).to(device), torch.stack(masks).to(device)


class PairSampler:
    """Draws random batches (with replacement across batches, without within one) of image-mask pairs.

    The index generator lives on the CPU, so a seed gives the same batches on CPU and CUDA.
    """

    def __init__(self, dataset: Dataset, device: torch.device, seed: int) -> None:
        self.images, self.masks = stack_pairs(dataset, device)
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.images.shape[0]

    def sample(self, batch_size: int) -> tuple[Tensor, Tensor]:
        """A batch ``(images (b, C, H, W), masks (b, 1, H, W))`` with ``b = min(batch_size, len(self))``."""
        index = torch.randperm(len(self), generator=self.generator)[: min(batch_size, len(self))]
        index = index.to(self.images.device)
        return self.images[index], self.masks[index]

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
