"""How much does ``synthetic_filter`` change the size of the segmenter's synthetic loss? Printed.

Leaving out the best-fitted pairs of a batch also makes the synthetic term larger (the mean over the harder pairs),
the worst-fitted ones smaller; with Adam a larger synthetic term is the same update as a smaller real term
(``gamma``), so a filter's effect is "which pairs" plus "how much synthetic loss". This script measures the second:
for each finished run directory given (a joint, separate or steer run with a generator), it renders
``--batches`` batches of ``batch_size`` synthetic pairs the way the run made them (augmented training masks, the
run's sampling mode), scores each pair with the run's kept segmenter (eval mode) and prints, over the batches, the
ratio mean(kept pairs' loss) / mean(all pairs' loss) for each direction and fraction, and the gamma that matches it
(1 / ratio: the real term's weight that gives an unfiltered run the same balance). It reads the end of training only
(the kept segmenter and the final generator), not the trajectory.

    PYTHONPATH=.:plugins/genseg python benchmarks/synthetic_filter_scale.py RUN_DIR [RUN_DIR ...] [--batches 100]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch

from dgen.steer import weighted_mean
from dgen_genseg.generate import load_generator_run, sample_pairs
from dgen_genseg.pipeline.parts.segmenter import SEG_LOSSES
from dgen_genseg.pipeline.parts.synthetic_filter import keep_weights, pair_losses
from dgen_genseg.predictor import load_segmenter


def ratios(run_dir: Path, batches: int, fractions: list[float], seed: int) -> dict[str, list[float]]:
    """``{"worst 0.25": [ratio per batch], ...}`` for the run in ``run_dir``."""
    device = torch.device("cpu")
    run, segmenter = load_generator_run(run_dir, device), load_segmenter(run_dir, device=device).model
    loss, b = SEG_LOSSES[run.config.seg_loss], run.config.batch_size
    generator = torch.Generator().manual_seed(seed)
    out: dict[str, list[float]] = {f"{drop} {f:g}": [] for drop in ("worst", "best") for f in fractions}
    for _ in range(batches):
        images, masks, _, _ = sample_pairs(run, b, generator)  # (b, C, S, S), (b, 1, S, S)
        losses = pair_losses(segmenter, loss, images, masks)  # (b,)
        for drop in ("worst", "best"):
            for f in fractions:
                kept = weighted_mean(losses, keep_weights(losses, f, drop))
                out[f"{drop} {f:g}"].append(float(kept / losses.mean()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for run_dir in args.runs:
        print(f"{run_dir.name}: mean(kept loss) / mean(all), median over {args.batches} batches [gamma that matches]")
        for name, values in ratios(run_dir, args.batches, args.fractions, args.seed).items():
            lower, ratio, upper = statistics.quantiles(values, n=4)
            print(f"  drop {name}: {ratio:.3f} (quartiles {lower:.3f}–{upper:.3f}) [gamma {1 / ratio:.2f}]")


if __name__ == "__main__":
    main()
