"""How much signal does a ``steer`` run's hypergradient carry? Its noise, measured at fixed variables.

The ``steer`` method updates its variables (appearance magnitudes, pool weights, generator) from one
hypergradient per step: one training batch, one validation batch, one appearance draw. If the expected
hypergradient is small against the spread of single estimates, Adam's steps are a random walk, which is
what the runs show (the appearance ends within ±20 % of its start). This script measures it directly:
it trains a ``steer`` run in-process and, at a few steered iterations, draws ``--samples`` fresh batches
at the *same* variables and computes the hypergradient of each (nothing is updated; BatchNorm buffers are
restored after each). Per steered variable (and, for the generator, the validation term alone: its
hypergradient minus the gradient of its own pix2pix loss on the same batch) it prints

* ``|mean|``: norm of the mean hypergradient;  ``noise``: sqrt of the summed per-coordinate variance of
  one estimate (tr Σ);
* ``snr``: (|mean|² − tr Σ / N) / tr Σ — the squared signal against the noise of *one* estimate (0 when
  the mean is within its own error); ``samples``: 1 / snr, how many estimates must be averaged before the
  signal equals the noise;
* ``halves``: cosine of the mean of the first and of the second half of the samples (≈ 0: no common
  direction; ≈ 1: a direction every half agrees on);
* for the appearance and the geometry, each magnitude's mean hypergradient in units of its standard error (t).

    PYTHONPATH=.:plugins/genseg DGEN_DATA_ROOT=../shared/data python benchmarks/hypergrad_noise.py \\
        --task polyp --n-labeled 40 --config plugins/genseg/recipes/genseg_fixes_cpu.json \\
        --set hyper_every=8 --at 1 250 500 990 --samples 48 --json noise.json

``--config``/``--set`` take what ``dgen run`` takes; the method is ``steer`` with the variables of
``--method`` (default ``steer:appearance+weights+generator``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import Tensor, nn

from dgen.config import build_config, load_config_file, parse_assignments
from dgen.mlo import Context, gradient_noise
from dgen.rng import seed_everything
from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
from dgen_genseg.pipeline.methods import MethodTrainer, Steer, build_trainer
from dgen_genseg.pipeline.preflight import preflight
from dgen_genseg.pipeline.sampler import PairSampler

console = Console(stderr=True)


def _flat(grads: list[Tensor | None], params: list[Tensor]) -> Tensor:
    """One gradient per parameter (None: unused, as 0) -> one flat vector ``(D,)``."""
    return torch.cat([(torch.zeros_like(p) if g is None else g).detach().flatten()
                      for g, p in zip(grads, params, strict=True)])


class Snapshot:
    """The buffers (BatchNorm statistics) of some modules, to put back after a measurement."""

    def __init__(self, modules: list[nn.Module]) -> None:
        self.saved = [(m, {k: v.clone() for k, v in m.state_dict().items()}) for m in modules]

    def restore(self) -> None:
        """Put every module's saved state back."""
        for module, state in self.saved:
            module.load_state_dict(state)


