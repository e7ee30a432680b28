"""One GenSeg MLO iteration over (α, G, S) (paper Eq. 5-8), by a registered solver."""

from __future__ import annotations

import math
from typing import Any, final

from dgen.mlo import Problem
from dgen.mlo.grads import NonFiniteError
from dgen.plugins import create
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.levels import ArchLevel, GenLevel, GenSegBatch, SegLevel
from dgen_genseg.pipeline.optim import make_optimizer
from dgen_genseg.pipeline.parts.pix2pix import Pix2PixStep
from dgen_genseg.pipeline.sample_mode import SampleMode
from dgen_genseg.pipeline.parts.segmenter import SegmenterStep
from dgen_genseg.pipeline.parts.updates import Updates

__all__ = ["MloStep"]


@final
class MloStep:
    """α's Adam optimiser (lr ``arch_lr``, weight decay ``arch_weight_decay``, betas (0.5, 0.999)), the three
    levels ``arch`` > ``gen`` > ``seg`` over the GAN's and the segmenter's networks and optimisers, and the
    solver (option ``solver``, with ``nan_policy``, ``reuse_grads`` and, for ``unroll``, ``backend``).

    With ``arch_lr=0`` the hypergradient is still computed (every random draw is the one GenSeg makes) and
    Adam's update of α is exactly zero: α stays frozen.

    The ``seg`` level takes its look-ahead steps with ``lookahead_lr`` (None: the segmenter's scheduled lr),
    runs real and synthetic images through separate BatchNorm passes with ``seg_batchnorm=separate``, and
    renders its synthetic images with the generator in ``sample_mode`` (its ``gen`` level trains it in train
    mode).
    """

    def __init__(
        self, config: GenSegConfig, gan: Pix2PixStep, seg: SegmenterStep, updates: Updates, *, sample_mode: SampleMode
    ) -> None:
        c, generator, segmenter = config, gan.generator, seg.segmenter
        self.updates = updates
        self.arch_opt = make_optimizer(
            "adam", generator.arch_parameters(), lr=c.arch_lr, weight_decay=c.arch_weight_decay, gan=True
        )
        self.problem = Problem(
            [
                ArchLevel(
                    "arch", params=generator.arch_parameters(), optimizer=self.arch_opt, lower=("seg",), direct=False,
                    segmenter=segmenter, seg_loss=seg.loss,
                ),
                GenLevel(
                    "gen", params=generator.weight_parameters(), optimizer=gan.gen_opt, upper=("arch",),
                    unroll_steps=c.unroll_steps, generator=generator, discriminator=gan.discriminator, lambda_l1=c.lambda_l1,
                ),
                SegLevel(
                    "seg", params=list(segmenter.parameters()), optimizer=seg.optimizer, upper=("gen",),
                    unroll_steps=c.unroll_steps, generator=generator, segmenter=segmenter, seg_loss=seg.loss, gamma=c.gamma,
                    lookahead_lr=c.lookahead_lr, separate_batchnorm=seg.separate_batchnorm, sample_mode=sample_mode,
                ),
            ]
        )
        options: dict[str, Any] = {"nan_policy": c.nan_policy, "reuse_grads": c.reuse_grads,
                                   "hyper_every": 1 if c.hyper_every is None else c.hyper_every,
                                   "hyper_start": 0 if c.hyper_start is None else c.hyper_start}
        if c.solver == "unroll":
            options["backend"] = c.backend
        self.solver = create("solvers", c.solver, problem=self.problem, **options)

    def step(self, batch: GenSegBatch) -> dict[str, float]:
        """One solver step on ``batch``; log entries ``arch``, ``gen``, ``seg`` (losses), ``arch_grad_norm``
        (‖∇α‖ of the hypergradient) and ``skipped``."""
        try:
            result = self.solver.step(batch)
        except NonFiniteError as err:  # keep the solver's diagnosis, give the pipeline's fix
            raise NonFiniteError(f"{str(err).split('; ', 1)[0]}; {self.updates.advice(err.level)}", err.level) from err
        stats = {level: result.get(f"loss/{level}", math.nan) for level in ("arch", "gen", "seg")}
        stats["arch_grad_norm"] = result.get("hypergrad_norm/arch", math.nan)
        stats["skipped"] = result.get("skipped", 0.0)
        return stats

    def saved(self) -> dict[str, Any]:
        """The parts a checkpoint holds: α's optimiser and the solver's state."""
        return {"arch_opt": self.arch_opt, "solver": self.solver}
