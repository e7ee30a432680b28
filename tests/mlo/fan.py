"""A float64 fan: two hypergradient levels over one learner (both ``lower=("learner",)``).

``alpha`` (2,) mixes two feature maps of the learner's inputs (``direct=False``: its loss is the
learner's validation loss); ``beta`` (3, 3) is a generator-like level: its synthetic inputs train the
learner, and its loss is its own objective plus 0.5 x the learner's validation loss (``direct=True``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from dgen.mlo import Context, Problem
from tests.mlo.chains import OPTIMIZERS, FnLevel, data, leaf


class Fan:
    """Levels ``uppers`` (a subset of ``("alpha", "beta")``, in that order) over the learner ``w`` (3, 2).

    An upper that is not a level keeps its values as constants, so a problem with one upper computes
    that level's hypergradient on its own. ``alpha_direct`` adds ``0.1 |alpha|^2`` to alpha's loss.
    ``learner_calls`` counts evaluations of the learner's loss.
    """

    def __init__(
        self,
        optimizer: str = "sgd",
        unroll_steps: int = 1,
        *,
        uppers: tuple[str, ...] = ("alpha", "beta"),
        alpha_direct: bool = False,
        seed: int = 0,
    ) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.alpha, self.beta, self.w = leaf(2, gen=gen), leaf(3, 3, gen=gen, scale=0.5), leaf(3, 2, gen=gen, scale=0.5)
        x1, y1, z, yz, xv, yv = (data(6, 3, gen=gen), data(6, 2, gen=gen), data(6, 3, gen=gen), data(6, 2, gen=gen),
                                 data(6, 3, gen=gen), data(6, 2, gen=gen))
        alpha, beta, w = self.alpha, self.beta, self.w
        self.learner_calls = 0

        def mix(ctx: Context, u: Tensor) -> Tensor:
            s = torch.softmax(ctx.param(alpha), dim=0)
            return s[0] * u + s[1] * torch.tanh(u)

        def val(ctx: Context) -> Tensor:
            return F.softplus(xv @ ctx.param(w) - yv).mean()

        def learner_loss(ctx: Context, _: Any) -> Tensor:
            self.learner_calls += 1
            synthetic = torch.tanh(z @ ctx.param(beta))
            real = ((mix(ctx, x1) @ ctx.param(w) - y1) ** 2).mean()
            return real + ((mix(ctx, synthetic) @ ctx.param(w) - yz) ** 2).mean() + 0.1 * F.softplus(ctx.param(w)).mean()

        def alpha_loss(ctx: Context, _: Any) -> Tensor:
            return val(ctx) + 0.1 * (ctx.param(alpha) ** 2).sum() if alpha_direct else val(ctx)

        def beta_loss(ctx: Context, _: Any) -> Tensor:
            return ((torch.tanh(x1 @ ctx.param(beta)) - x1) ** 2).mean() + 0.5 * val(ctx)

        levels = {
            "alpha": FnLevel("alpha", [alpha], torch.optim.Adam([alpha], lr=0.01), alpha_loss, lower=("learner",),
                             direct=alpha_direct),
            "beta": FnLevel("beta", [beta], torch.optim.Adam([beta], lr=0.01), beta_loss, lower=("learner",)),
        }
        self.levels = [levels[n] for n in ("alpha", "beta") if n in uppers]
        self.learner = FnLevel("learner", [w], OPTIMIZERS[optimizer]([w]), learner_loss, upper=tuple(uppers),
                               unroll_steps=unroll_steps)
        self.problem = Problem([*self.levels, self.learner])

    def warm_up(self, iterations: int = 3) -> None:
        """Give the learner's optimizer a state (Adam's first step is lr * sign(g), flat in the uppers)."""
        for _ in range(iterations):
            self.learner.optimizer.zero_grad()
            self.learner.loss(Context(), None).backward()
            self.learner.optimizer.step()
        for p in (self.alpha, self.beta, self.w):
            p.grad = None
        self.learner_calls = 0

    def values(self) -> list[Tensor]:
        """Detached copies of alpha, beta and w."""
        return [p.detach().clone() for p in (self.alpha, self.beta, self.w)]
