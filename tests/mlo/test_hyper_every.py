"""``hyper_every`` and ``hyper_start``: hypergradients only every k-th iteration from a first one; in between, direct
levels step on their own loss."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import ConfigError
from dgen.mlo import SOLVERS, Context, create_solver
from dgen.plugins import create
from tests.mlo.fan import Fan


def _ordinary_step(level) -> None:
    level.optimizer.zero_grad(set_to_none=True)
    level.loss(Context(), None).backward()
    level.optimizer.step()


@pytest.mark.parametrize("solver", ["unroll", "first_order"])
def test_off_iterations_skip_the_hypergradient_and_step_direct_levels_on_their_live_loss(solver):
    alpha_direct = solver == "first_order"  # first_order refuses direct=False levels
    every, ref = Fan("adam", alpha_direct=alpha_direct), Fan("adam", alpha_direct=alpha_direct)
    every_solver = create_solver(solver, every.problem, hyper_every=2, reuse_grads=True)
    on = every_solver.step(None)
    create_solver(solver, ref.problem, hyper_every=1, reuse_grads=True).step(None)
    for got, expected in zip(every.values(), ref.values()):  # iteration 0: as with hyper_every=1
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert on["hyper"] == 1.0 and "hypergrad_norm/alpha" in on

    every.learner_calls = 0
    off = every_solver.step(None)
    assert off["hyper"] == 0.0 and not any(key.startswith("hypergrad_norm/") for key in off)
    assert every.learner_calls == 1  # no look-ahead; the learner computes its own loss (nothing to reuse)
    for level in ref.levels if alpha_direct else ref.levels[1:]:  # direct levels first, then the learner
        _ordinary_step(level)
    _ordinary_step(ref.learner)
    for got, expected in zip(every.values(), ref.values()):
        torch.testing.assert_close(got, expected, rtol=1e-14, atol=0)
    if not alpha_direct:
        assert set(off) == {"loss/beta", "loss/learner", "hyper", "skipped"}  # alpha was not updated
        assert every_solver.step(None)["hyper"] == 1.0  # iteration 2


def test_a_direct_false_level_does_not_move_on_off_iterations():
    fan = Fan("sgd")
    solver = create_solver("unroll", fan.problem, hyper_every=3)
    solver.step(None)
    after_hyper = fan.alpha.detach().clone()
    for _ in range(2):
        solver.step(None)
        torch.testing.assert_close(fan.alpha, after_hyper, rtol=0, atol=0)
    solver.step(None)
    assert not torch.equal(fan.alpha, after_hyper)


def test_resume_continues_the_schedule():
    fan = Fan("sgd")
    solver = create_solver("unroll", fan.problem, hyper_every=2)
    solver.step(None)
    resumed = create_solver("unroll", fan.problem, hyper_every=2)
    resumed.load_state_dict(solver.state_dict())
    assert set(solver.state_dict()) == {"solver", "iteration", "skipped"}
    assert resumed.step(None)["hyper"] == 0.0 and resumed.step(None)["hyper"] == 1.0


def test_hypergradients_are_computed_whatever_the_schedule():
    fan = Fan("sgd")
    solver = create_solver("unroll", fan.problem, hyper_every=2)
    solver.step(None)
    assert set(solver.hypergradients(None)) == {"alpha", "beta"}  # iteration 1 is off, the query is not


@pytest.mark.parametrize("name", sorted(SOLVERS))
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "2"])
def test_invalid_hyper_every_is_refused_by_every_solver(name, value):
    problem = Fan("sgd", alpha_direct=True).problem
    with pytest.raises(ConfigError, match=r"hyper_every=.*expected an int >= 1"):
        create_solver(name, problem, hyper_every=value)
    with pytest.raises(ConfigError, match=r"hyper_every=.*expected an int >= 1"):
        create("solvers", name, problem=problem, hyper_every=value)


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_every_solver_accepts_hyper_every_from_the_registry(name):
    solver = create("solvers", name, problem=Fan("sgd", alpha_direct=True).problem, hyper_every=4)
    assert solver.hyper_every == 4


def test_hyper_start_delays_the_first_hypergradient_then_keeps_the_schedule():
    fan, ref = Fan("adam", alpha_direct=True), Fan("adam", alpha_direct=True)
    solver = create_solver("unroll", fan.problem, hyper_every=2, hyper_start=3, reuse_grads=True)
    hyper = [solver.step(None)["hyper"] for _ in range(3)]
    assert hyper == [0.0, 0.0, 0.0], "iterations before hyper_start compute no hypergradient"
    for _ in range(3):  # ... and equal ordinary steps: direct levels on their live loss, then the learner
        for level in ref.levels:
            _ordinary_step(level)
        _ordinary_step(ref.learner)
    for got, expected in zip(fan.values(), ref.values()):
        torch.testing.assert_close(got, expected, rtol=1e-14, atol=0)
    assert [solver.step(None)["hyper"] for _ in range(5)] == [1.0, 0.0, 1.0, 0.0, 1.0]  # 3, 5, 7: every 2nd


def test_a_direct_false_level_waits_for_hyper_start():
    fan = Fan("sgd")
    start = fan.alpha.detach().clone()
    solver = create_solver("unroll", fan.problem, hyper_start=2)
    for _ in range(2):
        solver.step(None)
        torch.testing.assert_close(fan.alpha, start, rtol=0, atol=0)
    assert solver.step(None)["hyper"] == 1.0 and not torch.equal(fan.alpha, start)


@pytest.mark.parametrize("name", sorted(SOLVERS))
@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_invalid_hyper_start_is_refused_by_every_solver(name, value):
    problem = Fan("sgd", alpha_direct=True).problem
    with pytest.raises(ConfigError, match=r"hyper_start=.*expected an int >= 0"):
        create("solvers", name, problem=problem, hyper_start=value)
    with pytest.raises(ConfigError, match=r"hyper_start=.*expected an int >= 0"):
        create_solver(name, problem, hyper_start=value)
    assert create("solvers", name, problem=problem, hyper_start=5).hyper_start == 5
