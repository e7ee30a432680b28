"""Checked gradients: unused tensors, NaN/Inf detection and its fast path."""

from __future__ import annotations

import pytest
import torch

from dgen.errors import NumericalError
from dgen.mlo.grads import level_grads
from tests.mlo.chains import FnLevel


def _level(*params: torch.Tensor) -> FnLevel:
    return FnLevel("w", list(params), torch.optim.SGD(list(params), lr=0.1), lambda ctx, batch: torch.zeros(()))


def test_an_unused_tensor_gets_zeros_or_none_when_kept():
    w, unused = torch.ones(3, requires_grad=True), torch.ones(2, requires_grad=True)
    level = _level(w, unused)
    filled = level_grads((2 * w).sum(), [w, unused], level, "test")
    torch.testing.assert_close(filled[1], torch.zeros(2), rtol=0, atol=0)
    kept = level_grads((2 * w).sum(), [w, unused], level, "test", keep_unused=True)
    assert kept[1] is None
    torch.testing.assert_close(kept[0], torch.full((3,), 2.0), rtol=0, atol=0)


def _scaled_gradient(w: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """A finite loss whose gradient with respect to ``w`` is ``scale``."""
    view = w * 1.0
    view.register_hook(lambda grad: grad * scale)
    return view.sum()


def test_finite_gradients_whose_sum_overflows_are_not_reported():
    w = torch.ones(4, requires_grad=True)  # float32: the sum of the four gradients, 1.2e39, is inf
    (grad,) = level_grads(_scaled_gradient(w, torch.full((4,), 3e38)), [w], _level(w), "test")
    torch.testing.assert_close(grad, torch.full((4,), 3e38), rtol=0, atol=0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_nan_or_inf_entry_is_reported_with_the_shape_of_its_tensor(bad):
    w, v = torch.ones(3, requires_grad=True), torch.ones(2, 5, requires_grad=True)
    scale = torch.ones(2, 5)
    scale[1, 3] = bad
    with pytest.raises(NumericalError, match=r"a gradient of level 'w' \(a tensor of shape \(2, 5\)\) has NaN/Inf"):
        level_grads(w.sum() + _scaled_gradient(v, scale), [w, v], _level(w, v), "test")
