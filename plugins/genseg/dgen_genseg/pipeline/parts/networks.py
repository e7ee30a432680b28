"""The networks of a GenSeg run, built from its options on a device (the order of construction fixes
which random numbers initialise which weights: segmenter first, then the GAN)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dgen.augmenter import Augmenter
from dgen.plugins import create
from dgen.task import Task
from dgen_genseg.gan.discriminator import PatchDiscriminator
from dgen_genseg.gan.wgan import WganCritic, WganGenerator
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import SegLoss
from dgen_genseg.pipeline.parts.segmenter import SEG_LOSSES
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = ["make_segmenter", "make_pix2pix", "make_wgan", "Pix2PixInputs"]


def make_segmenter(config: GenSegConfig, task: Task, device: torch.device) -> nn.Module:
    """The segmenter ``backbone`` (with ``backbone_options``): images ``(B, C, S, S)`` -> logits ``(B, 1, S, S)``."""
    return create(
        "segmenters", config.backbone, in_channels=task.channels, classes=1, img_size=config.image_size,
        **config.backbone_options,
    ).to(device)


def make_pix2pix(config: GenSegConfig, task: Task, device: torch.device) -> tuple[nn.Module, nn.Module]:
    """GenSeg's searchable pix2pix generator (``ngf``, ``num_downs``, ``max_mult``, cells of ``search_space``),
    masks -> images, and its PatchGAN discriminator (``ndf``) of mask-image pairs."""
    generator = create(
        "generators", "pix2pix", in_channels=task.mask_channels, out_channels=task.channels,
        ngf=config.ngf, num_downs=config.num_downs, max_mult=config.max_mult, search_space=config.search_space,
    ).to(device)
    discriminator = PatchDiscriminator(
        condition_channels=task.mask_channels, image_channels=task.channels, ndf=config.ndf
    ).to(device)
    return generator, discriminator


def make_wgan(config: GenSegConfig, task: Task, device: torch.device) -> tuple[WganGenerator, WganCritic]:
    """The WGAN baseline's pair generator (width ``ngf``) and critic (width ``ndf``) at ``image_size``."""
    size, channels = config.image_size, task.channels + task.mask_channels
    pair_generator = WganGenerator(
        image_channels=task.channels, mask_channels=task.mask_channels, image_size=size, ngf=config.ngf
    ).to(device)
    critic = WganCritic(channels=channels, image_size=size, ndf=config.ndf).to(device)
    return pair_generator, critic


@dataclass(frozen=True)
class Pix2PixInputs:
    """What a method with GenSeg's mask-conditioned GAN is built from.

    Attributes:
        config: the run's options, preset resolved.
        segmenter: images ``(B, C, S, S)`` -> logits ``(B, 1, S, S)``.
        seg_loss: ``(logits, masks) -> scalar``.
        train, val: the training and validation pairs.
        augmenter: the mask augmenter that makes the generator's conditions (option ``augmenter``).
        generator: the searchable pix2pix generator, masks -> images in [-1, 1].
        discriminator: the PatchGAN discriminator of mask-image pairs.
    """

    config: GenSegConfig
    segmenter: nn.Module
    seg_loss: SegLoss
    train: PairSampler
    val: PairSampler
    augmenter: Augmenter
    generator: nn.Module
    discriminator: nn.Module

    @classmethod
    def build(
        cls, config: GenSegConfig, task: Task, train: PairSampler, val: PairSampler, device: torch.device
    ) -> Pix2PixInputs:
        """The segmenter, the GAN and the mask augmenter of ``config`` for ``task`` on ``device``."""
        segmenter = make_segmenter(config, task, device)
        generator, discriminator = make_pix2pix(config, task, device)
        augmenter = create("augmenters", config.augmenter)
        return cls(config, segmenter, SEG_LOSSES[config.seg_loss], train, val, augmenter, generator, discriminator)
