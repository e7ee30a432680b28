"""``dgen run PIPELINE --help``: the usual help, then a table of the pipeline's own options.

The table (option, type, default or value under each preset, meaning) comes from
:func:`dgen.options.describe_options`, so it is the pipeline's config dataclass that documents itself.
It is a rich table printed by this module rather than typer options made at run time: typer draws
only its own option objects, which cannot be built through its public API, and its help has one
default column where a pipeline with presets needs one per preset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dgen.errors import DgenError
from dgen.options import describe_options
from dgen.plugins import registry

__all__ = ["RunHelpCommand", "options_table", "pipeline_name"]

_PIPELINE_KEY = "dgen.pipeline"


def pipeline_name(args: Sequence[str], flags: set[str]) -> str | None:
    """The first positional argument of ``args``, skipping the values of options.

    Every option but the ``flags`` (``--help``, ``--no-progress``) takes the next argument as its value
    unless it is written ``--name=value`` or the next argument starts with ``--``, as pipeline options do.
    """
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("-"):
            return token
        takes_value = "=" not in token and token not in flags
        if takes_value and i + 1 < len(args) and not args[i + 1].startswith("--"):
            i += 1
        i += 1
    return None


def options_table(name: str, pipeline: Any) -> Table:
    """A table of ``pipeline``'s options: ``--option``, type, default (or one column per preset), meaning."""
    options = describe_options(pipeline.config_class, pipeline.presets)
    preset_names = list(pipeline.presets)
    table = Table(
        title=f"{name} options: --name value or --set name=value",
        caption="columns " + ", ".join(preset_names) + ": the value under each preset" if preset_names else None,
        title_justify="left", caption_justify="left", expand=True,
    )
    table.add_column("option", style="cyan", no_wrap=True)
    table.add_column("type", style="yellow", max_width=18)
    for column in preset_names or ["default"]:
        table.add_column(column)
    table.add_column("meaning", ratio=1, overflow="fold")
    for option in options:
        values = [option.presets[p] for p in preset_names] if preset_names else [option.default]
        table.add_row(f"--{option.name.replace('_', '-')}", escape(option.type.replace("|", " | ")), *map(escape, values),
                      escape(option.help or "(undocumented)"))
    return table


class RunHelpCommand(typer.core.TyperCommand):
    """The ``run`` command's class: its ``--help`` ends with the named pipeline's options."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        flags = {o for p in self.get_params(ctx) if getattr(p, "is_flag", False) for o in [*p.opts, *p.secondary_opts]}
        ctx.meta[_PIPELINE_KEY] = pipeline_name(args, flags)
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        super().format_help(ctx, formatter)
        name = ctx.meta.get(_PIPELINE_KEY)
        if name is None:
            Console().print("Give a pipeline (`dgen run toy --help`) to list its options.", highlight=False)
            return
        try:
            pipeline = registry("pipelines").create(name)
        except DgenError as exc:
            Console(stderr=True).print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        Console().print(options_table(name, pipeline))
