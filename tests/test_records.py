"""Record normalisation: types, placeholders, nesting, unknown fields."""

from __future__ import annotations

import datetime as dt
import json

from tap_impact_clicks.records import Normaliser
from tests.helpers import base_config, run_tap


def test_strings_become_json_types():
    record = Normaliser(None).normalise(
        {
            "Id": 123,
            "ProgramId": "1001",
            "ProgramName": "Acme",
            "EventDate": "2022-06-07T04:33:50-05:00",
            "Payout": "2.99",
            "CpcBid": "1,250.50",
            "UniqueClick": "TRUE",
        },
        "2022-06-07",
    )
    assert record == {
        "Id": "123",
        "ProgramId": "1001",
        "ProgramName": "Acme",
        "EventDate": "2022-06-07T04:33:50-05:00",
        "Payout": 2.99,
        "CpcBid": 1250.5,
        "UniqueClick": True,
        "export_date": "2022-06-07",
    }


def test_placeholders_become_null_but_namibia_stays():
    record = Normaliser(None).normalise(
        {
            "Id": "1",
            "ProgramId": "7",
            "CustomerCity": "null",
            "CustomerRegion": "n/a",
            "ReferringDomain": "",
            "SubId2": "NA",
            "Payout": "N/A",
            "UniqueClick": "",
            "EventDate": "null",
            "CustomerCountry": "NA",
        },
        "2026-03-05",
    )
    for key in ("CustomerCity", "CustomerRegion", "ReferringDomain", "SubId2", "Payout",
                "UniqueClick", "EventDate", "ProgramName"):  # fmt: skip
        assert record[key] is None, key
    assert record["CustomerCountry"] == "NA"


def test_nested_groups_are_flattened_and_unknown_fields_kept():
    record = Normaliser(None).normalise(
        {
            "Id": "1",
            "ProgramId": "7",
            "PartnerRelated": {"SubId1": "abc", "SubId2": "n/a", "Novel": "x"},
            "BrandRelated": {"AdCampaign": "Spring", "Keyword": "boots"},
            "LoyaltyTier": "gold",
            "Payout": "lots",
        },
        "2026-03-05",
    )
    assert record["SubId1"] == "abc"
    assert record["SubId2"] is None
    assert record["AdCampaign"] == "Spring"
    assert record["Keyword"] == "boots"
    assert record["extra_fields"] == {"Novel": "x", "LoyaltyTier": "gold", "Payout": "lots"}
    assert record["Payout"] is None


def test_datetimes_keep_or_gain_an_offset():
    normaliser = Normaliser(dt.timezone(dt.timedelta(hours=-5)))
    record = normaliser.normalise(
        {"Id": "1", "ProgramId": "7", "EventDate": "2022-06-07 04:33:50"}, "d"
    )
    assert record["EventDate"] == "2022-06-07T04:33:50-05:00"
    record = normaliser.normalise(
        {"Id": "1", "ProgramId": "7", "EventDate": "2022-06-07T09:33:50Z"}, "d"
    )
    assert record["EventDate"] == "2022-06-07T09:33:50Z"


def test_number_formats():
    n = Normaliser(None)
    values = {"1000": 1000, " 2.5 ": 2.5, "$3.10": 3.1, "2,99": 2.99, "1.5E3": 1500.0, "-4": -4}
    for raw, expected in values.items():
        assert n.normalise({"Id": "1", "ProgramId": "7", "Payout": raw}, "d")["Payout"] == expected


def test_synced_records_match_the_schema_types(make_sandbox):
    box = make_sandbox()
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05"))
    assert run.records
    for record in run.records:
        assert isinstance(record["UniqueClick"], bool)
        assert record["Payout"] is None or isinstance(record["Payout"], (int, float))
        assert dt.datetime.fromisoformat(record["EventDate"]).utcoffset() is not None
        assert record["export_date"] == "2026-03-05"
    assert any("extra_fields" in r for r in run.records)
    assert any(r.get("CustomerCountry") == "NA" for r in run.records)
    assert any(r.get("SubId1") for r in run.records if "PartnerRelated" not in r)


def test_flattening_declares_every_key_and_keeps_unknown_fields(make_sandbox):
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-05",
                         flattening_enabled=True, flattening_max_depth=3)  # fmt: skip
    run = run_tap(config)
    assert run.error is None
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]["properties"]
    assert schema["extra_fields"]["type"] == ["string", "null"]
    for record in run.records:
        assert set(record) <= set(schema), set(record) - set(schema)
    kept = [r["extra_fields"] for r in run.records if r.get("extra_fields")]
    assert kept, "the sandbox sends LoyaltyTier, which the schema does not know"
    assert all(json.loads(k) == {"LoyaltyTier": "gold"} for k in kept)
