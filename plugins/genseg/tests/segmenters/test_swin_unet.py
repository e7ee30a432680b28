"""Swin-Unet: the paper's structure, sizes 224/256/128/64, window choice, and timm checkpoint names."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from timm.models.swin_transformer import SwinTransformer

from dgen.errors import ConfigError
from dgen_genseg.segmenters import make_swinunet
from dgen_genseg.segmenters.swin_windows import resolve_window, stage_resolutions, tiles

TINY = dict(embed_dim=12, depths=(1, 1, 1, 1), drop_path_rate=0.0)  # head width 4


@pytest.mark.parametrize(("size", "window"), [(224, 7), (256, 8), (128, 8), (64, 8)])
def test_shapes_and_automatic_window(size: int, window: int) -> None:
    model = make_swinunet(img_size=size, classes=2, **TINY)
    assert model.window == window
    assert model(torch.rand(1, 3, size, size)).shape == (1, 2, size, size)


def test_non_square_input() -> None:
    model = make_swinunet(img_size=(64, 128), in_channels=1, **TINY)
    assert model(torch.rand(2, 1, 64, 128)).shape == (2, 1, 64, 128)


def test_paper_configuration_has_the_papers_parameter_count() -> None:
    # Cao et al. 2021 report 27.17M parameters for Swin-Unet (embed 96, depths 2-2-2-2, heads 3-6-12-24, 224).
    model = make_swinunet(img_size=224, classes=9)
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == 27.17
    assert model.window == 7
    assert [s.blocks.input_resolution for s in model.decoder.stages] == [(14, 14), (28, 28), (56, 56)]


def test_structure_mirrors_the_encoder() -> None:
    model = make_swinunet(img_size=64, embed_dim=24, depths=(2, 2, 2, 2))
    encoder_dims = [stage.blocks[0].dim for stage in model.encoder.layers]
    decoder_dims = [stage.blocks.blocks[0].dim for stage in model.decoder.stages]
    assert encoder_dims == [24, 48, 96, 192]
    assert decoder_dims == [96, 48, 24]  # bottleneck 192 -> PatchExpand -> 96, skips fused at each scale
    assert model.final_expand.scale == 4 and model.final_expand.out_dim == 24


def test_stage_resolutions_and_window_rule() -> None:
    assert stage_resolutions((256, 256), 4, 4) == [(64, 64), (32, 32), (16, 16), (8, 8)]
    grids = stage_resolutions((224, 224), 4, 4)
    assert tiles(7, grids) and not tiles(8, grids)  # 28 is not a multiple of 8 and larger than 8
    assert resolve_window(None, grids, (224, 224)) == 7
    assert resolve_window(14, grids, (224, 224)) == 14  # 56, 28, 14 multiples of 14; 7 <= 14 covered by one window


def test_invalid_window_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"window_size 7 does not tile .*64x64, 32x32, 16x16, 8x8.*use window_size "
                                          r"1, 2, 4, 8, 16, 32, 64, or window_size=None for 8\."):
        make_swinunet(img_size=256, window_size=7, **TINY)


def test_invalid_img_size_names_the_nearest_sizes() -> None:
    with pytest.raises(ConfigError, match=r"img_size 250x250 is not divisible by 32 \(patch 4 x 2\^3 patch merges\); use 224 or 256\."):
        make_swinunet(img_size=250, **TINY)
    with pytest.raises(ConfigError, match=r"img_size 100x100 is not divisible by 8 \(patch 4 x 2\^1 .*use 96 or 104"):
        make_swinunet(img_size=100, depths=(1, 1), num_heads=(3, 6), embed_dim=12)


def test_check_input_size_wants_the_built_size() -> None:
    model = make_swinunet(img_size=64, **TINY)
    model.check_input_size(64, 64)
    with pytest.raises(ConfigError, match=r"built for 64x64 inputs but got 128x128; rebuild it with img_size=128"):
        model.check_input_size(128, 128)
    with pytest.raises(ConfigError, match=r"input 80x80 is not divisible by 32 .*use 64 or 96"):
        model(torch.rand(1, 3, 80, 80))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(embed_dim=20), r"20 channels .* not divisible by num_heads\[0\]=3"),
        (dict(depths=(2, 2), num_heads=(3, 6, 12)), "same length"),
        (dict(drop_path_rate=1.0), r"drop_path_rate=1\.0 must be in \[0, 1\)"),
        (dict(classes=0), "classes"),
    ],
)
def test_invalid_configurations(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_swinunet(img_size=64, **{**TINY, **options})


def test_timm_swin_checkpoint_loads_into_the_encoder(tmp_path: Path) -> None:
    # a deeper timm checkpoint (3 blocks in stage 2, like swin_tiny's 2-2-6-2) fits the 1-1-1-1 encoder;
    # the classifier head and the extra blocks are ignored
    torch.manual_seed(0)
    timm_swin = SwinTransformer(img_size=64, window_size=8, num_classes=5, embed_dim=12, depths=(1, 1, 3, 1))
    torch.save(timm_swin.state_dict(), tmp_path / "swin.pt")
    model = make_swinunet(img_size=64, pretrained=tmp_path / "swin.pt", **TINY)
    for name, value in model.encoder.state_dict().items():
        torch.testing.assert_close(value, timm_swin.state_dict()[name], rtol=0, atol=0, msg=name)
    with pytest.raises(ConfigError, match=r"relative_position_bias_table' has shape \(225, 3\) but the model expects"):
        make_swinunet(img_size=64, window_size=4, pretrained=tmp_path / "swin.pt", **TINY)
