"""GenSeg's mask augmenters (batched affine transforms of masks and aligned images) and the strong
classic augmentation (nnU-Net's spatial and intensity transforms); all run on CPU and GPU.

Every augmenter implements :class:`dgen.augmenter.Augmenter`: ``augmenter(mask, image=None,
generator=g)`` with ``mask`` ``(B, 1, H, W)`` in ``{0, 1}`` and ``image`` ``(B, C, H, W)``; each sample
draws its own parameters and the image gets the same transform as its mask.
"""

from dgen_genseg.augment.affine import AffineAugmenter
from dgen_genseg.augment.combine import RandomOrder, combine
from dgen_genseg.augment.photometric import Photometric
from dgen_genseg.augment.spatial import Spatial
from dgen_genseg.augment.strong import Strong, strong
from dgen_genseg.augment.transforms import CropPad, Flip, Rotate, Scale, Shear, Translate
from dgen_genseg.augment.warp import warp

__all__ = [
    "AffineAugmenter",
    "CropPad",
    "Flip",
    "Photometric",
    "RandomOrder",
    "Rotate",
    "Scale",
    "Shear",
    "Spatial",
    "Strong",
    "Translate",
    "combine",
    "strong",
    "warp",
]
