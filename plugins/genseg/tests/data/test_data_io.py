"""Reading images and masks: formats, pixel modes, conversions, binarisation, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dgen.errors import ConfigError, DataError
from PIL import Image

from dgen_genseg.data.io import JSRT_SIDE, ImageReadError, read_image, read_mask, to_channels


def _save(path, array, **kw):
    Image.fromarray(array).save(path, **kw)
    return path


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".tiff"])
def test_lossless_rgb_formats_read_exactly(tmp_path, rgb, suffix):
    image = read_image(_save(tmp_path / f"a{suffix}", rgb), channels=3)
    assert image.shape == (3, 6, 5) and image.dtype == torch.float32
    torch.testing.assert_close(image, torch.from_numpy(rgb).permute(2, 0, 1).float() / 255, rtol=0, atol=1e-7)


def test_jpeg_reads_close_to_source(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 16, dtype=np.uint8)[None, :, None], (16, 1, 3))
    image = read_image(_save(tmp_path / "a.jpg", smooth, quality=95), channels=3)
    expected = torch.from_numpy(smooth).permute(2, 0, 1).float() / 255
    torch.testing.assert_close(image, expected, rtol=0, atol=0.03)


def test_rgb_to_grey_is_bt601_luma(tmp_path, rgb):
    grey = read_image(_save(tmp_path / "a.png", rgb), channels=1)
    expected = torch.from_numpy(rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255)
    assert grey.shape == (1, 6, 5)
    torch.testing.assert_close(grey[0].double(), expected, rtol=0, atol=1e-6)


def test_grey_to_rgb_repeats_the_channel(tmp_path, rgb):
    image = read_image(_save(tmp_path / "a.png", rgb[..., 0]), channels=3)
    assert image.shape == (3, 6, 5)
    assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])


def test_to_channels_rejects_other_counts():
    with pytest.raises(ConfigError, match=r"use 1 .* or 3"):
        to_channels(torch.zeros(1, 2, 2), 2)


def test_sixteen_bit_grey_is_scaled_by_65535(tmp_path):
    values = np.array([[0, 1000], [32768, 65535]], dtype=np.uint16)
    path = tmp_path / "a.png"
    Image.fromarray(values).save(path)
    image = read_image(path, channels=1)
    torch.testing.assert_close(image[0].double(), torch.from_numpy(values / 65535.0), rtol=0, atol=1e-7)


def test_palette_image_is_expanded_through_its_palette(tmp_path):
    img = Image.new("P", (2, 1))
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.putdata([0, 1])
    img.save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png", channels=3)
    assert image[:, 0, 1].tolist() == [1.0, 0.0, 0.0] and image[:, 0, 0].tolist() == [0.0, 0.0, 0.0]


def test_opaque_rgba_drops_alpha_and_transparent_rgba_is_reported(tmp_path, rgb):
    alpha = np.full((6, 5, 1), 255, dtype=np.uint8)
    opaque = read_image(_save(tmp_path / "o.png", np.concatenate([rgb, alpha], axis=2)), channels=3)
    torch.testing.assert_close(opaque, torch.from_numpy(rgb).permute(2, 0, 1).float() / 255, rtol=0, atol=1e-7)
    alpha[0, 0] = 0
    with pytest.raises(ImageReadError, match=r"1 transparent pixels.*flatten") as err:
        read_image(_save(tmp_path / "t.png", np.concatenate([rgb, alpha], axis=2)), channels=3)
    assert err.value.kind == "unsupported" and "t.png" in str(err.value)


def test_float_image_outside_unit_range_is_reported(tmp_path):
    path = tmp_path / "f.tif"
    Image.fromarray(np.array([[0.0, 2.5]], dtype=np.float32), mode="F").save(path)
    with pytest.raises(ImageReadError, match=r"values in \[0, 2.5\].*rescale"):
        read_image(path, channels=1)


def test_masks_binarise_above_zero_for_lossless_files(tmp_path):
    values = np.array([[0, 1, 255]], dtype=np.uint8)
    assert read_mask(_save(tmp_path / "m.png", values)).tolist() == [[[0.0, 1.0, 1.0]]]
    assert read_mask(_save(tmp_path / "m.gif", values)).tolist() == [[[0.0, 1.0, 1.0]]]


def test_jpeg_masks_binarise_at_128(tmp_path):
    yy, xx = np.mgrid[:16, :16]
    values = np.where((yy - 7.3) ** 2 + (xx - 8.6) ** 2 < 20, 255, 0).astype(np.uint8)
    path = _save(tmp_path / "m.jpg", values, quality=50)
    raw = np.asarray(Image.open(path))
    assert ((raw > 0) & (raw < 128)).any()  # compression made low non-zero values: > 0 would differ
    mask = read_mask(path)
    assert mask.shape == (1, 16, 16)
    assert torch.equal(mask[0], torch.from_numpy(raw >= 128).float())


def test_colour_masks_use_the_channel_maximum(tmp_path):
    values = np.zeros((1, 2, 3), dtype=np.uint8)
    values[0, 1] = (200, 0, 0)  # a red label
    assert read_mask(_save(tmp_path / "m.png", values)).tolist() == [[[0.0, 1.0]]]


def test_jsrt_raw_is_read_inverted_as_12_bit(tmp_path):
    raw = np.zeros((JSRT_SIDE, JSRT_SIDE), dtype=">u2")
    raw[0, 0], raw[0, 1] = 4095, 1000
    path = tmp_path / "JPCLN001.IMG"
    raw.tofile(path)
    image = read_image(path, channels=1)
    assert image.shape == (1, JSRT_SIDE, JSRT_SIDE)
    torch.testing.assert_close(image[0, 0, :3].double(), torch.tensor([0.0, 3095 / 4095, 1.0], dtype=torch.float64))


def test_jsrt_wrong_size_and_byte_order_are_reported(tmp_path):
    short = tmp_path / "short.IMG"
    short.write_bytes(b"\x00" * 1000)
    with pytest.raises(ImageReadError, match="1000 bytes, expected 8388608"):
        read_image(short, channels=1)
    swapped = tmp_path / "swapped.IMG"
    np.full((JSRT_SIDE, JSRT_SIDE), 4095, dtype="<u2").tofile(swapped)
    with pytest.raises(ImageReadError, match=r"more than 12 bits.*big-endian"):
        read_image(swapped, channels=1)


def test_file_errors_name_the_file_and_the_fix(tmp_path, rgb):
    html = tmp_path / "page.jpg"
    html.write_text("<html>not found</html>")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    truncated = tmp_path / "cut.png"
    data = _save(tmp_path / "full.png", rgb).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    cases = [
        (html, "not_image", "not an image file .*<html.*re-download"),
        (empty, "empty_file", "0 bytes.*re-download"),
        (truncated, "corrupt", "cannot decode.*re-download"),
        (tmp_path / "absent.png", "missing", "file not found"),
    ]
    for path, kind, pattern in cases:
        with pytest.raises(ImageReadError, match=pattern) as err:
            read_image(path, channels=3)
        assert err.value.kind == kind and str(path) in str(err.value) and isinstance(err.value, DataError)
        assert "\n" not in str(err.value)


def test_tiff_pillow_cannot_decode_is_read_with_tifffile(tmp_path, monkeypatch):
    import numpy as np
    import tifffile

    from dgen_genseg.data import io as io_module

    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    tifffile.imwrite(tmp_path / "frame.tif", rgb)
    tifffile.imwrite(tmp_path / "mask.tif", (rgb[..., 0] > 20).astype(np.uint8) * 255)

    def pillow_fails(*args, **kwargs):
        raise OSError("cannot decode this compression")

    monkeypatch.setattr(io_module.Image, "open", pillow_fails)
    values, scale = io_module.read_array(tmp_path / "frame.tif")
    assert scale == 255.0 and np.array_equal(values, rgb)
    assert io_module.read_mask(tmp_path / "mask.tif").sum().item() == int((rgb[..., 0] > 20).sum())
    (tmp_path / "broken.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(io_module.ImageReadError, match="tifffile"):
        io_module.read_array(tmp_path / "broken.tif")
