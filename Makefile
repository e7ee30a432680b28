# Two commands on a fresh machine: `make demo` (set up + run GenSeg on the built-in shapes task)
# and `make test` (set up + run the test suite). Both call scripts/setup.sh, which is idempotent.
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: setup demo test test-slow bench

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/dgen run genseg --task shapes --backbone unet --preset cpu --iterations 300 --warmup-iterations 100

test: setup
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

test-slow: setup
	$(VENV)/bin/python -m pytest -q -m slow $(PYTEST_ARGS)
