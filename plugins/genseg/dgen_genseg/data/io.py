"""Reading image and mask files into tensors.

Images come back as float32 ``(C, H, W)`` in ``[0, 1]`` with ``C`` the task's channel
count (1 or 3), masks as ``(1, H, W)`` with values exactly ``{0, 1}`` (tensors from
``read_*``; numpy arrays from ``*_array``, which bulk loading uses: per-file work
stays in numpy and Pillow, out of torch's thread pool). Every failure is an
:class:`ImageReadError` (a ``DataError``) whose one-line message names the file, what is wrong and the fix.

Supported files: JPEG, PNG, BMP, TIFF, GIF (through Pillow) and the JSRT raw
``.IMG`` format (2048 x 2048, big-endian 16-bit words holding 12-bit values where
higher means darker; read inverted so that bone is bright, as radiographs are shown).

Pixel modes: 8-bit grey and RGB are scaled by 1/255, 16-bit grey (``I;16``) by
1/65535, 32-bit integer grey (``I``) by 1/65535 when its values fit 16 bits,
float grey (``F``) taken as is when its values lie in [0, 1]; palette images are
expanded through their palette; an alpha channel is dropped when every pixel is
opaque and reported otherwise (there is no right background to guess). CMYK, YCbCr
and other colour spaces are converted to RGB by Pillow.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from dgen.errors import ConfigError, DataError
from PIL import Image, UnidentifiedImageError
from torch import Tensor

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, Tensor)

__all__ = [
    "IMAGE_SUFFIXES",
    "JPEG_SUFFIXES",
    "JSRT_SIDE",
    "ImageReadError",
    "binarise_mask",
    "image_array",
    "is_image_file",
    "mask_array",
    "read_array",
    "read_image",
    "read_mask",
    "read_mask_values",
    "to_channels",
]

#: file suffixes (lower case) read as images.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".img"})
#: masks with these suffixes are lossy-compressed: binarised at >= 128/255 instead of > 0.
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg"})
#: side of a JSRT raw image in pixels.
JSRT_SIDE = 2048
_JSRT_MAX = 4095  # 12-bit values
_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, the weights Pillow uses for RGB -> L
_ALPHA_MODES = {"RGBA": "RGB", "RGBa": "RGB", "LA": "L", "La": "L"}
_TO_RGB_MODES = {"CMYK", "YCbCr", "LAB", "HSV", "RGBX"}


class ImageReadError(DataError):
    """A file cannot be read as an image or mask.

    Attributes:
        path: the file.
        kind: ``"missing"``, ``"empty_file"``, ``"not_image"``, ``"corrupt"``, ``"too_large"`` or ``"unsupported"``.
    """

    def __init__(self, path: Path, kind: str, what: str, fix: str) -> None:
        self.path, self.kind = Path(path), kind
        super().__init__(f"{path}: {what}; {fix}.")


def is_image_file(path: Path) -> bool:
    """Whether ``path`` has one of :data:`IMAGE_SUFFIXES` (case-insensitive)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_array(path: str | Path) -> tuple[np.ndarray, float]:
    """Read the pixel values of an image file.

    Returns:
        ``(values, full_scale)``: ``values`` of shape ``(H, W)`` (grey) or ``(H, W, 3)``
        (RGB), any numeric dtype, and the value that means 1.0 (255 for 8-bit, 65535 for
        16-bit, 4095 for JSRT, 1 for float images).

    Raises:
        ImageReadError: missing, empty, not an image, corrupt or truncated, or a pixel
            mode that cannot be interpreted (transparent pixels, floats outside [0, 1]).
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(path, "missing", "file not found", "check the path or restore the file")
    if path.stat().st_size == 0:
        raise ImageReadError(path, "empty_file", "file is empty (0 bytes)", "re-download it or delete it")
    if path.suffix.lower() == ".img":
        return _read_jsrt(path), float(_JSRT_MAX)
    try:
        with warnings.catch_warnings():  # a large image is read; Pillow's DecompressionBombWarning is not for users
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                return _pixel_values(path, img)
    except Image.DecompressionBombError as err:
        raise ImageReadError(path, "too_large", *_too_large(err)) from None
    except UnidentifiedImageError:
        raise ImageReadError(
            path, "not_image", f"not an image file ({_first_bytes(path)})",
            "re-download it (a failed download often saves an HTML page) or delete it",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        if path.suffix.lower() in (".tif", ".tiff"):
            return _read_tiff(path, err)
        what = "truncated" if "truncated" in str(err).lower() else "corrupt"
        raise ImageReadError(
            path, "corrupt", f"cannot decode the {what} file (Pillow: {err})", "re-download or re-export it",
        ) from None


def _too_large(error: Exception) -> tuple[str, str]:
    """``(what, fix)`` for an image beyond Pillow's decompression-bomb limit (sizes from Pillow's message)."""
    counts = [int(n) for n in re.findall(r"\((\d+) pixels\)|of (\d+) pixels", str(error)) for n in n if n]
    size = f"{counts[0] / 1e6:.0f} Mpixel" if counts else "too large"
    limit = f"the {counts[1] / 1e6:.0f} Mpixel" if len(counts) > 1 else "the size"
    return (
        f"image is {size}, beyond {limit} that Pillow reads (its guard against decompression bombs)",
        "downscale it (e.g. to 4096 pixels on its long side) or remove it from the dataset",
    )


def _read_tiff(path: Path, pillow_error: Exception) -> tuple[np.ndarray, float]:
    """TIFFs Pillow cannot decode (e.g. CVC-ClinicDB's originals), read with ``tifffile``."""
    import tifffile

    try:
        values = np.asarray(tifffile.imread(path))
    except Exception as err:  # tifffile raises many types for broken files
        raise ImageReadError(
            path, "corrupt", f"cannot decode the TIFF (Pillow: {pillow_error}; tifffile: {err})",
            "re-download it, or convert it to PNG",
        ) from None
    if values.size == 0:
        raise ImageReadError(
            path, "corrupt", f"cannot decode the TIFF (Pillow: {pillow_error}; tifffile found no image data)",
            "re-download it, or convert it to PNG",
        )
    if values.ndim == 3 and values.shape[0] in (3, 4) and values.shape[-1] not in (3, 4):
        values = np.moveaxis(values, 0, -1)  # planar (C, H, W) -> (H, W, C)
    if values.ndim == 3 and values.shape[-1] == 4:
        values = values[..., :3]
    if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[-1] != 3):
        raise ImageReadError(path, "unsupported", f"TIFF of shape {values.shape}", "save it as a 2-D grey or RGB image")
    scales = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0, np.dtype(bool): 1.0}
    if values.dtype not in scales:
        raise ImageReadError(path, "unsupported", f"TIFF of dtype {values.dtype}", "save it as 8- or 16-bit")
    return values, scales[values.dtype]


