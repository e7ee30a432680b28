"""dgen.mlo.diffopt equals torch.optim's ordinary steps, option by option, in float64."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import SolverError
from dgen.mlo import diffopt

CASES = [
    (torch.optim.SGD, {"lr": 0.1}),
    (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.01}),
    (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "maximize": True}),
    (torch.optim.Adam, {"lr": 0.1}),
    (torch.optim.Adam, {"lr": 0.1, "betas": (0.5, 0.99), "amsgrad": True, "weight_decay": 0.01, "maximize": True}),
    (torch.optim.Adam, {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    (torch.optim.AdamW, {"lr": 0.1, "weight_decay": 0.1}),
    (torch.optim.AdamW, {"lr": 0.1, "amsgrad": True, "maximize": True, "eps": 1e-3}),
    (torch.optim.RMSprop, {"lr": 0.01}),
    (torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "momentum": 0.9, "weight_decay": 0.01}),
    (torch.optim.RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5, "maximize": True}),
]


@pytest.mark.parametrize(
    ("cls", "options"), CASES, ids=lambda v: v.__name__ if isinstance(v, type) else "-".join(map(str, v))
)
def test_functional_steps_equal_torch_optim(cls, options):
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(3, 4, generator=gen, dtype=torch.float64).requires_grad_() for _ in range(2)]
    params.append(torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_())
    # two param groups, the second with its own lr; the level lists the params in another order
    optimizer = cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.03}], **options)
    reference = [params[2], params[0], params[1]]
    current = [p.detach().clone() for p in reference]
    states = diffopt.initial_state(optimizer, reference)
    for _ in range(4):
        grads = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in reference]
        current, states = diffopt.step(optimizer, reference, current, grads, states)
        for p, g in zip(reference, grads):
            p.grad = g.clone()
        optimizer.step()
        for mine, real in zip(current, reference):
            torch.testing.assert_close(mine, real.detach(), rtol=0, atol=1e-12)
    for mine, real in zip(states, reference):  # the state continues the real one too
        for key, value in optimizer.state[real].items():
            expected = float(value) if key == "step" else value
            torch.testing.assert_close(mine[key], expected, rtol=0, atol=1e-12)


def test_initial_state_continues_a_running_optimizer():
    p = torch.randn(4, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.ones(4, dtype=torch.float64)
    optimizer.step()
    (state,) = diffopt.initial_state(optimizer, [p])
    assert state["step"] == 1.0
    assert state["exp_avg"] is optimizer.state[p]["exp_avg"]


def test_steps_are_differentiable_and_never_nan_on_zero_gradients():
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    scale = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    for cls in (torch.optim.Adam, torch.optim.RMSprop):
        optimizer = cls([p], lr=0.1)
        grads = [scale * torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64)]  # one entry exactly 0
        (new,), _ = diffopt.step(optimizer, [p], [p], grads, diffopt.initial_state(optimizer, [p]))
        (d_scale,) = torch.autograd.grad(new.sum(), scale)
        assert torch.isfinite(d_scale)


def test_unsupported_optimizer_is_refused_with_the_supported_list():
    p = torch.zeros(3, requires_grad=True)
    with pytest.raises(SolverError, match=r"level 'gen' uses Adagrad.*supported: SGD, Adam, AdamW, RMSprop"):
        diffopt.check_supported(torch.optim.Adagrad([p]), "gen")

    class MyAdam(torch.optim.Adam):
        pass

    with pytest.raises(SolverError, match="not subclasses"):
        diffopt.check_supported(MyAdam([p]), "gen")


@pytest.mark.parametrize(("cls", "options"), [c for c in CASES if c[1].get("weight_decay") or c[1].get("momentum")])
def test_a_missing_gradient_keeps_the_parameter_and_its_state_as_torch_optim_does(cls, options):
    gen = torch.Generator().manual_seed(1)
    used, unused = (torch.randn(4, generator=gen, dtype=torch.float64).requires_grad_() for _ in range(2))
    optimizer = cls([used, unused], **options)
    for p in (used, unused):
        p.grad = torch.randn(4, generator=gen, dtype=torch.float64)
    optimizer.step()  # both have state; weight decay or momentum would move a zero-gradient parameter
    states = diffopt.initial_state(optimizer, [used, unused])
    grad = torch.randn(4, generator=gen, dtype=torch.float64)
    (new_used, new_unused), (_, unused_state) = diffopt.step(
        optimizer, [used, unused], [used.detach(), unused.detach()], [grad, None], states
    )
    assert unused_state is states[1]
    used.grad, unused.grad = grad, None
    before = unused.detach().clone()
    optimizer.step()
    torch.testing.assert_close(new_used, used.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(new_unused, before, rtol=0, atol=0)
    torch.testing.assert_close(unused.detach(), before, rtol=0, atol=0)


def test_the_adam_and_rmsprop_denominator_has_the_derivative_of_sqrt_and_zero_at_zero():
    x = torch.tensor([0.3, 1.7, 4.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: diffopt._root_plus_eps(t, 0.7, 1e-3), (x,))
    zero = torch.tensor([0.0, 4.0], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(diffopt._root_plus_eps(zero, 2.0, 1e-8).sum(), zero)
    torch.testing.assert_close(grad, torch.tensor([0.0, 0.5 / (2.0 * 2.0)], dtype=torch.float64), rtol=1e-15, atol=0)
