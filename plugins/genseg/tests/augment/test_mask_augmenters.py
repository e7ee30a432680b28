"""Contract and geometry tests of the GenSeg mask augmenters."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dgen.augmenter import Augmenter
from dgen.errors import ConfigError, DataError
from dgen_genseg.augment import CropPad, Flip, RandomOrder, Rotate, Scale, Shear, Translate, combine

FACTORIES = {
    "rotate": Rotate,
    "flip": Flip,
    "translate": Translate,
    "scale": Scale,
    "shear": Shear,
    "crop_pad": CropPad,
    "combine": combine,
}

IDENTITIES = {
    "rotate": lambda: Rotate(degrees=(0, 0)),
    "flip": lambda: Flip(p_horizontal=0.0, p_vertical=0.0),
    "translate": lambda: Translate(percent=(0, 0)),
    "scale": lambda: Scale(factor=(1, 1)),
    "shear": lambda: Shear(degrees=(0, 0)),
    "crop_pad": lambda: CropPad(percent=(0, 0)),
    "combine": lambda: combine(
        p_horizontal=0.0, crop_pad=(0, 0), scale=(1, 1), translate=(0, 0), rotate=(0, 0), shear=(0, 0)
    ),
}


def blob_masks(batch: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """Random smooth blobs ``(B, 1, H, W)`` in {0, 1} (low-resolution noise upsampled and thresholded)."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(batch, 1, height // 4, width // 4, generator=g)
    smooth = F.interpolate(noise, size=(height, width), mode="bilinear", align_corners=False)
    return (smooth > 0.5).float()


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_is_an_augmenter_and_masks_stay_binary(name: str) -> None:
    augmenter = FACTORIES[name]()
    assert isinstance(augmenter, Augmenter)
    masks = blob_masks(8, 24, 32)
    g = gen(1)
    for _ in range(25):
        out, image = augmenter(masks, generator=g)
        assert image is None
        assert out.shape == masks.shape and out.dtype == masks.dtype
        assert set(out.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_image_equal_to_mask_stays_aligned(name: str) -> None:
    masks = blob_masks(6, 32, 32)
    image = masks.repeat(1, 3, 1, 1) * torch.tensor([1.0, 0.5, 0.25]).view(1, 3, 1, 1)  # (B, 3, H, W)
    out_mask, out_image = FACTORIES[name]()(masks, image, generator=gen(2))
    assert out_image is not None and out_image.shape == image.shape
    # Channel 0 equals the mask: it resamples to the mask up to interpolation at the edges ...
    torch.testing.assert_close((out_image[:, :1] > 0.5).float(), out_mask, rtol=0, atol=0)
    differs = (out_image[:, :1] - out_mask).abs() > 1e-5
    near_edge = F.max_pool2d(out_mask, 5, 1, 2) != -F.max_pool2d(-out_mask, 5, 1, 2)  # within 2 px of an edge
    near_edge[..., :2, :] = near_edge[..., -2:, :] = near_edge[..., :2] = near_edge[..., -2:] = True  # and the frame
    assert differs.any() or name == "flip"
    assert not (differs & ~near_edge).any()
    # ... and every channel went through the same map.
    torch.testing.assert_close(out_image[:, 1:2], 0.5 * out_image[:, :1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", sorted(IDENTITIES))
def test_identity_parameters_are_identity(name: str) -> None:
    masks = blob_masks(4, 16, 24)
    image = torch.rand(4, 3, 16, 24, generator=gen(3))
    out_mask, out_image = IDENTITIES[name]()(masks, image, generator=gen(4))
    torch.testing.assert_close(out_mask, masks, rtol=0, atol=0)
    torch.testing.assert_close(out_image, image, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_seeded_calls_reproduce_and_samples_differ(name: str) -> None:
    augmenter = FACTORIES[name]()
    masks = blob_masks(1, 32, 32).expand(16, 1, 32, 32).contiguous()  # 16 copies of one mask
    first, _ = augmenter(masks, generator=gen(5))
    again, _ = augmenter(masks, generator=gen(5))
    other, _ = augmenter(masks, generator=gen(6))
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, other)
    distinct = {tuple(m.flatten().tolist()) for m in first}
    assert len(distinct) > 1, "every sample of the batch got the same transform"


def test_flip_matches_torch_flip() -> None:
    masks = blob_masks(2, 10, 14)
    image = torch.rand(2, 3, 10, 14, generator=gen(7))
    out_mask, out_image = Flip(p_horizontal=1.0)(masks, image)
    torch.testing.assert_close(out_mask, masks.flip(-1), rtol=0, atol=0)
    torch.testing.assert_close(out_image, image.flip(-1), rtol=0, atol=1e-5)
    out_mask, out_image = Flip(p_horizontal=0.0, p_vertical=1.0)(masks, image)
    torch.testing.assert_close(out_mask, masks.flip(-2), rtol=0, atol=0)
    torch.testing.assert_close(out_image, image.flip(-2), rtol=0, atol=1e-5)


@pytest.mark.parametrize("size", [8, 9])
def test_rotate_90_is_a_clockwise_quarter_turn(size: int) -> None:
    image = torch.rand(2, 1, size, size, generator=gen(8), dtype=torch.float64)
    masks = (image > 0.5).double()
    out_mask, out_image = Rotate(degrees=(90, 90))(masks, image)
    clockwise = (-1, (2, 3))
    torch.testing.assert_close(out_image, torch.rot90(image, *clockwise), rtol=0, atol=1e-10)
    torch.testing.assert_close(out_mask, torch.rot90(masks, *clockwise), rtol=0, atol=0)


def test_translate_shifts_by_whole_pixels_with_zero_fill() -> None:
    image = torch.rand(1, 2, 8, 12, generator=gen(9), dtype=torch.float64)
    _, out = Translate(percent=(0.25, 0.25))(torch.ones(1, 1, 8, 12), image)  # +3 px in x, +2 px in y
    expected = torch.zeros_like(image)
    expected[..., 2:, 3:] = image[..., :-2, :-3]
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)


def test_shear_45_shifts_each_row_by_its_offset_from_the_centre() -> None:
    image = torch.rand(1, 1, 9, 9, generator=gen(10), dtype=torch.float64)
    _, out = Shear(degrees=(45, 45))(torch.ones(1, 1, 9, 9), image)
    expected = torch.zeros_like(image)
    for row in range(9):
        shift = row - 4  # x' = x + y about the centre pixel (4, 4)
        for col in range(9):
            if 0 <= col - shift < 9:
                expected[..., row, col] = image[..., row, col - shift]
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)


def test_crop_keeps_the_central_window_resized() -> None:
    image = torch.rand(1, 3, 8, 8, generator=gen(11), dtype=torch.float64)
    _, out = CropPad(percent=(0.25, 0.25))(torch.ones(1, 1, 8, 8), image)
    expected = F.interpolate(image[..., 2:6, 2:6], size=(8, 8), mode="bilinear", align_corners=False)
    # the outermost ring differs only because interpolate clamps at the window border
    torch.testing.assert_close(out[..., 1:7, 1:7], expected[..., 1:7, 1:7], rtol=0, atol=1e-10)
    _, zoomed = Scale(factor=(2, 2))(torch.ones(1, 1, 8, 8), image)
    torch.testing.assert_close(zoomed, out, rtol=0, atol=1e-10)


def test_pad_fills_with_zeros() -> None:
    masks = torch.ones(3, 1, 20, 20)
    out, _ = CropPad(percent=(-0.2, -0.2))(masks)  # every side padded by 20 %: content fills the middle 20/1.4 px
    assert out[..., 0, :].sum() == 0 and out[..., :, -1].sum() == 0
    assert out[..., 10, 10].eq(1).all()


def test_random_order_draws_an_order_per_sample() -> None:
    augmenter = RandomOrder([Translate(percent=(0.25, 0.25)), Scale(factor=(2, 2))])
    forward = augmenter.sample_transforms(64, 8, 8, gen(12))  # (B, 3, 3)
    shifts = forward[:, 0, 2].unique()  # scale-then-translate shifts by 2 px, translate-then-scale by 4 px
    torch.testing.assert_close(shifts, torch.tensor([2.0, 4.0], dtype=torch.float64))


def test_image_gets_a_gradient() -> None:
    image = torch.rand(2, 3, 16, 16, requires_grad=True)
    _, out = combine()(blob_masks(2, 16, 16), image, generator=gen(13))
    out.sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_integer_and_bool_masks_keep_their_dtype() -> None:
    masks = blob_masks(2, 16, 16)
    for dtype in (torch.uint8, torch.bool, torch.float64):
        out, _ = Rotate()(masks.to(dtype), generator=gen(14))
        assert out.dtype == dtype
        expected, _ = Rotate()(masks, generator=gen(14))
        torch.testing.assert_close(out.float(), expected, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: Rotate(degrees=(10, -10)), "degrees=(10, -10)"),
        (lambda: Rotate(degrees=(0, 200)), "within [-180.0, 180.0]"),
        (lambda: Rotate(degrees=15), "(low, high) pair"),
        (lambda: Rotate(degrees=(0, float("nan"))), "finite"),
        (lambda: Flip(p_horizontal=1.5), "[0, 1]"),
        (lambda: Translate(percent=(-2, 0)), "percent=(-0.1, 0.1)"),
        (lambda: Scale(factor=(0, 1)), "factor=(0.8, 1.2)"),
        (lambda: Shear(degrees=(-90, 0)), "(-90.0, 90.0)"),
        (lambda: CropPad(percent=(0, 0.5)), "(-0.5, 0.5)"),
        (lambda: combine(rotate=(20, 10)), "rotate=(20, 10)"),
        (lambda: RandomOrder([]), "non-empty"),
    ],
)
def test_invalid_settings_raise_config_error(make, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert fragment in str(info.value) and "pass" in str(info.value)


def test_combine_names_the_offending_option() -> None:
    with pytest.raises(ConfigError, match="shear="):
        combine(shear=(-100, 0))


@pytest.mark.parametrize(
    ("mask", "image"),
    [
        (torch.zeros(2, 16, 16), None),
        (torch.zeros(2, 3, 16, 16), None),
        (torch.zeros(2, 1, 16, 16), torch.zeros(3, 3, 16, 16)),
        (torch.zeros(2, 1, 16, 16), torch.zeros(2, 3, 16, 8)),
        (torch.zeros(2, 1, 16, 16), torch.zeros(2, 3, 16, 16, dtype=torch.uint8)),
    ],
)
def test_bad_shapes_raise_data_error(mask: torch.Tensor, image: torch.Tensor | None) -> None:
    with pytest.raises(DataError, match="expected"):
        Rotate()(mask, image)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_cuda_matches_cpu_with_a_cpu_generator(name: str) -> None:
    masks = blob_masks(4, 32, 32)
    image = torch.rand(4, 3, 32, 32, generator=gen(15))
    cpu_mask, cpu_image = FACTORIES[name]()(masks, image, generator=gen(16))
    gpu_mask, gpu_image = FACTORIES[name]()(masks.cuda(), image.cuda(), generator=gen(16))
    assert gpu_mask.is_cuda and gpu_image.is_cuda
    assert (gpu_mask.cpu() != cpu_mask).float().mean() < 0.01  # threshold ties may differ at a few edge pixels
    torch.testing.assert_close(gpu_image.cpu(), cpu_image, rtol=0, atol=1e-4)
    cuda_gen = torch.Generator(device="cuda").manual_seed(0)
    out, _ = FACTORIES[name]()(masks.cuda(), generator=cuda_gen)
    assert out.is_cuda and set(out.unique().tolist()) <= {0.0, 1.0}
