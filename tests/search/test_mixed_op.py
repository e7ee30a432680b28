import math

import pytest
import torch

from dgen.search import Choice, Conv, ConvT, Identity, SepConv, Zero

torch.manual_seed(0)
CHOICES = {
    "down": (Choice([Conv(4, 2, 1), Conv(6, 2, 2), Conv(8, 2, 3)]), 3, 4),
    "up": (Choice([ConvT(4, 2, 1), ConvT(6, 2, 2), ConvT(8, 2, 3)]), 4, 3),
    "darts": (Choice([Zero(), Identity(), SepConv(3, 1, 1), Conv(3, 1, 1)]), 3, 3),
}


def make(name):
    choice, in_ch, out_ch = CHOICES[name]
    op = choice.build(in_ch, out_ch).double()
    x = torch.randn(2, in_ch, 8, 8, dtype=torch.float64)
    return op, x


@pytest.mark.parametrize("name", CHOICES)
def test_alpha_starts_at_zero_and_weights_are_uniform(name):
    op, x = make(name)
    n = len(op.ops)
    torch.testing.assert_close(op.alpha.detach(), torch.zeros(n, dtype=torch.float64), rtol=0, atol=0)
    torch.testing.assert_close(op.weights().detach(), torch.full((n,), 1 / n, dtype=torch.float64), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", CHOICES)
def test_forward_is_the_softmax_weighted_sum(name):
    op, x = make(name)
    with torch.no_grad():
        op.alpha.copy_(torch.randn(len(op.ops)))
    w = torch.softmax(op.alpha.detach(), 0)
    expected = sum(w[i] * op.ops[i](x) for i in range(len(op.ops)))
    torch.testing.assert_close(op(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CHOICES)
@pytest.mark.parametrize("hot", [0, 1, 2])
def test_one_hot_alpha_equals_the_single_op_exactly(name, hot):
    op, x = make(name)
    for alpha in (torch.full((len(op.ops),), -math.inf), torch.full((len(op.ops),), -1000.0)):
        alpha[hot] = 0.0
        with torch.no_grad():
            op.alpha.copy_(alpha)
        torch.testing.assert_close(op(x), op.ops[hot](x), rtol=0, atol=0)


def test_gradient_with_minus_inf_alpha_is_finite():
    op, x = make("down")
    with torch.no_grad():
        op.alpha.copy_(torch.tensor([0.0, -math.inf, -math.inf]))
    op(x).square().sum().backward()
    assert torch.isfinite(op.alpha.grad).all()


@pytest.mark.parametrize("name", CHOICES)
def test_alpha_gradient_is_nonzero_and_matches_finite_differences(name):
    op, x = make(name)
    with torch.no_grad():
        op.alpha.copy_(torch.randn(len(op.ops)))
    target = torch.randn_like(op(x))

    def loss(alpha):
        with torch.no_grad():
            op.alpha.copy_(alpha)
        return (op(x) - target).square().sum()

    alpha0 = op.alpha.detach().clone()
    grad = torch.autograd.grad(loss(alpha0), op.alpha)[0]
    assert grad.abs().max() > 1e-3
    eps = 1e-6
    numeric = torch.stack(
        [(loss(alpha0 + eps * e) - loss(alpha0 - eps * e)).detach() / (2 * eps) for e in torch.eye(len(alpha0), dtype=torch.float64)]
    )
    torch.testing.assert_close(grad, numeric, rtol=1e-6, atol=1e-7)


def test_weights_of_all_candidates_get_gradients():
    op, x = make("up")
    op(x).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in op.parameters())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_the_device_of_the_inputs():
    op, x = make("darts")
    op, x = op.cuda(), x.cuda()
    out = op(x)
    out.sum().backward()
    assert out.device == x.device and op.alpha.grad.device == x.device


def test_functional_call_with_substituted_alpha_differentiates_through_it():
    op, x = make("down")
    alpha = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64, requires_grad=True)
    out = torch.func.functional_call(op, {"alpha": alpha}, (x,))
    with torch.no_grad():
        op.alpha.copy_(alpha)
    torch.testing.assert_close(out, op(x), rtol=0, atol=0)
    (grad,) = torch.autograd.grad(out.square().sum(), alpha)
    assert grad.abs().max() > 1e-3
