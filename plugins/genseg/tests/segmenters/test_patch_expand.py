"""PatchExpand: the token rearrangement against an explicit loop, and the layer's shapes."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import ConfigError
from dgen_genseg.segmenters.patch_expand import PatchExpand, expand_tokens


@pytest.mark.parametrize("scale", [2, 4])
def test_expand_tokens_matches_a_loop(scale: int) -> None:
    b, h, w, c = 2, 3, 2, 5
    x = torch.randn(b, h, w, scale * scale * c, dtype=torch.float64)
    expected = torch.empty(b, h * scale, w * scale, c, dtype=torch.float64)
    for i in range(h):
        for j in range(w):
            for p in range(scale):
                for q in range(scale):
                    block = p * scale + q  # einops "(p1 p2 c)": p1 slowest, then p2, then c
                    expected[:, i * scale + p, j * scale + q] = x[:, i, j, block * c : (block + 1) * c]
    torch.testing.assert_close(expand_tokens(x, scale), expected, rtol=0, atol=0)


def test_patch_expand_shapes() -> None:
    x = torch.randn(2, 7, 7, 96)
    assert PatchExpand(96)(x).shape == (2, 14, 14, 48)  # 2x up, half the channels
    assert PatchExpand(96, scale=4, out_dim=96)(x).shape == (2, 28, 28, 96)  # the paper's final 4x expand
    assert PatchExpand(96).expand.bias is None


def test_patch_expand_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="scale >= 1"):
        PatchExpand(8, scale=0)
