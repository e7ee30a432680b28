"""Tests of the pix2pix losses and the tanh-range conversions, against hand-computed values in float64."""

from __future__ import annotations

import math

import pytest
import torch

from dgen.errors import ConfigError, DataError
from dgen_genseg.gan import (
    adversarial_loss,
    discriminator_loss,
    from_tanh_range,
    generator_loss,
    to_tanh_range,
)

F64 = torch.float64
LN3 = math.log(3.0)


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def test_tanh_range_values_and_round_trip() -> None:
    torch.testing.assert_close(to_tanh_range(t(0.0, 0.25, 1.0)), t(-1.0, -0.5, 1.0), rtol=0, atol=0)
    torch.testing.assert_close(from_tanh_range(t(-1.0, 0.0, 1.0)), t(0.0, 0.5, 1.0), rtol=0, atol=0)
    x = torch.rand(2, 3, 8, 8, dtype=F64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(from_tanh_range(to_tanh_range(x)), x, rtol=0, atol=1e-15)
    torch.testing.assert_close(to_tanh_range(from_tanh_range(x)), x, rtol=0, atol=1e-15)


def scalar(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=F64)


def test_adversarial_loss_is_mean_binary_cross_entropy() -> None:
    logits = t(0.0, LN3)  # sigmoid: 1/2 and 3/4
    real = (math.log(2) + math.log(4 / 3)) / 2  # mean of -log(1/2), -log(3/4)
    fake = (math.log(2) + math.log(4)) / 2  # mean of -log(1 - 1/2), -log(1 - 3/4)
    torch.testing.assert_close(adversarial_loss(logits, True), scalar(real), rtol=1e-12, atol=0)
    torch.testing.assert_close(adversarial_loss(logits, False), scalar(fake), rtol=1e-12, atol=0)
    assert torch.isfinite(adversarial_loss(t(1e4, -1e4), False))


def test_discriminator_loss_is_halved() -> None:
    loss = discriminator_loss(real_logits=t(0.0), fake_logits=t(LN3))  # (log 2 + log 4) / 2
    torch.testing.assert_close(loss, scalar(1.5 * math.log(2)), rtol=1e-12, atol=0)


def test_generator_loss_is_adversarial_plus_weighted_l1() -> None:
    fake, real = t(0.5, -0.5), t(0.25, -1.0)  # mean |fake - real| = 0.375
    torch.testing.assert_close(generator_loss(t(0.0), fake, real), scalar(math.log(2) + 37.5), rtol=1e-12, atol=0)
    torch.testing.assert_close(generator_loss(t(0.0), fake, real, lambda_l1=0), scalar(math.log(2)), rtol=1e-12, atol=0)
    weighted = generator_loss(t(0.0), fake, real, lambda_l1=2.0)
    torch.testing.assert_close(weighted, scalar(math.log(2) + 0.75), rtol=1e-12, atol=0)


def test_generator_loss_gradient_matches_finite_differences() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 1, 3, 3, dtype=F64, generator=g).requires_grad_()
    fake = torch.randn(2, 3, 4, 4, dtype=F64, generator=g).requires_grad_()
    real = torch.randn(2, 3, 4, 4, dtype=F64, generator=g)
    assert torch.autograd.gradcheck(lambda lo, fa: generator_loss(lo, fa, real, lambda_l1=3.0), (logits, fake))


@pytest.mark.parametrize("lambda_l1", [-1.0, float("nan"), True])
def test_invalid_lambda(lambda_l1: float) -> None:
    with pytest.raises(ConfigError, match="lambda_l1=100"):
        generator_loss(t(0.0), t(0.0), t(0.0), lambda_l1=lambda_l1)


def test_mismatched_images() -> None:
    with pytest.raises(DataError, match="same"):
        generator_loss(t(0.0), torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 4, 4))
