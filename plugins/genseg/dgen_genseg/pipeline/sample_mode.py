"""The generator's mode when it makes images for the segmenter (option ``sample_mode``, review finding 3).

In ``train`` mode the pix2pix generator applies dropout (0.5) and normalises with the current batch's
statistics; in ``eval`` mode it is deterministic and uses its running statistics. One mode serves every
place a run's synthetic images come from: the segmenter's data (GenSeg's look-ahead and ordinary update,
``joint``, ``separate``), ``samples.png`` and ``dgen generate``. ``sample_mode=None`` keeps each method's
own mode (``genseg`` and ``joint``: train, as the paper; ``separate``: eval), which a method declares as
``default_sample_mode`` and registers as the ``sample_mode`` of its entry, for ``dgen generate``.
:func:`render` makes pictures and exports in a mode without touching the run's training.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import torch
from torch import Tensor, nn

from dgen_genseg.gan.losses import from_tanh_range, to_tanh_range

__all__ = ["SampleMode", "resolve_sample_mode", "generator_mode", "render", "untouched"]

SampleMode = Literal["train", "eval"]


def resolve_sample_mode(chosen: SampleMode | None, method_default: SampleMode) -> SampleMode:
    """The option ``sample_mode`` if set, else the method's own mode."""
    return method_default if chosen is None else chosen


@contextmanager
def generator_mode(generator: nn.Module, mode: SampleMode) -> Iterator[None]:
    """Within the block ``generator`` is in ``mode``; its previous mode is restored on exit.

    ``nn.Module.training`` is read at every call, so this also holds for ``torch.func.functional_call``
    of ``generator`` (the look-ahead passes of dgen's MLO solvers).
    """
    before = [(m, m.training) for m in generator.modules()]
    generator.train(mode == "train")
    try:
        yield
    finally:
        for module, training in before:
            module.training = training


@torch.no_grad()
def render(generator: nn.Module, masks: Tensor, mode: SampleMode, *, seed: int) -> Tensor:
    """Images ``(B, C, H, W)`` in [0, 1] that ``generator`` makes from ``masks`` ``(B, 1, H, W)`` in ``mode``, for
    pictures and exports: in train mode the dropout is drawn from a generator seeded ``seed``; the generator's
    mode and buffers (BatchNorm running statistics) and the global random state are left as they were, so
    rendering never changes a run's training."""
    with untouched(generator, masks.device), generator_mode(generator, mode):
        torch.manual_seed(seed)
        return from_tanh_range(generator(to_tanh_range(masks)))


@contextmanager
def untouched(module: nn.Module, device: torch.device) -> Iterator[None]:
    """Within the block ``module`` may run in train mode without a trace: its buffers (BatchNorm running statistics)
    and the global random state (CPU, and ``device``'s if CUDA) are restored on exit."""
    buffers = {name: value.clone() for name, value in module.named_buffers()}
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            with torch.no_grad():
                for name, value in module.named_buffers():
                    value.copy_(buffers[name])
