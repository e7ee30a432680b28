"""The parts GenSeg's training methods are composed of (see :mod:`dgen_genseg.pipeline.methods`).

- :class:`Schedule`: the GAN warm-up, then the segmenter's iterations.
- :class:`Updates`: guarded optimiser steps (NaN/Inf raise naming the level and the fix, or are skipped).
- :class:`PairStream`: the real, validation and augmented batches, every draw from seeded CPU generators.
- :class:`SegmenterStep`: one update of the segmenter on real pairs, or on synthetic + γ·real pairs.
- :class:`Pix2PixStep`: the mask-conditioned GAN's discriminator and generator steps, and its samples.
- :class:`MloStep`: one GenSeg MLO iteration over (α, G, S) by a registered solver.
- :class:`WganStep`: the unconditional WGAN-GP pair generator's steps, and its samples.
- :func:`save_parts` / :func:`load_parts`: a method's checkpoint state from its named parts.
- :mod:`.networks`: the networks of a run, built from its options.
- :mod:`.assembly`: the parts of the methods with the pix2pix GAN (genseg, joint, separate), built once in one
  order, what they save and write, and the methods' registered factory (:func:`~.assembly.pix2pix_factory`).

Where each fix of the review acts, once, for every method that uses the part: BatchNorm passes of real
and synthetic images (``seg_batchnorm``: ``SegmenterStep.on_synthetic_and_real`` and GenSeg's ``SegLevel``
both call ``levels.synthetic_plus_real_loss``); augmentation of the discriminator's inputs and of the GAN's
real pairs (``diffaugment``, ``gan_augment``: ``Pix2PixStep.real_pairs`` / ``draw`` / ``discriminator_step`` /
``step``, and ``levels.GenLevel`` for the MLO); a fixed look-ahead step (``lookahead_lr``: the ``seg`` level
built by ``MloStep``); the generator's sampling mode (``sample_mode``: ``Pix2PixStep.synthesize``, ``SegLevel``,
and ``sample_mode.render`` for ``samples.png``); the search space (``networks.make_pix2pix``); the L1 weight
(``Pix2PixStep`` and ``GenLevel``).
"""

from dgen_genseg.pipeline.parts.data import PairStream
from dgen_genseg.pipeline.parts.mlo import MloStep
from dgen_genseg.pipeline.parts.pix2pix import Pix2PixStep
from dgen_genseg.pipeline.parts.schedule import Schedule
from dgen_genseg.pipeline.parts.segmenter import SEG_LOSSES, SegmenterStep
from dgen_genseg.pipeline.parts.state import load_parts, save_parts, state_level
from dgen_genseg.pipeline.parts.updates import LR_OPTIONS, Updates
from dgen_genseg.pipeline.parts.wgan import WganStep

__all__ = [
    "Schedule", "Updates", "LR_OPTIONS", "PairStream", "SegmenterStep", "SEG_LOSSES", "Pix2PixStep", "MloStep",
    "WganStep", "save_parts", "load_parts", "state_level",
]
