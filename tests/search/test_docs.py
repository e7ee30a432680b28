"""docs/search.md must stay true: its Python examples run, and it mentions every public name."""

import re
from pathlib import Path

import pytest

import dgen.search as search

DOC = Path(__file__).resolve().parents[2] / "docs" / "search.md"


def test_python_examples_run_in_order():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 5
    namespace: dict = {"__name__": "docs_search"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)


@pytest.mark.parametrize("name", sorted(set(search.__all__) - {"CHECK_SIZES", "OP_SPECS"}))
def test_every_public_name_is_documented(name):
    assert f"`{name}" in DOC.read_text(encoding="utf-8") or f"{name}(" in DOC.read_text(encoding="utf-8")
