"""A learned weight of generated samples as a function of their features: a small weighting network.

    net = WeightNet(features=2)                                    # e.g. (learner's loss, mask area) per sample
    loss = weighted_mean(per_sample_loss, ctx.call(net, features))  # features (b, 2), data: no gradient in them

A level over ``net.parameters()`` with ``lower=("learner",)`` and ``direct=False`` learns which samples help the
learner's validation loss (Meta-Weight-Net). Unlike :class:`~dgen.steer.SampleWeights` (one logit per sample of a
pool, moved only by the hypergradients of the batches that drew it), every hypergradient moves the one network, and
its weights carry over to samples it has never seen. A sample's utility is the network's weight of its features.

The features are data: compute them once per iteration, before the look-ahead (e.g. the learner's per-sample loss
under ``torch.no_grad``), and keep them in the batch, so every unrolled step sees the same values and the
hypergradient is exact.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dgen.errors import ConfigError

__all__ = ["WeightNet"]


class WeightNet(nn.Module):
    """``2 * sigmoid(MLP(features))`` in (0, 2) per sample: ``features`` -> ``hidden`` (ReLU) -> 1.

    The output layer starts at zero, so every weight starts at exactly 1 whatever the features; the first
    hypergradient moves the output layer, the next ones the hidden layer too. Free, the weights can scale the
    weighted loss as a whole (all of them falling means "less of these samples"); with ``normalize`` they are
    divided by their mean over the batch (Meta-Weight-Net's normalisation), so they only re-rank its samples.

    Args:
        features: the number of features per sample (an int >= 1).
        hidden: the hidden layer's width (an int >= 1).
        normalize: divide the weights of each call by their mean (their mean is then 1).

    Raises:
        ConfigError: ``features`` or ``hidden`` is not an int >= 1.
    """

    def __init__(self, features: int, hidden: int = 16, *, normalize: bool = False) -> None:
        super().__init__()
        for name, value in (("features", features), ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"WeightNet {name}={value!r}; expected an int >= 1.")
        self.features, self.normalize = features, normalize
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        nn.init.zeros_(self.net[2].weight)
        nn.init.zeros_(self.net[2].bias)

    def forward(self, features: Tensor) -> Tensor:
        """The weights ``(b,)`` of samples with ``features`` ``(b, F)`` (in (0, 2), or with ``normalize`` of mean 1).

        Raises:
            ConfigError: ``features`` is not ``(b, F)`` with this network's ``F``.
        """
        if features.dim() != 2 or features.shape[1] != self.features:
            raise ConfigError(
                f"WeightNet got features of shape {tuple(features.shape)}; expected (b, {self.features}): "
                f"one row of {self.features} features per sample."
            )
        weights = 2.0 * torch.sigmoid(self.net(features).squeeze(1))  # (b,)
        return weights / weights.mean() if self.normalize else weights

    @torch.no_grad()
    def utility(self, features: Tensor) -> Tensor:
        """The weights ``(b,)`` of samples with ``features`` ``(b, F)``, detached: their measured utility."""
        return self(features)

    def extra_repr(self) -> str:
        return f"features={self.features}, normalize={self.normalize}"
