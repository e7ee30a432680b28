"""WeightNet: weights start at 1 for any features, follow 2 sigmoid of the MLP, reach every parameter; errors."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import ConfigError
from dgen.mlo import Context
from dgen.steer import WeightNet, weighted_mean


def test_every_weight_starts_at_one_whatever_the_features():
    net = WeightNet(3, hidden=5)
    features = torch.randn(7, 3) * 10
    torch.testing.assert_close(net(features), torch.ones(7), rtol=0, atol=0)
    assert net.utility(features).requires_grad is False


def test_weights_are_two_sigmoid_of_the_mlp_and_lie_in_zero_two():
    torch.manual_seed(0)
    net = WeightNet(2, hidden=4)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p) * 3)
    features = torch.randn(6, 2)
    hidden = torch.relu(features @ net.net[0].weight.T + net.net[0].bias)  # (6, 4)
    expected = 2 * torch.sigmoid(hidden @ net.net[2].weight.T + net.net[2].bias).squeeze(1)
    torch.testing.assert_close(net(features), expected)
    far = net.utility(torch.randn(100, 2) * 50)
    assert float(far.min()) < 0.05 and float(far.max()) > 1.95, "large features reach both ends of (0, 2)"


def test_a_weighted_loss_reaches_the_output_layer_first_then_every_parameter():
    torch.manual_seed(1)
    net = WeightNet(2, hidden=4)
    features, losses = torch.randn(5, 2), torch.rand(5)
    weighted_mean(losses, Context().call(net, features)).backward()
    assert float(net.net[2].weight.grad.abs().sum()) > 0 and float(net.net[2].bias.grad.abs()) > 0
    assert float(net.net[0].weight.grad.abs().sum()) == 0  # the zero output layer passes nothing back yet
    with torch.no_grad():
        net.net[2].weight.add_(0.5)
    net.zero_grad()
    weighted_mean(losses, Context().call(net, features)).backward()
    assert all(float(p.grad.abs().sum()) > 0 for p in net.parameters())


def test_normalized_weights_are_the_free_ones_over_their_batch_mean():
    torch.manual_seed(2)
    free, normalized = WeightNet(2, hidden=4), WeightNet(2, hidden=4, normalize=True)
    with torch.no_grad():
        for p in free.parameters():
            p.copy_(torch.randn_like(p))
    normalized.load_state_dict(free.state_dict())
    features = torch.randn(5, 2)
    torch.testing.assert_close(normalized(features), free(features) / free(features).mean())
    assert float(normalized.utility(features).mean()) == pytest.approx(1.0)
    torch.testing.assert_close(normalized.utility(features[:1]), torch.ones(1))


@pytest.mark.parametrize("kwargs", [{"features": 0}, {"features": 2.0}, {"features": True}, {"features": 2, "hidden": 0}])
def test_bad_sizes_are_refused(kwargs):
    with pytest.raises(ConfigError, match=r"WeightNet (features|hidden)=.*expected an int >= 1"):
        WeightNet(**kwargs)


@pytest.mark.parametrize("shape", [(4,), (4, 3), (2, 2, 2)])
def test_features_of_the_wrong_shape_are_refused(shape):
    with pytest.raises(ConfigError, match=r"expected \(b, 2\)"):
        WeightNet(2)(torch.ones(shape))
