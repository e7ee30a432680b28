"""The DARTS finite-difference solver: one plain SGD look-ahead per level, Hessian-vector products by
central differences, propagated down chains of any length (GenSeg: alpha -> generator -> segmenter)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

from torch import Tensor

from dgen.errors import ConfigError, SolverError
from dgen.mlo.context import Context
from dgen.mlo.grads import global_norm, level_grads
from dgen.mlo.level import Level
from dgen.mlo.problem import Problem
from dgen.mlo.solvers.base import FirstStep, Hypergradient, Solver

__all__ = ["DartsSolver"]


def _rates(level: Level) -> list[float]:
    """Signed SGD step size of each parameter: the level's ``lookahead_lr`` if set, else its group's lr;
    negated when the group maximizes."""
    group_of = {id(p): group for group in level.optimizer.param_groups for p in group["params"]}
    fixed = level.lookahead_lr
    return [
        float(group_of[id(p)]["lr"] if fixed is None else fixed) * (-1.0 if group_of[id(p)].get("maximize", False) else 1.0)
        for p in level.params
    ]


class DartsSolver(Solver):
    """The DARTS approximation (Liu et al., 2019), generalised to chains, for comparison with the literature.

    Each unrolled level w looks ahead by one plain SGD step with its optimizer's learning rate (or the
    level's ``lookahead_lr``),
    ``w' = w - lr * grad_w L(w, U')`` (momentum, weight decay and adaptive state are ignored, as in
    DARTS). Then, from the top loss down, for each unrolled level in reverse topological order with
    v = the gradient of everything above it w.r.t. w' and d = lr * v, eps = ``eps_scale / ||d||``:
    every upper variable U (the hypergradient level's and the look-aheads of unrolled levels above)
    receives ``-(grad_U L(w + eps d, U') - grad_U L(w - eps d, U')) / (2 eps)``; the hypergradient is
    the direct gradient plus what reaches the top variables. Equal to ``unroll`` with one plain SGD
    step up to O(eps_scale^2).

    Args:
        problem: the validated problem; every unrolled level must have ``unroll_steps=1``.
        eps_scale: length of the finite-difference perturbation of each level's variables.
        reuse_grads, nan_policy, hyper_every, hyper_start: see :class:`~dgen.mlo.solvers.base.Solver`.
    """

    name = "darts"

    def __init__(
        self,
        problem: Problem,
        *,
        eps_scale: float = 0.01,
        reuse_grads: bool = False,
        nan_policy: str = "raise",
        hyper_every: int = 1,
        hyper_start: int = 0,
    ) -> None:
        super().__init__(problem, reuse_grads=reuse_grads, nan_policy=nan_policy, hyper_every=hyper_every,
                         hyper_start=hyper_start)
        if isinstance(eps_scale, bool) or not isinstance(eps_scale, Real) or not eps_scale > 0:
            raise ConfigError(f"solver option eps_scale={eps_scale!r}; expected a number > 0, e.g. 0.01 (as in DARTS).")
        self.eps_scale = float(eps_scale)
        for target in problem.hypergradient_levels:
            for name in problem.unrolled(target):
                steps = problem.level(name).unroll_steps
                if steps != 1:
                    raise SolverError(
                        f"solver 'darts' looks ahead by exactly one SGD step, but level '{name}' has unroll_steps={steps}; "
                        f"set unroll_steps=1 or use create_solver('unroll', ...)."
                    )

    def _hypergradients(self, targets: Sequence[Level], batch: Any) -> list[Hypergradient]:
        """One look-ahead per target (not shared: each target's finite differences perturb along its own
        vector); with ``reuse_grads`` only the first one updates the running statistics, as one ordinary
        update would."""
        return [self._hypergradient(target, batch, first=i == 0) for i, target in enumerate(targets)]

    def _hypergradient(self, target: Level, batch: Any, *, first: bool) -> Hypergradient:
        levels = [self.problem.level(n) for n in self.problem.unrolled(target.name)]
        about = f"the hypergradient of '{target.name}'"
        # 1. look-aheads, one plain SGD step each, without graph
        ahead: dict[str, list[Tensor]] = {}
        first_steps: dict[str, FirstStep] = {}
        for level in levels:
            at = [p.detach().requires_grad_() for p in level.params]
            ctx = self._context(levels, ahead, level, at, update_buffers=self.reuse_grads and first)
            loss = level.loss(ctx, batch)
            grads = level_grads(loss, at, level, f"the look-ahead of '{level.name}' for {about}", keep_unused=True)
            first_steps[level.name] = FirstStep(grads, loss.detach())
            ahead[level.name] = [  # an unused parameter (None) keeps its value, as torch.optim skips it
                (p.detach() if g is None else p.detach() - r * g).requires_grad_()
                for p, g, r in zip(level.params, grads, _rates(level))
            ]
        # 2. the top loss and its gradient w.r.t. the target's variables and every look-ahead
        top = target.loss(self._context(levels, ahead, None, []), batch)
        variables = [*target.params, *(t for level in levels for t in ahead[level.name])]
        vec = self._split(level_grads(top, variables, target, about), target, levels)
        # 3. propagate the vectors down the chain with finite-difference Hessian-vector products
        for i in reversed(range(len(levels))):
            level = levels[i]
            direction = [r * v for r, v in zip(_rates(level), vec[level.name])]
            norm = global_norm(direction)
            if norm == 0.0:
                continue
            eps = self.eps_scale / norm
            above = levels[:i]
            upper_vars = [*target.params, *(t for upper in above for t in ahead[upper.name])]
            sides = []
            for sign in (1.0, -1.0):
                at = [p.detach() + sign * eps * d for p, d in zip(level.params, direction)]
                loss = level.loss(self._context(above, ahead, level, at), batch)
                where = f"the finite difference of '{level.name}' for {about}"
                sides.append(level_grads(loss, upper_vars, level, where, require_path=False))
            fd = self._split([(gp - gm) / (2 * eps) for gp, gm in zip(*sides)], target, above)
            for name, grads in fd.items():
                vec[name] = [v - g for v, g in zip(vec[name], grads)]
        return Hypergradient([g.detach() for g in vec[target.name]], top.detach(), first_steps)

    @staticmethod
    def _context(
        levels: list[Level], ahead: dict[str, list[Tensor]], own: Level | None, at: list[Tensor],
        *, update_buffers: bool = False,
    ) -> Context:
        """Look-aheads of ``levels`` computed so far, plus ``own``'s variables at ``at``."""
        pairs = [pair for level in levels if level.name in ahead for pair in zip(level.params, ahead[level.name])]
        if own is not None:
            pairs.extend(zip(own.params, at))
        return Context(pairs, update_buffers=update_buffers)

    @staticmethod
    def _split(flat: list[Tensor], target: Level, levels: list[Level]) -> dict[str, list[Tensor]]:
        """Cut ``flat`` (target's tensors, then each level's) into lists by level name."""
        out: dict[str, list[Tensor]] = {}
        start = 0
        for level in (target, *levels):
            out[level.name] = flat[start : start + len(level.params)]
            start += len(level.params)
        return out
