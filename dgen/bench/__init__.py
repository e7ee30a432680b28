"""``dgen bench``: run a grid of experiments of any pipeline that declares its records
(:class:`dgen.records.Records`), each in its own run directory, as processes here or as Ray tasks, and
aggregate their ``metrics.json`` into a table, a CSV file, paired comparisons and figures (docs/bench.md)."""

from dgen.bench.aggregate import Aggregate, AggregateOptions, aggregate
from dgen.bench.bench import run_bench
from dgen.bench.commands import command_line, read_commands, record_command
from dgen.bench.compare import CompareOptions, compare_options
from dgen.bench.plan import PlannedRun, plan_grid
from dgen.bench.runner import (
    BenchEvent, DgenRunCommand, GridReport, RunOutcome, describe_event, describe_report, run_grid,
)
from dgen.bench.spec import GridSpec, RunPoint, grid_spec, read_grid_file

__all__ = [
    "Aggregate", "AggregateOptions", "aggregate", "run_bench", "command_line", "read_commands", "record_command", "CompareOptions", "compare_options", "PlannedRun", "plan_grid",
    "BenchEvent", "DgenRunCommand", "GridReport", "RunOutcome", "describe_event", "describe_report", "run_grid",
    "GridSpec", "RunPoint", "grid_spec", "read_grid_file",
]
