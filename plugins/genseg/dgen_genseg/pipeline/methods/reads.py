"""Options that only some methods read: a run refuses a value its method would silently ignore.

A method entry declares the method options it reads with ``reads=(...)`` (``register(name, factory,
pipeline="genseg", reads=("real_augmenter", ...))``). :func:`check_method_options` refuses any option of
:data:`METHOD_OPTIONS` set to a value other than its default when the run's method does not read it,
naming the methods that do. A third-party method that declares no ``reads`` is not checked; one that declares
a name that is not a method option is refused when it is looked up (:mod:`.method_options`).
"""

from __future__ import annotations

import dataclasses

from dgen.errors import ConfigError
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.methods.lookup import method_entries, method_entry
from dgen_genseg.pipeline.methods.method_options import METHOD_OPTIONS, STEER_OPTIONS

__all__ = ["METHOD_OPTIONS", "STEER_OPTIONS", "check_method_options"]

_DEFAULTS = {f.name: f.default for f in dataclasses.fields(GenSegConfig)}


def check_method_options(config: GenSegConfig) -> None:
    """Raise ``ConfigError`` for a method option given a value that ``config.method`` would ignore.

    Raises:
        ConfigError: e.g. ``lookahead_lr=0.001 is not read by method 'none' (only by genseg): ...``.
    """
    reads = method_entry(config.method).meta.get("reads")
    if reads is None:
        return
    for name in METHOD_OPTIONS:
        value = getattr(config, name)
        if name in reads or value == _DEFAULTS[name]:
            continue
        users = [e.name for e in method_entries() if name in e.meta.get("reads", ())]
        raise ConfigError(
            f"{name}={value!r} is not read by method {config.method!r} (only by {', '.join(users)}), so it would "
            f"change nothing; drop --set {name}=... or choose one of those methods with --set method=..."
        )
