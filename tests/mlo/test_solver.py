"""What all solvers share: step() applies the updates, options, the NaN guard, state and the registry."""

from __future__ import annotations

import math

import pytest
import torch

from dgen.errors import (
    ConfigError,
    NumericalError,
    ResumeError,
    SolverError,
    UnknownNameError,
)
from dgen.mlo import SOLVERS, Context, Problem, create_solver
from dgen.toy import build_toy_problem
from tests.mlo.chains import Chain, FnLevel


def _sgd_arch(chain: Chain, lr: float = 0.5) -> None:
    level = chain.problem.level("arch")
    level.optimizer = torch.optim.SGD(level.params, lr=lr)


@pytest.mark.parametrize("name", ["unroll", "darts"])
def test_step_moves_alpha_against_its_hypergradient_and_updates_every_level(name):
    chain = Chain("sgd", 1)
    _sgd_arch(chain)
    solver = create_solver(name, chain.problem)
    (hyper,) = solver.hypergradients(None)["arch"]
    alpha, w1, w2 = (t.detach().clone() for t in (chain.alpha, chain.w1, chain.w2))
    stats = solver.step(None)
    torch.testing.assert_close(chain.alpha.detach(), alpha - 0.5 * hyper, rtol=1e-12, atol=0)
    assert not torch.equal(chain.w1.detach(), w1) and not torch.equal(chain.w2.detach(), w2)
    assert set(stats) == {"loss/arch", "hypergrad_norm/arch", "loss/gen", "loss/seg", "hyper", "skipped"}
    assert stats["skipped"] == 0.0 and math.isclose(stats["hypergrad_norm/arch"], hyper.norm().item(), rel_tol=1e-9)
    assert all(isinstance(v, float) for v in stats.values())
    assert chain.alpha.grad is None  # gradients are not left behind
    assert solver.iteration == 1


def _ordinary_gradient_of_gen(chain: Chain, alpha, w1) -> torch.Tensor:
    w1 = w1.clone().requires_grad_()
    loss = chain.problem.level("gen").loss(Context({chain.alpha: alpha, chain.w1: w1}), None)
    return torch.autograd.grad(loss, w1)[0]


@pytest.mark.parametrize("reuse", [False, True])
def test_reuse_grads_takes_the_lookahead_gradient_at_the_old_upper_variables(reuse):
    chain = Chain("sgd", 1)
    _sgd_arch(chain)
    old_alpha, w1 = chain.alpha.detach().clone(), chain.w1.detach().clone()
    create_solver("unroll", chain.problem, reuse_grads=reuse).step(None)
    used_alpha = old_alpha if reuse else chain.alpha.detach()  # recomputed: at the updated alpha
    expected = w1 - 0.1 * _ordinary_gradient_of_gen(chain, used_alpha, w1)
    torch.testing.assert_close(chain.w1.detach(), expected, rtol=1e-12, atol=0)


def test_hypergradients_do_not_change_anything():
    chain = Chain("adam", 2)
    chain.warm_up()
    before = [t.detach().clone() for t in (chain.alpha, chain.w1, chain.w2)]
    states = [
        {k: (v.clone() if torch.is_tensor(v) else v) for k, v in lvl.optimizer.state[lvl.params[0]].items()}
        for lvl in chain.levels[1:]
    ]
    create_solver("unroll", chain.problem).hypergradients(None)
    for t, b in zip((chain.alpha, chain.w1, chain.w2), before):
        torch.testing.assert_close(t.detach(), b, rtol=0, atol=0)
    for lvl, state in zip(chain.levels[1:], states):
        for k, v in state.items():
            torch.testing.assert_close(lvl.optimizer.state[lvl.params[0]][k], v, rtol=0, atol=0)


def test_lookahead_leaves_batchnorm_buffers_alone_and_ordinary_steps_train_them():
    problem, data = build_toy_problem(0, torch.float64)
    segmenter = problem.level("seg").segmenter
    running = segmenter[1].running_mean.clone()
    create_solver("unroll", problem).hypergradients(data.batch(0))
    torch.testing.assert_close(segmenter[1].running_mean, running, rtol=0, atol=0)
    create_solver("unroll", problem).step(data.batch(0))
    assert not torch.equal(segmenter[1].running_mean, running)


