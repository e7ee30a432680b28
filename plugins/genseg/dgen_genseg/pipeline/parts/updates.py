"""Guarded optimiser steps: a NaN or Inf loss or gradient names its level and the option that fixes it."""

from __future__ import annotations

from typing import final

import torch
from torch import Tensor

from dgen.mlo.grads import NonFiniteError
from dgen_genseg.pipeline.config import GenSegConfig

__all__ = ["LR_OPTIONS", "Updates"]

#: the option holding each level's learning rate (the discriminator shares the generator's).
LR_OPTIONS = {"discriminator": "gen_lr", "gen": "gen_lr", "seg": "seg_lr", "arch": "arch_lr"}


@final
class Updates:
    """Backpropagates a level's loss and steps its optimiser, if the loss and every gradient are finite.

    A NaN/Inf raises ``NonFiniteError`` naming the level (``discriminator``, ``gen``, ``seg`` or ``arch``)
    and the learning-rate option to lower, or, with ``nan_policy="skip"``, leaves that update out.
    """

    def __init__(self, config: GenSegConfig) -> None:
        self.config = config

    def advice(self, level: str) -> str:
        """How to avoid NaN/Inf in ``level``: the learning-rate option to lower, or ``nan_policy=skip``."""
        option = LR_OPTIONS[level]
        lr = getattr(self.config, option)
        shared = " (the generator's and the discriminator's)" if option == "gen_lr" else ""
        if lr == 0:  # arch_lr=0, the α-frozen control: its hypergradient is still computed, never applied
            return (f"{option} is 0 (α frozen), so the NaN/Inf comes from the look-ahead, not from a step of this "
                    f"level: lower seg_lr or gen_lr, or skip such steps with --set nan_policy=skip")
        return (
            f"lower {option}{shared}, now {lr:g}, in a new run (e.g. --set {option}={lr / 10:g}), "
            f"or skip such steps with --set nan_policy=skip"
        )

    def apply(self, level: str, loss: Tensor, optimizer: torch.optim.Optimizer) -> bool:
        """Backpropagate the scalar ``loss`` and step ``optimizer``; False if a NaN/Inf was skipped (nothing updated).

        Raises:
            NonFiniteError: a NaN/Inf with ``nan_policy="raise"``, naming ``level`` and the fix.
        """
        if not bool(torch.isfinite(loss)):
            return self._nonfinite(level, f"the loss of level '{level}' is {loss.item()}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if grads and not bool(torch.stack([torch.isfinite(g).all() for g in grads]).all()):
            optimizer.zero_grad(set_to_none=True)
            return self._nonfinite(level, f"a gradient of level '{level}' has NaN/Inf entries (its loss is {loss.item():.4g})")
        optimizer.step()
        return True

    def _nonfinite(self, level: str, what: str) -> bool:
        if self.config.nan_policy == "skip":
            return False
        raise NonFiniteError(f"{what}; {self.advice(level)}", level)
