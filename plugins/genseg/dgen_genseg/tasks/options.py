"""Validation of the options every task takes."""

from __future__ import annotations

from dgen.errors import ConfigError

__all__ = ["check_common_options"]


def check_common_options(*, n_labeled: int, image_size: int, seed: int, channels: int) -> None:
    """Raise ``ConfigError`` if an option common to all tasks is out of range."""
    if isinstance(n_labeled, bool) or not isinstance(n_labeled, int) or n_labeled < 2:
        raise ConfigError(
            f"n_labeled={n_labeled!r} is invalid; use an integer >= 2 (at least one training and one validation pair)."
        )
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 4:
        raise ConfigError(f"image_size={image_size!r} is invalid; use an integer >= 4 (e.g. 64 or 256).")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed={seed!r} is invalid; use an integer.")
    if channels not in (1, 3):
        raise ConfigError(f"channels={channels!r} is invalid; use 1 (greyscale) or 3 (RGB).")
