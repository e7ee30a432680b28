"""Time the strong classic augmentation: our torch code (``strong``) against kornia, MONAI and albumentations.

Each library runs the closest pipeline it offers to nnU-Net v2's 2-D training augmentation (rotation
±180° p 0.2, scaling 0.7-1.4 p 0.2, mirrors p 0.5 per axis, shift ±10 % p 0.2, elastic p 0.2, noise
p 0.1, blur σ 0.5-1 p 0.2, multiplicative brightness 0.75-1.25 p 0.15, contrast p 0.15, low resolution
0.5-1 p 0.25, gamma 0.7-1.5 p 0.3 and inverted p 0.1) on a batch of masks ``(B, 1, H, W)`` and RGB
images ``(B, 3, H, W)`` in [0, 1] held as torch tensors, as the training loop holds them; a library
that works per sample (MONAI, albumentations) loops over the batch, and conversions to and from its
format are timed with it. What a library cannot express is left out of its pipeline and listed.

* Time: the candidates take turns within each repetition (interleaved), so drifts of a shared machine
  hit all of them alike; the median over repetitions is printed with its ratio to ours, as CPU time of
  this process (with one thread, what the wall time would be on an idle machine) and as wall time.
* Checks, per candidate: the masks that come out are exactly {0, 1}; a seeded call reproduces itself
  (seeded the way the library allows: ours from a ``torch.Generator``, kornia through the global torch
  RNG, MONAI with ``set_random_state``, albumentations with ``Compose(seed=...)``); whether it takes the
  pipeline's ``torch.Generator`` directly.

    PYTHONPATH=.:plugins/genseg python benchmarks/augment_speed.py [--batches 8 16] [--sizes 64 128]
        [--reps 15] [--threads 1]

Libraries that are not installed are skipped with a note. They are not dependencies of dgen; to
compare, install them beside it without touching torch, e.g. ``pip install --target /tmp/cand --no-deps
kornia kornia_rs monai albumentations albucore opencv-python-headless simsimd stringzilla`` and add
``/tmp/cand`` to ``PYTHONPATH``. The numbers and the decision are in docs/augmenters.md.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable

import torch

from dgen_genseg.augment import strong

Pair = tuple[torch.Tensor, torch.Tensor]
Run = Callable[[torch.Tensor, torch.Tensor, int], Pair]  # (masks, images, seed) -> (masks, images)


def ours() -> tuple[Run, str]:
    augmenter = strong()

    def run(masks: torch.Tensor, images: torch.Tensor, seed: int) -> Pair:
        return augmenter(masks, images, generator=torch.Generator().manual_seed(seed))

    return run, "all transforms"


def kornia_pipeline(size: int) -> tuple[Run, str]:
    import kornia.augmentation as K

    sequence = K.AugmentationSequential(
        K.RandomRotation(180.0, p=0.2, align_corners=False),
        K.RandomAffine(degrees=0.0, scale=(1 / 1.4, 1 / 0.7), p=0.2),
        K.RandomHorizontalFlip(p=0.5),
        K.RandomVerticalFlip(p=0.5),
        K.RandomAffine(degrees=0.0, translate=(0.1, 0.1), p=0.2),
        K.RandomElasticTransform(kernel_size=(31, 31), sigma=(11.0, 11.0), alpha=(0.05, 0.05), p=0.2),
        K.RandomGaussianNoise(std=0.02, p=0.1),
        K.RandomGaussianBlur((7, 7), (0.5, 1.0), p=0.2),
        K.RandomContrast((0.75, 1.25), p=0.15),  # kornia's contrast multiplies: nnU-Net's brightness
        K.RandomGamma((0.7, 1.5), p=0.3),
        data_keys=["input", "mask"],
    )

    def run(masks: torch.Tensor, images: torch.Tensor, seed: int) -> Pair:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            out_images, out_masks = sequence(images, masks)
        return out_masks, out_images

    return run, "no contrast about the mean, no low resolution, no inverted gamma; one elastic alpha"


def monai_pipeline(size: int) -> tuple[Run, str]:
    import monai.transforms as M
    from monai.data import set_track_meta

    set_track_meta(False)
    both, modes = ("image", "mask"), ("bilinear", "nearest")
    compose = M.Compose(
        [
            M.RandRotated(both, range_x=math.pi, prob=0.2, mode=modes, padding_mode="zeros"),
            M.RandZoomd(both, prob=0.2, min_zoom=1 / 1.4, max_zoom=1 / 0.7, mode=modes, padding_mode="constant"),
            M.RandFlipd(both, spatial_axis=0, prob=0.5),
            M.RandFlipd(both, spatial_axis=1, prob=0.5),
            M.RandAffined(both, prob=0.2, translate_range=(0.1 * size, 0.1 * size), mode=modes, padding_mode="zeros"),
            M.Rand2DElasticd(both, spacing=(11, 11), magnitude_range=(0, 2), prob=0.2, mode=modes, padding_mode="zeros"),
            M.RandGaussianNoised("image", prob=0.1, std=0.02),
            M.RandGaussianSmoothd("image", sigma_x=(0.5, 1.0), sigma_y=(0.5, 1.0), prob=0.2),
            M.RandScaleIntensityd("image", factors=0.25, prob=0.15),
            M.RandScaleIntensityFixedMeand("image", factors=0.25, preserve_range=True, prob=0.15),
            M.RandSimulateLowResolutiond("image", prob=0.25, zoom_range=(0.5, 1.0), upsample_mode="bilinear"),
            M.RandAdjustContrastd("image", prob=0.1, gamma=(0.7, 1.5), invert_image=True, retain_stats=True),
            M.RandAdjustContrastd("image", prob=0.3, gamma=(0.7, 1.5), retain_stats=True),
        ]
    )

    def run(masks: torch.Tensor, images: torch.Tensor, seed: int) -> Pair:
        compose.set_random_state(seed=seed)
        outs = [compose({"image": image, "mask": mask}) for image, mask in zip(images, masks)]
        return torch.stack([torch.as_tensor(o["mask"]) for o in outs]), torch.stack([torch.as_tensor(o["image"]) for o in outs])

    return run, "per sample; all transforms"


def albumentations_pipeline(size: int) -> tuple[Run, str]:
    import albumentations as A
    import cv2
    import numpy as np

    def compose(seed: int) -> A.Compose:
        return A.Compose(
            [
                A.Rotate(limit=180, p=0.2, border_mode=cv2.BORDER_CONSTANT),
                A.Affine(scale=(1 / 1.4, 1 / 0.7), p=0.2),
                A.HorizontalFlip(p=0.5),
                A.VerticalFlip(p=0.5),
                A.Affine(translate_percent=(-0.1, 0.1), p=0.2),
                A.ElasticTransform(alpha=20, sigma=11, p=0.2),
                A.GaussNoise(std_range=(0.0, 0.02), p=0.1),
                A.GaussianBlur(blur_limit=(3, 7), sigma_limit=(0.5, 1.0), p=0.2),
                A.MultiplicativeNoise(multiplier=(0.75, 1.25), per_channel=True, p=0.15),
                A.RandomBrightnessContrast(brightness_limit=0.0, contrast_limit=0.25, p=0.15),
                A.Downscale(scale_range=(0.5, 1.0), p=0.25),
                A.RandomGamma(gamma_limit=(70, 150), p=0.3),
            ],
            seed=seed,
        )

    def run(masks: torch.Tensor, images: torch.Tensor, seed: int) -> Pair:
        pipeline = compose(seed)
        out_masks, out_images = [], []
        for image, mask in zip(images.permute(0, 2, 3, 1).numpy(), masks[:, 0].numpy().astype(np.uint8)):
            out = pipeline(image=image, mask=mask)
            out_images.append(torch.from_numpy(out["image"]))
            out_masks.append(torch.from_numpy(out["mask"]))
        return torch.stack(out_masks)[:, None].float(), torch.stack(out_images).permute(0, 3, 1, 2)

    return run, "per sample, numpy; no inverted gamma, gamma without kept statistics"


CANDIDATES = {"ours (torch)": ours, "kornia": kornia_pipeline, "monai": monai_pipeline, "albumentations": albumentations_pipeline}
TAKES_GENERATOR = {"ours (torch)": "yes", "kornia": "no (global RNG)", "monai": "no (numpy)", "albumentations": "no (numpy)"}


def batch(size: int, count: int) -> Pair:
    g = torch.Generator().manual_seed(0)
    noise = torch.rand(count, 1, size // 8, size // 8, generator=g)
    masks = (torch.nn.functional.interpolate(noise, size=(size, size), mode="bilinear") > 0.5).float()
    return masks, torch.rand(count, 3, size, size, generator=g)


def build(size: int) -> dict[str, tuple[Run, str]]:
    built = {}
    for name, make in CANDIDATES.items():
        try:
            built[name] = make() if name == "ours (torch)" else make(size)
        except ImportError as error:
            print(f"  {name}: skipped ({error})")
    return built


def check(name: str, run: Run) -> str:
    masks, images = batch(64, 8)
    first, second = run(masks, images, 3), run(masks, images, 3)
    binary = set(first[0].unique().tolist()) <= {0.0, 1.0}
    repeats = torch.equal(first[0], second[0]) and torch.allclose(first[1], second[1])
    return f"masks binary: {'yes' if binary else 'NO'}; seeded call repeats: {'yes' if repeats else 'NO'}; torch.Generator: {TAKES_GENERATOR[name]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")  # the libraries' deprecation notes would drown the table
    print(f"torch {torch.__version__}, {args.threads} thread(s), load average {os.getloadavg()[0]:.2f}")

    candidates = build(64)
    print("\nchecks (B=8, 64²):")
    for name, (run, note) in candidates.items():
        print(f"  {name:16s} {check(name, run)}; pipeline: {note}")

    results: list[tuple[int, int, dict[str, float], dict[str, float]]] = []
    for size in args.sizes:
        candidates = build(size)
        for count in args.batches:
            masks, images = batch(size, count)
            cpu: dict[str, list[float]] = {name: [] for name in candidates}
            wall: dict[str, list[float]] = {name: [] for name in candidates}
            for rep in range(args.reps + 2):
                for name, (run, _) in candidates.items():
                    start, start_cpu = time.perf_counter(), time.process_time()
                    run(masks, images, rep)
                    if rep >= 2:  # the first two calls warm caches up
                        cpu[name].append(time.process_time() - start_cpu)
                        wall[name].append(time.perf_counter() - start)
            medians = lambda table: {name: statistics.median(values) for name, values in table.items()}  # noqa: E731
            results.append((count, size, medians(cpu), medians(wall)))
    for kind, column in (("CPU", 2), ("wall", 3)):
        print(f"\nmedian {kind} time per call over {args.reps} interleaved repetitions (ratio to ours):")
        print(f"  {'B':>3} {'size':>5}  " + "  ".join(f"{name:>22s}" for name in results[0][column]))
        for row in results:
            times = row[column]
            reference = times["ours (torch)"]
            cells = [f"{t * 1e3:9.2f} ms (x{t / reference:5.2f})" for t in times.values()]
            print(f"  {row[0]:>3} {row[1]:>4}²  " + "  ".join(f"{cell:>22s}" for cell in cells))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
