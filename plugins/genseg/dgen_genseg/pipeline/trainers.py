"""One training iteration per method: GenSeg's MLO step, or plain supervised training.

A trainer owns its models and optimisers, performs ``step(iteration)`` and saves or
restores everything it needs to resume (``state_dict`` / ``load_state_dict``).
:func:`make_trainer` builds the networks of a method and their trainer.

Classes: :class:`SupervisedTrainer` (the segmenter alone); :class:`WarmupTrainer` (a GAN trained alone
during the warm-up), whose subclasses are :class:`GanTrainer` (GenSeg's pix2pix, for
:class:`SeparateTrainer` and :class:`GenSegTrainer`) and :class:`WganTrainer` (pairs from noise).

A NaN or Inf loss or gradient raises ``NonFiniteError`` naming the level (``discriminator``,
``gen``, ``seg`` or ``arch``) and the option that fixes it, or, with ``nan_policy="skip"``,
leaves that update out and reports ``skipped = 1``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from dgen.augmenter import Augmenter
from dgen.mlo import Problem
from dgen.mlo.grads import NonFiniteError
from dgen.plugins import create
from dgen.task import Task
from dgen_genseg.gan.discriminator import PatchDiscriminator
from dgen_genseg.gan.losses import discriminator_loss, from_tanh_range, generator_loss, to_tanh_range
from dgen_genseg.gan.wgan import WGAN_GP_BETAS, WganCritic, WganGenerator, critic_loss, to_pairs, wgan_generator_loss
from dgen_genseg.metrics import bce_dice_loss, bce_jaccard_loss
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import ArchLevel, GenLevel, GenSegBatch, SegLevel, SegLoss, synthetic_plus_real_loss
from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.sampler import PairSampler

__all__ = [
    "SupervisedTrainer", "WarmupTrainer", "GanTrainer", "GenSegTrainer", "SeparateTrainer", "WganTrainer", "GAN_METHODS",
    "make_trainer", "state_level", "SEG_LOSSES", "LR_OPTIONS",
]

#: segmentation losses by option value: ``(logits (B, 1, H, W), masks (B, 1, H, W)) -> scalar``
SEG_LOSSES: dict[str, SegLoss] = {
    "bce_dice": bce_dice_loss,
    "bce_jaccard": bce_jaccard_loss,
    "bce": torch.nn.functional.binary_cross_entropy_with_logits,
}
#: the option holding each level's learning rate (the discriminator shares the generator's).
LR_OPTIONS = {"discriminator": "gen_lr", "gen": "gen_lr", "seg": "seg_lr", "arch": "arch_lr"}
_STATE_LEVELS = {
    "segmenter": "seg", "seg_opt": "seg", "generator": "gen", "gen_opt": "gen", "arch_opt": "arch",
    "discriminator": "discriminator", "disc_opt": "discriminator",
    "pair_generator": "gen", "pair_gen_opt": "gen", "critic": "discriminator", "critic_opt": "discriminator",
}


def state_level(path: str) -> str | None:
    """The level owning the entry ``path`` of a trainer's state (``"seg_opt/state/0/exp_avg"`` -> ``"seg"``,
    ``"generator/down.0.conv.alpha"`` -> ``"arch"``), or None for bookkeeping entries."""
    top, _, rest = path.partition("/")
    return "arch" if top == "generator" and rest.endswith(".alpha") else _STATE_LEVELS.get(top)


class SupervisedTrainer:
    """The segmenter alone on real pairs, optionally with classic paired augmentation (baselines)."""

    #: the loss columns of ``log.csv`` (keys of :meth:`step`'s result).
    columns: tuple[str, ...] = ("seg", "skipped")

    def __init__(
        self,
        config: GenSegConfig,
        segmenter: nn.Module,
        seg_loss: SegLoss,
        train: PairSampler,
        augmenter: Augmenter | None,
    ) -> None:
        self.config, self.segmenter, self.seg_loss, self.train = config, segmenter, seg_loss, train
        self.augmenter = augmenter
        self.seg_opt = make_optimizer(
            config.seg_optimizer, segmenter.parameters(), lr=config.seg_lr, weight_decay=config.seg_weight_decay
        )
        self.aug_generator = torch.Generator().manual_seed(config.seed + 2)

    @property
    def total_iterations(self) -> int:
        return self.config.iterations

    @property
    def segmenter_starts(self) -> int:
        """The first iteration that trains the segmenter (validation starts there)."""
        return 0

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.train.sample(self.config.batch_size)
        if self.augmenter is not None:
            masks, images = self.augmenter(masks, images, generator=self.aug_generator)
        self.segmenter.train()
        return self._seg_step(self.seg_loss(self.segmenter(images), masks))

    def _seg_step(self, loss: Tensor) -> dict[str, float]:
        """Update the segmenter on ``loss``; return the log entries ``seg`` and ``skipped``."""
        if not self._update("seg", loss, self.seg_opt):
            return {"seg": math.nan, "skipped": 1.0}
        return {"seg": loss.item(), "skipped": 0.0}

    def nan_advice(self, level: str) -> str:
        """How to avoid NaN/Inf in ``level``: the learning-rate option to lower, or ``nan_policy=skip``."""
        option = LR_OPTIONS[level]
        lr = getattr(self.config, option)
        shared = " (the generator's and the discriminator's)" if option == "gen_lr" else ""
        return (
            f"lower {option}{shared}, now {lr:g}, in a new run (e.g. --set {option}={lr / 10:g}), "
            f"or skip such steps with --set nan_policy=skip"
        )

    def _update(self, level: str, loss: Tensor, optimizer: torch.optim.Optimizer) -> bool:
        """Backpropagate ``loss`` and step ``optimizer`` if the loss and every gradient are finite.

        Returns False (nothing updated) for a NaN/Inf with ``nan_policy="skip"``; raises
        ``NonFiniteError`` naming ``level`` with ``nan_policy="raise"``.
        """
        if not bool(torch.isfinite(loss)):
            return self._nonfinite(level, f"the loss of level '{level}' is {loss.item()}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if grads and not bool(torch.stack([torch.isfinite(g).all() for g in grads]).all()):
            optimizer.zero_grad(set_to_none=True)
            return self._nonfinite(level, f"a gradient of level '{level}' has NaN/Inf entries (its loss is {loss.item():.4g})")
        optimizer.step()
        return True

    def _nonfinite(self, level: str, what: str) -> bool:
        if self.config.nan_policy == "skip":
            return False
        raise NonFiniteError(f"{what}; {self.nan_advice(level)}", level)

    #: the attributes saved in a checkpoint (modules, optimisers, samplers, solvers, ``torch.Generator``s);
    #: subclasses extend it.
    saved: tuple[str, ...] = ("segmenter", "seg_opt", "train", "aug_generator")

    def state_dict(self) -> dict[str, Any]:
        """``{name: state}`` of every attribute in :attr:`saved`."""
        state = {}
        for name in self.saved:
            part = getattr(self, name)
            state[name] = part.get_state() if isinstance(part, torch.Generator) else part.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore every attribute in :attr:`saved` from :meth:`state_dict`'s result."""
        for name in self.saved:
            part = getattr(self, name)
            if isinstance(part, torch.Generator):
                part.set_state(state[name])
            else:
                part.load_state_dict(state[name])


