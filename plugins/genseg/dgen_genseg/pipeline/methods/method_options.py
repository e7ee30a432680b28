"""The options that only some methods read, and the check of what a method declares it reads.

A method entry declares the method options it reads with ``reads=(...)`` (see :mod:`.reads`). A name there
that is not one of :data:`METHOD_OPTIONS` would be accepted and mean nothing (a typo silently lets the run
refuse the option the method does read), so :func:`check_declared_reads` refuses it when the method is
looked up, naming the plugin, the method, the bad name, the closest option and the fix.
"""

from __future__ import annotations

import dataclasses

from dgen.errors import RegistryError, closest_match
from dgen.registry import Entry
from dgen_genseg.pipeline.config import GenSegConfig

__all__ = ["FILTER_OPTIONS", "METHOD_OPTIONS", "STEER_OPTIONS", "check_declared_reads"]

#: the options only the ``steer`` method reads.
STEER_OPTIONS = ("steer", "steer_objective", "steer_beta", "appearance_lr", "appearance_transforms", "appearance_on",
                 "appearance_initial", "geometry_lr", "geometry_transforms", "geometry_on", "weights_lr",
                 "weightnet_norm", "pool_size", "pool_refresh", "crossfit_folds", "crossfit_every")
#: the options of the fixed filter of the synthetic pairs (joint, separate, wgan).
FILTER_OPTIONS = ("synthetic_filter", "synthetic_filter_drop")
#: the options that change only the methods that read them (the review's fixes, the real pairs' augmenter, the
#: hypergradient's frequency, the filter of the synthetic pairs and steer's own).
METHOD_OPTIONS = ("real_augmenter", "search_space", "lookahead_lr", "seg_batchnorm", "diffaugment", "gan_augment",
                  "sample_mode", "hyper_every", "hyper_start", "upper_batch", *FILTER_OPTIONS,
                  *STEER_OPTIONS)
_OPTIONS = frozenset(f.name for f in dataclasses.fields(GenSegConfig))


def check_declared_reads(entry: Entry) -> None:
    """Refuse a method entry whose ``reads`` is not a tuple/list of :data:`METHOD_OPTIONS` (absent ``reads``: fine).

    Raises:
        RegistryError: e.g. ``plugin 'acme' registers method 'twice' with reads=('real_augmentor',):
            'real_augmentor' is not an option of the genseg pipeline. Did you mean 'real_augmenter'? ...``.
    """
    reads = entry.meta.get("reads")
    if reads is None:
        return
    where = f"plugin '{entry.plugin}' registers method '{entry.name}' with reads={reads!r}"
    fix = (f"method options: {', '.join(sorted(METHOD_OPTIONS))}; fix its register(..., reads=...) "
           "or leave the plugin out with DGEN_PLUGINS")
    if not isinstance(reads, (tuple, list)) or not all(isinstance(name, str) for name in reads):
        raise RegistryError(f"{where}: reads must be a tuple of option names, e.g. reads=('real_augmenter',); {fix}.")
    for name in reads:
        if name in METHOD_OPTIONS:
            continue
        if name in _OPTIONS:
            what = f"'{name}' is an option every method reads, not a method option (declare only these)"
        else:
            hint = closest_match(name, METHOD_OPTIONS) or closest_match(name, _OPTIONS)
            what = f"'{name}' is not an option of the genseg pipeline" + (f". Did you mean '{hint}'?" if hint else "")
        raise RegistryError(f"{where}: {what}; {fix}.")
