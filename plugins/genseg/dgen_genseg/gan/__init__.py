"""GenSeg's conditional GAN: a searchable pix2pix U-Net generator, a PatchGAN discriminator and their losses.

Everything here works in the tanh range [-1, 1]; see :mod:`dgen_genseg.gan.losses` for the
conversion functions and the convention.
"""

from dgen_genseg.gan.discriminator import PatchDiscriminator
from dgen_genseg.gan.generator import (
    DOWN_CHOICE,
    PIX2PIX_DOWN,
    PIX2PIX_UP,
    UP_CHOICE,
    Pix2PixGenerator,
)
from dgen_genseg.gan.losses import (
    DEFAULT_LAMBDA_L1,
    adversarial_loss,
    discriminator_loss,
    from_tanh_range,
    generator_loss,
    to_tanh_range,
)
from dgen_genseg.gan.norm import NORMS
from dgen_genseg.gan.presets import PIX2PIX_SMALL, pix2pix_small

__all__ = [
    "DEFAULT_LAMBDA_L1",
    "DOWN_CHOICE",
    "NORMS",
    "PIX2PIX_DOWN",
    "PIX2PIX_SMALL",
    "PIX2PIX_UP",
    "UP_CHOICE",
    "PatchDiscriminator",
    "Pix2PixGenerator",
    "adversarial_loss",
    "discriminator_loss",
    "from_tanh_range",
    "generator_loss",
    "pix2pix_small",
    "to_tanh_range",
]
