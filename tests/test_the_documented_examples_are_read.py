"""The tap reads every answer exactly as the vendor's documents show it.

Fixtures (``tests/fixtures/documented_examples.json``) are the examples of the vendor's OpenAPI
descriptions: ClickExport's answer, Job objects (partner v16 typed; agency v3 with unset dates
as ``""``; numbers and booleans as text), a Jobs list, a Replay answer, a Download 202, the
partner v16 and brand v14 click objects, and the error body. Each is read on its own, and the
partner and brand flows run end to end against a loopback server that answers with them.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tap_impact_clicks.impact.answers import error_message
from tap_impact_clicks.impact.jobs import parse_job
from tap_impact_clicks.impact.paths import AccountPaths
from tap_impact_clicks.results.records import Normaliser, ensure_keys
from tests.helpers import SID, base_config, run_tap

UUID = "d8807a9f-a5ee-4e3f-ad2b-3dfd19d1915f"
DAY = "2026-03-05"


def _examples() -> dict[str, t.Any]:
    text = (Path(__file__).parent / "fixtures" / "documented_examples.json").read_text()
    return t.cast("dict[str, t.Any]", json.loads(text.replace("<AccountSID>", SID)))


DOCS = _examples()


@pytest.mark.parametrize("side", ["partner", "brand"])
def test_the_click_export_answer_names_the_job(side: str) -> None:
    answer = DOCS[f"click_export_{side}"]
    paths = AccountPaths(SID, brand=side == "brand")
    assert paths.job_id_of(answer["QueuedUri"]) == UUID
    assert paths.job_id_of(answer["ResultUri"]) == UUID
    assert AccountPaths("IROTHER").job_id_of(answer["QueuedUri"]) is None  # not this account's


@pytest.mark.parametrize(
    ("name", "status", "percent", "completed"),
    [
        ("job_partner_v16", "COMPLETED", 100.0, "2022-06-07T04:33:50-05:00"),
        ("job_agency_v3", "COMPLETED", 100.0, "2026-05-29T04:35:12-05:00"),
        ("job_strings", "RUNNING", 45.0, None),
    ],
)
def test_job_objects_are_read_in_every_documented_form(
    name: str, status: str, percent: float, completed: str | None
) -> None:
    job = parse_job(DOCS[name], requests.Response(), "Job")
    assert (job.status, job.percent) == (status, percent)
    assert job.job_id == DOCS[name]["Id"]
    expected = dt.datetime.fromisoformat(completed) if completed else None
    assert job.completed_at == expected
    assert job.ended_at is None or name == "job_partner_v16"  # "" and null are unset dates


def test_the_error_body_is_read_with_its_field_errors() -> None:
    assert error_message(DOCS["error_body"]) == "Validation Failed (Date: Invalid date)"
    assert error_message(DOCS["job_partner_v16"]) is None


def test_the_documented_click_objects_become_records() -> None:
    partner = Normaliser(None).normalise(dict(DOCS["click_partner_v16"]), DAY)
    ensure_keys(partner, DAY, None)
    assert (partner["ProgramId"], partner["ProgramName"]) == ("27154", "Capsule Corp")
    assert (partner["SubId1"], partner["SubId2"], partner["SubId3"]) == (
        "storm",
        "spring2026",
        None,
    )
    assert partner["EventDate"] == "2021-01-25T13:06:24+00:00"
    assert (partner["UniqueClick"], partner["Payout"], partner["CpcBid"]) == (True, None, None)
    assert "extra_fields" not in partner
    brand = Normaliser(None).normalise(dict(DOCS["click_brand_v14"]), DAY)
    ensure_keys(brand, DAY, None)
    assert (brand["AdCampaign"], brand["Keyword"], brand["Channel"]) == (
        "Summer Sale", "tennis balls", "GOOGLE_SHOPPING",
    )  # fmt: skip
    assert (brand["SubId1"], brand["Payout"], brand["UniqueClick"]) == ("subid1value", 5.0, True)
    assert (brand["ReferringDomain"], brand["CustomerCity"]) == (None, None)  # placeholders
    assert "extra_fields" not in brand


class _Documented(BaseHTTPRequestHandler):
    """Answers the tap's calls with the documented examples (brand or partner)."""

    downloads = 0
    calls: t.ClassVar[list[str]] = []

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        """Quiet."""

    def _send(self, status: int, body: object, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        """ClickExport, a job, its Download (202 once, then the file), the Jobs list."""
        path = self.path.split("?", 1)[0]
        brand = path.startswith("/Advertisers/")
        job = dict(
            DOCS["job_partner_v16"],
            ResultUri=None if brand else DOCS["job_partner_v16"]["ResultUri"],
        )
        self.calls.append(path.rsplit("/", 1)[-1])
        if path.endswith("/ClickExport"):
            self._send(200, DOCS["click_export_brand" if brand else "click_export_partner"])
        elif path.endswith(f"/Jobs/{UUID}"):
            self._send(200, job)
        elif path.endswith("/Download"):
            type(self).downloads += 1
            if type(self).downloads == 1:
                self._send(202, {**job, "Status": "RUNNING", "PercentageComplete": 99})
                return
            click = DOCS["click_brand_v14" if brand else "click_partner_v16"]
            page = {"@page": "1", "@numpages": "1", "Clicks": [click]}
            self._send(200, json.dumps(page).encode(), "application/octet-stream")
        else:
            self._send(400, DOCS["error_body"])


@pytest.mark.parametrize("side", ["partner", "brand"])
def test_a_day_syncs_against_the_documented_answers(side: str, sim: t.Any) -> None:
    _Documented.downloads = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Documented)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        extra = {"account_type": "brand", "program_ids": ["1000"]} if side == "brand" else {}
        url = f"http://127.0.0.1:{server.server_address[1]}"
        run = run_tap(base_config(url, start_date=DAY, end_date=DAY, job_ledger="off", **extra))
    finally:
        server.shutdown()
        server.server_close()
    assert run.error is None, run.error
    (record,) = run.records
    assert record["Id"] == "abcdefg1hijkl2mn3opq4rStUvwxyz5a6bcdef7"
    assert record["ProgramId"] == ("1000" if side == "brand" else "27154")
    assert record["EventDate"] == "2021-01-25T13:06:24+00:00"
    state = run.bookmark if side == "partner" else run.bookmark["partitions"][0]
    assert state["replication_key_value"] == DAY
    assert _Documented.downloads == 2, "the 202 was waited through"
