# Types of the optional C module (tap_impact_clicks/_speedups.c).
import typing as t
from collections.abc import Set as AbstractSet

# Type a click in place: 0 typed; 1 a field not in known; 2 a value of another shape.
def type_flat(record: dict[str, t.Any], known: AbstractSet[str], /) -> int: ...

# records._lift, in C: lift nested groups, return the unknown fields.
def lift(
    record: dict[str, t.Any],
    known: AbstractSet[str],
    groups: AbstractSet[str],
    renamed: AbstractSet[str],
    placeholders: AbstractSet[str],
    /,
) -> dict[str, t.Any]: ...
