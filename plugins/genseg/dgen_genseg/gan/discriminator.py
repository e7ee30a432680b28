"""pix2pix's PatchGAN discriminator on condition ⊕ image.

``n_layers`` stride-2 4x4 convolutions (channels ``ndf * min(2**n, 8)``), one stride-1 4x4 conv and a
final 4x4 conv to one channel of logits; LeakyReLU(0.2) after every conv but the last, a norm after
every conv but the first and the last. With ``n_layers=3`` each logit sees a 70 x 70 patch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dgen.errors import ConfigError, DataError
from dgen_genseg.gan.checks import check_int
from dgen_genseg.gan.norm import check_norm, make_norm

__all__ = ["PatchDiscriminator"]

_OWNER = "PatchDiscriminator"
_MAX_MULT = 8  # channel cap as a multiple of ndf, as in pix2pix


def _conv_len(n: int, stride: int) -> int:
    return (n + 2 - 4) // stride + 1  # a 4 x 4 conv with padding 1


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``(condition (B, C_c, H, W), image (B, C_i, H, W)) -> logits (B, 1, H', W')``.

    ``H' = H / 2**n_layers - 2`` for H a multiple of ``2**n_layers`` (30 x 30 logits for 256 x 256
    inputs with ``n_layers=3``). Conditions and images are in the tanh range [-1, 1]. Convs
    followed by a norm have no bias.

    Args:
        condition_channels: channels of the condition (1 for a mask).
        image_channels: channels of the image (1 grey, 3 RGB).
        ndf: channels of the first conv.
        n_layers: number of stride-2 convs (3 = the 70 x 70 PatchGAN).
        norm: ``"batch"`` or ``"instance"``.
    """

    def __init__(
        self,
        *,
        condition_channels: int = 1,
        image_channels: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        self.condition_channels = check_int(_OWNER, "condition_channels", condition_channels, 1, 1)
        self.image_channels = check_int(_OWNER, "image_channels", image_channels, 1, 3)
        self.ndf = check_int(_OWNER, "ndf", ndf, 1, 64)
        self.n_layers = check_int(_OWNER, "n_layers", n_layers, 1, 3)
        self.norm = check_norm(norm)
        in_ch = self.condition_channels + self.image_channels
        layers: list[nn.Module] = [nn.Conv2d(in_ch, self.ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        channels = self.ndf
        for n in range(1, self.n_layers + 1):
            stride = 2 if n < self.n_layers else 1
            out_ch = self.ndf * min(2**n, _MAX_MULT)
            conv = nn.Conv2d(channels, out_ch, 4, stride, 1, bias=False)  # the norm after it makes a bias useless
            layers += [conv, make_norm(self.norm, out_ch), nn.LeakyReLU(0.2)]
            channels = out_ch
        layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """``(H', W')`` of the logits for an ``H x W`` input (a value < 1 means the input is too small)."""
        out = []
        for n in (height, width):
            for _ in range(self.n_layers):
                n = _conv_len(n, 2)
            out.append(_conv_len(_conv_len(n, 1), 1))
        return out[0], out[1]

    def min_input_size(self) -> int:
        """The smallest H (and W) this discriminator accepts: ``3 * 2**n_layers``."""
        return 3 * 2**self.n_layers

    def check_input_size(self, height: int, width: int) -> None:
        """Raise ``ConfigError`` if an ``H x W`` input would leave no logits."""
        if min(self.output_size(height, width)) < 1:
            fewer = self.n_layers - 1
            alternative = f" or fewer layers (n_layers={fewer} accepts {3 * 2**fewer}x{3 * 2**fewer})" if fewer else ""
            raise ConfigError(
                f"{_OWNER} with n_layers={self.n_layers} needs H and W >= {self.min_input_size()}, got "
                f"{height}x{width}; use larger images{alternative}."
            )

    def forward(self, condition: Tensor, image: Tensor) -> Tensor:
        """``condition`` ``(B, C_c, H, W)`` and ``image`` ``(B, C_i, H, W)`` in [-1, 1] -> logits ``(B, 1, H', W')``."""
        expected_c, expected_i = self.condition_channels, self.image_channels
        if (
            condition.dim() != 4
            or image.dim() != 4
            or condition.shape[1] != expected_c
            or image.shape[1] != expected_i
            or condition.shape[0] != image.shape[0]
            or condition.shape[2:] != image.shape[2:]
        ):
            raise DataError(
                f"{_OWNER} got condition {tuple(condition.shape)} and image {tuple(image.shape)}; expected "
                f"(B, {expected_c}, H, W) and (B, {expected_i}, H, W) with the same B, H, W; pass matching pairs "
                f"or build with condition_channels/image_channels to match."
            )
        self.check_input_size(image.shape[-2], image.shape[-1])
        return self.model(torch.cat([condition, image], dim=1))  # (B, C_c + C_i, H, W) -> (B, 1, H', W')
