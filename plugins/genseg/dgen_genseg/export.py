"""Writing image-mask pairs as files other tools read: a plain folder, or an nnU-Net v2 raw dataset.

* ``folder``: ``images/<case>.png`` + ``masks/<case>.png`` (masks 0/255), the generic layout that
  ``dgen data check`` and the ``folder`` task read.
* ``nnunet``: ``imagesTr/<case>_0000.png`` + ``labelsTr/<case>.png`` (labels 0/1) + ``dataset.json``,
  nnU-Net v2's raw format for 2-D PNG data (read by its ``NaturalImage2DIO``). An RGB image is *one*
  file ``_0000.png`` — the one exception to nnU-Net's one-file-per-channel rule — with channel names
  ``{"0": "R", "1": "G", "2": "B"}`` (as in nnU-Net's own Dataset120_RoadSegmentation conversion);
  a grey image is ``_0000.png`` with one channel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from dgen.errors import ConfigError, UnknownNameError

__all__ = ["FORMATS", "PairWriter", "check_format", "check_output_dir", "nnunet_dataset_json"]

FORMATS = ("folder", "nnunet")
#: nnU-Net channel names by image channel count.
NNUNET_CHANNELS = {1: {"0": "grey"}, 3: {"0": "R", "1": "G", "2": "B"}}
NNUNET_LABELS = {"background": 0, "foreground": 1}
#: the folder name nnU-Net v2 requires of a raw dataset (``nnUNet_raw/Dataset501_Name``).
NNUNET_NAME = re.compile(r"Dataset\d{3}_[A-Za-z0-9_.-]+")


def check_format(fmt: str) -> None:
    """Raise ``UnknownNameError`` unless ``fmt`` is one of :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise UnknownNameError("output format", fmt, FORMATS)


def check_output_dir(out: Path, fmt: str = "folder") -> None:
    """Refuse an ``out`` that is a file or a non-empty folder (nothing is ever overwritten), and for
    ``nnunet`` a folder not named ``DatasetNNN_Name`` (nnU-Net v2 finds raw datasets by that name)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out} already exists and is not an empty folder; choose a new --out or empty it.")
    if fmt == "nnunet" and not NNUNET_NAME.fullmatch(out.name):
        raise ConfigError(
            f"--out {out}: nnU-Net v2 reads a raw dataset only from a folder named DatasetNNN_Name (three digits, "
            f"e.g. Dataset501_Synthetic); give e.g. --out {out.parent / ('Dataset501_' + _name_part(out.name))}."
        )


def _name_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "", name.title().replace("-", "").replace(" ", "")) or "Synthetic"


def _image(image: Tensor) -> Image.Image:
    """``(C, H, W)`` float in [0, 1], C = 1 or 3 -> an 8-bit grey or RGB image."""
    pixels = (image.detach().float().cpu().clamp(0, 1) * 255).round().to(torch.uint8).numpy()  # (C, H, W)
    return Image.fromarray(pixels[0]) if pixels.shape[0] == 1 else Image.fromarray(pixels.transpose(1, 2, 0))


def _mask(mask: Tensor, foreground: int) -> Image.Image:
    """``(1, H, W)`` in {0, 1} -> 8-bit image with values {0, ``foreground``}."""
    values = (mask[0].detach().cpu() > 0.5).numpy().astype(np.uint8) * foreground  # (H, W)
    return Image.fromarray(values)


def nnunet_dataset_json(channels: int, n: int, name: str) -> dict:
    """The ``dataset.json`` of an nnU-Net v2 raw dataset of ``n`` PNG training cases with ``channels`` channels."""
    return {
        "name": name,
        "description": "synthetic image-mask pairs written by `dgen generate`",
        "channel_names": NNUNET_CHANNELS[channels],
        "labels": NNUNET_LABELS,
        "numTraining": n,
        "file_ending": ".png",
    }


class PairWriter:
    """Writes batches of pairs into ``out`` in format ``fmt``; :meth:`close` adds nnU-Net's ``dataset.json``.

    Args:
        out: the output folder (created; see :func:`check_output_dir`).
        fmt: ``"folder"`` or ``"nnunet"`` (see the module docstring).
        channels: image channels, 1 (grey) or 3 (RGB).
    """

    def __init__(self, out: Path, fmt: str, channels: int) -> None:
        check_format(fmt)
        if channels not in NNUNET_CHANNELS:
            raise ConfigError(f"images have {channels} channels; only 1 (grey) or 3 (RGB) can be written as PNG.")
        self.out, self.fmt, self.channels, self.cases = out, fmt, channels, 0
        names = ("imagesTr", "labelsTr") if fmt == "nnunet" else ("images", "masks")
        self.image_dir, self.mask_dir = out / names[0], out / names[1]
        self.image_dir.mkdir(parents=True, exist_ok=True)
        self.mask_dir.mkdir(parents=True, exist_ok=True)

    def write(self, cases: Sequence[str], images: Tensor, masks: Tensor) -> None:
        """Write ``images`` ``(B, C, H, W)`` in [0, 1] and ``masks`` ``(B, 1, H, W)`` in {0, 1} as ``cases``."""
        nnunet = self.fmt == "nnunet"
        for case, image, mask in zip(cases, images, masks):
            _image(image).save(self.image_dir / (f"{case}_0000.png" if nnunet else f"{case}.png"))
            _mask(mask, 1 if nnunet else 255).save(self.mask_dir / f"{case}.png")
        self.cases += len(cases)

    def close(self) -> None:
        """Finish the dataset (nnU-Net: write ``dataset.json`` with ``numTraining`` = the cases written)."""
        if self.fmt == "nnunet":
            meta = nnunet_dataset_json(self.channels, self.cases, self.out.name)
            (self.out / "dataset.json").write_text(json.dumps(meta, indent=2) + "\n")
