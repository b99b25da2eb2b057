"""Every hostile mode serves what ``--help`` says, and ``Sandbox.truth`` knows the clicks served.

Endless and trickled bodies are read only for a bounded prefix, then closed; the gzip bomb
is checked by its compressed size and its gzip trailer, and inflated only a little.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import struct
import time
import typing as t
import zlib

import pytest

from tap_impact_clicks.sandbox import ClickFactory, Sandbox
from tap_impact_clicks.sandbox.kinds import HOSTILE_HEADERS
from tap_impact_clicks.sandbox.probe import Probe

DAY = "2026-03-05"
MIB = 1 << 20
MakeSandbox = t.Callable[..., Sandbox]


def _box(make_sandbox: MakeSandbox, *modes: str, **config: t.Any) -> tuple[Sandbox, Probe, str]:
    """A sandbox with hostile modes, direct downloads, and the job of DAY."""
    config.setdefault("redirect_downloads", False)
    box = make_sandbox(hostile=modes, **config)
    probe = Probe.of(box)
    return box, probe, probe.export(DAY)


def _truth(box: Sandbox) -> list[dict[str, t.Any]]:
    return box.truth(dt.date.fromisoformat(DAY))


def _prefix(answer: t.Any, size: int) -> bytes:
    """Read at most ``size`` bytes of a streamed answer, then close it."""
    with answer:
        return bytes(answer.raw.read(size, decode_content=False))


@pytest.mark.parametrize(("shape", "filler"), [("string", b"x"), ("whitespace", b" ")])
def test_endless_download_never_ends(make_sandbox: MakeSandbox, shape: str, filler: bytes) -> None:
    box, probe, job = _box(make_sandbox, "endless", endless_shape=shape, redirect_downloads=True)
    answer = probe.download(job, stream=True)
    assert answer.status_code == 200
    assert "Content-Length" not in answer.headers
    head = _prefix(answer, 512 * 1024)
    assert len(head) == 512 * 1024  # and more would come
    assert head.startswith(b'{"@page": "1", "@numpages": "1", ')
    assert b'"Clicks": [{' in head[:200]
    assert head[-1000:] == filler * 1000
    assert probe.job(job)["Status"] == "COMPLETED"  # the sandbox goes on serving
    started = time.monotonic()
    box.stop()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("endpoint", ["ClickExport", "JobStatus"])
def test_endless_api_answers_never_end(make_sandbox: MakeSandbox, endpoint: str) -> None:
    box = make_sandbox(hostile=("endless-api",), hostile_endpoints=(endpoint,))
    probe = Probe.of(box)
    path = probe.path("ClickExport")
    if endpoint == "JobStatus":
        path = probe.path(f"Jobs/{probe.export(DAY)}")  # ClickExport answers as usual
    answer = probe.call("GET", path, stream=True, Date=DAY, ResultFormat="JSON")
    assert answer.status_code == 200
    head = _prefix(answer, 256 * 1024)
    assert len(head) == 256 * 1024
    start = b'{"Status": "QUEUED", "QueuedUri": ' if endpoint == "ClickExport" else b'{"Id": "J0'
    assert head.startswith(start)
    assert head.endswith(b"x" * 1000)


def test_trickle_sends_one_byte_at_a_time(make_sandbox: MakeSandbox) -> None:
    _, probe, job = _box(make_sandbox, "trickle", trickle_seconds=0.15)
    answer = probe.download(job, stream=True)
    full = int(answer.headers["Content-Length"])
    started = time.monotonic()
    with answer:
        head = b"".join(answer.raw.read(1) for _ in range(4))
    assert time.monotonic() - started >= 0.4  # three pauses between four bytes
    assert head == b'{"@p'
    assert full > 1000
    api = make_sandbox(hostile=("trickle-api",), trickle_seconds=0.15)
    answer = Probe.of(api).call("GET", Probe.of(api).path("Jobs"), stream=True)
    started = time.monotonic()
    assert _prefix(answer, 3) == b'{"J'
    assert time.monotonic() - started >= 0.25


def test_huge_value_is_one_string_of_huge_bytes(make_sandbox: MakeSandbox) -> None:
    box, probe, job = _box(make_sandbox, "huge-value")
    clicks = probe.clicks(job)
    assert len(clicks[0]["LandingPageUrl"]) == 8 * MIB
    assert clicks == _truth(box)
    assert all("LandingPageUrl" not in click for click in clicks[1:])


def test_deep_click_and_deep_api_answers(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(hostile=("deep", "deep-api"), redirect_downloads=False)
    probe = Probe.of(box)
    exported = probe.call("GET", probe.path("ClickExport"), Date=DAY, ResultFormat="JSON")
    found = re.search(rb'"QueuedUri": "[^"]*/(J\d+)"', exported.content)
    assert found is not None
    job = found.group(1).decode()
    levels = 1000
    nested = b'"Nested": ' + b"[" * levels + b"]" * levels
    body = probe.download(job).content
    assert body.count(nested) == 1
    flat = json.loads(body.replace(nested, b'"Nested": []'))
    truth = _truth(box)
    depth, value = 0, truth[0]["Nested"]
    while isinstance(value, list):
        depth, value = depth + 1, value[0] if value else None
    assert depth == levels
    assert flat["Clicks"] == [{**truth[0], "Nested": []}, *truth[1:]]
    assert exported.content.count(nested) == 1
    assert probe.call("GET", probe.path(f"Jobs/{job}")).content.count(nested) == 1


def test_gap_puts_whitespace_between_two_clicks(make_sandbox: MakeSandbox) -> None:
    box, probe, job = _box(make_sandbox, "gap")
    body = probe.download(job).content
    gap = re.search(rb" {1000,}", body)
    assert gap is not None
    assert gap.end() - gap.start() == 16 * MIB
    assert body[gap.start() - 1 : gap.start()] == b"}"  # the first click's end
    assert body[gap.end() : gap.end() + 3] == b", {"  # the second click's start
    assert json.loads(body)["Clicks"] == _truth(box)


def test_csv_long_line(make_sandbox: MakeSandbox) -> None:
    box, probe, job = _box(make_sandbox, "csv-long-line", huge_bytes=2 * MIB)
    answer = probe.download(job)
    assert answer.headers["Content-Type"] == "text/csv"
    lines = answer.content.split(b"\r\n")
    assert max(len(line) for line in lines) > 2 * MIB
    limit = csv.field_size_limit(4 * MIB)
    try:
        rows = list(csv.DictReader(io.StringIO(answer.text)))
    finally:
        csv.field_size_limit(limit)
    assert rows[0]["LandingPageUrl"] == _truth(box)[0]["LandingPageUrl"]
    assert len(rows[0]["LandingPageUrl"]) == 2 * MIB
    assert [row["Id"] for row in rows] == [click["Id"] for click in _truth(box)]


@pytest.mark.parametrize("variant", sorted(HOSTILE_HEADERS))
def test_absurd_rate_limit_headers_on_every_answer(make_sandbox: MakeSandbox, variant: str) -> None:
    box = make_sandbox(hostile=("headers",), hostile_headers=variant)
    probe = Probe.of(box)
    absurd = HOSTILE_HEADERS[variant]
    answers = [probe.call("GET", probe.path("Jobs", brand=brand)) for brand in (False, True)]
    statuses = [answer.status_code for answer in answers]
    assert statuses == ([429, 200] if variant.startswith("retry") else [200, 200])
    for answer in answers:
        sent = dict(answer.raw.headers.items())
        assert {name: sent[name] for name in absurd} == absurd
    if variant == "retry-inf":
        assert answers[0].json()["Status"] == "ERROR"


def test_retry_after_on_every_request_when_told(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(hostile=("headers",), hostile_headers="retry-1e20", hostile_429s=0)
    probe = Probe.of(box)
    answers = [probe.call("GET", probe.path("Jobs")) for _ in range(3)]
    assert [(a.status_code, a.headers["Retry-After"]) for a in answers] == [(429, "1e20")] * 3


@pytest.mark.parametrize(
    ("mode", "body"),
    [
        ("error200", {"Status": "ERROR", "Message": "The export has expired"}),
        ("empty-object", {}),
    ],
)
def test_whole_body_modes(make_sandbox: MakeSandbox, mode: str, body: dict[str, t.Any]) -> None:
    box, probe, job = _box(make_sandbox, mode, redirect_downloads=True)
    answer = probe.download(job)
    assert answer.status_code == 200
    assert answer.json() == body
    assert _truth(box) == []


def test_clicks_object(make_sandbox: MakeSandbox) -> None:
    box, probe, job = _box(make_sandbox, "clicks-object")
    body = probe.download(job).json()
    assert list(body) == ["Clicks"]
    assert isinstance(body["Clicks"], dict)
    assert [body["Clicks"]] == _truth(box)
    assert body["Clicks"] == box.config.factory.click(dt.date(2026, 3, 5), 0)


def test_both_keys_split_the_page(make_sandbox: MakeSandbox) -> None:
    box, probe, job = _box(make_sandbox, "both-keys", factory=ClickFactory(per_day=30),
                           page_size=10)  # fmt: skip
    served: list[dict[str, t.Any]] = []
    for page in (1, 2, 3):
        body = probe.download(job, page).json()
        assert body["Clicks"]
        assert body["Records"]
        assert not [click for click in body["Clicks"] if click in body["Records"]]
        served += body["Clicks"] + body["Records"]
    assert served == _truth(box)


def test_ignore_page_serves_page_one_for_every_page(make_sandbox: MakeSandbox) -> None:
    _, probe, job = _box(make_sandbox, "ignore-page", factory=ClickFactory(per_day=30),
                         page_size=10)  # fmt: skip
    pages = [probe.download(job, page).json() for page in (1, 2, 3)]
    assert [page["@numpages"] for page in pages] == ["3", "3", "3"]
    assert pages[0]["@page"] == "1"
    assert pages[1] == pages[2] == pages[0]


def test_gzip_bomb_is_small_and_inflates_to_bomb_bytes(make_sandbox: MakeSandbox) -> None:
    box, probe, job = _box(make_sandbox, "gzip-bomb", redirect_downloads=True)
    answer = probe.download(job, stream=True)
    assert answer.headers["Content-Encoding"] == "gzip"
    size = int(answer.headers["Content-Length"])
    assert size < 512 * 1024  # for 256 MiB inflated
    compressed = _prefix(answer, size + 1)
    assert len(compressed) == size
    crc, inflated_size = struct.unpack("<II", compressed[-8:])
    assert inflated_size == (256 * MIB) % (1 << 32)
    inflater = zlib.decompressobj(31)
    head = inflater.decompress(compressed[:4096], 1 * MIB)  # a bounded start
    assert head.startswith(b'{"@page": "1"')
    assert head.rstrip().endswith(b'"Clicks": [')
    assert crc
    assert box.count("SignedDownload") == 1


def test_hostile_dates_limit_the_modes_to_those_dates(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(hostile=("empty-object",), hostile_dates=("2026-03-06",),
                       redirect_downloads=False)  # fmt: skip
    probe = Probe.of(box)
    assert probe.download(probe.export("2026-03-06")).json() == {}
    assert probe.download(probe.export(DAY)).json()["Clicks"] == _truth(box)