class WarmupTrainer(SupervisedTrainer):
    """The methods with a GAN: its first ``warmup_iterations`` train only the GAN, on the run's own
    training pairs, so that the segmenter does not learn from noise images; the segmenter is neither
    trained nor validated then. ``iterations`` segmenter iterations follow. The real pairs the segmenter
    trains on are augmented by the option ``real_augmenter`` (an augmenter's name; ``none``: as drawn)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Takes the arguments of :class:`SupervisedTrainer`; builds the ``real_augmenter`` here, so that an unknown
        name fails in the run's preflight check."""
        super().__init__(*args, **kwargs)
        name = self.config.real_augmenter
        self.real_augmenter: Augmenter | None = None if name == "none" else create("augmenters", name)

    @property
    def total_iterations(self) -> int:
        return self.config.warmup_iterations + self.config.iterations

    @property
    def segmenter_starts(self) -> int:
        return self.config.warmup_iterations

    def _real_pairs(self, images: Tensor, masks: Tensor) -> tuple[Tensor, Tensor]:
        """The real pairs ``(B, C, H, W)``, ``(B, 1, H, W)`` as the segmenter sees them (``real_augmenter`` applied)."""
        if self.real_augmenter is None:
            return images, masks
        masks, images = self.real_augmenter(masks, images, generator=self.aug_generator)
        return images, masks

    def _synthetic_seg_step(
        self, synthetic: Tensor, synthetic_masks: Tensor, images: Tensor, masks: Tensor
    ) -> dict[str, float]:
        """One segmenter update on synthetic pairs + γ · real pairs (Eq. 2, no MLO); the log entries of :meth:`_seg_step`.

        Args:
            synthetic: generated images ``(B, C, H, W)`` in [0, 1] (no gradient to their generator).
            synthetic_masks: their masks ``(B, 1, H, W)`` in {0, 1}.
            images, masks: a real batch ``(B, C, H, W)``, ``(B, 1, H, W)``.
        """
        self.segmenter.train()
        images, masks = self._real_pairs(images, masks)
        batch = GenSegBatch(images, masks, synthetic_masks, images[:0], masks[:0])
        return self._seg_step(synthetic_plus_real_loss(self.segmenter, self.seg_loss, synthetic, batch, self.config.gamma))


