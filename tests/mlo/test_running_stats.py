"""BatchNorm running statistics must be updated once per iteration, also when look-ahead gradients are reused."""

from __future__ import annotations

import pytest
import torch

from dgen.mlo import Context, create_solver
from dgen.toy import build_toy_problem


def _bn(problem):
    return problem.level("seg").segmenter[1]  # the toy segmenter's BatchNorm1d


@pytest.mark.parametrize("solver, options", [
    ("unroll", {"reuse_grads": True}), ("unroll", {"reuse_grads": False}),
    ("unroll", {"reuse_grads": True, "backend": "higher"}), ("darts", {"reuse_grads": True}),
])
def test_running_stats_follow_ordinary_training(solver, options):
    reference, data = build_toy_problem(0, torch.float64)
    reference.level("seg").loss(Context(), data.batch(0))  # what one ordinary (live) loss evaluation does
    expected = int(_bn(reference).num_batches_tracked)
    problem, data = build_toy_problem(0, torch.float64)
    bn = _bn(problem)
    before = bn.running_mean.clone()
    create_solver(solver, problem, **options).step(data.batch(0))
    assert expected > 0 and int(bn.num_batches_tracked) == expected, "running stats updated as by one ordinary step"
    assert not torch.equal(bn.running_mean, before)


def test_reused_and_recomputed_first_steps_track_the_same_statistics():
    stats = []
    for reuse in (True, False):
        problem, data = build_toy_problem(0, torch.float64)
        create_solver("unroll", problem, reuse_grads=reuse).step(data.batch(0))
        stats.append(_bn(problem).running_var.clone())
    # reused: statistics of the look-ahead pass (before alpha's update); recomputed: after it. Both close.
    torch.testing.assert_close(stats[0], stats[1], rtol=0.05, atol=1e-3)
