"""Comparing the values of the compared axis within a setting: each against the baseline and against
every reference the pipeline declares (:class:`dgen.records.BestOf`).

A :class:`~dgen.records.BestOf` reference of a setting is the candidate with the highest mean
*validation* score over seeds: the choice never looks at a test set, so the comparison against it
is not biased by selecting on the data it is scored on. (Validation data also selected each run's
checkpoint, so the chosen value's validation score is optimistic; that favours the reference, not
the challenger.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dgen.records import BestOf, Records

from dgen.bench.collect import ResultRow, Setting, seed_table, sort_key
from dgen.bench.stats import PairedDifference, mean_sd, paired_difference

__all__ = [
    "CompareOptions", "compare_options", "Choice", "Comparison", "best_choices", "compare_methods", "method_order",
]


@dataclass(frozen=True)
class CompareOptions:
    """How compared values are compared (:func:`compare_options` fills it from a pipeline's records).

    Attributes:
        baseline: the value every other one is compared against, or None.
        references: further references, each the best of its candidates on validation.
        metrics: the test metrics compared.
        select_metric: the validation metric that chooses each reference.
        lower_is_better: metrics where a smaller value wins.
        resamples, level, seed: of the bootstrap interval.
    """

    baseline: str | None = None
    references: tuple[BestOf, ...] = ()
    metrics: tuple[str, ...] = ()
    select_metric: str = ""
    lower_is_better: tuple[str, ...] = ()
    resamples: int = 10_000
    level: float = 0.95
    seed: int = 0


def compare_options(
    records: Records, *, baseline: str | None = None, candidates: Sequence[str] | None = None, **changes: Any
) -> CompareOptions:
    """The comparison the pipeline's ``records`` declare; ``baseline`` replaces its baseline, ``candidates``
    the candidates of its first reference; ``changes`` set other fields (``resamples=200``)."""
    references = records.references
    if candidates is not None and references:
        references = (replace(references[0], candidates=tuple(candidates)), *references[1:])
    options = CompareOptions(baseline=baseline or records.baseline, references=references,
                             metrics=records.paired_metrics or records.metrics,
                             select_metric=records.headline, lower_is_better=records.lower_is_better)
    return replace(options, **changes)


@dataclass(frozen=True)
class Choice:
    """The value a reference chose in a setting and the mean validation score of every candidate.

    ``seeds`` are the seeds the means are over when the candidates ran different seeds (those every candidate
    ran), else empty (each mean over all of its seeds, the same for all).
    """

    reference: BestOf
    variant: str
    val_means: Mapping[str, float]
    seeds: tuple[int, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """``method`` minus ``reference`` on one test set of one setting, per metric.

    ``against`` is ``"baseline"`` or the label of a :class:`~dgen.records.BestOf` reference.
    """

    setting: Setting
    test_set: str
    in_domain: bool
    method: str
    reference: str
    against: str
    differences: Mapping[str, PairedDifference] = field(default_factory=dict)


def method_order(values: Iterable[str], options: CompareOptions) -> list[str]:
    """The baseline first, then every reference's candidates in their order, then the others alphabetically."""
    fixed = list(dict.fromkeys([*([options.baseline] if options.baseline else []),
                                *(c for ref in options.references for c in ref.candidates)]))
    present = set(values)
    return [m for m in fixed if m in present] + sorted(present - set(fixed))


def best_choices(rows: Sequence[ResultRow], options: CompareOptions) -> dict[Setting, list[Choice]]:
    """For each setting, the choice of every reference that has validation scores for a candidate there
    (ties: the first in ``candidates``).

    Candidates that ran different seeds are compared over the seeds all of them ran (a candidate with extra
    seeds, whose splits differ, would otherwise be judged on other validation sets); with no seed in common,
    each mean is over its own seeds.
    """
    table = seed_table(rows, value=lambda r: r.val.get(options.select_metric), group=lambda r: r.setting)
    choices: dict[Setting, list[Choice]] = {}
    for setting, values in table.items():
        for ref in options.references:
            present = [m for m in ref.candidates if m in values]
            if not present:
                continue
            seed_sets = [set(values[m]) for m in present]
            common = set.intersection(*seed_sets)
            restrict = bool(common) and any(seeds != common for seeds in seed_sets)
            means = {m: mean_sd([v for seed, v in values[m].items() if not restrict or seed in common])[0]
                     for m in present}
            best = max(means, key=lambda m: (means[m], -ref.candidates.index(m)))
            choices.setdefault(setting, []).append(Choice(ref, best, means, tuple(sorted(common)) if restrict else ()))
    return choices


def compare_methods(rows: Sequence[ResultRow], options: CompareOptions) -> list[Comparison]:
    """Every value against the baseline and against each reference of its setting, on every test set."""
    tables = {
        metric: seed_table(rows, value=lambda r, m=metric: r.scores.get(m), group=lambda r: (r.setting, r.test_set))
        for metric in options.metrics
    }
    in_domain = {(r.setting, r.test_set): r.in_domain for r in rows}
    choices = best_choices(rows, options)
    comparisons = []
    for group in sorted(in_domain, key=lambda g: (*map(sort_key, g[0]), not in_domain[g], g[1])):
        values = {m for table in tables.values() for m in table.get(group, {})}
        references = [("baseline", options.baseline)] if options.baseline else []
        references += [(c.reference.label, c.variant) for c in choices.get(group[0], [])]
        for against, reference in references:
            if reference not in values:
                continue
            skip = {reference} | ({options.baseline} if against != "baseline" else set())
            for method in method_order(values - skip, options):
                differences = {
                    metric: paired_difference(
                        table[group][method], table[group][reference], resamples=options.resamples,
                        level=options.level, seed=options.seed, higher_is_better=metric not in options.lower_is_better,
                    )
                    for metric, table in tables.items()
                    if method in table.get(group, {}) and reference in table.get(group, {})
                }
                if any(d.n for d in differences.values()):
                    comparisons.append(Comparison(group[0], group[1], in_domain[group], method, reference, against,
                                                  differences))
    return comparisons
