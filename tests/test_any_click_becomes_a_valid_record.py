"""Property tests: any impact.com-shaped click becomes a record the stream's SCHEMA accepts,
types and formats included; ``EventDate`` is the same instant, written in UTC (``+00:00``);
a value no type can hold is kept verbatim in ``extra_fields`` (absent when empty)."""

from __future__ import annotations

import datetime as dt
import typing as t
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tap_impact_clicks.results.records import Normaliser
from tap_impact_clicks.results.schema import (
    ALIASES,
    BOOLEAN_FIELDS,
    DATETIME_FIELDS,
    EXTRA_FIELDS,
    NESTED_GROUPS,
    NUMBER_FIELDS,
    REPLICATION_KEY,
    SCHEMA,
    STRING_FIELDS,
)

Click = dict[str, t.Any]
#: What impact.com sends for "missing" (README, "Records and keys"), in any case, padded or not.
PLACEHOLDERS = frozenset({"", "n/a", "na", "null"})
#: Checks "format" too: "date" (export_date) with the standard library, "date-time"
#: (EventDate) with rfc3339-validator (without it jsonschema skips "date-time" silently).
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
ZONES = ["America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "UTC"]
PLACEHOLDER = st.sampled_from(["", "n/a", "N/A", "NA", "na", "null", "NULL", "Null", " n/a "])
SCALAR = st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True),
                   st.booleans(), st.none(), PLACEHOLDER)  # fmt: skip
NUMBER_TEXT = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.integers(-(10**9), 10**9).map(lambda n: f"{n:,}"),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["$2.99", " 4 ", "3,5", "1e3", "lots", "-", "1_000", "1e999", "٣"]),
)
MOMENTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - naive bounds; zones are drawn below
    max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.one_of(st.none(), st.timezones()),
)
DATETIME_TEXT = MOMENTS.map(dt.datetime.isoformat)
BOOL_TEXT = st.sampled_from(["true", "false", "TRUE", "False", "1", "0", "yes", "no", "maybe"])
KNOWN = list(STRING_FIELDS + NUMBER_FIELDS + BOOLEAN_FIELDS + DATETIME_FIELDS)
TYPED = set(NUMBER_FIELDS + BOOLEAN_FIELDS + DATETIME_FIELDS)
#: Names an unknown field cannot have here (known, grouped, aliased, or the record's own).
NOT_EXTRA = {*KNOWN, *NESTED_GROUPS, *ALIASES, REPLICATION_KEY, EXTRA_FIELDS}


def field_value(name: str) -> st.SearchStrategy[object]:
    if name in NUMBER_FIELDS:
        return st.one_of(NUMBER_TEXT, PLACEHOLDER, SCALAR)
    if name in BOOLEAN_FIELDS:
        return st.one_of(BOOL_TEXT, PLACEHOLDER, SCALAR)
    if name in DATETIME_FIELDS:
        return st.one_of(DATETIME_TEXT, PLACEHOLDER, SCALAR)
    return st.one_of(st.text(max_size=40), PLACEHOLDER, SCALAR,
                     st.lists(st.integers(), max_size=3))  # fmt: skip


EXTRA_VALUE = st.one_of(SCALAR, st.dictionaries(st.text(max_size=5), SCALAR, max_size=2))


@st.composite
def clicks(draw: st.DrawFn, *, groups: bool = True) -> Click:
    names = draw(st.lists(st.sampled_from(KNOWN), unique=True, max_size=len(KNOWN)))
    click: Click = {name: draw(field_value(name)) for name in names}
    click["Id"] = draw(st.one_of(st.text(min_size=1, max_size=12), st.integers()))
    click["ProgramId"] = draw(st.one_of(st.text(min_size=1, max_size=8), st.integers(0, 99999)))
    for group in NESTED_GROUPS if groups else ():
        if draw(st.booleans()):
            inner = draw(st.lists(st.sampled_from(KNOWN), unique=True, max_size=5))
            members = {name: draw(field_value(name)) for name in inner}
            click[group] = [members] if draw(st.booleans()) else members  # v16: an array
    extra_names = st.text(min_size=1, max_size=10).filter(lambda k: k not in NOT_EXTRA)
    click.update(draw(st.dictionaries(extra_names, EXTRA_VALUE, max_size=3)))
    return click


def _placeholder(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in PLACEHOLDERS)


def _same(kept: object, sent: object) -> bool:
    """Kept verbatim (a NaN is not equal to itself: the very value, then)."""
    return kept is sent or kept == sent


def _typed(click: Click, zone: str | None = None) -> Click:
    return Normaliser(ZoneInfo(zone) if zone else None).normalise(dict(click), "2026-03-05")


def _record(click: Click, zone: str | None = None) -> Click:
    record = _typed(click, zone)
    # A click whose Id or ProgramId is missing or a placeholder cannot be keyed: the sync
    # stops on it with an error naming the date (tests/test_bad_input_*.py).
    assume(record["Id"] is not None and record["ProgramId"] is not None)
    return record


