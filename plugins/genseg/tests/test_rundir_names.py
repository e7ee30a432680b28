"""Every file name of a run directory is spelled once: in ``dgen/rundir.py`` (the core's) or
``dgen_genseg/rundir.py`` (the plugin's); code elsewhere uses the constants."""

from __future__ import annotations

import ast
from pathlib import Path

import dgen.rundir
import dgen_genseg.rundir

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [ROOT / "dgen", ROOT / "plugins" / "genseg" / "dgen_genseg", ROOT / "benchmarks"]
DEFINED_IN = {Path(dgen.rundir.__file__).resolve(), Path(dgen_genseg.rundir.__file__).resolve()}


def _names() -> set[str]:
    core = {getattr(dgen.rundir, n) for n in dgen.rundir.__all__ if n.endswith("_FILE") or n == "BENCH_LOG"}
    return core | {getattr(dgen_genseg.rundir, n) for n in dgen_genseg.rundir.__all__}


def test_the_plugin_names_every_file_a_run_writes():
    assert {"split.json", "checkpoint.safetensors", "segmenter_best.safetensors", "segmenter.safetensors",
            "generator.safetensors", "genotype.json", "samples.png", "predictions.png", "test_cases.csv"} <= _names()


def test_no_module_spells_a_run_directory_file_name_itself():
    names = _names()
    spelled = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for folder in SOURCES for path in sorted(folder.rglob("*.py")) if path.resolve() not in DEFINED_IN
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert spelled == [], "use the constants of dgen/rundir.py or dgen_genseg/rundir.py:\n" + "\n".join(spelled)
