"""The complete example of docs/mlo.md runs and trains alpha."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "mlo.md"


def run_example(heading: str) -> dict:
    """Run the first python block after ``heading`` in docs/mlo.md; return its namespace."""
    text = DOC.read_text()
    example = text[text.index(heading) :]
    code = re.search(r"```python\n(.*?)```", example, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    return namespace


def test_the_complete_example_runs(capsys):
    namespace = run_example("## A complete example")
    stats = namespace["stats"]
    assert set(stats) == {"loss/arch", "hypergrad_norm/arch", "loss/gen", "loss/seg", "hyper", "skipped"}
    assert stats["skipped"] == 0.0
    assert namespace["generator"].alpha.detach().abs().max() > 0.01  # the architecture was searched
    assert "loss/arch" in capsys.readouterr().out
