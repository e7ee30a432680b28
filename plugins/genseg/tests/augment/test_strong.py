"""Tests of the strong classic augmenter (``strong``): nnU-Net's spatial and intensity transforms."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dgen.errors import ConfigError, DataError
from dgen.plugins import create
from dgen_genseg.augment import Photometric, Scale, Spatial, Strong, Translate, strong
from dgen_genseg.augment.photometric import bg_contrast

SPATIAL_OFF = dict(p_rotation=0, p_scaling=0, p_horizontal=0, p_vertical=0, p_elastic=0, p_translate=0)
PHOTOMETRIC_OFF = dict(p_noise=0, p_blur=0, p_brightness=0, p_contrast=0, p_low_resolution=0, p_gamma_inverted=0, p_gamma=0)
ALL_ON = dict(
    p_rotation=1, p_scaling=1, p_elastic=1, p_translate=1, p_noise=1, p_blur=1, p_blur_channel=1, p_brightness=1,
    p_contrast=1, p_low_resolution=1, p_low_resolution_channel=1, p_gamma_inverted=1, p_gamma=1,
)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def blob_masks(batch: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """Random smooth blobs ``(B, 1, H, W)`` in {0, 1}."""
    noise = torch.rand(batch, 1, height // 4, width // 4, generator=gen(seed))
    return (F.interpolate(noise, size=(height, width), mode="bilinear", align_corners=False) > 0.5).float()


def only(**on) -> Strong:
    """A strong augmenter with every transform off except the keywords given."""
    return strong(**{**SPATIAL_OFF, **PHOTOMETRIC_OFF, **on})


def photometric_only(**on) -> Photometric:
    return Photometric(**{**PHOTOMETRIC_OFF, **on})


# ---- contract: binary masks, range, shapes, determinism -----------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("settings", [{}, ALL_ON], ids=["defaults", "all_on"])
def test_masks_stay_binary_and_images_in_range(channels: int, settings: dict) -> None:
    augmenter = strong(**settings)
    masks = blob_masks(8, 32, 40)
    image = torch.rand(8, channels, 32, 40, generator=gen(1))
    image[:, :, :4] = 1.0  # saturated and black regions: brightness and noise push them out of [0, 1]
    image[:, :, -4:] = 0.0
    g = gen(2)
    for _ in range(10):
        out_mask, out_image = augmenter(masks, image, generator=g)
        assert out_mask.shape == masks.shape and out_mask.dtype == masks.dtype
        assert set(out_mask.unique().tolist()) <= {0.0, 1.0}
        assert out_image.shape == image.shape and out_image.dtype == image.dtype
        assert out_image.min() >= 0.0 and out_image.max() <= 1.0 and torch.isfinite(out_image).all()


def test_integer_and_bool_masks_keep_their_dtype() -> None:
    masks, image = blob_masks(4, 16, 16), torch.rand(4, 3, 16, 16, generator=gen(14))
    expected, _ = strong(**ALL_ON)(masks, image, generator=gen(15))
    for dtype in (torch.uint8, torch.bool, torch.float64):
        out, _ = strong(**ALL_ON)(masks.to(dtype), image, generator=gen(15))
        assert out.dtype == dtype
        torch.testing.assert_close(out.float(), expected, rtol=0, atol=0)


def test_registered_as_strong_and_transforms_something() -> None:
    augmenter = create("augmenters", "strong")
    assert isinstance(augmenter, Strong)
    masks, image = blob_masks(16, 32, 32), torch.rand(16, 3, 32, 32, generator=gen(3))
    out_mask, out_image = augmenter(masks, image, generator=gen(4))
    assert not torch.equal(out_mask, masks) and not torch.equal(out_image, image)


def test_seeded_calls_reproduce_and_samples_differ() -> None:
    augmenter = strong()
    masks = blob_masks(1, 32, 32).expand(16, 1, 32, 32).contiguous()
    image = torch.rand(1, 3, 32, 32, generator=gen(5)).expand(16, 3, 32, 32).contiguous()
    first = augmenter(masks, image, generator=gen(6))
    again = augmenter(masks, image, generator=gen(6))
    other = augmenter(masks, image, generator=gen(7))
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first[1], other[1])
    assert len({tuple(im.flatten().tolist()) for im in first[1]}) > 1, "every sample got the same transform"


def test_masks_do_not_depend_on_the_image_or_on_photometric_draws() -> None:
    masks, image = blob_masks(8, 32, 32), torch.rand(8, 3, 32, 32, generator=gen(8))
    with_image, _ = strong(**ALL_ON)(masks, image, generator=gen(9))
    alone, none = strong(**ALL_ON)(masks, generator=gen(9))
    spatial_only, _ = Spatial(**{k: v for k, v in ALL_ON.items() if k in SPATIAL_OFF})(masks, generator=gen(9))
    assert none is None
    torch.testing.assert_close(with_image, alone, rtol=0, atol=0)
    torch.testing.assert_close(with_image, spatial_only, rtol=0, atol=0)


def test_photometric_transforms_leave_masks_untouched() -> None:
    masks, image = blob_masks(8, 32, 32), torch.rand(8, 3, 32, 32, generator=gen(10))
    photometric_on = {k: v for k, v in ALL_ON.items() if k not in SPATIAL_OFF}
    out_mask, out_image = only(**photometric_on)(masks, image, generator=gen(11))
    torch.testing.assert_close(out_mask, masks, rtol=0, atol=0)
    assert (out_image - image).abs().amax(dim=(1, 2, 3)).min() > 1e-3, "a sample escaped the photometric transforms"


def test_all_off_is_identity() -> None:
    masks, image = blob_masks(4, 16, 24), torch.rand(4, 3, 16, 24, generator=gen(12))
    out_mask, out_image = only()(masks, image, generator=gen(13))
    torch.testing.assert_close(out_mask, masks, rtol=0, atol=0)
    torch.testing.assert_close(out_image, image, rtol=0, atol=0)


# ---- alignment -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_image_equal_to_mask_stays_aligned(seed: int) -> None:
    masks = blob_masks(8, 48, 48, seed=seed)
    image = masks.repeat(1, 3, 1, 1) * torch.tensor([1.0, 0.5, 0.25]).view(1, 3, 1, 1)
    spatial = {k: v for k, v in ALL_ON.items() if k in SPATIAL_OFF}
    out_mask, out_image = only(**spatial)(masks, image, generator=gen(20 + seed))
    assert not torch.equal(out_mask, masks)
    # channel 0 equals the mask: thresholded, it is exactly the transformed mask ...
    torch.testing.assert_close((out_image[:, :1] > 0.5).float(), out_mask, rtol=0, atol=0)
    # ... and differs from it only within 2 px of an edge (interpolation) ...
    differs = (out_image[:, :1] - out_mask).abs() > 1e-5
    near_edge = F.max_pool2d(out_mask, 5, 1, 2) != -F.max_pool2d(-out_mask, 5, 1, 2)
    near_edge[..., :2, :] = near_edge[..., -2:, :] = near_edge[..., :2] = near_edge[..., -2:] = True
    assert not (differs & ~near_edge).any()
    # ... and every channel went through the same map.
    torch.testing.assert_close(out_image[:, 2:3], 0.25 * out_image[:, :1], rtol=0, atol=1e-6)


def test_full_chain_keeps_image_and_mask_aligned() -> None:
    """With every intensity transform on too, a bright object on black still thresholds to its mask."""
    masks = blob_masks(8, 48, 48)
    image = 0.15 + 0.7 * masks.repeat(1, 3, 1, 1)  # object 0.85, background 0.15
    out_mask, out_image = strong(**{**ALL_ON, "p_gamma_inverted": 0}, contrast=(1.0, 1.25))(masks, image, generator=gen(30))
    agree = ((out_image.mean(1, keepdim=True) > 0.5).float() == out_mask).float().mean(dim=(1, 2, 3))
    assert agree.min() > 0.9, agree


# ---- each transform does what it says -------------------------------------------------------------------


def test_flips_match_torch_flip() -> None:
    masks, image = blob_masks(2, 10, 14), torch.rand(2, 3, 10, 14, generator=gen(40))
    out_mask, out_image = only(p_horizontal=1)(masks, image, generator=gen(41))
    torch.testing.assert_close(out_mask, masks.flip(-1), rtol=0, atol=0)
    torch.testing.assert_close(out_image, image.flip(-1), rtol=0, atol=1e-5)
    out_mask, out_image = only(p_horizontal=1, p_vertical=1)(masks, image, generator=gen(41))
    torch.testing.assert_close(out_mask, masks.flip(-1, -2), rtol=0, atol=0)
    torch.testing.assert_close(out_image, image.flip(-1, -2), rtol=0, atol=1e-5)


@pytest.mark.parametrize("size", [8, 9])
def test_rotation_90_is_a_quarter_turn(size: int) -> None:
    image = torch.rand(2, 1, size, size, generator=gen(42), dtype=torch.float64)
    masks = (image > 0.5).double()
    out_mask, out_image = only(p_rotation=1, rotation=(90, 90))(masks, image, generator=gen(43))
    torch.testing.assert_close(out_image, torch.rot90(image, 1, (2, 3)), rtol=0, atol=1e-10)
    torch.testing.assert_close(out_mask, torch.rot90(masks, 1, (2, 3)), rtol=0, atol=0)


def test_scaling_scales_the_sampling_grid_and_translation_shifts() -> None:
    """nnU-Net's scale s samples at s·p: s = 2 shows the content at half size (our Scale(0.5))."""
    masks, image = blob_masks(2, 16, 16), torch.rand(2, 3, 16, 16, generator=gen(44), dtype=torch.float64)
    masks = masks.double()
    out = only(p_scaling=1, scaling=(2, 2))(masks, image, generator=gen(45))
    expected = Scale(factor=(0.5, 0.5))(masks, image)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)
    out = only(p_translate=1, translate=(0.25, 0.25))(masks, image, generator=gen(46))
    expected = Translate(percent=(0.25, 0.25))(masks, image)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)


