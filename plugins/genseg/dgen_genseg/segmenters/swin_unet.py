"""Swin-Unet (Cao et al. 2021): a Swin Transformer encoder, a symmetric Swin decoder with patch
expanding, skip connections at every scale and a final 4x patch expansion, built from timm's Swin parts.

For ``n = len(depths)`` stages, patch size ``p`` and ``C = embed_dim`` (tokens are channels-last)::

    image (B, in, H, W) -> PatchEmbed + LayerNorm            (B, H/p, W/p, C)
    encoder stage i (PatchMerging if i > 0, depths[i] blocks)  (B, H/(p 2^i), W/(p 2^i), C 2^i)   -> skip i
    LayerNorm on the last stage (the bottleneck)               (B, H/(p 2^(n-1)), ..., C 2^(n-1))
    PatchExpand                                                 (B, H/(p 2^(n-2)), ..., C 2^(n-2))
    decoder stage i = n-2 .. 0: concat skip i, Linear 2D -> D, depths[i] blocks, PatchExpand if i > 0
    LayerNorm, PatchExpand(C, scale=p, out_dim=C)               (B, H, W, C)
    1x1 conv                                                    (B, classes, H, W)

Skips are the outputs of each encoder stage's Swin blocks, as drawn in the paper's Fig. 1 (the official
code takes each skip before that stage's blocks; the parameter count, 27.17M at 224, is the same).
The network is built for one input size ``img_size``; see :mod:`~.swin_windows` for the valid sizes
and windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from timm.layers import PatchEmbed, calculate_drop_path_rates, trunc_normal_
from timm.models.swin_transformer import SwinTransformerStage
from torch import Tensor, nn

from dgen.errors import ConfigError
from dgen.segmenter import Segmenter
from dgen_genseg.segmenters.patch_expand import PatchExpand
from dgen_genseg.segmenters.sizes import check_fixed_size
from dgen_genseg.segmenters.swin_windows import resolve_window, stage_resolutions
from dgen_genseg.segmenters.weights import load_pretrained, read_state_dict

__all__ = ["SwinEncoder", "SwinDecoder", "SwinUnet", "make_swinunet"]


class SwinEncoder(nn.Module):
    """Images ``(B, C_in, H, W)`` -> one token map per stage, stage ``i`` ``(B, h_i, w_i, C 2^i)``.

    Its parameter names are those of timm's ``SwinTransformer`` (``patch_embed``, ``layers``, ``norm``),
    so a timm Swin checkpoint of the same configuration loads into it.
    """

    def __init__(
        self,
        *,
        img_size: tuple[int, int],
        in_channels: int,
        embed_dim: int,
        depths: Sequence[int],
        num_heads: Sequence[int],
        window_size: int,
        patch_size: int,
        mlp_ratio: float,
        drop_path_rates: Sequence[Sequence[float]],
    ) -> None:
        super().__init__()
        grids = stage_resolutions(img_size, patch_size, len(depths))
        dims = [embed_dim * 2**i for i in range(len(depths))]
        self.patch_embed = PatchEmbed(
            img_size=img_size, patch_size=patch_size, in_chans=in_channels, embed_dim=embed_dim,
            norm_layer=nn.LayerNorm, output_fmt="NHWC",
        )  # fmt: skip
        self.layers = nn.Sequential(
            *(
                SwinTransformerStage(
                    dim=dims[max(i - 1, 0)], out_dim=dims[i], input_resolution=grids[max(i - 1, 0)],
                    depth=depths[i], downsample=i > 0, num_heads=num_heads[i], window_size=window_size,
                    mlp_ratio=mlp_ratio, drop_path=list(drop_path_rates[i]),
                )  # fmt: skip
                for i in range(len(depths))
            )
        )
        self.norm = nn.LayerNorm(dims[-1])

    def forward(self, image: Tensor) -> list[Tensor]:
        """``(B, C_in, H, W)`` -> ``[(B, h_0, w_0, C), ..., (B, h_{n-1}, w_{n-1}, C 2^(n-1))]`` (last one normed)."""
        x = self.patch_embed(image)  # (B, H/p, W/p, C)
        features = []
        for stage in self.layers:
            x = stage(x)  # (B, h_i, w_i, C 2^i)
            features.append(x)
        features[-1] = self.norm(features[-1])
        return features


class _DecoderStage(nn.Module):
    """Fuse a skip, run Swin blocks, maybe expand: ``(B, h, w, D)`` x2 -> ``(B, 2h, 2w, D/2)`` or ``(B, h, w, D)``."""

    def __init__(self, stage: SwinTransformerStage, dim: int, expand: bool) -> None:
        super().__init__()
        self.fuse = nn.Linear(2 * dim, dim)
        self.blocks = stage
        self.expand = PatchExpand(dim) if expand else nn.Identity()

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = self.fuse(torch.cat([x, skip], dim=-1))  # (B, h, w, D)
        return self.expand(self.blocks(x))


class SwinDecoder(nn.Module):
    """Encoder features (see :class:`SwinEncoder`) -> tokens ``(B, h_0, w_0, C)``, mirroring the encoder."""

    def __init__(
        self,
        *,
        grids: Sequence[tuple[int, int]],
        embed_dim: int,
        depths: Sequence[int],
        num_heads: Sequence[int],
        window_size: int,
        mlp_ratio: float,
        drop_path_rates: Sequence[Sequence[float]],
    ) -> None:
        super().__init__()
        dims = [embed_dim * 2**i for i in range(len(depths))]
        self.expand_bottleneck = PatchExpand(dims[-1])
        self.stages = nn.ModuleList(
            _DecoderStage(
                SwinTransformerStage(
                    dim=dims[i], out_dim=dims[i], input_resolution=grids[i], depth=depths[i], downsample=False,
                    num_heads=num_heads[i], window_size=window_size, mlp_ratio=mlp_ratio,
                    drop_path=list(drop_path_rates[i]),
                ),  # fmt: skip
                dims[i],
                expand=i > 0,
            )
            for i in reversed(range(len(depths) - 1))
        )
        self.norm = nn.LayerNorm(dims[0])

    def forward(self, features: Sequence[Tensor]) -> Tensor:
        """``[(B, h_i, w_i, C 2^i)]`` for ``i = 0..n-1`` -> ``(B, h_0, w_0, C)``."""
        x = self.expand_bottleneck(features[-1])  # (B, h_{n-2}, w_{n-2}, C 2^(n-2))
        for stage, skip in zip(self.stages, reversed(features[:-1])):
            x = stage(x, skip)  # up one scale, until stage 0 which keeps (B, h_0, w_0, C)
        return self.norm(x)


class SwinUnet(Segmenter):
    """Swin-Unet: images ``(B, in_channels, H, W)`` -> logits ``(B, classes, H, W)`` for one size ``img_size``.

    Build it with :func:`make_swinunet`. ``window`` is the attention window actually used.
    """

    def __init__(
        self,
        *,
        img_size: int | tuple[int, int] = 224,
        in_channels: int = 3,
        classes: int = 1,
        embed_dim: int = 96,
        depths: Sequence[int] = (2, 2, 2, 2),
        num_heads: Sequence[int] = (3, 6, 12, 24),
        window_size: int | None = None,
        patch_size: int = 4,
        mlp_ratio: float = 4.0,
        drop_path_rate: float = 0.1,
    ) -> None:
        super().__init__()
        size = (img_size, img_size) if isinstance(img_size, int) else (int(img_size[0]), int(img_size[1]))
        depths, num_heads = tuple(depths), tuple(num_heads)
        _check_config(in_channels, classes, embed_dim, depths, num_heads, patch_size, drop_path_rate)
        grids = stage_resolutions(size, patch_size, len(depths))
        self.img_size, self.patch_size = size, patch_size
        self.window = resolve_window(window_size, grids, size)
        rates = calculate_drop_path_rates(drop_path_rate, list(depths), stagewise=True)
        common = dict(
            embed_dim=embed_dim, depths=depths, num_heads=num_heads, window_size=self.window, mlp_ratio=mlp_ratio,
            drop_path_rates=rates,
        )  # fmt: skip
        self.encoder = SwinEncoder(img_size=size, in_channels=in_channels, patch_size=patch_size, **common)
        self.decoder = SwinDecoder(grids=grids, **common)
        self.final_expand = PatchExpand(embed_dim, scale=patch_size, out_dim=embed_dim)
        self.head = nn.Conv2d(embed_dim, classes, kernel_size=1, bias=False)
        self.apply(_init_linear)

    def forward(self, image: Tensor) -> Tensor:
        """``(B, in_channels, H, W)`` -> logits ``(B, classes, H, W)``."""
        self.check_input_size(image.shape[-2], image.shape[-1])
        x = self.decoder(self.encoder(image))  # (B, H/p, W/p, C)
        x = self.final_expand(x)  # (B, H, W, C)
        return self.head(x.permute(0, 3, 1, 2))  # (B, classes, H, W)

    def check_input_size(self, height: int, width: int) -> None:
        """Raise ``ConfigError`` unless ``(height, width)`` is a valid size equal to ``img_size``."""
        stage_resolutions((height, width), self.patch_size, len(self.encoder.layers), subject="input")
        check_fixed_size(height, width, built_for=self.img_size, what="swinunet")

    def weight_targets(self) -> dict[str, nn.Module]:
        """The parts a pretrained file may cover: the whole network or its encoder (a timm Swin checkpoint)."""
        return {"segmenter": self, "encoder": self.encoder}

    def extra_repr(self) -> str:
        return f"img_size={self.img_size}, patch_size={self.patch_size}, window={self.window}"


def _check_config(
    in_channels: int,
    classes: int,
    embed_dim: int,
    depths: tuple[int, ...],
    num_heads: tuple[int, ...],
    patch_size: int,
    drop_path_rate: float,
) -> None:
    if in_channels < 1 or classes < 1 or embed_dim < 1 or patch_size < 1:
        raise ConfigError(
            f"swinunet needs in_channels, classes, embed_dim and patch_size >= 1, got {in_channels}, {classes}, "
            f"{embed_dim}, {patch_size}; use e.g. 3, 1, 96, 4."
        )
    if len(depths) < 2 or len(depths) != len(num_heads) or min(depths) < 1:
        raise ConfigError(
            f"swinunet depths {depths} and num_heads {num_heads} must have the same length >= 2 and positive "
            f"depths; use e.g. depths=(2, 2, 2, 2), num_heads=(3, 6, 12, 24)."
        )
    for i, heads in enumerate(num_heads):
        dim = embed_dim * 2**i
        if heads < 1 or dim % heads:
            raise ConfigError(
                f"swinunet stage {i} has {dim} channels (embed_dim {embed_dim} x 2^{i}), not divisible by "
                f"num_heads[{i}]={heads}; use num_heads that divide embed_dim x 2^i, e.g. (3, 6, 12, 24) for "
                f"embed_dim 24."
            )
    if not 0.0 <= drop_path_rate < 1.0:
        raise ConfigError(f"swinunet drop_path_rate={drop_path_rate} must be in [0, 1); the paper uses 0.1.")


def _init_linear(module: nn.Module) -> None:
    """Swin's initialisation: linear weights ~ truncated N(0, 0.02), biases 0 (LayerNorms keep 1 and 0)."""
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def make_swinunet(
    *,
    img_size: int | tuple[int, int] = 224,
    in_channels: int = 3,
    classes: int = 1,
    embed_dim: int = 96,
    depths: Sequence[int] = (2, 2, 2, 2),
    num_heads: Sequence[int] = (3, 6, 12, 24),
    window_size: int | None = None,
    patch_size: int = 4,
    mlp_ratio: float = 4.0,
    drop_path_rate: float = 0.1,
    pretrained: str | Path | None = None,
) -> SwinUnet:
    """Swin-Unet (Cao et al. 2021) for ``img_size`` inputs; ``window_size=None`` picks the window (7 at 224, 8 at 256).

    ``pretrained`` is a local weights file for the whole network or for its encoder (a timm-format
    Swin checkpoint with the same embed_dim, depths, heads and window); nothing is downloaded.
    Use ``embed_dim=24`` (head width 8) for a small CPU variant.
    """
    weights = read_state_dict(pretrained) if pretrained is not None else None
    model = SwinUnet(
        img_size=img_size, in_channels=in_channels, classes=classes, embed_dim=embed_dim, depths=depths,
        num_heads=num_heads, window_size=window_size, patch_size=patch_size, mlp_ratio=mlp_ratio,
        drop_path_rate=drop_path_rate,
    )  # fmt: skip
    if weights is not None:
        load_pretrained(weights, model.weight_targets(), in_channels=in_channels, source=str(pretrained))
    return model
