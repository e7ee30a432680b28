from __future__ import annotations

import pytest

from dgen.errors import RegistryError, UnknownNameError
from dgen.hookspecs import HOOK_KINDS
from dgen.plugins import BUILTIN, load_plugins


def _task(**kw):
    """A task from a fake plugin."""
    return ("task", kw)


def test_builtin_plugin_loads_like_any_other():
    plugins = load_plugins("")
    names = [p.name for p in plugins.plugins]
    assert names == [BUILTIN]
    assert "unroll" in plugins.registry("solvers")
    assert "toy" in plugins.registry("pipelines")
    assert plugins.registry("solvers").get("unroll").plugin == BUILTIN


def test_extra_plugin_registers_each_kind(plugin_factory):
    hooks = {hook: (lambda register, _k=kind: register(f"acme-{_k}", _task, description=f"an {_k}"))
             for hook, kind in HOOK_KINDS.items()}
    plugins = load_plugins("", extra={"acme": plugin_factory("acme", **hooks)})
    acme = next(p for p in plugins.plugins if p.name == "acme")
    for kind in HOOK_KINDS.values():
        entry = plugins.registry(kind).get(f"acme:acme-{kind}")
        assert entry.plugin == "acme" and entry.meta["description"] == f"an {kind}"
        assert acme.registered[kind] == [f"acme-{kind}"]
    assert plugins.registry("tasks").create("acme-tasks", n=3) == ("task", {"n": 3})


def test_conflicting_names_from_two_plugins_name_both(plugin_factory):
    a = plugin_factory("a", register_solvers=lambda register: register("unroll", _task))
    with pytest.raises(RegistryError, match=r"both plugin 'dgen' \(dgen:unroll\) and plugin 'a' \(a:unroll\)"):
        load_plugins("", extra={"a": a})


def test_malformed_registration_names_the_plugin(plugin_factory):
    bad = plugin_factory("bad", register_tasks=lambda register: register("Bad Name", _task))
    with pytest.raises(RegistryError, match="plugin 'bad' registers task 'Bad Name'"):
        load_plugins("", extra={"bad": bad})


def test_unknown_plugin_in_env_var_lists_installed_ones():
    with pytest.raises(UnknownNameError, match="Did you mean 'genseg'"):
        load_plugins("gensegg")


def test_env_var_restricts_third_party_plugins():
    assert [p.name for p in load_plugins("").plugins] == [BUILTIN]
    everything = [p.name for p in load_plugins(None).plugins]
    assert BUILTIN in everything and "genseg" in everything


def test_unknown_kind_is_reported():
    with pytest.raises(UnknownNameError, match="Did you mean 'tasks'"):
        load_plugins("").registry("task")
