"""The first-order solver: the direct gradient of each hypergradient level's loss at a detached look-ahead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dgen.errors import SolverError
from dgen.mlo import diffopt
from dgen.mlo.level import Level
from dgen.mlo.problem import Problem
from dgen.mlo.solvers.base import Hypergradient, Solver
from dgen.mlo.solvers.lookahead import (
    FuncTrajectory,
    check_steps,
    lookahead_hypergradients,
)

__all__ = ["FirstOrderSolver"]


class FirstOrderSolver(Solver):
    """Hypergradient = gradient of the level's loss w.r.t. its own variables, with the lower levels
    replaced by a detached K-step look-ahead (the levels' real optimizer steps). It drops every
    second-order term, so its error is O(learning rate) of the unrolled levels; the cheapest solver.

    Args:
        problem: the validated problem; no hypergradient level may be ``direct=False``.
        steps: look-ahead steps for every unrolled level; None uses each level's ``unroll_steps``.
        reuse_grads, nan_policy, hyper_every, hyper_start: see :class:`~dgen.mlo.solvers.base.Solver`.

    Raises:
        SolverError: a hypergradient level is ``direct=False`` (its first-order hypergradient is
            identically zero), or an unrolled level's optimizer has no look-ahead step.
    """

    name = "first_order"

    def __init__(
        self,
        problem: Problem,
        *,
        steps: int | None = None,
        reuse_grads: bool = False,
        nan_policy: str = "raise",
        hyper_every: int = 1,
        hyper_start: int = 0,
    ) -> None:
        super().__init__(problem, reuse_grads=reuse_grads, nan_policy=nan_policy, hyper_every=hyper_every,
                         hyper_start=hyper_start)
        self.steps = check_steps(steps)
        for target in problem.hypergradient_levels:
            level = problem.level(target)
            if not level.direct:
                raise SolverError(
                    f"solver 'first_order' cannot update level '{target}': it is declared direct=False (its loss reads "
                    f"its variables only through the look-ahead of {', '.join(level.lower)}), so its first-order "
                    f"hypergradient is identically zero and it would never move; use create_solver('unroll', ...) "
                    f"(exact) or 'darts'."
                )
            for name in problem.unrolled(target):
                diffopt.check_supported(problem.level(name).optimizer, name)

    def _hypergradients(self, targets: Sequence[Level], batch: Any) -> list[Hypergradient]:
        return lookahead_hypergradients(
            self.problem, targets, batch, lambda lvl: FuncTrajectory(lvl, create_graph=False), self.steps,
            first_step_updates_buffers=self.reuse_grads,
        )
