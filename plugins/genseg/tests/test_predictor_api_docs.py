"""docs/api.md documents the plugin's public entry point for using a trained run."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[3] / "docs" / "api.md"
PUBLIC = sorted((m, n) for m in ("dgen_genseg", "dgen_genseg.predictor")
                for n in importlib.import_module(m).__all__ if n != "__version__")


@pytest.mark.parametrize("module, name", PUBLIC)
def test_every_public_name_is_in_the_api_reference(module, name):
    assert f"`{name}" in API.read_text(encoding="utf-8"), f"docs/api.md does not mention {module}.{name}"
