"""How much does a learnable geometric warp smooth the images? Laplacian energy after / before, printed.

A sub-pixel warp interpolates between pixels, which is a low-pass filter. This script measures it on real images
(Kvasir-SEG by default) at the size a cpu-preset run trains at, for the warp of ``dgen.steer.LearnableGeometry``
at a fraction of its largest magnitudes, one transform at a time and all three, bilinear (what the module does)
and bicubic, beside the learnable appearance's blur at the same fraction:

    DGEN_DATA_ROOT=../shared/data python benchmarks/resampling_smoothing.py --dataset kvasir_seg --size 64

Energy = mean squared response of the 5-point Laplacian away from the border (4 pixels), averaged over
``--draws`` random draws; 1.0 = as sharp as the input.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dgen.steer import GEOMETRY_TRANSFORMS, LearnableAppearance, LearnableGeometry

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def load(folder: Path, count: int, size: int) -> torch.Tensor:
    """The first ``count`` images of ``folder`` as ``(N, 3, size, size)`` in [0, 1] (antialiased bilinear resize)."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:count]
    if not files:
        raise SystemExit(f"no images in {folder}; set DGEN_DATA_ROOT to the shared data folder")
    arrays = [np.array(Image.open(f).convert("RGB").resize((size, size), Image.BILINEAR)) for f in files]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255


def energy(images: torch.Tensor) -> float:
    """Mean squared Laplacian of ``images`` ``(N, C, H, W)``, 4 pixels from the border."""
    kernel = _LAPLACIAN.view(1, 1, 3, 3).repeat(images.shape[1], 1, 1, 1)
    return float(F.conv2d(images[..., 4:-4, 4:-4], kernel, groups=images.shape[1]).pow(2).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="kvasir_seg")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--count", type=int, default=64)
    parser.add_argument("--fraction", type=float, default=0.1, help="magnitudes at this fraction of their maxima")
    parser.add_argument("--draws", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    root = Path(os.environ.get("DGEN_DATA_ROOT", "../shared/data"))
    images = load(root / args.dataset / "images", args.count, args.size)
    base, gen = energy(images), torch.Generator().manual_seed(0)
    rows = []
    with torch.no_grad():
        for transforms in [(name,) for name in GEOMETRY_TRANSFORMS] + [GEOMETRY_TRANSFORMS]:
            geo = LearnableGeometry(transforms, initial=args.fraction)
            for mode in ("bilinear", "bicubic"):
                ratios = []
                for _ in range(args.draws):
                    draw = geo.draw(len(images), generator=gen)
                    grid = F.affine_grid(geo.theta(draw, args.size, args.size), [len(images), 1, args.size, args.size],
                                         align_corners=False)
                    ratios.append(energy(F.grid_sample(images, grid, mode=mode, align_corners=False)) / base)
                rows.append((f"geometry {'+'.join(transforms)}, {mode}", float(np.mean(ratios))))
        blur = LearnableAppearance(("blur",), initial=args.fraction)
        ratios = [energy(blur(images, blur.draw(*images.shape, generator=gen))) / base for _ in range(args.draws)]
        rows.append(("appearance blur", float(np.mean(ratios))))
    print(f"{args.dataset}, {len(images)} images at {args.size}², magnitudes at {args.fraction:g} of their maxima")
    print("| warp | Laplacian energy, after / before |\n|---|---|")
    for name, ratio in rows:
        print(f"| {name} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
