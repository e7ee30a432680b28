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
| ``blur`` | discrete Gaussian blur of variance ``m u`` pixels², u ~ U(0, 1), an 11-tap kernel | 2.25 (std 1.5) |

The blur is the discrete Gaussian of scale-space theory (Lindeberg 1990): tap ``n`` of a kernel of variance
``t`` is ``exp(-t) I_n(t)`` (``I_n`` the modified Bessel function), normalised over the taps. Its derivative
in ``t`` at ``t = 0`` is half the discrete Laplacian, so the magnitude gets a gradient at every size. A
sampled continuous Gaussian ``exp(-n² / 2σ²)`` has derivatives of order ``exp(-1 / 2σ²)``: below a std of
about 0.3 pixel it is the identity to 1e-9 and its magnitude can never learn (measured: at the old default
start, std 0.15 u, the blur moved pixels by 1e-9 with a derivative of 2e-7, and no run's blur ever moved).
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
    "blur": 2.25,
}

#: taps of the Gaussian blur kernel (odd)
BLUR_KERNEL = 11

_GAMMA_FLOOR = 1e-4  # pow's derivative in the exponent is log(x): keep x away from 0
_BESSEL_TERMS = 24  # series terms of I_n(t): the first omitted one is below 1e-16 of the sum for t <= 9


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


def _discrete_gaussian(variance: Tensor) -> Tensor:
    """Per-image 1-D kernels ``(B, T)`` of the given variances ``(B, 1)``: tap ``n`` is proportional to
    ``I_|n|(t) = sum_k (t/2)^(2k+|n|) / (k! (k+|n|)!)``, built by products only, so it and its
    derivative are finite at ``t = 0`` (where the kernel is the unit impulse)."""
    half_t = variance / 2  # (B, 1)
    leading = torch.ones_like(half_t)  # (t/2)^n / n!
    taps = []
    for n in range(BLUR_KERNEL // 2 + 1):
        if n:
            leading = leading * half_t / n
        term, total = leading, leading
        for k in range(1, _BESSEL_TERMS):
            term = term * half_t * half_t / (k * (k + n))
            total = total + term
        taps.append(total)
    side = torch.cat(taps[1:], dim=1)  # (B, T // 2): I_1 .. I_{T//2}
    kernel = torch.cat([side.flip(1), taps[0], side], dim=1)  # (B, T)
    return kernel / kernel.sum(dim=1, keepdim=True)


def _blur(x: Tensor, m: Tensor, draw: AppearanceDraw) -> Tensor:
    batch, channels, height, width = x.shape
    kernel = _discrete_gaussian((m * draw.blur).reshape(batch, 1)).repeat_interleave(channels, dim=0)  # (B*C, T)
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
