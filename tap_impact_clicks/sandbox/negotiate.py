"""Content negotiation as documented: ``Accept`` decides JSON or XML job answers, and 406.

With the vendor's strictness on, job answers (ClickExport, Jobs, the Jobs list, Replay,
Download 202) are JSON only when ``Accept`` names ``application/json``; with ``*/*`` alone,
or no ``Accept``, they come back as XML with the same element names. A Download's result
needs an ``Accept`` that admits ``application/octet-stream`` (or ``*/*``).
"""

from __future__ import annotations

import typing as t
from xml.sax.saxutils import escape

XML_TYPE = "application/xml"
_ROOT = "ImpactRadiusResponse"


def media_ranges(accept: str | None) -> dict[str, float]:
    """An ``Accept`` header's media ranges and their quality (none sent: ``*/*``).

    Args:
        accept: The header's value.

    Returns:
        Lower-cased media range -> q.
    """
    if accept is None or not accept.strip():
        return {"*/*": 1.0}
    ranges: dict[str, float] = {}
    for item in accept.split(","):
        kind, *options = (part.strip() for part in item.split(";"))
        quality = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if kind:
            ranges[kind.lower()] = quality
    return ranges


def wants_json(accept: str | None) -> bool:
    """Whether a job answer is JSON: ``application/json`` is named (``*/*`` alone: XML).

    Args:
        accept: The ``Accept`` header.

    Returns:
        True for JSON.
    """
    return media_ranges(accept).get("application/json", 0.0) > 0


def admits_octet_stream(accept: str | None) -> bool:
    """Whether a result (application/octet-stream) may be sent.

    Args:
        accept: The ``Accept`` header.

    Returns:
        False when it admits neither application/octet-stream nor ``*/*`` (a 406).
    """
    ranges = media_ranges(accept)
    names = ("application/octet-stream", "application/*", "*/*")
    return any(ranges.get(name, 0.0) > 0 for name in names)


def to_xml(body: dict[str, t.Any]) -> bytes:
    """A job answer as impact.com's XML: the JSON's names as elements.

    Lists repeat their items under the singular of their name (``Jobs`` -> ``Job``); a job
    answer's fields are wrapped in ``Job`` when the answer is one job.

    Args:
        body: The JSON answer.

    Returns:
        The XML document.
    """
    inner = {"Job": body} if "Type" in body and "Id" in body else body
    text = "".join(_element(name, value) for name, value in inner.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{_ROOT}>{text}</{_ROOT}>'.encode()


def _element(name: str, value: object) -> str:
    if isinstance(value, dict):
        inner = "".join(_element(key, item) for key, item in value.items())
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, list):
        single = name[:-1] if name.endswith("s") and len(name) > 1 else "Item"
        return f"<{name}>{''.join(_element(single, item) for item in value)}</{name}>"
    if value is None:
        return f"<{name} />"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"