def _nan_chain(level_name: str) -> Chain:
    chain = Chain("sgd", 1)
    level = chain.problem.level(level_name)
    original = level.fn
    level.fn = lambda ctx, batch: original(ctx, batch) * torch.tensor(float("nan"), dtype=torch.float64)
    return chain


@pytest.mark.parametrize("name", ["unroll", "darts"])
@pytest.mark.parametrize("bad", ["gen", "seg", "arch"])
def test_nan_guard_raises_naming_the_level(name, bad):
    solver = create_solver(name, _nan_chain(bad).problem)
    with pytest.raises(NumericalError, match=rf"level '{bad}'.*lower level '{bad}''s learning rate"):
        solver.step(None)
    assert solver.iteration == 0


def test_nan_policy_skip_applies_nothing_from_the_bad_hypergradient_and_reports_it():
    chain = _nan_chain("seg")
    solver = create_solver("unroll", chain.problem, nan_policy="skip")
    before = [t.detach().clone() for t in (chain.alpha, chain.w1, chain.w2)]
    stats = solver.step(None)
    assert stats == {"hyper": 1.0, "skipped": 1.0, "nonfinite/seg": 1.0}
    for t, b in zip((chain.alpha, chain.w1, chain.w2), before):
        torch.testing.assert_close(t.detach(), b, rtol=0, atol=0)
    assert solver.iteration == 1 and solver.skipped == 1


def test_nan_policy_skip_in_the_ordinary_updates_keeps_earlier_updates_and_skips_later_ones():
    chain = Chain("sgd", 1)
    level = chain.problem.level("gen")
    original = level.fn
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    level.fn = lambda ctx, batch: original(ctx, batch) * (1 if ctx.lookahead else nan)  # NaN in its ordinary update only
    alpha, w1, w2 = (t.detach().clone() for t in (chain.alpha, chain.w1, chain.w2))
    stats = create_solver("unroll", chain.problem, nan_policy="skip").step(None)
    assert stats["skipped"] == 1.0 and stats["nonfinite/gen"] == 1.0 and "loss/arch" in stats and "loss/seg" not in stats
    assert not torch.equal(chain.alpha.detach(), alpha)  # the hypergradient update was applied
    torch.testing.assert_close(chain.w1.detach(), w1, rtol=0, atol=0)  # gen and the later seg were not
    torch.testing.assert_close(chain.w2.detach(), w2, rtol=0, atol=0)


def test_nan_gradient_is_caught_too():
    chain = Chain("sgd", 1)
    level = chain.problem.level("gen")
    original = level.fn
    level.fn = lambda ctx, batch: (
        original(ctx, batch) + torch.sqrt(-ctx.param(chain.w1).abs() * 0).sum()
    )  # grad of sqrt(0): inf
    with pytest.raises(NumericalError, match="gradient of level 'gen'"):
        create_solver("unroll", chain.problem).step(None)


def test_a_loss_that_bypasses_the_context_is_reported():
    chain = Chain("sgd", 1)
    w2 = chain.w2
    chain.problem.level("arch").fn = lambda ctx, batch: (w2**2).sum()  # reads the live w2, not its look-ahead
    with pytest.raises(SolverError, match="level 'arch' has no autograd path.*ctx.call"):
        create_solver("unroll", chain.problem).hypergradients(None)


def test_a_non_scalar_loss_is_reported():
    chain = Chain("sgd", 1)
    chain.problem.level("gen").fn = lambda ctx, batch: ctx.param(chain.w1)
    with pytest.raises(ConfigError, match=r"loss of level 'gen' returned \(3, 3\); expected a scalar"):
        create_solver("unroll", chain.problem).step(None)


def test_state_dict_round_trip_and_errors():
    chain = Chain("sgd", 1)
    solver = create_solver("unroll", chain.problem)
    solver.step(None)
    state = solver.state_dict()
    assert state == {"solver": "unroll", "iteration": 1, "skipped": 0}
    fresh = create_solver("unroll", chain.problem)
    fresh.load_state_dict(state)
    assert fresh.iteration == 1
    with pytest.raises(ResumeError, match="saved by solver 'unroll' but this is 'darts'"):
        create_solver("darts", chain.problem).load_state_dict(state)
    with pytest.raises(ResumeError, match="expected \\['iteration', 'skipped', 'solver'\\]"):
        fresh.load_state_dict({"iteration": 1})
    with pytest.raises(ResumeError, match="iteration=-1"):
        fresh.load_state_dict({**state, "iteration": -1})


