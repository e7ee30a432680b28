"""``dgen predict``: a finished run's segmenter on new images of any size, masks written at each image's size.

Output folder ``OUT`` (new or empty):

* ``masks/<stem>.png``: the binary mask (8-bit, 0/255) at the image's own size;
* ``probabilities/<stem>.png`` (with ``probabilities=True``): the foreground probability as a 16-bit
  PNG (``round(65535 p)``; dgen's image reader maps it back to [0, 1]);
* with ground-truth masks (a folder, matched by file stem): ``scores.csv``, one row per scored image
  (``case, height, width, dice, jaccard, hd95``, HD95 in pixels), and ``summary.json`` with their mean
  and the images and masks that found no partner.

Predictions are made as in :mod:`dgen_genseg.predictor`, and scores as a run's native-resolution test
scores (:mod:`dgen_genseg.metrics.native`), so on a run's test images they reproduce its metrics.
Everything is checked before anything is written; a file that cannot be read midway removes what
was written, so a failed call leaves ``OUT`` as it was.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dgen.errors import ConfigError, DataError, DgenError
from dgen_genseg.data.io import is_image_file, mask_array
from dgen_genseg.data.pair import wxh
from dgen_genseg.export import check_output_dir
from dgen_genseg.metrics.native import CaseScores
from dgen_genseg.predictor import Predictor, load_segmenter

__all__ = ["PredictResult", "collect_images", "match_masks", "predict_images"]

MASKS_DIR, PROBABILITIES_DIR = "masks", "probabilities"
SCORES_FILE, SUMMARY_FILE = "scores.csv", "summary.json"
#: columns of scores.csv.
SCORE_COLUMNS = ("case", "height", "width", "dice", "jaccard", "hd95")
_SHOWN = 5


@dataclass(frozen=True)
class PredictResult:
    """What ``dgen predict`` did.

    Attributes:
        out: the output folder.
        images: every image predicted, in order.
        means: mean ``{"dice", "jaccard", "hd95", "n"}`` over the scored images; None without masks.
        no_mask: stems of images without a ground-truth mask (predicted, not scored).
        no_image: mask files whose stem matches no image (ignored).
    """

    out: Path
    images: list[Path]
    means: dict[str, float] | None = None
    no_mask: list[str] = field(default_factory=list)
    no_image: list[Path] = field(default_factory=list)


def _shown(names: Sequence[object]) -> str:
    return ", ".join(map(str, names[:_SHOWN])) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def collect_images(inputs: Sequence[str | Path]) -> list[Path]:
    """The image files named by ``inputs``: files as given, folders' image files (not recursive, sorted).

    Raises:
        DataError: a path that does not exist, a file without an image suffix, a folder without
            images, or two images with the same stem (their outputs would collide).
    """
    if not inputs:
        raise ConfigError("no images given; pass image files or folders of images after RUN_DIR.")
    images: list[Path] = []
    for given in map(Path, inputs):
        if given.is_dir():
            found = sorted(p for p in given.iterdir() if p.is_file() and is_image_file(p))
            if not found:
                hint = f" (it has an images/ folder: pass {given / 'images'})" if (given / "images").is_dir() else ""
                raise DataError(f"{given} holds no image files{hint}; pass a folder of images or image files.")
            images += found
        elif given.is_file():
            if not is_image_file(given):
                raise DataError(
                    f"{given} is not an image file (suffix {given.suffix!r}); pass PNG, JPEG, BMP, TIFF or GIF files."
                )
            images.append(given)
        else:
            raise DataError(f"{given} does not exist; check the path.")
    seen: dict[str, Path] = {}
    for path in images:
        if path.stem in seen and seen[path.stem] != path:
            raise DataError(
                f"{path} and {seen[path.stem]} have the same stem '{path.stem}', so their masks would have one name; "
                "predict them in separate calls."
            )
        seen[path.stem] = path
    return list(dict.fromkeys(images))


def match_masks(images: Sequence[Path], masks_dir: Path) -> tuple[dict[str, Path], list[str], list[Path]]:
    """Pair images with the mask files of ``masks_dir`` by stem.

    Returns:
        ``({stem: mask file}, stems of images without a mask, mask files without an image)``.
    """
    if not masks_dir.is_dir():
        raise DataError(f"--masks {masks_dir} is not a folder; pass the folder of ground-truth masks (<stem>.png).")
    masks: dict[str, Path] = {}
    for path in sorted(p for p in masks_dir.iterdir() if p.is_file() and is_image_file(p)):
        if path.stem in masks:
            raise DataError(f"{path} and {masks[path.stem]} are two masks for '{path.stem}'; keep one of them.")
        masks[path.stem] = path
    stems = {p.stem for p in images}
    matched = {p.stem: masks[p.stem] for p in images if p.stem in masks}
    if masks and not matched:
        raise DataError(
            f"no mask in {masks_dir} has the stem of an image (masks like {_shown(sorted(masks))}; images like "
            f"{_shown(sorted(stems))}); name each mask after its image."
        )
    return matched, [p.stem for p in images if p.stem not in masks], [m for s, m in masks.items() if s not in stems]


def _save_mask(path: Path, mask: np.ndarray) -> None:
    """bool ``(H, W)`` -> 8-bit PNG with values 0/255."""
    Image.fromarray(mask.astype(np.uint8) * 255).save(path)


def _save_probabilities(path: Path, probabilities: np.ndarray) -> None:
    """float ``(H, W)`` in [0, 1] -> 16-bit grey PNG, ``round(65535 p)``."""
    Image.fromarray(np.round(probabilities * 65535).astype(np.uint16)).save(path)


def _truth(mask_path: Path, image: Path, size: tuple[int, int]) -> torch.Tensor:
    mask = mask_array(mask_path)  # (H, W) bool
    if mask.shape != size:
        raise DataError(
            f"{mask_path}: mask is {wxh(mask.shape)} but its image {image} is {wxh(size)}; "
            "give the mask at its image's size."
        )
    return torch.from_numpy(mask)[None, None]


def _write(
    predictor: Predictor, images: Sequence[Path], out: Path, masks: dict[str, Path], probabilities: bool
) -> CaseScores:
    """Write every image's mask (and probabilities) into ``out``; score the images in ``masks``."""
    (out / MASKS_DIR).mkdir(parents=True)
    if probabilities:
        (out / PROBABILITIES_DIR).mkdir()
    scores = CaseScores()
    for path in images:
        logits = predictor.logits(path)  # (1, 1, H, W) at the image's size
        size = tuple(logits.shape[-2:])
        _save_mask(out / MASKS_DIR / f"{path.stem}.png", (logits > 0)[0, 0].cpu().numpy())
        if probabilities:
            _save_probabilities(out / PROBABILITIES_DIR / f"{path.stem}.png", torch.sigmoid(logits)[0, 0].cpu().numpy())
        if path.stem in masks:
            scores.add("images", path.stem, logits, _truth(masks[path.stem], path, size))
    return scores


