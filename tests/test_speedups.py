"""The C typing of common clicks (tap_impact_clicks/_speedups.c) gives the Python records."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from hypothesis import given, settings

from tap_impact_clicks import records
from tap_impact_clicks.records import Normaliser
from tap_impact_clicks.sandbox import ClickFactory
from tests.test_properties import clicks

DAY = "2026-03-05"


def both(click: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """The record typed in C (where it can) and the record typed in Python only."""
    fast, slow = Normaliser(None), Normaliser(None, accelerated=False)
    fast_record = fast.normalise(copy.deepcopy(click), DAY)
    slow_record = slow.normalise(copy.deepcopy(click), DAY)
    assert fast.unparsable == slow.unparsable
    return fast_record, slow_record


def test_the_c_typing_is_built():
    # setup.py builds it as an optional extension: a build without a C compiler goes on
    # without it, silently. CI has one, so a lost build fails here.
    assert records.type_flat is not None
    assert records.c_lift is not None


@pytest.mark.parametrize(
    ("field", "sent", "typed"),
    [
        ("Payout", "2.50", 2.5),
        ("Payout", "1000", 1000),
        ("Payout", "0001", 1),
        ("CpcBid", "1,250.50", 1250.5),
        ("CpcBid", "1,250", 1250),
        ("CpcBid", "12,345,678", 12345678),
        ("CpcBid", "12,50", 12.5),  # a decimal comma: read in Python
        ("CpcBid", "1,25,0", None),  # neither: unparsable
        ("Payout", ".5", 0.5),
        ("Payout", "5.", 5.0),
        ("Payout", "-1", -1.0),
        ("Payout", "$2.99", 2.99),
        ("Payout", " 4 ", 4),
        ("Payout", "n/a", None),
        ("Payout", "N/A", None),
        ("Payout", "", None),
        ("Payout", "1e3", 1000.0),
        ("Payout", "1_000", None),
        ("Payout", "٣", 3),  # an Arabic-Indic digit: str.isdigit() says yes
        ("Payout", 2.5, 2.5),
        ("UniqueClick", "true", True),
        ("UniqueClick", "FALSE", False),
        ("UniqueClick", "True", True),
        ("UniqueClick", "yes", True),
        ("UniqueClick", "nUlL", None),
        ("UniqueClick", "maybe", None),
        ("EventDate", "2026-03-05T10:00:00-05:00", "2026-03-05T10:00:00-05:00"),
        ("EventDate", "2024-02-29T10:00:00Z", "2024-02-29T10:00:00Z"),
        ("EventDate", "2026-03-05T10:00:00.123456+01:00", "2026-03-05T10:00:00.123456+01:00"),
        ("EventDate", "2026-03-05T10:00:00", "2026-03-05T10:00:00+00:00"),
        ("EventDate", "2023-02-29T10:00:00Z", None),
        ("EventDate", "2026-03-05T10:00:00.1234567Z", ...),  # as this Python's fromisoformat
        ("EventDate", "2026-03-05T10:00:00-05:00\n", "2026-03-05T10:00:00-05:00\n"),
        ("EventDate", "0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"),
        ("EventDate", "2026-03-05t10:00:00z", "2026-03-05T10:00:00+00:00"),
        ("CustomerCountry", "NA", "NA"),
        ("CustomerCountry", "na", None),
        ("CustomerCountry", "n/a", None),
        ("CustomerCountry", "DE", "DE"),
        ("CustomerCity", "NA", None),
        ("CustomerCity", "Zürich", "Zürich"),
        ("CustomerCity", " n/a ", " n/a "),
        ("CustomerCity", 42, "42"),
        ("CustomerCity", [1, 2], "[1, 2]"),
    ],
)
def test_each_shape_types_as_in_python(field, sent, typed):
    fast, slow = both({"Id": "1", "ProgramId": "7", field: sent})
    assert fast == slow
    assert type(fast[field]) is type(slow[field])
    if typed is not ...:
        assert fast[field] == typed or (typed is None and fast[field] is None)


def test_nested_groups_and_unknown_fields_as_in_python():
    click = {
        "Id": "1",
        "ProgramId": "7",
        "SubId1": "n/a",
        "PartnerRelated": {"SubId1": "s1", "SubId2": "NA", "Tier": " NULL "},
        "BrandRelated": {"SubId1": "s2", "AdGroup": "g"},
        "LoyaltyTier": "gold",
        "export_date": "sent",
        "extra_fields": {"a": 1},
        "Empty": "",
    }
    fast, slow = both(click)
    assert fast == slow
    assert fast["SubId1"] == "s1"  # the flat placeholder gives way; the first group wins
    assert fast["extra_fields"] == {
        "Tier": None,
        "LoyaltyTier": "gold",
        "_export_date": "sent",
        "_extra_fields": {"a": 1},
        "Empty": None,
    }


def test_a_day_of_sandbox_clicks_as_in_python():
    factory, day = ClickFactory(per_day=2_000), dt.date(2026, 3, 5)
    for brand in (False, True):
        for i in range(2_000):
            fast, slow = both(factory.click(day, i, brand=brand))
            assert fast == slow
            assert list(fast) == list(slow)  # the same key order, too


@settings(max_examples=400, deadline=None)
@given(clicks())
def test_any_click_types_as_in_python(click):
    fast, slow = both(click)
    assert fast == slow
    assert [type(v) for v in fast.values()] == [type(slow[k]) for k in fast]
