"""A ``--state`` file as users have them: a whole STATE message, or another tap's state."""

from __future__ import annotations

import logging
import typing as t

from tap_impact_clicks.runtime.errors import StateError
from tap_impact_clicks.runtime.wording import json_kind

logger = logging.getLogger("tap-impact-clicks")


def incoming_state(document: object, stream: str) -> dict[str, t.Any]:
    """Check a ``--state`` document before the SDK reads it, accepting what users have.

    A whole STATE message (``{"type": "STATE", "value": {…}}``, copied from a tap's output)
    is accepted for its ``value``. A state of another tap (bookmarks, none for this stream)
    is used with a warning: the sync starts from ``start_date``.

    Args:
        document: The decoded ``--state`` file.
        stream: This tap's stream name.

    Returns:
        The state to load.

    Raises:
        StateError: It is not a JSON object, or its ``bookmarks`` is not one.
    """
    if isinstance(document, dict) and document.get("type") == "STATE" and "value" in document:
        logger.info("State: the file is a whole STATE message; using its value.")
        document = document["value"]
    if not isinstance(document, dict):
        msg = f"state: the --state file holds a JSON {json_kind(document)}, not an object"
        raise StateError(msg)
    bookmarks = document.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        msg = f"state: 'bookmarks' is a JSON {json_kind(bookmarks)}, not an object"
        raise StateError(msg)
    if bookmarks and stream not in bookmarks:
        logger.warning(
            "State: bookmarks for %s, none for '%s' (the state of another tap?): starting "
            "from start_date.",
            ", ".join(repr(str(name)[:40]) for name in sorted(bookmarks)[:5]),
            stream,
        )
    for name, entry in bookmarks.items():
        if not isinstance(entry, dict):
            msg = f"state: bookmarks.{str(name)[:40]} is a JSON {json_kind(entry)}, not an object"
            raise StateError(msg)
    return document
