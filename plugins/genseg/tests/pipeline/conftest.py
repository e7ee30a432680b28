"""A tiny GenSeg configuration that runs end to end in a few seconds on one CPU thread, and helpers
to run it in-process, through the command line, and to compare run directories.

The segmenter is a timm ResNet-10t U-Net cut at depth 3 (0.5 M parameters: timm's feature
extractor drops the unused stages, smp's own ResNets keep them), the generator 3 levels deep,
32 x 32 images, 2 warm-up + 6 GenSeg iterations, validation and a checkpoint every 2.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner, Result

from dgen.threads import THREADS_ENV_CAP

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: option values (as ``--set`` gives them) of the tiny run.
TINY: dict[str, str] = {
    "task": "shapes",
    "preset": "cpu",
    "image_size": "32",
    "num_downs": "3",
    "ngf": "4",
    "ndf": "4",
    "iterations": "6",
    "warmup_iterations": "2",
    "val_every": "2",
    "checkpoint_every": "2",
    "n_labeled": "6",
    "backbone_options": '{"encoder": "tu-resnet10t", "encoder_depth": 3, "decoder_channels": [16, 8, 4]}',
}
TOTAL_ITERATIONS = 8  # warm-up + iterations
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread (bit-reproducible and comparable across processes), then restore.

    A run started inside sizes its own pool (its fair share of the cores, :mod:`dgen.threads`), which
    ``OMP_NUM_THREADS`` caps: set to 1 here, so the run's thread count never depends on the machine's
    cores or on other dgen runs alive at the time.
    """
    threads, cap = torch.get_num_threads(), os.environ.get(THREADS_ENV_CAP)
    torch.set_num_threads(1)
    os.environ[THREADS_ENV_CAP] = "1"
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if cap is None:
            os.environ.pop(THREADS_ENV_CAP, None)
        else:
            os.environ[THREADS_ENV_CAP] = cap


@dataclass(frozen=True)
class Tiny:
    """The tiny configuration, ways to run it, and checks of what a run leaves behind."""

    values: Mapping[str, str]
    total: int = TOTAL_ITERATIONS

    def run(self, out: Path, *, device: str = "cpu", **overrides: str) -> dict[str, Any]:
        """Run the pipeline in this process (one thread, no progress bar) on ``device`` and return its metrics."""
        from dgen.run import run_pipeline

        with one_thread():
            return run_pipeline("genseg", {**self.values, **overrides}, out=out, device=device, progress=False).metrics

    def cli(self, *args: str) -> Result:
        """``dgen ARGS`` in this process (plugin commands loaded, one thread)."""
        from dgen.cli import app, load_plugin_commands

        load_plugin_commands()
        with one_thread():
            return CliRunner().invoke(app, list(args))

    def set_args(self, **overrides: str) -> list[str]:
        """The tiny options (with ``overrides``) as ``--set key=value`` arguments."""
        return [arg for key, value in {**self.values, **overrides}.items() for arg in ("--set", f"{key}={value}")]

    @staticmethod
    def error_line(result: Result) -> str:
        """The one ``error:`` line of a failed command (asserting exit code 1 and no traceback)."""
        assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
        assert isinstance(result.exception, SystemExit), result.exception
        errors = [line for line in _ANSI.sub("", result.stderr).splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
        assert "Traceback" not in result.output
        return errors[0]

    @staticmethod
    def snapshot(folder: Path) -> dict[str, str]:
        """``{relative path: sha256}`` of every file under ``folder``."""
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()
        }

    @staticmethod
    def without_timing(metrics: Mapping[str, Any]) -> dict[str, Any]:
        """``metrics`` without the entries that measure time."""
        return {k: v for k, v in metrics.items() if k != "wall_seconds"}


@pytest.fixture(scope="session")
def tiny() -> Tiny:
    return Tiny(TINY)


@pytest.fixture(scope="session")
def reference_run(tiny: Tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of one uninterrupted tiny run (seed 0), its checkpoint kept; treat it as read-only."""
    out = tmp_path_factory.mktemp("reference") / "run"
    tiny.run(out, keep_checkpoint="true")
    return out