def _first_bytes(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(12)
    return f"it starts with {head!r}"


def _pixel_values(path: Path, img: Image.Image) -> tuple[np.ndarray, float]:
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode == "PA":
        img = img.convert("RGBA")
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode in _TO_RGB_MODES:
        img = img.convert("RGB")
    if img.mode in _ALPHA_MODES:
        alpha = np.asarray(img.getchannel("A"))
        if alpha.min() < 255:
            raise ImageReadError(
                path, "unsupported",
                f"{img.mode} image has {int((alpha < 255).sum())} transparent pixels (alpha < 255)",
                "flatten it onto its background and save it as RGB or greyscale",
            )
        img = img.convert(_ALPHA_MODES[img.mode])
    if img.mode in ("L", "RGB"):
        return np.asarray(img), 255.0
    if img.mode.startswith("I"):  # I;16, I;16B, I;16L, I
        values = np.asarray(img)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ImageReadError(
                path, "unsupported",
                f"32-bit integer image with values in [{values.min()}, {values.max()}], outside 16 bits",
                "rescale it to 8 or 16 bits",
            )
        return values, 65535.0
    if img.mode == "F":
        values = np.asarray(img)
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
            raise ImageReadError(
                path, "unsupported",
                f"float image with values in [{np.nanmin(values):g}, {np.nanmax(values):g}], not [0, 1]",
                "rescale it to [0, 1] or save it as 8-bit",
            )
        return values, 1.0
    raise ImageReadError(
        path, "unsupported", f"pixel mode {img.mode!r} is not supported", "convert it to 8-bit RGB or greyscale"
    )


def _read_jsrt(path: Path) -> np.ndarray:
    expected = JSRT_SIDE * JSRT_SIDE * 2
    size = path.stat().st_size
    if size != expected:
        raise ImageReadError(
            path, "corrupt",
            f"JSRT raw image has {size} bytes, expected {expected} (2048 x 2048 x 16 bit)",
            "re-download it (a shorter file is truncated)",
        )
    raw = np.fromfile(path, dtype=">u2").reshape(JSRT_SIDE, JSRT_SIDE)
    if raw.max() > _JSRT_MAX:
        raise ImageReadError(
            path, "unsupported",
            f"JSRT raw image has values up to {raw.max()}, more than 12 bits (4095)",
            "use the original big-endian JSRT .IMG file (this one looks byte-swapped or converted)",
        )
    return _JSRT_MAX - raw.astype(np.int32)  # invert: higher raw value = darker film


def to_channels(image: ArrayOrTensor, channels: int) -> ArrayOrTensor:
    """Convert ``(C, H, W)`` with ``C`` in {1, 3} to ``(channels, H, W)`` (numpy array or tensor).

    Grey -> RGB repeats the channel; RGB -> grey is the BT.601 luma
    ``0.299 R + 0.587 G + 0.114 B`` (Pillow's weights).
    """
    if channels not in (1, 3):
        raise ConfigError(f"channels={channels!r} is not supported; use 1 (greyscale) or 3 (RGB).")
    if image.shape[0] == channels:
        return image
    if channels == 3:
        return image[[0, 0, 0]]
    return image[0:1] * _LUMA[0] + image[1:2] * _LUMA[1] + image[2:3] * _LUMA[2]


def image_array(path: str | Path, channels: int) -> np.ndarray:
    """Read an image as float32 ``(channels, H, W)`` in ``[0, 1]`` (numpy)."""
    values, full_scale = read_array(path)
    array = values.astype(np.float32) / np.float32(full_scale)
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)  # (C, H, W)
    return np.ascontiguousarray(to_channels(array, channels), dtype=np.float32)


