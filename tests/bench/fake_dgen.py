"""A stand-in for ``python -m dgen.cli`` in the bench tests: ``run PIPELINE`` with the options of
``dgen run``, the fake pipeline of ``fake_config.py``, and no torch (starts in a fraction of a second).

A fresh run writes ``config.json`` first (as ``dgen run`` does), then, with ``rendezvous`` N, waits until N
runs of its grid have started (then logs ``met``; a proof that they ran at the same time whatever the
machine's load), then sleeps ``sleep`` seconds over its ``iterations`` (writing ``progress.json``), then
fails if ``fail`` is set, else writes ``metrics.json``. A resumed run (``--resume DIR``) reads the saved
options and does not sleep. Every call appends ``<fresh|resume> <time> <pid>`` and, when it ends, ``end <time> <pid>``
to ``calls.txt`` in the run directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: dgen without installing it

from dgen.config import build_config, config_to_dict, parse_assignments  # noqa: E402
from dgen.progress import Heartbeat  # noqa: E402
from fake_config import FakeBenchConfig, fake_metrics  # noqa: E402


def _log(run_dir: Path, what: str) -> None:
    with open(run_dir / "calls.txt", "a") as handle:
        handle.write(f"{what} {time.time()} {os.getpid()}\n")


def _write(path: Path, data: dict) -> None:
    """Atomically, as ``dgen run`` writes: a kill never leaves a half-written file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _rendezvous(run_dir: Path, runs: int, timeout: float = 60.0) -> None:
    """Wait until ``runs`` run directories beside ``run_dir`` have a ``calls.txt``; log ``met`` if they do."""
    deadline = time.monotonic() + timeout
    while runs and time.monotonic() < deadline:
        if sum((d / "calls.txt").is_file() for d in run_dir.parent.iterdir()) >= runs:
            _log(run_dir, "met")
            return
        time.sleep(0.02)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run"])
    parser.add_argument("pipeline")
    for option in ("--task", "--backbone", "--seed", "--out", "--resume", "--device", "--threads"):
        parser.add_argument(option)
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.resume:
        run_dir = Path(args.resume)
        saved = json.loads((run_dir / "config.json").read_text())
        saved.pop("pipeline")
        config, mode = build_config(FakeBenchConfig, saved), "resume"
        _log(run_dir, mode)
    else:
        run_dir = Path(args.out)
        values = {k: v for k, v in (("task", args.task), ("backbone", args.backbone), ("seed", args.seed)) if v}
        config, mode = build_config(FakeBenchConfig, {**parse_assignments(args.set), **values}), "fresh"
        if (run_dir / "config.json").exists():
            print(f"error: {run_dir} already holds a run; continue it with --resume {run_dir}.", file=sys.stderr)
            return 1
        run_dir.mkdir(parents=True, exist_ok=True)
        _log(run_dir, mode)  # before config.json: a test that waits for config.json then kills sees the call
        _write(run_dir / "config.json", {"pipeline": args.pipeline, **config_to_dict(config)})
    print(f"fake {mode} run in {run_dir} on {args.device} with {args.threads} threads")
    if mode == "fresh":
        _rendezvous(run_dir, config.rendezvous)
        beat = Heartbeat(run_dir, every=0.0)
        for i in range(config.iterations):  # the sleep spread over the iterations, progress.json written as it goes
            beat(i + 1, config.iterations)
            time.sleep(config.sleep / max(1, config.iterations))
    if config.fail:
        print("error: fake failure: this run was told to fail (--set fail=true).", file=sys.stderr)
        return 1
    _write(run_dir / "metrics.json", fake_metrics(config))
    _log(run_dir, "end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
