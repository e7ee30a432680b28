"""GenSeg's additions to the ``dgen`` command line: ``dgen data check DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dgen_genseg.data.check import check_dir

__all__ = ["register_data_commands"]


def register_data_commands(app: typer.Typer) -> None:
    """Add the ``data`` command group (``dgen data check DIR``) to ``app``."""
    data = typer.Typer(help="Inspect segmentation datasets.", no_args_is_help=True)

    @data.command("check")
    def check(
        directory: Annotated[Path, typer.Argument(help="Dataset folder in any supported layout.")],
        channels: Annotated[int, typer.Option(help="Image channels the task uses (1 gray, 3 RGB).")] = 3,
        allow_empty_masks: Annotated[bool, typer.Option(help="Accept masks without foreground.")] = False,
    ) -> None:
        """Read every image and mask in DIRECTORY and list all problems found, one line each."""
        console = Console(highlight=False, soft_wrap=True)
        problems = check_dir(directory, channels=channels, allow_empty_masks=allow_empty_masks)
        for problem in problems:
            style = "red" if problem.severity == "error" else "yellow"
            console.print(f"[{style}]{problem}[/{style}]")
        errors = sum(p.severity == "error" for p in problems)
        if errors:
            console.print(f"[bold red]{errors} problem(s) in {directory}[/bold red]")
            raise typer.Exit(1)
        console.print(f"[green]{directory}: no problems found[/green]" + (f" ({len(problems)} warning(s))" if problems else ""))

    app.add_typer(data, name="data")
