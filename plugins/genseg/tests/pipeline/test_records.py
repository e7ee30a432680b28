"""What GenSeg runs record for ``dgen bench``: the declaration, the ``out_of_domain`` list of ``metrics.json``,
and a core bench that names nothing of GenSeg."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import dgen.bench
from dgen.bench.pipelines import pipeline_records
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.methods import method_entries
from dgen_genseg.pipeline.records import CLASSIC, GENSEG_RECORDS, SEG_ITERATION

CORE_BENCH = Path(dgen.bench.__file__).parent
#: log columns and metrics.json keys that are GenSeg's own
GENSEG_COLUMNS = (SEG_ITERATION, "val_dice", "val_jaccard", "seg_lr", "n_labeled", "image_size", "best_iteration",
                  "preset", "warmup_iterations")


def genseg_names() -> list[str]:
    methods = [entry.name for entry in method_entries()]
    return sorted({*methods, *CLASSIC, *GENSEG_RECORDS.metrics, *GENSEG_COLUMNS, "GenSeg", "segmenter"} - {"none"})


def test_the_core_bench_names_no_genseg_method_metric_or_column():
    assert "genseg" in genseg_names() and "hd95" in genseg_names() and "seg_iteration" in genseg_names()
    found = []
    for path in sorted(CORE_BENCH.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {name}" for name in genseg_names()
                  if re.search(rf"\b{re.escape(name)}\b", text, flags=re.IGNORECASE)]
        found += [f"{path.name}: 'none'" for _ in re.findall(r"[\"']none[\"']", text)]  # the baseline's name
    assert found == []


def test_the_registered_pipeline_declares_its_records():
    records = pipeline_records("genseg")
    assert records is GENSEG_RECORDS
    assert records.compared == "method" and records.baseline == "none" and records.references[0].candidates == CLASSIC
    assert set(records.axis_names) <= set(typing.get_type_hints(GenSegConfig))  # every axis is an option


def test_metrics_json_lists_the_out_of_domain_test_sets(reference_run):
    metrics = json.loads((reference_run / "metrics.json").read_text())
    assert metrics["out_of_domain"] == ["shapes_ood"] and set(metrics["test"]) == {"shapes", "shapes_ood"}
    assert "shapes_ood" in GENSEG_RECORDS.legacy_out_of_domain and "ph2" in GENSEG_RECORDS.legacy_out_of_domain
