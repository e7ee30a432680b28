#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with torch, dgen and dgen-genseg (editable).
# Fast when nothing changed. Environment: PYTHON (default python3), DGEN_VENV (default .venv),
# DGEN_TORCH (default "torch==2.14.1 torchvision==0.29.1", taken from local disk where pip finds it).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${DGEN_VENV:-.venv}"
python="${PYTHON:-python3}"
torch_spec="${DGEN_TORCH:-torch==2.14.1 torchvision==0.29.1}"
stamp="$venv/.dgen-setup-stamp"
want="$(cat pyproject.toml plugins/genseg/pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c "import dgen, dgen_genseg" 2>/dev/null; then
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip "setuptools>=77" wheel
if ! "$venv/bin/python" -c "import torch, torchvision" 2>/dev/null; then
  # shellcheck disable=SC2086
  "${pip[@]}" install $torch_spec
fi
# the ray extra: CI runs the tests of dgen bench --engine ray (tests/bench/test_ray.py skip without it)
"${pip[@]}" install --no-build-isolation -e ".[test,ray]" -e plugins/genseg
"$venv/bin/python" -c "import dgen, dgen_genseg, torch; print(f'dgen {dgen.__version__} ready (torch {torch.__version__})')"
echo "$want" > "$stamp"
