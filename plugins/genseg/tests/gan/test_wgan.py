"""Tests of the WGAN baseline's pair generator, critic and WGAN-GP losses."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dgen.errors import ConfigError, DataError
from dgen_genseg.gan.wgan import (
    GP_WEIGHT,
    WganCritic,
    WganGenerator,
    critic_loss,
    from_pairs,
    gradient_penalty,
    to_pairs,
    wgan_generator_loss,
)


def _pairs(batch: int, channels: int, size: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, channels, size, size, generator=g, dtype=torch.float64) * 2 - 1


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("image_channels", [1, 3])
def test_shapes_ranges_and_binary_masks(size: int, image_channels: int) -> None:
    torch.manual_seed(0)
    gen = WganGenerator(image_channels=image_channels, mask_channels=1, image_size=size, ngf=4)
    critic = WganCritic(channels=image_channels + 1, image_size=size, ndf=4)
    z = gen.noise(3, torch.Generator().manual_seed(0))
    assert z.shape == (3, 100)
    pairs = gen(z)
    assert pairs.shape == (3, image_channels + 1, size, size)
    assert pairs.min() >= -1 and pairs.max() <= 1
    images, masks = gen.sample(z)
    assert images.shape == (3, image_channels, size, size) and masks.shape == (3, 1, size, size)
    assert images.min() >= 0 and images.max() <= 1
    assert set(masks.unique().tolist()) == {0.0, 1.0}, "masks are thresholded, with both values present at init"
    torch.testing.assert_close(masks, (pairs[:, image_channels:] > 0).float())
    assert critic(pairs).shape == (3,)


def test_pairs_round_trip() -> None:
    g = torch.Generator().manual_seed(1)
    images = torch.rand(2, 3, 16, 16, generator=g)
    masks = (torch.rand(2, 1, 16, 16, generator=g) > 0.5).float()
    pairs = to_pairs(images, masks)
    assert pairs.shape == (2, 4, 16, 16) and set(pairs[:, 3:].unique().tolist()) == {-1.0, 1.0}
    back_images, back_masks = from_pairs(pairs, 3)
    torch.testing.assert_close(back_images, images)
    assert torch.equal(back_masks, masks)


def test_the_64px_generator_is_dcgans() -> None:
    """DCGAN's 64 x 64 generator (ngf 64, nz 100, 3 channels, no bias in the last ConvT) has 3,576,704
    parameters; ours makes 3 + 1 channels, so its last ConvT has 64 x 16 more weights and 4 biases."""
    gen = WganGenerator(image_channels=3, mask_channels=1, image_size=64, ngf=64)
    assert sum(p.numel() for p in gen.parameters()) == 3_576_704 + 64 * 16 + 4


def test_the_critic_has_no_sigmoid_nor_batch_norm_and_scores_each_pair_alone() -> None:
    torch.manual_seed(0)
    critic = WganCritic(channels=2, image_size=32, ndf=4).double()
    kinds = {type(m) for m in critic.modules()}
    assert nn.Sigmoid not in kinds and not any(issubclass(k, nn.modules.batchnorm._BatchNorm) for k in kinds)
    assert nn.InstanceNorm2d in kinds
    pairs = _pairs(3, 2, 32).requires_grad_(True)
    critic(pairs)[0].backward()
    assert pairs.grad[0].abs().sum() > 0 and pairs.grad[1:].abs().sum() == 0


def _linear_critic(weight: torch.Tensor):
    return lambda x: x.flatten(1) @ weight + 0.5  # (B, D) -> (B,); gradient `weight` everywhere


def test_gradient_penalty_of_a_linear_critic_is_hand_computed() -> None:
    real, fake = _pairs(4, 2, 4, seed=1), _pairs(4, 2, 4, seed=2)
    eps = torch.rand(4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    weight = torch.randn(2 * 4 * 4, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    expected_gp = (weight.norm() - 1) ** 2
    torch.testing.assert_close(gradient_penalty(_linear_critic(weight), real, fake, eps), expected_gp)
    unit = weight / weight.norm()
    zero = torch.tensor(0.0, dtype=torch.float64)
    torch.testing.assert_close(gradient_penalty(_linear_critic(unit), real, fake, eps), zero)
    expected = (fake.flatten(1) @ weight).mean() - (real.flatten(1) @ weight).mean() + GP_WEIGHT * expected_gp
    torch.testing.assert_close(critic_loss(_linear_critic(weight), real, fake, eps), expected)


def test_gradient_penalty_is_taken_at_the_mix_eps_real_plus_one_minus_eps_fake() -> None:
    """critic(x) = sum x**2 has gradient 2x: the penalty is mean_b (2 ||x_b|| - 1)**2 at the mixed pairs."""
    real, fake = _pairs(3, 2, 4, seed=5), _pairs(3, 2, 4, seed=6)
    eps = torch.tensor([0.0, 0.25, 1.0], dtype=torch.float64)
    mixed = eps[:, None, None, None] * real + (1 - eps[:, None, None, None]) * fake
    expected = ((2 * mixed.flatten(1).norm(dim=1) - 1) ** 2).mean()
    torch.testing.assert_close(gradient_penalty(lambda x: x.square().flatten(1).sum(1), real, fake, eps), expected)


def test_every_parameter_gets_a_gradient() -> None:
    torch.manual_seed(0)
    gen = WganGenerator(image_channels=3, mask_channels=1, image_size=32, ngf=4)
    critic = WganCritic(channels=4, image_size=32, ndf=4)
    real = to_pairs(torch.rand(2, 3, 32, 32), (torch.rand(2, 1, 32, 32) > 0.5).float())
    critic_loss(critic, real, gen(gen.noise(2)), torch.rand(2)).backward()
    assert all(p.grad is None for p in gen.parameters()), "the critic loss must not reach the generator"
    for name, p in critic.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"critic {name} got no gradient"
    wgan_generator_loss(critic(gen(gen.noise(2)))).backward()
    for name, p in gen.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"generator {name} got no gradient"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: WganGenerator(image_size=48), "image_size=48 is invalid: expected a power of two >= 16; use image_size=32"),
        (lambda: WganCritic(image_size=100), "use image_size=128"),
        (lambda: WganCritic(image_size=8), "expected an integer >= 16"),
        (lambda: WganGenerator(ngf=0), "ngf=0 is invalid"),
    ],
)
def test_invalid_settings_name_the_fix(build, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        build()


def test_wrong_inputs_raise_data_error() -> None:
    gen, critic = WganGenerator(image_size=16, ngf=2, nz=8), WganCritic(channels=4, image_size=16, ndf=2)
    with pytest.raises(DataError, match=r"expected \(B, 8\); draw it with .noise\(B\)"):
        gen(torch.zeros(2, 8, 1, 1))
    with pytest.raises(DataError, match=r"expected \(B, 4, 16, 16\)"):
        critic(torch.zeros(2, 4, 32, 32))
    with pytest.raises(DataError, match=r"eps \(B,\)"):
        gradient_penalty(critic, torch.zeros(2, 4, 16, 16), torch.zeros(2, 4, 16, 16), torch.zeros(2, 1))
