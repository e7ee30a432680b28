"""Learned weights of generated samples: one logit per pair of a synthetic pool, an upper-level variable.

    weights = SampleWeights(len(pool))
    loss = weighted_mean(per_sample_loss, ctx.call(weights, batch["index"]))   # the learner's loss

A level over ``weights.parameters()`` with ``lower=("learner",)`` and ``direct=False`` moves each
weight by how much that pair helps the learner's validation loss through its look-ahead
(learning to reweight). The weight of a pair is its measured utility (:meth:`SampleWeights.utility`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dgen.errors import ConfigError

__all__ = ["SampleWeights", "weighted_mean"]


class SampleWeights(nn.Module):
    """A weight ``2 * sigmoid(logit)`` in (0, 2) per sample of a pool of ``size``; every weight starts at 1.

    Args:
        size: the number of samples in the pool (an int >= 1).

    Attributes:
        logits: the parameter ``(size,)``, zeros at construction.

    Raises:
        ConfigError: ``size`` is not an int >= 1.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"SampleWeights size={size!r}; expected an int >= 1, the number of samples in the pool.")
        self.logits = nn.Parameter(torch.zeros(size))

    def forward(self, index: Tensor) -> Tensor:
        """The weights ``(b,)`` of the samples ``index`` (a LongTensor ``(b,)`` of pool positions)."""
        if index.dim() != 1 or index.dtype != torch.long:
            raise ConfigError(
                f"SampleWeights index has shape {tuple(index.shape)} and dtype {index.dtype}; "
                f"expected a torch.long tensor (b,) of pool positions."
            )
        return 2.0 * torch.sigmoid(self.logits[index])

    @torch.no_grad()
    def reset(self) -> None:
        """Every weight back to 1 (logits to 0, in place), e.g. when the pool is refreshed; the optimizer's
        state of the logits (momenta) is not touched."""
        self.logits.zero_()

    def utility(self) -> Tensor:
        """The current weight of every sample, ``(size,)``, detached."""
        return 2.0 * torch.sigmoid(self.logits.detach())

    def extra_repr(self) -> str:
        return f"size={self.logits.numel()}"


def weighted_mean(per_sample: Tensor, weights: Tensor) -> Tensor:
    """``mean(weights * per_sample)``: ``per_sample`` ``(b,)`` losses, ``weights`` ``(b,)`` -> ``()``.

    Raises:
        ConfigError: the two are not 1-D tensors of one length.
    """
    if per_sample.dim() != 1 or per_sample.shape != weights.shape:
        raise ConfigError(
            f"weighted_mean got per-sample losses of shape {tuple(per_sample.shape)} and weights of shape "
            f"{tuple(weights.shape)}; expected two (b,) tensors; reduce the loss per sample, e.g. with reduction='none' "
            f"and .flatten(1).mean(1)."
        )
    return (weights * per_sample).mean()
