"""Choosing the torch device from ``--device auto|cpu|cuda``."""

from __future__ import annotations

import torch

from dgen.errors import ConfigError, UnknownNameError

__all__ = ["resolve_device"]


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA when available else CPU; ``cuda`` without a GPU raises ``ConfigError``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name} was asked for but no CUDA GPU is visible to torch; use --device cpu or auto.")
        return torch.device(name)
    raise UnknownNameError("device", name, ["auto", "cpu", "cuda"])
