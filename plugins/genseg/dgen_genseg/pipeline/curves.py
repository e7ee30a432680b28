"""``loss-curves.png``: every column of a run's ``log.csv`` against the iteration, one panel each.

Each loss (and statistic such as the hypergradient norm) gets its own panel: the raw values, thin, and
their moving average; the validation scores share one panel, with the best Dice marked; the
segmenter's learning rate is drawn on a log scale. Only the columns the log has are drawn, so every
method (whose logs differ: ``disc``, ``gen``, ``arch`` ... or ``seg`` alone) gets its own set.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from dgen_genseg.pipeline.figures import DPI

__all__ = ["loss_curves_figure", "read_log", "save_loss_curves"]

#: columns that are bookkeeping, not curves
_SKIPPED = {"iteration", "seg_iteration", "skipped"}
_VALIDATION = "val_"
_TITLES = {
    "disc": "discriminator (wgan: critic) loss", "gen": "generator loss", "seg": "segmenter loss",
    "arch": "validation loss of α (arch level)", "arch_grad_norm": "hypergradient norm ‖∇α‖",
    "seg_lr": "segmenter learning rate",
}
_PANEL = (5.0, 2.8)  # inches
_SMOOTH_FROM = 200  # values; fewer are drawn as they are


def read_log(path: Path) -> dict[str, np.ndarray]:
    """The columns of ``log.csv`` as float arrays of equal length (empty cells are NaN)."""
    with Path(path).open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return {}
    header, body = rows[0], [r for r in rows[1:] if r]

    def number(cell: str) -> float:
        try:
            return float(cell)
        except ValueError:
            return math.nan

    return {name: np.array([number(r[i]) if i < len(r) else math.nan for r in body]) for i, name in enumerate(header)}


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values ``(n,)`` (shorter at the start)."""
    sums = np.cumsum(np.insert(values, 0, 0.0))
    starts = np.maximum(np.arange(1, len(values) + 1) - window, 0)
    return (sums[1:] - sums[starts]) / (np.arange(1, len(values) + 1) - starts)


def _curve(ax: Any, x: np.ndarray, y: np.ndarray, colour: str) -> None:
    """The values; from :data:`_SMOOTH_FROM` values on, thin, under their moving mean over 1/40 of them."""
    if len(y) < _SMOOTH_FROM:
        ax.plot(x, y, color=colour, linewidth=1.5)
        return
    window = len(y) // 40
    ax.plot(x, y, color=colour, linewidth=0.8, alpha=0.3, label="each iteration")
    ax.plot(x, _moving_average(y, window), color=colour, linewidth=1.8, label=f"mean of {window}")


def _warmup_end(log: dict[str, np.ndarray]) -> float | None:
    """The first iteration that trained the segmenter, when iterations before it did not (the GAN warm-up)."""
    trained = np.isfinite(log.get("seg_iteration", np.array([])))
    if not trained.any() or trained[0]:
        return None
    return float(log["iteration"][int(np.argmax(trained))])


def _panels(log: dict[str, np.ndarray]) -> list[tuple[str, list[str]]]:
    """``(title, columns)`` of each panel, in the log's column order, the validation scores together."""
    finite = [c for c, v in log.items() if c not in _SKIPPED and np.isfinite(v).any()]
    losses = [(_TITLES.get(c, c), [c]) for c in finite if not c.startswith(_VALIDATION)]
    scores = [c for c in finite if c.startswith(_VALIDATION)]
    return losses + ([("validation score", scores)] if scores else [])


def loss_curves_figure(log: dict[str, np.ndarray]) -> Any | None:
    """A matplotlib ``Figure`` of :func:`read_log`'s columns against ``iteration``; None when nothing was logged."""
    from matplotlib.figure import Figure  # imported here: `dgen` starts faster for the commands that do not draw
    from matplotlib.ticker import MaxNLocator

    panels = _panels(log)
    if "iteration" not in log or not panels:
        return None
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(_PANEL[0] * cols, _PANEL[1] * rows + 0.4), dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    iteration, warmup_end = log["iteration"], _warmup_end(log)
    for ax, (title, columns) in zip(axes, panels):
        for k, column in enumerate(columns):
            keep = np.isfinite(log[column])
            x, y = iteration[keep], log[column][keep]
            if column.startswith(_VALIDATION):
                ax.plot(x, y, marker="o", markersize=3, color=f"C{k}", label=column[len(_VALIDATION):])
            elif column == "seg_lr":  # a step function: constant between plateau reductions
                ax.plot(x, y, color=f"C{k}", drawstyle="steps-post", linewidth=1.5)
                if y.min() > 0 and y.max() / y.min() >= 10:
                    ax.set_yscale("log")
            else:
                _curve(ax, x, y, f"C{k}")
        if "val_dice" in columns:
            values = log["val_dice"]
            best = int(np.nanargmax(values))
            ax.plot(iteration[best], values[best], marker="*", markersize=14, color="C3", linestyle="none",
                    label=f"best Dice {values[best]:.3f} @ {int(iteration[best])}")
        if warmup_end is not None:
            ax.axvline(warmup_end, color="grey", linestyle=":", linewidth=1.2)
        if ax.get_yscale() == "linear":
            ax.ticklabel_format(axis="y", useOffset=False)  # 0.001, not 1e-3 + an offset
        ax.set_title(title, fontsize=12)
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=9)
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    if warmup_end is not None:
        fig.suptitle(f"dotted line: iteration {int(warmup_end)}, the end of the GAN warm-up "
                     f"(before it only the GAN trains)", fontsize=11)
    return fig


def save_loss_curves(log_csv: Path, path: Path) -> bool:
    """Draw :func:`loss_curves_figure` of ``log_csv`` to ``path`` (PNG); False (nothing written) for an empty log."""
    fig = loss_curves_figure(read_log(log_csv))
    if fig is None:
        return False
    fig.savefig(str(path), dpi=DPI, format="png")
    return True
