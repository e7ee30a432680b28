"""Small float64 MLO problems for the solver tests: a closed-form bilevel problem and a nonlinear
3-level chain alpha -> w1 -> w2 -> validation loss, with a reference computed by torch.optim."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from dgen.mlo import Context, Level, Problem

LossFn = Callable[[Context, Any], Tensor]


class FnLevel(Level):
    """A level whose loss is the function ``fn(ctx, batch)``."""

    def __init__(
        self, name: str, params: list[Tensor], optimizer: torch.optim.Optimizer, fn: LossFn, **edges: Any
    ) -> None:
        super().__init__(name, params, optimizer, **edges)
        self.fn = fn

    def loss(self, ctx: Context, batch: Any) -> Tensor:
        return self.fn(ctx, batch)


def leaf(*shape: int, gen: torch.Generator, scale: float = 1.0) -> Tensor:
    return (scale * torch.randn(*shape, generator=gen, dtype=torch.float64)).requires_grad_()


def data(*shape: int, gen: torch.Generator) -> Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


# -- bilevel quadratic: lower f(y; x) = 0.5 y'Ay - y'Bx, upper F(x, y) = 0.5|y - a|^2 + 0.5 c|x|^2 ------------


class Quadratic:
    """Closed-form one-step hypergradient of the bilevel quadratic with an SGD lower level."""

    def __init__(self, lr: float, c: float = 0.3, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        m = data(4, 4, gen=gen)
        self.A = m @ m.T / 4 + torch.eye(4, dtype=torch.float64)
        self.B, self.a, self.c, self.lr = data(4, 3, gen=gen), data(4, gen=gen), c, lr
        self.x, self.y = leaf(3, gen=gen), leaf(4, gen=gen)
        A, B, a = self.A, self.B, self.a
        upper = FnLevel(
            "upper",
            [self.x],
            torch.optim.SGD([self.x], lr=0.1),
            lambda ctx, _: 0.5 * ((ctx.param(self.y) - a) ** 2).sum() + 0.5 * c * (ctx.param(self.x) ** 2).sum(),
            lower=("lower",),
        )
        lower = FnLevel(
            "lower",
            [self.y],
            torch.optim.SGD([self.y], lr=lr),
            lambda ctx, _: 0.5 * ctx.param(self.y) @ A @ ctx.param(self.y) - ctx.param(self.y) @ B @ ctx.param(self.x),
            upper=("upper",),
        )
        self.problem = Problem([upper, lower])

    def exact(self) -> Tensor:
        """d/dx F(x, y - lr (Ay - Bx)) = c x + lr B'(y' - a)."""
        x, y = self.x.detach(), self.y.detach()
        y_next = y - self.lr * (self.A @ y - self.B @ x)
        return self.c * x + self.lr * self.B.T @ (y_next - self.a)


# -- 3-level chain -------------------------------------------------------------------------------------


OPTIMIZERS: dict[str, Callable[[list[Tensor]], torch.optim.Optimizer]] = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.5, 0.999), weight_decay=0.01),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.05, amsgrad=True),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.9, weight_decay=1e-3),
    "rmsprop_centered": lambda ps: torch.optim.RMSprop(ps, lr=0.01, centered=True),
}


class Chain:
    """alpha (3,) -> w1 (3, 3) -> w2 (3, 2) -> validation loss; the w2 level also reads alpha directly.

    ``alpha`` is ``direct=False`` unless ``direct``: then its loss adds ``0.1 * |alpha|^2``.
    ``lookahead_lr`` is given to the w1 and w2 levels (their look-ahead steps use it instead of their lr).
    """

    def __init__(
        self,
        optimizer: str = "sgd",
        unroll_steps: int = 1,
        *,
        seed: int = 0,
        direct: bool = False,
        alpha_in_w2: bool = True,
        lookahead_lr: float | None = None,
    ) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.alpha, self.w1, self.w2 = (
            leaf(3, gen=gen, scale=0.5),
            leaf(3, 3, gen=gen, scale=0.5),
            leaf(3, 2, gen=gen, scale=0.5),
        )
        x1, y1, x2, y2, x3, y3 = (
            data(6, 3, gen=gen),
            data(6, 3, gen=gen),
            data(6, 3, gen=gen),
            data(6, 2, gen=gen),
            data(6, 3, gen=gen),
            data(6, 2, gen=gen),
        )
        alpha, w1, w2 = self.alpha, self.w1, self.w2

        def loss1(ctx: Context, _: Any) -> Tensor:
            return ((torch.tanh(x1 @ ctx.param(w1)) - y1 * F.softplus(ctx.param(alpha))) ** 2).mean()

        def loss2(ctx: Context, _: Any) -> Tensor:
            features = torch.tanh(x2 @ ctx.param(w1))
            if alpha_in_w2:
                features = features * torch.sigmoid(ctx.param(alpha))
            return ((features @ ctx.param(w2) - y2) ** 2).mean() + 0.1 * F.softplus(ctx.param(w2)).mean()

        def loss3(ctx: Context, _: Any) -> Tensor:
            value = F.softplus(x3 @ ctx.param(w2) - y3).mean()
            return value + 0.1 * (ctx.param(alpha) ** 2).sum() if direct else value

        make = OPTIMIZERS[optimizer]
        self.levels = [
            FnLevel("arch", [alpha], torch.optim.Adam([alpha], lr=0.01), loss3, lower=("seg",), direct=direct),
            FnLevel("gen", [w1], make([w1]), loss1, upper=("arch",), unroll_steps=unroll_steps, lookahead_lr=lookahead_lr),
            FnLevel("seg", [w2], make([w2]), loss2, upper=("gen",), unroll_steps=unroll_steps, lookahead_lr=lookahead_lr),
        ]
        self.problem = Problem(self.levels)
        self.steps = unroll_steps
        self.lookahead_lr = lookahead_lr

    def warm_up(self, iterations: int = 3) -> None:
        """Give the lower optimizers a state (momenta, step counts) with ordinary updates."""
        for _ in range(iterations):
            for level in self.levels[1:]:
                level.optimizer.zero_grad()
                level.loss(Context(), None).backward()
                level.optimizer.step()
        for level in self.levels:
            level.optimizer.zero_grad(set_to_none=True)

    def unrolled_loss(self, alpha_value: Tensor) -> float:
        """The top loss after K real torch.optim steps of w1, then of w2, at ``alpha_value`` (with their lr set
        to ``lookahead_lr`` when given); nothing is changed."""
        gen_level, seg_level = self.levels[1], self.levels[2]
        w1, opt1 = copy.deepcopy((self.w1, gen_level.optimizer))
        w2, opt2 = copy.deepcopy((self.w2, seg_level.optimizer))
        if self.lookahead_lr is not None:
            for group in (*opt1.param_groups, *opt2.param_groups):
                group["lr"] = self.lookahead_lr
        alpha = alpha_value.detach()
        for _ in range(self.steps):
            opt1.zero_grad()
            gen_level.loss(Context({self.alpha: alpha, self.w1: w1}), None).backward()
            opt1.step()
        for _ in range(self.steps):
            opt2.zero_grad()
            seg_level.loss(Context({self.alpha: alpha, self.w1: w1.detach(), self.w2: w2}), None).backward()
            opt2.step()
        with torch.no_grad():
            return float(self.levels[0].loss(Context({self.alpha: alpha, self.w1: w1, self.w2: w2}), None))

    def finite_difference(self, h: float = 1e-3) -> Tensor:
        """Five-point central differences (error O(h^4)) of :meth:`unrolled_loss` w.r.t. alpha, (3,)."""
        out = torch.zeros(3, dtype=torch.float64)
        for i in range(3):
            e = torch.zeros(3, dtype=torch.float64)
            e[i] = h
            f = {k: self.unrolled_loss(self.alpha + k * e) for k in (-2, -1, 1, 2)}
            out[i] = (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * h)
        return out
