"""Time one MLO step of the toy problem per solver/backend/option, and compare hypergradients.

Every method steps its own copy of the toy (same seed); the methods take turns within each
repetition, so drifts of the machine hit all of them alike. Reports the median wall time of a
step, its ratio to the fastest method, and the cosine of each method's alpha hypergradient with
the exact one (``unroll``, ``func`` backend), measured in float64 after warm-up iterations that
give the optimizers a state (Adam's first step is lr * sign(g), flat in alpha).

    PYTHONPATH=. .venv/bin/python benchmarks/mlo_toy.py [--reps 40] [--steps 1 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch

from dgen.errors import SolverError
from dgen.mlo import Solver, create_solver
from dgen.toy import build_toy_problem

METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "unroll func": ("unroll", {}),
    "unroll func reuse_grads": ("unroll", {"reuse_grads": True}),
    "unroll func self_second_order=False": ("unroll", {"self_second_order": False}),
    "unroll higher": ("unroll", {"backend": "higher"}),
    "darts": ("darts", {}),
    "first_order": ("first_order", {}),
}


def _solvers(seed: int, steps: int, dtype: torch.dtype) -> tuple[dict[str, tuple[Solver, Any]], dict[str, str]]:
    built, refused = {}, {}
    for label, (name, options) in METHODS.items():
        problem, data = build_toy_problem(seed, dtype, unroll_steps=steps)
        try:
            built[label] = (create_solver(name, problem, **options), data)
        except SolverError as err:
            refused[label] = str(err)
    return built, refused


def time_steps(seed: int, steps: int, reps: int, warmup: int) -> tuple[dict[str, float], dict[str, str]]:
    """Median seconds of one ``step`` per method (float32)."""
    solvers, refused = _solvers(seed, steps, torch.float32)
    times: dict[str, list[float]] = {label: [] for label in solvers}
    for i in range(warmup + reps):
        for label, (solver, data) in solvers.items():
            batch = data.batch(i)
            start = time.perf_counter()
            solver.step(batch)
            if i >= warmup:
                times[label].append(time.perf_counter() - start)
    return {label: statistics.median(t) for label, t in times.items()}, refused


def cosines(seed: int, steps: int, warmup: int) -> dict[str, float]:
    """Cosine of each method's alpha hypergradient with the exact one, float64, at a warmed-up state."""
    problem, data = build_toy_problem(seed, torch.float64, unroll_steps=steps)
    exact_solver = create_solver("unroll", problem)
    for i in range(warmup):
        exact_solver.step(data.batch(i))
    batch = data.batch(warmup)
    exact = exact_solver.hypergradients(batch)["arch"][0]
    out = {}
    for label, (name, options) in METHODS.items():
        try:
            grad = create_solver(name, problem, **options).hypergradients(batch)["arch"][0]
        except SolverError:
            continue
        out[label] = float(torch.nn.functional.cosine_similarity(grad, exact, dim=0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40, help="timed steps per method")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps before timing / before the cosines")
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2], help="look-ahead steps K to benchmark")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"toy MLO step, torch {torch.__version__}, {args.threads} thread(s), median of {args.reps} interleaved steps")
    for steps in args.steps:
        medians, refused = time_steps(args.seed, steps, args.reps, args.warmup)
        cos = cosines(args.seed, steps, args.warmup)
        fastest = min(medians.values())
        print(f"\nK = {steps} look-ahead step(s)")
        print(f"{'method':38s} {'ms/step':>8s} {'x fastest':>9s} {'cos(alpha hypergrad, exact)':>28s}")
        for label in METHODS:
            if label in refused:
                print(f"{label:38s} {'refused':>8s}   {refused[label][:90]}...")
                continue
            print(f"{label:38s} {1e3 * medians[label]:8.2f} {medians[label] / fastest:9.2f} {cos[label]:28.10f}")


if __name__ == "__main__":
    main()
