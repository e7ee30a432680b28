"""The nn.Modules behind the DARTS primitives that PyTorch lacks (zero, separable and dilated conv).

Every ReLU here is out-of-place: a MixedOp feeds the same input tensor to all its candidates, so an
in-place ReLU in one candidate would corrupt the input of the next.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ZeroOp", "sep_conv", "dil_conv", "upsampled"]


class ZeroOp(nn.Module):
    """Outputs zeros: ``(B, C_in, H, W) -> (B, out_ch, ceil(H / stride), ceil(W / stride))``."""

    def __init__(self, stride: int, out_ch: int) -> None:
        super().__init__()
        self.stride, self.out_ch = stride, out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape  # (B, C_in, H, W)
        s = self.stride
        return x.new_zeros(batch, self.out_ch, -(-height // s), -(-width // s))

    def extra_repr(self) -> str:
        return f"stride={self.stride}, out_ch={self.out_ch}"


def _relu_conv_bn(in_ch: int, out_ch: int, k: int, s: int, p: int, d: int = 1) -> list[nn.Module]:
    """ReLU, depthwise k x k conv (stride s, padding p, dilation d), pointwise 1 x 1 conv, BatchNorm.

    Maps ``(B, in_ch, H, W) -> (B, out_ch, H', W')``; convs have no bias (the BatchNorm has one).
    """
    return [
        nn.ReLU(inplace=False),
        nn.Conv2d(in_ch, in_ch, k, s, p, dilation=d, groups=in_ch, bias=False),
        nn.Conv2d(in_ch, out_ch, 1, bias=False),
        nn.BatchNorm2d(out_ch),
    ]


def sep_conv(in_ch: int, out_ch: int, k: int, s: int, p: int) -> nn.Sequential:
    """DARTS separable conv: two ReLU-depthwise-pointwise-BN stages, the first with stride s.

    ``(B, in_ch, H, W) -> (B, in_ch, H1, W1) -> (B, out_ch, H2, W2)``; the second stage has stride 1
    and the same padding p.
    """
    return nn.Sequential(*_relu_conv_bn(in_ch, in_ch, k, s, p), *_relu_conv_bn(in_ch, out_ch, k, 1, p))


def dil_conv(in_ch: int, out_ch: int, k: int, s: int, p: int, d: int) -> nn.Sequential:
    """DARTS dilated conv: one ReLU-depthwise(dilation d)-pointwise-BN stage, ``(B, in_ch, H, W) -> (B, out_ch, H', W')``."""
    return nn.Sequential(*_relu_conv_bn(in_ch, out_ch, k, s, p, d))


def upsampled(op: nn.Module) -> nn.Sequential:
    """Nearest-neighbour 2x upsampling, then ``op``: ``(B, C, H, W) -> (B, C, 2H, 2W) -> op``."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), op)
