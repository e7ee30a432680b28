"""What a GenSeg run records, declared for ``dgen bench`` (:class:`dgen.records.Records`), and the
columns of its ``log.csv`` that the declaration names.

A grid crosses tasks x backbones x methods x labelled counts (x seeds); methods are compared within
a setting (task, backbone, n_labeled) against ``none`` (real pairs only) and against the best classic
paired augmentation of the setting, chosen on validation Dice. The validation curve's x axis is
``seg_iteration`` (segmenter updates so far), so methods with and without a GAN warm-up share it.
"""

from __future__ import annotations

from dgen.records import Axis, BestOf, Records, ValCurve
from dgen_genseg.pipeline.methods.supervised import CLASSIC as CLASSIC_METHODS
from dgen_genseg.tasks import TASKS

__all__ = ["CLASSIC", "SEG_ITERATION", "GENSEG_RECORDS"]

#: the classic paired augmentations (the paper's baselines and ``strong``): the candidates of the "best classic"
#: reference, i.e. the classic methods but ``none`` (the list is kept once, in the methods).
CLASSIC: tuple[str, ...] = tuple(name for name, augmenter in CLASSIC_METHODS.items() if augmenter is not None)
#: the ``log.csv`` column counting segmenter updates (empty during a GAN warm-up).
SEG_ITERATION = "seg_iteration"

# runs written before metrics.json listed its out-of-domain test sets: the tasks' own out-of-domain datasets
_LEGACY_OOD = tuple(sorted({name for cls in TASKS.values() for name in getattr(cls, "out_of_domain", ())
                            if isinstance(name, str)} | {"shapes_ood"}))

GENSEG_RECORDS = Records(
    metrics=("dice", "jaccard", "hd95"),
    headline="dice", paired_metrics=("dice", "jaccard"),
    lower_is_better=("hd95",),
    axes=(
        Axis("task", str, "", '"isic"'),
        Axis("backbone", str, "", '"unet"'),
        Axis("method", str, "", '["none", "genseg"]'),
        Axis("n_labeled", int, "n", "[10, 40]"),
    ),
    compared="method",
    sweep="n_labeled",
    baseline="none",
    references=(BestOf("best classic", "Best classic augmentation", CLASSIC),),
    curve=ValCurve(x=SEG_ITERATION, x_label="segmenter iteration",
                   note="segmenter updates; the GAN warm-up of the GAN-based methods comes before"),
    facts=("image_size", "iterations", "test_resolution"),
    per_value_facts=("solver",),
    info=("solver", "wall_seconds", "best_iteration", "iterations", "image_size", "test_resolution", "device"),
    legacy_out_of_domain=_LEGACY_OOD,
)
