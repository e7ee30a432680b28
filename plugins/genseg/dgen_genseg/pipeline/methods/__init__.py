"""The training methods of the ``genseg`` pipeline: one small final class each, composed of the shared parts
of :mod:`dgen_genseg.pipeline.parts`, registered through the ``register_methods`` hook like any component.

===========  ==============================================================================
classic      :class:`.Supervised` with the augmenter of the same name (``none``: no augmentation)
``separate`` :class:`.Separate`: the GAN first, then frozen; the segmenter on its pairs + real
``wgan``     :class:`.Wgan`: an unconditional WGAN-GP's pairs instead of pix2pix's
``genseg``   :class:`.GenSeg`: the paper's MLO
``joint``    :class:`.Joint`: G, D and S together on GenSeg's data, no hypergradient
``steer``    :class:`.Steer`: the upper loss steers appearance, pair weights, generator and/or α
===========  ==============================================================================
"""

from dgen_genseg.pipeline.methods.genseg import GenSeg
from dgen_genseg.pipeline.methods.joint import Joint
from dgen_genseg.pipeline.methods.lookup import build_trainer, method_entries, method_entry
from dgen_genseg.pipeline.methods.protocol import Method, MethodFactory
from dgen_genseg.pipeline.methods.separate import Separate
from dgen_genseg.pipeline.methods.steer import Steer
from dgen_genseg.pipeline.methods.supervised import CLASSIC, Supervised
from dgen_genseg.pipeline.methods.trainer import MethodTrainer
from dgen_genseg.pipeline.methods.wgan import Wgan

__all__ = [
    "Method", "MethodFactory", "MethodTrainer", "Supervised", "CLASSIC", "Separate", "Wgan", "GenSeg", "Joint", "Steer",
    "build_trainer", "method_entries", "method_entry",
]
