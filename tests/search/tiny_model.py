"""A small searchable encoder-decoder used by the tests: the pattern docs/search.md recommends."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from dgen.search import Choice, Conv, ConvT, Genotype, OpSpec, build_op

DOWN = Choice([Conv(4, 2, 1), Conv(6, 2, 2), Conv(8, 2, 3)])
UP = Choice([ConvT(4, 2, 1), ConvT(6, 2, 2), ConvT(8, 2, 3)])


class Cell(nn.Module):
    """op, BatchNorm, ReLU: ``(B, in_ch, H, W) -> (B, out_ch, H', W')``."""

    def __init__(self, op: OpSpec | Choice, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = build_op(op, in_ch, out_ch)
        self.norm = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.norm(self.conv(x)))


class TinyNet(nn.Module):
    """``(B, in_ch, H, W) -> (B, out_ch, H, W)`` through len(down) halvings and as many doublings."""

    def __init__(self, down: Sequence[OpSpec | Choice], up: Sequence[OpSpec | Choice], in_ch: int = 1, out_ch: int = 3, width: int = 4) -> None:
        super().__init__()
        chans = [in_ch] + [width * 2**i for i in range(len(down))]
        up_chans = chans[::-1][:-1] + [out_ch]
        self.down = nn.ModuleList(Cell(op, chans[i], chans[i + 1]) for i, op in enumerate(down))
        self.up = nn.ModuleList(Cell(op, up_chans[i], up_chans[i + 1]) for i, op in enumerate(up))

    @classmethod
    def from_genotype(cls, genotype: Genotype, **kwargs: int) -> TinyNet:
        return cls(down=genotype.sequence("down.{}.conv"), up=genotype.sequence("up.{}.conv"), **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for cell in [*self.down, *self.up]:
            x = cell(x)
        return x


def searchable(depth: int = 2) -> TinyNet:
    return TinyNet(down=[DOWN] * depth, up=[UP] * depth)
