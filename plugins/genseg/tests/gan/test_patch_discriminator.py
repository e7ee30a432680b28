"""Tests of the PatchGAN discriminator."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import ConfigError, DataError, UnknownNameError
from dgen_genseg.gan import PatchDiscriminator


def pair(batch: int, height: int, width: int, image_channels: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    mask = (torch.rand(batch, 1, height, width, generator=g) > 0.5).float() * 2 - 1
    return mask, torch.rand(batch, image_channels, height, width, generator=g) * 2 - 1


@pytest.mark.parametrize(
    ("n_layers", "size", "expected"),
    [
        (3, (256, 256), (30, 30)),
        (3, (64, 64), (6, 6)),
        (3, (24, 24), (1, 1)),
        (2, (32, 32), (6, 6)),
        (1, (16, 24), (6, 10)),
    ],
)
def test_logit_map_shape(n_layers: int, size: tuple[int, int], expected: tuple[int, int]) -> None:
    disc = PatchDiscriminator(ndf=4, n_layers=n_layers)
    assert disc.output_size(*size) == expected
    assert disc(*pair(2, *size)).shape == (2, 1, *expected)


def test_default_is_pix2pix_70x70_patchgan() -> None:
    disc = PatchDiscriminator()
    # pix2pix's 70x70 PatchGAN (BatchNorm) on 3 + 3 channels has 2,768,705 parameters; ours takes
    # 1 + 3 channels, so its first conv has 2 x 64 x 4 x 4 fewer weights.
    assert sum(p.numel() for p in disc.parameters()) == 2_768_705 - 2 * 64 * 16
    disc.eval()  # BatchNorm with running statistics: each logit depends on its patch only
    mask, image = pair(1, 128, 128)
    image.requires_grad_(True)
    logits = disc(mask, image)
    logits[0, 0, 7, 7].backward()
    rows, cols = image.grad.abs().sum(dim=(0, 1)).nonzero(as_tuple=True)
    assert (int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1) == (70, 70)


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_every_parameter_and_the_image_get_a_gradient(norm: str) -> None:
    disc = PatchDiscriminator(ndf=4, norm=norm, image_channels=1)
    mask, image = pair(2, 32, 32, image_channels=1)
    image.requires_grad_(True)
    disc(mask, image).mean().backward()
    for name, p in disc.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{name} got no gradient"
    assert image.grad.abs().sum() > 0


def test_too_small_inputs_name_the_minimum() -> None:
    disc = PatchDiscriminator(ndf=4)
    assert disc.min_input_size() == 24
    disc(*pair(1, 24, 24))
    with pytest.raises(ConfigError, match=r"needs H and W >= 24, got 23x32; .*n_layers=2 accepts 12x12"):
        disc(*pair(1, 23, 32))


@pytest.mark.parametrize(
    ("condition", "image"),
    [
        (torch.zeros(2, 1, 32, 32), torch.zeros(2, 1, 32, 32)),
        (torch.zeros(2, 2, 32, 32), torch.zeros(2, 3, 32, 32)),
        (torch.zeros(1, 1, 32, 32), torch.zeros(2, 3, 32, 32)),
        (torch.zeros(2, 1, 32, 32), torch.zeros(2, 3, 32, 64)),
    ],
)
def test_mismatched_inputs_raise_data_error(condition: torch.Tensor, image: torch.Tensor) -> None:
    with pytest.raises(DataError, match=r"expected \(B, 1, H, W\) and \(B, 3, H, W\)"):
        PatchDiscriminator(ndf=4)(condition, image)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"ndf": 0}, ConfigError), ({"n_layers": 0}, ConfigError), ({"norm": "layer"}, UnknownNameError)],
)
def test_invalid_settings(kwargs: dict, error: type) -> None:
    with pytest.raises(error, match="pass|Available"):
        PatchDiscriminator(**kwargs)
