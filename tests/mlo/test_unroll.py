"""The exact solver against a closed form and against finite differences of the real unrolled run."""

from __future__ import annotations

import pytest
import torch

from dgen.mlo import create_solver
from tests.mlo.chains import Chain, Quadratic


@pytest.mark.parametrize("lr", [0.1, 0.02])
def test_bilevel_quadratic_matches_the_closed_form(lr):
    quad = Quadratic(lr)
    (grad,) = create_solver("unroll", quad.problem).hypergradients(None)["upper"]
    torch.testing.assert_close(grad, quad.exact(), rtol=1e-10, atol=0)


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "adam", "adamw", "rmsprop", "rmsprop_centered"])
def test_three_level_chain_matches_finite_differences_of_the_unrolled_run(optimizer, steps):
    chain = Chain(optimizer, steps)
    chain.warm_up()  # non-trivial optimizer states (Adam's first step is lr * sign(g), flat in alpha)
    (grad,) = create_solver("unroll", chain.problem).hypergradients(None)["arch"]
    reference = chain.finite_difference()
    assert reference.abs().min() > 1e-5  # a meaningful comparison
    torch.testing.assert_close(grad, reference, rtol=1e-6, atol=1e-12)


def test_steps_option_overrides_the_levels_unroll_steps():
    one, two = Chain("sgd", 1), Chain("sgd", 2)
    (forced,) = create_solver("unroll", one.problem, steps=2).hypergradients(None)["arch"]
    (declared,) = create_solver("unroll", two.problem).hypergradients(None)["arch"]
    torch.testing.assert_close(forced, declared, rtol=1e-12, atol=0)


def test_direct_term_is_included():
    chain = Chain("sgd", 1, direct=True)
    (grad,) = create_solver("unroll", chain.problem).hypergradients(None)["arch"]
    torch.testing.assert_close(grad, chain.finite_difference(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam", "rmsprop"])
def test_without_self_second_order_k1_is_unchanged_and_k2_drops_only_hessian_terms(optimizer):
    one = Chain(optimizer, 1)
    one.warm_up()
    exact = create_solver("unroll", one.problem).hypergradients(None)["arch"][0]
    cheap = create_solver("unroll", one.problem, self_second_order=False).hypergradients(None)["arch"][0]
    torch.testing.assert_close(cheap, exact, rtol=1e-12, atol=0)  # the first step starts at live variables

    two = Chain(optimizer, 2)
    two.warm_up()
    exact = create_solver("unroll", two.problem).hypergradients(None)["arch"][0]
    cheap = create_solver("unroll", two.problem, self_second_order=False).hypergradients(None)["arch"][0]
    assert not torch.allclose(cheap, exact, rtol=1e-6)
    assert torch.nn.functional.cosine_similarity(cheap, exact, dim=0) > 0.9