class GanTrainer(WarmupTrainer):
    """What the pix2pix methods share: the generator, the discriminator, their optimisers and steps.

    During the warm-up α stays fixed at uniform.
    """

    saved = (*WarmupTrainer.saved, "generator", "discriminator", "gen_opt", "disc_opt", "val")

    def __init__(
        self,
        config: GenSegConfig,
        segmenter: nn.Module,
        seg_loss: SegLoss,
        train: PairSampler,
        val: PairSampler,
        augmenter: Augmenter,
        generator: nn.Module,
        discriminator: nn.Module,
    ) -> None:
        super().__init__(config, segmenter, seg_loss, train, augmenter)
        self.val, self.generator, self.discriminator = val, generator, discriminator
        c = config
        self.gen_opt = make_optimizer("adam", generator.weight_parameters(), lr=c.gen_lr, weight_decay=c.gen_weight_decay, gan=True)
        self.disc_opt = make_optimizer("adam", discriminator.parameters(), lr=c.gen_lr, weight_decay=c.gen_weight_decay, gan=True)

    def _discriminator_step(self, images: Tensor, masks: Tensor) -> float | None:
        condition = to_tanh_range(masks)  # (B, 1, H, W) in {-1, 1}
        with torch.no_grad():
            fake = self.generator(condition)  # (B, C, H, W) in [-1, 1]
        real_logits = self.discriminator(condition, to_tanh_range(images))
        fake_logits = self.discriminator(condition, fake)
        loss = discriminator_loss(real_logits, fake_logits)
        return loss.item() if self._update("discriminator", loss, self.disc_opt) else None

    def _gan_step(self, images: Tensor, masks: Tensor) -> dict[str, float]:
        """One pix2pix step: the discriminator, then the generator's weights."""
        d_loss = self._discriminator_step(images, masks)
        condition = to_tanh_range(masks)
        fake = self.generator(condition)
        logits = self.discriminator(condition, fake)
        loss = generator_loss(logits, fake, to_tanh_range(images), lambda_l1=self.config.lambda_l1)
        updated = self._update("gen", loss, self.gen_opt)
        return {
            "disc": math.nan if d_loss is None else d_loss, "gen": loss.item() if updated else math.nan,
            "skipped": 0.0 if updated and d_loss is not None else 1.0,
        }


class SeparateTrainer(GanTrainer):
    """The paper's "separate" baseline (Fig. 7): the GAN is trained first (``warmup_iterations``),
    then frozen; the segmenter trains on its synthetic pairs + γ·real pairs, with no MLO."""

    columns = ("disc", "gen", "seg", "skipped")

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.train.sample(self.config.batch_size)
        if iteration < self.config.warmup_iterations:
            self.generator.train(), self.discriminator.train()
            return self._gan_step(images, masks)
        aug_masks, _ = self.augmenter(masks, generator=self.aug_generator)
        self.generator.eval()
        with torch.no_grad():
            synthetic = from_tanh_range(self.generator(to_tanh_range(aug_masks)))  # (B, C, H, W) in [0, 1]
        return self._synthetic_seg_step(synthetic, aug_masks, images, masks)


