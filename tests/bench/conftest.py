"""Fixtures of the bench tests: the fake ``dgen run`` command and the fake pipeline ``benchfake``."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import dgen.cli
import dgen.plugins
from dgen.bench import DgenRunCommand
from dgen.hookspecs import hookimpl
from dgen.pipeline import Pipeline, RunContext
from dgen.plugins import load_plugins

from bench.fake_config import FAKE_RECORDS, FakeBenchConfig, fake_metrics

FAKE_DGEN = Path(__file__).with_name("fake_dgen.py")


class FakeBenchPipeline(Pipeline):
    """The in-process twin of ``fake_dgen.py``; the bench only reads its ``config_class``."""

    config_class = FakeBenchConfig
    records = FAKE_RECORDS

    def run(self, config: FakeBenchConfig, context: RunContext) -> dict[str, Any]:
        metrics = fake_metrics(config)
        (context.run_dir / "metrics.json").write_text(json.dumps(metrics))
        return metrics


def calls(run_dir: Path) -> list[str]:
    """The modes (``fresh``/``resume``) of the fake runs in ``run_dir``, in order."""
    path = run_dir / "calls.txt"
    lines = path.read_text().split("\n") if path.is_file() else []
    return [ln.split()[0] for ln in lines if ln and not ln.startswith("end")]


@pytest.fixture
def fake_command() -> DgenRunCommand:
    """``dgen run`` replaced by ``python fake_dgen.py``."""
    return DgenRunCommand(device="cpu", prefix=(sys.executable, str(FAKE_DGEN)))


@pytest.fixture
def bench_plugins(monkeypatch):
    """Make the process-wide plugin set hold the pipeline ``benchfake``."""
    plugin = types.SimpleNamespace(
        __name__="benchfake_plugin",
        register_pipelines=hookimpl(lambda register: register("benchfake", FakeBenchPipeline, description="tests")),
    )
    plugins = load_plugins("", extra={"benchfake": plugin})
    for module in (dgen.plugins, dgen.cli):
        monkeypatch.setattr(module, "get_plugins", lambda: plugins)
    return plugins
