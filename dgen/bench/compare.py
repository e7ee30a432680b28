"""Comparing methods within a setting: each against the baseline and against the best classic augmentation.

The best classic augmentation of a setting (task, backbone, n_labeled) is the classic method with the
highest mean *validation* score over seeds: the choice never looks at a test set, so the comparison
against it is not biased by selecting on the data it is scored on. (Validation data also selected
each run's checkpoint, so the chosen method's validation score is optimistic; that favours the
baseline, not the challenger.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dgen.bench.collect import ResultRow, Setting, seed_table, sort_key
from dgen.bench.stats import PairedDifference, mean_sd, paired_difference

__all__ = [
    "CLASSIC", "LOWER_IS_BETTER", "CompareOptions", "ClassicChoice", "Comparison", "best_classic",
    "compare_methods", "method_order",
]

#: the classic paired augmentations of the GenSeg pipeline (the paper's baselines).
CLASSIC: tuple[str, ...] = ("rotate", "flip", "translate", "combine")
#: metrics where a smaller value is better.
LOWER_IS_BETTER = frozenset({"hd95"})


@dataclass(frozen=True)
class CompareOptions:
    """How methods are compared.

    Attributes:
        baseline: the method every other one is compared against (real pairs only).
        classic: the classic augmentation methods; the best of them is the second reference.
        metrics: the test metrics compared.
        select_metric: the validation metric that chooses the best classic augmentation.
        resamples, level, seed: of the bootstrap interval.
    """

    baseline: str = "none"
    classic: tuple[str, ...] = CLASSIC
    metrics: tuple[str, ...] = ("dice", "jaccard")
    select_metric: str = "dice"
    resamples: int = 10_000
    level: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class ClassicChoice:
    """The best classic augmentation of a setting and the mean validation score of every candidate."""

    method: str
    val_means: Mapping[str, float]


@dataclass(frozen=True)
class Comparison:
    """``method`` minus ``reference`` on one test set of one setting, per metric.

    ``against`` is ``"baseline"`` or ``"best classic"``.
    """

    setting: Setting
    test_set: str
    in_domain: bool
    method: str
    reference: str
    against: str
    differences: Mapping[str, PairedDifference] = field(default_factory=dict)


def method_order(methods: Iterable[str], options: CompareOptions) -> list[str]:
    """The baseline first, then the classic methods in their order, then the others alphabetically."""
    fixed = [options.baseline, *options.classic]
    present = set(methods)
    return [m for m in fixed if m in present] + sorted(present - set(fixed))


def best_classic(rows: Sequence[ResultRow], options: CompareOptions) -> dict[Setting, ClassicChoice]:
    """For each setting with validation scores for a classic method, the best one (ties: first in ``classic``)."""
    table = seed_table(rows, value=lambda r: r.val.get(options.select_metric), group=lambda r: r.setting)
    choices = {}
    for setting, methods in table.items():
        means = {m: mean_sd(list(methods[m].values()))[0] for m in options.classic if m in methods}
        if means:
            best = max(means, key=lambda m: (means[m], -options.classic.index(m)))
            choices[setting] = ClassicChoice(best, means)
    return choices


def compare_methods(rows: Sequence[ResultRow], options: CompareOptions) -> list[Comparison]:
    """Every method against the baseline and against its setting's best classic augmentation, on every test set."""
    tables = {
        metric: seed_table(rows, value=lambda r, m=metric: r.scores.get(m), group=lambda r: (r.setting, r.test_set))
        for metric in options.metrics
    }
    in_domain = {(r.setting, r.test_set): r.in_domain for r in rows}
    choices = best_classic(rows, options)
    comparisons = []
    for group in sorted(in_domain, key=lambda g: (*map(sort_key, g[0]), not in_domain[g], g[1])):
        methods = {m for table in tables.values() for m in table.get(group, {})}
        references = [("baseline", options.baseline)]
        if group[0] in choices:
            references.append(("best classic", choices[group[0]].method))
        for against, reference in references:
            if reference not in methods:
                continue
            skip = {reference} | ({options.baseline} if against == "best classic" else set())
            for method in method_order(methods - skip, options):
                differences = {
                    metric: paired_difference(
                        table[group][method], table[group][reference], resamples=options.resamples,
                        level=options.level, seed=options.seed, higher_is_better=metric not in LOWER_IS_BETTER,
                    )
                    for metric, table in tables.items()
                    if method in table.get(group, {}) and reference in table.get(group, {})
                }
                if any(d.n for d in differences.values()):
                    comparisons.append(Comparison(group[0], group[1], in_domain[group], method, reference, against,
                                                  differences))
    return comparisons
