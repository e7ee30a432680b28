"""The paper's WGAN baseline (its ref. 28, built on Arjovsky et al.'s WGAN): image-mask pairs from noise.

Unlike GenSeg's pix2pix, nothing is conditioned on a mask: :class:`WganGenerator` maps a noise vector to
a whole pair, :class:`WganCritic` scores pairs, and both are trained with the WGAN-GP losses
(Gulrajani et al. 2017): :func:`critic_loss` and :func:`wgan_generator_loss`.

**Pairs.** A pair is an image ``(C, H, W)`` and its mask ``(M, H, W)`` concatenated on the channel axis,
``(C + M, H, W)``, image first, in the tanh range [-1, 1] (see :mod:`dgen_genseg.gan.losses`):
:func:`to_pairs` makes them from data tensors, :func:`from_pairs` turns generated ones back into an
image in [0, 1] and a mask in {0, 1} (thresholded at 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from dgen.errors import ConfigError, DataError
from dgen_genseg.gan.checks import check_int
from dgen_genseg.gan.losses import from_tanh_range, to_tanh_range

__all__ = [
    "GP_WEIGHT",
    "WGAN_GP_BETAS",
    "WganCritic",
    "WganGenerator",
    "critic_loss",
    "from_pairs",
    "gradient_penalty",
    "to_pairs",
    "wgan_generator_loss",
]

#: WGAN-GP's weight of the gradient penalty (lambda).
GP_WEIGHT = 10.0
#: WGAN-GP's Adam betas for the generator and the critic.
WGAN_GP_BETAS = (0.0, 0.9)
_MAX_MULT = 8  # channel cap as a multiple of ngf / ndf, as in DCGAN at 64 x 64
_MIN_SIZE = 16


def _levels(owner: str, image_size: int) -> int:
    """The number of stride-2 (de)convolutions between 4 x 4 and ``image_size``, a power of two >= 16."""
    check_int(owner, "image_size", image_size, _MIN_SIZE, 64)
    if image_size & (image_size - 1):
        below = 2 ** int(math.log2(image_size))
        nearest = below if image_size - below <= 2 * below - image_size else 2 * below
        raise ConfigError(
            f"{owner} image_size={image_size} is invalid: expected a power of two >= {_MIN_SIZE}; "
            f"use image_size={nearest}."
        )
    return int(math.log2(image_size)) - 2


def _channels(width: int, level: int) -> int:
    """Channels of the feature map ``level`` halvings below the full size (level >= 1)."""
    return width * min(2 ** (level - 1), _MAX_MULT)


def to_pairs(images: Tensor, masks: Tensor) -> Tensor:
    """Images ``(B, C, H, W)`` in [0, 1] and masks ``(B, M, H, W)`` in {0, 1} -> pairs ``(B, C + M, H, W)`` in [-1, 1]."""
    return torch.cat([to_tanh_range(images), to_tanh_range(masks)], dim=1)


def from_pairs(pairs: Tensor, image_channels: int) -> tuple[Tensor, Tensor]:
    """Pairs ``(B, C + M, H, W)`` in [-1, 1] -> images ``(B, C, H, W)`` in [0, 1] and masks ``(B, M, H, W)`` in {0, 1}.

    A mask pixel is 1 where the generated value is > 0 (0.5 after :func:`from_tanh_range`).
    """
    images, masks = pairs[:, :image_channels], pairs[:, image_channels:]
    return from_tanh_range(images), (masks > 0).to(pairs.dtype)


class WganGenerator(nn.Module):
    """DCGAN generator of pairs: noise ``z (B, nz) -> (B, C + M, S, S)`` in [-1, 1] (tanh).

    A 4 x 4 transposed conv lifts ``z`` to a 4 x 4 map, then ``log2(S) - 2`` stride-2 ``ConvT(4, 2, 1)``
    double H and W up to ``S``; BatchNorm + ReLU after each but the last, tanh after the last. The map
    at ``S / 2**j`` has ``ngf * min(2**(j-1), 8)`` channels (DCGAN's 64 x 64 generator for ``S = 64``).

    Args:
        image_channels: C (1 grey, 3 RGB).
        mask_channels: M, the last channels of a pair.
        image_size: S, a power of two >= 16.
        ngf: channels of the map at ``S / 2``.
        nz: length of the noise vector.
    """

    def __init__(
        self, *, image_channels: int = 3, mask_channels: int = 1, image_size: int = 64, ngf: int = 64, nz: int = 100
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        self.image_channels = check_int(owner, "image_channels", image_channels, 1, 3)
        self.mask_channels = check_int(owner, "mask_channels", mask_channels, 1, 1)
        self.ngf = check_int(owner, "ngf", ngf, 1, 64)
        self.nz = check_int(owner, "nz", nz, 1, 100)
        self.image_size = image_size
        levels = _levels(owner, image_size)
        channels = _channels(self.ngf, levels)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(self.nz, channels, 4, 1, 0, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
        ]
        for level in range(levels - 1, 0, -1):
            out_ch = _channels(self.ngf, level)
            layers += [nn.ConvTranspose2d(channels, out_ch, 4, 2, 1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU()]
            channels = out_ch
        layers += [nn.ConvTranspose2d(channels, self.image_channels + self.mask_channels, 4, 2, 1), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` noise vectors ``(n, nz)``, standard normal, on this generator's device; ``generator`` is a CPU
        ``torch.Generator`` (so a seed gives the same noise on CPU and CUDA)."""
        device = next(self.parameters()).device
        return torch.randn(n, self.nz, generator=generator).to(device)

    def forward(self, z: Tensor) -> Tensor:
        """``z`` ``(B, nz)`` -> pairs ``(B, C + M, S, S)`` in [-1, 1], the mask channels not yet thresholded."""
        if z.dim() != 2 or z.shape[1] != self.nz:
            raise DataError(
                f"{type(self).__name__} got noise {tuple(z.shape)}; expected (B, {self.nz}); draw it with .noise(B)."
            )
        return self.model(z[:, :, None, None])  # (B, nz, 1, 1) -> (B, C + M, S, S)

    def sample(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """``z`` ``(B, nz)`` -> images ``(B, C, S, S)`` in [0, 1] and binary masks ``(B, M, S, S)`` (:func:`from_pairs`)."""
        return from_pairs(self(z), self.image_channels)


class WganCritic(nn.Module):
    """DCGAN-style critic: pairs ``(B, channels, S, S)`` in [-1, 1] -> scores ``(B,)``, unbounded (no sigmoid).

    A ``Conv(4, 2, 1)`` + LeakyReLU(0.2) to ``S / 2`` (``ndf`` channels), then ``Conv(4, 2, 1)`` +
    InstanceNorm (learnable scale and shift) + LeakyReLU(0.2) down to 4 x 4 (the map at ``S / 2**j`` has
    ``ndf * min(2**(j-1), 8)`` channels), and a 4 x 4 conv without bias to one score. No BatchNorm: it would couple
    the samples of a batch, which the per-sample gradient penalty assumes independent.

    Args:
        channels: C + M of a pair.
        image_size: S, a power of two >= 16.
        ndf: channels of the map at ``S / 2``.
    """

    def __init__(self, *, channels: int = 4, image_size: int = 64, ndf: int = 64) -> None:
        super().__init__()
        owner = type(self).__name__
        self.channels = check_int(owner, "channels", channels, 1, 4)
        self.ndf = check_int(owner, "ndf", ndf, 1, 64)
        self.image_size = image_size
        levels = _levels(owner, image_size)
        layers: list[nn.Module] = [nn.Conv2d(self.channels, self.ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        width = self.ndf
        for level in range(2, levels + 1):
            out_ch = _channels(self.ndf, level)
            conv = nn.Conv2d(width, out_ch, 4, 2, 1, bias=False)  # the norm after it makes a bias useless
            layers += [conv, nn.InstanceNorm2d(out_ch, affine=True), nn.LeakyReLU(0.2)]
            width = out_ch
        layers.append(nn.Conv2d(width, 1, 4, 1, 0, bias=False))  # a constant shift of every score changes no WGAN loss
        self.model = nn.Sequential(*layers)

    def forward(self, pairs: Tensor) -> Tensor:
        """``pairs`` ``(B, channels, S, S)`` in [-1, 1] -> scores ``(B,)``."""
        expected = (self.channels, self.image_size, self.image_size)
        if pairs.dim() != 4 or tuple(pairs.shape[1:]) != expected:
            raise DataError(
                f"{type(self).__name__} got pairs {tuple(pairs.shape)}; expected (B, {', '.join(map(str, expected))}); "
                "pass image and mask concatenated (to_pairs) at the size the critic was built for."
            )
        return self.model(pairs).flatten()  # (B, 1, 1, 1) -> (B,)


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, eps: Tensor) -> Tensor:
    """WGAN-GP's penalty ``mean_b (||grad_x critic(x_b)||_2 - 1)**2`` at ``x = eps * real + (1 - eps) * fake``; a scalar.

    Args:
        critic: ``(B, ...) -> (B,)`` scores.
        real: real pairs ``(B, ...)``.
        fake: generated pairs of the same shape (detached here).
        eps: ``(B,)`` mixing weights in [0, 1] (uniform in WGAN-GP).

    The gradient is taken with ``create_graph=True``, so the penalty backpropagates to the critic's parameters.
    """
    if fake.shape != real.shape or eps.shape != real.shape[:1]:
        raise DataError(
            f"gradient_penalty got real {tuple(real.shape)}, fake {tuple(fake.shape)}, eps {tuple(eps.shape)}; "
            f"expected real and fake of one shape (B, ...) and eps (B,); pass one mixing weight per pair."
        )
    weight = eps.view(-1, *[1] * (real.dim() - 1))  # (B, 1, ..., 1)
    mixed = (weight * real + (1 - weight) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)  # (B, ...)
    return (grad.flatten(1).norm(2, dim=1) - 1).square().mean()


def critic_loss(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, eps: Tensor, *, gp_weight: float = GP_WEIGHT
) -> Tensor:
    """WGAN-GP's critic loss ``mean critic(fake) - mean critic(real) + gp_weight * gradient_penalty``; a scalar.

    ``real`` and ``fake`` are pairs ``(B, C + M, H, W)`` in [-1, 1]; ``fake`` is detached (the generator gets no
    gradient here); ``eps`` ``(B,)`` as in :func:`gradient_penalty`.
    """
    scores = critic(torch.cat([real, fake.detach()]))  # (2B,)
    real_scores, fake_scores = scores.split(real.shape[0])
    return fake_scores.mean() - real_scores.mean() + gp_weight * gradient_penalty(critic, real, fake, eps)


def wgan_generator_loss(fake_scores: Tensor) -> Tensor:
    """WGAN's generator loss ``-mean critic(fake)`` from the critic's scores ``(B,)`` of generated pairs; a scalar."""
    return -fake_scores.mean()
