"""MLO solvers by name: ``unroll`` (exact, default), ``darts`` (finite differences), ``first_order``."""

from __future__ import annotations

import inspect
from typing import Any

from dgen.errors import ConfigError, UnknownNameError, closest_match
from dgen.mlo.problem import Problem
from dgen.mlo.solvers.base import Solver
from dgen.mlo.solvers.darts import DartsSolver
from dgen.mlo.solvers.first_order import FirstOrderSolver
from dgen.mlo.solvers.unroll import UnrollSolver

__all__ = ["SOLVERS", "DartsSolver", "FirstOrderSolver", "Solver", "UnrollSolver", "create_solver", "solver_options"]

#: solver classes by name
SOLVERS: dict[str, type[Solver]] = {cls.name: cls for cls in (UnrollSolver, DartsSolver, FirstOrderSolver)}


def solver_options(cls: type[Solver]) -> dict[str, Any]:
    """The keyword-only options of solver class ``cls`` with their defaults."""
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def create_solver(name: str, problem: Problem, **options: Any) -> Solver:
    """The solver ``name`` for ``problem``; options set to None take their defaults.

    Raises:
        UnknownNameError: no solver is called ``name``.
        ConfigError: an option that solver does not have (the valid ones are listed).
    """
    if name not in SOLVERS:
        raise UnknownNameError("solver", name, SOLVERS)
    cls = SOLVERS[name]
    valid = solver_options(cls)
    for option in sorted(options):
        if option not in valid:
            hint = closest_match(option, valid)
            did_you_mean = f" Did you mean '{hint}'?" if hint else ""
            raise ConfigError(
                f"solver '{name}' has no option '{option}'.{did_you_mean} "
                f"Valid options: {', '.join(f'{k}={v!r}' for k, v in valid.items())}."
            )
    return cls(problem, **{k: v for k, v in options.items() if v is not None})