def _valid_record(**fields: object) -> dict[str, object]:
    return {"Id": "1", "ProgramId": "7", "export_date": "2026-03-05", **fields}


def test_the_format_checker_is_active() -> None:
    assert VALIDATOR.format_checker is not None
    assert {"date", "date-time"} <= set(VALIDATOR.format_checker.checkers)
    assert not list(VALIDATOR.iter_errors(_valid_record(EventDate="2026-11-10T12:00:00+00:00")))
    for bad in ("2026-11-10T12:00:00", "not a date", "2026-02-30T12:00:00Z", "2026-11-10"):
        errors = [e.message for e in VALIDATOR.iter_errors(_valid_record(EventDate=bad))]
        assert any("date-time" in message for message in errors), (bad, errors)
    for bad in ("2026-02-30", "2026-03-05T00:00:00Z", "yesterday"):
        assert list(VALIDATOR.iter_errors(_valid_record(export_date=bad))), bad


@settings(max_examples=150, deadline=None)
@given(clicks(), st.sampled_from([None, *ZONES]))
def test_any_click_becomes_a_valid_record(click: Click, zone: str | None) -> None:
    record = _record(click, zone)
    errors = [e.message for e in VALIDATOR.iter_errors(record)]
    assert not errors, (click, record, errors)
    assert record["export_date"] == "2026-03-05"
    assert record.get(EXTRA_FIELDS, None) != {}, "extra_fields is absent when empty"
    event = record.get("EventDate")
    if event is not None:
        assert event.endswith("+00:00"), event


@settings(max_examples=100, deadline=None)
@given(MOMENTS, st.sampled_from([None, *ZONES]))
def test_event_date_is_the_same_instant_in_utc(moment: dt.datetime, zone: str | None) -> None:
    record = _record({"Id": "1", "ProgramId": "7", "EventDate": moment.isoformat()}, zone)
    # Sent without an offset: read in the account's timezone (UTC when none is set).
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone or "UTC"), fold=0)
    assert record["EventDate"] == aware.astimezone(dt.timezone.utc).isoformat()
    assert EXTRA_FIELDS not in record


@settings(max_examples=100, deadline=None)
@given(clicks(groups=False))
def test_a_value_no_type_can_hold_is_kept_in_extra_fields(click: Click) -> None:
    record = _record(click)
    extra = record.get(EXTRA_FIELDS, {})
    for name in TYPED & click.keys():
        sent = click[name]
        if _placeholder(sent):
            assert record[name] is None
            assert name not in extra
        elif record[name] is None:
            assert _same(extra[name], sent), (name, sent)
        else:
            assert name not in extra
    for name in click.keys() - set(KNOWN):  # unknown fields: kept, a placeholder as null
        sent = click[name]
        assert _same(extra[name], sent) or (extra[name] is None and _placeholder(sent))


@pytest.mark.parametrize(
    ("sent", "zone", "utc"),
    [
        ("2026-11-10T12:00:00", None, "2026-11-10T12:00:00+00:00"),
        ("2026-11-10T12:00:00", "Asia/Tokyo", "2026-11-10T03:00:00+00:00"),
        ("2026-11-10T12:00:00Z", "Asia/Tokyo", "2026-11-10T12:00:00+00:00"),
        ("2026-03-05T10:00:00-05:00", None, "2026-03-05T15:00:00+00:00"),
        ("2026-03-05 10:00:00.1234567+0530", None, "2026-03-05T04:30:00.123456+00:00"),
    ],
)
def test_event_dates_as_sent_and_in_utc(sent: str, zone: str | None, utc: str) -> None:
    record = _typed({"Id": "1", "ProgramId": "7", "EventDate": sent}, zone)
    assert record["EventDate"] == utc


@pytest.mark.parametrize(
    ("sent", "zone"),
    [
        # A date without a time.
        ("2026-11-10", None),
        # The shape of an RFC 3339 date-time, but no such day or time.
        ("2026-02-30T12:00:00Z", None),
        ("2026-13-05T10:00:00Z", None),
        ("2026-03-05T25:00:00Z", "UTC"),
        ("2026-03-05T10:61:00+01:00", None),
        ("2026-03-05T10:00:00+24:00", None),
        ("2026-13-45T99:99:99+01:00", "UTC"),
        ("9999-12-31T23:59:59-01:00", None),  # past year 9999 in UTC
    ],
)
def test_date_times_no_instant_matches_are_kept_aside_never_emitted(
    sent: str, zone: str | None
) -> None:
    record = _typed({"Id": "1", "ProgramId": "7", "EventDate": sent}, zone)
    assert not [e.message for e in VALIDATOR.iter_errors(record)], (sent, record)
    assert record["EventDate"] is None
    assert record[EXTRA_FIELDS] == {"EventDate": sent}
