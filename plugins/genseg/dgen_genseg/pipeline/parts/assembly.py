"""The parts every method with GenSeg's mask-conditioned GAN is assembled from, built once in one order.

genseg, joint and separate differ in how they *use* these parts (their ``step``), not in how they are
made nor in what they save and write; building them here keeps their construction — and so the order in
which their random streams are created — identical across the three, and :func:`pix2pix_factory` gives
each its registered factory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, final

import torch
from torch import nn

from dgen.task import Task
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.parts.data import PairStream, make_real_augmenter
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs
from dgen_genseg.pipeline.parts.pix2pix import Pix2PixStep
from dgen_genseg.pipeline.parts.schedule import Schedule
from dgen_genseg.pipeline.parts.segmenter import SegmenterStep
from dgen_genseg.pipeline.parts.updates import Updates
from dgen_genseg.pipeline.sample_mode import SampleMode, resolve_sample_mode
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["Pix2PixParts", "Pix2PixMethod", "pix2pix_factory"]

#: samples drawn for ``samples.png``.
_SAMPLES = 8


@final
@dataclass(frozen=True)
class Pix2PixParts:
    """The warm-up schedule, guarded updates, segmenter step, data stream, sampling mode and GAN step of a run.

    Attributes:
        config: the run's options, preset resolved.
        sample_mode: the generator's mode for the segmenter's images (the option, else the method's default).
    """

    config: GenSegConfig
    schedule: Schedule
    updates: Updates
    seg: SegmenterStep
    data: PairStream
    sample_mode: SampleMode
    gan: Pix2PixStep

    @classmethod
    def assemble(
        cls, inputs: Pix2PixInputs, default_sample_mode: SampleMode, *, with_val: bool = False,
        default_real_augmenter: str = "none",
    ) -> Pix2PixParts:
        """The parts for ``inputs``; ``with_val``: the data stream also draws validation batches (GenSeg's α);
        ``default_real_augmenter``: the method's augmenter of the segmenter's real pairs, unless the option is set."""
        config = inputs.config
        schedule = Schedule(config.iterations, config.warmup_iterations)
        updates = Updates(config)
        seg = SegmenterStep(config, inputs.segmenter, inputs.seg_loss, updates)
        data = PairStream(config, inputs.train, val=inputs.val if with_val else None, conditions=inputs.augmenter,
                          real_augmenter=make_real_augmenter(config, default_real_augmenter))
        sample_mode = resolve_sample_mode(config.sample_mode, default_sample_mode)
        gan = Pix2PixStep(config, inputs.generator, inputs.discriminator, updates, inputs.augmenter)
        return cls(config, schedule, updates, seg, data, sample_mode, gan)

    def saved(self) -> dict[str, Any]:
        """The GAN's checkpointed parts (the segmenter's and the data stream's are the trainer's)."""
        return self.gan.saved()

    def networks(self) -> dict[str, nn.Module]:
        """The generator and the discriminator, for the preflight size check."""
        return self.gan.networks()

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        """The GAN's files, with ``samples.png`` from the first training pairs' masks augmented with ``seed``."""
        self.gan.write_artifacts(run_dir, self.data.sample_conditions(_SAMPLES, seed), *self.data.first_pairs(_SAMPLES),
                                 mode=self.sample_mode)


class Pix2PixMethod(Protocol):
    """What :func:`pix2pix_factory` builds: a method class made from its networks, which it assembles into
    :class:`Pix2PixParts` with ``default_sample_mode`` and ``uses_val`` (its data stream draws validation batches)."""

    default_sample_mode: SampleMode
    uses_val: bool

    def __init__(self, inputs: Pix2PixInputs) -> None: ...


M = TypeVar("M", bound=Pix2PixMethod)


def pix2pix_factory(method: type[M]) -> Callable[..., M]:
    """The registered factory of ``method``: its networks (:class:`Pix2PixInputs`), then the method."""

    def build(*, config: GenSegConfig, task: Task, train: PairSampler, val: PairSampler, device: torch.device) -> M:
        return method(Pix2PixInputs.build(config, task, train, val, device))

    build.__doc__ = method.__doc__
    return build
