"""Stream maps and selection, tried on a typed sample record before any export is spent.

A map that calls an undefined function, or reads a property the catalog deselected, fails
only at the first record: after the day's exports are spent. Trying every map on a sample
record shaped like the stream's schema finds that before the first ClickExport.
"""

from __future__ import annotations

import typing as t

from tap_impact_clicks.runtime.errors import SettingError

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from singer_sdk.mapper import StreamMap

_SAMPLES: dict[str, t.Any] = {
    "string": "sample",
    "number": 1.5,
    "integer": 1,
    "boolean": True,
    "object": {},
    "array": [],
}
_FORMATS = {"date": "2026-01-01", "date-time": "2026-01-01T00:00:00+00:00"}


def sample_record(schema: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A record with a non-null value of the right type for every property.

    Args:
        schema: The stream's JSON schema.

    Returns:
        The record.
    """
    record: dict[str, t.Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kinds = prop.get("type", "string")
        kind = next(
            (k for k in ([kinds] if isinstance(kinds, str) else kinds) if k != "null"), "string"
        )
        record[name] = _FORMATS.get(prop.get("format", ""), _SAMPLES.get(kind, "sample"))
    return record


def check_stream_maps(
    stream: str,
    schema: Mapping[str, t.Any],
    selected: Mapping[str, bool],
    maps: Sequence[StreamMap],
    config: Mapping[str, t.Any],
) -> None:
    """Run every stream map over a sample record, after selection, as the SDK would.

    Args:
        stream: The stream's name.
        schema: Its schema.
        selected: Per property, whether the catalog selects it.
        maps: The stream's maps (the SDK's, in order).
        config: The tap's config (to name the property of a failing expression).

    Raises:
        SettingError: A map fails; the message names the stream, the property and the
            expression.
    """
    record = {k: v for k, v in sample_record(schema).items() if selected.get(k, True)}
    try:
        for stream_map in maps:
            stream_map.transform(dict(record))
    except Exception as exc:  # noqa: BLE001 - any failure of a user's expression
        prop, expression = _culprit(stream, config, str(exc))
        where = f"stream_maps: {stream}.{prop}" if prop else f"stream_maps: {stream}"
        shown = f" = {expression!r}" if expression else ""
        msg = (
            f"{where}{shown} fails on a sample record ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())}); nothing was exported"
        )
        raise SettingError(msg) from None


def _culprit(stream: str, config: Mapping[str, t.Any], message: str) -> tuple[str, str]:
    """The property and expression an error message is about, if one can tell."""
    maps = config.get("stream_maps") or {}
    entries = maps.get(stream) if isinstance(maps, dict) else None
    if not isinstance(entries, dict):
        return "", ""
    expressions = {
        k: v for k, v in entries.items() if isinstance(v, str) and not k.startswith("__")
    }
    for prop, expression in expressions.items():
        if expression in message:
            return prop, expression
    if len(expressions) == 1:
        return next(iter(expressions.items()))
    return "", ""
