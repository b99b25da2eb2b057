"""Property tests: any impact.com-shaped click becomes a record valid for the stream schema."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tap_impact_clicks.results.records import (
    BOOLEAN_FIELDS,
    DATETIME_FIELDS,
    NUMBER_FIELDS,
    SCHEMA,
    STRING_FIELDS,
    Normaliser,
)

#: Checks "format" too: "date" (export_date) with the standard library, "date-time"
#: (EventDate) with rfc3339-validator (without it jsonschema skips "date-time" silently).
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
PLACEHOLDER = st.sampled_from(["", "n/a", "N/A", "NA", "na", "null", "NULL", "Null"])
SCALAR = st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True),
                   st.booleans(), st.none(), PLACEHOLDER)  # fmt: skip
NUMBER_TEXT = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.integers(-(10**9), 10**9).map(lambda n: f"{n:,}"),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["$2.99", " 4 ", "3,5", "1e3", "lots", "-", "1_000"]),
)
DATETIME_TEXT = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - naive bounds; zones are drawn below
    max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.one_of(st.none(), st.timezones()),
).map(dt.datetime.isoformat)
BOOL_TEXT = st.sampled_from(["true", "false", "TRUE", "False", "1", "0", "yes", "no", "maybe"])


def field_value(name: str) -> st.SearchStrategy[object]:
    if name in NUMBER_FIELDS:
        return st.one_of(NUMBER_TEXT, PLACEHOLDER, SCALAR)
    if name in BOOLEAN_FIELDS:
        return st.one_of(BOOL_TEXT, PLACEHOLDER, SCALAR)
    if name in DATETIME_FIELDS:
        return st.one_of(DATETIME_TEXT, PLACEHOLDER, SCALAR)
    return st.one_of(st.text(max_size=40), PLACEHOLDER, SCALAR,
                     st.lists(st.integers(), max_size=3))  # fmt: skip


KNOWN = list(STRING_FIELDS + NUMBER_FIELDS + BOOLEAN_FIELDS + DATETIME_FIELDS)


@st.composite
def clicks(draw: st.DrawFn) -> dict[str, object]:
    names = draw(st.lists(st.sampled_from(KNOWN), unique=True, max_size=len(KNOWN)))
    click: dict[str, object] = {name: draw(field_value(name)) for name in names}
    click["Id"] = draw(st.one_of(st.text(min_size=1, max_size=12), st.integers()))
    click["ProgramId"] = draw(st.one_of(st.text(min_size=1, max_size=8), st.integers(0, 99999)))
    for group in ("PartnerRelated", "BrandRelated"):
        if draw(st.booleans()):
            inner = draw(st.lists(st.sampled_from(KNOWN), unique=True, max_size=5))
            click[group] = {name: draw(field_value(name)) for name in inner}
    extras = draw(st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda k: k not in KNOWN),
                                  st.one_of(SCALAR, st.dictionaries(st.text(max_size=5), SCALAR,
                                                                    max_size=2)),
                                  max_size=3))  # fmt: skip
    click.update(extras)
    return click


def _valid_record(**fields: object) -> dict[str, object]:
    return {"Id": "1", "ProgramId": "7", "export_date": "2026-03-05", **fields}


def test_the_format_checker_is_active():
    assert {"date", "date-time"} <= set(VALIDATOR.format_checker.checkers)
    assert not list(VALIDATOR.iter_errors(_valid_record(EventDate="2026-11-10T12:00:00Z")))
    assert not list(VALIDATOR.iter_errors(_valid_record(EventDate="2026-11-10T12:00:00-05:00")))
    for bad in ("2026-11-10T12:00:00", "not a date", "2026-02-30T12:00:00Z", "2026-11-10"):
        errors = [e.message for e in VALIDATOR.iter_errors(_valid_record(EventDate=bad))]
        assert errors, bad
        assert any("date-time" in message for message in errors), errors
    for bad in ("2026-02-30", "2026-03-05T00:00:00Z", "yesterday"):
        assert list(VALIDATOR.iter_errors(_valid_record(export_date=bad))), bad


@settings(max_examples=300, deadline=None)
@given(clicks())
def test_any_click_becomes_a_valid_record(click):
    record = Normaliser(None).normalise(dict(click), "2026-03-05")
    # A click whose Id or ProgramId is missing or a placeholder cannot be keyed: the sync
    # stops on it with an error naming the date (tests/test_bad_input.py).
    assume(record["Id"] is not None and record["ProgramId"] is not None)
    errors = [e.message for e in VALIDATOR.iter_errors(record)]
    assert not errors, (click, record, errors)
    assert record["export_date"] == "2026-03-05"
    if isinstance(click.get("EventDate"), str) and record.get("EventDate"):
        dt.datetime.fromisoformat(record["EventDate"].replace("Z", "+00:00"))


@settings(max_examples=100, deadline=None)
@given(clicks(), st.sampled_from(["America/New_York", "Asia/Tokyo", "UTC"]))
def test_naive_datetimes_gain_the_account_offset(click, zone):
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    record = Normaliser(ZoneInfo(zone)).normalise(dict(click), "2026-03-05")
    assume(record["Id"] is not None and record["ProgramId"] is not None)
    assert not list(VALIDATOR.iter_errors(record))
    value = record.get("EventDate")
    if value:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    ("sent", "zone"),
    [
        # No offset: read in the configured timezone, or UTC when none is set.
        ("2026-11-10T12:00:00", None),
        ("2026-11-10", None),
        ("2026-11-10T12:00:00", "Asia/Tokyo"),
        # The shape of an RFC 3339 date-time, but no such day or time.
        ("2026-02-30T12:00:00Z", None),
        ("2026-13-05T10:00:00Z", None),
        ("2026-03-05T25:00:00Z", "UTC"),
        ("2026-03-05T10:61:00+01:00", None),
        ("2026-03-05T10:00:00+24:00", None),
        ("2026-13-45T99:99:99+01:00", "UTC"),
        # An offset with seconds: RFC 3339 offsets have none.
        ("2026-11-10T12:00:00+05:30:15", None),
    ],
)
def test_date_times_the_schema_rejects_are_never_emitted(sent, zone):
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    normaliser = Normaliser(ZoneInfo(zone) if zone else None)
    record = normaliser.normalise({"Id": "1", "ProgramId": "7", "EventDate": sent}, "2026-03-05")
    errors = [e.message for e in VALIDATOR.iter_errors(record)]
    assert not errors, (sent, record)
    # Either a valid date-time, or None with what was sent kept verbatim.
    assert record["EventDate"] is not None or record["extra_fields"] == {"EventDate": sent}
