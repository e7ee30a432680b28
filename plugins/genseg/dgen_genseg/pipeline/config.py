"""Options of the GenSeg pipeline and its presets.

Every option can be set with ``--set key=value``. Options left at ``None`` are filled
from the preset: ``paper`` (the paper's settings, meant for a GPU), ``cpu`` (small
widths and image size so that a 40-image ISIC run finishes in about 20 minutes on
two CPU cores and still trains every level) or ``auto`` (``paper`` on CUDA, else ``cpu``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Optional

import torch

from dgen.errors import ConfigError
from dgen.ranges import check_ranges
from dgen_genseg.pipeline.option_rules import OPTION_RULES
from dgen_genseg.pipeline.options import check_new_options
from dgen_genseg.pipeline.steer.appearance_option import DEFAULT_APPEARANCE_INITIAL, DEFAULT_APPEARANCE_TRANSFORMS
from dgen_genseg.pipeline.steer.geometry_option import DEFAULT_GEOMETRY_TRANSFORMS
from dgen_genseg.pipeline.steer.variables import DEFAULT_STEER

__all__ = ["GenSegConfig", "PRESETS", "BACKBONE_PRESETS", "resolve_preset"]

Solver = Literal["unroll", "darts", "first_order"]
Optim = Literal["adam", "adamw", "rmsprop", "sgd"]


@dataclass
class GenSegConfig:
    """All options of ``dgen run genseg`` (``None`` = take the preset's value).

    Attributes:
        task: the task, i.e. the data (`dgen list tasks`).
        backbone: the segmenter (`dgen list segmenters`, or `smp:<Arch>:<encoder>`).
        method: a registered method (`dgen list methods`): genseg (end-to-end MLO), joint (G, D, S together, no
            hypergradient), separate (GAN first, then frozen), wgan (pairs from noise), none (real pairs only) or a
            classic paired augmentation (rotate, flip, translate, combine, strong).
        solver: genseg's hypergradient of alpha: unroll (exact), darts (finite differences), first_order (refused).
        preset: where options left at none come from: paper, cpu, or auto (paper on CUDA, else cpu).
        seed: seeds the split, the weights, the batches and the augmentations.
        data_root: datasets folder (else $DGEN_DATA_ROOT, else ./data).
        data_dir: task folder: the folder of your labelled pairs and in-domain test set.
        ood_dirs: task folder: out-of-domain test folders (comma-separated).
        n_labeled: labelled pairs, split 80/20 into train/val.
        image_size: side of the square images every model sees (pixels).
        batch_size: pairs per batch of every level.
        iterations: training iterations after the warm-up.
        warmup_iterations: GAN-only iterations before training the segmenter (separate, wgan: the GAN's whole training).
        val_every: iterations between validations (the best-on-validation segmenter is kept).
        checkpoint_every: iterations between resume checkpoints.
        backbone_options: JSON object passed to the segmenter (`{"encoder": "resnet50"}`), over the preset's
            defaults for the backbone.
        seg_optimizer: the segmenter's optimiser.
        seg_lr: the segmenter's learning rate.
        seg_weight_decay: the segmenter's weight decay.
        seg_plateau_patience: validations without improvement before the segmenter's lr is reduced.
        seg_loss: the segmenter's loss: bce_dice, bce_jaccard (the official ISIC loss) or bce.
        gamma: weight of the real pairs in the segmenter's loss (Eq. 2).
        ngf: generator width (channels of its outermost level; wgan: its pair generator's).
        num_downs: generator depth (down/up levels; image_size must be a multiple of 2^num_downs).
        max_mult: generator channel cap, as a multiple of ngf.
        ndf: discriminator width (wgan: the critic's).
        gen_lr: learning rate of the generator and discriminator (wgan: pair generator and critic).
        gen_weight_decay: weight decay of the generator and discriminator.
        lambda_l1: the pix2pix L1 weight: weight of the L1 term of every generator loss.
        search_space: the generator's searchable cells: paper (three concentric convs, one 8x8 conv for every
            alpha) or functional (conv / separable / dilated candidates with their own nonlinearity).
        diffaugment: DiffAugment policy for the discriminator's inputs: a comma-separated subset of
            color,translation,cutout, or none.
        gan_augment: the GAN's losses use the real batch jointly augmented by `augmenter` (image moved with its mask,
            a fresh draw each iteration) instead of the batch as drawn.
        seg_batchnorm: joint (synthetic and real images in one segmenter batch, the paper) or separate (two
            BatchNorm passes: running statistics from real images only).
        n_critic: wgan: critic steps per generator step (one warm-up iteration).
        augmenter: the mask augmenter making the generator's conditions (`dgen list augmenters`).
        real_augmenter: genseg, joint, separate, wgan, steer: a classic paired augmenter applied to the real pairs
            the segmenter trains on (default: the method's: none, the paper, for all but steer, which uses strong).
        arch_lr: learning rate of alpha, the generator's architecture (0 freezes alpha: the control of the search).
        arch_weight_decay: weight decay of alpha.
        unroll_steps: differentiable steps per lower level (K).
        reuse_grads: reuse the look-ahead gradients for the ordinary updates of G and S.
        backend: unroll's backend: func (torch.func) or higher.
        nan_policy: raise: stop at a NaN/Inf naming the level; skip: skip that iteration.
        lookahead_lr: a fixed learning rate for the segmenter's look-ahead step (none = its current, scheduled lr).
        sample_mode: the generator's mode wherever it makes images for the segmenter, samples.png and dgen generate:
            train (dropout, batch statistics), eval (the measured recommendation) or none (the method's own: genseg
            and joint train, separate and steer eval).
        hyper_every: genseg, steer: compute the hypergradient every this many iterations (the others update the
            levels that have a loss of their own only). none: the method's, genseg 1 (the paper), steer 8 (3 settings x
            3 seeds scored as every iteration does, at 3.5x a strong run instead of 8.4x).
        hyper_start: genseg, steer: MLO iterations (counted from the end of the warm-up) before the first
            hypergradient; until then only ordinary updates (segmenter, GAN). none: the method's, genseg 0 (the paper),
            steer 8 (a fresh segmenter's first hypergradient is 30-2400x the later ones and, kept in Adam's second
            moment, held the steered variables still for the whole run).
        upper_batch: genseg, steer: pairs in each upper-level loss (a validation batch, or a batch of the held-out fold
            with steer_objective=crossfit; capped at that split's size); none = batch_size. More pairs make a less
            noisy hypergradient (benchmarks/hypergrad_noise.py measures it).
        steer: method steer: the variables the upper-level loss steers, comma-separated: appearance (a learnable
            photometric augmentation of the synthetic images), geometry (a learnable random rotation, zoom and shift
            of the synthetic pairs, image and mask together), weights (a learned weight per synthetic pair of a
            pool), weightnet (the pool's pairs weighed by a small network of their features: the segmenter's
            loss on the pair and the mask's area; not with weights), generator (the generator's weights: GAN loss +
            steer_beta x the upper loss), arch (alpha).
        steer_objective: method steer: the upper-level loss on the validation pairs (val) or on a rotating
            held-out fold of the training pairs (crossfit; validation then only selects the model).
        steer_beta: method steer: weight of the upper-level loss in the generator's loss (steer=generator).
        appearance_lr: method steer: learning rate of the appearance magnitudes (steer=appearance).
        appearance_transforms: method steer: the transforms of the learnable appearance, comma-separated, of
            brightness, contrast, gamma, bias_field, noise, blur (steer=appearance); blur only when named (with it the
            seed-0 screen lost on validation).
        appearance_on: method steer: the images the learnable appearance augments, comma-separated: synthetic (the
            generator's) and/or real (the real pairs the segmenter trains on, after real_augmenter; a second draw).
        appearance_initial: method steer: each appearance magnitude starts at this fraction of its maximum
            (steer=appearance; 0.1: a mild augmentation the hypergradient moves 0.6-1.3x in a cpu run).
        geometry_lr: method steer: learning rate of the geometry magnitudes (steer=geometry).
        geometry_transforms: method steer: the warps of the learnable geometry, comma-separated, of rotate, scale,
            translate (steer=geometry).
        geometry_on: method steer: what the learnable geometry warps: pairs (the rendered image and its mask; the
            image is resampled, which smooths it) or conditions (the mask, before the generator renders its image:
            the generator then runs inside the upper-level loss).
        weights_lr: method steer: learning rate of the synthetic pairs' weight logits (steer=weights) or of the
            weighting network (steer=weightnet).
        weightnet_norm: method steer with steer=weightnet: none (the network's weights as they are: together they can
            scale the synthetic loss) or batch (divided by their mean over the batch, Meta-Weight-Net's
            normalisation: they only re-rank the batch's pairs).
        pool_size: method steer: synthetic pairs (augmented training masks) in the weighted pool.
        pool_refresh: method steer: iterations between refills of the pool (each pair's own weight starts again at
            1; a weighting network is kept).
        crossfit_folds: method steer with steer_objective=crossfit: folds of the training pairs.
        crossfit_every: method steer with steer_objective=crossfit: iterations before the held-out fold rotates.
        synthetic_filter: joint, separate, wgan: the fraction of each iteration's synthetic pairs, those the segmenter
            fits worst (synthetic_filter_drop) by its loss on each (eval mode, before the update), left out of its loss
            (after FreeMask; a fixed rule on the feature steer=weightnet learns from). 0: every pair counts (the paper).
        synthetic_filter_drop: joint, separate, wgan with synthetic_filter > 0: which pairs it leaves out: worst (the
            worst-fitted, FreeMask's filter) or best (the best-fitted: training on the hard pairs only).
        keep_checkpoint: keep the resume checkpoint after the run finishes (may change on --resume).
        log_every: without a terminal (Slurm, CI, nohup): a plain progress line every this many iterations.
    """

    task: str = "shapes"
    backbone: str = "unet"
    method: str = "genseg"  # a registered method of this pipeline: `dgen list methods`
    solver: Solver = "unroll"
    preset: Literal["auto", "paper", "cpu"] = "auto"
    seed: int = 0
    # data
    data_root: Optional[Path] = None
    data_dir: Optional[Path] = None
    ood_dirs: tuple[Path, ...] = ()
    n_labeled: int = 40
    image_size: Optional[int] = None
    batch_size: Optional[int] = None
    # schedule
    iterations: Optional[int] = None
    warmup_iterations: Optional[int] = None
    val_every: Optional[int] = None
    checkpoint_every: Optional[int] = None
    keep_checkpoint: bool = False  # keep checkpoint.safetensors after the run finishes
    log_every: int = 50  # without a terminal (Slurm, CI, nohup): a plain progress line every this many iterations
    # segmenter
    backbone_options: dict[str, Any] = field(default_factory=dict)
    seg_optimizer: Optional[Optim] = None
    seg_lr: Optional[float] = None
    seg_weight_decay: Optional[float] = None
    seg_plateau_patience: Optional[int] = None
    seg_loss: Literal["bce_dice", "bce_jaccard", "bce"] = "bce_dice"
    gamma: float = 1.0
    seg_batchnorm: Literal["joint", "separate"] = "joint"  # separate: real and synthetic in separate BatchNorm passes
    # generator / discriminator
    ngf: Optional[int] = None
    num_downs: Optional[int] = None
    max_mult: Optional[int] = None
    ndf: Optional[int] = None
    gen_lr: Optional[float] = None
    gen_weight_decay: Optional[float] = None
    lambda_l1: float = 100.0  # the pix2pix L1 weight
    search_space: Literal["paper", "functional"] = "paper"  # the generator's searchable cells
    diffaugment: str = "none"  # DiffAugment policy of the discriminator's inputs, e.g. "color,translation,cutout"
    gan_augment: bool = False  # the GAN's losses use the real batch jointly augmented by `augmenter`
    n_critic: int = 5  # method wgan: critic steps per generator step
    augmenter: str = "combine"
    real_augmenter: Optional[str] = None  # None: the method's (none; steer: strong)
    # architecture (alpha)
    arch_lr: Optional[float] = None
    arch_weight_decay: Optional[float] = None
    # MLO solver options
    unroll_steps: int = 1
    reuse_grads: bool = True
    backend: Literal["func", "higher"] = "func"
    nan_policy: Literal["raise", "skip"] = "raise"
    lookahead_lr: Optional[float] = None  # fixed lr of the segmenter's look-ahead step; None: its current lr
    sample_mode: Optional[Literal["train", "eval"]] = None  # the generator's mode for synthetic images; None: the method's
    hyper_every: Optional[int] = None  # genseg, steer: a hypergradient every this many iterations; None: the method's
    hyper_start: Optional[int] = None  # genseg, steer: MLO iterations before the first hypergradient; None: the method's
    upper_batch: Optional[int] = None  # genseg, steer: pairs in each upper-level loss; None: batch_size
    # steer (method steer)
    steer: str = DEFAULT_STEER  # what the upper-level loss steers: appearance, geometry, weights|weightnet, generator, arch
    steer_objective: Literal["val", "crossfit"] = "val"
    steer_beta: float = 1.0
    appearance_lr: float = 0.01
    appearance_transforms: str = DEFAULT_APPEARANCE_TRANSFORMS  # steer=appearance: its transforms, comma-separated
    appearance_on: str = "synthetic"  # steer=appearance: the images it augments: synthetic and/or real
    appearance_initial: float = DEFAULT_APPEARANCE_INITIAL  # steer=appearance: magnitudes start at this x their maximum
    geometry_lr: float = 0.01
    geometry_transforms: str = DEFAULT_GEOMETRY_TRANSFORMS  # steer=geometry: its warps, comma-separated
    geometry_on: Literal["pairs", "conditions"] = "pairs"  # steer=geometry: warp the rendered pairs or the conditions
    weights_lr: float = 0.01
    weightnet_norm: Literal["none", "batch"] = "none"  # steer=weightnet: free weights, or of mean 1 over the batch
    pool_size: int = 64
    pool_refresh: int = 200
    crossfit_folds: int = 4
    crossfit_every: int = 50
    # a fixed filter of the synthetic pairs (joint, separate, wgan)
    synthetic_filter: float = 0.0  # fraction of each synthetic batch left out of the loss (which: synthetic_filter_drop)
    synthetic_filter_drop: Literal["worst", "best"] = "worst"  # which end of the ranking the filter leaves out

    #: options that only change what a run writes or shows: a resumed run may change them.
    may_change_on_resume: ClassVar[tuple[str, ...]] = ("keep_checkpoint", "log_every")

    def __post_init__(self) -> None:
        check_ranges(self, OPTION_RULES)
        check_new_options(self)


#: preset values for every option left at None.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": dict(
        image_size=256, batch_size=2, iterations=5000, warmup_iterations=1600, val_every=50, checkpoint_every=250,
        seg_optimizer="rmsprop", seg_lr=1e-5, seg_weight_decay=1e-3, seg_plateau_patience=2,
        ngf=64, num_downs=8, max_mult=8, ndf=64,
        gen_lr=1e-5, gen_weight_decay=1e-3, arch_lr=1e-4, arch_weight_decay=1e-5,
    ),
    "cpu": dict(
        image_size=64, batch_size=4, iterations=1000, warmup_iterations=200, val_every=25, checkpoint_every=50,
        seg_optimizer="adam", seg_lr=1e-3, seg_weight_decay=0.0, seg_plateau_patience=4,
        ngf=8, num_downs=6, max_mult=4, ndf=8,
        gen_lr=2e-4, gen_weight_decay=0.0, arch_lr=3e-3, arch_weight_decay=1e-5,
    ),
}

#: default segmenter options per preset and backbone (merged under the user's backbone_options).
BACKBONE_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {"unet": {"encoder": "resnet34"}, "deeplabv3plus": {"encoder": "resnet34"}},
    "cpu": {
        "unet": {"encoder": "resnet18", "encoder_depth": 4},
        "deeplabv3plus": {"encoder": "resnet18"},
        "swinunet": {"embed_dim": 24, "depths": (2, 2, 2), "num_heads": (2, 4, 8)},
    },
}


def resolve_preset(config: GenSegConfig, device: torch.device) -> tuple[GenSegConfig, str]:
    """Fill every ``None`` option from the preset; return the filled config and the preset's name."""
    name = config.preset if config.preset != "auto" else ("paper" if device.type == "cuda" else "cpu")
    values = {k: v for k, v in PRESETS[name].items() if getattr(config, k) is None}
    options = {**BACKBONE_PRESETS[name].get(config.backbone, {}), **config.backbone_options}
    return dataclasses.replace(config, **values, backbone_options=options), name
