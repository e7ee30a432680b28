"""Input-size rules shared by every segmenter, and their one-line error messages.

A segmenter accepts ``(H, W)`` when each side is a positive multiple of ``multiple``, at least
``minimum``, and, for networks built for one size, equal to that size. The errors name the
nearest valid sizes, e.g. ``input 250x250 is not divisible by 32 (encoder depth 5); use 224 or 256``.
"""

from __future__ import annotations

from dgen.errors import ConfigError

__all__ = ["nearest_multiples", "check_multiple", "check_fixed_size", "format_size"]


def format_size(size: tuple[int, int]) -> str:
    """``(250, 300)`` -> ``"250x300"``."""
    return f"{size[0]}x{size[1]}"


def nearest_multiples(size: int, multiple: int, minimum: int = 1) -> list[int]:
    """The valid sizes next to ``size``: multiples of ``multiple`` that are ``>= minimum``.

    Returns ``[size]`` when ``size`` is valid, else the valid size below it (if any) and the one above.
    """
    smallest = -(-max(minimum, 1) // multiple) * multiple
    if size >= smallest and size % multiple == 0:
        return [size]
    below = size // multiple * multiple
    above = max(below + multiple, smallest)
    return [below, above] if below >= smallest else [above]


def _suggestion(height: int, width: int, multiple: int, minimum: int) -> str:
    hs, ws = nearest_multiples(height, multiple, minimum), nearest_multiples(width, multiple, minimum)
    if height == width:
        return " or ".join(map(str, hs))
    return f"a height of {' or '.join(map(str, hs))} and a width of {' or '.join(map(str, ws))}"


def check_multiple(
    height: int,
    width: int,
    *,
    multiple: int,
    why: str,
    minimum: int = 1,
    min_why: str = "",
    subject: str = "input",
) -> None:
    """Raise ``ConfigError`` unless both sides are multiples of ``multiple`` and at least ``minimum``.

    Args:
        why: the reason for the multiple, shown in brackets (``"encoder depth 5"``).
        min_why: the reason for the minimum (``"8 x output stride 16 for PAN's pyramid attention"``).
        subject: what the size is, first word of the message (``"input"``, ``"swinunet img_size"``).
    """
    size = f"{subject} {format_size((height, width))}"
    fix = _suggestion(height, width, multiple, minimum)
    if height <= 0 or width <= 0:
        raise ConfigError(f"{size} has a non-positive side; use {fix}.")
    if height % multiple or width % multiple:
        raise ConfigError(f"{size} is not divisible by {multiple} ({why}); use {fix}.")
    if height < minimum or width < minimum:
        raise ConfigError(f"{size} is smaller than the minimum {minimum} ({min_why}); use {fix} or larger.")


def check_fixed_size(height: int, width: int, *, built_for: tuple[int, int], what: str) -> None:
    """Raise ``ConfigError`` unless ``(height, width) == built_for``; the fix is to rebuild with ``img_size``."""
    if (height, width) != tuple(built_for):
        raise ConfigError(
            f"{what} was built for {format_size(built_for)} inputs but got {format_size((height, width))}; "
            f"rebuild it with img_size={height if height == width else (height, width)} or resize the images "
            f"to {format_size(built_for)}."
        )
