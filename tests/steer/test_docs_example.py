"""The example of docs/mlo.md's section on dgen.steer runs and moves every steered variable."""

from __future__ import annotations

import re
from pathlib import Path

import torch

DOC = Path(__file__).resolve().parents[2] / "docs" / "mlo.md"


def test_the_steer_example_runs_and_steers(capsys):
    text = DOC.read_text()
    section = text[text.index("## Steering what shapes the data") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    solver, stats = namespace["solver"], namespace["stats"]
    assert solver.iteration == 20 and stats["hyper"] == 0.0  # iteration 19 had no hypergradient
    assert "loss/generator" in stats and "loss/appearance" not in stats
    magnitudes = torch.stack([m.detach() for m in namespace["appearance"].magnitudes().values()])
    initial = 0.2 * torch.tensor([0.3, 0.4054651, 0.5, 0.5, 0.1, 1.5])  # in APPEARANCE_TRANSFORMS order
    assert (magnitudes - initial).abs().max() > 1e-3
    assert (namespace["weights"].utility() - 1).abs().max() > 1e-2
    assert "(('appearance', 'weights', 'generator'),)" in capsys.readouterr().out
