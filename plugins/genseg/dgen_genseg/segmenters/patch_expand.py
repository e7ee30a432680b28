"""Patch expanding, the up-sampling layer of Swin-Unet (Cao et al. 2021); timm has none.

``PatchExpand(C)`` maps tokens ``(B, H, W, C)`` to ``(B, 2H, 2W, C/2)``: a bias-free linear layer to
``2C`` channels, each token's channels split into a 2x2 block of ``C/2``-channel tokens, then LayerNorm.
The final 4x expansion of the paper (``FinalPatchExpand_X4``) is ``PatchExpand(C, scale=4, out_dim=C)``:
linear to ``16C``, a 4x4 block of ``C``-channel tokens, LayerNorm.
"""

from __future__ import annotations

from torch import Tensor, nn

from dgen.errors import ConfigError

__all__ = ["PatchExpand", "expand_tokens"]


def expand_tokens(x: Tensor, scale: int) -> Tensor:
    """``(B, H, W, s*s*C)`` -> ``(B, s*H, s*W, C)``: channel block ``(i*s + j)*C : (i*s + j + 1)*C`` of token
    ``(h, w)`` becomes token ``(s*h + i, s*w + j)`` (einops ``b h w (p1 p2 c) -> b (h p1) (w p2) c``)."""
    batch, height, width, channels = x.shape
    out = channels // (scale * scale)
    x = x.reshape(batch, height, width, scale, scale, out)  # (B, H, W, s, s, C)
    x = x.permute(0, 1, 3, 2, 4, 5)  # (B, H, s, W, s, C)
    return x.reshape(batch, height * scale, width * scale, out)  # (B, sH, sW, C)


class PatchExpand(nn.Module):
    """Tokens ``(B, H, W, dim)`` -> ``(B, scale*H, scale*W, out_dim)`` (``out_dim`` defaults to ``dim // 2``)."""

    def __init__(self, dim: int, *, scale: int = 2, out_dim: int | None = None) -> None:
        super().__init__()
        out_dim = dim // 2 if out_dim is None else out_dim
        if scale < 1 or out_dim < 1:
            raise ConfigError(
                f"PatchExpand(dim={dim}, scale={scale}, out_dim={out_dim}) needs scale >= 1 and out_dim >= 1; "
                f"use scale=2 (or the patch size for the final expansion) and dim >= 2."
            )
        self.scale, self.out_dim = scale, out_dim
        self.expand = nn.Linear(dim, scale * scale * out_dim, bias=False)
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, H, W, dim)`` -> ``(B, scale*H, scale*W, out_dim)``."""
        return self.norm(expand_tokens(self.expand(x), self.scale))
