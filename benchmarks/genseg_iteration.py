"""Time one GenSeg iteration per MLO solver/option against one plain joint G+D+S iteration; memory; α cosines.

Every method trains its own copy of the pipeline's models, built as ``dgen run genseg --preset cpu``
builds them (shapes task, smp U-Net resnet18 with encoder_depth 4, searchable pix2pix generator ngf 8 /
6 levels / channels capped at 4 x ngf / dropout 0.5, PatchGAN ndf 8, batch 4, the preset's optimisers),
at each ``--sizes`` image size; ``--preset paper`` builds the paper preset's models instead (U-Net
resnet34, generator ngf 64 / 8 levels, batch 2; its size is 256). A GenSeg iteration is the ``genseg`` method's ``step`` after the warm-up:
sampling, mask augmentation, the discriminator step and one MLO step (α's hypergradient through the
look-ahead of G and S, then the ordinary updates of G and S). The plain joint iteration does the same
sampling and augmentation, then a discriminator step, a generator step on the pix2pix loss and a
segmenter step on synthetic (detached) + real pairs, with ordinary backprop and no MLO: the ``joint``
method's ``step``.

* Time: the methods take turns within each repetition (interleaved), so drifts of a shared machine hit
  all of them alike; the median over repetitions is reported, with its ratio to the plain joint
  iteration, as wall time and as CPU time of this process. With one thread the CPU time is what the
  wall time would be on an idle machine, and it is far less sensitive to other processes than the wall
  time (not insensitive: they still share caches and memory bandwidth). On CUDA every step is
  synchronised and only the wall time means anything.
* Memory: on CUDA, ``torch.cuda.max_memory_allocated`` during one step minus the memory allocated
  before it (in the timing process). On the CPU, torch's allocations are invisible to tracemalloc, and
  the resident set of a process never shrinks back reliably, so each method runs in a fresh
  subprocess: the peak resident set size (``VmHWM``) over a few iterations minus the resident set after
  building the models and data. That includes the optimisers' state (created by the first iterations)
  and the allocator's slack: an upper bound of what an iteration needs, comparable between methods.
* Cosines: in float64 and with dropout off (so every method sees the same network), after a few exact
  MLO iterations that give the optimisers a state, each method's α hypergradient on one batch is
  compared with the exact one (``unroll``, ``func``). With K = 1 look-ahead step, ``reuse_grads`` (it
  only changes the ordinary update) and ``self_second_order=False`` (the first step starts at the live
  variables) give the exact hypergradient by construction.

    PYTHONPATH=. .venv/bin/python benchmarks/genseg_iteration.py [--sizes 64 128] [--reps 10]
        [--device cpu|cuda] [--preset cpu|paper] [--threads 1] [--no-memory] [--no-cosine]
        [--profile "unroll func reuse_grads"]

Numbers on a shared machine are noisy: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from dgen.plugins import create
from dgen_genseg.gan import PatchDiscriminator
from dgen_genseg.metrics import bce_dice_loss
from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
from dgen_genseg.pipeline.levels import GenSegBatch
from dgen_genseg.pipeline.sampler import PairSampler
from dgen_genseg.pipeline.methods import GenSeg, Joint
from dgen_genseg.pipeline.parts.networks import Pix2PixInputs

PLAIN = "plain joint G+D+S (no MLO)"
EXACT = "unroll func"


@dataclass(frozen=True)
class Method:
    """A solver name and its options; ``solver=None`` is the plain joint iteration."""

    solver: str | None
    options: dict[str, Any] = field(default_factory=dict)


METHODS: dict[str, Method] = {
    PLAIN: Method(None),
    EXACT: Method("unroll", {"reuse_grads": False}),
    "unroll func reuse_grads (pipeline default)": Method("unroll", {"reuse_grads": True}),
    "unroll func self_second_order=False": Method("unroll", {"reuse_grads": False, "self_second_order": False}),
    "unroll higher": Method("unroll", {"backend": "higher", "reuse_grads": False}),
    "darts": Method("darts", {}),
}


def build_trainer(
    label: str, size: int, device: torch.device, *, preset: str = "cpu", dtype: torch.dtype = torch.float32,
    dropout: float | None = None,
) -> GenSeg | Joint:
    """``preset``'s GenSeg method at ``size``² with ``label``'s solver (the joint method for the plain
    iteration), models built as the pipeline does."""
    config, _ = resolve_preset(GenSegConfig(task="shapes", preset=preset, image_size=size), device)
    task = create("tasks", "shapes", n_labeled=config.n_labeled, image_size=size, seed=config.seed, n_test=1)
    splits = task.splits()
    torch.manual_seed(config.seed)
    segmenter = create("segmenters", config.backbone, in_channels=task.channels, classes=1, **config.backbone_options)
    generator = create(
        "generators", "pix2pix", in_channels=task.mask_channels, out_channels=task.channels, ngf=config.ngf,
        num_downs=config.num_downs, max_mult=config.max_mult, dropout=dropout,
    )  # fmt: skip
    discriminator = PatchDiscriminator(
        condition_channels=task.mask_channels, image_channels=task.channels, ndf=config.ndf
    )
    for module in (segmenter, generator, discriminator):
        module.to(device=device, dtype=dtype)
    train, val = PairSampler(splits.train, device, config.seed), PairSampler(splits.val, device, config.seed + 1)
    for sampler in (train, val):
        sampler.images, sampler.masks = sampler.images.to(dtype), sampler.masks.to(dtype)
    inputs = Pix2PixInputs(
        config, segmenter, bce_dice_loss, train, val, create("augmenters", config.augmenter), generator, discriminator
    )
    method = METHODS[label]
    if method.solver is None:
        return Joint(inputs)
    trainer = GenSeg(inputs)
    trainer.mlo.solver = create("solvers", method.solver, problem=trainer.mlo.problem, **method.options)
    return trainer


def stepper(label: str, trainer: GenSeg | Joint) -> Callable[[int], None]:
    """``step(i)``: the i-th timed iteration of ``label`` (past the method's GAN warm-up)."""
    return lambda i: trainer.step(trainer.schedule.warmup + i)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_methods(
    size: int, reps: int, warmup: int, device: torch.device, preset: str = "cpu"
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Per method (interleaved): median wall seconds and median CPU seconds of this process per iteration,
    and, on CUDA, the peak extra bytes allocated during a step."""
    steps = {label: stepper(label, build_trainer(label, size, device, preset=preset)) for label in METHODS}
    wall: dict[str, list[float]] = {label: [] for label in METHODS}
    cpu: dict[str, list[float]] = {label: [] for label in METHODS}
    peaks: dict[str, float] = {label: 0.0 for label in METHODS}
    for i in range(warmup + reps):
        for label, step in steps.items():
            _sync(device)
            if device.type == "cuda":
                before = torch.cuda.memory_allocated(device)
                torch.cuda.reset_peak_memory_stats(device)
            start, start_cpu = time.perf_counter(), time.process_time()
            step(i)
            _sync(device)
            if i >= warmup:
                wall[label].append(time.perf_counter() - start)
                cpu[label].append(time.process_time() - start_cpu)
                if device.type == "cuda":
                    peaks[label] = max(peaks[label], torch.cuda.max_memory_allocated(device) - before)
    return _medians(wall), _medians(cpu), peaks


def _medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {label: statistics.median(values) for label, values in samples.items()}


def _proc_status_kib(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {key}")


def memory_probe(label: str, size: int, iterations: int, preset: str = "cpu") -> dict[str, float]:
    """In this (fresh) process: resident MiB after building ``label``'s models, and the peak over ``iterations``."""
    trainer = build_trainer(label, size, torch.device("cpu"), preset=preset)
    built = _proc_status_kib("VmRSS")
    step = stepper(label, trainer)
    for i in range(iterations):
        step(i)
    return {"built_mib": built / 1024, "peak_mib": _proc_status_kib("VmHWM") / 1024}


def cpu_memory(size: int, iterations: int, threads: int, preset: str = "cpu") -> dict[str, dict[str, float]]:
    """:func:`memory_probe` of every method, each in its own subprocess."""
    out = {}
    for label in METHODS:
        command = [sys.executable, __file__, "--probe", label, "--sizes", str(size), "--threads", str(threads),
                   "--probe-iterations", str(iterations), "--preset", preset]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        out[label] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def cosines(size: int, device: torch.device, warmup: int, preset: str = "cpu") -> dict[str, float]:
    """Cosine of each method's α hypergradient with the exact one, float64, dropout off, after ``warmup`` steps."""
    trainer = build_trainer(EXACT, size, device, preset=preset, dtype=torch.float64, dropout=0.0)
    for i in range(warmup):
        trainer.step(trainer.schedule.warmup + i)
    images, masks = trainer.data.real()
    aug_masks, _ = trainer.data.conditions(masks, generator=torch.Generator().manual_seed(1))
    val_images, val_masks = trainer.data.validation()
    batch = GenSegBatch(images, masks, aug_masks, val_images, val_masks)

    def flat_hypergradient(method: Method) -> torch.Tensor:
        solver = create("solvers", method.solver, problem=trainer.mlo.problem, **method.options)
        return torch.cat([g.flatten() for g in solver.hypergradients(batch)["arch"]])

    exact = flat_hypergradient(METHODS[EXACT])
    return {
        label: float(F.cosine_similarity(flat_hypergradient(method), exact, dim=0))
        for label, method in METHODS.items()
        if method.solver is not None
    }


def profile(label: str, size: int, device: torch.device, iterations: int = 3, preset: str = "cpu") -> None:
    """Print torch.profiler's operators of ``label``'s iterations, by self CPU time."""
    step = stepper(label, build_trainer(label, size, device, preset=preset))
    for i in range(2):
        step(i)
    with torch.profiler.profile() as prof:
        for i in range(iterations):
            step(2 + i)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(
    size: int, batch: int, wall: dict[str, float], cpu: dict[str, float], memory: dict[str, float],
    cos: dict[str, float],
) -> None:
    def ratio(values: dict[str, float], label: str) -> str:
        return f"{values[label] / values[PLAIN]:.2f}" if label in values and values.get(PLAIN) else "-"

    print(f"\n{size}x{size}, batch {batch}")
    print(
        f"{'method':44s} {'wall s':>7s} {'x plain':>7s} {'CPU s':>7s} {'x plain':>7s} {'peak MiB':>9s} {'x plain':>7s} "
        f"{'cos(alpha grad, exact)':>22s}"
    )
    for label in METHODS:
        mem = f"{memory[label]:.0f}" if label in memory else "-"
        cosine = f"{cos[label]:.6f}" if label in cos else "-"
        print(
            f"{label:44s} {wall[label]:7.3f} {ratio(wall, label):>7s} {cpu[label]:7.3f} {ratio(cpu, label):>7s} "
            f"{mem:>9s} {ratio(memory, label):>7s} {cosine:>22s}"
        )
    print(f"{'first_order':44s} refused: alpha is direct=False, so its first-order hypergradient is identically 0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="image sizes (default: 64 128 for cpu, 256 for paper)")
    parser.add_argument("--preset", default="cpu", choices=["cpu", "paper"], help="the models and batch of this preset")
    parser.add_argument("--reps", type=int, default=10, help="timed iterations per method")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations per method before timing")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (CPU)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses (CPU)")
    parser.add_argument("--no-cosine", action="store_true", help="skip the float64 cosines")
    parser.add_argument("--cosine-warmup", type=int, default=3, help="exact MLO iterations before the cosines")
    parser.add_argument("--profile", metavar="METHOD", choices=list(METHODS), help="profile one method and exit")
    parser.add_argument("--probe", metavar="METHOD", choices=list(METHODS), help=argparse.SUPPRESS)
    parser.add_argument("--probe-iterations", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sizes = args.sizes or ([256] if args.preset == "paper" else [64, 128])
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.probe:
        print(json.dumps(memory_probe(args.probe, args.sizes[0], args.probe_iterations, args.preset)))
        return
    if args.profile:
        profile(args.profile, args.sizes[0], device, preset=args.preset)
        return
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {args.threads} thread(s)"
    print(f"GenSeg iteration, {args.preset} preset, torch {torch.__version__}, {where}, {os.cpu_count()} cores")
    print(f"median of {args.reps} interleaved iterations after {args.warmup} untimed; load average before: {_load()}")
    for size in args.sizes:
        wall, cpu, peaks = time_methods(size, args.reps, args.warmup, device, args.preset)
        if device.type == "cuda":
            memory = {label: peak / 2**20 for label, peak in peaks.items()}
        elif args.no_memory:
            memory = {}
        else:
            probes = cpu_memory(size, args.probe_iterations, args.threads, args.preset)
            memory = {label: p["peak_mib"] - p["built_mib"] for label, p in probes.items()}
        cos = {} if args.no_cosine else cosines(size, device, args.cosine_warmup, args.preset)
        batch = resolve_preset(GenSegConfig(task="shapes", preset=args.preset, image_size=size), device)[0].batch_size
        report(size, batch, wall, cpu, memory, cos)
        print(f"load average: {_load()}")
    kind = "peak CUDA memory allocated during a step" if device.type == "cuda" else (
        "peak RSS over iterations minus RSS after building (own subprocess; includes optimiser state)")
    print(f"\npeak MiB: {kind}")


if __name__ == "__main__":
    main()
