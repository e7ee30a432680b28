"""``dgen bench`` over the built-in ``toy`` pipeline, with real ``dgen run`` processes: a results table, no plugin."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from dgen.cli import app
from dgen.records import Records
from dgen.toy.pipeline import TOY_RECORDS

GRID = Path(__file__).resolve().parents[2] / "benchmarks" / "toy_grid.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_toy_declares_its_records():
    assert isinstance(TOY_RECORDS, Records) and TOY_RECORDS.compared == "solver"


def test_dgen_bench_over_toy_gives_a_results_table(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("DGEN_PLUGINS", "")  # the runs load the built-in plugin only: they start faster
    args = ["bench", str(GRID), "--seed", "0", "--n-train", "8", "--set", "iterations=3", "--jobs", "2",
            "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    out = ANSI.sub("", result.output)
    assert result.exit_code == 0, out
    assert "2 runs: 2 ran, 0 already finished, none failed." in out
    mse = {}
    for solver in ("unroll", "darts"):
        metrics = json.loads((tmp_path / "runs" / f"{solver}-n8-s0" / "metrics.json").read_text())
        assert metrics["out_of_domain"] == [] and metrics["test"]["toy"]["mse"] == metrics["test_mse"]
        mse[solver] = metrics["test_mse"]
    text = (tmp_path / "results.md").read_text()
    assert "## n_train 8" in text
    for solver, value in mse.items():
        assert f"| toy | in-domain | {solver} | 1 | {value:.3f} |" in text
    assert f"| toy | in-domain | darts | unroll (baseline) | 1 | {mse['darts'] - mse['unroll']:+.3f} [n/a] |" in text
    with open(tmp_path / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["solver"], r["n_train"], r["seed"], r["test_set"]) for r in rows] == [
        ("darts", "8", "0", "toy"), ("unroll", "8", "0", "toy")]


def test_a_labelled_run_is_compared_beside_the_unlabelled_one(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("DGEN_PLUGINS", "")
    base = ["bench", "--pipeline", "toy", "--solver", "unroll", "--n-train", "8", "--out", str(tmp_path)]
    assert CliRunner().invoke(app, [*base, "--set", "iterations=3"]).exit_code == 0
    refused = CliRunner().invoke(app, [*base, "--set", "iterations=5"])
    assert refused.exit_code == 1 and "holds a run with other options (iterations: saved 3" in ANSI.sub("", refused.output)
    result = CliRunner().invoke(app, [*base, "--set", "iterations=5", "--label", "long"])
    assert result.exit_code == 0, ANSI.sub("", result.output)
    run = tmp_path / "runs" / "unroll-n8-long-s0"
    assert json.loads((run / "bench.json").read_text()) == {"label": "long"}
    assert json.loads((run / "config.json").read_text())["iterations"] == 5
    mse = {name: json.loads((tmp_path / "runs" / name / "metrics.json").read_text())["test_mse"]
           for name in ("unroll-n8-s0", "unroll-n8-long-s0")}
    text = (tmp_path / "results.md").read_text()
    assert f"| toy | in-domain | unroll@long | 1 | {mse['unroll-n8-long-s0']:.3f} |" in text
    difference = mse["unroll-n8-long-s0"] - mse["unroll-n8-s0"]
    assert f"| toy | in-domain | unroll@long | unroll (baseline) | 1 | {difference:+.3f} [n/a] |" in text
    with open(tmp_path / "results.csv", newline="") as handle:
        assert sorted(r["solver"] for r in csv.DictReader(handle)) == ["unroll", "unroll@long"]


def test_kept_records_give_the_same_report(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("DGEN_PLUGINS", "")
    bench, kept = tmp_path / "bench", tmp_path / "kept"
    ran = CliRunner().invoke(app, ["bench", str(GRID), "--seed", "0", "--n-train", "8", "--set", "iterations=3",
                                   "--out", str(bench)])
    assert ran.exit_code == 0, ANSI.sub("", ran.output)
    longer = CliRunner().invoke(app, ["bench", "--pipeline", "toy", "--solver", "unroll", "--n-train", "8", "--set",
                                      "iterations=5", "--label", "long", "--out", str(bench)])
    assert longer.exit_code == 0, ANSI.sub("", longer.output)
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "keep_records.sh"
    done = subprocess.run(["bash", str(script), str(bench), str(kept)], capture_output=True, text=True, check=True)
    assert "kept the records of 3 finished runs" in done.stdout
    assert sorted(p.name for p in (kept / "runs" / "unroll-n8-s0").iterdir()) == ["config.json", "log.csv", "metrics.json"]
    assert (kept / "runs" / "unroll-n8-long-s0" / "bench.json").is_file()
    again = CliRunner().invoke(app, ["bench", "--aggregate-only", "--out", str(kept)])
    assert again.exit_code == 0, ANSI.sub("", again.output)
    assert (kept / "results.md").read_text() == (bench / "results.md").read_text()
    assert "| unroll@long |" in (kept / "results.md").read_text()


def test_keep_records_refuses_a_missing_source_and_an_ignored_destination(tmp_path):
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "keep_records.sh"
    missing = subprocess.run(["bash", str(script), str(tmp_path / "nope"), str(tmp_path / "kept")],
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "nope/runs does not exist; give a dgen bench --out directory" in missing.stderr
    (tmp_path / "bench" / "runs").mkdir(parents=True)
    ignored = subprocess.run(["bash", str(script), str(tmp_path / "bench"), "runs/kept"], capture_output=True,
                             text=True, check=False, cwd=script.parents[1])
    assert ignored.returncode == 1 and "git ignores runs/kept/runs" in ignored.stderr


def test_keep_records_replaces_a_redone_run_and_names_runs_kept_from_elsewhere(tmp_path):
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "keep_records.sh"
    src, dest = tmp_path / "my bench", tmp_path / "kept"
    (src / "runs" / "a-s0").mkdir(parents=True)
    (src / "runs" / "a-s0" / "metrics.json").write_text("{}")
    (src / "runs" / "a-s0" / "config.json").write_text("{}")
    for stale in ("a-s0", "b-s0"):
        (dest / "runs" / stale).mkdir(parents=True)
        (dest / "runs" / stale / "metrics.json").write_text('{"old": 1}')
    (dest / "runs" / "a-s0" / "bench.json").write_text('{"label": "old"}')
    done = subprocess.run(["bash", str(script), str(src), str(dest)], capture_output=True, text=True, check=True)
    assert "kept the records of 1 finished runs" in done.stdout
    assert sorted(p.name for p in (dest / "runs" / "a-s0").iterdir()) == ["config.json", "metrics.json"]
    assert (dest / "runs" / "a-s0" / "metrics.json").read_text() == "{}"
    assert (dest / "runs" / "b-s0" / "metrics.json").is_file()
    assert f"{dest} keeps b-s0, which {src} has no finished run of" in done.stderr and "a-s0" not in done.stderr


def test_keep_records_adds_commands_and_keeps_the_destination_notes(tmp_path):
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "keep_records.sh"
    src, dest = tmp_path / "bench", tmp_path / "kept"
    (src / "runs" / "a-s0").mkdir(parents=True)
    (src / "runs" / "a-s0" / "metrics.json").write_text("{}")
    (src / "commands.txt").write_text("dgen bench old.json\ndgen bench new.json\n")
    (src / "notes.md").write_text("scratch\n")
    dest.mkdir()
    (dest / "commands.txt").write_text("dgen bench first.json\ndgen bench old.json\n")
    (dest / "notes.md").write_text("# the write-up\n")
    done = subprocess.run(["bash", str(script), str(src), str(dest)], capture_output=True, text=True, check=True)
    assert (dest / "commands.txt").read_text() == "dgen bench first.json\ndgen bench old.json\ndgen bench new.json\n"
    assert (dest / "notes.md").read_text() == "# the write-up\n"
    assert f"{dest}/notes.md kept as it is" in done.stderr
    fresh = tmp_path / "fresh"
    subprocess.run(["bash", str(script), str(src), str(fresh)], capture_output=True, text=True, check=True)
    assert (fresh / "commands.txt").read_text() == (src / "commands.txt").read_text()
    assert (fresh / "notes.md").read_text() == "scratch\n"
