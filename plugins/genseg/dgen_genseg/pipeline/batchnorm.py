"""Real and synthetic images through the segmenter in separate BatchNorm passes (review finding 4).

In one joint batch ``cat([synthetic, real])`` the segmenter's BatchNorm layers normalise real images
with statistics that are half synthetic, and their running statistics, the ones used at test
time, become half synthetic too. :func:`segment_separately` runs the two halves as two passes
instead: each is normalised with its own batch statistics, and only the real pass updates the
running statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["running_stats_frozen", "segment_separately"]


@contextmanager
def running_stats_frozen(module: nn.Module) -> Iterator[None]:
    """Within the block, every BatchNorm of ``module`` in training mode normalises with batch statistics but
    leaves its running statistics (and ``num_batches_tracked``) untouched; restored on exit.

    It switches ``track_running_stats`` off, which PyTorch reads at every call, so it also holds for
    ``torch.func.functional_call`` of ``module`` (dgen's look-ahead passes).
    """
    changed = [m for m in module.modules() if isinstance(m, _BatchNorm) and m.training and m.track_running_stats]
    for m in changed:
        m.track_running_stats = False
    try:
        yield
    finally:
        for m in changed:
            m.track_running_stats = True


def segment_separately(
    segment: Callable[[Tensor], Tensor], module: nn.Module, real: Tensor, synthetic: Tensor
) -> tuple[Tensor, Tensor]:
    """``(logits of real, logits of synthetic)``, each ``(B, 1, H, W)``, from two passes of ``segment``.

    Args:
        segment: the segmenter, or a call of it in a look-ahead context (``lambda x: ctx.call(seg, x)``).
        module: the segmenter module itself (its BatchNorm layers are found there).
        real: real images ``(B, C, H, W)``; this pass alone updates the running statistics.
        synthetic: synthetic images ``(B', C, H, W)``; normalised with their own batch statistics.
    """
    with running_stats_frozen(module):
        synthetic_logits = segment(synthetic)
    return segment(real), synthetic_logits
