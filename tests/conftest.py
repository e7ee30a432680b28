"""Shared fixtures: fake plugins and a fresh plugin set per test."""

from __future__ import annotations

import types

import pytest

from dgen.hookspecs import hookimpl


def make_plugin(name: str, **hooks) -> types.SimpleNamespace:
    """A plugin object whose hooks are the given ``register_*`` callables (each decorated as a hookimpl)."""
    return types.SimpleNamespace(__name__=name, **{k: hookimpl(v) for k, v in hooks.items()})


@pytest.fixture
def plugin_factory():
    return make_plugin
