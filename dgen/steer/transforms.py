"""The differentiable appearance transforms: ``(images, magnitude, standardized draw) -> images``.

Every transform is smooth in its magnitude ``m`` (a ``()`` tensor) and equals the identity at
``m = 0`` (``gamma`` up to its floor 1e-4 on the input). Images are ``(B, C, H, W)``; the draw of
each transform is described in :class:`~dgen.steer.AppearanceDraw`. They are applied in the order of
:data:`TRANSFORMS`: gamma, contrast, brightness, bias field, blur, noise (acquisition order: the
intensity curve, then the scanner's field and optics, then sensor noise).

| transform | effect | largest magnitude |
| --- | --- | --- |
| ``brightness`` | ``x + m u``, u ~ U(-1, 1) | 0.3 |
| ``contrast`` | ``mean + (x - mean) exp(m u)`` around each image's mean, u ~ U(-1, 1) | ln 1.5 |
| ``gamma`` | ``max(x, 1e-4) ** exp(m u)``, u ~ U(-1, 1) | 0.5 |
| ``bias_field`` | ``x exp(m sum_k c_k phi_k / sqrt(K))``, c ~ N(0, 1), phi: x, y, x², y², xy on [-1, 1]², each zero-mean with unit RMS | 0.5 |
| ``noise`` | ``x + m n``, n ~ N(0, 1) per pixel | 0.1 |
| ``blur`` | Gaussian blur of std ``m u`` pixels, u ~ U(0, 1), a 7-tap kernel | 1.5 |
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from dgen.steer.draw import AppearanceDraw

__all__ = ["APPEARANCE_TRANSFORMS", "BLUR_KERNEL", "MAX_MAGNITUDES", "TRANSFORMS", "bias_field_basis"]

#: every transform's name
APPEARANCE_TRANSFORMS = ("brightness", "contrast", "gamma", "bias_field", "noise", "blur")

#: the default largest magnitude of each transform (a magnitude is ``max * sigmoid(raw)``)
MAX_MAGNITUDES: dict[str, float] = {
    "brightness": 0.3,
    "contrast": math.log(1.5),
    "gamma": 0.5,
    "bias_field": 0.5,
    "noise": 0.1,
    "blur": 1.5,
}

#: taps of the Gaussian blur kernel (odd)
BLUR_KERNEL = 7

_GAMMA_FLOOR = 1e-4  # pow's derivative in the exponent is log(x): keep x away from 0
_SIGMA_EPS = 1e-2  # blur std offset: exp(-1 / (2 eps²)) underflows to 0, so sigma -> 0 is the identity


def bias_field_basis(height: int, width: int, *, device: torch.device | None = None, dtype: torch.dtype | None = None) -> Tensor:
    """The K = 5 bias-field basis functions x, y, x², y², xy on the ``[-1, 1]²`` grid, each with zero mean
    and unit root mean square over the grid (a constant function is left to ``brightness``): ``(K, H, W)``."""
    y, x = torch.meshgrid(
        torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype),
        torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype),
        indexing="ij",
    )
    basis = torch.stack([x, y, x * x, y * y, x * y])  # (K, H, W)
    basis = basis - basis.mean(dim=(1, 2), keepdim=True)
    rms = basis.pow(2).mean(dim=(1, 2), keepdim=True).sqrt()
    return basis / rms.clamp_min(torch.finfo(basis.dtype).eps)  # a 1-pixel axis makes x (or y) zero


def _brightness(x: Tensor, m: Tensor, draw: AppearanceDraw) -> Tensor:
    return x + m * draw.brightness


def _contrast(x: Tensor, m: Tensor, draw: AppearanceDraw) -> Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return mean + (x - mean) * torch.exp(m * draw.contrast)


def _gamma(x: Tensor, m: Tensor, draw: AppearanceDraw) -> Tensor:
    return x.clamp_min(_GAMMA_FLOOR) ** torch.exp(m * draw.gamma)


def _bias_field(x: Tensor, m: Tensor, draw: AppearanceDraw) -> Tensor:
    basis = bias_field_basis(x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)  # (K, H, W)
    # divided by sqrt(K): the log field has unit mean square over the image in expectation over c ~ N(0, 1)
    log_field = torch.einsum("bk,khw->bhw", draw.bias_field, basis).unsqueeze(1) / math.sqrt(len(basis))  # (B, 1, H, W)
    return x * torch.exp(m * log_field)


def _noise(x: Tensor, m: Tensor, draw: AppearanceDraw) -> Tensor:
    return x + m * draw.noise


def _blur(x: Tensor, m: Tensor, draw: AppearanceDraw) -> Tensor:
    batch, channels, height, width = x.shape
    sigma = (m * draw.blur).reshape(batch, 1) + _SIGMA_EPS  # (B, 1)
    taps = torch.arange(BLUR_KERNEL, device=x.device, dtype=x.dtype) - BLUR_KERNEL // 2  # (T,)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))  # (B, T)
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(channels, dim=0)  # (B*C, T)
    pad = BLUR_KERNEL // 2
    flat = x.reshape(1, batch * channels, height, width)  # one group per image channel
    flat = F.conv2d(F.pad(flat, (pad, pad, 0, 0), mode="replicate"), kernel[:, None, None, :], groups=batch * channels)
    flat = F.conv2d(F.pad(flat, (0, 0, pad, pad), mode="replicate"), kernel[:, None, :, None], groups=batch * channels)
    return flat.reshape(batch, channels, height, width)


#: each transform's function ``(images (B, C, H, W), magnitude (), draw) -> images (B, C, H, W)``, in the
#: order they are applied
TRANSFORMS: dict[str, Callable[[Tensor, Tensor, AppearanceDraw], Tensor]] = {
    "gamma": _gamma,
    "contrast": _contrast,
    "brightness": _brightness,
    "bias_field": _bias_field,
    "blur": _blur,
    "noise": _noise,
}