def predict_images(
    run_dir: str | Path,
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    masks: str | Path | None = None,
    probabilities: bool = False,
    device: str = "auto",
) -> PredictResult:
    """Segment ``inputs`` (image files or folders) with the run's segmenter and write the results to ``out``.

    Args:
        masks: a folder of ground-truth masks named like the images (``<stem>.*``): score each matched image.
        probabilities: also write 16-bit probability maps.
        device: ``auto``, ``cpu`` or ``cuda``.

    Raises:
        ConfigError / DataError: a bad run directory, input, mask folder or output folder (see the module docstring).
    """
    out = Path(out)
    check_output_dir(out)
    images = collect_images(inputs)
    matched, no_mask, no_image = match_masks(images, Path(masks)) if masks is not None else ({}, [], [])
    predictor = load_segmenter(run_dir, device=device)
    created = not out.exists()
    try:
        scores = _write(predictor, images, out, matched, probabilities)
    except (DgenError, OSError) as exc:
        for name in (MASKS_DIR, PROBABILITIES_DIR):
            shutil.rmtree(out / name, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        if isinstance(exc, DgenError):
            raise
        raise DataError(f"cannot write into --out {out} ({exc.strerror or exc}); choose a writable folder "
                        "with free space.") from exc
    means = None
    if matched:
        means = scores.means()["images"]
        scores.write_csv(out / SCORES_FILE, columns=SCORE_COLUMNS)
        summary = {"run_dir": str(Path(run_dir).resolve()), "mean": means, "images_without_mask": no_mask,
                   "masks_without_image": [str(p) for p in no_image]}
        (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=1) + "\n")
    return PredictResult(out, images, means, no_mask, no_image)
