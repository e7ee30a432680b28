"""Separable Gaussian smoothing of a stack of 2-D rows, one sigma per row and axis.

Used by the strong augmenter twice: to smooth the elastic displacement noise (zero padding, as
``scipy.ndimage.gaussian_filter(mode="constant")`` does in batchgenerators) and to blur images
(reflect padding, as batchgeneratorsv2's ``GaussianBlurTransform``). Each axis is one matrix
product: ``blurred = M_y @ rows @ M_x^T`` with ``M`` ``(N, size, size)`` holding the 1-D kernel
(normalised over its ``[-radius, radius]`` taps) shifted along the diagonal, so rows with different
sigmas are smoothed in one batched call on any device.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

__all__ = ["blur_matrices", "gaussian_blur", "kernel_radius"]

Padding = Literal["zeros", "reflect"]


def kernel_radius(sigma: float, truncate: float) -> int:
    """The half-width in pixels of a Gaussian kernel cut at ``truncate`` standard deviations."""
    return max(int(math.ceil(truncate * sigma)), 1)


def blur_matrices(sigma: Tensor, size: int, radius: int, padding: Padding) -> Tensor:
    """1-D Gaussian smoothing operators ``(N, size, size)`` for sigmas ``(N,)``.

    Row ``i`` of a matrix holds the weights of the input pixels that make output pixel ``i``: the
    kernel ``exp(-t² / 2σ²)`` over taps ``t`` in ``[-radius, radius]``, normalised to sum 1, placed at
    ``i + t``. With ``padding="zeros"`` taps that fall outside ``[0, size)`` are dropped (the frame reads
    0); with ``"reflect"`` they are mirrored about the edge pixels (``-1 -> 1``).
    """
    taps = torch.arange(-radius, radius + 1, device=sigma.device, dtype=sigma.dtype)  # (K,)
    kernel = torch.exp(-0.5 * (taps / sigma[:, None]) ** 2)  # (N, K)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    source = torch.arange(size, device=sigma.device)[:, None] + taps.long()  # (size, K) input index of each tap
    if padding == "reflect":
        period = max(2 * (size - 1), 1)
        source = source.remainder(period)
        source = torch.where(source > size - 1, period - source, source)
        weights = kernel[:, None, :].expand(-1, size, -1)  # (N, size, K)
    else:
        inside = (source >= 0) & (source < size)
        weights = kernel[:, None, :] * inside.to(kernel.dtype)  # (N, size, K)
        source = source.clamp(0, size - 1)
    matrices = torch.zeros(sigma.shape[0], size, size, device=sigma.device, dtype=sigma.dtype)
    return matrices.scatter_add_(2, source.expand(sigma.shape[0], -1, -1), weights.contiguous())


def gaussian_blur(rows: Tensor, sigma_y: Tensor, sigma_x: Tensor, *, truncate: float, padding: Padding) -> Tensor:
    """Smooth every row of ``rows`` ``(N, H, W)`` with its own sigmas ``sigma_y``, ``sigma_x`` ``(N,)`` (pixels).

    Kernels are cut at ``truncate`` times the largest sigma of the call. Returns ``(N, H, W)`` in the
    rows' dtype; differentiable with respect to ``rows``.
    """
    height, width = rows.shape[-2:]
    largest = float(torch.cat([sigma_y, sigma_x]).max()) if rows.shape[0] else 1.0
    radius = kernel_radius(largest, truncate)
    along_y = blur_matrices(sigma_y.to(rows.device, rows.dtype), height, radius, padding)  # (N, H, H)
    along_x = blur_matrices(sigma_x.to(rows.device, rows.dtype), width, radius, padding)  # (N, W, W)
    return along_y @ rows @ along_x.transpose(1, 2)