class GenSegTrainer(GanTrainer):
    """GenSeg: discriminator step, then one MLO iteration over (α, G, S) (paper Eq. 5-8), after the GAN warm-up."""

    columns = ("disc", "gen", "seg", "arch", "arch_grad_norm", "skipped")
    saved = (*GanTrainer.saved, "arch_opt", "solver")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Takes the arguments of :class:`GanTrainer`; adds α's optimiser, the three levels and the solver."""
        super().__init__(*args, **kwargs)
        c, generator, segmenter, seg_loss = self.config, self.generator, self.segmenter, self.seg_loss
        discriminator = self.discriminator
        self.arch_opt = make_optimizer("adam", generator.arch_parameters(), lr=c.arch_lr, weight_decay=c.arch_weight_decay, gan=True)
        self.problem = Problem(
            [
                ArchLevel(
                    "arch", params=generator.arch_parameters(), optimizer=self.arch_opt, lower=("seg",), direct=False,
                    segmenter=segmenter, seg_loss=seg_loss,
                ),
                GenLevel(
                    "gen", params=generator.weight_parameters(), optimizer=self.gen_opt, upper=("arch",),
                    unroll_steps=c.unroll_steps, generator=generator, discriminator=discriminator, lambda_l1=c.lambda_l1,
                ),
                SegLevel(
                    "seg", params=list(segmenter.parameters()), optimizer=self.seg_opt, upper=("gen",),
                    unroll_steps=c.unroll_steps, generator=generator, segmenter=segmenter, seg_loss=seg_loss, gamma=c.gamma,
                ),
            ]
        )
        options: dict[str, Any] = {"nan_policy": c.nan_policy, "reuse_grads": c.reuse_grads}
        if c.solver == "unroll":
            options["backend"] = c.backend
        self.solver = create("solvers", c.solver, problem=self.problem, **options)

    def step(self, iteration: int) -> dict[str, float]:
        images, masks = self.train.sample(self.config.batch_size)
        self.generator.train(), self.discriminator.train(), self.segmenter.train()
        if iteration < self.config.warmup_iterations:
            return self._gan_step(images, masks)
        d_loss = self._discriminator_step(images, masks)
        stats: dict[str, float] = {"disc": math.nan if d_loss is None else d_loss}
        aug_masks, _ = self.augmenter(masks, generator=self.aug_generator)
        val_images, val_masks = self.val.sample(self.config.batch_size)
        try:
            seg_images, seg_masks = self._real_pairs(images, masks)
            batch = GenSegBatch(images, masks, aug_masks, val_images, val_masks, seg_images, seg_masks)
            result = self.solver.step(batch)
        except NonFiniteError as err:  # keep the solver's diagnosis, give the pipeline's fix
            raise NonFiniteError(f"{str(err).split('; ', 1)[0]}; {self.nan_advice(err.level)}", err.level) from err
        for level in ("arch", "gen", "seg"):
            stats[level] = result.get(f"loss/{level}", math.nan)
        stats["arch_grad_norm"] = result.get("hypergrad_norm/arch", math.nan)
        stats["skipped"] = 1.0 if d_loss is None else result.get("skipped", 0.0)
        return stats


