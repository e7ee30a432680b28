"""The range of every numeric option of ``dgen run genseg``, checked when the config is built
(before any data loads): one row per field, so that a new option without a rule fails a test."""

from __future__ import annotations

from dgen.ranges import Range

__all__ = ["OPTION_RULES"]

_LR = "a learning rate"
_DECAY = "a weight decay"

#: option name -> the values it accepts (floats must also be finite).
OPTION_RULES: dict[str, Range] = {
    "seed": Range(low=0, high=2**32 - 1, example="0", meaning="a random seed"),
    "n_labeled": Range(low=2, example="40", meaning="labelled pairs; a run needs 1 train + 1 val at least"),
    "image_size": Range(low=1, example="64", meaning="the side of the square images, in pixels"),
    "batch_size": Range(low=1, example="4", meaning="pairs per batch"),
    "iterations": Range(low=1, example="200", meaning="training iterations"),
    "warmup_iterations": Range(low=0, example="0", meaning="GAN warm-up iterations before the segmenter trains"),
    "val_every": Range(low=1, example="25", meaning="iterations between validations"),
    "checkpoint_every": Range(low=1, example="50", meaning="iterations between checkpoints"),
    "log_every": Range(low=1, example="50", meaning="iterations between plain log lines when there is no terminal"),
    "seg_lr": Range(low=0, low_open=True, example="0.001", meaning=_LR),
    "seg_weight_decay": Range(low=0, example="0", meaning=_DECAY),
    "seg_plateau_patience": Range(low=0, example="4", meaning="validations without progress before the lr drops"),
    "gamma": Range(low=0, example="1", meaning="weight of the real-data loss; the paper uses 1"),
    "ngf": Range(low=1, example="8", meaning="generator width"),
    "num_downs": Range(low=1, example="6", meaning="generator depth"),
    "max_mult": Range(low=1, example="4", meaning="generator width multiplier cap"),
    "ndf": Range(low=1, example="8", meaning="discriminator width"),
    "gen_lr": Range(low=0, low_open=True, example="0.0002", meaning=_LR),
    "gen_weight_decay": Range(low=0, example="0", meaning=_DECAY),
    "lambda_l1": Range(low=0, example="100", meaning="weight of the generator's L1 loss; pix2pix uses 100"),
    "n_critic": Range(low=1, example="5", meaning="critic steps per generator step"),
    "arch_lr": Range(low=0, example="0.003", meaning="α's learning rate; 0 freezes α"),
    "arch_weight_decay": Range(low=0, example="0.00001", meaning=_DECAY),
    "unroll_steps": Range(low=1, example="1", meaning="look-ahead steps of the solver"),
    "hyper_every": Range(low=1, example="1", meaning="iterations between hypergradients"),
    "hyper_start": Range(low=0, example="8", meaning="MLO iterations before the first hypergradient"),
    "upper_batch": Range(low=1, example="8", meaning="pairs in each upper-level loss"),
    "steer_beta": Range(low=0, example="1", meaning="weight of the upper-level loss in the generator's loss"),
    "appearance_lr": Range(low=0, low_open=True, example="0.01", meaning=_LR),
    "appearance_initial": Range(low=0, high=0.99, low_open=True, example="0.1",
                                meaning="where the appearance magnitudes start, a fraction of each maximum"),
    "geometry_lr": Range(low=0, low_open=True, example="0.01", meaning=_LR),
    "weights_lr": Range(low=0, low_open=True, example="0.1", meaning=_LR),
    "pool_size": Range(low=1, example="64", meaning="synthetic pairs in the weighted pool"),
    "pool_refresh": Range(low=1, example="200", meaning="iterations between refills of the pool"),
    "crossfit_folds": Range(low=2, example="4", meaning="folds of the training pairs"),
    "crossfit_every": Range(low=1, example="50", meaning="iterations before the held-out fold rotates"),
    "synthetic_filter": Range(low=0, high=0.9, example="0.25",
                              meaning="fraction of each synthetic batch left out of the segmenter's loss"),
    "lookahead_lr": Range(low=0, low_open=True, example="0.001", meaning="fixed lr of the segmenter's look-ahead step"),
}
