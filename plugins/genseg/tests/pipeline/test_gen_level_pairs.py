"""GenLevel reads the GAN's real pairs and the iteration's DiffAugment draw from the batch."""

from __future__ import annotations

import torch

from dgen.mlo import Context
from dgen_genseg.gan import PatchDiscriminator, Pix2PixGenerator
from dgen_genseg.gan.diffaugment import DiffAugment
from dgen_genseg.gan.losses import generator_loss, to_tanh_range
from dgen_genseg.pipeline.levels import GenLevel, GenSegBatch


def test_gen_level_uses_gan_pairs_and_one_draw() -> None:
    torch.manual_seed(0)
    gen = Pix2PixGenerator(ngf=4, num_downs=3, max_mult=2, dropout=0.0).eval()
    disc = PatchDiscriminator(ndf=4, n_layers=1).eval()
    params = gen.weight_parameters()
    level = GenLevel("gen", params, torch.optim.Adam(params), generator=gen, discriminator=disc, lambda_l1=10.0)
    g = torch.Generator().manual_seed(0)
    masks = (torch.rand(2, 1, 16, 16, generator=g) > 0.5).float()
    images = torch.rand(2, 3, 16, 16, generator=g)
    other_masks, other_images = masks.flip(-1), torch.rand(2, 3, 16, 16, generator=g)
    plain = GenSegBatch(images, masks, masks, images[:0], masks[:0])
    with torch.no_grad():
        fake = gen(to_tanh_range(masks))
        expected = generator_loss(disc(to_tanh_range(masks), fake), fake, to_tanh_range(images), lambda_l1=10.0)
        torch.testing.assert_close(level.loss(Context(), plain), expected)

        swapped = GenSegBatch(images, masks, masks, images[:0], masks[:0], gan_images=other_images, gan_masks=other_masks)
        fake = gen(to_tanh_range(other_masks))
        expected = generator_loss(disc(to_tanh_range(other_masks), fake), fake, to_tanh_range(other_images), lambda_l1=10.0)
        torch.testing.assert_close(level.loss(Context(), swapped), expected)

        draw = DiffAugment().sample(2, 16, 16, torch.Generator().manual_seed(0))
        augmented = GenSegBatch(images, masks, masks, images[:0], masks[:0], gan_augment=draw)
        first, second = level.loss(Context(), augmented), level.loss(Context(), augmented)
        torch.testing.assert_close(first, second, rtol=0, atol=0)  # the same draw at every evaluation
        assert not torch.allclose(first, level.loss(Context(), plain))
