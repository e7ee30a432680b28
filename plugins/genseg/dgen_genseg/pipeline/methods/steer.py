"""``steer``: the upper-level loss steers what shapes the synthetic data (issue "steer what shapes the data").

GenSeg's only steered variable, α, cannot change the images (its cell is one convolution, docs/genseg.md).
Here the upper-level loss (the look-ahead segmenter's loss on validation pairs, or on a held-out fold) reaches
what the segmenter's synthetic data looks like: a learnable photometric augmentation of the synthetic images
(``appearance``), a learnable random warp of the synthetic pairs (``geometry``), a learned weight per synthetic
pair of a pool (``weights``) or a small network's weight of each pair's features (``weightnet``), the
generator's weights (``generator``: GAN loss + ``steer_beta`` x the upper loss)
and α (``arch``), chosen with ``--set steer=...``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional, final

import torch
from torch import Tensor, nn

from dgen.errors import ConfigError
from dgen.mlo import Context
from dgen.steer import LearnableAppearance, LearnableGeometry
from dgen.task import Task
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import GenSegBatch
from dgen_genseg.pipeline.parts.assembly import Pix2PixParts
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs
from dgen_genseg.pipeline.sample_mode import SampleMode, untouched
from dgen_genseg.pipeline.sampler import PairSampler
from dgen_genseg.pipeline.steer.appearance_option import (DEFAULT_APPEARANCE_INITIAL, DEFAULT_APPEARANCE_TRANSFORMS,
                                                          parse_appearance_on, parse_appearance_transforms)
from dgen_genseg.pipeline.steer.crossfit import CrossFit, check_folds
from dgen_genseg.pipeline.steer.geometry_option import DEFAULT_GEOMETRY_TRANSFORMS, parse_geometry_transforms
from dgen_genseg.pipeline.steer.levels import SteerBatch, Synthesis
from dgen_genseg.pipeline.steer.pair_features import pair_features
from dgen_genseg.pipeline.steer.pictures import write_steer_pictures
from dgen_genseg.pipeline.steer.pool import SyntheticPool
from dgen_genseg.pipeline.steer.step import SteerStep
from dgen_genseg.pipeline.steer.variables import steer_variables

__all__ = ["Steer"]


@final
class Steer:
    """For ``warmup_iterations`` one pix2pix step; then, each iteration:

    1. the GAN: with ``steer=generator`` a discriminator step (the generator is a level of the MLO), else one
       ordinary pix2pix step (discriminator, then generator);
    2. the conditions: ``b`` pairs of the weighted pool (``steer=weights`` or ``weightnet``; refilled every
       ``pool_refresh`` iterations) or the real batch's masks augmented; with ``weightnet``, the pairs' features
       (:mod:`~dgen_genseg.pipeline.steer.pair_features`) from the segmenter before the look-ahead; the synthetic images are the generator's (in
       ``sample_mode``, default eval) through the learnable appearance (``steer=appearance``, one draw per
       iteration), image and mask then warped by the learnable geometry (``steer=geometry``, one draw per
       iteration; ``geometry_on=conditions`` warps the mask before the generator renders the image);
    3. one MLO iteration (:class:`~dgen_genseg.pipeline.steer.step.SteerStep`) whose upper loss is on a
       validation batch, or on the held-out fold (``steer_objective=crossfit``).

    The real pairs the segmenter trains on get the ``strong`` classic augmentation unless ``real_augmenter``
    says otherwise. Log columns add the appearance and geometry magnitudes (``app_<transform>``, ``geo_<transform>``)
    and the pool's weights (``w_min``, ``w_mean``, ``w_max``: the whole pool's after the iteration's update with
    ``weights``, the batch's before it with ``weightnet``); the run directory adds the learned variables and their pictures
    (:mod:`~dgen_genseg.pipeline.steer.saved`, :mod:`~dgen_genseg.pipeline.steer.pictures`).
    """

    default_sample_mode: SampleMode = "eval"

    def __init__(self, inputs: Pix2PixInputs, variables: tuple[str, ...]) -> None:
        config = inputs.config
        self.config, self.variables = config, variables
        self.solver_name: str | None = config.solver
        parts = Pix2PixParts.assemble(inputs, self.default_sample_mode, with_val=config.steer_objective == "val",
                                      default_real_augmenter="strong")
        self.schedule, self.updates, self.seg, self.data = parts.schedule, parts.updates, parts.seg, parts.data
        self.sample_mode, self.gan, self.augmenter = parts.sample_mode, parts.gan, inputs.augmenter
        device = inputs.train.images.device
        self.appearance: Optional[LearnableAppearance] = None
        self.app_generator = torch.Generator().manual_seed(config.seed + 8)
        self.appearance_on: tuple[str, ...] = ()
        if "appearance" in self.variables:
            self.appearance = LearnableAppearance(parse_appearance_transforms(config.appearance_transforms),
                                                  initial=config.appearance_initial).to(device)
            self.appearance_on = parse_appearance_on(config.appearance_on)
        self.geometry: Optional[LearnableGeometry] = None
        self.geo_generator = torch.Generator().manual_seed(config.seed + 12)
        if "geometry" in self.variables:
            self.geometry = LearnableGeometry(parse_geometry_transforms(config.geometry_transforms)).to(device)
        _refuse_unsteered_options(config, variables)
        self.pool: Optional[SyntheticPool] = None
        if "weights" in self.variables or "weightnet" in self.variables:
            self.pool = SyntheticPool(config.pool_size, config.pool_refresh, tuple(inputs.train.masks.shape[1:]),
                                      seed=config.seed + 6, device=device,
                                      by="pair" if "weights" in self.variables else "net",
                                      normalize=config.weightnet_norm == "batch")
        self.batch_weights: Optional[Tensor] = None  # the last batch's weights (weightnet), for the log
        self.crossfit: Optional[CrossFit] = None
        if config.steer_objective == "crossfit":
            self.crossfit = CrossFit(inputs.train, config.crossfit_folds, config.crossfit_every, seed=config.seed + 10)
        #: the generator renders inside the loss (with gradient) when something steered acts inside it
        #: (the geometry too when it warps the conditions the generator renders from)
        self.in_generator = ("generator" in self.variables or "arch" in self.variables
                             or (self.geometry is not None and config.geometry_on == "conditions"))
        self.synthesis = Synthesis(self.gan.generator, self.appearance, self.sample_mode, self.geometry,
                                   config.geometry_on)
        self.mlo = SteerStep(config, self.variables, self.gan, self.seg, self.updates, self.synthesis, self.pool)
        transforms = self.appearance.transforms if self.appearance is not None else ()
        warps = self.geometry.transforms if self.geometry is not None else ()
        self.columns = tuple(dict.fromkeys((
            "disc", "gen", *self.mlo.columns, *(f"app_{name}" for name in transforms),
            *(f"geo_{name}" for name in warps),
            *(("w_min", "w_mean", "w_max") if self.pool is not None else ()), "skipped",
        )))

    @classmethod
    def build(
        cls, name: str, *, config: GenSegConfig, task: Task, train: PairSampler, val: PairSampler,
        device: torch.device,
    ) -> Steer:
        """``name``: ``steer`` (the variables of the option ``steer``) or a member naming them, ``steer:weights+arch``."""
        return cls(Pix2PixInputs.build(config, task, train, val, device), steer_variables(name, config.steer))

    def check_split(self, sizes: dict[str, int]) -> None:
        """Before data loads: with ``steer_objective=crossfit`` the training split must fill every fold.

        Raises:
            ConfigError: too few training pairs for ``crossfit_folds``.
        """
        if self.crossfit is not None:
            check_folds(sizes["train"], self.config.crossfit_folds)

    def step(self, iteration: int) -> dict[str, float]:
        self.gan.train_mode(), self.seg.segmenter.train()
        if self.schedule.in_warmup(iteration):
            return self.gan.step(*self.data.real())
        k = iteration - self.schedule.segmenter_starts  # 0 at the first steered iteration
        images, masks = self._real(k)
        gan_pairs: tuple[Any, ...] = (None, None, None)
        if "generator" in self.variables:
            gan_pairs = self._gan_pairs(images, masks)
            d_loss = self.gan.discriminator_step(*gan_pairs)
            gan = {"disc": math.nan if d_loss is None else d_loss, "skipped": float(d_loss is None)}
        else:
            gan = self.gan.step(images, masks)
        if self.pool is not None and self.pool.due(k):
            self.pool.refill(self.data.train.masks, self.augmenter)
            if self.pool.per_pair:
                self.mlo.forget(self.pool.weights.parameters())
        stats = self.mlo.step(self._batch(k, images, masks, gan_pairs))
        return {**gan, **stats, **self._variables(), "skipped": max(gan["skipped"], stats["skipped"])}

    def sample_batch(self, iteration: int) -> SteerBatch:
        """A fresh iteration's data at ``iteration`` (after the warm-up) as :meth:`step` draws it (real, upper
        and GAN pairs, conditions, appearance and geometry draws), without a GAN step, and from the current pool (never
        refilled here): what measuring the hypergradient's noise at fixed variables needs
        (``benchmarks/hypergrad_noise.py``). It advances the random streams and, with ``sample_mode=train``,
        the generator's BatchNorm statistics; no learned variable or optimiser state changes.

        Raises:
            ConfigError: no steered iteration has run yet (the pool would be empty).
        """
        k = iteration - self.schedule.segmenter_starts
        if k < 0 or self.mlo.solver.iteration == 0:
            raise ConfigError(f"iteration {iteration} has no steer batch: sample after the first steered iteration "
                              f"({self.schedule.segmenter_starts}) has run; its step fills the pool.")
        images, masks = self._real(k)
        gan_pairs = self._gan_pairs(images, masks) if "generator" in self.variables else (None, None, None)
        return self._batch(k, images, masks, gan_pairs)

    def _real(self, k: int) -> tuple[Tensor, Tensor]:
        """The real pairs of steered iteration ``k``: the training split's, or the current fold's."""
        return self.crossfit.real(k, self.data.batch_size) if self.crossfit is not None else self.data.real()

    def _gan_pairs(self, images: Tensor, masks: Tensor) -> tuple[Tensor, Tensor, Any]:
        """The GAN's real pairs and one DiffAugment draw, shared by D's step and G's loss (``steer=generator``)."""
        gan_images, gan_masks = self.gan.real_pairs(images, masks)
        return gan_images, gan_masks, self.gan.draw(gan_images)

    def _batch(self, k: int, images: Tensor, masks: Tensor, gan_pairs: tuple[Any, ...]) -> SteerBatch:
        """The MLO's data of steered iteration ``k`` given its real pairs ``(B, C, H, W)``, ``(B, 1, H, W)``."""
        index = None
        if self.pool is not None:
            index = self.pool.draw(masks.shape[0])
            conditions = self.pool.masks[index]
        else:
            conditions = self.data.augmented_masks(masks)
        size = self.config.upper_batch
        if self.crossfit is not None:
            upper = self.crossfit.upper(k, self.data.batch_size if size is None else size)
        else:
            upper = self.data.validation(size)
        seg_images, seg_masks = self.data.augmented_real(images, masks)
        rendered = None if self.in_generator else self.gan.synthesize(conditions, mode=self.sample_mode)
        self.gan.train_mode()
        pairs = GenSegBatch(images, masks, conditions, *upper, seg_images, seg_masks, *gan_pairs)
        real = pairs.real_pairs()[0]  # (B, C, H, W): the segmenter's real images
        draws = {}  # drawn on the CPU (where the generators live), then moved to the data's device
        for target, like in (("synthetic", conditions), ("real", real)):  # synthetic first: its stream as before
            if self.appearance is not None and target in self.appearance_on:
                draws[target] = self.appearance.draw(like.shape[0], real.shape[1], *like.shape[-2:],
                                                     generator=self.app_generator, dtype=real.dtype).to(real.device)
        warp = None
        if self.geometry is not None:
            warp = self.geometry.draw(conditions.shape[0], generator=self.geo_generator, dtype=real.dtype)
            warp = warp.to(real.device)
        batch = SteerBatch(pairs, index, rendered, draws.get("synthetic"), draws.get("real"), warp)
        if self.pool is None or self.pool.per_pair:
            return batch
        # the pairs as the loss sees them; a generator rendering here (in train mode) leaves no trace in its statistics
        # or the random streams, but its dropout draw is not the one the loss then weighs
        with torch.no_grad(), untouched(self.gan.generator, real.device):
            synthetic, synthetic_masks = self.synthesis.pairs(Context(), batch)
        features = pair_features(self.seg.segmenter, self.seg.loss, synthetic, synthetic_masks)
        self.batch_weights = self.pool.utility(features)
        return replace(batch, features=features)

    def _variables(self) -> dict[str, float]:
        """The current appearance and geometry magnitudes and the pool's weight range, as log entries."""
        values: dict[str, float] = {}
        if self.appearance is not None:
            values.update({f"app_{k}": float(v.detach()) for k, v in self.appearance.magnitudes().items()})
        if self.geometry is not None:
            values.update({f"geo_{k}": float(v.detach()) for k, v in self.geometry.magnitudes().items()})
        if self.pool is not None:
            weights = self.pool.utility() if self.pool.per_pair else self.batch_weights
            values.update(w_min=float(weights.min()), w_mean=float(weights.mean()), w_max=float(weights.max()))
        return values

    def saved(self) -> dict[str, Any]:
        parts = {**self.gan.saved(), **self.mlo.saved()}
        if self.appearance is not None:
            parts.update(appearance=self.appearance, app_generator=self.app_generator)
        if self.geometry is not None:
            parts.update(geometry=self.geometry, geo_generator=self.geo_generator)
        if self.pool is not None:
            parts.update(self.pool.state())
        if self.crossfit is not None:
            parts.update(self.crossfit.state())
        return parts

    def networks(self) -> dict[str, nn.Module]:
        return self.gan.networks()

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        self.gan.write_artifacts(
            run_dir, self.data.sample_conditions(8, seed), *self.data.first_pairs(8), mode=self.sample_mode
        )
        write_steer_pictures(run_dir, self.gan.generator, self.sample_mode, self.appearance, self.pool, seed=seed,
                             geometry=self.geometry, scorer=(self.seg.segmenter, self.seg.loss))


def _refuse_unsteered_options(config: GenSegConfig, variables: tuple[str, ...]) -> None:
    """A run that does not steer the appearance (the geometry, the weighting network) must leave its transforms,
    targets and start (its normalisation) at their defaults.

    Raises:
        ConfigError: ``appearance_transforms``, ``appearance_on``, ``appearance_initial``, ``geometry_transforms``,
            ``geometry_on`` or ``weightnet_norm`` set, naming it and the fix.
    """
    for variable, name, default in (("appearance", "appearance_transforms", DEFAULT_APPEARANCE_TRANSFORMS),
                                    ("appearance", "appearance_on", "synthetic"),
                                    ("appearance", "appearance_initial", DEFAULT_APPEARANCE_INITIAL),
                                    ("geometry", "geometry_transforms", DEFAULT_GEOMETRY_TRANSFORMS),
                                    ("geometry", "geometry_on", "pairs"),
                                    ("weightnet", "weightnet_norm", "none")):
        value = getattr(config, name)
        if variable not in variables and value != default:
            raise ConfigError(f"{name}={value!r} is read only when {variable} is steered, and this run steers "
                              f"{'+'.join(variables)}; add {variable} to steer or drop the option.")