def test_elastic_displacement_has_batchgenerators_magnitude() -> None:
    """Uniform[-1, 1] noise smoothed by a Gaussian of std σ has std 1 / (√3 · 2√π σ) away from the borders;
    times α that is the displacement's std in pixels."""
    alpha, sigma, size = 200.0, 10.0, 160
    spatial = Spatial(**{**SPATIAL_OFF, "p_elastic": 1}, elastic_alpha=(alpha, alpha), elastic_sigma=(sigma, sigma))
    grid = spatial.sample_grid(4, size, size, gen(47), device=torch.device("cpu"), dtype=torch.float64)
    identity = Spatial(**{**SPATIAL_OFF, "p_horizontal": 1}).sample_grid(4, size, size, gen(47), device=torch.device("cpu"),
                                                                   dtype=torch.float64) * torch.tensor([-1.0, 1.0])
    displacement = (grid - identity) * size / 2  # (B, H, W, 2) pixels
    centre = displacement[:, 50:-50, 50:-50]
    expected = alpha / (math.sqrt(3) * 2 * math.sqrt(math.pi) * sigma)
    assert 0.7 * expected < centre.std() < 1.3 * expected, (centre.std(), expected)
    # smooth: neighbouring pixels move almost alike
    step = (centre[:, 1:] - centre[:, :-1]).abs().mean()
    assert step < 0.1 * centre.abs().mean()
    no_motion = Spatial(**{**SPATIAL_OFF, "p_elastic": 1}, elastic_alpha=(0, 0))
    masks, image = blob_masks(2, 16, 16), torch.rand(2, 3, 16, 16, generator=gen(48))
    out_mask, out_image = no_motion(masks, image, generator=gen(49))
    torch.testing.assert_close(out_mask, masks, rtol=0, atol=0)
    torch.testing.assert_close(out_image, image, rtol=0, atol=1e-5)