def test_registry_names_and_option_errors():
    assert set(SOLVERS) == {"unroll", "darts", "first_order"}
    problem = Chain("sgd").problem
    with pytest.raises(UnknownNameError, match="unknown solver 'unrol'. Did you mean 'unroll'"):
        create_solver("unrol", problem)
    with pytest.raises(
        ConfigError,
        match="solver 'unroll' has no option 'reuse_grad'. Did you mean 'reuse_grads'.*Valid options: steps=None",
    ):
        create_solver("unroll", problem, reuse_grad=True)
    with pytest.raises(ConfigError, match="solver 'darts' has no option 'steps'"):
        create_solver("darts", problem, steps=1)
    assert create_solver("unroll", problem, steps=None, backend=None).backend == "func"  # None means default


@pytest.mark.parametrize(
    ("name", "options", "error", "message"),
    [
        ("unroll", {"backend": "jax"}, UnknownNameError, "unknown backend 'jax'"),
        ("unroll", {"steps": 0}, ConfigError, "steps=0; expected an int >= 1"),
        ("unroll", {"nan_policy": "ignore"}, UnknownNameError, "unknown nan_policy 'ignore'.*raise, skip"),
        ("unroll", {"reuse_grads": "yes"}, ConfigError, "reuse_grads='yes'; expected True or False"),
        ("darts", {"eps_scale": 0.0}, ConfigError, "eps_scale=0.0; expected a number > 0"),
        ("first_order", {"steps": 1.5}, ConfigError, "steps=1.5"),
    ],
)
def test_option_values_are_validated(name, options, error, message):
    chain = Chain("sgd", direct=True)
    with pytest.raises(error, match=message):
        create_solver(name, chain.problem, **options)


def test_a_solver_needs_a_problem():
    with pytest.raises(ConfigError, match="needs a dgen.mlo.Problem"):
        SOLVERS["unroll"]([])


def test_unsupported_optimizer_is_refused_at_construction():
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    q = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    problem = Problem(
        [
            FnLevel(
                "top",
                [p],
                torch.optim.SGD([p], lr=0.1),
                lambda ctx, b: (ctx.param(q) ** 2).sum(),
                lower=("low",),
                direct=False,
            ),
            FnLevel(
                "low",
                [q],
                torch.optim.Adagrad([q]),
                lambda ctx, b: ((ctx.param(q) - ctx.param(p)) ** 2).sum(),
                upper=("top",),
            ),
        ]
    )
    with pytest.raises(SolverError, match="level 'low' uses Adagrad"):
        create_solver("unroll", problem)
    create_solver("darts", problem)  # plain SGD look-ahead: any optimizer


@pytest.mark.parametrize(
    ("name", "options"),
    [("unroll", {}), ("unroll", {"backend": "higher"}), ("unroll", {"reuse_grads": True}), ("darts", {}),
     ("darts", {"reuse_grads": True})],
)  # fmt: skip
def test_a_parameter_no_loss_reads_is_left_alone_as_after_loss_backward(name, options):
    gen = torch.Generator().manual_seed(0)
    alpha, w, unused = (torch.randn(3, generator=gen, dtype=torch.float64).requires_grad_() for _ in range(3))
    target = torch.randn(3, generator=gen, dtype=torch.float64)
    arch = FnLevel(
        "arch", [alpha], torch.optim.SGD([alpha], lr=0.1), lambda ctx, _: ((ctx.param(w) - target) ** 2).sum(),
        lower=("seg",), direct=False,
    )  # fmt: skip
    seg_opt = torch.optim.Adam([w, unused], lr=0.1, weight_decay=0.1)  # would decay a zero-gradient parameter
    seg = FnLevel("seg", [w, unused], seg_opt, lambda ctx, _: ((ctx.param(w) - ctx.param(alpha)) ** 2).sum(), upper=("arch",))
    solver = create_solver(name, Problem([arch, seg]), **options)
    before, w_before = unused.detach().clone(), w.detach().clone()
    for _ in range(2):
        solver.step(None)
    torch.testing.assert_close(unused.detach(), before, rtol=0, atol=0)
    assert unused not in seg_opt.state and not torch.equal(w.detach(), w_before)
