"""Load local pretrained weights into a segmenter; nothing is ever downloaded.

A weights file is a ``.safetensors`` file or a torch state dict (``torch.load(weights_only=True)``;
a dict holding it under ``"state_dict"`` or ``"model"`` also works). It may cover the whole
segmenter or only a part of it (e.g. an ImageNet ResNet or Swin checkpoint for the encoder): the
file is loaded into the candidate part whose parameter names it matches best. Every tensor of that
part must be in the file with the right shape; extra tensors (a classifier head) are ignored.
When the model has ``in_channels != 3`` and the file's first convolution has 3 input channels,
the kernel is adapted as smp does: summed over RGB for 1 channel, else repeated and rescaled.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from dgen.errors import ConfigError

__all__ = ["read_state_dict", "load_pretrained"]


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read a state dict from ``path`` (safetensors or ``torch.save``); ``ConfigError`` if missing or unreadable."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"pretrained weights file '{path}' does not exist; pass the path of a local .safetensors or "
            f"torch state-dict file (weights are never downloaded), or pretrained=None for random initialisation."
        )
    try:
        if path.suffix == ".safetensors":
            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any reader failure becomes one clear message
        reason = " ".join(str(err).split())[:300]
        raise ConfigError(
            f"cannot read pretrained weights '{path}' ({type(err).__name__}: {reason}); expected a .safetensors "
            f"file or a torch state dict saved with torch.save."
        ) from err
    for key in ("state_dict", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ConfigError(f"pretrained weights '{path}' hold no state dict of tensors; save model.state_dict().")
    return dict(state)


def _adapt_in_channels(weight: Tensor, in_channels: int) -> Tensor:
    """A 3-input-channel kernel ``(O, 3, kh, kw)`` -> ``(O, in_channels, kh, kw)`` (smp's rule)."""
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    index = torch.arange(in_channels) % weight.shape[1]
    return weight[:, index] * (weight.shape[1] / in_channels)


def _fit(name: str, value: Tensor, expected: Tensor, in_channels: int) -> Tensor:
    if value.shape == expected.shape:
        return value
    rgb_kernel = value.dim() == 4 and value.shape[1] == 3 and expected.shape[1] == in_channels
    if rgb_kernel and value.shape[:1] + value.shape[2:] == expected.shape[:1] + expected.shape[2:]:
        return _adapt_in_channels(value, in_channels)
    raise ConfigError(
        f"pretrained tensor '{name}' has shape {tuple(value.shape)} but the model expects {tuple(expected.shape)}; "
        f"build the model with the configuration the weights were trained with."
    )


def load_pretrained(
    state: Mapping[str, Tensor], targets: Mapping[str, nn.Module], *, in_channels: int, source: str = "weights"
) -> str:
    """Load the state dict ``state`` (from :func:`read_state_dict`) into the best-matching module of ``targets``.

    Args:
        targets: candidate parts by name, e.g. ``{"segmenter": seg, "encoder": seg.encoder}``.
        in_channels: the model's image channels (for adapting an RGB first convolution).
        source: where ``state`` came from (the file path), for messages.

    Returns:
        The name of the part the weights were loaded into.
    """
    scores = {name: len(state.keys() & module.state_dict().keys()) for name, module in targets.items()}
    best = max(scores, key=scores.__getitem__)
    if scores[best] == 0:
        sample = ", ".join(list(state)[:3])
        raise ConfigError(
            f"pretrained weights '{source}' match no part of the model (file keys like {sample}); expected a state "
            f"dict of one of: {', '.join(targets)}."
        )
    module = targets[best]
    expected = {k: v for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = [k for k in expected if k not in state]
    if missing:
        raise ConfigError(
            f"pretrained weights '{source}' lack {len(missing)} tensors of the {best} (e.g. {', '.join(missing[:3])}); "
            f"use a checkpoint of the same architecture and configuration."
        )
    fitted = {k: _fit(k, state[k], v, in_channels) for k, v in expected.items()}
    module.load_state_dict(fitted, strict=False)
    return best
