"""Steering what shapes the data: upper-level variables that a learner's validation loss moves.

    app = LearnableAppearance(transforms=APPEARANCE_TRANSFORMS, initial=0.1)  # augmentation magnitudes
    geo = LearnableGeometry(transforms=GEOMETRY_TRANSFORMS, initial=0.1)      # warp magnitudes (images + masks)
    weights = SampleWeights(pool_size)                                        # a weight per generated pair
    loss = weighted_mean(per_sample_loss, ctx.call(weights, index))
    net = WeightNet(features=2)                                               # or a weight from each pair's features
    loss = weighted_mean(per_sample_loss, ctx.call(net, features))

Each is an ``nn.Module`` whose parameters form a :class:`~dgen.mlo.Level` with ``lower=("learner",)``;
several such levels over one learner share one look-ahead per iteration. See docs/mlo.md.
"""

from dgen.steer.appearance import LearnableAppearance
from dgen.steer.draw import BIAS_FIELD_TERMS, AppearanceDraw
from dgen.steer.geometry import GEOMETRY_MAX_MAGNITUDES, GEOMETRY_TRANSFORMS, LearnableGeometry
from dgen.steer.geometry_draw import GeometryDraw
from dgen.steer.transforms import APPEARANCE_TRANSFORMS, BLUR_KERNEL, MAX_MAGNITUDES, bias_field_basis
from dgen.steer.weight_net import WeightNet
from dgen.steer.weights import SampleWeights, weighted_mean

__all__ = [
    "APPEARANCE_TRANSFORMS",
    "BIAS_FIELD_TERMS",
    "BLUR_KERNEL",
    "GEOMETRY_MAX_MAGNITUDES",
    "GEOMETRY_TRANSFORMS",
    "MAX_MAGNITUDES",
    "AppearanceDraw",
    "GeometryDraw",
    "LearnableAppearance",
    "LearnableGeometry",
    "SampleWeights",
    "WeightNet",
    "bias_field_basis",
    "weighted_mean",
]
