"""The sandbox answers in every documented API version's shape, and honours per-request pins.

Partner v16 and brand v14 clicks and job objects are typed as their OpenAPI files say;
older versions are flat strings; no version keeps the sandbox's original shapes. Every test
checks that what was served is exactly ``Sandbox.truth`` for that version (every field of
every click), so a test of the tap can rely on ``truth``.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
import uuid

import pytest

from tap_impact_clicks.sandbox import ClickFactory, Sandbox
from tap_impact_clicks.sandbox.probe import Probe

DAY = dt.date(2026, 3, 5)
ANY = {"Accept": "*/*"}
UNSET_DATES = ("AbandonedDate", "CancelledDate", "FailedDate")
MakeSandbox = t.Callable[..., Sandbox]


def _served(box: Sandbox, *, program: str = "", pin: str | None = None) -> list[dict[str, t.Any]]:
    """Export DAY and read every click of every page (Accept */*, as the vendor's curl)."""
    probe = Probe.of(box)
    headers = {"IR-Version": pin} if pin else {}
    job = probe.export(DAY.isoformat(), program=program, headers=headers)
    return probe.clicks(job, brand=bool(program), headers={**ANY, **headers})


def test_partner_v16_clicks_are_typed_as_the_openapi_says(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(api_version=16, factory=ClickFactory(per_day=60), page_size=25)
    clicks = _served(box)
    assert clicks == box.truth(DAY)  # every field of every click
    assert len(clicks) == 60
    for click in clicks:
        assert isinstance(click["PartnerRelated"], list)
        assert all(
            set(group) == {"SubId1", "SubId2", "SubId3"} for group in click["PartnerRelated"]
        )
        assert click["BrandRelated"] == []
        assert type(click["MediaId"]) is int
        assert type(click["AdId"]) is int
        assert type(click["UniqueClick"]) is bool
        assert re.fullmatch(r"(\d+\.\d\d)?", click["Payout"]), click["Payout"]
        assert isinstance(click["CpcBid"], str)
        assert not {"SubId1", "AdCampaign"} & set(click)  # no flat members
    groups = [click["PartnerRelated"] for click in clicks]
    assert [] in groups
    two = [group for group in groups if len(group) == 2]
    assert two
    assert all(group[0] != group[1] for group in two)
    assert "" in {click["Payout"] for click in clicks}
    assert "" in {click["CpcBid"] for click in clicks}
    campaign = [click for click in clicks if "CampaignId" in click]
    assert campaign
    for click in campaign:  # the v16 Click schema's names, instead of ProgramId/ProgramName
        assert "ProgramId" not in click
        assert "ProgramName" not in click
        assert type(click["CampaignId"]) is int
        assert click["CampaignName"]
    assert sum("ProgramId" in click for click in clicks) > len(clicks) // 2


def test_brand_v14_clicks_have_objects_and_a_numeric_payout(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(api_version=16, factory=ClickFactory(per_day=40))  # brand: 16 - 2
    clicks = _served(box, program="1001")
    assert clicks == box.truth(DAY, {"ProgramId": ["1001"]}, brand=True)
    assert clicks == box.truth(DAY, {"ProgramId": ["1001"]}, brand=True, api_version=14)
    assert clicks
    for click in clicks:
        assert click["ProgramId"] == "1001"
        assert set(click["PartnerRelated"]) == {"SubId1", "SubId2", "SubId3"}
        assert set(click["BrandRelated"]) == {"AdCampaign", "AdGroup", "Keyword", "MatchType",
                                              "Channel"}  # fmt: skip
        assert type(click["Payout"]) in {int, float}
        assert type(click["UniqueClick"]) is bool
        assert type(click["MediaId"]) is int
        assert type(click["AdId"]) is int


@pytest.mark.parametrize(("program", "pin"), [("", "15"), ("", "11"), ("1002", "13")])
def test_older_versions_are_flat_and_every_value_a_string(
    make_sandbox: MakeSandbox, program: str, pin: str
) -> None:
    box = make_sandbox(factory=ClickFactory(per_day=30))
    clicks = _served(box, program=program, pin=pin)
    params = {"ProgramId": [program]} if program else None
    assert clicks == box.truth(DAY, params, brand=bool(program), api_version=int(pin))
    assert clicks
    member = "AdCampaign" if program else "SubId1"
    for click in clicks:
        assert "PartnerRelated" not in click
        assert "BrandRelated" not in click
        assert member in click
        assert all(type(value) is str for value in click.values()), click


def test_no_version_keeps_the_original_shapes(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(factory=ClickFactory(per_day=30))
    clicks = _served(box)
    assert clicks == box.truth(DAY) == box.config.factory.clicks(DAY, {})
    assert any(isinstance(click.get("PartnerRelated"), dict) for click in clicks)
    assert any("SubId1" in click for click in clicks)
    probe = Probe.of(box)
    assert probe.download("J000001", headers=ANY).headers["Content-Type"] == "application/json"


def test_a_pin_wins_over_the_account_version_and_the_header_over_the_parameter(
    make_sandbox: MakeSandbox,
) -> None:
    box = make_sandbox(api_version=16, redirect_downloads=False)
    probe = Probe.of(box)
    job = probe.export(DAY.isoformat())
    assert probe.export(DAY.isoformat(), IrVersion="15") == job  # a pin is not a filter

    def first(**options: t.Any) -> dict[str, t.Any]:
        answer = probe.download(job, **options)
        assert answer.status_code == 200, answer.text
        return t.cast("dict[str, t.Any]", answer.json()["Clicks"][0])

    assert isinstance(first(headers=ANY)["PartnerRelated"], list)  # the account's 16
    assert "SubId1" in first(headers={**ANY, "IR-Version": "15"})
    assert "SubId1" in first(headers=ANY, query={"IrVersion": "12"})
    assert "PartnerRelated" in first(headers={**ANY, "IR-Version": "16"}, query={"IrVersion": "15"})
    assert probe.job(job, headers={"IR-Version": "15"})["Replayable"] == "true"
    pinned = probe.call("GET", probe.path(f"Jobs/{job}"), IrVersion="14").json()
    assert pinned["PercentageComplete"] == "100"
    assert probe.job(job)["Replayable"] is True


def test_a_pin_gives_an_unversioned_account_that_version(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(factory=ClickFactory(per_day=20))
    clicks = _served(box, pin="16")
    assert clicks == box.truth(DAY, api_version=16)
    assert all(isinstance(click["PartnerRelated"], list) for click in clicks)


@pytest.mark.parametrize(("brand", "pin"), [(False, "17"), (False, "10"), (True, "15"),
                                            (False, "sixteen")])  # fmt: skip
def test_a_version_the_side_does_not_have_is_a_400(
    make_sandbox: MakeSandbox, brand: bool, pin: str
) -> None:
    box = make_sandbox()
    probe = Probe.of(box)
    answer = probe.call("GET", probe.path("Jobs", brand=brand), headers={"IR-Version": pin})
    assert answer.status_code == 400
    assert answer.json()["Errors"][0]["Field"] == "IR-Version"
    answer = probe.call("GET", probe.path("Jobs", brand=brand), IrVersion=pin)
    assert answer.json()["Errors"][0]["Field"] == "IrVersion"


def test_v16_job_objects_are_typed_with_uuid_ids(make_sandbox: MakeSandbox, sim: t.Any) -> None:
    box = make_sandbox(api_version=16, latency=10)
    probe = Probe.of(box)
    job_id = probe.export(DAY.isoformat())
    assert uuid.UUID(job_id).version == 4
    assert box.jobs[job_id].job_id == job_id
    queued = probe.job(job_id)
    assert queued["Status"] == "QUEUED"
    assert queued["RecordsProcessed"] == 0
    assert queued["PercentageComplete"] == 0
    assert queued["Replayable"] is False
    sim.advance(5)
    running = probe.job(job_id)
    assert running["Status"] == "RUNNING"
    assert type(running["PercentageComplete"]) is int
    assert 0 < running["PercentageComplete"] < 100
    assert running["StartedDate"] == "2026-03-10T10:00:02-05:00"
    sim.advance(5)
    done = probe.job(job_id)
    assert done["Status"] == "COMPLETED"
    assert done["PercentageComplete"] == 100
    assert done["RecordsProcessed"] == len(box.truth(DAY))
    assert done["Replayable"] is True
    assert done["CompletedDate"] == "2026-03-10T10:00:10-05:00"
    assert probe.download(job_id, headers=ANY).status_code == 200
    listed = probe.call("GET", probe.path("Jobs")).json()["Jobs"]
    assert listed == [done]  # no "Parameters": listed jobs carry none, as documented


def test_older_job_objects_are_strings(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(api_version=15)
    probe = Probe.of(box)
    job = probe.job(probe.export(DAY.isoformat()))
    assert uuid.UUID(job["Id"])
    assert job["Status"] == "COMPLETED"
    for name in ("RecordsProcessed", "PercentageComplete", "Replayable"):
        assert type(job[name]) is str
    assert job["Replayable"] == "true"
    unversioned = make_sandbox()
    plain = Probe.of(unversioned)
    assert plain.export(DAY.isoformat()) == "J000001"
    assert plain.job("J000001")["PercentageComplete"] == "100"


def test_unset_job_dates_come_as_empty_null_or_absent(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(api_version=16, latency=60)  # every job QUEUED: every date but one unset
    probe = Probe.of(box)
    jobs = [probe.job(probe.export(f"2026-03-0{d}")) for d in (4, 5, 6)]
    seen: set[str] = set()
    for job in jobs:
        assert job["Status"] == "QUEUED"
        assert job["CreatedDate"] == "2026-03-10T10:00:00-05:00"
        forms = {repr(job.get(name, "absent")) for name in ("StartedDate", "CompletedDate",
                                                             *UNSET_DATES)}  # fmt: skip
        assert len(forms) == 1, job  # one form per job
        seen |= forms
    assert seen == {"''", "None", "'absent'"}


def test_company_information_shows_the_time_zone_and_the_api_version(
    make_sandbox: MakeSandbox,
) -> None:
    versioned = Probe.of(make_sandbox(api_version=16))
    company = versioned.call("GET", versioned.path("CompanyInformation")).json()
    assert company["Timezone"] == "(GMT -05:00) Eastern Time (US & Canada)"
    assert company["ApiVersion"] == "16"
    brand = versioned.call("GET", versioned.path("CompanyInformation", brand=True)).json()
    assert brand["ApiVersion"] == "14"
    plain = Probe.of(make_sandbox())
    answer = plain.call("GET", plain.path("CompanyInformation"))
    assert answer.status_code == 200
    assert "ApiVersion" not in answer.json()
    assert answer.json()["Timezone"].startswith("(GMT -05:00)")
    anonymous = plain.call("GET", plain.path("CompanyInformation"))
    assert anonymous.status_code == 200
    plain.session.auth = None
    assert plain.call("GET", plain.path("CompanyInformation")).status_code == 401
