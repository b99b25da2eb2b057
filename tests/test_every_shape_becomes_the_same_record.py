"""A click becomes the same flat, typed record whatever shape impact.com sends it in.

Partner v16 sends ``PartnerRelated`` as an array of objects and ``BrandRelated`` as an array;
brand v14 sends both as objects; older versions send the members flat. Values come typed as
the specs type them or as strings. Every value lands in its field or in ``extra_fields``:
none is lost, none is emitted against the schema.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import pytest

from tap_impact_clicks.results.records import Normaliser, ensure_keys
from tap_impact_clicks.runtime.errors import DataError
from tests.helpers import base_config, run_tap

EST = dt.timezone(dt.timedelta(hours=-5))
SUBS = {"SubId1": "storm", "SubId2": "spring2026", "SubId3": ""}
BRAND = {"AdCampaign": "Spring", "AdGroup": "Boots", "Keyword": "boots", "MatchType": "BROAD",
         "Channel": "GOOGLE_SHOPPING"}  # fmt: skip


def _record(click: dict[str, t.Any], zone: dt.tzinfo | None = None) -> dict[str, t.Any]:
    base = {"Id": "abc1", "ProgramId": "3629"}
    return Normaliser(zone).normalise({**base, **click}, "2026-03-05")


@pytest.mark.parametrize(
    "click",
    [
        {"PartnerRelated": [SUBS], "BrandRelated": [BRAND]},  # partner v16: arrays of objects
        {"PartnerRelated": SUBS, "BrandRelated": BRAND},  # brand v14: objects
        {**SUBS, **BRAND},  # older versions: flat
    ],
    ids=["v16-arrays", "v14-objects", "flat"],
)
def test_the_same_record_from_every_documented_shape(click: dict[str, t.Any]) -> None:
    record = _record(click)
    assert record["SubId1"] == "storm"
    assert record["SubId2"] == "spring2026"
    assert record["SubId3"] is None  # "" is a placeholder
    for name, value in BRAND.items():
        assert record[name] == value
    assert "extra_fields" not in record


def test_an_empty_array_is_nothing() -> None:
    record = _record({"PartnerRelated": [], "BrandRelated": [], "SubId1": "a"})
    assert record["SubId1"] == "a"
    assert "extra_fields" not in record


def test_an_array_with_several_objects_loses_no_value() -> None:
    second = {"SubId1": "rain", "SubId2": "autumn"}
    record = _record({"PartnerRelated": [SUBS, second]})
    assert record["SubId1"] == "storm"  # the first object fills the fields
    assert record["extra_fields"] == {"PartnerRelated": [SUBS, second]}  # every object kept


def test_a_flat_value_wins_and_a_different_nested_one_is_kept() -> None:
    record = _record({"SubId1": "flat", "PartnerRelated": {"SubId1": "nested", "SubId2": "x"}})
    assert record["SubId1"] == "flat"
    assert record["SubId2"] == "x"
    assert record["extra_fields"] == {"PartnerRelated.SubId1": "nested"}


def test_a_flat_namibia_is_not_overwritten_by_a_nested_group() -> None:
    record = _record({"CustomerCountry": "NA", "BrandRelated": {"CustomerCountry": "US"}})
    assert record["CustomerCountry"] == "NA"
    assert record["extra_fields"] == {"BrandRelated.CustomerCountry": "US"}


def test_a_name_clash_in_extra_fields_keeps_both_values() -> None:
    record = _record({"Novel": "top", "PartnerRelated": {"Novel": "nested"}})
    assert record["extra_fields"] == {"Novel": "top", "Novel#2": "nested"}


def test_campaign_fields_fill_the_program_fields() -> None:
    record = Normaliser(None).normalise(
        {"Id": "1", "CampaignId": 27154, "CampaignName": "Capsule Corp"}, "2026-03-05"
    )
    ensure_keys(record, "2026-03-05", None)
    assert (record["ProgramId"], record["ProgramName"]) == ("27154", "Capsule Corp")
    assert "extra_fields" not in record


def test_values_typed_as_the_specs_type_them() -> None:
    v16 = _record({"MediaId": 1924609, "AdId": 3061348, "UniqueClick": True, "Payout": "5.00",
                   "CpcBid": ""})  # fmt: skip
    assert (v16["MediaId"], v16["AdId"], v16["UniqueClick"]) == ("1924609", "3061348", True)
    assert (v16["Payout"], v16["CpcBid"]) == (5.0, None)
    v14 = _record({"Payout": 5.0, "UniqueClick": "true", "CpcBid": "0.0"})
    assert (v14["Payout"], v14["UniqueClick"], v14["CpcBid"]) == (5.0, True, 0.0)


def test_strings_become_json_types() -> None:
    record = _record({"Id": 123, "EventDate": "2022-06-07T04:33:50-05:00", "Payout": "2.99",
                      "CpcBid": "1,250.50", "UniqueClick": "TRUE"})  # fmt: skip
    assert record == {
        "Id": "123", "ProgramId": "3629", "ProgramName": None,
        "EventDate": "2022-06-07T09:33:50+00:00", "Payout": 2.99, "CpcBid": 1250.5,
        "UniqueClick": True, "export_date": "2026-03-05",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2022-06-07T04:33:50-05:00", "2022-06-07T09:33:50+00:00"),
        ("2022-06-07T09:33:50Z", "2022-06-07T09:33:50+00:00"),
        ("2022-06-07 04:33:50", "2022-06-07T09:33:50+00:00"),  # naive: read in timezone
        ("2022-06-07T04:33:50.5-0500", "2022-06-07T09:33:50.500000+00:00"),
        ("2022-06-07T04:33:50-05:00:30", "2022-06-07T09:34:20+00:00"),
        ("2022-06-07T09:33:50Z\n", "2022-06-07T09:33:50+00:00"),  # whitespace around it
    ],
)
def test_event_date_is_written_in_utc(sent: str, utc: str) -> None:
    assert _record({"EventDate": sent}, EST)["EventDate"] == utc


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Payout", "²"),  # isdigit() is true, int() refuses
        ("Payout", "①"),
        ("Payout", "٣"),  # Arabic-Indic digits
        ("Payout", "9" * 4301),
        ("Payout", float("inf")),
        ("Payout", True),
        ("CpcBid", "lots"),
        ("UniqueClick", "maybe"),
        ("EventDate", "9999-12-31T23:59:59-00:00:01"),  # after year 9999 in UTC
        ("EventDate", "0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
        ("EventDate", "0000-01-01T00:00:00Z"),
        ("EventDate", "2026-02-30T00:00:00Z"),
        ("EventDate", "٢٠٢٦-03-05T00:00:00Z"),
        ("EventDate", 20260305),
    ],
)
def test_a_value_no_type_can_hold_goes_to_extra_fields(field: str, value: object) -> None:
    normaliser = Normaliser(None)
    record = normaliser.normalise({"Id": "1", "ProgramId": "7", field: value}, "2026-03-05")
    assert record[field] is None
    assert record["extra_fields"] == {field: value}
    assert normaliser.unparsable == {field: 1}


def test_placeholders_become_null_but_namibia_stays() -> None:
    record = _record({"CustomerCity": "null", "CustomerRegion": "n/a", "ReferringDomain": "",
                      "SubId2": "NA", "Payout": "N/A", "UniqueClick": "", "EventDate": "null",
                      "CustomerCountry": "NA"})  # fmt: skip
    for key in ("CustomerCity", "CustomerRegion", "ReferringDomain", "SubId2", "Payout",
                "UniqueClick", "EventDate", "ProgramName"):  # fmt: skip
        assert record[key] is None, key
    assert record["CustomerCountry"] == "NA"


def test_number_formats() -> None:
    values = {"1000": 1000, " 2.5 ": 2.5, "$3.10": 3.1, "2,99": 2.99, "1.5E3": 1500.0, "-4": -4}
    for raw, expected in values.items():
        assert _record({"Payout": raw})["Payout"] == expected


def test_a_click_without_a_program_stops_the_day_naming_it() -> None:
    record = _record({"ProgramId": None})
    with pytest.raises(DataError, match=r"^2026-03-05: a click \(Id 'abc1'\) has no ProgramId"):
        ensure_keys(record, "2026-03-05", None)
    ensure_keys(record, "2026-03-05", "1001")  # a single program filter says which
    assert record["ProgramId"] == "1001"


def test_synced_records_match_the_schema_types(make_sandbox: t.Any) -> None:
    box = make_sandbox()
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05"))
    assert run.records
    for record in run.records:
        assert isinstance(record["UniqueClick"], bool)
        assert record["Payout"] is None or isinstance(record["Payout"], (int, float))
        assert record["EventDate"].endswith("+00:00")
        assert record["export_date"] == "2026-03-05"
        assert "extra_fields" not in record or record["extra_fields"]
    assert any("extra_fields" in r for r in run.records)
    assert any(r.get("CustomerCountry") == "NA" for r in run.records)


def test_flattening_declares_every_key_and_keeps_unknown_fields(make_sandbox: t.Any) -> None:
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
