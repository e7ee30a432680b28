"""Write a small demo dataset in the ``casefolder`` layout, to try the plugin without real data.

    python -m dgen_casefolder.demo_data data/cases --n 24

Each case is a noisy coloured background with one darker, rotated ellipse (the label).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from dgen.errors import ConfigError
from dgen_casefolder.task import IMAGE_FILE, LABEL_FILE

__all__ = ["write_demo_cases"]


def _case(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(image (S, S, 3) uint8, label (S, S) uint8 in {0, 255})``."""
    y, x = np.mgrid[0:size, 0:size] / size  # (S, S) each, in [0, 1)
    cy, cx = rng.uniform(0.3, 0.7, 2)
    ry, rx = rng.uniform(0.1, 0.25, 2)
    angle = rng.uniform(0, np.pi)
    u = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
    v = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
    label = (u / rx) ** 2 + (v / ry) ** 2 <= 1.0
    skin = np.array([0.85, 0.65, 0.55]) + rng.normal(0, 0.03, 3)
    lesion = np.array([0.45, 0.3, 0.25]) + rng.normal(0, 0.05, 3)
    image = np.where(label[..., None], lesion, skin) + rng.normal(0, 0.04, (size, size, 3))
    return (np.clip(image, 0, 1) * 255).astype(np.uint8), label.astype(np.uint8) * 255


def write_demo_cases(root: str | Path, n: int = 24, size: int = 64, seed: int = 0) -> list[str]:
    """Write ``n`` cases ``root/case_<i>/image.png`` + ``label.png`` of ``size`` x ``size``; return their names."""
    if n < 1 or size < 8:
        raise ConfigError(f"n={n}, size={size}; use n >= 1 and size >= 8.")
    rng = np.random.default_rng(seed)
    names = []
    for i in range(n):
        image, label = _case(rng, size)
        folder = Path(root) / f"case_{i:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / IMAGE_FILE)
        Image.fromarray(label).save(folder / LABEL_FILE)
        names.append(folder.name)
    return names


def main() -> None:
    """``python -m dgen_casefolder.demo_data DIR [--n N] [--size S] [--seed K]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder to write the cases into")
    parser.add_argument("--n", type=int, default=24, help="number of cases (default 24)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = write_demo_cases(args.root, args.n, args.size, args.seed)
    print(f"wrote {len(names)} cases to {args.root}")


if __name__ == "__main__":
    main()
