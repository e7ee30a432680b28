"""GenSeg's segmenters: smp's U-Net, DeepLabV3+ and any ``smp:<Arch>:<encoder>``, and Swin-Unet.

Each implements :class:`dgen.segmenter.Segmenter`: images ``(B, C, H, W)`` -> logits ``(B, K, H, W)``,
with ``check_input_size(h, w)`` naming the nearest valid sizes. None downloads weights.
"""

from dgen_genseg.segmenters.patch_expand import PatchExpand
from dgen_genseg.segmenters.smp import (
    ARCHITECTURES,
    SMP_PREFIX,
    SmpSegmenter,
    make_deeplabv3plus,
    make_smp,
    make_smp_from_name,
    make_unet,
    parse_smp_name,
)
from dgen_genseg.segmenters.swin_unet import SwinUnet, make_swinunet

__all__ = [
    "ARCHITECTURES",
    "SMP_PREFIX",
    "PatchExpand",
    "SmpSegmenter",
    "SwinUnet",
    "make_deeplabv3plus",
    "make_smp",
    "make_smp_from_name",
    "make_swinunet",
    "make_unet",
    "parse_smp_name",
]
