"""The files of a run directory and the keys of its ``metrics.json``, named once for every pipeline and tool.

A run directory (``dgen run ... --out DIR``) holds:

* ``config.json`` — the run's options (written by ``dgen run`` before the pipeline starts);
* ``metrics.json`` — written by the pipeline when the run has finished; its ``"test"`` entry is
  ``{test set: {metric: value}}``, ``"val"`` the validation metrics of the kept model, and
  ``"out_of_domain"`` the list of test sets that come from another domain than the training data;
* ``log.csv`` — one row per iteration, first column ``iteration`` (0-based);
* ``progress.json`` — the iteration reached, the total and the time, rewritten as the run goes
  (:mod:`dgen.progress`); ``dgen bench`` shows it live;
* ``bench.log`` — stdout and stderr of the run when ``dgen bench`` started it.
"""

from __future__ import annotations

__all__ = [
    "CONFIG_FILE", "METRICS_FILE", "LOG_FILE", "PROGRESS_FILE", "BENCH_LOG", "BENCH_FILE",
    "ITERATION_COLUMN",
    "TEST_KEY", "VAL_KEY", "OUT_OF_DOMAIN_KEY",
]

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
LOG_FILE = "log.csv"
PROGRESS_FILE = "progress.json"
BENCH_LOG = "bench.log"
#: what ``dgen bench`` knows of a run beyond its options (its label, :mod:`dgen.bench.labels`).
BENCH_FILE = "bench.json"
#: the first column of ``log.csv``.
ITERATION_COLUMN = "iteration"
#: ``metrics.json`` keys: ``{test set: {metric: value}}``, ``{metric: value}``, ``[test set, ...]``.
TEST_KEY = "test"
VAL_KEY = "val"
OUT_OF_DOMAIN_KEY = "out_of_domain"
