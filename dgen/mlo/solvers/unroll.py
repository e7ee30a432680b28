"""The exact solver: hypergradients through K differentiable optimizer steps of each unrolled level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dgen.errors import SolverError, UnknownNameError
from dgen.mlo import diffopt
from dgen.mlo.level import Level
from dgen.mlo.problem import Problem
from dgen.mlo.solvers.base import Hypergradient, Solver, check_flag
from dgen.mlo.solvers.higher_backend import HigherTrajectory, check_higher_supported
from dgen.mlo.solvers.lookahead import (
    FuncTrajectory,
    Trajectory,
    check_steps,
    lookahead_hypergradients,
)

__all__ = ["BACKENDS", "UnrollSolver"]

#: how differentiable optimizer steps are taken
BACKENDS = ("func", "higher")


class UnrollSolver(Solver):
    """Exact hypergradients of the K-step look-ahead (``create_graph=True`` through every step).

    Args:
        problem: the validated problem.
        steps: look-ahead steps for every unrolled level; None uses each level's ``unroll_steps``.
        backend: ``"func"`` (dgen's differentiable steps, equal to ``torch.optim``'s) or ``"higher"``
            (the ``higher`` library; SGD, Adam, RMSprop; see docs/mlo.md for its deviations).
        self_second_order: False takes each look-ahead gradient at a detached copy of the level's own
            variables, dropping the d(step)/d(own variables) Hessian terms (``func`` backend only;
            no effect when K=1 because the first step starts at the live variables).
        reuse_grads, nan_policy, hyper_every, hyper_start: see :class:`~dgen.mlo.solvers.base.Solver`.

    Raises:
        SolverError: an unrolled level's optimizer is not supported by the backend.
    """

    name = "unroll"

    def __init__(
        self,
        problem: Problem,
        *,
        steps: int | None = None,
        backend: str = "func",
        self_second_order: bool = True,
        reuse_grads: bool = False,
        nan_policy: str = "raise",
        hyper_every: int = 1,
        hyper_start: int = 0,
    ) -> None:
        super().__init__(problem, reuse_grads=reuse_grads, nan_policy=nan_policy, hyper_every=hyper_every,
                         hyper_start=hyper_start)
        self.steps = check_steps(steps)
        if backend not in BACKENDS:
            raise UnknownNameError("backend", str(backend), BACKENDS)
        self.backend = backend
        self.self_second_order = check_flag(self_second_order, "self_second_order")
        if backend == "higher":
            if not self_second_order:
                raise SolverError(
                    "self_second_order=False is implemented by backend='func' only; "
                    "pass backend='func' or self_second_order=True."
                )
            check = check_higher_supported
        else:
            check = diffopt.check_supported
        for target in problem.hypergradient_levels:
            for name in problem.unrolled(target):
                check(problem.level(name).optimizer, name)

    def _start(self, level: Level) -> Trajectory:
        if self.backend == "higher":
            return HigherTrajectory(level)
        return FuncTrajectory(level, create_graph=True, self_second_order=self.self_second_order)

    def _hypergradients(self, targets: Sequence[Level], batch: Any) -> list[Hypergradient]:
        return lookahead_hypergradients(
            self.problem, targets, batch, self._start, self.steps, first_step_updates_buffers=self.reuse_grads
        )
