"""The ``genseg`` pipeline: GenSeg's MLO training and its supervised baselines."""
