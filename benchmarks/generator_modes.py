"""Train-mode vs eval-mode images of a GenSeg run's generator on the same masks (review finding 3).

GenSeg's segmenter trains on images from the generator in *train* mode (dropout active, BatchNorm
with the statistics of the current batch), while ``samples.png``, TensorBoard, the ``separate``
baseline and ``dgen generate`` use *eval* mode (no dropout, running statistics). This script shows
how far apart the two are, next to the real training images:

* on the run's training masks, un-augmented, in batches of the run's ``batch_size``: pixel mean and
  standard deviation, the mean per-image standard deviation (texture), the foreground/background
  contrast (|mean inside the mask - mean outside|, averaged over images: does the image show the
  mask?) and the L1 distance to the real image of the same mask (what the pix2pix L1 term trains);
* the mean |train - eval| between the modes, and between two train-mode draws (dropout noise);
* the same on the run's *augmented* masks (what the segmenter trains on; no real image exists for
  them, so the L1 column is left out);
* a picture: mask | real | eval | train, one row per mask (``--png``).

    PYTHONPATH=.:plugins/genseg python benchmarks/generator_modes.py RUN_DIR [--n 16] [--png modes.png]

RUN_DIR must hold ``generator.safetensors`` (a finished GenSeg or separate run).
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.utils import make_grid, save_image

from dgen_genseg.gan.losses import from_tanh_range, to_tanh_range
from dgen_genseg.generate import load_generator_run
from dgen_genseg.rundir import SPLIT_FILE
from dgen_genseg.pipeline.preflight import make_task


def generate(generator: nn.Module, masks: Tensor, batch: int, *, train: bool, seed: int) -> Tensor:
    """Images in [0, 1] ``(N, C, H, W)`` for ``masks`` ``(N, 1, H, W)``, in batches of ``batch``; running statistics untouched."""
    model = copy.deepcopy(generator).train(train)
    torch.manual_seed(seed)  # dropout
    with torch.no_grad():
        return torch.cat([from_tanh_range(model(to_tanh_range(m))) for m in masks.split(batch)])


def statistics(images: Tensor, masks: Tensor, reals: Tensor) -> dict[str, float]:
    """Pixel statistics of ``images`` ``(N, C, H, W)`` given their masks ``(N, 1, H, W)`` and real images."""
    grey = images.mean(dim=1, keepdim=True)  # (N, 1, H, W)
    fg = (grey * masks).sum(dim=(1, 2, 3)) / masks.sum(dim=(1, 2, 3)).clamp_min(1)
    bg = (grey * (1 - masks)).sum(dim=(1, 2, 3)) / (1 - masks).sum(dim=(1, 2, 3)).clamp_min(1)
    return {
        "mean": float(images.mean()),
        "std": float(images.std()),
        "per_image_std": float(images.flatten(1).std(dim=1).mean()),
        "fg_bg_contrast": float((fg - bg).abs().mean()),
        "l1_to_real": float((images - reals).abs().mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--n", type=int, default=16, help="training masks to render (default 16)")
    parser.add_argument("--png", type=Path, default=None, help="write mask | real | eval | train rows here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = load_generator_run(args.run_dir, torch.device("cpu"))
    task = make_task(run.config)
    splits = task.splits(saved=json.loads((args.run_dir / SPLIT_FILE).read_text()))
    n = min(args.n, len(splits.train))
    reals = torch.stack([splits.train[i][0] for i in range(n)])  # (n, C, H, W) in [0, 1]
    masks = run.masks[:n]  # (n, 1, H, W)
    batch = run.config.batch_size
    modes = {
        "real": reals,
        "eval": generate(run.generator, masks, batch, train=False, seed=0),
        "train": generate(run.generator, masks, batch, train=True, seed=0),
    }
    second_draw = generate(run.generator, masks, batch, train=True, seed=1)
    print(f"{args.run_dir}: {n} training masks, batches of {batch}, {run.config.image_size}px")
    print("| images | mean | std | per-image std | fg/bg contrast | L1 to real |")
    print("|---|---|---|---|---|---|")
    for name, images in modes.items():
        s = statistics(images, masks, reals)
        print(f"| {name} | {s['mean']:.3f} | {s['std']:.3f} | {s['per_image_std']:.3f} | "
              f"{s['fg_bg_contrast']:.3f} | {s['l1_to_real']:.3f} |")
    print(f"mean |train - eval| = {float((modes['train'] - modes['eval']).abs().mean()):.3f}; "
          f"mean |train(seed 0) - train(seed 1)| (dropout) = {float((modes['train'] - second_draw).abs().mean()):.3f}")
    augmented, _ = run.augmenter(masks, generator=torch.Generator().manual_seed(0))
    on_augmented = {mode: generate(run.generator, augmented, batch, train=mode == "train", seed=0) for mode in ("eval", "train")}
    print("augmented masks:")
    for name, images in on_augmented.items():
        s = statistics(images, augmented, images)
        print(f"| {name} | {s['mean']:.3f} | {s['std']:.3f} | {s['per_image_std']:.3f} | {s['fg_bg_contrast']:.3f} | - |")
    print(f"mean |train - eval| = {float((on_augmented['train'] - on_augmented['eval']).abs().mean()):.3f}")
    if args.png is not None:
        rows = [masks.expand(-1, reals.shape[1], -1, -1), reals, modes["eval"], modes["train"]]
        tiles = torch.stack(rows, dim=1).flatten(0, 1).clamp(0, 1)  # (4n, C, H, W)
        save_image(make_grid(tiles, nrow=4, padding=2, pad_value=1.0), str(args.png))
        print(f"wrote {args.png} (columns: mask | real | eval | train)")


if __name__ == "__main__":
    main()
