"""Genotype: the outcome of a search, an ordered mapping from MixedOp path to the chosen op spec.

JSON form (``to_json`` / ``save``)::

    {"format": "dgen-genotype", "version": 1,
     "ops": {"down.0.conv": {"op": "conv", "k": 4, "s": 2, "p": 1, "bias": true}, ...}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dgen.errors import SearchSpaceError, closest_match
from dgen.search.ops import OpSpec, op_from_dict

__all__ = ["Genotype", "GENOTYPE_FORMAT", "GENOTYPE_VERSION"]

GENOTYPE_FORMAT = "dgen-genotype"
GENOTYPE_VERSION = 1


class Genotype(Mapping[str, OpSpec]):
    """Immutable ordered ``{module path: OpSpec}``; equal to another with the same items (order aside).

    ``eval(repr(g)) == g`` with the dgen.search names imported.
    """

    __slots__ = ("_ops",)
    _ops: Mapping[str, OpSpec]

    def __init__(self, ops: Mapping[str, OpSpec] | Iterable[tuple[str, OpSpec]] = ()) -> None:
        items = ops.items() if isinstance(ops, Mapping) else ops
        checked: dict[str, OpSpec] = {}
        for path, spec in items:
            if not isinstance(path, str):
                raise SearchSpaceError(f"genotype path {path!r} is a {type(path).__name__}; use the module path string, e.g. 'down.0.conv'.")
            if not isinstance(spec, OpSpec):
                raise SearchSpaceError(
                    f"genotype entry {path!r} is {spec!r} ({type(spec).__name__}); expected one op spec such as Conv(4, 2, 1)."
                )
            if path in checked:
                raise SearchSpaceError(f"genotype path {path!r} appears twice; keep one entry per MixedOp path.")
            checked[path] = spec
        object.__setattr__(self, "_ops", MappingProxyType(checked))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Genotype is immutable; build a new one, e.g. Genotype({{**g, {name!r}: ...}}).")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Genotype, (dict(self._ops),))

    def __getitem__(self, path: str) -> OpSpec:
        return self._ops[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ops)

    def __len__(self) -> int:
        return len(self._ops)

    def __hash__(self) -> int:
        return hash(frozenset(self._ops.items()))

    def __repr__(self) -> str:
        return f"Genotype({dict(self._ops)!r})"

    # ------------------------------------------------------------------ lookup for model constructors
    def spec_at(self, path: str) -> OpSpec:
        """The spec chosen at ``path``; SearchSpaceError naming the closest path if there is none."""
        if path in self._ops:
            return self._ops[path]
        hint = closest_match(path, self._ops)
        did_you_mean = f" Did you mean '{hint}'?" if hint else ""
        raise SearchSpaceError(
            f"genotype has no op at path {path!r}.{did_you_mean} It has {len(self)} path(s): "
            f"{', '.join(self._ops) or '(none)'}; derive it from a model with the same layout."
        )

    def sequence(self, pattern: str) -> list[OpSpec]:
        """Specs at ``pattern.format(0)``, ``pattern.format(1)``, ... (e.g. ``"down.{}.conv"``), in index order.

        Lets ``from_genotype`` recover a list of cells without knowing their number; raises if no path
        matches or if the indices have a gap.
        """
        prefix, braces, suffix = pattern.partition("{}")
        if not braces:
            raise SearchSpaceError(f"sequence pattern {pattern!r} has no '{{}}' for the index; write e.g. 'down.{{}}.conv'.")
        regex = re.compile(re.escape(prefix) + r"(0|[1-9][0-9]*)" + re.escape(suffix))
        found = {int(m.group(1)): spec for path, spec in self._ops.items() if (m := regex.fullmatch(path))}
        if not found:
            self.spec_at(pattern.format(0))  # raises, naming the closest path
        gap = next(i for i in range(len(found) + 1) if i not in found)
        if gap < len(found):
            raise SearchSpaceError(
                f"genotype has {pattern.format(max(found))!r} but not {pattern.format(gap)!r}; the paths of "
                f"{pattern!r} must be numbered 0, 1, 2, ... without gaps."
            )
        return [found[i] for i in range(len(found))]

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> str:
        """The JSON text (see the module docstring), indented, paths in order."""
        doc = {
            "format": GENOTYPE_FORMAT,
            "version": GENOTYPE_VERSION,
            "ops": {path: spec.to_dict() for path, spec in self._ops.items()},
        }
        return json.dumps(doc, indent=2)

    @classmethod
    def from_json(cls, text: str, source: str = "<genotype JSON>") -> Genotype:
        """Parse ``to_json`` output; errors start with ``source`` (the file name when called by ``load``)."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise SearchSpaceError(
                f"{source}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
                f"fix the file or rewrite it with Genotype.save."
            ) from e
        if not isinstance(doc, dict) or doc.get("format") != GENOTYPE_FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
            raise SearchSpaceError(
                f"{source}: not a genotype (format is {found!r}, expected {GENOTYPE_FORMAT!r}); "
                f"pass a file written by Genotype.save."
            )
        if doc.get("version") != GENOTYPE_VERSION:
            raise SearchSpaceError(
                f"{source}: genotype version {doc.get('version')!r} is not supported; this dgen reads "
                f"version {GENOTYPE_VERSION}: re-derive and save the genotype with this dgen."
            )
        ops = doc.get("ops")
        if not isinstance(ops, dict):
            raise SearchSpaceError(
                f"{source}: 'ops' is {ops!r}, expected an object mapping module paths to op specs, "
                f'e.g. {{"down.0.conv": {{"op": "conv", "k": 4, "s": 2, "p": 1, "bias": true}}}}.'
            )
        specs = {}
        for path, data in ops.items():
            try:
                specs[path] = op_from_dict(data)
            except SearchSpaceError as e:
                raise SearchSpaceError(f"{source}: op at path {path!r}: {e}") from e
        return cls(specs)

    def save(self, path: str | Path) -> Path:
        """Write ``to_json()`` to ``path`` (parent folders are created); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Genotype:
        """Read a file written by ``save``; SearchSpaceError naming the file and the problem otherwise."""
        path = Path(path)
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "does not exist"
            raise SearchSpaceError(f"genotype file {str(path)!r} {what}; pass the .json file written by Genotype.save.")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SearchSpaceError(f"genotype file {str(path)!r} cannot be read ({e}); check its permissions and encoding.") from e
        return cls.from_json(text, source=f"genotype file {str(path)!r}")
