"""GenSeg's additions to the ``dgen`` command line: ``dgen data check DIR``, ``dgen generate RUN_DIR``,
``dgen predict RUN_DIR IMAGES...`` and ``dgen evaluate RUN_DIR...``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dgen.cli import guarded
from dgen.terminal import print_plain, printable
from dgen_genseg.data.check import check_dir
from dgen_genseg.export import FORMATS
from dgen_genseg.generate import generate
from dgen_genseg.predict import MASKS_DIR, SCORES_FILE, predict_images
from dgen_genseg.rescore import evaluate_run

__all__ = [
    "register_data_commands", "register_evaluate_command", "register_generate_command", "register_predict_command",
]


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
        min_utility: Annotated[Optional[float], typer.Option(
            help="steer runs with learned pair weights: keep the pairs whose weight is at least this (1 = neutral)."
        )] = None,
    ) -> None:
        """Write N synthetic image-mask pairs from a GenSeg run's generator (augmented training masks -> images)."""
        with guarded():
            result = generate(run_dir, n, out, fmt=fmt, seed=seed, device=device, min_utility=min_utility)
        print_plain(Console(), f"wrote {len(result.cases)} pairs ({fmt}) to {result.out}")


def _score_cells(scores: dict[str, float]) -> list[str]:
    return [f"{scores['dice']:.4f}", f"{scores['jaccard']:.4f}", f"{scores['hd95']:.2f}", str(scores["n"])]


def register_predict_command(app: typer.Typer) -> None:
    """Add ``dgen predict RUN_DIR IMAGES... --out DIR [--masks DIR] [--probabilities]`` to ``app``."""

    @app.command("predict")
    def predict_command(
        run_dir: Annotated[Path, typer.Argument(help="Directory of a finished `dgen run genseg` run.")],
        images: Annotated[list[Path], typer.Argument(help="Image files and/or folders of images (any size).")],
        out: Annotated[Path, typer.Option(help="New (or empty) output folder.")],
        masks: Annotated[
            Optional[Path], typer.Option(help="Folder of ground-truth masks named like the images: score each image.")
        ] = None,
        probabilities: Annotated[bool, typer.Option(help="Also write 16-bit probability maps.")] = False,
        device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    ) -> None:
        """Segment new images with a run's best segmenter; masks are written at each image's own size."""
        console = Console(highlight=False, soft_wrap=True)
        with guarded():
            result = predict_images(run_dir, images, out, masks=masks, probabilities=probabilities, device=device)
        print_plain(console, f"wrote {len(result.images)} masks to {result.out / MASKS_DIR}")
        if result.no_mask:
            print_plain(console, f"{len(result.no_mask)} image(s) have no mask in {masks} and were not scored: "
                                 f"{', '.join(result.no_mask)}", style="yellow")
        if result.no_image:
            print_plain(console, f"{len(result.no_image)} mask(s) in {masks} match no image and were ignored: "
                                 f"{', '.join(p.name for p in result.no_image)}", style="yellow")
        if result.means is not None:
            table = Table("images", "dice", "jaccard", "hd95 (px)", "n", title="mean at each image's size")
            table.add_row(escape(printable(str(masks))), *_score_cells(result.means))
            console.print(table)
            print_plain(console, f"per image: {result.out / SCORES_FILE}")


def register_evaluate_command(app: typer.Typer) -> None:
    """Add ``dgen evaluate RUN_DIR... [--device D]`` to ``app``."""

    @app.command("evaluate")
    def evaluate_command(
        run_dirs: Annotated[list[Path], typer.Argument(help="Directories of finished `dgen run genseg` runs.")],
        device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    ) -> None:
        """Re-score finished runs at native resolution from their saved best segmenter (no retraining)."""
        console = Console(highlight=False, soft_wrap=True)
        table = Table("test set", "dice", "jaccard", "hd95 (px)", "n", "dice at image size",
                      title="test scores at native resolution")
        table.add_column("run", overflow="fold")
        failed = 0
        for run_dir in run_dirs:
            try:
                with guarded():
                    metrics = evaluate_run(run_dir, device=device)
            except typer.Exit:
                failed += 1
                continue
            for name, scores in metrics["test"].items():
                at_size = metrics["test_at_image_size"][name]["dice"]
                table.add_row(escape(printable(name)), *_score_cells(scores), f"{at_size:.4f}",
                              escape(printable(str(run_dir))))
        if table.rows:
            console.print(table)
        if failed:
            console.print(f"{failed} of {len(run_dirs)} run(s) could not be re-scored (see above)", style="bold red")
            raise typer.Exit(1)
