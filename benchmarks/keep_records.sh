#!/usr/bin/env bash
# Keep the records of a benchmark directory in the repository, so that a grid outlives the machine it ran on.
#
#   bash benchmarks/keep_records.sh /work/bench/controls benchmarks/records/genseg
#
# Copies, for each finished run of SRC/runs (one with metrics.json), what `dgen bench --aggregate-only`
# reads: config.json, metrics.json, bench.json (where the run has a label) and the validation rows of
# log.csv (the iteration columns and val_*, for the validation curves); SRC's commands.txt lines that
# DEST's lacks are appended to it, and SRC's notes.md is copied where DEST has none (never over DEST's).
# Not the weights or pictures: a run's directory is ~50 MB, its records ~10 kB. A run kept before
# is replaced as a whole; runs DEST holds that SRC has not finished are kept and named on stderr.
# To continue the grid on another machine, copy DEST back to a benchmark directory and rerun the grid
# there: the kept runs are finished (skipped), the others run. The report from the kept records alone:
#   dgen bench --aggregate-only --out DEST_COPY --report docs/results.md
# (the same page as the full directory's when every run finished; unfinished runs are not kept).
# Refuses a DEST that git ignores (the records would silently stay out of a commit).
set -euo pipefail
src=${1:?usage: keep_records.sh SRC DEST}
dest=${2:?usage: keep_records.sh SRC DEST}
[ -d "$src/runs" ] || { echo "keep_records: $src/runs does not exist; give a dgen bench --out directory" >&2; exit 1; }
if git check-ignore -q "$dest/runs/run/metrics.json" 2>/dev/null; then
    echo "keep_records: git ignores $dest/runs (see git check-ignore -v); keep the records in a folder git tracks" >&2
    exit 1
fi
kept=0

# validation_rows LOG: the columns iteration, *_iteration and val_* of the rows that hold a validation score.
validation_rows() {
    python3 - "$1" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as handle:
    reader = csv.DictReader(handle)
    columns = [c for c in reader.fieldnames or [] if c == "iteration" or c.endswith("_iteration") or c.startswith("val_")]
    writer = csv.DictWriter(sys.stdout, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(row for row in reader if any(row.get(c) for c in columns if c.startswith("val_")))
PY
}
for run in "$src"/runs/*/; do
    name=$(basename "$run")
    [ -f "$run/metrics.json" ] || continue
    rm -rf "$dest/runs/$name"   # a run redone in SRC replaces its old records, files and all
    mkdir -p "$dest/runs/$name"
    for file in config.json metrics.json bench.json; do
        if [ -f "$run/$file" ]; then cp "$run/$file" "$dest/runs/$name/"; fi
    done
    if [ -f "$run/log.csv" ]; then validation_rows "$run/log.csv" > "$dest/runs/$name/log.csv"; fi
    kept=$((kept + 1))
done
# commands.txt: DEST's commands, then SRC's not already there (records of several benchmark directories add up).
if [ -f "$src/commands.txt" ]; then
    mkdir -p "$dest" && touch "$dest/commands.txt"
    while IFS= read -r line || [ -n "$line" ]; do
        grep -qxF -- "$line" "$dest/commands.txt" || printf '%s\n' "$line" >> "$dest/commands.txt"
    done < "$src/commands.txt"
fi
# notes.md: SRC's only where DEST has none (DEST's notes are the write-up; never overwritten).
if [ -f "$src/notes.md" ]; then
    if [ ! -f "$dest/notes.md" ]; then
        cp "$src/notes.md" "$dest/"
    elif ! cmp -s "$src/notes.md" "$dest/notes.md"; then
        echo "keep_records: $dest/notes.md kept as it is; add what $src/notes.md says to it by hand" >&2
    fi
fi
echo "kept the records of $kept finished runs of $src in $dest"
for kept_run in "$dest"/runs/*/; do
    [ -d "$kept_run" ] || continue
    name=$(basename "$kept_run")
    if [ ! -f "$src/runs/$name/metrics.json" ]; then
        echo "keep_records: $dest keeps $name, which $src has no finished run of (kept from elsewhere? else delete it)" >&2
    fi
done
