"""Every field of every click loads, whatever API version shapes the answers.

The sandbox answers as the vendor's OpenAPI documents show: partner v16 (``PartnerRelated`` an
array of objects, ``MediaId``/``AdId`` integers, ``UniqueClick`` a boolean, ``Payout`` a decimal
string, sometimes ``CampaignId`` instead of ``ProgramId``; job objects with JSON numbers and
booleans, UUID ids, unset dates as ``""``, ``null`` or absent; results as
``application/octet-stream``; job answers in XML unless JSON is accepted), brand v14 (both
groups objects, ``Payout`` a number), and the older flat shapes. The expected record of each
click is computed here from the click as served, by the rules the README states.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from decimal import Decimal

import pytest

from tap_impact_clicks.sandbox import Sandbox
from tests.helpers import base_config, run_tap

DAYS = [dt.date(2026, 3, 5), dt.date(2026, 3, 6)]
PROGRAMS = ["1001", "1002"]
GROUPS = ("PartnerRelated", "BrandRelated")
PLACEHOLDERS = {"", "n/a", "na", "null"}
MakeSandbox = t.Callable[..., Sandbox]


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


def _check_every_field(records: list[dict[str, t.Any]], box: Sandbox, *, brand: bool,
                       version: int | None) -> int:  # fmt: skip
    by_key = {(r["Id"], r["ProgramId"], r["export_date"]): r for r in records}
    assert len(by_key) == len(records), "no click twice"
    checked = 0
    for day in DAYS:
        params_of = [{"ProgramId": [p]} for p in PROGRAMS] if brand else [{}]
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


@pytest.mark.parametrize("pinned", [False, True], ids=["account-setting", "api_version-pinned"])
def test_partner_v16_answers_load_every_field_of_every_click(
    make_sandbox: MakeSandbox, pinned: bool
) -> None:
    box = make_sandbox(latency=5, page_size=40, api_version=None if pinned else 16)
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-06",
                         api_version=16 if pinned else None)  # fmt: skip
    run = run_tap(config)
    assert run.error is None, run.error
    assert _check_every_field(run.records, box, brand=False, version=16) > 100
    assert any(r.get("SubId1") for r in run.records), "the sub ids partners rely on"
    assert all(r["EventDate"].endswith("+00:00") for r in run.records)


def test_brand_v14_answers_load_every_field_of_every_click(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=5, page_size=40, api_version=16)  # brand: 16 - 2 = v14
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-06",
                         account_type="brand", program_ids=PROGRAMS)  # fmt: skip
    run = run_tap(config)
    assert run.error is None, run.error
    assert _check_every_field(run.records, box, brand=True, version=14) > 50
    assert any(r.get("AdCampaign") for r in run.records)


def test_older_flat_answers_load_every_field_of_every_click(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=5, page_size=40, api_version=15)
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-06"))
    assert run.error is None, run.error
    assert _check_every_field(run.records, box, brand=False, version=15) > 100
