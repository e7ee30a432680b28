"""The grid of a benchmark: sub-grids crossing tasks x backbones x methods x labelled counts x seeds.

A grid comes from a JSON/TOML file, from command-line options, or both (options replace the
file's axis everywhere). The file's top level gives defaults; each entry of ``"settings"`` is one
sub-grid that overrides them::

    {"pipeline": "genseg", "backbone": "unet", "method": ["none", "genseg"], "seed": [0, 1, 2],
     "set": {"preset": "cpu"},
     "settings": [{"task": "isic", "n_labeled": 40}, {"task": "lung", "n_labeled": 9}]}

Everything is checked here, before anything runs: unknown keys (with the closest match),
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

__all__ = ["AXES", "RunPoint", "SubGrid", "GridSpec", "grid_spec", "read_grid_file"]

#: the axes of a grid, in the order they appear in run-directory names.
AXES: tuple[str, ...] = ("task", "backbone", "method", "n_labeled", "seed")
_AXIS_TYPES: dict[str, type] = {"task": str, "backbone": str, "method": str, "n_labeled": int, "seed": int}
_EXAMPLES = {"task": '"isic"', "backbone": '"unet"', "method": '["none", "genseg"]', "n_labeled": "[10, 40]",
             "seed": "[0, 1, 2]"}
_SETTING_KEYS = (*AXES, "set")
_FILE_KEYS = ("pipeline", *_SETTING_KEYS, "settings")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


@dataclass(frozen=True)
class RunPoint:
    """One run of a grid: its axis values and the fixed options (``extras``) it shares with its sub-grid."""

    pipeline: str
    task: str | None = None
    backbone: str | None = None
    method: str | None = None
    n_labeled: int | None = None
    seed: int = 0
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The run directory's name, e.g. ``isic-unet-genseg-n40-s0`` (absent axes left out)."""
        parts = [self.task, self.backbone, self.method]
        parts += [None if self.n_labeled is None else f"n{self.n_labeled}", f"s{self.seed}"]
        return "-".join(_UNSAFE.sub("_", p) for p in parts if p is not None)

    def options(self) -> dict[str, Any]:
        """The pipeline options of this run: the axes that are set, then the extras."""
        axes = {axis: getattr(self, axis) for axis in AXES if getattr(self, axis) is not None}
        return {**axes, **self.extras}


@dataclass(frozen=True)
class SubGrid:
    """One sub-grid: the values of each axis it sets (each non-empty) and its fixed options."""

    axes: Mapping[str, tuple[Any, ...]]
    extras: Mapping[str, Any] = field(default_factory=dict)

    def points(self, pipeline: str) -> list[RunPoint]:
        """Every combination of the axis values (``seed`` defaults to ``(0,)``)."""
        axes = {axis: self.axes.get(axis, (0,) if axis == "seed" else (None,)) for axis in AXES}
        return [
            RunPoint(pipeline, **dict(zip(AXES, values)), extras=dict(self.extras))
            for values in itertools.product(*axes.values())
        ]


@dataclass(frozen=True)
class GridSpec:
    """A validated grid: the pipeline and its sub-grids."""

    pipeline: str
    subgrids: tuple[SubGrid, ...]

    def points(self) -> list[RunPoint]:
        """The grid's runs, seed-major (every run of seed 0 first, then seed 1, ...) so that an
        interrupted grid already holds complete comparisons; duplicates are dropped.

        Two different points that map to the same run directory raise ``ConfigError``.
        """
        by_name: dict[str, RunPoint] = {}
        for point in (p for sub in self.subgrids for p in sub.points(self.pipeline)):
            seen = by_name.setdefault(point.name, point)
            if seen != point:
                differ = sorted(k for k in {*seen.extras, *point.extras} if seen.extras.get(k) != point.extras.get(k))
                raise ConfigError(
                    f"two grid points share the run directory '{point.name}' but differ in the fixed options "
                    f"{differ}; put settings that differ only in fixed options into separate benchmarks (--out)."
                )
        return sorted(by_name.values(), key=lambda p: p.seed)


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


def _axis_values(axis: str, raw: Any, where: str) -> tuple[Any, ...]:
    values = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    if not values:
        raise ConfigError(
            f"{where}: axis '{axis}' is empty; give at least one value, e.g. \"{axis}\": {_EXAMPLES[axis]}."
        )
    kind = _AXIS_TYPES[axis]
    for value in values:
        wrong = isinstance(value, bool) or not isinstance(value, kind) or (kind is str and not value.strip())
        if wrong:
            raise ConfigError(
                f"{where}: {axis} value {value!r} is not a {'non-empty string' if kind is str else 'whole number'}; "
                f"write e.g. \"{axis}\": {_EXAMPLES[axis]}."
            )
    return tuple(dict.fromkeys(values))  # duplicates dropped, order kept


def _extras(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{where}: \"set\" must be an object of fixed options, e.g. \"set\": {{\"preset\": \"cpu\"}}."
        )
    for key in raw:
        if key in AXES or key == "pipeline":
            option = "--" + key.replace("_", "-")
            raise ConfigError(f"{where}: set.{key} is a grid key; write \"{key}\": ... next to \"set\" (or {option}).")
    return dict(raw)


def _setting(raw: Any, where: str) -> SubGrid:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be an object such as {{\"task\": \"isic\", \"n_labeled\": 40}}, not {raw!r}.")
    for key in raw:
        if key not in _SETTING_KEYS:
            raise UnknownNameError(f"key in {where} of the grid", key, _SETTING_KEYS)
    axes = {axis: _axis_values(axis, raw[axis], where) for axis in AXES if axis in raw}
    return SubGrid(axes, _extras(raw.get("set", {}), where))


def grid_spec(
    data: Mapping[str, Any] | None = None,
    *,
    pipeline: str | None = None,
    axes: Mapping[str, Sequence[Any]] | None = None,
    extras: Mapping[str, Any] | None = None,
) -> GridSpec:
    """Validate and merge a grid file's ``data`` with command-line values.

    Args:
        data: the grid file's content (:func:`read_grid_file`), or None for a grid made of options only.
        pipeline: the pipeline; replaces the file's ``"pipeline"``.
        axes: axis values from the command line (``{"seed": [0, 1]}``); each replaces that axis in
            every sub-grid.
        extras: fixed options from the command line (``--set``); added to every sub-grid, replacing
            the file's value of the same key.
    """
    data = dict(data or {})
    for key in data:
        if key not in _FILE_KEYS:
            raise UnknownNameError("key in the grid file", key, _FILE_KEYS)
    from_file = data.pop("pipeline", None)
    pipeline = pipeline or from_file
    if not isinstance(pipeline, str) or not pipeline:
        raise ConfigError(
            "the grid names no pipeline; add \"pipeline\": \"genseg\" to the grid file or pass --pipeline genseg."
        )
    settings = data.pop("settings", [{}])
    if not isinstance(settings, list) or not settings:
        raise ConfigError(
            "\"settings\" must be a non-empty list of objects, e.g. [{\"task\": \"isic\", \"n_labeled\": 40}]."
        )
    top = _setting(data, "the top level")
    given = _setting({**(axes or {}), **({"set": extras} if extras else {})}, "the command line")
    subgrids = []
    for i, raw in enumerate(settings):
        sub = _setting(raw, f"settings[{i}]")
        subgrids.append(SubGrid(
            {**top.axes, **sub.axes, **given.axes}, {**top.extras, **sub.extras, **given.extras}
        ))
    return GridSpec(pipeline, tuple(subgrids))