class WganTrainer(WarmupTrainer):
    """The paper's WGAN baseline (its ref. 28): an unconditional WGAN-GP generator of image-mask pairs
    is trained first (``warmup_iterations``), then frozen; the segmenter trains on a batch of its pairs
    + γ·real pairs, with no MLO.

    One warm-up iteration is one generator step, preceded by ``n_critic`` critic steps, each on a fresh
    real batch; its log row has the mean critic loss (``disc``) and the generator loss (``gen``). Both
    use Adam with lr ``gen_lr``, weight decay ``gen_weight_decay`` and WGAN-GP's betas (0, 0.9). The
    noise and the penalty's mixing weights come from one seeded CPU generator, saved for resume.
    """

    columns = ("disc", "gen", "seg", "skipped")
    saved = (*WarmupTrainer.saved, "pair_generator", "critic", "pair_gen_opt", "critic_opt", "noise_generator")

    def __init__(
        self,
        config: GenSegConfig,
        segmenter: nn.Module,
        seg_loss: SegLoss,
        train: PairSampler,
        pair_generator: WganGenerator,
        critic: WganCritic,
    ) -> None:
        super().__init__(config, segmenter, seg_loss, train, None)
        self.pair_generator, self.critic = pair_generator, critic
        options = dict(lr=config.gen_lr, betas=WGAN_GP_BETAS, weight_decay=config.gen_weight_decay)
        self.pair_gen_opt = torch.optim.Adam(pair_generator.parameters(), **options)
        self.critic_opt = torch.optim.Adam(critic.parameters(), **options)
        self.noise_generator = torch.Generator().manual_seed(config.seed + 3)

    def step(self, iteration: int) -> dict[str, float]:
        if iteration < self.config.warmup_iterations:
            return self._wgan_step()
        images, masks = self.train.sample(self.config.batch_size)
        self.pair_generator.eval()
        with torch.no_grad():
            synthetic, synthetic_masks = self.pair_generator.sample(self._noise(images.shape[0]))  # (B, C|1, H, W)
        return self._synthetic_seg_step(synthetic, synthetic_masks, images, masks)

    def _noise(self, n: int) -> Tensor:
        return self.pair_generator.noise(n, self.noise_generator)  # (n, nz)

    def _critic_step(self) -> float | None:
        """One critic step on a fresh real batch; its loss, or None if it was skipped (NaN/Inf)."""
        real = to_pairs(*self.train.sample(self.config.batch_size))  # (B, C + 1, H, W) in [-1, 1]
        with torch.no_grad():
            fake = self.pair_generator(self._noise(real.shape[0]))
        eps = torch.rand(real.shape[0], generator=self.noise_generator).to(real.device)  # (B,)
        loss = critic_loss(self.critic, real, fake, eps)
        return loss.item() if self._update("discriminator", loss, self.critic_opt) else None

    def _wgan_step(self) -> dict[str, float]:
        """``n_critic`` critic steps, then one generator step."""
        self.pair_generator.train(), self.critic.train()
        d_losses = [self._critic_step() for _ in range(self.config.n_critic)]
        loss = wgan_generator_loss(self.critic(self.pair_generator(self._noise(self.config.batch_size))))
        updated = self._update("gen", loss, self.pair_gen_opt)
        finite = [d for d in d_losses if d is not None]
        critic_ok = len(finite) == len(d_losses)
        return {
            "disc": sum(finite) / len(finite) if critic_ok else math.nan,
            "gen": loss.item() if updated else math.nan,
            "skipped": 0.0 if updated and critic_ok else 1.0,
        }


def make_trainer(
    config: GenSegConfig, task: Task, train: PairSampler, val: PairSampler, device: torch.device
) -> SupervisedTrainer:
    """Build the networks of ``config.method`` for ``task`` on ``device`` and their trainer.

    ``genseg`` / ``separate``: segmenter, searchable pix2pix generator, PatchGAN discriminator and mask
    augmenter (:class:`GenSegTrainer` / :class:`SeparateTrainer`); ``wgan``: segmenter, pair generator
    (width ``ngf``) and critic (width ``ndf``) (:class:`WganTrainer`); any other method: the segmenter with
    that classic augmenter, or none (:class:`SupervisedTrainer`). ``config`` has its preset resolved.
    """
    segmenter = create(
        "segmenters", config.backbone, in_channels=task.channels, classes=1, img_size=config.image_size,
        **config.backbone_options,
    ).to(device)
    seg_loss = SEG_LOSSES[config.seg_loss]
    if config.method == "wgan":
        size, channels = config.image_size, task.channels + task.mask_channels
        pair_generator = WganGenerator(
            image_channels=task.channels, mask_channels=task.mask_channels, image_size=size, ngf=config.ngf
        ).to(device)
        critic = WganCritic(channels=channels, image_size=size, ndf=config.ndf).to(device)
        return WganTrainer(config, segmenter, seg_loss, train, pair_generator, critic)
    if config.method not in GAN_METHODS:
        augmenter = None if config.method == "none" else create("augmenters", config.method)
        return SupervisedTrainer(config, segmenter, seg_loss, train, augmenter)
    generator = create(
        "generators", "pix2pix", in_channels=task.mask_channels, out_channels=task.channels,
        ngf=config.ngf, num_downs=config.num_downs, max_mult=config.max_mult,
    ).to(device)
    discriminator = PatchDiscriminator(
        condition_channels=task.mask_channels, image_channels=task.channels, ndf=config.ndf
    ).to(device)
    augmenter = create("augmenters", config.augmenter)
    return GAN_METHODS[config.method](config, segmenter, seg_loss, train, val, augmenter, generator, discriminator)


#: the methods that train GenSeg's mask-conditioned pix2pix generator, and their trainers.
GAN_METHODS: dict[str, type[GanTrainer]] = {"genseg": GenSegTrainer, "separate": SeparateTrainer}
