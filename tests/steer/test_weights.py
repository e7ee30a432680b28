"""SampleWeights and weighted_mean: initial weights, range, reset, utility, errors."""

from __future__ import annotations

import math

import pytest
import torch

from dgen.errors import ConfigError
from dgen.mlo import Context
from dgen.steer import SampleWeights, weighted_mean


def test_weights_start_at_one_and_follow_two_sigmoid_of_their_logits():
    weights = SampleWeights(5)
    assert weights.logits.shape == (5,) and weights.logits.requires_grad
    torch.testing.assert_close(weights(torch.tensor([4, 0, 4])), torch.ones(3))
    with torch.no_grad():
        weights.logits.copy_(torch.tensor([-30.0, -1.0, 0.0, 1.0, 30.0]))
    expected = 2 * torch.sigmoid(torch.tensor([1.0, -30.0, 30.0]))
    torch.testing.assert_close(weights(torch.tensor([3, 0, 4])), expected)
    assert 0 <= float(weights.utility().min()) and float(weights.utility().max()) <= 2


def test_reset_and_utility():
    weights = SampleWeights(3)
    with torch.no_grad():
        weights.logits.copy_(torch.tensor([0.5, -2.0, 1.0]))
    utility = weights.utility()
    torch.testing.assert_close(utility, 2 * torch.sigmoid(torch.tensor([0.5, -2.0, 1.0])))
    assert not utility.requires_grad
    parameter = weights.logits
    weights.reset()
    assert weights.logits is parameter  # in place: the optimizer still holds it
    torch.testing.assert_close(weights.utility(), torch.ones(3), rtol=0, atol=0)


def test_weighted_mean_is_the_mean_of_the_products_and_reaches_the_logits():
    weights = SampleWeights(4)
    with torch.no_grad():
        weights.logits.copy_(torch.tensor([0.0, 5.0, math.log(3), -math.log(3)]))  # weights 1, -, 1.5, 0.5
    losses = torch.tensor([1.0, 2.0, 3.0])
    value = weighted_mean(losses, Context().call(weights, torch.tensor([0, 2, 3])))
    assert float(value.detach()) == pytest.approx((1 * 1.0 + 2 * 1.5 + 3 * 0.5) / 3)
    value.backward()
    slope = torch.tensor([0.5, 0.0, 0.375, 0.375])  # d(2 sigmoid(z))/dz = 2 s (1 - s)
    torch.testing.assert_close(weights.logits.grad, torch.tensor([1.0, 0.0, 2.0, 3.0]) * slope / 3)


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "3"])
def test_bad_size_is_refused(size):
    with pytest.raises(ConfigError, match=r"SampleWeights size=.*expected an int >= 1"):
        SampleWeights(size)


def test_bad_index_and_shapes_are_refused():
    weights = SampleWeights(3)
    with pytest.raises(ConfigError, match="expected a torch.long tensor"):
        weights(torch.tensor([0.0, 1.0]))
    with pytest.raises(ConfigError, match="expected a torch.long tensor"):
        weights(torch.tensor([[0, 1]]))
    with pytest.raises(ConfigError, match=r"per-sample losses of shape \(2, 2\).*reduction='none'"):
        weighted_mean(torch.ones(2, 2), torch.ones(2))
    with pytest.raises(ConfigError, match=r"weights of shape \(3,\)"):
        weighted_mean(torch.ones(2), torch.ones(3))
