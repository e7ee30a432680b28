"""The example of docs/mlo.md's section on dgen.steer runs and moves every steered variable."""

from __future__ import annotations

import torch

from tests.mlo.test_docs_example import run_example


def test_the_steer_example_runs_and_steers(capsys):
    namespace = run_example("## Steering what shapes the data")
    solver, stats = namespace["solver"], namespace["stats"]
    assert solver.iteration == 20 and stats["hyper"] == 0.0  # iteration 19 had no hypergradient
    assert "loss/generator" in stats and "loss/appearance" not in stats
    magnitudes = torch.stack([m.detach() for m in namespace["appearance"].magnitudes().values()])
    initial = 0.2 * torch.tensor([0.3, 0.4054651, 0.5, 0.5, 0.1, 1.5])  # in APPEARANCE_TRANSFORMS order
    assert (magnitudes - initial).abs().max() > 1e-3
    assert (namespace["weights"].utility() - 1).abs().max() > 1e-2
    assert "(('appearance', 'weights', 'generator'),)" in capsys.readouterr().out
