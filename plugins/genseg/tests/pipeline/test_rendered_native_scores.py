"""A run of a task without files (shapes: items rendered at the run's size) scores its test sets at that size."""

from __future__ import annotations

import csv
import json


def test_rendered_test_sets_are_scored_at_their_only_size(reference_run, tiny):
    metrics = json.loads((reference_run / "metrics.json").read_text())
    assert metrics["test_resolution"] == "native" and metrics["channels"] == 3
    assert metrics["test"] == metrics["test_at_image_size"]  # no original size other than the rendered one
    with (reference_run / "test_cases.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    split = json.loads((reference_run / "split.json").read_text())
    assert [(r["set"], r["case"]) for r in rows] == [(s, i) for s in ("shapes", "shapes_ood") for i in split[s]]
    size = tiny.values["image_size"]
    assert {(r["height"], r["width"]) for r in rows} == {(size, size)}
