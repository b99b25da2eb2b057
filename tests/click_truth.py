"""The record each served click must become, by the rules the README states.

Computed here from the click as the sandbox served it (in any API version's shape), apart
from the tap's code: the fields a record must hold, and what ``extra_fields`` must keep.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from decimal import Decimal

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from tap_impact_clicks.sandbox import Sandbox

GROUPS = ("PartnerRelated", "BrandRelated")
PLACEHOLDERS = {"", "n/a", "na", "null"}


def _missing(field: str, value: object) -> bool:
    if value is None:
        return True
    text = str(value).strip()
    return (
        isinstance(value, str)
        and text.lower() in PLACEHOLDERS
        and not (field == "CustomerCountry" and text == "NA")
    )


def _expected_value(field: str, value: object) -> object:
    if _missing(field, value):
        return None
    if field == "EventDate":
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return moment.astimezone(dt.timezone.utc).isoformat()
    if field in {"Payout", "CpcBid"}:
        number = Decimal(str(value).replace(",", ""))
        return (
            int(number)
            if number == number.to_integral() and "." not in str(value)
            else float(number)
        )
    if field == "UniqueClick":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return value if isinstance(value, str) else str(value)


def _expected(click: dict[str, t.Any], day: dt.date) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """(the fields the record must hold, the values extra_fields must hold) of one click."""
    fields: dict[str, t.Any] = {}
    extra: dict[str, t.Any] = {}
    for key, value in click.items():
        if key in GROUPS:
            objects = value if isinstance(value, list) else [value]
            if len(objects) > 1:
                extra[key] = value
            for name, inner in (objects[0] if objects else {}).items():
                fields.setdefault(name, _expected_value(name, inner))
        elif key in {"CampaignId", "CampaignName"}:
            fields["Program" + key[len("Campaign") :]] = _expected_value(key, value)
        elif key == "LoyaltyTier":
            extra[key] = value
        else:
            fields[key] = _expected_value(key, value)
    fields["export_date"] = day.isoformat()
    return fields, extra


def check_every_field(
    records: list[dict[str, t.Any]],
    box: Sandbox,
    *,
    days: Iterable[dt.date],
    programs: list[str],
    brand: bool,
    version: int | None,
) -> int:
    """Every record equals the click served, field by field; no click missing or extra.

    Returns:
        The clicks checked.
    """
    by_key = {(r["Id"], r["ProgramId"], r["export_date"]): r for r in records}
    assert len(by_key) == len(records), "no click twice"
    checked = 0
    for day in days:
        params_of = [{"ProgramId": [p]} for p in programs] if brand else [{}]
        for params in params_of:
            for click in box.truth(day, params, brand=brand, api_version=version):
                fields, extra = _expected(click, day)
                program = fields.get("ProgramId") or params["ProgramId"][0]
                record = by_key.pop((str(click["Id"]), program, day.isoformat()))
                for name, value in fields.items():
                    assert record.get(name) == value, (name, click, record)
                assert record.get("extra_fields", {}) == extra, (click, record)
                checked += 1
    assert not by_key, "no click the sandbox did not serve"
    return checked
