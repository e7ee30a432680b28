"""Several hypergradient levels over one learner: a level with a direct loss and a lower level, and
levels that unroll the same levels sharing one look-ahead per iteration (tests/mlo/fan.py)."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import GraphError
from dgen.mlo import Problem, create_solver
from tests.mlo.chains import FnLevel
from tests.mlo.fan import Fan
from tests.mlo.real_steps import finite_difference


def test_problem_groups_levels_that_unroll_the_same_levels():
    fan = Fan()
    assert fan.problem.hypergradient_levels == ("alpha", "beta")
    assert fan.problem.unrolled("alpha") == fan.problem.unrolled("beta") == ("learner",)
    assert fan.problem.hypergradient_groups == (("alpha", "beta"),)
    assert Fan(uppers=("beta",)).problem.hypergradient_groups == (("beta",),)


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_both_hypergradients_match_finite_differences_of_the_real_steps(optimizer, steps):
    fan = Fan(optimizer, steps)
    fan.warm_up()
    grads = create_solver("unroll", fan.problem).hypergradients(None)
    for name in ("alpha", "beta"):
        (reference,) = finite_difference(fan.problem, name, None)
        assert reference.abs().min() > 1e-6  # a meaningful comparison
        torch.testing.assert_close(grads[name][0], reference, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(
    "solver, alpha_direct", [("unroll", False), ("unroll", True), ("first_order", True), ("darts", False)]
)
def test_shared_lookahead_equals_computing_each_level_on_its_own(solver, alpha_direct):
    steps = 1 if solver == "darts" else 2
    fan = Fan("adam", steps, alpha_direct=alpha_direct)
    fan.warm_up()
    shared = create_solver(solver, fan.problem).hypergradients(None)
    if solver != "darts":  # darts looks ahead once per level (documented)
        assert fan.learner_calls == steps  # one look-ahead for both levels
    for name in ("alpha", "beta"):
        alone = Fan("adam", steps, uppers=(name,), alpha_direct=alpha_direct)
        alone.warm_up()
        (expected,) = create_solver(solver, alone.problem).hypergradients(None)[name]
        torch.testing.assert_close(shared[name][0], expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("reuse_grads", [False, True])
def test_a_step_reports_both_levels_and_reuses_the_shared_first_step(reuse_grads):
    fan = Fan("sgd")
    before = fan.values()
    stats = create_solver("unroll", fan.problem, reuse_grads=reuse_grads).step(None)
    assert set(stats) == {
        "loss/alpha", "hypergrad_norm/alpha", "loss/beta", "hypergrad_norm/beta", "loss/learner", "hyper", "skipped"
    }
    assert fan.learner_calls == (1 if reuse_grads else 2)  # the look-ahead, then (unless reused) the update
    assert all(not torch.equal(a, b) for a, b in zip(before, fan.values()))


def test_reused_first_step_equals_the_ordinary_update_with_one_upper_level():
    """With one learner step the reused gradient is the live one: both ways give the same learner."""
    reused, plain = Fan("sgd"), Fan("sgd")
    for fan in (reused, plain):
        for level in fan.levels:
            level.optimizer.param_groups[0]["lr"] = 0.0  # keep the uppers where the look-ahead saw them
    create_solver("unroll", reused.problem, reuse_grads=True).step(None)
    create_solver("unroll", plain.problem, reuse_grads=False).step(None)
    torch.testing.assert_close(reused.w, plain.w, rtol=1e-14, atol=0)


def test_a_hypergradient_level_inside_another_ones_unroll_is_still_refused():
    a, b, w = (torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in range(3))

    def loss(ctx, _):
        return (ctx.param(a) * ctx.param(b) * ctx.param(w)).sum()

    levels = [
        FnLevel("a", [a], torch.optim.SGD([a], lr=0.1), loss, lower=("w",)),
        FnLevel("b", [b], torch.optim.SGD([b], lr=0.1), loss, upper=("a",), lower=("w",)),
        FnLevel("w", [w], torch.optim.SGD([w], lr=0.1), loss, upper=("b",)),
    ]
    with pytest.raises(GraphError, match="nested hypergradients are not supported"):
        Problem(levels)


@pytest.mark.parametrize(
    "solver, options",
    [("unroll", {"reuse_grads": True}), ("unroll", {"reuse_grads": False}), ("darts", {"reuse_grads": True}),
     ("darts", {"reuse_grads": False})],
)
def test_running_statistics_are_updated_once_per_iteration_with_two_upper_levels(solver, options):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    a, b = (torch.ones(3, dtype=torch.float64, requires_grad=True) for _ in range(2))
    x, y, xv, yv = (torch.randn(8, n, dtype=torch.float64) for n in (3, 2, 3, 2))

    def learner(ctx, _):
        return ((ctx.call(net, x * ctx.param(a) + ctx.param(b)) - y) ** 2).mean()

    def validation(ctx, _):
        return ((ctx.call(net, xv) - yv) ** 2).mean()

    params = list(net.parameters())
    problem = Problem([
        FnLevel("a", [a], torch.optim.SGD([a], lr=0.1), validation, lower=("net",), direct=False),
        FnLevel("b", [b], torch.optim.SGD([b], lr=0.1), validation, lower=("net",), direct=False),
        FnLevel("net", params, torch.optim.SGD(params, lr=0.1), learner, upper=("a", "b")),
    ])
    create_solver(solver, problem, **options).step(None)
    assert int(net[1].num_batches_tracked) == 1  # as one ordinary training step