def test_brightness_multiplies() -> None:
    image = torch.full((2, 3, 4, 4), 0.5)
    image[..., 0, 0] = 0.9
    out = photometric_only(p_brightness=1, brightness=(1.2, 1.2))(image, generator=gen(50))
    expected = torch.full_like(image, 0.6)
    expected[..., 0, 0] = 1.0  # 1.08, clipped
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_contrast_scales_about_the_mean_within_the_original_range() -> None:
    image = torch.tensor([0.2, 0.6]).repeat(8).view(1, 1, 4, 4)  # mean 0.4
    out = photometric_only(p_contrast=1, contrast=(0.5, 0.5))(image, generator=gen(51))
    torch.testing.assert_close(out, torch.tensor([0.3, 0.5]).repeat(8).view(1, 1, 4, 4), rtol=0, atol=1e-6)
    out = photometric_only(p_contrast=1, contrast=(2.0, 2.0))(image, generator=gen(51))
    torch.testing.assert_close(out, image, rtol=0, atol=1e-6)  # 0.0 and 0.8 are clipped back to [0.2, 0.6]


def _standardise_like(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (y - y.mean()) / y.std() * x.std() + x.mean()


def test_gamma_and_inverted_gamma_by_hand() -> None:
    values = torch.tensor([0.0, 0.5, 1.0, 0.5], dtype=torch.float64)
    image = values.repeat(4).view(1, 1, 4, 4)
    out = photometric_only(p_gamma=1, gamma=(2, 2))(image, generator=gen(52))
    expected = _standardise_like(torch.tensor([0.0, 0.25, 1.0, 0.25], dtype=torch.float64), values)
    torch.testing.assert_close(out.flatten()[:4], expected.clamp(0, 1), rtol=0, atol=1e-10)
    out = photometric_only(p_gamma_inverted=1, gamma=(2, 2))(image, generator=gen(52))
    expected = _standardise_like(1 - (1 - values) ** 2, values)  # 1 - (1 - x)² on [0, 1]
    torch.testing.assert_close(out.flatten()[:4], expected.clamp(0, 1), rtol=0, atol=1e-10)
    binary = (image > 0.6).double()  # 0 and 1 are fixed points of every gamma
    torch.testing.assert_close(photometric_only(p_gamma=1)(binary, generator=gen(53)), binary, rtol=0, atol=1e-10)


def test_noise_std_is_relative_to_the_channel_std() -> None:
    image = 0.5 + 0.1 * torch.randn(4, 3, 64, 64, generator=gen(54))  # std 0.1, far from 0 and 1
    out = photometric_only(p_noise=1, noise_std=(0.2, 0.2))(image, generator=gen(55))
    residual = (out - image).std(dim=(2, 3))
    torch.testing.assert_close(residual, torch.full_like(residual, 0.02), rtol=0.05, atol=0)


def test_blur_keeps_constants_and_spreads_a_point_by_the_gaussian() -> None:
    constant = torch.full((1, 2, 9, 9), 0.3)
    out = photometric_only(p_blur=1, p_blur_channel=1)(constant, generator=gen(56))
    torch.testing.assert_close(out, constant, rtol=0, atol=1e-6)
    point = torch.zeros(1, 1, 15, 15, dtype=torch.float64)
    point[..., 7, 7] = 1.0
    out = photometric_only(p_blur=1, p_blur_channel=1, blur_sigma=(1, 1))(point, generator=gen(57))
    taps = torch.exp(-0.5 * torch.arange(-3, 4, dtype=torch.float64) ** 2)  # 6 sigma wide
    kernel = taps / taps.sum()
    torch.testing.assert_close(out[0, 0, 4:11, 4:11], torch.outer(kernel, kernel), rtol=0, atol=1e-12)
    assert out.sum().item() == pytest.approx(1.0)


def test_low_resolution_keeps_every_other_pixel_at_half_scale() -> None:
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2  # 1-pixel checkerboard
    image = (0.2 + 0.6 * checker).float().view(1, 1, 8, 8)
    out = photometric_only(p_low_resolution=1, p_low_resolution_channel=1, low_resolution=(0.5, 0.5))(image, generator=gen(58))
    torch.testing.assert_close(out, torch.full_like(image, image[0, 0, 1, 1].item()), rtol=0, atol=1e-6)


def test_bg_contrast_draws_each_side_of_one_half_the_time() -> None:
    draws = bg_contrast(0.7, 1.5, 20000, gen(59))
    assert draws.min() >= 0.7 and draws.max() <= 1.5
    assert abs((draws < 1).double().mean().item() - 0.5) < 0.02
    assert abs(draws[draws < 1].mean().item() - 0.85) < 0.01 and abs(draws[draws >= 1].mean().item() - 1.25) < 0.01
    below, above = bg_contrast(0.5, 0.8, 1000, gen(59)), bg_contrast(1.2, 1.4, 1000, gen(59))
    assert 0.5 <= below.min() and below.max() <= 0.8 and 1.2 <= above.min() and above.max() <= 1.4


def test_probabilities_are_per_sample() -> None:
    image = torch.full((400, 1, 4, 4), 0.5)
    out = photometric_only(p_brightness=0.15, brightness=(1.2, 1.2))(image, generator=gen(60))
    fraction = (out[:, 0, 0, 0] > 0.55).double().mean().item()
    assert 0.1 < fraction < 0.2, fraction


# ---- options and errors -----------------------------------------------------------------------------------


def test_unknown_option_names_the_closest() -> None:
    with pytest.raises(ConfigError, match="did you mean 'p_elastic'"):
        strong(p_elastc=0)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: strong(p_gamma=2), "p_gamma=2"),
        (lambda: strong(scaling=(0, 1)), "scaling=(0.7, 1.4)"),
        (lambda: strong(low_resolution=(0, 1)), "low_resolution=(0.5, 1)"),
        (lambda: strong(blur_sigma=(1, 0.5)), "blur_sigma=(0.5, 1)"),
    ],
)
def test_invalid_settings_raise_config_error(make, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert fragment in str(info.value)


def test_integer_image_is_refused() -> None:
    with pytest.raises(DataError, match="float"):
        strong()(torch.zeros(2, 1, 8, 8), torch.zeros(2, 3, 8, 8, dtype=torch.uint8))


def test_spatial_is_final_and_strong_composes_parts() -> None:
    custom = Strong(Spatial(p_elastic=0), photometric_only())
    assert isinstance(custom.spatial, Spatial) and custom.spatial.p_elastic == 0.0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu_with_a_cpu_generator() -> None:
    masks, image = blob_masks(8, 32, 32), torch.rand(8, 3, 32, 32, generator=gen(70))
    for settings in ({}, ALL_ON):
        cpu_mask, cpu_image = strong(**settings)(masks, image, generator=gen(71))
        gpu_mask, gpu_image = strong(**settings)(masks.cuda(), image.cuda(), generator=gen(71))
        assert gpu_mask.is_cuda and gpu_image.is_cuda
        assert (gpu_mask.cpu() != cpu_mask).float().mean() < 0.01
        torch.testing.assert_close(gpu_image.cpu(), cpu_image, rtol=0, atol=1e-3)
    out_mask, out_image = strong(**ALL_ON)(masks.cuda(), image.cuda(), generator=torch.Generator("cuda").manual_seed(0))
    assert set(out_mask.unique().tolist()) <= {0.0, 1.0} and 0 <= out_image.min() and out_image.max() <= 1