def measure(method: Steer, iteration: int, samples: int) -> dict[str, Any]:
    """``samples`` hypergradients of ``method`` at ``iteration`` (variables fixed), split by steered variable."""
    groups: dict[str, list[Tensor]] = {}  # in the order of the steer level's parameters (SteerStep's groups)
    magnitude_modules = {"appearance": method.appearance, "geometry": method.geometry}
    for name, module in magnitude_modules.items():
        if module is not None:
            groups[name] = list(module.parameters())
    if method.pool is not None:
        groups["weights" if method.pool.per_pair else "weightnet"] = list(method.pool.weights.parameters())
    if "arch" in method.variables:
        groups["arch"] = list(method.gan.generator.arch_parameters())
    problem, solver = method.mlo.problem, method.mlo.solver
    gen_level = problem.level("gen") if "generator" in method.variables else None
    snapshot = Snapshot([method.gan.generator, method.seg.segmenter, method.gan.discriminator])
    rows: dict[str, list[Tensor]] = {}
    for _ in range(samples):
        batch = method.sample_batch(iteration)
        hyper = solver.hypergradients(batch)
        if groups:
            flat = _flat(hyper["steer"], problem.level("steer").params)
            start = 0
            for name, params in groups.items():
                size = sum(p.numel() for p in params)
                rows.setdefault(name, []).append(flat[start: start + size])
                start += size
        if gen_level is not None:
            total = _flat(hyper["gen"], gen_level.params)
            own_loss = gen_level.loss(Context(), batch)
            own = _flat(list(torch.autograd.grad(own_loss, gen_level.params, allow_unused=True)), gen_level.params)
            rows.setdefault("generator (total)", []).append(total)
            rows.setdefault("generator (validation term)", []).append(total - own)
        snapshot.restore()
    result: dict[str, Any] = {}
    for name, vectors in rows.items():
        noise = gradient_noise(torch.stack(vectors))
        result[name] = {"dim": noise.dim, "mean_norm": noise.mean_norm, "noise": noise.noise, "snr": noise.snr,
                        "samples": noise.samples_needed, "halves": noise.halves}
        if magnitude_modules.get(name) is not None:
            magnitudes = magnitude_modules[name].magnitudes()
            result[name]["t"] = dict(zip(magnitudes, noise.t.tolist()))
            result[name]["magnitudes"] = {k: float(v.detach()) for k, v in magnitudes.items()}
    return result


def build(args: argparse.Namespace) -> MethodTrainer:
    """The run's trainer, built as ``dgen run genseg`` builds it (checks, splits, seeds)."""
    values: dict[str, Any] = {}
    if args.config:
        values.update(load_config_file(Path(args.config)))
    values.update(task=args.task, n_labeled=args.n_labeled, backbone=args.backbone, seed=args.seed,
                  preset=args.preset, method=args.method, **parse_assignments(args.set))
    config = build_config(GenSegConfig, values)
    device = torch.device("cpu")
    config, _ = resolve_preset(config, device)
    task = preflight(config, console=console)
    seed_everything(config.seed)
    splits = task.splits()
    trainer = build_trainer(config, task, PairSampler(splits.train, device, config.seed),
                            PairSampler(splits.val, device, config.seed + 1), device)
    if not isinstance(trainer.method, Steer):
        raise SystemExit(f"--method {args.method!r} is not a steer method")
    return trainer


def main() -> None:
    """Parse the arguments, train, measure at each ``--at`` point, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="polyp")
    parser.add_argument("--n-labeled", type=int, default=40)
    parser.add_argument("--backbone", default="unet")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--method", default="steer:appearance+weights+generator")
    parser.add_argument("--config", help="a recipe, as dgen run --config takes")
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE, as dgen run --set")
    parser.add_argument("--at", type=int, nargs="+", default=[1, 250, 500, 990],
                        help="steered iterations (counted from the end of the warm-up) to measure at; at a multiple "
                             "of pool_refresh the pool is measured before its refill")
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args()
    trainer = build(args)
    method: Steer = trainer.method
    starts, total = trainer.segmenter_starts, trainer.total_iterations
    points = sorted(starts + a for a in args.at if 1 <= a <= total - starts)
    if not points:
        raise SystemExit(f"--at {args.at}: no point in 1..{total - starts}, the run's steered iterations")
    report: dict[str, Any] = {"args": vars(args), "points": {}}
    began = time.perf_counter()
    for iteration in range(points[-1]):
        trainer.step(iteration)
        if iteration + 1 in points:
            at = time.perf_counter()
            result = measure(method, iteration + 1, args.samples)
            report["points"][iteration + 1 - starts] = result
            console.print(f"steered iteration {iteration + 1 - starts} ({time.perf_counter() - at:.0f} s for "
                          f"{args.samples} samples; {time.perf_counter() - began:.0f} s in all)")
            for name, s in result.items():
                extra = "  t " + " ".join(f"{k} {v:+.1f}" for k, v in s["t"].items()) if "t" in s else ""
                console.print(f"  {name:28s} dim {s['dim']:>8d}  |mean| {s['mean_norm']:.3g}  noise {s['noise']:.3g}"
                              f"  snr {s['snr']:.3g}  samples {s['samples']:.3g}  halves {s['halves']:+.2f}{extra}",
                              markup=False, highlight=False)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
