"""Every field of every click loads, whatever API version shapes the answers.

The sandbox answers as the vendor's OpenAPI documents show: partner v16 (``PartnerRelated`` an
array of objects, ``MediaId``/``AdId`` integers, ``UniqueClick`` a boolean, ``Payout`` a decimal
string, sometimes ``CampaignId`` instead of ``ProgramId``; job objects with JSON numbers and
booleans, UUID ids, unset dates as ``""``, ``null`` or absent; results as
``application/octet-stream``; job answers in XML unless JSON is accepted), brand v14 (both
groups objects, ``Payout`` a number), and the older flat shapes. The expected record of each
click is computed from the click as served, by the rules the README states
(``tests/click_truth.py``).
"""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_impact_clicks.sandbox import Sandbox
from tests.click_truth import check_every_field
from tests.helpers import base_config, run_tap

DAYS = [dt.date(2026, 3, 5), dt.date(2026, 3, 6)]
PROGRAMS = ["1001", "1002"]
MakeSandbox = t.Callable[..., Sandbox]


@pytest.mark.parametrize("pinned", [False, True], ids=["account-setting", "api_version-pinned"])
def test_partner_v16_answers_load_every_field_of_every_click(
    make_sandbox: MakeSandbox, pinned: bool
) -> None:
    box = make_sandbox(latency=5, page_size=40, api_version=None if pinned else 16)
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-06",
                         api_version=16 if pinned else None)  # fmt: skip
    run = run_tap(config)
    assert run.error is None, run.error
    assert (
        check_every_field(run.records, box, days=DAYS, programs=PROGRAMS, brand=False, version=16)
        > 100
    )
    assert any(r.get("SubId1") for r in run.records), "the sub ids partners rely on"
    assert all(r["EventDate"].endswith("+00:00") for r in run.records)


def test_brand_v14_answers_load_every_field_of_every_click(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=5, page_size=40, api_version=16)  # brand: 16 - 2 = v14
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-06",
                         account_type="brand", program_ids=PROGRAMS)  # fmt: skip
    run = run_tap(config)
    assert run.error is None, run.error
    assert (
        check_every_field(run.records, box, days=DAYS, programs=PROGRAMS, brand=True, version=14)
        > 50
    )
    assert any(r.get("AdCampaign") for r in run.records)


def test_older_flat_answers_load_every_field_of_every_click(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=5, page_size=40, api_version=15)
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-06"))
    assert run.error is None, run.error
    assert (
        check_every_field(run.records, box, days=DAYS, programs=PROGRAMS, brand=False, version=15)
        > 100
    )
