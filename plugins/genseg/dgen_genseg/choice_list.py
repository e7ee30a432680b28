"""Options whose value is a comma-separated subset of fixed choices (``diffaugment=color,cutout``)."""

from __future__ import annotations

from collections.abc import Sequence

from dgen.errors import ConfigError, closest_match

__all__ = ["parse_choice_list"]


def parse_choice_list(value: object, choices: Sequence[str], *, what: str, item: str, example: str,
                      allow_none: bool) -> tuple[str, ...]:
    """``"b,a"`` -> ``("a", "b")`` in the order of ``choices``; ``"none"``/``""`` -> ``()`` when ``allow_none``.

    Args:
        what: how the value is named in messages, e.g. ``"diffaugment policy"``.
        item: what one entry is called, e.g. ``"op"``.
        example: a valid value for the fix, e.g. ``"color,translation,cutout"``.

    Raises:
        ConfigError: not a string, an unknown entry (naming the closest), a repeated one, or empty where
            ``allow_none`` is False.
    """
    option = what.split()[0]
    if not isinstance(value, str):
        raise ConfigError(f"{option}={value!r} is not a string; write e.g. {option}={example}.")
    if value.strip() in ("", "none"):
        if allow_none:
            return ()
        raise ConfigError(f"{what} {value!r} is empty; give at least one {item} of {', '.join(choices)}, e.g. "
                          f"{option}={example}.")
    names = [name.strip() for name in value.split(",")]
    for name in names:
        if name not in choices:
            hint = closest_match(name, list(choices))
            did_you_mean = f" Did you mean '{hint}'?" if hint else ""
            alternatives = f"{', '.join(choices)} (comma-separated)" + (", or none" if allow_none else "")
            raise ConfigError(
                f"{what} {value!r} has the unknown {item} {name!r}.{did_you_mean} "
                f"{item.capitalize()}s: {alternatives}."
            )
    if len(set(names)) != len(names):
        raise ConfigError(f"{what} {value!r} lists an {item} twice; list each once.")
    return tuple(choice for choice in choices if choice in names)
