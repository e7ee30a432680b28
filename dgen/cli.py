"""The ``dgen`` command line (typer + rich): parses, calls, renders.

Every ``DgenError`` becomes one red line and exit code 1; ``--debug`` (or
``DGEN_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

import dgen
from dgen.bench.command import add_bench_command
from dgen.config import load_config_file, parse_assignments
from dgen.errors import ConfigError, DgenError
from dgen.plugins import get_plugins
from dgen.run import run_pipeline
from dgen.terminal import print_error, print_plain
from dgen.run_help import RunHelpCommand

__all__ = ["app", "main"]

app = typer.Typer(
    name="dgen",
    help="Differentiable data generation: generators steered by downstream validation loss (MLO).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _debug_env() -> bool:
    return os.environ.get("DGEN_DEBUG", "") not in ("", "0")


_state = {"debug": _debug_env()}


@contextmanager
def guarded() -> Iterator[None]:
    """Turn a ``DgenError`` into one red line and exit 1 (traceback with ``--debug``)."""
    try:
        yield
    except DgenError as exc:
        if _state["debug"]:
            raise
        print_error(err_console, exc)
        raise typer.Exit(1) from None


def _version(value: bool) -> None:
    if value:
        console.print(f"dgen {dgen.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks instead of one-line errors.")] = False,
) -> None:
    """dgen: differentiable data generation."""
    _state["debug"] = debug or _debug_env()  # per invocation: an earlier --debug in this process must not stick


@app.command("plugins")
def plugins_command() -> None:
    """List the loaded plugins, their versions and what each registers."""
    with guarded():
        table = Table("plugin", "version", "module", "registers")
        for info in get_plugins().plugins:
            what = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in sorted(info.registered.items()))
            table.add_row(info.name, info.version, info.module, what or "(commands only)")
        console.print(table)


@app.command("list")
def list_command(
    kind: Annotated[str, typer.Argument(help="tasks, generators, segmenters, augmenters, solvers, pipelines or methods")],
) -> None:
    """List the registered components of one kind, with their plugin and description."""
    with guarded():
        reg = get_plugins().registry(kind)
        table = Table("name", "plugin", "description", title=kind)
        for entry in reg.entries():
            table.add_row(entry.name, entry.plugin, entry.description)
        console.print(table)


def _option_values(
    config: Path | None, assignments: list[str], **explicit: Any
) -> dict[str, Any]:
    values: dict[str, Any] = dict(load_config_file(config)) if config else {}
    values.update(parse_assignments(assignments))
    values.update({k: v for k, v in explicit.items() if v is not None})
    return values


def parse_option_args(args: list[str]) -> dict[str, str]:
    """Extra ``--name value`` / ``--name=value`` / ``--flag`` arguments as pipeline options (dashes -> underscores)."""
    values: dict[str, str] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--") or token == "--":
            raise ConfigError(
                f"unexpected argument {token!r}; give pipeline options as --name value or --set name=value."
            )
        name, sep, value = token[2:].partition("=")
        if not sep:
            if i + 1 < len(args) and not args[i + 1].startswith("--"):
                value, i = args[i + 1], i + 1
            else:
                value = "true"
        values[name.replace("-", "_")] = value
        i += 1
    return values


@app.command("run", cls=RunHelpCommand, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_command(
    ctx: typer.Context,
    pipeline: Annotated[str, typer.Argument(help="The pipeline to run (see `dgen list pipelines`).")],
    task: Annotated[Optional[str], typer.Option(help="Task name (see `dgen list tasks`).")] = None,
    backbone: Annotated[Optional[str], typer.Option(help="Segmenter/backbone name (see `dgen list segmenters`).")] = None,
    assignments: Annotated[
        Optional[list[str]], typer.Option("--set", help="Pipeline option key=value (repeatable).")
    ] = None,
    config: Annotated[Optional[Path], typer.Option(help="JSON/TOML file of pipeline options.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Run directory (default runs/<pipeline>-...-<time>).")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    resume: Annotated[Optional[Path], typer.Option(help="Continue the run saved in this directory.")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="Hide the progress bar.")] = False,
    threads: Annotated[
        Optional[int], typer.Option(help="CPU threads (default: a fair share of the cores this process may use).")
    ] = None,
) -> None:
    """Run a pipeline; options come from its config dataclass and are type-checked.

    Any option of the pipeline may also be given as ``--name value`` (``--n-labeled 40``);
    ``dgen run PIPELINE --help`` lists them.
    """
    with guarded():
        values = _option_values(config, assignments or [], task=task, backbone=backbone, seed=seed)
        values.update(parse_option_args(list(ctx.args)))
        result = run_pipeline(pipeline, values, out=out, resume=resume, device=device, progress=not no_progress,
                              threads=threads)
        if result.already_finished:
            print_plain(console, f"run {result.run_dir} had already finished; nothing to do.")
        _render_metrics(result.metrics)
        print_plain(console, f"run directory: {result.run_dir}")


def _render_metrics(metrics: dict[str, Any]) -> None:
    test = metrics.get("test")
    if isinstance(test, dict) and test:
        columns = sorted({k for row in test.values() if isinstance(row, dict) for k in row})
        table = Table("test set", *columns, title="test metrics")
        for name, row in test.items():
            table.add_row(name, *(_fmt(row.get(c)) for c in columns))
        console.print(table)
    shown = {k: v for k, v in metrics.items() if k != "test" and not isinstance(v, (dict, list))}
    console.print(", ".join(f"{k}={_fmt(v)}" for k, v in shown.items()), highlight=False)


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


add_bench_command(app, guarded, console)


_commands_loaded: list[bool] = []


def load_plugin_commands() -> None:
    """Let every plugin add its commands (``register_commands`` hook); runs once per process."""
    if not _commands_loaded:
        get_plugins().manager.hook.register_commands(app=app)
        _commands_loaded.append(True)


def main() -> None:
    """Console-script entry point."""
    try:
        load_plugin_commands()
    except DgenError as exc:  # plugins load before any command can guard itself
        if _state["debug"] or "--debug" in sys.argv:
            raise
        print_error(err_console, exc)
        sys.exit(1)
    app()


if __name__ == "__main__":
    main()
