"""Learning per-sample weights of a noisy training set: a 2-level problem with dgen's public MLO API.

A small classifier trains on ``sum_i sigmoid(v_i) * CE_i / N`` over a training set in which a fraction
of the labels is flipped; the weight logits ``v`` (one per training sample) are the upper level, chosen
to minimise the classifier's loss on a small *clean* validation set at its look-ahead::

    min_v  L_val(theta*(v))    s.t.  theta*(v) = argmin_theta  sum_i sigmoid(v_i) CE(f_theta(x_i), y_i) / N

The hypergradient of ``v_i`` is about ``-lr * sigmoid'(v_i) * <grad L_val, grad CE_i> / N``: a sample whose
gradient disagrees with the clean validation gradient (a flipped label) gets a positive hypergradient and
its weight goes down. Run it::

    python examples/custom_mlo/reweight.py --steps 200

See docs/custom_mlo.md for a walk-through.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dgen.mlo import Context, Level, Problem, Solver, create_solver

__all__ = ["Batch", "Experiment", "ModelLevel", "WeightLevel", "build", "main", "summary", "uniform_step"]


@dataclass(frozen=True)
class Batch:
    """What both losses read: training points ``x`` ``(N, 2)`` with (noisy) labels ``y`` ``(N,)``, clean
    validation points ``x_val`` ``(V, 2)`` with labels ``y_val`` ``(V,)``."""

    x: Tensor
    y: Tensor
    x_val: Tensor
    y_val: Tensor


class WeightLevel(Level):
    """Upper level: the weight logits ``v`` ``(N,)``; its loss is the classifier's clean validation loss.

    It reads ``v`` only through the classifier's look-ahead (``direct=False``, ``lower=("model",)``).
    """

    def __init__(self, logits: nn.Parameter, model: nn.Module, lr: float) -> None:
        super().__init__("weights", [logits], torch.optim.Adam([logits], lr=lr), lower=("model",), direct=False)
        self.model = model

    def loss(self, ctx: Context, batch: Batch) -> Tensor:
        return F.cross_entropy(ctx.call(self.model, batch.x_val), batch.y_val)


class ModelLevel(Level):
    """Lower level: the classifier's parameters; its loss is the ``sigmoid(v)``-weighted training loss."""

    def __init__(self, model: nn.Module, logits: nn.Parameter, lr: float) -> None:
        params = list(model.parameters())
        super().__init__("model", params, torch.optim.SGD(params, lr=lr), upper=("weights",))
        self.model, self.logits = model, logits

    def loss(self, ctx: Context, batch: Batch) -> Tensor:
        per_sample = F.cross_entropy(ctx.call(self.model, batch.x), batch.y, reduction="none")  # (N,)
        return (torch.sigmoid(ctx.param(self.logits)) * per_sample).mean()  # ctx.param: v may be a look-ahead input


@dataclass
class Experiment:
    """A built problem: its solver, the batch, the variables, which training labels were flipped, and a
    clean held-out test set ``(x (T, 2), y (T,))`` that no level sees."""

    problem: Problem
    solver: Solver
    batch: Batch
    model: nn.Module
    logits: nn.Parameter
    corrupted: Tensor  # (N,) bool
    test: tuple[Tensor, Tensor]


def _blobs(n: int, gen: torch.Generator, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """Two Gaussian classes in 2-D: ``x`` ``(n, 2)``, ``y`` ``(n,)`` in {0, 1}."""
    y = torch.randint(2, (n,), generator=gen)
    centres = torch.tensor([[-1.0, -0.5], [1.0, 0.5]], dtype=dtype)
    return centres[y] + 0.8 * torch.randn(n, 2, generator=gen, dtype=dtype), y


def build(
    seed: int = 0,
    *,
    noise: float = 0.3,
    n_train: int = 64,
    n_val: int = 32,
    lr_weights: float = 0.1,
    lr_model: float = 0.5,
    solver: str = "unroll",
    dtype: torch.dtype = torch.float32,
) -> Experiment:
    """The reweighting problem, deterministic given ``seed`` (the global RNG is left untouched).

    Args:
        noise: fraction of training labels flipped.
        n_train, n_val: sizes of the noisy training set and the clean validation set.
        lr_weights: Adam learning rate of the weight logits (initialised at 0: every weight 0.5).
        lr_model: SGD learning rate of the classifier (also its look-ahead step).
        solver: ``unroll`` (exact) or ``darts`` (finite differences).
    """
    gen = torch.Generator().manual_seed(seed)
    x, y = _blobs(n_train, gen, dtype)
    corrupted = torch.rand(n_train, generator=gen) < noise
    y = torch.where(corrupted, 1 - y, y)
    x_val, y_val = _blobs(n_val, gen, dtype)
    test = _blobs(1024, gen, dtype)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).to(dtype)
    logits = nn.Parameter(torch.zeros(n_train, dtype=dtype))
    problem = Problem([WeightLevel(logits, model, lr_weights), ModelLevel(model, logits, lr_model)])
    batch = Batch(x, y, x_val, y_val)
    return Experiment(problem, create_solver(solver, problem), batch, model, logits, corrupted, test)


def uniform_step(exp: Experiment) -> dict[str, float]:
    """The baseline: one ordinary step of the classifier alone, every weight staying ``sigmoid(0) = 0.5``."""
    level = exp.problem.level("model")
    loss = level.loss(Context(), exp.batch)  # a live Context: plain training
    level.optimizer.zero_grad()
    loss.backward()
    level.optimizer.step()
    with torch.no_grad():
        return {"loss/weights": float(F.cross_entropy(exp.model(exp.batch.x_val), exp.batch.y_val))}


@torch.no_grad()
def summary(exp: Experiment) -> dict[str, float]:
    """Mean weight ``sigmoid(v)`` of the flipped and of the clean samples, and the held-out test accuracy."""
    weights = torch.sigmoid(exp.logits)
    x_test, y_test = exp.test
    return {
        "weight_corrupted": float(weights[exp.corrupted].mean()),
        "weight_clean": float(weights[~exp.corrupted].mean()),
        "test_accuracy": float((exp.model(x_test).argmax(1) == y_test).double().mean()),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    """``python reweight.py [--steps N] [--seed S] [--noise P] [--solver unroll|darts] [--uniform]``.

    Prints and returns :func:`summary`; ``--uniform`` trains the classifier alone with equal weights.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=0.3)
    parser.add_argument("--solver", choices=("unroll", "darts"), default="unroll")
    parser.add_argument("--uniform", action="store_true", help="baseline: equal weights, no upper level")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # tensors this small only lose time to thread synchronisation
    exp = build(args.seed, noise=args.noise, solver=args.solver)
    for step in range(1, args.steps + 1):
        stats = uniform_step(exp) if args.uniform else exp.solver.step(exp.batch)
        if step % 50 == 0 or step == args.steps:
            print(f"step {step}: val loss {stats['loss/weights']:.4f}, " +
                  ", ".join(f"{k} {v:.3f}" for k, v in summary(exp).items()))
    return summary(exp)


if __name__ == "__main__":
    main()
