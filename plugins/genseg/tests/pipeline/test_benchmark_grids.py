"""Every benchmark grid parses, and each ``steer`` point pins the options whose defaults the method resolves and
that changed after runs were recorded (``hyper_every``: 1, then 8; ``hyper_start``: 0, then 8): re-running a grid
then repeats its records instead of silently running the newer defaults under the old run names."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgen.bench.spec import grid_spec, read_grid_file

ROOT = Path(__file__).resolve().parents[4]
GRIDS = sorted((ROOT / "benchmarks").glob("*grid*.json"))
#: options whose default a steer run takes from the method (``None`` in the config) and whose value changed
PINNED = ("hyper_every", "hyper_start")


def test_there_are_grids():
    assert len(GRIDS) > 10


@pytest.mark.parametrize("grid", GRIDS, ids=lambda p: p.name)
def test_every_steer_point_pins_the_method_resolved_options(grid: Path):
    points = grid_spec(read_grid_file(grid), records=None).points()
    assert points, f"{grid.name} has no run"
    for point in points:
        if str(point.value("method")).startswith("steer"):
            options = point.options()
            missing = [name for name in PINNED if name not in options]
            assert not missing, f"{grid.name}: {point.value('method')}@{point.label} leaves {missing} to the default"
