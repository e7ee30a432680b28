"""Data of the GenSeg plugin: image I/O, dataset layouts, the data check, in-memory datasets."""

from dgen_genseg.data.check import check_dir, check_pairs
from dgen_genseg.data.dataset import PairDataset, load_dataset, resize_image, resize_mask
from dgen_genseg.data.io import ImageReadError, image_array, mask_array, read_image, read_mask
from dgen_genseg.data.layouts import LAYOUTS, LayoutError, Scan, detect_layout, find_pairs, layout_names
from dgen_genseg.data.pair import Pair, load_pair, pair_arrays
from dgen_genseg.data.problem import Problem

__all__ = [
    "LAYOUTS",
    "ImageReadError",
    "LayoutError",
    "Pair",
    "PairDataset",
    "Problem",
    "Scan",
    "check_dir",
    "check_pairs",
    "detect_layout",
    "find_pairs",
    "image_array",
    "layout_names",
    "load_dataset",
    "load_pair",
    "mask_array",
    "pair_arrays",
    "read_image",
    "read_mask",
    "resize_image",
    "resize_mask",
]
