"""Typed pipeline configurations: dataclasses filled from files, ``--set key=value`` and options.

A pipeline declares its options as a dataclass (``Pipeline.config_class``). Values
arrive as strings from the command line or as JSON values from a file; each is
checked against the field's type annotation. Unknown keys name the closest field.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from dgen.errors import ConfigError, UnknownNameError

__all__ = ["parse_assignments", "load_config_file", "build_config", "config_to_dict", "coerce"]

C = TypeVar("C")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["lr=1e-3", "solver=darts"]`` -> ``{"lr": "1e-3", "solver": "darts"}``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r} is not of the form key=value; write e.g. --set iterations=200.")
        out[key.strip()] = value.strip()
    return out


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON (or, on Python >= 3.11, TOML) file of option values."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass an existing .json or .toml file to --config.")
    if path.suffix.lower() in (".yaml", ".yml"):
        raise ConfigError(
            f"config file {path} is YAML, which --config does not read; write the same options as JSON (.json) "
            f"or TOML (.toml), e.g. {{\"iterations\": 200}}."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc}); pass a readable UTF-8 .json or .toml file.") from exc
    try:
        if path.suffix == ".toml":
            if sys.version_info < (3, 11):
                raise ConfigError(f"config file {path}: TOML needs Python >= 3.11; write it as JSON instead.")
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except (ValueError, TypeError) as exc:
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise ConfigError(f"config file {path} cannot be parsed as {kind} ({exc}); fix its syntax.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table/object of option values, not {type(data).__name__}.")
    return data


_EXAMPLES = {int: "3", float: "0.5", bool: "true", str: "name", Path: "path/to/folder"}


def _type_name(tp: Any) -> str:
    """``int`` for ``Optional[int]`` (``None`` is always accepted there), ``int or float`` for a union."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _example(tp: Any) -> str:
    args = [a for a in typing.get_args(tp) if a is not type(None)] if typing.get_origin(tp) in (
        typing.Union, types.UnionType) else [tp]
    return _EXAMPLES.get(args[0], f"<{_type_name(tp)}>") if args else f"<{_type_name(tp)}>"


def coerce(key: str, value: Any, tp: Any) -> Any:
    """Convert ``value`` (a string from the command line, or a JSON value) to type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    fail = ConfigError(f"option {key}={value!r} is not a valid {_type_name(tp)}; give e.g. --set {key}={_example(tp)}.")
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null"}):
            if type(None) in args:
                return None
        concrete = [arg for arg in args if arg is not type(None)]
        if len(concrete) == 1:  # Optional[X]: X's own error (a Literal's lists the choices and the closest)
            return coerce(key, value, concrete[0])
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(key, value, arg)
            except ConfigError:
                continue
        raise fail
    if origin is typing.Literal:
        for choice in args:
            if value == choice or (isinstance(value, str) and str(choice) == value):
                return choice
        raise UnknownNameError(f"value for option '{key}'", str(value), [str(a) for a in args])
    if origin is dict:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ConfigError(
                    f"option {key}={value!r} is not a JSON object; write e.g. {key}='{{\"encoder\": \"resnet18\"}}'."
                ) from None
        if not isinstance(value, dict):
            raise fail
        return dict(value)
    if origin in (tuple, list):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise fail
        item_type = args[0] if args else Any
        items = [] if items == [""] else items
        return origin(coerce(key, item, item_type) for item in items)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise fail
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise fail
        try:
            number = float(value) if tp is float else int(str(value), 0) if isinstance(value, str) else value
        except ValueError:
            try:
                as_float = float(value)
            except ValueError:
                raise fail from None
            if tp is int and as_float.is_integer():
                return int(as_float)
            raise fail from None
        if tp is int and not (isinstance(number, int) or float(number).is_integer()):
            raise fail
        return tp(number)
    if tp in (str, Path):
        if not isinstance(value, (str, Path)):
            raise fail
        return tp(value)
    if isinstance(value, tp):
        return value
    raise fail


def build_config(cls: type[C], values: Mapping[str, Any], *, source: str = "option") -> C:
    """Build dataclass ``cls`` from ``values``, type-checking each one.

    Unknown keys raise ``UnknownNameError`` with the closest field name, fields
    without a default that ``values`` lacks a ``ConfigError``; the dataclass's
    ``__post_init__`` may add cross-field checks.
    """
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise UnknownNameError(f"{source} for {cls.__name__}", key, fields)
        kwargs[key] = coerce(key, value, hints[key])
    missing = [
        name for name, f in fields.items()
        if name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(
            f"{cls.__name__} has no value for the required {source}(s) {', '.join(missing)}; "
            f"give e.g. --set {missing[0]}=<value> or put it in the --config file."
        )
    return cls(**kwargs)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists, paths strings)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)}
