"""The batches a method trains on, every random draw from a seeded CPU generator saved with the run."""

from __future__ import annotations

from typing import Any, Optional, final

import torch
from torch import Tensor

from dgen.augmenter import Augmenter
from dgen.plugins import create
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["PairStream", "make_real_augmenter"]


def make_real_augmenter(config: GenSegConfig, default: str = "none") -> Augmenter | None:
    """The augmenter named by the option ``real_augmenter`` (unset: the method's ``default``; ``none``: None); an
    unknown name raises ``UnknownNameError`` naming the closest, in the run's preflight check."""
    name = default if config.real_augmenter is None else config.real_augmenter
    return None if name == "none" else create("augmenters", name)


@final
class PairStream:
    """Real training batches, validation batches, augmented masks (the generator's conditions) and
    classically augmented real pairs.

    The batches come from the samplers' own generators; both augmentations draw, in the order they are
    asked for, from one generator seeded ``seed + 2`` (``aug_generator`` in the checkpoint). Two methods that
    ask for the same things in the same order therefore see the same data.

    Args:
        config: the run's options (``batch_size``, ``seed``).
        train: the training pairs.
        val: the validation pairs, for a method that trains on them (GenSeg's α); saved when given.
        conditions: the mask augmenter that makes the generator's conditions.
        real_augmenter: the paired augmenter of the real pairs the segmenter trains on (None: as drawn).
    """

    def __init__(
        self,
        config: GenSegConfig,
        train: PairSampler,
        *,
        val: PairSampler | None = None,
        conditions: Augmenter | None = None,
        real_augmenter: Augmenter | None = None,
    ) -> None:
        self.batch_size = config.batch_size
        self.train, self.val, self.conditions, self.real_augmenter = train, val, conditions, real_augmenter
        self.aug_generator = torch.Generator().manual_seed(config.seed + 2)

    def real(self) -> tuple[Tensor, Tensor]:
        """A training batch: images ``(B, C, H, W)`` in [0, 1], masks ``(B, 1, H, W)`` in {0, 1}."""
        return self.train.sample(self.batch_size)

    def validation(self, size: Optional[int] = None) -> tuple[Tensor, Tensor]:
        """A validation batch ``(V, C, H, W)``, ``(V, 1, H, W)`` of ``V = min(size, validation pairs)`` pairs
        (``size`` None: ``batch_size``)."""
        if self.val is None:
            raise RuntimeError("this PairStream was built without validation pairs; pass val=... to use them")
        return self.val.sample(self.batch_size if size is None else size)

    def augmented_masks(self, masks: Tensor) -> Tensor:
        """The mask augmenter's copy of ``masks`` ``(B, 1, H, W)``: the generator's conditions."""
        if self.conditions is None:
            raise RuntimeError("this PairStream was built without a mask augmenter; pass conditions=... to use it")
        augmented, _ = self.conditions(masks, generator=self.aug_generator)
        return augmented

    def sample_conditions(self, n: int, seed: int) -> Tensor:
        """The mask augmenter's copies of the first ``n`` training masks ``(n, 1, H, W)``, drawn from a fresh
        generator seeded ``seed`` (for sample grids; the run's own stream is not touched)."""
        if self.conditions is None:
            raise RuntimeError("this PairStream was built without a mask augmenter; pass conditions=... to use it")
        augmented, _ = self.conditions(self.train.masks[:n], generator=torch.Generator().manual_seed(seed))
        return augmented

    def first_pairs(self, n: int) -> tuple[Tensor, Tensor]:
        """The first ``n`` training pairs, images ``(n, C, H, W)`` and masks ``(n, 1, H, W)`` (for sample grids)."""
        return self.train.images[:n], self.train.masks[:n]

    def augmented_real(self, images: Tensor, masks: Tensor) -> tuple[Tensor, Tensor]:
        """The real pairs ``(B, C, H, W)``, ``(B, 1, H, W)`` as the segmenter sees them (``real_augmenter`` applied)."""
        if self.real_augmenter is None:
            return images, masks
        masks, images = self.real_augmenter(masks, images, generator=self.aug_generator)
        return images, masks

    def saved(self) -> dict[str, Any]:
        """The parts of the stream a checkpoint holds: the samplers' and the augmentations' generators."""
        parts: dict[str, Any] = {"train": self.train, "aug_generator": self.aug_generator}
        if self.val is not None:
            parts["val"] = self.val
        return parts
