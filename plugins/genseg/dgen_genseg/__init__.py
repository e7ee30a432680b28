"""GenSeg for dgen: end-to-end generation of image-mask pairs for low-data medical segmentation."""

__version__ = "0.1.0"
