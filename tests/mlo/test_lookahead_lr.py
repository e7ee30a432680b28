"""``Level.lookahead_lr``: a fixed look-ahead step, independent of the optimizer's (scheduled) lr.

The hypergradient with ``lookahead_lr`` is checked in float64 against central finite differences of
the real torch.optim steps run with that lr, and shown not to change when a scheduler cuts the lr.
"""

from __future__ import annotations

import pytest
import torch

from dgen.errors import ConfigError
from dgen.mlo import create_solver
from tests.mlo.chains import Chain, FnLevel


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam", "rmsprop"])
def test_unroll_with_fixed_step_matches_finite_differences(optimizer: str, steps: int) -> None:
    chain = Chain(optimizer, steps, lookahead_lr=0.03)
    chain.warm_up()
    (grad,) = create_solver("unroll", chain.problem).hypergradients(None)["arch"]
    reference = chain.finite_difference()
    assert reference.abs().min() > 1e-5
    torch.testing.assert_close(grad, reference, rtol=1e-6, atol=1e-12)
    (default,) = create_solver("unroll", Chain(optimizer, steps).problem).hypergradients(None)["arch"]
    assert not torch.allclose(grad, default, rtol=1e-3)  # the option changes the look-ahead


@pytest.mark.parametrize("solver, options", [("unroll", {}), ("unroll", {"backend": "higher"}), ("darts", {})])
def test_hypergradient_does_not_follow_a_decayed_lr(solver: str, options: dict) -> None:
    fixed, scheduled = Chain("sgd", lookahead_lr=0.1), Chain("sgd")
    before = create_solver(solver, fixed.problem, **options).hypergradients(None)["arch"][0]
    reference = create_solver(solver, scheduled.problem, **options).hypergradients(None)["arch"][0]
    torch.testing.assert_close(before, reference, rtol=1e-12, atol=0)  # the chain's sgd lr is 0.1
    for chain in (fixed, scheduled):
        for level in chain.levels[1:]:
            level.optimizer.param_groups[0]["lr"] *= 1e-4  # as a plateau scheduler would: 0.1 -> 1e-5
    after = create_solver(solver, fixed.problem, **options).hypergradients(None)["arch"][0]
    decayed = create_solver(solver, scheduled.problem, **options).hypergradients(None)["arch"][0]
    torch.testing.assert_close(after, before, rtol=1e-12, atol=0)
    assert decayed.norm() < 1e-2 * before.norm()  # without the option the hypergradient falls with the lr


def test_ordinary_updates_keep_the_optimizers_lr() -> None:
    """With alpha frozen (lr 0), a step moves w1 and w2 identically with and without the option."""
    fixed, plain = Chain("sgd", lookahead_lr=0.5), Chain("sgd")
    start = fixed.w2.detach().clone()
    for chain in (fixed, plain):
        chain.levels[0].optimizer.param_groups[0]["lr"] = 0.0
        create_solver("unroll", chain.problem, reuse_grads=False).step(None)
    assert not torch.equal(fixed.w2, start)
    torch.testing.assert_close(fixed.w1, plain.w1, rtol=0, atol=0)
    torch.testing.assert_close(fixed.w2, plain.w2, rtol=0, atol=0)


@pytest.mark.parametrize("value", [0, -1e-3, float("nan"), float("inf"), True, "0.1"])
def test_invalid_lookahead_lr_is_refused(value) -> None:
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ConfigError, match="lookahead_lr=.*expected a finite number > 0"):
        FnLevel("seg", [w], torch.optim.SGD([w], lr=0.1), lambda ctx, _: ctx.param(w).sum(), lookahead_lr=value)
