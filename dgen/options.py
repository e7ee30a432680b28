"""What a pipeline's options are, for ``dgen run NAME --help`` and for docs: name, type, defaults, meaning.

The single source of truth is the pipeline's config dataclass: each field's type and default, and its
one-line meaning in the ``Attributes:`` section of the class docstring (Google style, as every
dataclass of dgen documents its fields)::

    @dataclass
    class ToyConfig:
        \"\"\"Options of ``dgen run toy``.

        Attributes:
            seed: seeds the data and the weights.
            n_train, n_val: training and validation pairs.
        \"\"\"

One entry may name several fields (``n_train, n_val: ...``). A pipeline's ``presets`` (see
:class:`dgen.pipeline.Pipeline`) give values to the options left at ``None``; every option is then
described with its value under each preset.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["OptionDoc", "describe_options", "field_help", "format_value", "markdown_table", "type_label", "undocumented"]

_ENTRY = re.compile(r"^(?P<names>[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*(?:\([^)]*\))?\s*:\s*(?P<text>.*)$")


@dataclasses.dataclass(frozen=True)
class OptionDoc:
    """One option of a pipeline, ready to show.

    Attributes:
        name: the field name (``n_labeled``; on the command line ``--n-labeled`` or ``--set n_labeled=``).
        type: the accepted values in words (``int``, ``adam|sgd``, ``path,...``).
        default: the dataclass default, formatted (``none`` for ``None``, ``required`` when there is none).
        presets: the value under each preset, formatted, in the pipeline's preset order (empty without presets).
        help: the one-line meaning ("" when the docstring has no entry for it).
    """

    name: str
    type: str
    default: str
    presets: dict[str, str]
    help: str


def field_help(config_class: type) -> dict[str, str]:
    """``{field: meaning}`` from the ``Attributes:`` section of ``config_class``'s docstring.

    Continuation lines (indented deeper than the entries) are joined to their entry with one space.
    """
    lines = (inspect.getdoc(config_class) or "").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Attributes:") + 1
    except StopIteration:
        return {}
    section_indent = len(lines[start - 1]) - len(lines[start - 1].lstrip())
    entries: list[tuple[list[str], list[str]]] = []
    entry_indent: int | None = None
    for line in lines[start:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= section_indent:
            break  # the next section or paragraph
        if entry_indent is None:
            entry_indent = indent
        match = _ENTRY.match(line.strip())
        if indent == entry_indent and match:
            entries.append(([n.strip() for n in match["names"].split(",")], [match["text"].strip()]))
        elif entries:
            entries[-1][1].append(line.strip())
    return {name: " ".join(t for t in text if t) for names, text in entries for name in names}


def undocumented(config_class: type) -> list[str]:
    """The fields of ``config_class`` without a meaning in its docstring (a test keeps this empty)."""
    docs = field_help(config_class)
    return [f.name for f in dataclasses.fields(config_class) if f.init and not docs.get(f.name)]


def type_label(tp: Any) -> str:
    """A field's type annotation in words: ``Optional[int]`` -> ``int``, ``Literal['a', 'b']`` -> ``a|b``,
    ``tuple[Path, ...]`` -> ``path,...`` (comma-separated), ``dict`` -> ``JSON object``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_label(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return "|".join(str(a) for a in args)
    if origin in (tuple, list):
        return f"{type_label(args[0]) if args else 'value'},..."
    if origin is dict or tp is dict:
        return "JSON object"
    if tp is Path:
        return "path"
    if tp is Any:
        return "any"
    return getattr(tp, "__name__", str(tp))


def format_value(value: Any) -> str:
    """A value as it would be typed on the command line (``None`` -> ``none``, ``True`` -> ``true``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value) if value else "(empty)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _default(f: dataclasses.Field) -> Any:
    """The field's default; ``dataclasses.MISSING`` for a required field."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def describe_options(config_class: type, presets: Mapping[str, Mapping[str, Any]] | None = None) -> list[OptionDoc]:
    """Every option of ``config_class`` in field order, with its value under each of ``presets``.

    A preset gives its value to an option whose default is ``None``; other options keep their default
    under every preset.
    """
    hints = typing.get_type_hints(config_class)
    docs = field_help(config_class)
    described = []
    for f in dataclasses.fields(config_class):
        if not f.init:
            continue
        default = _default(f)
        shown = "required" if default is dataclasses.MISSING else format_value(default)
        by_preset = {
            name: format_value(values[f.name]) if default is None and f.name in values else shown
            for name, values in (presets or {}).items()
        }
        described.append(OptionDoc(f.name, type_label(hints[f.name]), shown, by_preset, docs.get(f.name, "")))
    return described


def markdown_table(options: list[OptionDoc]) -> str:
    """The options as a Markdown table (option, type, default or one column per preset, meaning), for docs."""
    presets = list(options[0].presets) if options else []
    columns = ["option", "type", *(presets or ["default"]), "meaning"]

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for o in options:
        values = [o.presets[p] for p in presets] if presets else [o.default]
        rows.append("| " + " | ".join(cell(c) for c in [f"`{o.name}`", o.type, *values, o.help]) + " |")
    return "\n".join(rows) + "\n"
