"""The DARTS finite-difference solver is second-order accurate in eps on a 3-level chain."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import SolverError
from dgen.mlo import create_solver
from tests.mlo.chains import Chain, Quadratic


@pytest.mark.parametrize("direct", [False, True])
def test_error_against_one_sgd_step_unroll_is_order_eps_squared(direct):
    chain = Chain("sgd", 1, direct=direct)
    chain.warm_up()
    exact = create_solver("unroll", chain.problem).hypergradients(None)["arch"][0]
    errors = [
        (create_solver("darts", chain.problem, eps_scale=eps).hypergradients(None)["arch"][0] - exact).norm().item()
        for eps in (0.2, 0.1, 0.05)
    ]
    for coarse, fine in zip(errors, errors[1:]):
        assert 3.6 < coarse / fine < 4.4, errors
    assert errors[-1] < 1e-4 * exact.norm().item()


def test_exact_on_a_quadratic_lower_level():
    quad = Quadratic(0.1)
    (grad,) = create_solver("darts", quad.problem).hypergradients(None)["upper"]
    torch.testing.assert_close(grad, quad.exact(), rtol=1e-8, atol=0)


def test_refuses_more_than_one_lookahead_step():
    with pytest.raises(
        SolverError, match="level 'gen' has unroll_steps=2; set unroll_steps=1 or use create_solver\\('unroll'"
    ):
        create_solver("darts", Chain("sgd", 2).problem)
