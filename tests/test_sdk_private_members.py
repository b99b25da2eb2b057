"""The private singer-sdk members the tap relies on still exist, and it relies on no other.

``tap_impact_clicks.runtime.sdk_private.PRIVATE_MEMBERS`` lists every private SDK member the
tap overrides, calls or imports. If a test here fails after a singer-sdk upgrade, the SDK
renamed or changed one of them: adapt ``runtime/sdk_private.py`` (and only it), then its list.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from singer_sdk import Tap
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams import RESTStream, Stream

import tap_impact_clicks
from tap_impact_clicks.runtime.sdk_private import PRIVATE_MEMBERS, DayBookmarks, SignalStops
from tap_impact_clicks.singer.http import ImpactHttpStream
from tap_impact_clicks.singer.stream import ClicksStream
from tap_impact_clicks.tap import TapImpactClicks

#: The SDK classes whose private members the tap could override.
SDK_CLASSES: tuple[type, ...] = (RESTStream, Stream, Tap, PluginBase)
#: Every class of the tap built on an SDK class.
TAP_CLASSES: tuple[type, ...] = (
    TapImpactClicks,
    ClicksStream,
    ImpactHttpStream,
    DayBookmarks,
    SignalStops,
)
LISTED = {name for _, name, _ in PRIVATE_MEMBERS}
#: ``self._name = …`` (or ``self._name: T = …``), not ``==``.
_ASSIGNED = re.compile(r"self\.(_[A-Za-z]\w*)\s*(?::[^=\n]+)?=(?!=)")
PACKAGE = Path(tap_impact_clicks.__file__).parent


def _owner_name(owner: object) -> str:
    return str(getattr(owner, "__name__", owner))


def _private(name: str) -> bool:
    """A private name the tap could have written itself (not a dunder, not ABC machinery)."""
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and not name.startswith("_abc_")


def _assigned(cls: type) -> set[str]:
    return set(_ASSIGNED.findall(inspect.getsource(cls)))


@pytest.mark.parametrize(
    ("owner", "name", "parameters"),
    PRIVATE_MEMBERS,
    ids=[f"{_owner_name(owner)}.{name}" for owner, name, _ in PRIVATE_MEMBERS],
)
def test_each_listed_member_exists_with_the_parameters_relied_on(
    owner: object, name: str, parameters: tuple[str, ...] | None
) -> None:
    assert name.startswith("_") or "._" in _owner_name(owner), "only private members are listed"
    member = getattr(owner, name, None)
    assert member is not None, f"singer-sdk no longer has {_owner_name(owner)}.{name}"
    if parameters is not None:
        assert callable(member)
        assert tuple(inspect.signature(member).parameters) == parameters


def test_the_list_stays_short() -> None:
    assert len(PRIVATE_MEMBERS) <= 6
    assert len(LISTED) == len(PRIVATE_MEMBERS), "each member listed once"


@pytest.mark.parametrize("cls", TAP_CLASSES, ids=[cls.__name__ for cls in TAP_CLASSES])
def test_no_tap_class_defines_an_unlisted_private_sdk_member(cls: type) -> None:
    for name in vars(cls):
        if _private(name) and any(hasattr(sdk, name) for sdk in SDK_CLASSES):
            assert name in LISTED, f"{cls.__name__}.{name} overrides an unlisted SDK member"


def test_no_tap_class_assigns_a_private_sdk_attribute() -> None:
    """Instance attributes too: ``self._config = …`` in the tap would clobber the SDK's."""
    sdk_attributes: set[str] = set()
    for root in SDK_CLASSES:
        for base in root.__mro__:
            if base.__module__.startswith("singer_sdk"):
                sdk_attributes |= _assigned(base)
    assert "_config" in sdk_attributes  # the scan sees the SDK's own attributes
    for cls in TAP_CLASSES:
        clash = (_assigned(cls) & sdk_attributes) - LISTED
        assert not clash, f"{cls.__name__} assigns the SDK's private {sorted(clash)}"


def _private_sdk_imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            module = node.module or ""
            names = [alias.name for alias in node.names]
            private_module = any(part.startswith("_") for part in module.split("."))
            if private_module or any(name.startswith("_") for name in names):
                found += [f"{module}.{name}" for name in names]
        elif isinstance(node, ast.Import):
            found += [
                alias.name
                for alias in node.names
                if alias.name.startswith("singer_sdk")
                and any(part.startswith("_") for part in alias.name.split("."))
            ]
    return found


def test_only_sdk_private_imports_private_sdk_names() -> None:
    """Nothing else in the tap (the sandbox aside: it is a test double) imports them."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("sandbox/") or relative == "runtime/sdk_private.py":
            continue
        found = _private_sdk_imports(ast.parse(path.read_text(encoding="utf-8")))
        assert not found, f"{relative} imports private SDK names {found}"
