"""Hypergradients into the steer blocks, alone and together with an alpha-like level over one learner,
against central finite differences of the learner's real torch.optim steps (tests/steer/scenario.py)."""

from __future__ import annotations

import pytest
import torch

from dgen.mlo import create_solver
from tests.mlo.real_steps import finite_difference
from tests.steer.scenario import Scenario

ALONE = [("appearance",), ("weights",), ("weightnet",), ("generator",)]
WITH_ALPHA = [("appearance", "alpha"), ("weights", "alpha"), ("weightnet", "alpha"), ("generator", "alpha"),
              ("appearance", "weights", "generator", "alpha"), ("appearance", "weightnet", "generator", "alpha")]


def _check_against_finite_differences(scenario: Scenario) -> None:
    scenario.warm_up()  # Adam's first step is lr * sign(g): flat in the upper variables
    grads = create_solver("unroll", scenario.problem).hypergradients(scenario.batch)
    assert scenario.learner.calls == scenario.learner.unroll_steps  # one shared look-ahead for every level
    for level in scenario.levels:
        reference = finite_difference(scenario.problem, level.name, scenario.batch)
        for got, expected in zip(grads[level.name], reference, strict=True):
            assert expected.abs().max() > 1e-6  # a meaningful comparison
            torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("optimizer, steps", [("sgd", 1), ("adam", 1), ("adam", 2)])
@pytest.mark.parametrize("uppers", ALONE, ids="+".join)
def test_each_block_alone_matches_finite_differences(uppers, optimizer, steps):
    _check_against_finite_differences(Scenario(uppers, optimizer, steps))


@pytest.mark.parametrize("optimizer, steps", [("sgd", 1), ("adam", 2)])
def test_a_normalized_weightnet_matches_finite_differences(optimizer, steps):
    _check_against_finite_differences(Scenario(("weightnet",), optimizer, steps, normalize=True))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("uppers", WITH_ALPHA, ids="+".join)
def test_with_an_alpha_like_level_every_hypergradient_matches_finite_differences(uppers, optimizer):
    _check_against_finite_differences(Scenario(uppers, optimizer))


@pytest.mark.parametrize("uppers", WITH_ALPHA, ids="+".join)
def test_the_shared_lookahead_equals_each_level_on_its_own(uppers):
    together = Scenario(uppers, "adam", 2)
    together.warm_up()
    shared = create_solver("unroll", together.problem).hypergradients(together.batch)
    for name in uppers:
        alone = Scenario((name,), "adam", 2)
        alone.warm_up()
        expected = create_solver("unroll", alone.problem).hypergradients(alone.batch)[name]
        for got, want in zip(shared[name], expected, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-12, atol=0)


def test_a_step_moves_every_block():
    scenario = Scenario(optimizer="adam")
    before = {
        "magnitudes": torch.stack(list(scenario.appearance.magnitudes().values())).detach(),
        "weights": scenario.weights.utility(),
        "weightnet": scenario.weightnet.utility(scenario.batch["features"]),
        "generator": scenario.generator.weight.detach().clone(),
    }
    stats = create_solver("unroll", scenario.problem, reuse_grads=True).step(scenario.batch)
    assert all(f"hypergrad_norm/{name}" in stats for name in ("appearance", "weights", "weightnet", "generator", "alpha"))
    after = {
        "magnitudes": torch.stack(list(scenario.appearance.magnitudes().values())).detach(),
        "weights": scenario.weights.utility(),
        "weightnet": scenario.weightnet.utility(scenario.batch["features"]),
        "generator": scenario.generator.weight.detach(),
    }
    for key in before:
        assert not torch.allclose(before[key], after[key], rtol=0, atol=1e-8), key
