"""The grid of a benchmark: sub-grids crossing the axes a pipeline declares (and seeds).

A grid comes from a JSON/TOML file, from command-line options, or both (options replace the
file's axis everywhere). The file's top level gives defaults; each entry of ``"settings"`` is one
sub-grid that overrides them::

    {"pipeline": "toy", "solver": ["unroll", "darts"], "seed": [0, 1, 2],
     "set": {"iterations": 60},
     "settings": [{"n_train": 8}, {"n_train": 16}]}

The axes a grid may cross are those of the pipeline's :class:`~dgen.records.Records` plus ``seed``.
A sub-grid's ``"label"`` names its fixed options, so that one method run with two bundles of options
appears as two compared values (:mod:`dgen.bench.labels`). Everything is checked here, before anything runs: unknown keys (with the closest match),
empty axes, values of the wrong type, and grid points that would share a run directory.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgen.errors import ConfigError, UnknownNameError
from dgen.records import SEED_AXIS, Axis, Records

from dgen.bench.labels import LABEL_KEY, check_label
from dgen.bench.pipelines import pipeline_records

__all__ = ["RunPoint", "SubGrid", "GridSpec", "grid_spec", "read_grid_file"]

_SEED_EXAMPLE = "[0, 1, 2]"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


@dataclass(frozen=True)
class RunPoint:
    """One run of a grid: the values of its axes (in run-name order), its seed, the fixed options
    (``extras``) it shares with its sub-grid and the sub-grid's ``label`` (:mod:`dgen.bench.labels`)."""

    pipeline: str
    axes: tuple[tuple[Axis, Any], ...] = ()
    seed: int = 0
    extras: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    @property
    def name(self) -> str:
        """The run directory's name, e.g. ``unroll-n8-s0`` or, labelled ``fixes``, ``unroll-n8-fixes-s0``
        (axes the grid does not set left out)."""
        parts = [f"{axis.prefix}{value}" for axis, value in self.axes] + ([self.label] if self.label else [])
        parts += [f"s{self.seed}"]
        return "-".join(_UNSAFE.sub("_", p) for p in parts)

    def value(self, axis: str) -> Any:
        """The value of ``axis`` (``seed`` included), or None when the grid does not set it."""
        if axis == SEED_AXIS:
            return self.seed
        return next((v for a, v in self.axes if a.name == axis), None)

    def options(self) -> dict[str, Any]:
        """The pipeline options of this run: the axes, the seed, then the extras."""
        return {**{axis.name: value for axis, value in self.axes}, SEED_AXIS: self.seed, **self.extras}


@dataclass(frozen=True)
class SubGrid:
    """One sub-grid: the values of each axis it sets (each non-empty; ``seed`` among them), its fixed
    options and its label (None: unlabelled)."""

    axes: Mapping[str, tuple[Any, ...]]
    extras: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    def points(self, pipeline: str, records: Records) -> list[RunPoint]:
        """Every combination of the axis values (``seed`` defaults to ``(0,)``)."""
        declared = [a for a in records.axes if a.name in self.axes]
        values = [self.axes[a.name] for a in declared] + [self.axes.get(SEED_AXIS, (0,))]
        return [
            RunPoint(pipeline, tuple(zip(declared, combo[:-1])), combo[-1], dict(self.extras), self.label)
            for combo in itertools.product(*values)
        ]


@dataclass(frozen=True)
class GridSpec:
    """A validated grid: the pipeline, its records and its sub-grids."""

    pipeline: str
    records: Records
    subgrids: tuple[SubGrid, ...]

    def points(self) -> list[RunPoint]:
        """The grid's runs, seed-major (every run of seed 0 first, then seed 1, ...) so that an
        interrupted grid already holds complete comparisons; duplicates are dropped.

        Two different points that map to the same run directory raise ``ConfigError``.
        """
        by_name: dict[str, RunPoint] = {}
        for point in (p for sub in self.subgrids for p in sub.points(self.pipeline, self.records)):
            seen = by_name.setdefault(point.name, point)
            if seen != point:
                raise ConfigError(_collision(seen, point))
        return sorted(by_name.values(), key=lambda p: p.seed)


def _collision(seen: RunPoint, point: RunPoint) -> str:
    """Why two different points share ``point.name``, and what to write instead."""
    differ = sorted(k for k in {*seen.extras, *point.extras} if seen.extras.get(k) != point.extras.get(k))
    labels = sorted({p.label for p in (seen, point) if p.label})
    if seen.label is None and point.label is None:
        fix = "give one of them a \"label\" (e.g. \"label\": \"fixes\") or put them into different benchmarks (--out)"
    else:
        fix = (f"the label(s) {labels} and the axis values make the same name; use labels that differ from each "
               "other and from the axis values")
    how = f"the fixed options {differ}" if differ else "their labels"
    return f"two grid points share the run directory '{point.name}' but differ in {how}; {fix}."


