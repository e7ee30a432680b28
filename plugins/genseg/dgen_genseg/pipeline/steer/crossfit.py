"""Cross-fitting: the upper-level loss on a rotating held-out fold of the training pairs (option ``steer_objective``).

With many upper-level variables, an upper loss on the 8 validation images of a 40-image run can be fitted
by the upper level itself. Cross-fitting splits the training pairs into ``crossfit_folds`` folds; for
``crossfit_every`` iterations one fold is held out: the segmenter's real batches come from the other folds
and the upper-level loss from the held-out one; then the next fold is held out. The validation pairs are
left to model selection alone.

Limitation, stated: it is one segmenter, not one per fold, so a held-out fold's pairs were trained on
while other folds were held out; what is held out is the current look-ahead step, not the whole history.
"""

from __future__ import annotations

from typing import Any, final

import torch
from torch import Tensor

from dgen.errors import ConfigError
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["CrossFit", "check_folds"]


def check_folds(train_pairs: int, folds: int) -> None:
    """Raise ``ConfigError`` when ``train_pairs`` cannot make ``folds`` folds of at least 2 pairs each (every fold
    is held out in turn, and the others still train)."""
    if train_pairs < 2 * folds:
        fewer = f"lower it, e.g. --set crossfit_folds={train_pairs // 2}, " if train_pairs >= 4 else ""
        raise ConfigError(
            f"crossfit_folds={folds} needs at least {2 * folds} training pairs; this run has {train_pairs}; "
            f"{fewer}label more pairs (n_labeled), or use --set steer_objective=val."
        )


@final
class CrossFit:
    """Folds of ``train``'s pairs (a seeded permutation cut into ``folds`` near-equal parts) and batches from them
    (check the split with :func:`check_folds` first: here a fold may be empty)."""

    def __init__(self, train: PairSampler, folds: int, every: int, *, seed: int) -> None:
        self.train, self.every = train, every
        self.generator = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
        self.folds = list(torch.tensor_split(order, folds))

    def held_out(self, iteration: int) -> int:
        """The fold held out at ``iteration`` (``(iteration // every) % folds``)."""
        return (iteration // self.every) % len(self.folds)

    def real(self, iteration: int, batch: int) -> tuple[Tensor, Tensor]:
        """A training batch from the folds not held out: ``(b, C, H, W)``, ``(b, 1, H, W)``."""
        held = self.held_out(iteration)
        return self._sample(torch.cat([f for i, f in enumerate(self.folds) if i != held]), batch)

    def upper(self, iteration: int, batch: int) -> tuple[Tensor, Tensor]:
        """A batch of the held-out fold: ``(b, C, H, W)``, ``(b, 1, H, W)``."""
        return self._sample(self.folds[self.held_out(iteration)], batch)

    def _sample(self, index: Tensor, batch: int) -> tuple[Tensor, Tensor]:
        chosen = index[torch.randperm(len(index), generator=self.generator)[: min(batch, len(index))]]
        chosen = chosen.to(self.train.images.device)
        return self.train.images[chosen], self.train.masks[chosen]

    def state(self) -> dict[str, Any]:
        """The part a checkpoint holds: the batches' generator."""
        return {"crossfit_generator": self.generator}