def read_image(path: str | Path, channels: int) -> Tensor:
    """Read an image as a float32 tensor ``(channels, H, W)`` in ``[0, 1]``."""
    return torch.from_numpy(image_array(path, channels))


def read_mask_values(path: str | Path) -> tuple[np.ndarray, float]:
    """Read a mask's raw single-channel values ``(H, W)`` and their full scale.

    Colour masks are reduced to one channel by the maximum over channels, so a
    label drawn in any colour counts as foreground.
    """
    values, full_scale = read_array(path)
    return (values.max(axis=2) if values.ndim == 3 else values), full_scale


def binarise_mask(path: str | Path, values: np.ndarray, full_scale: float) -> np.ndarray:
    """The binarisation rule: ``values >= 128/255`` of full scale for JPEG masks
    (lossy compression leaves values between 0 and 255), ``values > 0`` otherwise.

    Returns:
        bool ``(H, W)``.
    """
    if Path(path).suffix.lower() in JPEG_SUFFIXES:
        return values.astype(np.float64) >= full_scale * 128.0 / 255.0
    return values > 0


def mask_array(path: str | Path) -> np.ndarray:
    """Read a mask as bool ``(H, W)`` with :func:`binarise_mask`'s rule (numpy)."""
    values, full_scale = read_mask_values(path)
    return binarise_mask(path, values, full_scale)


def read_mask(path: str | Path) -> Tensor:
    """Read a mask as a float32 tensor ``(1, H, W)`` with values in {0, 1}."""
    return torch.from_numpy(mask_array(path)[None].astype(np.float32))
