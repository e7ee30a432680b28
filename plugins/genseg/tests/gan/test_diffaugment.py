"""DiffAugment of the discriminator's (mask, image) inputs, and the GAN losses on pairs."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import ConfigError
from dgen_genseg.augment import combine
from dgen_genseg.gan import PatchDiscriminator
from dgen_genseg.gan.diffaugment import DiffAugment, apply_params, parse_policy
from dgen_genseg.gan.losses import discriminator_loss, generator_loss, to_tanh_range
from dgen_genseg.gan.pair_losses import discriminator_pair_loss, generator_pair_loss, jointly_augmented_pairs


def pair(batch: int = 4, size: int = 32, channels: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A mask in {-1, 1} ``(B, 1, H, W)`` and an image in [-1, 1] equal to it on every channel ``(B, C, H, W)``."""
    g = torch.Generator().manual_seed(seed)
    mask = (torch.rand(batch, 1, size // 4, size // 4, generator=g) > 0.5).float()
    mask = torch.nn.functional.interpolate(mask, size=size) * 2 - 1
    return mask, mask.repeat(1, channels, 1, 1).clone()


def test_policy_parsing() -> None:
    assert parse_policy("none") == () and parse_policy("") == ()
    assert parse_policy("cutout, color") == ("color", "cutout")
    with pytest.raises(ConfigError, match="Did you mean 'translation'"):
        parse_policy("color,translaton")
    with pytest.raises(ConfigError, match="twice"):
        parse_policy("color,color")


def test_disabled_is_the_identity() -> None:
    mask, image = pair()
    out_mask, out_image = DiffAugment("none")(mask, image)
    assert out_mask is mask and out_image is image


@pytest.mark.parametrize("policy", ["translation", "cutout", "translation,cutout"])
def test_geometry_keeps_masks_binary_and_aligned(policy: str) -> None:
    mask, image = pair()
    g = torch.Generator().manual_seed(1)
    out_mask, out_image = DiffAugment(policy)(mask, image, generator=g)
    assert not torch.equal(out_mask, mask)  # something moved
    assert set(out_mask.unique().tolist()) <= {-1.0, 1.0}
    # the image equals the mask wherever the mask is foreground: same shift, same cut-out on both
    fg = out_mask == 1
    torch.testing.assert_close(out_image[fg.expand_as(out_image)], torch.ones(int(fg.sum()) * 3))
    # outside the mask the image is either the moved background (-1) or the image fill (0)
    assert set(out_image[~fg.expand_as(out_image)].unique().tolist()) <= {-1.0, 0.0}


def test_translation_shifts_by_the_drawn_amount() -> None:
    mask, image = pair(batch=2)
    params = DiffAugment("translation").sample(2, 32, 32, torch.Generator().manual_seed(3))
    _, moved = apply_params(params, mask, image)
    for b in range(2):
        dy, dx = params.shift[b].tolist()
        assert abs(dy) <= 4 and abs(dx) <= 4
        src = image[b, :, max(0, -dy) : 32 - max(0, dy), max(0, -dx) : 32 - max(0, dx)]
        dst = moved[b, :, max(0, dy) : 32 - max(0, -dy), max(0, dx) : 32 - max(0, -dx)]
        torch.testing.assert_close(dst, src, rtol=0, atol=0)


def test_color_changes_only_the_image() -> None:
    mask, image = pair()
    out_mask, out_image = DiffAugment("color")(mask, image, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out_mask, mask) and not torch.allclose(out_image, image)


def test_gradients_reach_the_image() -> None:
    mask, image = pair(batch=2, size=16)
    image = image.double().requires_grad_()
    augment = DiffAugment("color,translation,cutout")
    params = augment.sample(2, 16, 16, torch.Generator().manual_seed(0))
    assert torch.autograd.gradcheck(lambda x: apply_params(params, mask.double(), x)[1], (image,))
    out = apply_params(params, mask.double(), image)[1]
    (grad,) = torch.autograd.grad(out.sum(), image)
    assert grad.abs().sum() > 0


def test_discriminator_pair_loss_uses_one_draw_for_real_and_fake() -> None:
    """With fake == real and one shared draw, D sees identical real and fake inputs."""
    torch.manual_seed(0)
    disc = PatchDiscriminator(ndf=4, image_channels=3).eval()
    mask01 = (torch.rand(2, 1, 32, 32) > 0.5).float()
    images = torch.rand(2, 3, 32, 32)
    fake = to_tanh_range(images)
    loss = discriminator_pair_loss(
        disc, mask01, images, fake, augment=DiffAugment(), generator=torch.Generator().manual_seed(0)
    )
    logits = disc(*DiffAugment().apply(DiffAugment().sample(2, 32, 32, torch.Generator().manual_seed(0)),
                                       to_tanh_range(mask01), fake))
    torch.testing.assert_close(loss, discriminator_loss(logits, logits))
    plain = discriminator_pair_loss(disc, mask01, images, fake)
    torch.testing.assert_close(plain, discriminator_loss(disc(to_tanh_range(mask01), fake), disc(to_tanh_range(mask01), fake)))


def test_generator_pair_loss_gradient_flows_through_the_augmentation() -> None:
    torch.manual_seed(0)
    disc = PatchDiscriminator(ndf=4, image_channels=3)
    mask01 = (torch.rand(2, 1, 32, 32) > 0.5).float()
    images = torch.rand(2, 3, 32, 32)
    fake = torch.tanh(torch.randn(2, 3, 32, 32)).requires_grad_()
    params = DiffAugment().sample(2, 32, 32, torch.Generator().manual_seed(0))
    loss = generator_pair_loss(disc, mask01, images, fake, lambda_l1=0.0, params=params)
    (grad,) = torch.autograd.grad(loss, fake)
    assert grad.abs().sum() > 0
    plain = generator_pair_loss(disc, mask01, images, fake, lambda_l1=7.0)
    expected = generator_loss(disc(to_tanh_range(mask01), fake), fake, to_tanh_range(images), lambda_l1=7.0)
    torch.testing.assert_close(plain, expected)
    assert not torch.allclose(loss, generator_pair_loss(disc, mask01, images, fake, lambda_l1=0.0))


def test_jointly_augmented_pairs_stay_binary_and_aligned() -> None:
    mask01 = (pair(batch=4, size=32)[0] + 1) / 2
    images = mask01.repeat(1, 3, 1, 1)
    new_images, new_masks = jointly_augmented_pairs(combine(), images, mask01, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(new_masks, mask01)
    assert set(new_masks.unique().tolist()) <= {0.0, 1.0}
    # the image, thresholded at 0.5, is its mask again (same transform, see augment/warp.py)
    assert torch.equal((new_images[:, :1] > 0.5).float(), new_masks)
