"""The files a GenSeg run writes into its run directory, named once for the pipeline, its parts and the commands
that read finished runs (the core's files, ``config.json``, ``metrics.json``, ``log.csv`` and ``progress.json``,
are named in :mod:`dgen.rundir`). Reading a finished run back: :mod:`dgen_genseg.finished_run`.
"""

from __future__ import annotations

__all__ = [
    "SPLIT_FILE", "CHECKPOINT", "BEST_SEGMENTER", "SEGMENTER_FILE", "GENERATOR_FILE", "DISCRIMINATOR_FILE",
    "GENOTYPE_FILE", "PAIR_GENERATOR_FILE", "CRITIC_FILE", "SAMPLES_FILE", "PREDICTIONS_FILE", "CASES_FILE",
    "LOSS_CURVES", "POOL_FILE", "APPEARANCE_WEIGHTS", "APPEARANCE_FILE", "UTILITY_PICTURE", "APPEARANCE_PICTURE",
    "GEOMETRY_WEIGHTS", "GEOMETRY_FILE", "GEOMETRY_PICTURE",
]

#: the item ids of train, val and every test set (read back on resume and by the commands on finished runs).
SPLIT_FILE = "split.json"
#: everything a resumed run needs (:mod:`dgen_genseg.pipeline.loop`); removed when the run finishes.
CHECKPOINT = "checkpoint.safetensors"
#: the best-on-validation segmenter while training; removed when the run finishes.
BEST_SEGMENTER = "segmenter_best.safetensors"
#: the kept segmenter's weights (what ``dgen predict`` loads).
SEGMENTER_FILE = "segmenter.safetensors"
#: the mask-conditioned generator's weights, its discriminator's and its derived architecture (pix2pix methods).
GENERATOR_FILE = "generator.safetensors"
DISCRIMINATOR_FILE = "discriminator.safetensors"
GENOTYPE_FILE = "genotype.json"
#: the unconditional pair generator's and critic's weights (``wgan``).
PAIR_GENERATOR_FILE = "pair_generator.safetensors"
CRITIC_FILE = "critic.safetensors"
#: pictures: generated pairs, the kept segmenter's test predictions, the loss curves.
SAMPLES_FILE = "samples.png"
PREDICTIONS_FILE = "predictions.png"
LOSS_CURVES = "loss-curves.png"
#: one row per test case: its test set and scores.
CASES_FILE = "test_cases.csv"
#: steer: the last pool's conditions, learned weights and sources; the learned appearance and geometry (weights,
#: magnitudes); the pictures of the pool's utility and of the appearance and geometry magnitudes' trajectories.
POOL_FILE = "synthetic_pool.safetensors"
APPEARANCE_WEIGHTS = "appearance.safetensors"
APPEARANCE_FILE = "appearance.json"
UTILITY_PICTURE = "utility.png"
APPEARANCE_PICTURE = "appearance.png"
GEOMETRY_WEIGHTS = "geometry.safetensors"
GEOMETRY_FILE = "geometry.json"
GEOMETRY_PICTURE = "geometry.png"
