"""A registry of named factories, one per kind of component.

Plugins fill registries through the ``register_*`` hooks (see :mod:`dgen.hookspecs`).
Names are validated at registration; look-ups of unknown names list what is
available and the closest match. A name may always be qualified by its plugin,
``plugin:name``. An entry registered with ``family=True`` stands for a family of
components named ``name:<variant>`` (e.g. ``smp:Unet:resnet34``); its factory is
called with the whole name as first argument. With ``bare=True`` as well, the bare
``name`` is a member too (its default variant).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dgen.errors import ConfigError, RegistryError, UnknownNameError

__all__ = ["Entry", "Registry", "NAME_PATTERN"]

#: registered names: lower-case words joined by '-' or '_' (e.g. ``unet``, ``deeplabv3plus``, ``first_order``).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class Entry:
    """One registered component: its name, factory, owning plugin and free-form metadata."""

    name: str
    factory: Callable[..., Any]
    plugin: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        """``plugin:name``."""
        return f"{self.plugin}:{self.name}"

    @property
    def description(self) -> str:
        """``meta['description']``, else the first paragraph of the factory's docstring, on one line."""
        text = str(self.meta.get("description") or inspect.getdoc(self.factory) or "").strip()
        return " ".join(text.split("\n\n")[0].split())


class Registry:
    """Named factories of one kind (``"tasks"``, ``"segmenters"``, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    @property
    def singular(self) -> str:
        """The kind in the singular, for messages (``"segmenter"``)."""
        return self.kind[:-1] if self.kind.endswith("s") else self.kind

    def register(self, name: str, factory: Callable[..., Any], *, plugin: str, **meta: Any) -> Entry:
        """Add ``factory`` under ``name`` for ``plugin``.

        Raises:
            RegistryError: the name is malformed, the factory is not callable, or the
                name is already registered (by this or another plugin; both are named).
        """
        where = f"plugin '{plugin}'"
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise RegistryError(
                f"{where} registers {self.singular} {name!r}: a name must match {NAME_PATTERN.pattern} "
                f"(lower-case letters, digits, '-' or '_', starting with a letter); rename it."
            )
        if not callable(factory):
            raise RegistryError(
                f"{where} registers {self.singular} '{name}' with a non-callable factory "
                f"{factory!r} ({type(factory).__name__}); pass a class or function."
            )
        if name in self._entries:
            other = self._entries[name].plugin
            if other == plugin:
                raise RegistryError(f"{where} registers {self.singular} '{name}' twice; register it once.")
            raise RegistryError(
                f"{self.singular} '{name}' is registered by both plugin '{other}' ({other}:{name}) and "
                f"plugin '{plugin}' ({plugin}:{name}); uninstall or rename one, or choose the plugins "
                f"to load with DGEN_PLUGINS."
            )
        entry = Entry(name=name, factory=factory, plugin=plugin, meta=dict(meta))
        self._entries[name] = entry
        return entry

    def _family(self, name: str) -> Entry | None:
        head, sep, _ = name.partition(":")
        entry = self._entries.get(head)
        return entry if sep and entry is not None and entry.meta.get("family") else None

    def get(self, name: str) -> Entry:
        """The entry for ``name``, ``plugin:name`` or ``family:variant``; unknown names raise ``UnknownNameError``."""
        family = self._family(name)
        if family is not None:
            return family
        plugin, _, bare = name.rpartition(":")
        entry = self._entries.get(bare)
        if entry is None or (plugin and entry.plugin != plugin):
            raise UnknownNameError(self.singular, name, self.names(qualified=bool(plugin)))
        return entry

    def create(self, name: str, /, **kwargs: Any) -> Any:
        """Call the factory of ``name`` with ``kwargs``; arguments that are None are dropped.

        A family entry's factory also receives ``name`` itself as its first argument (a member's, or the bare
        name of a family registered with ``bare=True``).
        """
        entry = self.get(name)
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        if self._family(name) is not None or (entry.meta.get("family") and entry.meta.get("bare")):
            return entry.factory(name, **kwargs)
        if entry.meta.get("family"):
            raise ConfigError(
                f"{self.singular} '{name}' is a family, not one component; name a member as "
                f"{entry.name}:<variant> ({entry.description})."
            )
        return entry.factory(**kwargs)

    def names(self, *, qualified: bool = False) -> list[str]:
        """The registered names, sorted (``plugin:name`` when ``qualified``)."""
        return sorted(e.qualified_name if qualified else e.name for e in self._entries.values())

    def entries(self) -> list[Entry]:
        """Every entry, sorted by name."""
        return [self._entries[n] for n in sorted(self._entries)]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if self._family(name) is not None:
            return True
        plugin, _, bare = name.rpartition(":")
        entry = self._entries.get(bare)
        return entry is not None and (not plugin or entry.plugin == plugin)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
