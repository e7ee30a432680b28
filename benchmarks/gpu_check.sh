#!/usr/bin/env bash
# The GPU readiness check (docs/performance.md, "GPU"): one command on a CUDA machine, at most 8 minutes.
#
#   bash benchmarks/gpu_check.sh prepare   # here, once (needs pip's registry): .whl/ and .gpudata/
#   bash benchmarks/gpu_check.sh [OUT]     # there, in the repository root: OUT/gpu_check.md (default gpu-check/)
#
# prepare: the wheels a CUDA machine with PyTorch but without our dependencies lacks (smp, higher; dgen and
# dgen-genseg, for their entry points only) into .whl/, and the ISIC 2018 + PH2 data into .gpudata/ (both
# git-ignored; carry them to the machine).
# check: each step under its own time limit, the next one running whatever the last did:
#   1. setup      the wheels of .whl/ installed into a private folder; the code itself is the checkout's
#   2. tests      python -m pytest -m gpu (every test marked gpu)
#   3. iteration  one GenSeg iteration per MLO solver at the paper preset (256², batch 2): median time and
#                 peak memory (benchmarks/genseg_iteration.py)
#   4. run        a short ISIC-40 paper-preset run (dgen run; data from .gpudata/, else $DGEN_DATA_ROOT)
# then OUT/gpu_check.md (benchmarks/gpu_check_summary.py) beside each step's log. Exit status: the number
# of failed steps (0: all passed).
# Rehearsal without a GPU (tests/test_gpu_check.py): GPU_CHECK_DEVICE=cpu GPU_CHECK_PRESET=cpu, with
# GPU_CHECK_SIZE, GPU_CHECK_REPS, GPU_CHECK_ITERATIONS, GPU_CHECK_WARMUP, GPU_CHECK_TASK and
# GPU_CHECK_TEST_PATHS (where pytest looks) to make it small.
set -uo pipefail
case ${1:-} in  # an OUT given relative to where the check was called from, not to the repository root
    "" | prepare | /*) ;;
    *) set -- "$PWD/$1" ;;
esac
cd "$(dirname "$0")/.." || exit 1
PY=${PYTHON:-python3}

prepare() {
    local data=${DGEN_DATA_ROOT:-../shared/data}
    mkdir -p .whl .gpudata || return 1
    rm -f .whl/*.whl  # one version of each package: two stop the install there
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
        segmentation-models-pytorch==0.6.0 higher==0.2.1 || return 1
    "$PY" -m pip wheel -q --no-deps -w .whl . plugins/genseg || return 1
    cp -r "$data/isic2018" "$data/ph2" .gpudata/ || return 1
    du -sh .whl .gpudata
}

if [ "${1:-}" = "prepare" ]; then
    prepare || { echo "gpu_check prepare failed (see above)" >&2; exit 1; }
    exit 0
fi

OUT=${1:-gpu-check}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
PRESET=${GPU_CHECK_PRESET:-paper}
SIZE=${GPU_CHECK_SIZE:-256}
REPS=${GPU_CHECK_REPS:-5}
ITERATIONS=${GPU_CHECK_ITERATIONS:-300}
WARMUP=${GPU_CHECK_WARMUP:-100}
TASK=${GPU_CHECK_TASK:-isic}
read -r -a TEST_PATHS <<< "${GPU_CHECK_TEST_PATHS:-tests plugins/genseg/tests}"
mkdir -p "$OUT" || exit 1
STEPS="$OUT/steps.tsv"
: > "$STEPS"

# step NAME LIMIT_S COMMAND...: run it with its output in OUT/NAME.log, record its exit status and seconds.
step() {
    local name=$1 limit=$2 start code
    shift 2
    start=$(date +%s)
    echo "== $name (at most ${limit} s)"
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
    code=$?
    printf '%s\t%s\t%s\t%s\n' "$name" "$code" "$(( $(date +%s) - start ))" "$limit" >> "$STEPS"
    tail -n 3 "$OUT/$name.log"
}

setup() {
    if compgen -G ".whl/*.whl" > /dev/null; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
            || return 1
    fi
    "$PY" - "$DEVICE" <<'EOF' || return 1
import sys, torch, segmentation_models_pytorch, higher, dgen_genseg  # everything a run imports
from dgen.plugins import create  # noqa: F401  (plugins resolve through the entry points)
device = sys.argv[1]
if device == "cuda" and not torch.cuda.is_available():
    sys.exit("no CUDA device: torch.cuda.is_available() is False; run this on a GPU machine (or GPU_CHECK_DEVICE=cpu)")
name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
print(f"torch {torch.__version__}, {name}, smp {segmentation_models_pytorch.__version__}")
EOF
}

# the checkout's code first; the wheels' folder for the packages the machine lacks and for entry points
SITE=${TMPDIR:-/tmp}/dgen-gpu-site
export PYTHONPATH="$PWD:$PWD/plugins/genseg:$SITE${PYTHONPATH:+:$PYTHONPATH}"
[ -d .gpudata ] && export DGEN_DATA_ROOT="$PWD/.gpudata"
export PYTHONUNBUFFERED=1

export PY SITE DEVICE
step setup 60 bash -c "$(declare -f setup); setup"
step tests 90 "$PY" -m pytest -q -m gpu -p no:cacheprovider "${TEST_PATHS[@]}"
step iteration 150 "$PY" benchmarks/genseg_iteration.py --device "$DEVICE" --preset "$PRESET" --sizes "$SIZE" \
    --reps "$REPS" --warmup 2 --no-cosine --no-memory
# the run's weights and checkpoints stay out of OUT (what comes back from a lent machine is limited); its
# metrics.json is copied into OUT as run-metrics.json
RUN_DIR=${TMPDIR:-/tmp}/dgen-gpu-run
rm -rf "$RUN_DIR" "$OUT/run-metrics.json"
step run 150 "$PY" -c "from dgen.cli import main; main()" run genseg --task "$TASK" --n-labeled 40 \
    --preset "$PRESET" --device "$DEVICE" --seed 0 --out "$RUN_DIR" \
    --set iterations="$ITERATIONS" --set warmup_iterations="$WARMUP" --set val_every=50 --set checkpoint_every=100
if [ -f "$RUN_DIR/metrics.json" ]; then cp "$RUN_DIR/metrics.json" "$OUT/run-metrics.json"; fi
"$PY" benchmarks/gpu_check_summary.py "$OUT"
