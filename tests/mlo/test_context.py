"""Context: live calls behave like module calls; look-ahead calls substitute values and spare buffers."""

from __future__ import annotations

import torch
from torch import nn

from dgen.mlo import Context


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()


def test_live_context_is_a_plain_call_and_updates_batchnorm():
    net, x = _net(), torch.randn(5, 3, dtype=torch.float64)
    before = net[1].running_mean.clone()
    out = Context().call(net, x)
    assert not Context().lookahead
    assert not torch.equal(net[1].running_mean, before)  # ordinary steps train BN statistics
    net[1].running_mean.copy_(before)
    net[1].num_batches_tracked.zero_()
    torch.testing.assert_close(out, net(x), rtol=0, atol=0)


def test_lookahead_context_substitutes_parameters_and_spares_buffers():
    net, x = _net(), torch.randn(5, 3, dtype=torch.float64)
    weight = net[2].weight
    replacement = torch.zeros_like(weight)
    buffers = {name: b.clone() for name, b in net.named_buffers()}
    ctx = Context({weight: replacement})
    assert ctx.lookahead and ctx.param(weight) is replacement and ctx.param(net[2].bias) is net[2].bias
    out = ctx.call(net, x)
    torch.testing.assert_close(out, net[2].bias.expand(5, 2), rtol=0, atol=0)  # weight zeroed
    for name, b in net.named_buffers():
        torch.testing.assert_close(b, buffers[name], rtol=0, atol=0)
    assert net[2].weight is weight  # the module is left as it was


def test_lookahead_values_carry_gradients():
    net, x = _net(), torch.randn(5, 3, dtype=torch.float64)
    scale = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ctx = Context([(net[0].weight, scale * net[0].weight.detach())])
    (grad,) = torch.autograd.grad(ctx.call(net, x).sum(), scale)
    assert torch.isfinite(grad) and grad != 0
