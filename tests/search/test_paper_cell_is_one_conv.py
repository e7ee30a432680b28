"""Review finding 1: the paper's searched cell is a reparameterisation of ONE 8x8 (transposed) convolution.

``MixedOp`` over Conv(4,2,1), Conv(6,2,2), Conv(8,2,3) (and the ConvT twins) has no nonlinearity
inside the cell and the three kernels are centred on the same output pixel (``k / 2 - p = 1`` for
each), so ``sum_i softmax(alpha)_i * conv_i(x)`` equals one convolution with kernel
``sum_i softmax(alpha)_i * pad(W_i)`` (each W_i zero-padded to 8x8) and bias ``sum_i softmax(alpha)_i b_i``.
alpha therefore cannot change what the generator can represent; it only rescales sub-kernels.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dgen.search import Choice, Conv, ConvT, MixedOp

PAPER_DOWN = Choice([Conv(4, 2, 1), Conv(6, 2, 2), Conv(8, 2, 3)])
PAPER_UP = Choice([ConvT(4, 2, 1), ConvT(6, 2, 2), ConvT(8, 2, 3)])


def equivalent_kernel(mixed: MixedOp) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``(weight, bias, padding)`` of the single conv equal to ``mixed``: each candidate's kernel zero-padded
    (centred) to the largest size, weighted by ``softmax(alpha)`` and summed; padding = the largest's."""
    w = mixed.weights()  # (n,)
    size = max(spec.k for spec in mixed.specs)
    kernel = 0.0
    bias = 0.0
    for wi, spec, op in zip(w, mixed.specs, mixed.ops):
        assert spec.k // 2 - spec.p == 1  # the same centre offset for every candidate: concentric supports
        margin = (size - spec.k) // 2
        kernel = kernel + wi * F.pad(op.weight, (margin, margin, margin, margin))  # (out, in, 8, 8) or (in, out, 8, 8)
        bias = bias + wi * op.bias
    padding = next(spec.p for spec in mixed.specs if spec.k == size)
    return kernel, bias, padding


@pytest.mark.parametrize("choice, transposed", [(PAPER_DOWN, False), (PAPER_UP, True)])
def test_paper_cell_equals_one_8x8_convolution(choice: Choice, transposed: bool) -> None:
    torch.manual_seed(0)
    mixed = choice.build(in_ch=3, out_ch=5).double()
    with torch.no_grad():
        mixed.alpha.copy_(torch.tensor([0.7, -1.3, 0.4], dtype=torch.float64))
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)  # (B, C, H, W)
    kernel, bias, padding = equivalent_kernel(mixed)
    assert kernel.shape[-2:] == (8, 8)
    if transposed:
        single = F.conv_transpose2d(x, kernel, bias, stride=2, padding=padding)  # (2, 5, 32, 32)
    else:
        single = F.conv2d(x, kernel, bias, stride=2, padding=padding)  # (2, 5, 8, 8)
    mixed_out = mixed(x)
    assert single.shape == mixed_out.shape
    torch.testing.assert_close(single, mixed_out, rtol=0, atol=1e-12)


def test_equivalence_is_sensitive() -> None:
    """The tolerance above is meaningful: the kernel built for other alphas, or with an off-centre pad, differs."""
    torch.manual_seed(0)
    mixed = PAPER_DOWN.build(in_ch=3, out_ch=5).double()
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    kernel, bias, padding = equivalent_kernel(mixed)  # alpha = 0: uniform
    with torch.no_grad():
        mixed.alpha.copy_(torch.tensor([2.0, 0.0, -2.0], dtype=torch.float64))
    assert (F.conv2d(x, kernel, bias, stride=2, padding=padding) - mixed(x)).abs().max() > 1e-3
    kernel, bias, padding = equivalent_kernel(mixed)
    shifted = torch.roll(kernel, shifts=1, dims=-1)  # every sub-kernel one pixel off centre
    assert (F.conv2d(x, shifted, bias, stride=2, padding=padding) - mixed(x)).abs().max() > 1e-3
