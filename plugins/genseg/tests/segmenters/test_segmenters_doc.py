"""docs/segmenters.md must stay true: its Python examples run, and it names every public function and class."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import dgen_genseg.metrics as metrics
import dgen_genseg.segmenters as segmenters

DOC = Path(__file__).resolve().parents[4] / "docs" / "segmenters.md"
PUBLIC = sorted(set(segmenters.__all__) | set(metrics.__all__))


def test_python_examples_run_in_order() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict = {"__name__": "docs_segmenters"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_documented(name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"`{name}" in text or f"{name}(" in text, f"docs/segmenters.md does not mention {name}"
