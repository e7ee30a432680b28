"""The built-in ``toy`` pipeline: ``dgen run toy`` runs a real 3-level MLO on CPU in seconds."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import torch
from rich.progress import track

from dgen.checkpoint import atomic_write_text
from dgen.pipeline import Pipeline, RunContext
from dgen.plugins import create
from dgen.ranges import Range, check_ranges
from dgen.records import Axis, Records
from dgen.rundir import ITERATION_COLUMN, LOG_FILE, METRICS_FILE, OUT_OF_DOMAIN_KEY, TEST_KEY, VAL_KEY
from dgen.toy.problem import CANDIDATES, build_toy_problem, evaluate

__all__ = ["ToyConfig", "ToyPipeline", "TOY_RECORDS"]

#: what a toy run records: the MSE of the segmenter on its test set, solvers compared against ``unroll``.
TOY_RECORDS = Records(
    metrics=("mse",), headline="mse", lower_is_better=("mse",),
    axes=(Axis("solver", str, "", '["unroll", "darts"]'), Axis("n_train", int, "n", "[8, 16]")),
    compared="solver", sweep="n_train", baseline="unroll",
    facts=("iterations",), info=("chosen_op", "wall_seconds", "iterations", "device"),
)


@dataclass
class ToyConfig:
    """Options of ``dgen run toy``.

    Attributes:
        seed: seeds the data, the augmentation stream and the initial weights.
        iterations: MLO iterations (one step of every level each).
        solver: hypergradient of alpha: unroll (exact), darts (finite differences), first_order.
        backend: unroll's backend: func (torch.func) or higher.
        reuse_grads: unroll: reuse the look-ahead gradients for the ordinary updates.
        unroll_steps: differentiable steps of the gen and seg levels per iteration (K).
        n_train, n_val: real training and validation pairs (at least 2 each).
        lr_arch: Adam learning rate of alpha, the generator's choice of op.
    """

    seed: int = 0
    iterations: int = 300
    solver: Literal["unroll", "darts", "first_order"] = "unroll"
    backend: Literal["func", "higher"] = "func"
    reuse_grads: bool = True
    unroll_steps: int = 1
    n_train: int = 16
    n_val: int = 16
    lr_arch: float = 0.1

    def __post_init__(self) -> None:
        check_ranges(self, TOY_RULES)


#: the values every numeric option of ``dgen run toy`` accepts (checked when the options are read).
TOY_RULES = {
    "seed": Range(low=0, high=2**32 - 1, example="0", meaning="a random seed"),
    "iterations": Range(low=1, example="300"),
    "unroll_steps": Range(low=1, example="1"),
    "n_train": Range(low=1, example="16", meaning="training points"),
    "n_val": Range(low=1, example="16", meaning="validation points"),
    "lr_arch": Range(low=0, low_open=True, example="0.1", meaning="a learning rate"),
}


class ToyPipeline(Pipeline):
    """Searches the toy generator's op (linear / tanh / sin) by the segmenter's validation loss.

    The true data process uses ``tanh``, so a working hypergradient selects it. Writes
    ``metrics.json`` (validation/test MSE before and after, the final softmax(α) and the
    chosen op; ``"test"``/``"val"`` as :data:`TOY_RECORDS` declares) and ``log.csv``.
    """

    config_class = ToyConfig
    records = TOY_RECORDS

    def run(self, config: ToyConfig, context: RunContext) -> dict[str, Any]:
        started = time.perf_counter()
        problem, data = build_toy_problem(
            config.seed, device=context.device, n_train=config.n_train, n_val=config.n_val,
            unroll_steps=config.unroll_steps, lr_arch=config.lr_arch,
        )
        options: dict[str, Any] = {"backend": config.backend, "reuse_grads": config.reuse_grads} if config.solver == "unroll" else {}
        solver = create("solvers", config.solver, problem=problem, **options)
        before = {"val": evaluate(problem, data, "val"), "test": evaluate(problem, data, "test")}
        alpha = problem.level("arch").params[0]
        rows = [f"{ITERATION_COLUMN},arch,gen,seg," + ",".join(f"p_{c}" for c in CANDIDATES)]
        for i in track(range(config.iterations), description="toy MLO", disable=not context.progress):
            stats = solver.step(data.batch(i))
            weights = torch.softmax(alpha.detach(), 0).tolist()
            losses = [stats.get(f"loss/{k}", float("nan")) for k in ("arch", "gen", "seg")]
            rows.append(",".join(f"{v:.6g}" for v in [i, *losses, *weights]))
            context.heartbeat(i + 1, config.iterations)
        atomic_write_text(context.run_dir / LOG_FILE, "\n".join(rows) + "\n")
        weights = torch.softmax(alpha.detach(), 0).tolist()
        val_mse, test_mse = evaluate(problem, data, "val"), evaluate(problem, data, "test")
        metrics = {
            "pipeline": "toy", "solver": config.solver, "seed": config.seed, "iterations": config.iterations,
            "val_mse_before": before["val"], "val_mse": val_mse,
            "test_mse_before": before["test"], "test_mse": test_mse,
            TEST_KEY: {"toy": {"mse": test_mse}}, VAL_KEY: {"mse": val_mse}, OUT_OF_DOMAIN_KEY: [],
            "alpha_softmax": dict(zip(CANDIDATES, weights)), "chosen_op": CANDIDATES[max(range(3), key=weights.__getitem__)],
            "wall_seconds": round(time.perf_counter() - started, 3), "device": str(context.device),
        }
        atomic_write_text(context.run_dir / METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
        return metrics
