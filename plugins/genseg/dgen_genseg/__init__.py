"""GenSeg for dgen: end-to-end generation of image-mask pairs for low-data medical segmentation.

``load_segmenter(run_dir, device=...)`` loads a finished run's segmenter, ready to segment new images
(see :mod:`dgen_genseg.predictor`).
"""

__version__ = "0.1.0"

from dgen_genseg.predictor import Predictor, load_segmenter  # noqa: E402  (after __version__, which plugins read)

__all__ = ["Predictor", "__version__", "load_segmenter"]
