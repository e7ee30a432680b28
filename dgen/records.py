"""What a pipeline's runs record, declared by the pipeline: what ``dgen bench`` reads and compares.

A pipeline sets ``records = Records(...)`` on its class. ``dgen bench`` knows nothing else about
it: the grid axes it may cross (besides ``seed``, which every pipeline has), the axis whose values
are compared (e.g. the method), the test metrics and the headline one, which metrics are better
when lower, the validation-curve columns of its ``log.csv``, the other scalars of ``metrics.json``
worth a column, and the reference rows of its reports (a baseline, and "the best of these
candidates, chosen on validation"). Which test sets are out-of-domain the pipeline writes into
each run's ``metrics.json`` (``"out_of_domain"``, see :mod:`dgen.rundir`).

Example (the built-in ``toy`` pipeline)::

    Records(metrics=("mse",), headline="mse", lower_is_better=("mse",),
            axes=(Axis("solver"),), compared="solver", baseline="first_order")
"""

from __future__ import annotations

from dataclasses import dataclass

from dgen.errors import ConfigError

__all__ = ["Axis", "BestOf", "ValCurve", "Records", "SEED_AXIS"]

#: the axis every grid has (a whole number, default 0, ``s<seed>`` in run names).
SEED_AXIS = "seed"
_KINDS = (str, int)


@dataclass(frozen=True)
class Axis:
    """A grid axis: an option of the pipeline's config that a grid may give several values.

    Attributes:
        name: the config field (and the grid-file key).
        kind: ``str`` or ``int``: the type of its values.
        prefix: written before the value in run names and figure names (``"n"``: ``n40``).
        example: a value shown in error messages (``'"isic"'``, ``"[10, 40]"``).
    """

    name: str
    kind: type = str
    prefix: str = ""
    example: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name == SEED_AXIS:
            raise ConfigError(f"Axis name {self.name!r} must be a config field name other than '{SEED_AXIS}' "
                              f"(every grid has a seed axis already).")
        if self.kind not in _KINDS:
            raise ConfigError(f"Axis {self.name}: kind {self.kind!r} is not str or int; declare Axis('{self.name}', str).")

    def label(self, value: object) -> str:
        """How a value of this axis is shown in titles: strings alone, numbers with the axis name (``n_labeled 40``)."""
        return str(value) if self.kind is str else f"{self.name} {value}"


@dataclass(frozen=True)
class BestOf:
    """A reference row: among ``candidates`` (values of the compared axis), the one with the highest mean
    validation score over seeds in each setting; every other value is compared with it.

    Attributes:
        label: the short name in tables (``"best classic"``).
        title: the sentence naming the choice in reports (``"Best classic augmentation"``).
        candidates: the values it chooses from, in the order that breaks ties.
    """

    label: str
    title: str
    candidates: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.candidates:
            raise ConfigError(f"BestOf {self.label!r} has no candidates; list the compared values it chooses from.")


@dataclass(frozen=True)
class ValCurve:
    """The validation curve of a run in its ``log.csv``: column ``val_<metric>`` (filled at each validation)
    against the column ``x`` (or ``iteration + 1`` when ``x`` is None or absent from the log).

    Attributes:
        x: the log column of the x axis.
        x_label: the axis label of the figure.
        note: a sentence for the report saying what x counts.
    """

    x: str | None = None
    x_label: str = "iteration"
    note: str = ""
    prefix: str = "val_"


@dataclass(frozen=True)
class Records:
    """What the runs of a pipeline record (see the module docstring).

    Attributes:
        metrics: test metrics of every test set, in report order (``metrics.json["test"][set][metric]``).
        headline: the metric plotted, compared first and counted in wins.
        paired_metrics: the metrics of the paired-difference tables (default: all ``metrics``).
        lower_is_better: metrics where smaller is better (distances, errors).
        axes: the grid axes besides ``seed``, in run-name order.
        compared: the axis whose values are compared within a setting (rows of the tables, bars of the
            figures); the other axes (and not ``seed``) make the setting.
        sweep: an int axis drawn on the x axis of a curve per setting when a grid has several values.
        baseline: the compared value every other is compared with, or None.
        references: further reference rows (:class:`BestOf`).
        curve: the validation curve of ``log.csv``, or None.
        facts: scalar ``metrics.json`` keys listed per setting (``image size 64; iterations 100``).
        per_value_facts: scalar keys listed per compared value (``solver genseg: unroll``).
        info: scalar ``metrics.json`` keys copied into ``results.csv`` (``wall_seconds`` is the cost line).
        legacy_out_of_domain: test sets counted out-of-domain in runs whose ``metrics.json`` has no
            ``"out_of_domain"`` list (written before pipelines recorded it); other runs' lists decide.
    """

    metrics: tuple[str, ...]
    headline: str
    paired_metrics: tuple[str, ...] = ()
    axes: tuple[Axis, ...] = ()
    compared: str | None = None
    lower_is_better: tuple[str, ...] = ()
    sweep: str | None = None
    baseline: str | None = None
    references: tuple[BestOf, ...] = ()
    curve: ValCurve | None = None
    facts: tuple[str, ...] = ()
    per_value_facts: tuple[str, ...] = ()
    info: tuple[str, ...] = ("wall_seconds", "iterations", "device")
    legacy_out_of_domain: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.metrics or self.headline not in self.metrics:
            raise ConfigError(f"Records: headline {self.headline!r} is not one of the metrics {list(self.metrics)}; "
                              f"list it in metrics=(...).")
        names = tuple(a.name for a in self.axes)
        if len(set(names)) != len(names):
            raise ConfigError(f"Records: axes {list(names)} name an axis twice.")
        for role, name in (("compared", self.compared), ("sweep", self.sweep)):
            if name is not None and name not in names:
                raise ConfigError(f"Records: the {role} axis {name!r} is not one of the axes {list(names)}; "
                                  f"declare Axis({name!r}) in axes=(...).")
        if self.sweep is not None and (self.sweep == self.compared or self.axis(self.sweep).kind is not int):
            raise ConfigError(f"Records: the sweep axis {self.sweep!r} must be an int axis other than the compared one.")
        for role, names in (("lower_is_better", self.lower_is_better), ("paired_metrics", self.paired_metrics)):
            unknown = sorted(set(names) - set(self.metrics))
            if unknown:
                raise ConfigError(f"Records: {role} names {unknown}, which are not metrics {list(self.metrics)}.")

    @property
    def axis_names(self) -> tuple[str, ...]:
        """The declared axes' names, in run-name order (``seed`` not included)."""
        return tuple(a.name for a in self.axes)

    @property
    def setting_axes(self) -> tuple[str, ...]:
        """The axes that make a setting: every declared axis but the compared one."""
        return tuple(n for n in self.axis_names if n != self.compared)

    def axis(self, name: str) -> Axis:
        """The declared axis ``name`` (``KeyError`` when there is none)."""
        for axis in self.axes:
            if axis.name == name:
                return axis
        raise KeyError(name)

    def candidates(self) -> tuple[str, ...]:
        """The baseline then every reference's candidates: the order in which compared values are listed."""
        fixed = [self.baseline] if self.baseline is not None else []
        return tuple(dict.fromkeys([*fixed, *(c for ref in self.references for c in ref.candidates)]))
