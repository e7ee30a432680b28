"""The recorded results of a tiny ``shapes`` run of every method (``fixtures/method_results.json``).

Each case is a method (and options) run with the tiny configuration of ``conftest.py`` on one CPU thread;
its record is ``metrics.json`` without ``wall_seconds`` and the whole text of ``log.csv``. The fixture was
written from the code *before* methods became composed classes (see the fixture's ``generated_from``), so
``test_method_results.py`` proves that the refactor changed no method's results (bit for bit on the recording
CPU; to the tolerances that test states on others). Regenerate
it only when a method is meant to change its results, and say so in the commit::

    OMP_NUM_THREADS=1 python plugins/genseg/tests/pipeline/method_results.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "method_results.json"

#: case name -> option overrides of the tiny run.
CASES: dict[str, dict[str, str]] = {
    "genseg": {},
    "genseg_darts": {"solver": "darts"},
    "genseg_real_combine": {"real_augmenter": "combine"},
    "separate": {"method": "separate"},
    "wgan": {"method": "wgan"},
    "none": {"method": "none"},
    "rotate": {"method": "rotate"},
    "flip": {"method": "flip"},
    "translate": {"method": "translate"},
    "combine": {"method": "combine"},
}


def record(run: Callable[..., Mapping[str, Any]], out: Path, overrides: Mapping[str, str]) -> dict[str, Any]:
    """Run one case with ``run(out, **overrides)`` (the ``Tiny.run`` of conftest) and return its record."""
    metrics = run(out, **overrides)
    return {
        "metrics": {k: v for k, v in metrics.items() if k != "wall_seconds"},
        "log": (out / "log.csv").read_text(),
    }


def _main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import TINY, Tiny  # noqa: PLC0415 (the tiny configuration is defined once, in conftest)

    tiny = Tiny(TINY)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                            cwd=FIXTURE.parent).stdout.strip()
    records = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, overrides in CASES.items():
            records[name] = record(tiny.run, Path(folder) / name, overrides)
            print(name, records[name]["metrics"]["val"], flush=True)
    FIXTURE.write_text(json.dumps({"generated_from": commit, "cases": records}, indent=1) + "\n")


if __name__ == "__main__":
    _main()
