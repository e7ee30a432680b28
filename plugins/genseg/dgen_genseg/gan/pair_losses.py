"""pix2pix losses on data pairs, with the two data-efficiency fixes of the GAN (review finding 6).

1. **Jointly augmented real pairs.** The generator renders *augmented* masks for the segmenter but
   was trained only on the un-augmented real pairs. :func:`jointly_augmented_pairs` applies the mask
   augmenter to a real pair as a whole (the image gets the mask's transform), so the GAN also learns
   from pairs whose masks look like the ones it renders.
2. **DiffAugment of the discriminator's inputs** (:class:`~.diffaugment.DiffAugment`): the same
   draw transforms the real and the fake pair (mask and image alike), in the discriminator's update
   and in the generator's adversarial term; the L1 term compares the un-augmented images.

Masks are in {0, 1} and real images in [0, 1] (data convention); fakes in [-1, 1] (the GAN's).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from dgen.augmenter import Augmenter
from dgen_genseg.gan.diffaugment import DiffAugment, DiffAugmentParams, apply_params
from dgen_genseg.gan.losses import discriminator_loss, generator_loss, to_tanh_range

__all__ = ["Discriminate", "jointly_augmented_pairs", "discriminator_pair_loss", "generator_pair_loss"]

#: ``(condition (B, 1, H, W), image (B, C, H, W)) -> logits (B, 1, H', W')``, all in the tanh range
Discriminate = Callable[[Tensor, Tensor], Tensor]


def jointly_augmented_pairs(
    augmenter: Augmenter, images: Tensor, masks: Tensor, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """``(images', masks')``: each real pair ``(B, C, H, W)``, ``(B, 1, H, W)`` moved by one draw of ``augmenter``.

    Masks stay exactly {0, 1} and aligned with their images (the augmenter's contract).
    """
    new_masks, new_images = augmenter(masks, images, generator=generator)
    return new_images, new_masks


def _draw(augment: DiffAugment | None, like: Tensor, generator: torch.Generator | None) -> DiffAugmentParams | None:
    if augment is None or not augment.enabled:
        return None
    return augment.sample(like.shape[0], like.shape[2], like.shape[3], generator)


def _maybe_apply(params: DiffAugmentParams | None, condition: Tensor, image: Tensor) -> tuple[Tensor, Tensor]:
    return (condition, image) if params is None else apply_params(params, condition, image)


def discriminator_pair_loss(
    discriminate: Discriminate,
    masks: Tensor,
    images: Tensor,
    fake: Tensor,
    *,
    augment: DiffAugment | None = None,
    params: DiffAugmentParams | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """pix2pix's discriminator loss on the real pairs ``(masks, images)`` and the fake pairs ``(masks, fake)``.

    Args:
        discriminate: the discriminator (or a functional call of it).
        masks: ``(B, 1, H, W)`` in {0, 1}; images: ``(B, C, H, W)`` in [0, 1].
        fake: ``(B, C, H, W)`` in [-1, 1], generated from ``masks`` (detach it: the generator gets no gradient here).
        augment: DiffAugment applied with one draw to both pairs; None or an empty policy: none.
        params: the DiffAugment draw to apply (e.g. the one the generator's loss of the same iteration uses);
            when None and ``augment`` is given, one is drawn from ``generator``; neither: no augmentation.
        generator: the random source of the draw.
    """
    condition = to_tanh_range(masks)
    if params is None:
        params = _draw(augment, fake, generator)
    real_logits = discriminate(*_maybe_apply(params, condition, to_tanh_range(images)))
    fake_logits = discriminate(*_maybe_apply(params, condition, fake))
    return discriminator_loss(real_logits, fake_logits)


def generator_pair_loss(
    discriminate: Discriminate,
    masks: Tensor,
    images: Tensor,
    fake: Tensor,
    *,
    lambda_l1: float,
    augment: DiffAugment | None = None,
    params: DiffAugmentParams | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """pix2pix's generator loss ``BCE(D(aug(masks, fake)), 1) + lambda_l1 * mean|fake - real|`` (L1 un-augmented).

    Args:
        masks, images, fake: as in :func:`discriminator_pair_loss`; ``fake`` keeps its graph.
        lambda_l1: the L1 weight (pix2pix: 100).
        params: a DiffAugment draw for the discriminator's input (a look-ahead loss that is evaluated several
            times per iteration must pass the same draw each time); when None and ``augment`` is given, one
            is drawn from ``generator``; neither: no augmentation.
    """
    condition = to_tanh_range(masks)
    if params is None:
        params = _draw(augment, fake, generator)
    logits = discriminate(*_maybe_apply(params, condition, fake))
    return generator_loss(logits, fake, to_tanh_range(images), lambda_l1=lambda_l1)
