"""Loading plugins and filling the registries.

Plugins are found through the ``dgen`` entry-point group; dgen's own components are
the built-in plugin ``dgen`` (module :mod:`dgen.builtin`), loaded the same way. The
environment variable ``DGEN_PLUGINS`` restricts which third-party plugins load: a
comma-separated list of plugin names (empty: none; unset: all). The built-in plugin
always loads.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from dgen import hookspecs
from dgen.errors import RegistryError, UnknownNameError
from dgen.registry import Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "PLUGINS_ENV",
    "BUILTIN",
    "PluginInfo",
    "PluginSet",
    "load_plugins",
    "get_plugins",
    "registry",
    "create",
]

ENTRY_POINT_GROUP = "dgen"
PLUGINS_ENV = "DGEN_PLUGINS"
BUILTIN = "dgen"


@dataclass
class PluginInfo:
    """A loaded plugin: its name, distribution version, module and what it registered."""

    name: str
    version: str
    module: str
    registered: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class PluginSet:
    """The loaded plugins, their pluggy manager and the filled registries (one per kind)."""

    manager: pluggy.PluginManager
    registries: dict[str, Registry]
    plugins: list[PluginInfo]

    def registry(self, kind: str) -> Registry:
        """The registry of ``kind`` (``"tasks"``, ``"segmenters"``, ...)."""
        if kind not in self.registries:
            raise UnknownNameError("component kind", kind, self.registries)
        return self.registries[kind]


def _allowed_plugins(value: str | None, available: Mapping[str, Any]) -> set[str]:
    if value is None:
        return set(available)
    wanted = {name.strip() for name in value.split(",") if name.strip()} - {BUILTIN}
    for name in sorted(wanted - set(available)):
        raise UnknownNameError(f"plugin in {PLUGINS_ENV}", name, available)
    return wanted


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found and found[ep.name].value != ep.value:
            raise RegistryError(
                f"two installed distributions declare the dgen plugin '{ep.name}' "
                f"({found[ep.name].value} and {ep.value}); uninstall one."
            )
        found[ep.name] = ep
    return found


def _version(ep: EntryPoint | None, module: ModuleType) -> str:
    if ep is not None and ep.dist is not None:
        return ep.dist.version
    return str(getattr(module, "__version__", "unknown"))


def load_plugins(plugins_env: str | None = None, *, extra: Mapping[str, Any] | None = None) -> PluginSet:
    """Load the built-in plugin and the installed ones, and fill a fresh set of registries.

    Args:
        plugins_env: value of ``DGEN_PLUGINS`` to apply (default: read the environment).
        extra: plugins to load in addition, ``{name: module_or_object}`` (for tests and
            embedding applications; they are not filtered by ``DGEN_PLUGINS``).
    """
    env = os.environ.get(PLUGINS_ENV) if plugins_env is None else plugins_env
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    eps = _entry_points()
    third_party = {name: ep for name, ep in eps.items() if name != BUILTIN}
    to_load: list[tuple[str, Any, EntryPoint | None]] = []
    builtin_ep = eps.get(BUILTIN)
    builtin = builtin_ep.load() if builtin_ep else importlib.import_module("dgen.builtin")
    to_load.append((BUILTIN, builtin, builtin_ep))
    for name in sorted(_allowed_plugins(env, third_party)):
        try:
            module = third_party[name].load()
        except Exception as exc:  # a broken third-party plugin must name itself
            raise RegistryError(
                f"plugin '{name}' ({third_party[name].value}) failed to import: {exc}; "
                f"fix or uninstall it, or exclude it with {PLUGINS_ENV}."
            ) from exc
        to_load.append((name, module, third_party[name]))
    for name, module in (extra or {}).items():
        to_load.append((name, module, None))

    infos: list[PluginInfo] = []
    for name, module, ep in to_load:
        manager.register(module, name=name)
        infos.append(PluginInfo(name, _version(ep, module), getattr(module, "__name__", repr(module))))
    manager.check_pending()

    registries = {kind: Registry(kind) for kind in hookspecs.HOOK_KINDS.values()}
    by_name = {info.name: info for info in infos}
    for hook_name, kind in hookspecs.HOOK_KINDS.items():
        for impl in getattr(manager.hook, hook_name).get_hookimpls():  # registration order: built-in first
            info = by_name[impl.plugin_name]

            def register(name: str, factory: Any, _kind: str = kind, _info: PluginInfo = info, **meta: Any) -> None:
                registries[_kind].register(name, factory, plugin=_info.name, **meta)
                _info.registered.setdefault(_kind, []).append(name)

            impl.function(register=register)
    return PluginSet(manager=manager, registries=registries, plugins=infos)


@functools.lru_cache(maxsize=1)
def get_plugins() -> PluginSet:
    """The process-wide plugin set, loaded on first use."""
    return load_plugins()


def registry(kind: str) -> Registry:
    """The process-wide registry of ``kind``."""
    return get_plugins().registry(kind)


def create(kind: str, name: str, /, **kwargs: Any) -> Any:
    """Build the component ``name`` of ``kind`` from the process-wide registries (None kwargs dropped)."""
    return registry(kind).create(name, **kwargs)
