from __future__ import annotations

import pytest

from dgen.errors import ConfigError, RegistryError, UnknownNameError
from dgen.registry import Registry


def factory(**kw):
    """Build a thing."""
    return kw


def test_register_and_create_drops_none_kwargs():
    reg = Registry("segmenters")
    reg.register("unet", factory, plugin="p", description="a U-Net")
    assert reg.create("unet", a=1, b=None) == {"a": 1}
    assert reg.names() == ["unet"]
    assert reg.names(qualified=True) == ["p:unet"]
    assert reg.get("unet").description == "a U-Net"
    assert "unet" in reg and "p:unet" in reg and "q:unet" not in reg


def test_description_falls_back_to_docstring():
    reg = Registry("tasks")
    entry = reg.register("t", factory, plugin="p")
    assert entry.description == "Build a thing."


@pytest.mark.parametrize("bad", ["", "Unet", "1net", "u net", "a:b", "x-", None])
def test_malformed_names_are_refused(bad):
    with pytest.raises(RegistryError, match="rename it"):
        Registry("tasks").register(bad, factory, plugin="p")


def test_non_callable_factory_is_refused():
    with pytest.raises(RegistryError, match="non-callable factory.*pass a class or function"):
        Registry("tasks").register("t", 42, plugin="p")


def test_same_name_from_two_plugins_names_both():
    reg = Registry("segmenters")
    reg.register("unet", factory, plugin="alpha")
    with pytest.raises(RegistryError) as info:
        reg.register("unet", factory, plugin="beta")
    message = str(info.value)
    assert "alpha:unet" in message and "beta:unet" in message and "DGEN_PLUGINS" in message


def test_same_name_twice_from_one_plugin():
    reg = Registry("segmenters")
    reg.register("unet", factory, plugin="alpha")
    with pytest.raises(RegistryError, match="twice"):
        reg.register("unet", factory, plugin="alpha")


def test_unknown_name_lists_choices_and_closest():
    reg = Registry("segmenters")
    for name in ("unet", "deeplabv3plus", "swinunet"):
        reg.register(name, factory, plugin="p")
    with pytest.raises(UnknownNameError) as info:
        reg.get("unett")
    message = str(info.value)
    assert "Did you mean 'unet'" in message
    assert "deeplabv3plus, swinunet, unet" in message


def test_qualified_lookup_checks_plugin():
    reg = Registry("segmenters")
    reg.register("unet", factory, plugin="p")
    assert reg.get("p:unet").name == "unet"
    with pytest.raises(UnknownNameError, match="p:unet"):
        reg.get("q:unet")


def test_family_entry_receives_the_full_name():
    reg = Registry("segmenters")
    reg.register("smp", lambda name, **kw: (name, kw), plugin="p", family=True, description="smp:<Arch>:<encoder>")
    assert reg.create("smp:Unet:resnet18", classes=1) == ("smp:Unet:resnet18", {"classes": 1})
    assert "smp:FPN:x" in reg
    with pytest.raises(ConfigError, match=r"name a member as smp:<variant> \(smp:<Arch>:<encoder>\)"):
        reg.create("smp")


def test_a_family_registered_bare_also_builds_its_bare_name():
    reg = Registry("methods")
    reg.register("steer", lambda name, **kw: (name, kw), plugin="p", family=True, bare=True)
    assert reg.create("steer", lr=1) == ("steer", {"lr": 1})
    assert reg.create("steer:a+b") == ("steer:a+b", {})
    assert "steer" in reg and "steer:x" in reg
