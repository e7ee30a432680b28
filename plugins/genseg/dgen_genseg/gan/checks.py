"""Argument checks shared by the GAN networks."""

from __future__ import annotations

from dgen.errors import ConfigError

__all__ = ["check_int"]


def check_int(owner: str, name: str, value: int, minimum: int, example: int) -> int:
    """Return ``value`` if it is an int >= ``minimum``; ``ConfigError`` naming ``owner`` and an example otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{owner} {name}={value!r} is invalid: expected an integer >= {minimum}; pass e.g. {name}={example}."
        )
    return value
