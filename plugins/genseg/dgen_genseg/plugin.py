"""The ``genseg`` plugin: registers GenSeg's tasks, generators, segmenters, augmenters, pipeline, its methods and
commands."""

from __future__ import annotations

from functools import partial
from typing import Any

from dgen.hookspecs import Register, hookimpl
from dgen_genseg import augment, gan, segmenters
from dgen_genseg.commands import (
    register_data_commands, register_evaluate_command, register_generate_command, register_predict_command,
)
from dgen_genseg.pipeline.genseg import GenSegPipeline
from dgen_genseg.pipeline.methods import CLASSIC, GenSeg, Joint, Separate, Steer, Supervised, Wgan
from dgen_genseg.pipeline.methods.method_options import FILTER_OPTIONS, STEER_OPTIONS
from dgen_genseg.pipeline.parts.assembly import pix2pix_factory
from dgen_genseg.tasks import TASKS


@hookimpl
def register_tasks(register: Register) -> None:
    for name, cls in TASKS.items():
        register(name, cls, tiny={"n_labeled": 5, "image_size": 32, "seed": 0})


@hookimpl
def register_generators(register: Register) -> None:
    tiny = {"ngf": 4, "num_downs": 3, "max_mult": 2, "dropout": 0.0}
    register("pix2pix", gan.Pix2PixGenerator, tiny=tiny,
             description="searchable pix2pix U-Net (paper defaults: 256², ngf 64)")
    register("pix2pix_small", gan.pix2pix_small, tiny=tiny, description="searchable pix2pix U-Net sized for 64² on a CPU")


@hookimpl
def register_segmenters(register: Register) -> None:
    small_cnn = {"encoder": "resnet18", "encoder_depth": 3}
    register("unet", segmenters.make_unet, tiny=small_cnn,
             description="smp U-Net (encoder selectable, no pretrained weights)")
    register("deeplabv3plus", segmenters.make_deeplabv3plus, tiny={"encoder": "resnet18"},
             description="smp DeepLabV3+ (encoder selectable)")
    register("swinunet", segmenters.make_swinunet, tiny={"embed_dim": 12, "depths": (1, 1), "num_heads": (1, 2)},
             description="Swin-Unet (Cao et al.): Swin encoder and decoder")
    register("smp", segmenters.make_smp_from_name, family=True, tiny_member="smp:FPN:resnet18",
             description="any smp model: smp:<Arch>:<encoder>, e.g. smp:FPN:resnet34 or smp:Unet:tu-convnext_atto")


@hookimpl
def register_augmenters(register: Register) -> None:
    for name, factory in {
        "rotate": augment.Rotate, "flip": augment.Flip, "translate": augment.Translate, "scale": augment.Scale,
        "shear": augment.Shear, "crop_pad": augment.CropPad, "combine": augment.combine,
        "strong": augment.strong,
    }.items():
        register(name, factory)


@hookimpl
def register_pipelines(register: Register) -> None:
    register("genseg", GenSegPipeline, description="GenSeg: end-to-end searched mask-to-image GAN + segmenter (MLO)")


#: the method options (``methods/reads.py``) that the pix2pix methods read; genseg also reads ``lookahead_lr``,
#: ``hyper_every``, ``hyper_start`` and ``upper_batch``, steer those and its own.
_GAN_READS = ("real_augmenter", "search_space", "seg_batchnorm", "diffaugment", "gan_augment", "sample_mode")


@hookimpl
def register_methods(register: Register) -> None:
    """The genseg pipeline's methods; ``generator`` says what a method's GAN makes (``dgen generate`` needs
    ``pix2pix``: images from masks), ``sample_mode`` the generator's mode when the option leaves it to the
    method (``dgen generate`` samples in the run's mode) and ``reads`` the method options it reads (a run
    refuses the others, see ``pipeline/methods/reads.py``)."""
    for name, augmenter in CLASSIC.items():
        what = "no augmentation" if augmenter is None else f"the '{augmenter}' augmenter"
        register(name, partial(Supervised.build, augmenter=augmenter), pipeline="genseg", reads=(),
                 description=f"classic supervised training on real pairs with {what}")
    register("separate", pix2pix_factory(Separate), pipeline="genseg", generator="pix2pix",
             reads=(*_GAN_READS, *FILTER_OPTIONS),
             sample_mode=Separate.default_sample_mode,
             description="the GAN first, then frozen; the segmenter on its pairs + real pairs (no MLO)")
    register("wgan", Wgan.build, pipeline="genseg", generator="pairs",
             reads=("real_augmenter", "seg_batchnorm", *FILTER_OPTIONS),
             description="an unconditional WGAN-GP's image-mask pairs (trained first, then frozen) + real pairs")
    register("genseg", pix2pix_factory(GenSeg), pipeline="genseg", generator="pix2pix",
             reads=(*_GAN_READS, "lookahead_lr", "hyper_every", "hyper_start", "upper_batch"),
             sample_mode=GenSeg.default_sample_mode,
             description="GenSeg: generator architecture, generator and segmenter by three-level optimisation")
    register("joint", pix2pix_factory(Joint), pipeline="genseg", generator="pix2pix",
             reads=(*_GAN_READS, *FILTER_OPTIONS),
             sample_mode=Joint.default_sample_mode,
             description="control: G, D and S trained together on GenSeg's data with ordinary gradients, no MLO")
    register("steer", Steer.build, pipeline="genseg", generator="pix2pix", family=True, bare=True,
             reads=(*_GAN_READS, "lookahead_lr", "hyper_every", "hyper_start", "upper_batch", *STEER_OPTIONS),
             sample_mode=Steer.default_sample_mode,
             description="the upper-level loss steers the synthetic data: appearance, geometry, pair weights, generator, "
                         "alpha (--set steer=..., or name them: steer:appearance+weights)")


@hookimpl
def register_commands(app: Any) -> None:
    register_data_commands(app)
    register_generate_command(app)
    register_predict_command(app)
    register_evaluate_command(app)
