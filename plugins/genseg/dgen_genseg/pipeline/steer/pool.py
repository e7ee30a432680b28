"""A pool of synthetic pairs' conditions, each with a learned weight (its measured utility), refilled on a schedule.

The weight of a pair is its own logit (``steer=weights``, :class:`dgen.steer.SampleWeights`) or a small network's
weight of the pair's features (``steer=weightnet``, :class:`dgen.steer.WeightNet`; features from
:mod:`.pair_features`).
"""

from __future__ import annotations

from typing import Any, Literal, Optional, final

import torch
from torch import Tensor, nn

from dgen.augmenter import Augmenter
from dgen.errors import ConfigError
from dgen.mlo import Context
from dgen.steer import SampleWeights, WeightNet
from dgen_genseg.pipeline.steer.pair_features import PAIR_FEATURES

__all__ = ["SyntheticPool"]


@final
class SyntheticPool(nn.Module):
    """``size`` masks (augmented training masks: the generator's conditions) and a weight each.

    Every ``refresh`` iterations the pool is refilled: new masks, drawn from the training masks and
    transformed by the mask augmenter. The weights' module is the upper level's variables: with ``by="pair"`` a
    logit per pair (:class:`dgen.steer.SampleWeights`), back at 1 at each refill, a weight kept with its mask until
    the next; with ``by="net"`` one :class:`dgen.steer.WeightNet` over each pair's features, kept over refills
    (``normalize``: its weights divided by their mean over each batch, and over the pool for its utility).
    Every draw comes from one CPU generator seeded ``seed`` (saved with the run).

    Attributes:
        masks: buffer ``(size, 1, H, W)`` in {0, 1}.
        sources: buffer ``(size,)``: the index of the training mask each condition was augmented from.
        weights: the weights' module (``logits`` ``(size,)``, or the network).
        per_pair: whether the weights are one logit per pair (``by="pair"``).
    """

    def __init__(self, size: int, refresh: int, mask_shape: tuple[int, int, int], *, seed: int,
                 device: torch.device, by: Literal["pair", "net"] = "pair", normalize: bool = False) -> None:
        super().__init__()
        if by not in ("pair", "net"):
            raise ConfigError(f"SyntheticPool by={by!r}; expected 'pair' (a logit per pair) or 'net' (a WeightNet).")
        self.size, self.refresh, self.per_pair = size, refresh, by == "pair"
        self.register_buffer("masks", torch.zeros(size, *mask_shape, device=device))
        self.register_buffer("sources", torch.zeros(size, dtype=torch.long, device=device))
        self.weights: nn.Module = (SampleWeights(size) if self.per_pair
                                   else WeightNet(len(PAIR_FEATURES), normalize=normalize)).to(device)
        self.generator = torch.Generator().manual_seed(seed)

    def due(self, iteration: int) -> bool:
        """Whether the pool is refilled before ``iteration`` (counted from the first steered iteration)."""
        return iteration % self.refresh == 0

    @torch.no_grad()
    def refill(self, train_masks: Tensor, augmenter: Augmenter) -> None:
        """New conditions from ``train_masks`` ``(N, 1, H, W)`` (drawn with replacement, then augmented); a logit per
        pair goes back to 0 (weight 1), a network is kept."""
        index = torch.randint(train_masks.shape[0], (self.size,), generator=self.generator)
        augmented, _ = augmenter(train_masks[index.to(train_masks.device)], generator=self.generator)
        self.masks.copy_(augmented)
        self.sources.copy_(index)
        if self.per_pair:
            self.weights.reset()

    def draw(self, batch: int) -> Tensor:
        """Indices ``(b,)`` of ``b = min(batch, size)`` distinct pairs of the pool, on the masks' device."""
        return torch.randperm(self.size, generator=self.generator)[: min(batch, self.size)].to(self.masks.device)

    def weigh(self, ctx: Context, index: Tensor, features: Optional[Tensor]) -> Tensor:
        """The weights ``(b,)`` of the pairs ``index`` ``(b,)`` with ``features`` ``(b, F)`` in ``ctx`` (their own
        logits, or the network's weights of their features).

        Raises:
            ConfigError: a network pool given no features.
        """
        if self.per_pair:
            return ctx.call(self.weights, index)
        if features is None:
            raise ConfigError("a pool weighed by a network needs each pair's features (pair_features) in the batch.")
        return ctx.call(self.weights, features)

    def utility(self, features: Optional[Tensor] = None) -> Tensor:
        """The current weight of every pair ``(size,)``, detached; a network pool needs the pool's ``features``
        ``(size, F)``.

        Raises:
            ConfigError: a network pool given no features.
        """
        if self.per_pair:
            return self.weights.utility()
        if features is None:
            raise ConfigError("the utility of a pool weighed by a network needs every pair's features (pair_features).")
        return self.weights.utility(features)

    def state(self) -> dict[str, Any]:
        """The parts a checkpoint holds: this module (masks and weights) and its generator."""
        return {"pool": self, "pool_generator": self.generator}
