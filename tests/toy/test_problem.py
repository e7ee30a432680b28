"""The toy 3-level problem: deterministic, GenSeg-shaped, learns, and its hypergradient is the exact one."""

from __future__ import annotations

from copy import deepcopy

import pytest
import torch

from dgen.errors import ConfigError, UnknownNameError
from dgen.mlo import Context, create_solver
from dgen.toy import CANDIDATES, build_toy_problem, evaluate


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors: one thread (root conftest.py)


def _state(problem):
    return [p.detach().clone() for level in problem for p in level.params]


def test_deterministic_given_the_seed_and_leaves_the_global_rng_alone():
    rng = torch.get_rng_state()
    (a, data_a), (b, data_b) = build_toy_problem(3), build_toy_problem(3)
    assert torch.equal(torch.get_rng_state(), rng)
    for x, y in zip(_state(a), _state(b)):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    batch_a, batch_b = data_a.batch(5), data_b.batch(5)
    torch.testing.assert_close(batch_a.aug_masks, batch_b.aug_masks, rtol=0, atol=0)
    assert not torch.equal(batch_a.aug_masks, data_a.batch(6).aug_masks)
    assert not torch.equal(_state(build_toy_problem(4)[0])[1], _state(a)[1])  # [0] is alpha, zeros


def test_genseg_shaped_graph():
    problem, data = build_toy_problem(0, torch.float64)
    assert problem.order == ("arch", "gen", "seg") and problem.unrolled("arch") == ("gen", "seg")
    assert not problem.level("arch").direct
    assert problem.level("arch").params[0].shape == (len(CANDIDATES),)
    batch = data.batch(0)
    assert batch.masks.dtype == torch.float64 and batch.images.shape == (16, 6) and batch.aug_masks.shape == (32, 3)


def test_training_improves_the_validation_metric_and_moves_alpha():
    problem, data = build_toy_problem(0)
    solver = create_solver("unroll", problem)
    before = evaluate(problem, data, "val")
    for i in range(150):
        stats = solver.step(data.batch(i))
    assert evaluate(problem, data, "val") < 0.5 * before
    assert stats["hypergrad_norm/arch"] > 0 and problem.level("arch").params[0].abs().max() > 0.1


def _unrolled_loss(problem, batch, alpha_value) -> float:
    """arch's loss after one real optimizer step of gen, then of seg, on a copy of the problem."""
    copy = deepcopy(problem)
    with torch.no_grad():
        copy.level("arch").params[0].copy_(alpha_value)
    for name in ("gen", "seg"):
        level = copy.level(name)
        level.optimizer.zero_grad()
        level.loss(Context(), batch).backward()
        level.optimizer.step()
    with torch.no_grad():
        return copy.level("arch").loss(Context(), batch).item()


def test_float64_toy_hypergradient_matches_finite_differences_of_real_steps():
    problem, data = build_toy_problem(1, torch.float64)
    solver = create_solver("unroll", problem)
    for i in range(5):  # optimizer states past Adam's sign-like first step
        solver.step(data.batch(i))
    batch = data.batch(5)
    alpha = problem.level("arch").params[0].detach()
    (grad,) = solver.hypergradients(batch)["arch"]
    h, fd = 1e-3, torch.zeros_like(alpha)
    for i in range(alpha.numel()):
        e = torch.zeros_like(alpha)
        e[i] = h
        f = {k: _unrolled_loss(problem, batch, alpha + k * e) for k in (-2, -1, 1, 2)}
        fd[i] = (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * h)
    torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-11)


def test_errors_name_the_fix():
    with pytest.raises(ConfigError, match="n_train >= 2"):
        build_toy_problem(0, n_train=1)
    with pytest.raises(ConfigError, match="floating dtype"):
        build_toy_problem(0, torch.int64)
    problem, data = build_toy_problem(0)
    with pytest.raises(UnknownNameError, match="unknown split 'tst'"):
        evaluate(problem, data, "tst")
