"""Routing: which endpoint a request is for, its credentials, and its query's values.

The Jobs list's bounds are read as an ISO date or date-time either way; with the vendor's
strictness on, their form must be the documented one: a date (``YYYY-MM-DD``) for the
partner API, an ISO 8601 date-time for the brand API.
"""

from __future__ import annotations

import base64
import datetime as dt
import re

from tap_impact_clicks.sandbox.jobs import ACCOUNT_TZ

#: Where the API's 302 sends downloads (another host name, no credentials).
SIGNED_PREFIX = "/signed/"
#: The calls report (no auth; not counted).
REPORT_PATH = "/_sandbox/calls"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` header value.

    Args:
        user: The user (Account SID).
        password: The password (Auth Token).

    Returns:
        The header value.
    """
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def endpoint_of(method: str, parts: list[str]) -> str | None:
    """Which endpoint a request is for.

    Args:
        method: GET or PUT.
        parts: The path's segments.

    Returns:
        ClickExport, JobList, JobStatus, Download, Replay or CompanyInformation; None when
        there is no such one.
    """
    if len(parts) < 3 or parts[0] not in {"Mediapartners", "Advertisers"}:
        return None
    brand = parts[0] == "Advertisers"
    if method == "GET" and len(parts) == 3 and parts[2] == "CompanyInformation":
        return "CompanyInformation"
    if method == "GET" and not brand and len(parts) == 3 and parts[2] == "ClickExport":
        return "ClickExport"
    if method == "GET" and brand and len(parts) == 5 and parts[2] == "Programs":
        return "ClickExport" if parts[4] == "ClickExport" else None
    if parts[2] != "Jobs":
        return None
    if method == "GET" and len(parts) == 3:
        return "JobList"
    if method == "GET" and len(parts) == 4:
        return "JobStatus"
    if method == "GET" and len(parts) == 5 and parts[4] == "Download":
        return "Download"
    if method == "PUT" and len(parts) == 5 and parts[4] == "Replay":
        return "Replay"
    return None


def created_bound(text: str) -> dt.datetime | None:
    """Read a Jobs-list bound (``CreatedAfter``, ``CreatedBefore``): an ISO date or datetime.

    Without an offset it is in the account's time zone, as job dates are shown (an
    assumption: impact.com does not say).

    Args:
        text: The parameter's value ("" for none).

    Returns:
        The moment, or None.

    Raises:
        ValueError: Not an ISO date or datetime.
    """
    if not text:
        return None
    # An unencoded "+" of an offset arrives as a space; Python 3.10 does not read "Z".
    text = re.sub(r"(\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$", r"\1+\2", text)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ACCOUNT_TZ)


def bound_form_ok(text: str, *, brand: bool) -> bool:
    """Whether a Jobs-list bound has the documented form (an empty one has).

    Args:
        text: The bound ("" for none).
        brand: For the brand API (a date-time) rather than the partner API (a date).

    Returns:
        True when the form is right.
    """
    if not text:
        return True
    if brand:
        return "T" in text and _DATE.match(text) is not None
    return _DATE.fullmatch(text) is not None
