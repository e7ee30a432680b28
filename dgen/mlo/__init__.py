"""Multi-level optimisation: levels with a loss each, a validated dependency graph, and solvers.

    problem = Problem([Arch("arch", ..., lower=("seg",)), Gen("gen", ..., upper=("arch",)),
                       Seg("seg", ..., upper=("gen",))])
    solver = create_solver("unroll", problem)
    stats = solver.step(batch)

See docs/mlo.md.
"""

from dgen.mlo.context import Context
from dgen.mlo.level import Level
from dgen.mlo.noise import GradientNoise, gradient_noise
from dgen.mlo.problem import Problem
from dgen.mlo.solvers import (
    SOLVERS,
    DartsSolver,
    FirstOrderSolver,
    Solver,
    UnrollSolver,
    create_solver,
)

__all__ = [
    "SOLVERS",
    "Context",
    "DartsSolver",
    "FirstOrderSolver",
    "GradientNoise",
    "Level",
    "Problem",
    "Solver",
    "UnrollSolver",
    "create_solver",
    "gradient_noise",
]
