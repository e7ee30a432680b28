"""docs/api.md must name every public name of the core modules it documents."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"
MODULES = [
    "dgen.errors", "dgen.registry", "dgen.plugins", "dgen.task", "dgen.generator", "dgen.segmenter",
    "dgen.augmenter", "dgen.pipeline", "dgen.run", "dgen.device", "dgen.config", "dgen.options", "dgen.checkpoint", "dgen.atomic", "dgen.rng",
    "dgen.records", "dgen.rundir", "dgen.threads", "dgen.progress", "dgen.steer",
]
#: constants documented by their meaning rather than their name.
UNNAMED = {"ENTRY_POINT_GROUP", "PLUGINS_ENV", "BUILTIN", "CONFIG_FILE", "METRICS_FILE"}
PUBLIC = sorted((m, n) for m in MODULES for n in importlib.import_module(m).__all__ if n not in UNNAMED)


@pytest.mark.parametrize("module, name", PUBLIC)
def test_every_public_name_is_in_the_api_reference(module, name):
    text = API.read_text(encoding="utf-8")
    assert f"`{name}" in text or f".{name}`" in text, f"docs/api.md does not mention {module}.{name}"


@pytest.mark.parametrize("link", ["search.md", "mlo.md", "plugins.md"])
def test_api_reference_links_the_guides(link):
    assert f"]({link})" in API.read_text(encoding="utf-8")
