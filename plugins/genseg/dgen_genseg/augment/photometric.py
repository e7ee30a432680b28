"""nnU-Net's intensity augmentation for image batches ``(B, C, H, W)`` in [0, 1]; masks are never touched.

The chain and its defaults are nnU-Net v2's 2-D training transforms (``get_training_transforms``, with
batchgeneratorsv2's transforms), in nnU-Net's order: Gaussian noise, Gaussian blur, multiplicative
brightness, contrast, low-resolution simulation, gamma on the inverted image, gamma. Each transform
fires per sample with its probability; some then pick channels with a per-channel probability; every
chosen channel (a *row*, ``(H, W)``) draws its own parameters unless noted. nnU-Net's "BGContrast"
ranges ``(low, high)`` around 1 draw below 1 or above 1 with equal odds, then uniformly on that side.

nnU-Net works on z-scored images; ours are in [0, 1]. Contrast, gamma (range-normalised, statistics
kept), blur and low resolution do not depend on that choice. The noise's std is drawn, as nnU-Net's, in
units of the channel's standard deviation. Brightness multiplies the [0, 1] values (0 stays black). The
result is clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import final

import torch
import torch.nn.functional as F
from torch import Tensor

from dgen.errors import DataError
from dgen_genseg.augment.affine import bernoulli, check_probability, check_range, uniform
from dgen_genseg.augment.gaussian import gaussian_blur

__all__ = [
    "Photometric",
    "add_noise",
    "adjust_contrast",
    "adjust_gamma",
    "bg_contrast",
    "blur",
    "multiply_brightness",
    "simulate_low_resolution",
]

#: blur kernels span 6 sigma (3 sigma each side), as batchgeneratorsv2's ``blur_dimension``.
BLUR_TRUNCATE = 3.0
_EPS = 1e-7


def bg_contrast(low: float, high: float, n: int, generator: torch.Generator | None) -> Tensor:
    """``n`` draws ``(n,)`` (float64, generator's device) of nnU-Net's ``BGContrast((low, high))``.

    With probability 0.5 uniform on ``[low, 1)``, else uniform on ``[1, high)``; a range on one side of 1
    draws uniformly on itself.
    """
    below = bernoulli(0.5 if low < 1.0 <= high else float(high < 1.0), n, generator)
    return torch.where(below, uniform(low, min(1.0, high), n, generator), uniform(max(low, 1.0), high, n, generator))


# ---- row transforms: rows (N, H, W), one parameter per row (N,) ------------------------------------


def _view(values: Tensor) -> Tensor:
    return values.view(-1, 1, 1)  # (N,) -> (N, 1, 1)


def _mean_std(rows: Tensor) -> tuple[Tensor, Tensor]:
    """Each row's mean and (unbiased) standard deviation, ``(N, 1, 1)`` each (two passes; faster than ``Tensor.std``)."""
    mean = rows.mean(dim=(1, 2), keepdim=True)
    count = max(rows.shape[1] * rows.shape[2] - 1, 1)
    return mean, ((rows - mean).square().sum(dim=(1, 2), keepdim=True) / count).sqrt()


def add_noise(rows: Tensor, std: Tensor, noise: Tensor) -> Tensor:
    """``rows + std · σ_row · noise``: ``std`` in units of each row's own standard deviation σ_row; ``noise`` ``(N, H, W)`` ~ N(0, 1)."""
    return rows + _view(std) * _mean_std(rows)[1] * noise


def blur(rows: Tensor, sigma_y: Tensor, sigma_x: Tensor) -> Tensor:
    """Gaussian blur, std ``sigma_y`` / ``sigma_x`` pixels along each axis, reflect padding."""
    return gaussian_blur(rows, sigma_y, sigma_x, truncate=BLUR_TRUNCATE, padding="reflect")


def multiply_brightness(rows: Tensor, factor: Tensor) -> Tensor:
    """``rows · factor``."""
    return rows * _view(factor)


def adjust_contrast(rows: Tensor, factor: Tensor) -> Tensor:
    """``(rows - mean) · factor + mean``, clipped to the row's original [min, max] (nnU-Net's ``preserve_range``)."""
    mean = rows.mean(dim=(1, 2), keepdim=True)
    low, high = rows.amin(dim=(1, 2), keepdim=True), rows.amax(dim=(1, 2), keepdim=True)
    return torch.minimum(torch.maximum((rows - mean) * _view(factor) + mean, low), high)


def adjust_gamma(rows: Tensor, gamma: Tensor, *, invert: bool) -> Tensor:
    """nnU-Net's gamma with ``retain_stats``: ``((x - min) / range) ** gamma · range + min``, then rescaled to the
    row's original mean and standard deviation. ``invert``: applied to ``-x`` and negated back (brightens
    where plain gamma darkens)."""
    x = -rows if invert else rows
    mean, std = _mean_std(x)
    low, high = x.amin(dim=(1, 2), keepdim=True), x.amax(dim=(1, 2), keepdim=True)
    span = high - low
    y = ((x - low) / span.clamp_min(_EPS)).pow(_view(gamma)) * span + low
    y_mean, y_std = _mean_std(y)
    y = (y - y_mean) / y_std.clamp_min(_EPS) * std + mean
    return -y if invert else y


def simulate_low_resolution(rows: Tensor, scale: Tensor) -> Tensor:
    """Downsample each row to ``round(scale · (H, W))`` (nearest) and back up to ``(H, W)`` (bilinear)."""
    height, width = rows.shape[-2:]
    out = []
    for row, factor in zip(rows, scale.tolist()):
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        small = F.interpolate(row[None, None], size=size, mode="nearest-exact")
        out.append(F.interpolate(small, size=(height, width), mode="bilinear", align_corners=False)[0, 0])
    return torch.stack(out) if out else rows


def _on_rows(rows: Tensor, chosen: Tensor, transform: Callable[..., Tensor], *params: Tensor) -> Tensor:
    """Apply ``transform(picked_rows, *picked_params)`` to the rows where ``chosen`` ``(N,)`` is True; others are kept."""
    index = chosen.nonzero().flatten()
    if index.numel() == 0:
        return rows
    on_data = index.to(rows.device)
    picked = [p[index].to(device=rows.device, dtype=rows.dtype) for p in params]
    return rows.index_copy(0, on_data, transform(rows.index_select(0, on_data), *picked))


@final
class Photometric:
    """nnU-Net's intensity transforms of an image batch; call as ``photometric(image, generator=g)``.

    Args (nnU-Net v2's 2-D defaults):
        p_noise: probability per sample of Gaussian noise (0.1).
        noise_std: range of the noise std, in units of the channel's std (0-0.1); one draw per sample.
        p_blur: probability per sample of a blur (0.2); p_blur_channel: then per channel (0.5).
        blur_sigma: range of the blur std in pixels (0.5-1), drawn per channel and per axis.
        p_brightness: probability per sample of a brightness change (0.15).
        brightness: BGContrast range of the multiplier (0.75-1.25), per channel.
        p_contrast: probability per sample of a contrast change (0.15).
        contrast: BGContrast range of the contrast factor (0.75-1.25), per channel.
        p_low_resolution: probability per sample of low-resolution simulation (0.25);
            p_low_resolution_channel: then per channel (0.5).
        low_resolution: range of the downsampling factor (0.5-1), per channel.
        p_gamma_inverted: probability per sample of gamma on the inverted image (0.1).
        p_gamma: probability per sample of gamma (0.3).
        gamma: BGContrast range of gamma (0.7-1.5), per channel, for both gamma transforms.
    """

    def __init__(
        self,
        *,
        p_noise: float = 0.1,
        noise_std: Sequence[float] = (0.0, 0.1),
        p_blur: float = 0.2,
        p_blur_channel: float = 0.5,
        blur_sigma: Sequence[float] = (0.5, 1.0),
        p_brightness: float = 0.15,
        brightness: Sequence[float] = (0.75, 1.25),
        p_contrast: float = 0.15,
        contrast: Sequence[float] = (0.75, 1.25),
        p_low_resolution: float = 0.25,
        p_low_resolution_channel: float = 0.5,
        low_resolution: Sequence[float] = (0.5, 1.0),
        p_gamma_inverted: float = 0.1,
        p_gamma: float = 0.3,
        gamma: Sequence[float] = (0.7, 1.5),
    ) -> None:
        for name, value in [
            ("p_noise", p_noise), ("p_blur", p_blur), ("p_blur_channel", p_blur_channel),
            ("p_brightness", p_brightness), ("p_contrast", p_contrast), ("p_low_resolution", p_low_resolution),
            ("p_low_resolution_channel", p_low_resolution_channel), ("p_gamma_inverted", p_gamma_inverted),
            ("p_gamma", p_gamma),
        ]:
            setattr(self, name, check_probability(name, value))
        self.noise_std = check_range("noise_std", noise_std, lowest=0.0, highest=10.0, example="(0, 0.1)")
        self.blur_sigma = check_range("blur_sigma", blur_sigma, lowest=0.0, highest=20.0, open_bounds=True, example="(0.5, 1)")
        self.brightness = check_range("brightness", brightness, lowest=0.0, highest=10.0, example="(0.75, 1.25)")
        self.contrast = check_range("contrast", contrast, lowest=0.0, highest=10.0, example="(0.75, 1.25)")
        self.low_resolution = check_range("low_resolution", low_resolution, lowest=0.05, highest=1.0, example="(0.5, 1)")
        self.gamma = check_range("gamma", gamma, lowest=0.0, highest=10.0, open_bounds=True, example="(0.7, 1.5)")

    def __call__(self, image: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Transform ``image`` ``(B, C, H, W)`` (float, in [0, 1]); returns a new ``(B, C, H, W)`` tensor in [0, 1].

        Parameters are drawn on the generator's device, every one for every sample/channel in a fixed
        order (the noise only for the samples that get noise).
        """
        if image.dim() != 4 or not image.is_floating_point():
            raise DataError(
                f"photometric augmentation got an image of shape {tuple(image.shape)} and dtype {image.dtype}; "
                f"expected a float (B, C, H, W) batch in [0, 1]; call image.float() / 255."
            )
        batch, channels, height, width = image.shape
        rows = image.reshape(batch * channels, height, width)  # (N, H, W), N = B * C
        n = rows.shape[0]

        def per_sample(p: float) -> Tensor:  # (N,) bool, one draw per sample shared by its channels
            return bernoulli(p, batch, generator).repeat_interleave(channels)

        def per_row(low: float, high: float) -> Tensor:
            return uniform(low, high, n, generator)

        noisy = per_sample(self.p_noise)
        std = uniform(*self.noise_std, batch, generator).repeat_interleave(channels)  # synchronised channels
        noise = torch.randn(int(noisy.sum()), height, width, generator=generator, device=noisy.device)  # float32
        rows = _on_rows(rows, noisy, lambda r, s: add_noise(r, s, noise.to(r.device, r.dtype)), std)

        blurred = per_sample(self.p_blur) & bernoulli(self.p_blur_channel, n, generator)
        rows = _on_rows(rows, blurred, blur, per_row(*self.blur_sigma), per_row(*self.blur_sigma))

        brighter = per_sample(self.p_brightness)
        rows = _on_rows(rows, brighter, multiply_brightness, bg_contrast(*self.brightness, n, generator))

        contrasted = per_sample(self.p_contrast)
        rows = _on_rows(rows, contrasted, adjust_contrast, bg_contrast(*self.contrast, n, generator))

        coarse = per_sample(self.p_low_resolution) & bernoulli(self.p_low_resolution_channel, n, generator)
        rows = _on_rows(rows, coarse, simulate_low_resolution, per_row(*self.low_resolution))

        inverted = per_sample(self.p_gamma_inverted)
        rows = _on_rows(rows, inverted, lambda r, g: adjust_gamma(r, g, invert=True), bg_contrast(*self.gamma, n, generator))
        gamma = per_sample(self.p_gamma)
        rows = _on_rows(rows, gamma, lambda r, g: adjust_gamma(r, g, invert=False), bg_contrast(*self.gamma, n, generator))

        return rows.clamp(0.0, 1.0).view(batch, channels, height, width)

    def __repr__(self) -> str:
        names = (
            "p_noise noise_std p_blur p_blur_channel blur_sigma p_brightness brightness p_contrast contrast "
            "p_low_resolution p_low_resolution_channel low_resolution p_gamma_inverted p_gamma gamma"
        ).split()
        return "Photometric(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in names) + ")"
