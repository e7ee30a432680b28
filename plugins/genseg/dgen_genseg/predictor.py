"""A finished run's segmenter, ready to segment new images of any size: :func:`load_segmenter`.

An image goes through what the run's test images went through: read as float ``[0, 1]`` with the
task's channel count (grey <-> RGB converted as in training), squashed to the run's
``image_size x image_size`` with antialiased bilinear resizing (:func:`~dgen_genseg.data.resize_image`,
no normalisation beyond ``[0, 1]``); the segmenter's logits are resized back to the image's own size
with bilinear interpolation and thresholded at probability 0.5
(:func:`~dgen_genseg.metrics.native.logits_at_size`), exactly as the run's native-resolution test
scores were computed.

Example::

    from dgen_genseg import load_segmenter
    segmenter = load_segmenter("runs/genseg-isic-unet-s0-20261125-101500", device="cpu")
    mask = segmenter.predict("lesion.jpg")          # bool (H, W) at the image's size
    p = segmenter.probabilities("lesion.jpg")       # float32 (H, W) in [0, 1]
"""

from __future__ import annotations

from pathlib import Path
from typing import Union, final

import numpy as np
import torch
from torch import Tensor, nn

from dgen.checkpoint import load_weights
from dgen.device import resolve_device
from dgen.errors import ConfigError, DataError
from dgen.plugins import create
from dgen.run import CONFIG_FILE
from dgen_genseg.data.dataset import resize_image
from dgen_genseg.data.io import image_array, to_channels
from dgen_genseg.metrics.native import logits_at_size
from dgen_genseg.finished_run import FinishedRun, read_finished_run
from dgen_genseg.rundir import SEGMENTER_FILE

__all__ = ["SEGMENTER_FILE", "ImageInput", "Predictor", "load_segmenter", "run_predictor"]  # SEGMENTER_FILE: rundir's

#: what :meth:`Predictor.predict` takes: an image file, or pixels ``(C, H, W)`` / ``(H, W)`` in [0, 1].
ImageInput = Union[str, Path, np.ndarray, Tensor]


def _build(run: FinishedRun, channels: int) -> nn.Module:
    """The run's segmenter architecture, its trained weights loaded (on the CPU)."""
    options = {k: v for k, v in run.config.backbone_options.items() if k != "pretrained"}  # overwritten anyway
    segmenter = create(
        "segmenters", run.config.backbone, in_channels=channels, classes=1, img_size=run.config.image_size, **options
    )
    path = run.run_dir / SEGMENTER_FILE
    if not path.is_file():
        raise DataError(f"{run.run_dir} has no {SEGMENTER_FILE} although the run finished; use an intact run directory.")
    try:
        segmenter.load_state_dict(load_weights(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise DataError(
            f"{path} does not fit the segmenter built from {CONFIG_FILE} ({first}); "
            "the files come from different runs or versions: use an intact run directory."
        ) from None
    return segmenter


@final
class Predictor:
    """A trained segmenter and the preprocessing of its run.

    Attributes:
        model: the segmenter (eval mode) on ``device``; it maps ``(B, channels, S, S)`` to logits ``(B, 1, S, S)``.
        image_size: ``S``, the side images are resized to.
        channels: image channels the model takes (1 grey, 3 RGB).
        run_dir: the run it was loaded from.
    """

    def __init__(self, model: nn.Module, *, image_size: int, channels: int, run_dir: Path | None = None) -> None:
        self.model, self.image_size, self.channels, self.run_dir = model.eval(), image_size, channels, run_dir
        self.device = next(model.parameters()).device

    def read(self, image: ImageInput) -> np.ndarray:
        """``image`` as float32 ``(channels, H, W)`` in [0, 1]: a file is read as in training."""
        if isinstance(image, (str, Path)):
            return image_array(image, self.channels)
        array = image.detach().cpu().numpy() if isinstance(image, Tensor) else np.asarray(image)
        array = array[None] if array.ndim == 2 else array
        if array.ndim != 3 or array.shape[0] not in (1, 3) or not np.issubdtype(array.dtype, np.floating):
            raise ConfigError(
                f"an image of shape {array.shape} and dtype {array.dtype} cannot be segmented; pass a file, or float "
                "pixels (C, H, W) or (H, W) in [0, 1] with C = 1 or 3."
            )
        if array.size and (not np.isfinite(array).all() or array.min() < 0 or array.max() > 1):
            raise ConfigError("image pixels must be finite and in [0, 1]; divide 8-bit pixels by 255.")
        return np.ascontiguousarray(to_channels(array.astype(np.float32), self.channels))

    @torch.no_grad()
    def logits(self, image: ImageInput) -> Tensor:
        """Logits ``(1, 1, H, W)`` at the image's own size (on :attr:`device`)."""
        pixels = self.read(image)  # (C, H, W)
        resized = torch.from_numpy(resize_image(pixels, self.image_size))[None].to(self.device)  # (1, C, S, S)
        return logits_at_size(self.model(resized), pixels.shape[-2:])

    def probabilities(self, image: ImageInput) -> np.ndarray:
        """Foreground probability of each pixel, float32 ``(H, W)`` in [0, 1]."""
        return torch.sigmoid(self.logits(image))[0, 0].cpu().numpy()

    def predict(self, image: ImageInput) -> np.ndarray:
        """The binary mask, bool ``(H, W)`` at the image's own size (probability > 0.5)."""
        return (self.logits(image) > 0)[0, 0].cpu().numpy()


def load_segmenter(run_dir: str | Path, *, device: str | torch.device = "auto") -> Predictor:
    """The best-on-validation segmenter of the finished GenSeg run in ``run_dir``, ready to predict.

    Args:
        run_dir: a directory written by ``dgen run genseg`` that has finished (holds ``metrics.json``).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or a ``torch.device``.

    Raises:
        ConfigError: not a finished GenSeg run.
        DataError: its files cannot be read, or the weights do not fit its options.
    """
    return run_predictor(read_finished_run(run_dir), device=device)


def run_predictor(run: FinishedRun, *, device: str | torch.device = "auto", channels: int | None = None) -> Predictor:
    """:func:`load_segmenter` for a run already read; ``channels`` (the task's) when known, else from
    ``metrics.json`` (recorded since native scoring), else from the task built from the run's options."""
    torch_device = device if isinstance(device, torch.device) else resolve_device(device)
    if channels is None:
        recorded = run.metrics.get("channels")
        channels = recorded if isinstance(recorded, int) and not isinstance(recorded, bool) else run.task().channels
    model = _build(run, channels).to(torch_device)
    return Predictor(model, image_size=run.config.image_size, channels=channels, run_dir=run.run_dir)
