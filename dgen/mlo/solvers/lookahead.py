"""Look-ahead by optimizer steps, shared by the ``unroll`` (differentiable) and ``first_order`` solvers.

For a hypergradient level T, every level between T and its lower levels is stepped K times in
topological order, each step's loss evaluated in a Context that holds T's live variables and the
look-ahead values of the levels already stepped; then T's loss is evaluated at the look-aheads and
differentiated with respect to T's variables. Hypergradient levels that unroll the same levels (e.g.
an augmentation's magnitudes and the weights of samples, both over one learner) share that look-ahead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch
from torch import Tensor

from dgen.errors import ConfigError, SolverError
from dgen.mlo import diffopt
from dgen.mlo.context import Context
from dgen.mlo.grads import level_grads
from dgen.mlo.level import Level
from dgen.mlo.problem import Problem
from dgen.mlo.solvers.base import FirstStep, Hypergradient

__all__ = ["FuncTrajectory", "Trajectory", "check_steps", "lookahead_hypergradients"]


class Trajectory(Protocol):
    """The look-ahead of one level, advanced one optimizer step at a time."""

    #: current look-ahead values, one per parameter of the level
    params: list[Tensor]

    def evaluation_params(self) -> list[Tensor]:
        """The values at which the next loss must be evaluated (and differentiated)."""
        ...

    def step(self, loss: Tensor, where: str) -> list[Tensor | None]:
        """Advance :attr:`params` by one optimizer step on ``loss`` (evaluated at :meth:`evaluation_params`);
        return that step's gradient, detached (``None`` for a parameter the loss does not use, which the
        step leaves unchanged, as ``torch.optim`` does)."""
        ...


class FuncTrajectory:
    """Look-ahead by :mod:`dgen.mlo.diffopt` steps that equal the level's ``torch.optim`` steps
    (with the level's ``lookahead_lr``, when set, in place of the optimizer's lr).

    Args:
        level: the level to step; its optimizer's state is read, never changed.
        create_graph: keep the graph of every step (exact hypergradients), else detach them.
        self_second_order: with ``create_graph``, differentiate through the level's own gradient
            at its own look-ahead (the d(step)/d(own variables) Hessian terms); when False each
            gradient is taken at a detached copy of the level's variables, which keeps the mixed
            terms with respect to upper variables and drops those Hessian terms.
    """

    def __init__(self, level: Level, *, create_graph: bool, self_second_order: bool = True) -> None:
        self.level = level
        self.params: list[Tensor] = list(level.params)
        self._state = diffopt.initial_state(level.optimizer, level.params)
        self._create_graph = create_graph
        self._self_second_order = self_second_order
        self._at: list[Tensor] = []

    def evaluation_params(self) -> list[Tensor]:
        if self._create_graph and self._self_second_order:
            self._at = self.params
        else:
            self._at = [p.detach().requires_grad_() for p in self.params]
        return self._at

    def step(self, loss: Tensor, where: str) -> list[Tensor | None]:
        grads = level_grads(loss, self._at, self.level, where, create_graph=self._create_graph, keep_unused=True)
        with torch.set_grad_enabled(self._create_graph):
            self.params, self._state = diffopt.step(
                self.level.optimizer, self.level.params, self.params, grads, self._state, lr=self.level.lookahead_lr
            )
        return [None if g is None else g.detach() for g in grads]


def check_steps(steps: Any) -> int | None:
    """``steps`` if it is None or an int >= 1, else ``ConfigError``."""
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ConfigError(
            f"solver option steps={steps!r}; expected an int >= 1, or None to use each level's unroll_steps."
        )
    return steps


def lookahead_hypergradients(
    problem: Problem,
    targets: Sequence[Level],
    batch: Any,
    start: Callable[[Level], Trajectory],
    steps: int | None,
    *,
    first_step_updates_buffers: bool = False,
) -> list[Hypergradient]:
    """The gradient of each target's loss at one shared look-ahead of their unrolled levels.

    Args:
        targets: hypergradient levels with identical ``problem.unrolled`` tuples (one of
            ``problem.hypergradient_groups``); the look-ahead is built once and each target's loss is
            evaluated and differentiated at it, which equals computing them one by one.
        start: makes the trajectory of a level (which backend, whether graphs are kept).
        steps: look-ahead steps per level, or None for each level's ``unroll_steps``.
        first_step_updates_buffers: evaluate each level's first step with the real buffers
            (BatchNorm running statistics updated, once), for when that step replaces the ordinary update.

    Returns:
        one :class:`Hypergradient` per target, in order; all share the same ``first_steps``.
    """
    unrolled = {problem.unrolled(t.name) for t in targets}
    if len(unrolled) != 1:
        raise SolverError(
            f"levels {', '.join(t.name for t in targets)} do not unroll the same levels, so they cannot share a "
            f"look-ahead; pass one group of problem.hypergradient_groups."
        )
    about = " and ".join(f"'{t.name}'" for t in targets)
    overrides: list[tuple[Tensor, Tensor]] = []
    first_steps: dict[str, FirstStep] = {}
    for name in unrolled.pop():
        level = problem.level(name)
        trajectory = start(level)
        count = steps or level.unroll_steps
        for k in range(count):
            ctx = Context(
                [*overrides, *zip(level.params, trajectory.evaluation_params())],
                update_buffers=first_step_updates_buffers and k == 0,
            )
            loss = level.loss(ctx, batch)
            grads = trajectory.step(loss, f"look-ahead step {k + 1}/{count} of '{name}' for the hypergradient of {about}")
            if k == 0:
                first_steps[name] = FirstStep(grads, loss.detach())
        overrides.extend(zip(level.params, trajectory.params))
    hypers = []
    for i, target in enumerate(targets):
        loss = target.loss(Context(overrides), batch)
        where = f"the hypergradient of '{target.name}'"
        grads = level_grads(loss, target.params, target, where, retain_graph=True if i + 1 < len(targets) else None)
        hypers.append(Hypergradient([g.detach() for g in grads], loss.detach(), first_steps))
    return hypers
