"""pix2pix losses on tensors, and the one value-range convention of the GAN.

**Range convention.** Data tensors are in [0, 1] (images) and {0, 1} (masks). Everything the GAN
sees or makes is in the tanh range [-1, 1]: convert masks and real images with
:func:`to_tanh_range` before the generator, the discriminator and the L1 term, and convert generated
images with :func:`from_tanh_range` before a segmenter or a file. (The official GenSeg code compared
[0, 1] real images with [-1, 1] fakes; these two functions are the only place the mapping lives.)

The losses take tensors only (logits and images), so callers may compute them from outputs of
``torch.func.functional_call``. Logits are those of :class:`~.discriminator.PatchDiscriminator`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from dgen.errors import ConfigError, DataError

__all__ = [
    "to_tanh_range",
    "from_tanh_range",
    "adversarial_loss",
    "discriminator_loss",
    "generator_loss",
    "DEFAULT_LAMBDA_L1",
]

#: pix2pix's weight of the L1 term in the generator loss.
DEFAULT_LAMBDA_L1 = 100.0


def to_tanh_range(x: Tensor) -> Tensor:
    """[0, 1] -> [-1, 1]: ``2 x - 1`` (any shape)."""
    return x * 2.0 - 1.0


def from_tanh_range(x: Tensor) -> Tensor:
    """[-1, 1] -> [0, 1]: ``(x + 1) / 2`` (any shape); the inverse of :func:`to_tanh_range`."""
    return (x + 1.0) * 0.5


def adversarial_loss(logits: Tensor, target_is_real: bool) -> Tensor:
    """Mean BCE-with-logits of ``logits`` (any shape, e.g. ``(B, 1, H', W')``) against all-real or all-fake labels."""
    target = torch.ones_like(logits) if target_is_real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """pix2pix's discriminator loss ``(BCE(real, 1) + BCE(fake, 0)) / 2`` (halved to slow D down); a scalar.

    ``fake_logits`` should come from a detached fake image so the generator gets no gradient here.
    """
    return 0.5 * (adversarial_loss(real_logits, True) + adversarial_loss(fake_logits, False))


def generator_loss(fake_logits: Tensor, fake: Tensor, real: Tensor, *, lambda_l1: float = DEFAULT_LAMBDA_L1) -> Tensor:
    """pix2pix's generator loss ``BCE(D(fake), 1) + lambda_l1 * mean|fake - real|``; a scalar.

    Args:
        fake_logits: discriminator logits on the generated pair, e.g. ``(B, 1, H', W')``.
        fake: generated images ``(B, C, H, W)`` in [-1, 1].
        real: the real images of the same masks ``(B, C, H, W)``, in [-1, 1] (use :func:`to_tanh_range`).
        lambda_l1: weight of the L1 term (>= 0; pix2pix: 100).
    """
    number = isinstance(lambda_l1, (int, float)) and not isinstance(lambda_l1, bool)
    if not number or not math.isfinite(lambda_l1) or lambda_l1 < 0:
        raise ConfigError(f"lambda_l1={lambda_l1!r} is invalid: expected a finite number >= 0; pass e.g. lambda_l1=100.")
    if fake.shape != real.shape:
        raise DataError(
            f"generator_loss got fake {tuple(fake.shape)} and real {tuple(real.shape)}; "
            f"expected the same (B, C, H, W); "
            f"pass the real images that belong to the masks the fakes were generated from."
        )
    return adversarial_loss(fake_logits, True) + lambda_l1 * F.l1_loss(fake, real)
