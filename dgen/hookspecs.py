"""The hooks a dgen plugin may implement.

A plugin is a module (or object) exposing functions decorated with :data:`hookimpl`
and named after the hooks below; it is announced to dgen through the ``dgen``
entry-point group::

    [project.entry-points.dgen]
    myplugin = "my_package.plugin"

Each ``register_*`` hook receives a ``register(name, factory, **meta)`` callback. The
factory is any callable that builds the component from keyword arguments; ``meta``
is free-form metadata (``description=...`` is shown by ``dgen list``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["hookimpl", "hookspec", "Register", "HOOK_KINDS"]

hookspec = pluggy.HookspecMarker("dgen")
hookimpl = pluggy.HookimplMarker("dgen")

#: ``register(name, factory, **meta)``
Register = Callable[..., Any]

#: the registry kind each ``register_*`` hook fills.
HOOK_KINDS = {
    "register_tasks": "tasks",
    "register_generators": "generators",
    "register_segmenters": "segmenters",
    "register_augmenters": "augmenters",
    "register_solvers": "solvers",
    "register_pipelines": "pipelines",
    "register_methods": "methods",
}


@hookspec
def register_tasks(register: Register) -> None:
    """Register :class:`dgen.Task` factories: ``register("isic", IsicTask, description=...)``."""


@hookspec
def register_generators(register: Register) -> None:
    """Register :class:`dgen.Generator` factories (conditional samplers, searchable or not)."""


@hookspec
def register_segmenters(register: Register) -> None:
    """Register :class:`dgen.Segmenter` factories (image -> mask logits networks)."""


@hookspec
def register_augmenters(register: Register) -> None:
    """Register :class:`dgen.Augmenter` factories (random mask / image-mask transforms)."""


@hookspec
def register_solvers(register: Register) -> None:
    """Register MLO solver classes (constructed as ``factory(problem, **options)``)."""


@hookspec
def register_pipelines(register: Register) -> None:
    """Register :class:`dgen.Pipeline` factories: what ``dgen run NAME`` runs."""


@hookspec
def register_methods(register: Register) -> None:
    """Register pipeline method factories: the ways a pipeline can train, chosen by name with its ``method``
    option (``dgen run PIPELINE --method NAME``). dgen only stores them; the pipeline that uses an entry
    defines what its factory takes and builds, and finds its own entries by ``meta`` ``pipeline="<name>"``."""


@hookspec
def register_commands(app: Any) -> None:
    """Add commands to the ``dgen`` command line; ``app`` is its ``typer.Typer``."""
