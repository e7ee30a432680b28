"""A plugin set of fake components for the CLI and run tests (no real model, no data).

:func:`install_fake_plugins` makes the process-wide plugin set (``dgen.plugins.get_plugins``
and the names imported from it) hold a fake built-in plugin ``dgen`` and a fake
third-party plugin ``acme``, loaded through :func:`dgen.plugins.load_plugins`.
"""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

import dgen.cli
import dgen.plugins
from dgen.errors import DataError
from dgen.hookspecs import hookimpl
from dgen.pipeline import Pipeline, RunContext
from dgen.plugins import PluginSet, load_plugins

#: version of the fake third-party plugin ``acme``.
ACME_VERSION = "9.8.7"


@dataclass
class FakeConfig:
    """Options of the fake pipeline: one field of each kind the config layer converts."""

    task: str = "shapes"
    backbone: str = "unet"
    seed: int = 0
    iterations: int = 10
    lr: float = 1e-3
    reuse: bool = True
    solver: Literal["unroll", "darts"] = "unroll"
    sizes: tuple[int, ...] = (64,)
    data_root: Optional[Path] = None


@dataclass
class Call:
    """One call of a fake pipeline's ``run``."""

    config: Any
    context: RunContext


class FakePipeline(Pipeline):
    """Records each call and writes ``metrics.json`` like a real pipeline."""

    config_class = FakeConfig
    calls: list[Call] = []

    def run(self, config: FakeConfig, context: RunContext) -> dict[str, Any]:
        FakePipeline.calls.append(Call(config, context))
        metrics = {
            "test": {"shapes": {"dice": 0.75, "jaccard": 0.5}, "ood": {"dice": 0.25, "jaccard": 0.125}},
            "iterations": config.iterations,
            "best_val_dice": 0.8,
        }
        (context.run_dir / "metrics.json").write_text(json.dumps(metrics))
        return metrics


class BrokenPipeline(Pipeline):
    """Raises a ``DgenError`` as a real pipeline does on bad data."""

    config_class = FakeConfig

    def run(self, config: FakeConfig, context: RunContext) -> dict[str, Any]:
        raise DataError(f"mask {config.data_root}/m1.png is not binary; re-export it with values 0 and 255.")


def _factory(kind: str):
    def build(**kwargs: Any) -> tuple[str, dict[str, Any]]:
        return kind, kwargs

    build.__doc__ = f"A fake {kind} component."
    return build


def _plugin(name: str, hooks: dict[str, Any], version: str | None = None) -> types.SimpleNamespace:
    attrs = {hook: hookimpl(fn) for hook, fn in hooks.items()}
    if version is not None:
        attrs["__version__"] = version
    return types.SimpleNamespace(__name__=name, **attrs)


def fake_builtin() -> types.SimpleNamespace:
    """A stand-in for ``dgen.builtin``: pipelines ``fake`` and ``broken``, solver ``unroll``, task ``shapes``."""

    def pipelines(register):
        register("fake", FakePipeline, description="records its calls")
        register("broken", BrokenPipeline, description="fails with a DataError")

    return _plugin("dgen.builtin", {
        "register_pipelines": pipelines,
        "register_solvers": lambda register: register("unroll", _factory("solver"), description="exact unroll"),
        "register_tasks": lambda register: register("shapes", _factory("task"), description="procedural shapes"),
    })


def fake_acme() -> types.SimpleNamespace:
    """A third-party plugin registering one component of every kind but pipelines, and a command."""

    def register_commands(app):
        @app.command("acme-info")
        def acme_info() -> None:
            """Print ACME facts."""

    return _plugin("acme_dgen.plugin", {
        "register_tasks": lambda register: register("derm", _factory("task"), description="ACME dermoscopy"),
        "register_generators": lambda register: register("tiny", _factory("generator")),
        "register_segmenters": lambda register: register("unet", _factory("segmenter"), description="a U-Net"),
        "register_augmenters": lambda register: register("flip", _factory("augmenter"), description="random flips"),
        "register_solvers": lambda register: register("first_order", _factory("solver"), description="no unroll"),
        "register_methods": lambda register: register("twice", _factory("method"), pipeline="fake", description="two steps"),
        "register_commands": register_commands,
    }, version=ACME_VERSION)


def install_fake_plugins(monkeypatch: pytest.MonkeyPatch) -> PluginSet:
    """Load the fake plugins with :func:`load_plugins` and make them the process-wide plugin set."""
    monkeypatch.setitem(sys.modules, "dgen.builtin", fake_builtin())
    plugins = load_plugins("", extra={"acme": fake_acme()})
    for module in (dgen.plugins, dgen.cli):
        monkeypatch.setattr(module, "get_plugins", lambda: plugins)
    FakePipeline.calls.clear()
    return plugins
