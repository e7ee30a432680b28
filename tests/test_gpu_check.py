"""``benchmarks/gpu_check.sh`` rehearsed on the CPU: every step runs, the summary has its figures, and on a
machine without CUDA the real check fails in setup with a line that says so (exit status: failed steps)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
SMALL = {
    "GPU_CHECK_PRESET": "cpu", "GPU_CHECK_SIZE": "64", "GPU_CHECK_REPS": "1", "GPU_CHECK_ITERATIONS": "4",
    "GPU_CHECK_WARMUP": "2", "GPU_CHECK_TASK": "shapes", "GPU_CHECK_TEST_PATHS": "tests/search/test_mixed_op.py",
}


def _check(out: Path, tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **SMALL, **env, "PYTHON": sys.executable, "TMPDIR": str(tmp), "OMP_NUM_THREADS": "1"}
    return subprocess.run(["bash", str(SCRIPT), str(out)], capture_output=True, text=True, env=environment,
                          timeout=600, check=False)


def test_the_rehearsal_runs_every_step_and_summarises_it(tmp_path):
    result = _check(tmp_path / "out", tmp_path, GPU_CHECK_DEVICE="cpu")
    summary = (tmp_path / "out" / "gpu_check.md").read_text()
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "gpu_check.md", "iteration.log", "run-metrics.json", "run.log", "setup.log", "steps.tsv", "tests.log"]
    for name in ("setup", "tests", "iteration", "run"):
        assert f"| {name} | passed in " in summary
    assert "Machine: torch " in summary and "All steps passed." in summary
    assert "deselected" in summary  # pytest -m gpu ran and reported its selection
    for solver in ("plain joint G+D+S (no MLO)", "unroll func reuse_grads (pipeline default)", "darts"):
        assert solver in summary
    assert "64x64, batch 4" in summary
    assert "s per iteration (the training loop's wall time" in summary and "- test shapes: dice " in summary


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal of a machine without CUDA")
def test_without_cuda_the_check_fails_in_setup_and_counts_the_failed_steps(tmp_path):
    result = _check(tmp_path / "out", tmp_path)
    summary = (tmp_path / "out" / "gpu_check.md").read_text()
    assert "no CUDA device: torch.cuda.is_available() is False" in (tmp_path / "out" / "setup.log").read_text()
    assert "| setup | failed (exit 1)" in summary and "| iteration | failed" in summary
    assert result.returncode == summary.count("| failed (exit") >= 3
    assert f"{result.returncode} of 4 steps failed." in summary
