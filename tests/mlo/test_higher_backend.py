"""The `higher` backend: agrees with `func` where higher is right, its deviations measured, its gaps refused."""

from __future__ import annotations

import warnings

import pytest
import torch

from dgen.errors import SolverError
from dgen.mlo import create_solver
from dgen.mlo.context import Context
from dgen.mlo.solvers.higher_backend import HigherTrajectory
from tests.mlo.chains import Chain, FnLevel


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "rmsprop", "rmsprop_centered"])
def test_backends_agree_on_sgd_and_rmsprop_chains(optimizer, steps):
    chain = Chain(optimizer, steps)
    chain.warm_up()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # higher's RMSprop construction warning is handled
        via_higher = create_solver("unroll", chain.problem, backend="higher").hypergradients(None)["arch"][0]
    via_func = create_solver("unroll", chain.problem).hypergradients(None)["arch"][0]
    torch.testing.assert_close(via_higher, via_func, rtol=1e-8, atol=1e-14)


def test_higher_adam_is_torch_adam_with_a_bias_corrected_eps():
    p = torch.randn(6, dtype=torch.float64, requires_grad=True)
    target = p.detach() - 1e-6 * torch.randn(6, dtype=torch.float64)  # gradients ~1e-6 make eps matter
    optimizer = torch.optim.Adam([p], lr=0.1, eps=1e-8)
    level = FnLevel("w", [p], optimizer, lambda ctx, b: 0.5 * ((ctx.param(p) - target) ** 2).sum())
    lookahead = HigherTrajectory(level)
    lookahead.step(level.loss(Context([(p, p)]), None), "test")
    mirror = p.detach().clone().requires_grad_()
    eps_t = 1e-8 / (1 - 0.999) ** 0.5  # eps / sqrt(1 - beta2^t) at t = 1
    reference = torch.optim.Adam([mirror], lr=0.1, eps=eps_t)
    mirror.grad = p.detach() - target
    reference.step()
    torch.testing.assert_close(lookahead.params[0], mirror.detach(), rtol=1e-12, atol=1e-15)
    real = torch.optim.Adam([p], lr=0.1, eps=1e-8)
    p.grad = p.detach() - target
    start = p.detach().clone()
    real.step()
    gap = (lookahead.params[0].detach() - p.detach()).abs().max() / (p.detach() - start).abs().max()
    assert gap > 0.1  # measured 0.2: here higher's Adam step differs from torch.optim's by a fifth


def test_higher_adam_hypergradient_deviation_is_small_but_real():
    chain = Chain("adam", 2)
    chain.warm_up()
    via_higher = create_solver("unroll", chain.problem, backend="higher").hypergradients(None)["arch"][0]
    via_func = create_solver("unroll", chain.problem).hypergradients(None)["arch"][0]
    relative = ((via_higher - via_func).norm() / via_func.norm()).item()
    assert 1e-8 < relative < 1e-3  # measured 2e-5 (torch 2.14.1); func matches finite differences to 1e-10


def _refused(optimizer_factory, message, **options):
    chain = Chain("sgd")
    level = chain.problem.level("seg")
    level.optimizer = optimizer_factory(level.params)
    with pytest.raises(SolverError, match=message):
        create_solver("unroll", chain.problem, backend="higher", **options)


def test_refuses_what_higher_gets_wrong_silently():
    _refused(lambda ps: torch.optim.AdamW(ps, lr=0.1), r"cannot step level 'seg''s AdamW.*backend='func'")
    _refused(lambda ps: torch.optim.SGD(ps, lr=0.1, maximize=True), r"ignores maximize=True of level 'seg'")
    _refused(lambda ps: torch.optim.Adam(ps, lr=0.1, decoupled_weight_decay=True), "ignores decoupled_weight_decay")
    _refused(lambda ps: torch.optim.SGD(ps, lr=0.1), "backend='func' only", self_second_order=False)
