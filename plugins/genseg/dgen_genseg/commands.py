"""GenSeg's additions to the ``dgen`` command line: ``dgen data check DIR`` and ``dgen generate RUN_DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dgen.cli import guarded
from dgen.terminal import print_plain
from dgen_genseg.data.check import check_dir
from dgen_genseg.export import FORMATS
from dgen_genseg.generate import generate

__all__ = ["register_data_commands", "register_generate_command"]


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
        with guarded():
            problems = check_dir(directory, channels=channels, allow_empty_masks=allow_empty_masks)
        for problem in problems:
            style = "red" if problem.severity == "error" else "yellow"
            print_plain(console, problem, style)
        errors = sum(p.severity == "error" for p in problems)
        if errors:
            print_plain(console, f"{errors} problem(s) in {directory}", "bold red")
            raise typer.Exit(1)
        print_plain(console, f"{directory}: no problems found" + (f" ({len(problems)} warning(s))" if problems else ""),
                    "green")

    app.add_typer(data, name="data")


def register_generate_command(app: typer.Typer) -> None:
    """Add ``dgen generate RUN_DIR --n N --out DIR [--format folder|nnunet] [--seed S]`` to ``app``."""

    @app.command("generate")
    def generate_command(
        run_dir: Annotated[Path, typer.Argument(help="Directory of a finished `dgen run genseg` run.")],
        n: Annotated[int, typer.Option("--n", help="Number of pairs to write.")],
        out: Annotated[Path, typer.Option(help="New (or empty) output folder.")],
        fmt: Annotated[str, typer.Option("--format", help=f"{' or '.join(FORMATS)}.")] = "folder",
        seed: Annotated[int, typer.Option(help="Seed of the drawn masks and their augmentation.")] = 0,
        device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    ) -> None:
        """Write N synthetic image-mask pairs from a GenSeg run's generator (augmented training masks -> images)."""
        with guarded():
            result = generate(run_dir, n, out, fmt=fmt, seed=seed, device=device)
        print_plain(Console(), f"wrote {len(result.cases)} pairs ({fmt}) to {result.out}")