def read_grid_file(path: str | Path) -> dict[str, Any]:
    """Read a grid file: JSON, or TOML on Python >= 3.11."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"grid file {path} does not exist; pass an existing .json or .toml file (see docs/bench.md).")
    try:
        if path.suffix == ".toml":
            if sys.version_info < (3, 11):
                raise ConfigError(f"grid file {path}: TOML needs Python >= 3.11; write the grid as JSON instead.")
            import tomllib

            data = tomllib.loads(path.read_text())
        else:
            data = json.loads(path.read_text())
    except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError
        raise ConfigError(f"grid file {path} cannot be parsed ({exc}); fix its syntax.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"grid file {path} must hold an object of grid keys, not a {type(data).__name__}.")
    return data


def _axis_values(name: str, kind: type, example: str, raw: Any, where: str) -> tuple[Any, ...]:
    example = example or ("[0, 1]" if kind is int else '["a", "b"]')
    values = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    if not values:
        raise ConfigError(f"{where}: axis '{name}' is empty; give at least one value, e.g. \"{name}\": {example}.")
    for value in values:
        wrong = isinstance(value, bool) or not isinstance(value, kind) or (kind is str and not value.strip())
        if wrong:
            raise ConfigError(
                f"{where}: {name} value {value!r} is not a {'non-empty string' if kind is str else 'whole number'}; "
                f"write e.g. \"{name}\": {example}."
            )
    return tuple(dict.fromkeys(values))  # duplicates dropped, order kept


def _extras(raw: Any, where: str, axes: Sequence[str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: \"set\" must be an object of fixed options, e.g. \"set\": {{\"iterations\": 100}}.")
    for key in raw:
        if key in axes or key == "pipeline":
            option = "--" + key.replace("_", "-")
            raise ConfigError(f"{where}: set.{key} is a grid key; write \"{key}\": ... next to \"set\" (or {option}).")
    return dict(raw)


def _setting(raw: Any, where: str, records: Records) -> SubGrid:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be an object of grid keys such as {{\"seed\": [0, 1]}}, not {raw!r}.")
    axes = {**{a.name: (a.kind, a.example) for a in records.axes}, SEED_AXIS: (int, _SEED_EXAMPLE)}
    for key in raw:
        if key not in (*axes, "set", LABEL_KEY):
            raise UnknownNameError(f"key in {where} of the grid", key, (*axes, "set", LABEL_KEY))
    values = {name: _axis_values(name, *axes[name], raw[name], where) for name in axes if name in raw}
    label = check_label(raw[LABEL_KEY], where) if raw.get(LABEL_KEY) is not None else None
    return SubGrid(values, _extras(raw.get("set", {}), where, tuple(axes)), label)


def _typed(axes: Mapping[str, Sequence[Any]], records: Records) -> dict[str, list[Any]]:
    """Command-line axis values (strings) of whole-number axes as whole numbers where they are written as one."""
    kinds = {**{a.name: a.kind for a in records.axes}, SEED_AXIS: int}
    return {
        name: [int(v) if kinds.get(name) is int and isinstance(v, str) and v.strip().lstrip("-").isdigit() else v
               for v in values]
        for name, values in axes.items()
    }


def grid_spec(
    data: Mapping[str, Any] | None = None,
    *,
    pipeline: str | None = None,
    axes: Mapping[str, Sequence[Any]] | None = None,
    extras: Mapping[str, Any] | None = None,
    label: str | None = None,
    records: Records | None = None,
) -> GridSpec:
    """Validate and merge a grid file's ``data`` with command-line values.

    Args:
        data: the grid file's content (:func:`read_grid_file`), or None for a grid made of options only.
        pipeline: the pipeline; replaces the file's ``"pipeline"``.
        axes: axis values from the command line (``{"seed": [0, 1]}``); each replaces that axis in
            every sub-grid.
        extras: fixed options from the command line (``--set``); added to every sub-grid, replacing
            the file's value of the same key.
        label: the label of every sub-grid (``--label``), replacing the file's.
        records: the pipeline's records (default: those its registered class declares).
    """
    data = dict(data or {})
    from_file = data.pop("pipeline", None)
    pipeline = pipeline or from_file
    if not isinstance(pipeline, str) or not pipeline:
        raise ConfigError(
            "the grid names no pipeline; add \"pipeline\": \"toy\" to the grid file or pass --pipeline toy."
        )
    records = records or pipeline_records(pipeline)
    settings = data.pop("settings", [{}])
    if not isinstance(settings, list) or not settings:
        raise ConfigError("\"settings\" must be a non-empty list of objects, e.g. [{\"seed\": [0, 1]}].")
    top = _setting(data, "the top level", records)
    given = _setting({**_typed(axes or {}, records), **({"set": extras} if extras else {}), LABEL_KEY: label},
                     "the command line", records)
    subgrids = []
    for i, raw in enumerate(settings):
        sub = _setting(raw, f"settings[{i}]", records)
        subgrids.append(SubGrid(
            {**top.axes, **sub.axes, **given.axes}, {**top.extras, **sub.extras, **given.extras},
            given.label or sub.label or top.label,
        ))
    return GridSpec(pipeline, records, tuple(subgrids))
