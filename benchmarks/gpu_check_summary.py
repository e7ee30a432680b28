"""The summary of ``benchmarks/gpu_check.sh``: ``OUT/gpu_check.md`` from the logs its steps left in ``OUT``.

    python3 benchmarks/gpu_check_summary.py OUT

It reads ``OUT/steps.tsv`` (one line per step: name, exit status, seconds, limit), the machine line of
``setup.log``, the last line of ``tests.log``, the table of ``iteration.log`` and the short run's
``run-metrics.json``; prints the summary and exits with the number of failed steps (a step that did
not run counts as failed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STEPS = ("setup", "tests", "iteration", "run")
TIMED_OUT = {124, 137}


def read_steps(out: Path) -> dict[str, tuple[int, int, int]]:
    """``{step: (exit status, seconds, limit)}`` of the steps that ran."""
    path = out / "steps.tsv"
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    return {name: (int(code), int(seconds), int(limit)) for name, code, seconds, limit in rows}


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.is_file() else []


def _status(step: tuple[int, int, int] | None) -> str:
    if step is None:
        return "did not run"
    code, seconds, limit = step
    if code == 0:
        return f"passed in {seconds} s (limit {limit} s)"
    why = f"timed out at {limit} s" if code in TIMED_OUT and seconds >= limit else f"failed (exit {code})"
    return f"{why} after {seconds} s"


def iteration_table(out: Path) -> list[str]:
    """The per-solver table of ``genseg_iteration.py`` (from its size line to the end), as a code block."""
    lines = _lines(out / "iteration.log")
    start = next((i for i, line in enumerate(lines) if "x" in line and ", batch " in line), None)
    return ["```", *lines[start:], "```"] if start is not None else ["(no table: see iteration.log)"]


def run_figures(out: Path) -> list[str]:
    """Wall time, seconds per iteration and test scores of the short run."""
    path = out / "run-metrics.json"
    if not path.is_file():
        return ["(no metrics.json: see run.log)"]
    metrics = json.loads(path.read_text())
    wall = float(metrics.get("wall_seconds", 0.0))
    lines = [f"- {metrics.get('method')} on {metrics.get('task')}, {metrics.get('n_train')} + {metrics.get('n_val')} "
             f"images at {metrics.get('image_size')}², {metrics.get('iterations')} iterations (GAN warm-up included): "
             f"{wall:.0f} s wall"]
    if metrics.get("iterations") and wall:
        lines.append(f"- {wall / metrics['iterations']:.3f} s per iteration (the training loop's wall time, validation and test "
                     "included, over all iterations, the cheaper GAN warm-up ones included; model building and "
                     "data loading not)")
    for name, scores in (metrics.get("test") or {}).items():
        shown = ", ".join(f"{k} {v:.3f}" for k, v in scores.items() if k != "n" and isinstance(v, (int, float)))
        lines.append(f"- test {name}: {shown}")
    return lines


def summary(out: Path) -> tuple[str, int]:
    """The markdown summary and the number of failed steps."""
    steps = read_steps(out)
    failed = sum(1 for name in STEPS if steps.get(name, (1,))[0] != 0)
    machine = next((line for line in _lines(out / "setup.log") if line.startswith("torch ")), "(unknown machine)")
    tests = next((line for line in reversed(_lines(out / "tests.log")) if line.strip()), "(no output)")
    text = [
        "# GPU check", "", f"Machine: {machine}", "",
        "| step | result |", "|---|---|", *(f"| {name} | {_status(steps.get(name))} |" for name in STEPS), "",
        f"Tests (`pytest -m gpu`): {tests}", "",
        "## One GenSeg iteration per MLO solver", "", *iteration_table(out), "",
        "## Short run (dgen run)", "", *run_figures(out), "",
        f"{failed} of {len(STEPS)} steps failed." if failed else "All steps passed.",
    ]
    return "\n".join(text) + "\n", failed


def main() -> None:
    out = Path(sys.argv[1])
    text, failed = summary(out)
    (out / "gpu_check.md").write_text(text)
    print(text, end="")
    sys.exit(failed)


if __name__ == "__main__":
    main()
