"""MixedOp: the continuous relaxation of one searchable cell (DARTS).

``y = sum_i softmax(alpha)_i * ops[i](x)``. Its architecture weights ``alpha`` (shape ``(n,)``,
initialised to zeros, i.e. a uniform mix) are an ``nn.Parameter`` of the MixedOp itself, so they move
with ``.to()``, are saved in ``state_dict`` and are found by ``arch_parameters``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from dgen.search.ops import OpSpec

if TYPE_CHECKING:
    from dgen.search.choice import Choice

__all__ = ["MixedOp"]


class MixedOp(nn.Module):
    """Softmax(alpha)-weighted sum of the candidates of a Choice; ``(B, in_ch, H, W) -> (B, out_ch, H', W')``.

    Every candidate is always evaluated, even one whose weight is exactly 0 (alpha = -inf): skipping it
    would need a host-device sync per call and data-dependent control flow (which breaks
    ``torch.func``/``torch.compile``), and it would turn the NaN a broken candidate produces into a
    silent 0. Gradients w.r.t. alpha are the same either way.
    """

    def __init__(self, choice: Choice, in_ch: int, out_ch: int) -> None:
        super().__init__()
        choice.check(in_ch, out_ch)
        self.choice = choice
        self.in_ch, self.out_ch = in_ch, out_ch
        self.ops = nn.ModuleList(spec.build(in_ch, out_ch) for spec in choice.candidates)
        self.alpha = nn.Parameter(torch.zeros(len(choice.candidates)))  # (n,)

    @property
    def specs(self) -> tuple[OpSpec, ...]:
        """The candidate specs, in the order of ``ops`` and ``alpha``."""
        return self.choice.candidates

    def weights(self) -> torch.Tensor:
        """Mixing weights ``softmax(alpha)``, shape ``(n,)``, summing to 1."""
        return torch.softmax(self.alpha, dim=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(B, in_ch, H, W)`` -> ``(B, out_ch, H', W')``."""
        w = self.weights()  # (n,)
        out = w[0] * self.ops[0](x)
        for i in range(1, len(self.ops)):
            out = out + w[i] * self.ops[i](x)
        return out

    def extra_repr(self) -> str:
        keys = ", ".join(spec.key for spec in self.specs)
        return f"in_ch={self.in_ch}, out_ch={self.out_ch}, candidates=[{keys}]"
