"""The parts every method with GenSeg's mask-conditioned GAN is assembled from, built once in one order.

genseg, joint and separate differ in how they *use* these parts (their ``step``), not in how they are
made; building them here keeps their construction — and so the order in which their random streams are
created — identical across the three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from dgen_genseg.pipeline.parts.data import PairStream, make_real_augmenter
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs
from dgen_genseg.pipeline.parts.pix2pix import Pix2PixStep
from dgen_genseg.pipeline.parts.schedule import Schedule
from dgen_genseg.pipeline.parts.segmenter import SegmenterStep
from dgen_genseg.pipeline.parts.updates import Updates
from dgen_genseg.pipeline.sample_mode import SampleMode, resolve_sample_mode

__all__ = ["Pix2PixParts"]


@final
@dataclass(frozen=True)
class Pix2PixParts:
    """The warm-up schedule, guarded updates, segmenter step, data stream, sampling mode and GAN step of a run.

    Attributes:
        sample_mode: the generator's mode for the segmenter's images (the option, else the method's default).
    """

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
        return cls(schedule, updates, seg, data, sample_mode, gan)
