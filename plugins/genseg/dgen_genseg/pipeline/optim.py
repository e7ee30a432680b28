"""Optimisers of the GenSeg levels, built from the pipeline's options."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from dgen.errors import UnknownNameError

__all__ = ["make_optimizer", "GAN_BETAS"]

#: pix2pix's and the paper's Adam betas for the generator, discriminator and α.
GAN_BETAS = (0.5, 0.999)


def make_optimizer(
    name: str, params: Iterable[nn.Parameter], *, lr: float, weight_decay: float = 0.0, gan: bool = False
) -> torch.optim.Optimizer:
    """``adam`` / ``adamw`` (betas (0.5, 0.999) when ``gan``), ``rmsprop`` (momentum 0.9, the paper's) or ``sgd``."""
    params = list(params)
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        betas = GAN_BETAS if gan else (0.9, 0.999)
        return cls(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise UnknownNameError("optimizer", name, ["adam", "adamw", "rmsprop", "sgd"])
