"""The first-order solver: error O(lr) against the exact hypergradient; refuses direct=False levels."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import SolverError
from dgen.mlo import create_solver
from tests.mlo.chains import Chain, Quadratic


def test_error_is_order_lr_on_the_closed_form_problem():
    errors = []
    for lr in (0.04, 0.02, 0.01):
        quad = Quadratic(lr)
        (grad,) = create_solver("first_order", quad.problem).hypergradients(None)["upper"]
        torch.testing.assert_close(grad, quad.c * quad.x.detach(), rtol=1e-12, atol=0)  # the direct term only
        errors.append((grad - quad.exact()).norm().item())
    for coarse, fine in zip(errors, errors[1:]):
        assert 1.85 < coarse / fine < 2.15, errors


def test_refuses_a_direct_false_level_and_says_why():
    with pytest.raises(SolverError, match=r"level 'arch'.*direct=False.*identically zero.*create_solver\('unroll'"):
        create_solver("first_order", Chain("sgd").problem)


def test_lookahead_uses_the_levels_real_optimizer_steps():
    chain = Chain("adam", 2, direct=True)
    chain.warm_up()
    (grad,) = create_solver("first_order", chain.problem).hypergradients(None)["arch"]
    torch.testing.assert_close(
        grad, 0.2 * chain.alpha.detach(), rtol=1e-12, atol=0
    )  # loss3 reads alpha only in 0.1|a|^2
