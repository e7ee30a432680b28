"""One MLO iteration of the ``steer`` method, by a registered solver."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Optional, final

from torch import Tensor

from dgen.mlo import Level, Problem
from dgen.mlo.grads import NonFiniteError
from dgen.plugins import create
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import ArchLevel
from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.parts.pix2pix import Pix2PixStep
from dgen_genseg.pipeline.parts.segmenter import SegmenterStep
from dgen_genseg.pipeline.parts.updates import Updates
from dgen_genseg.pipeline.steer.levels import SteerBatch, SteeredGenLevel, SteerSegLevel, Synthesis
from dgen_genseg.pipeline.steer.pool import SyntheticPool

__all__ = ["SteerStep", "STEER_HYPER_EVERY", "STEER_HYPER_START"]

#: steer's ``hyper_start`` when the option is none: the segmenter takes this many steps before the first
#: hypergradient (through a fresh segmenter it is 30-2400x the later ones and freezes Adam's steps for the run)
STEER_HYPER_START = 8
#: steer's ``hyper_every`` when the option is none: a hypergradient every 8th iteration (3 settings x 3 seeds on the
#: fixes scored as every iteration does, at 3.5x the cost of a strong run instead of 8.4x)
STEER_HYPER_EVERY = 8

_STEER_ADVICE = ("lower the steered variables' learning rates (appearance_lr, geometry_lr, weights_lr, arch_lr) in a new run, "
                 "or skip such steps with --set nan_policy=skip")


@final
class SteerStep:
    """The levels ``steer`` (if any of appearance, geometry, weights or weightnet, arch is steered), ``gen`` (if the
    generator is) and ``seg``, and the solver (option ``solver``, with ``nan_policy``, ``reuse_grads``, ``hyper_every``,
    ``hyper_start`` and, for ``unroll``, ``backend``).

    The ``steer`` level's Adam (betas (0.5, 0.999)) has one parameter group per steered variable: the
    appearance magnitudes (lr ``appearance_lr``), the geometry magnitudes (``geometry_lr``), the pool's weight
    logits or weighting network (``weights_lr``) and α (``arch_lr``, weight decay ``arch_weight_decay``). The segmenter looks ahead with a fixed step: ``lookahead_lr``, else
    the preset's initial ``seg_lr`` (never the scheduler's decayed one).
    """

    def __init__(
        self, config: GenSegConfig, variables: tuple[str, ...], gan: Pix2PixStep, seg: SegmenterStep,
        updates: Updates, synthesis: Synthesis, pool: Optional[SyntheticPool],
    ) -> None:
        c, generator, segmenter = config, gan.generator, seg.segmenter
        self.updates = updates
        groups = []
        if synthesis.appearance is not None:
            groups.append({"params": list(synthesis.appearance.parameters()), "lr": c.appearance_lr})
        if synthesis.geometry is not None:
            groups.append({"params": list(synthesis.geometry.parameters()), "lr": c.geometry_lr})
        if pool is not None:
            groups.append({"params": list(pool.weights.parameters()), "lr": c.weights_lr})
        if "arch" in variables:
            groups.append({"params": list(generator.arch_parameters()), "lr": c.arch_lr,
                           "weight_decay": c.arch_weight_decay})
        levels: list[Level] = []
        upper = []
        self.steer_opt = None
        if groups:
            self.steer_opt = make_optimizer("adam", groups, lr=c.appearance_lr, gan=True)
            params = [p for group in groups for p in group["params"]]
            levels.append(ArchLevel("steer", params=params, optimizer=self.steer_opt, lower=("seg",), direct=False,
                                    segmenter=segmenter, seg_loss=seg.loss))
            upper.append("steer")
        if "generator" in variables:
            levels.append(SteeredGenLevel(
                "gen", params=generator.weight_parameters(), optimizer=gan.gen_opt, lower=("seg",),
                generator=generator, discriminator=gan.discriminator, lambda_l1=c.lambda_l1, segmenter=segmenter,
                seg_loss=seg.loss, beta=c.steer_beta,
            ))
            upper.append("gen")
        levels.append(SteerSegLevel(
            "seg", params=list(segmenter.parameters()), optimizer=seg.optimizer, upper=tuple(upper),
            unroll_steps=c.unroll_steps, lookahead_lr=c.lookahead_lr or c.seg_lr, synthesis=synthesis,
            segmenter=segmenter, seg_loss=seg.loss, gamma=c.gamma,
            pool=pool, separate_batchnorm=seg.separate_batchnorm,
        ))
        self.problem = Problem(levels)
        options: dict[str, Any] = {"nan_policy": c.nan_policy, "reuse_grads": c.reuse_grads,
                                   "hyper_every": STEER_HYPER_EVERY if c.hyper_every is None else c.hyper_every,
                                   "hyper_start": STEER_HYPER_START if c.hyper_start is None else c.hyper_start}
        if c.solver == "unroll":
            options["backend"] = c.backend
        self.solver = create("solvers", c.solver, problem=self.problem, **options)

    def step(self, batch: SteerBatch) -> dict[str, float]:
        """One solver step on ``batch``; log entries ``seg``, ``steer`` (the upper loss at the look-ahead) and
        ``steer_grad_norm`` (with a ``steer`` level), ``gen`` and ``gen_grad_norm`` (with ``steer=generator``),
        ``hyper`` (1 where the hypergradient was computed) and ``skipped``."""
        try:
            result = self.solver.step(batch)
        except NonFiniteError as err:  # keep the solver's diagnosis, give the pipeline's fix
            advice = _STEER_ADVICE if err.level == "steer" else self.updates.advice(err.level)
            raise NonFiniteError(f"{str(err).split('; ', 1)[0]}; {advice}", err.level) from err
        stats = {"seg": result.get("loss/seg", math.nan), "hyper": result.get("hyper", 1.0),
                 "skipped": result.get("skipped", 0.0)}
        for level in self.problem.hypergradient_levels:  # steer and/or gen
            stats[level] = result.get(f"loss/{level}", math.nan)
            stats[f"{level}_grad_norm"] = result.get(f"hypergrad_norm/{level}", math.nan)
        return stats

    @property
    def columns(self) -> tuple[str, ...]:
        """The log entries of :meth:`step`."""
        levels = self.problem.hypergradient_levels
        return ("seg", *levels, *(f"{level}_grad_norm" for level in levels), "hyper")

    def forget(self, params: Iterable[Tensor]) -> None:
        """Drop the ``steer`` optimiser's state (Adam's moments) of ``params``: after a refill of the pool, a new
        pair must not inherit the momentum of the pair it replaced."""
        if self.steer_opt is not None:
            for p in params:
                self.steer_opt.state.pop(p, None)

    def saved(self) -> dict[str, Any]:
        """The parts a checkpoint holds: the ``steer`` level's optimiser (if any) and the solver's state."""
        parts: dict[str, Any] = {"solver": self.solver}
        return {**parts, "steer_opt": self.steer_opt} if self.steer_opt is not None else parts

