"""Two ``dgen run genseg`` processes started by hand on one machine: seconds per iteration, alone vs two at once.

Three scenarios, each a fresh run (or two) of ``dgen run genseg --task shapes --preset cpu`` with the
same options, one after the other:

* ``alone``: one run with the default thread count (its fair share: every core, being alone);
* ``two, default``: two runs started together with the default (each registers itself and takes half
  the cores, see ``dgen/threads.py``);
* ``two, old default``: two runs started together, each forced to every core with ``--threads <cores>``
  (what both did before runs shared the cores: torch's default of one thread per core).

Seconds per iteration are read from each run's ``progress.json`` (rewritten every second): the script
samples it every ``--poll`` seconds and takes, per run, the median over sampling intervals of seconds per
iteration, counting only intervals where every run of the scenario was training (so a start-up or
finish that does not overlap is left out). It prints the medians and their ratio to the lone run; the
target is each of two default runs at most 2.5x its lone time.

``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` are removed from the runs' environment: they would cap the
default share and hide what the defaults do.

    PYTHONPATH=.:plugins/genseg .venv/bin/python benchmarks/concurrency.py [--iterations 60]
        [--method none|genseg|...] [--poll 0.5] [--limit 180] [--keep DIR]

Run it on an otherwise idle machine: other processes change both the lone and the shared times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dgen.progress import read_progress
from dgen.threads import available_cores

_STRIPPED = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _command(out: Path, args: argparse.Namespace, threads: int | None) -> list[str]:
    command = [sys.executable, "-m", "dgen.cli", "run", "genseg", "--task", "shapes", "--preset", "cpu",
               "--set", f"iterations={args.iterations}", "--set", f"method={args.method}",
               "--set", "warmup_iterations=0", "--set", f"val_every={args.iterations}",
               "--set", f"checkpoint_every={args.iterations}", "--device", "cpu", "--no-progress", "--out", str(out)]
    return command + (["--threads", str(threads)] if threads else [])


def _scenario(name: str, runs: int, threads: int | None, root: Path, args: argparse.Namespace) -> list[float]:
    """Start ``runs`` runs together; the median seconds per iteration of each while all were training."""
    env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    dirs = [root / f"{name.replace(' ', '_').replace(',', '')}-{i}" for i in range(runs)]
    processes = [subprocess.Popen(_command(d, args, threads), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for d in dirs]
    samples: list[list[tuple[float, int]]] = [[] for _ in dirs]
    rates: list[list[float]] = [[] for _ in dirs]
    started, stopped = time.monotonic(), False
    try:
        while any(p.poll() is None for p in processes):
            if time.monotonic() - started > args.limit and all(len(r) >= 3 for r in rates):
                stopped = True  # enough overlapping samples: a collapsed scenario need not run to its end
                break
            time.sleep(args.poll)
            progress = [read_progress(d) for d in dirs]
            training = all(p is not None and 0 < p.iteration < p.total for p in progress)
            for i, p in enumerate(progress):
                if p is None:
                    continue
                last = samples[i][-1] if samples[i] else None
                if last is not None and p.iteration > last[1] and training:
                    rates[i].append((p.updated - last[0]) / (p.iteration - last[1]))
                if last is None or p.iteration > last[1]:
                    samples[i].append((p.updated, p.iteration))
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
            p.wait()
    for p, d in zip(processes, dirs):
        if p.returncode != 0 and not stopped:
            raise SystemExit(f"{name}: the run in {d} failed: {(p.stderr.read() if p.stderr else '').strip()[-500:]}")
    if not all(rates):
        raise SystemExit(f"{name}: too few overlapping samples; raise --iterations (now {args.iterations}).")
    return [statistics.median(r) for r in rates]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--method", default="genseg")
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--keep", type=Path, default=None, help="keep the run directories here")
    parser.add_argument("--limit", type=float, default=180.0,
                        help="stop a scenario after this many seconds once every run has 3 overlapping samples")
    args = parser.parse_args()
    cores = available_cores()
    root = args.keep or Path(tempfile.mkdtemp(prefix="dgen-concurrency-"))
    print(f"{cores} cores, method {args.method}, {args.iterations} iterations per run, load average "
          f"{os.getloadavg()[0]:.2f} before", flush=True)
    try:
        alone = _scenario("alone", 1, None, root, args)[0]
        results = [("alone", [alone]), ("two, default", _scenario("two, default", 2, None, root, args)),
                   ("two, old default", _scenario("two, old default", 2, cores, root, args))]
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f} after\n")
    print("| scenario | run | median s/iteration | x alone |")
    print("|---|---|---|---|")
    for name, medians in results:
        for i, median in enumerate(medians):
            print(f"| {name} | {i + 1} | {median:.3f} | {median / alone:.2f} |")
    worst = max(results[1][1]) / alone
    print(f"\ntwo default runs: each at most {worst:.2f}x its lone time (target <= 2.5x: "
          f"{'met' if worst <= 2.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
