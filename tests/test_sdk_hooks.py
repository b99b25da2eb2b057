"""The private singer-sdk hooks the tap relies on (tap_impact_clicks/sdk_hooks.py) still exist.

If one of these fails after a singer-sdk upgrade, the SDK renamed or changed a private member
the tap overrides or calls: adapt sdk_hooks.py (and only it), then this list.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.plugin_base import PluginBase

from tap_impact_clicks.sdk_hooks import (
    PRIVATE_CLASS_PROPERTIES,
    PRIVATE_HOOKS,
    PRIVATE_IMPORTS,
    PRIVATE_STREAM_ATTRIBUTES,
    HookedTap,
)
from tap_impact_clicks.tap import TapImpactClicks
from tests.helpers import base_config


@pytest.mark.parametrize(
    ("owner", "name", "parameters"), PRIVATE_HOOKS, ids=[h[1] for h in PRIVATE_HOOKS]
)
def test_private_hook_exists_with_the_parameters_we_rely_on(owner, name, parameters):
    member = getattr(owner, name, None)
    assert member is not None, f"singer-sdk no longer has {owner.__name__}.{name}"
    assert tuple(inspect.signature(member).parameters) == parameters


@pytest.mark.parametrize("name", PRIVATE_CLASS_PROPERTIES)
def test_private_class_properties_exist(name):
    assert isinstance(vars(PluginBase).get(name), classproperty), name


@pytest.mark.parametrize(("module", "name"), PRIVATE_IMPORTS)
def test_private_imports_exist(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_private_stream_attributes_exist():
    tap = TapImpactClicks(config=base_config("http://127.0.0.1:9"), validate_config=False)
    stream = tap.streams["clicks"]
    for name in PRIVATE_STREAM_ATTRIBUTES:
        assert hasattr(stream, name), f"singer-sdk streams no longer have {name}"
    assert hasattr(stream.state_manager, "is_flushed")
    assert stream.owning_tap is tap


def test_every_private_override_is_declared_in_sdk_hooks():
    """The tap's modules override no other private SDK member than those listed."""
    from singer_sdk.streams import RESTStream  # noqa: PLC0415

    from tap_impact_clicks import streams, transport  # noqa: PLC0415

    listed = {name for _, name, _ in PRIVATE_HOOKS} | set(PRIVATE_CLASS_PROPERTIES)
    for cls in (streams.ClicksStream, transport.ImpactHttpStream, TapImpactClicks, HookedTap):
        for name in vars(cls):
            if name.startswith("_") and not name.startswith(("__", "_abc_")):
                inherited = (
                    hasattr(RESTStream, name)
                    or name in dir(PluginBase)
                    or any(name in vars(base) for base in HookedTap.__mro__[1:])
                )
                assert not inherited or name in listed, f"{cls.__name__}.{name} is not declared"
