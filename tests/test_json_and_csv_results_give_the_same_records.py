"""Result pages: JSON in every documented shape and CSV give the same records, in flat memory;
XML is refused in one line; a page that proves corrupt is read again without repeats.

The readers are checked on bodies made here (the clearest unit); the tap end to end on the
sandbox, over loopback.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import tracemalloc
import typing as t

import pytest
import requests
import urllib3

from tap_impact_clicks.impact.bodies import ResultBody, spool
from tap_impact_clicks.results.csv_clicks import CsvClicks
from tap_impact_clicks.results.json_clicks import JsonClicks, NoClickListError
from tap_impact_clicks.results.json_values import CorruptBodyError
from tap_impact_clicks.results.pages import DayReader, ResultRef, _reader
from tap_impact_clicks.results.records import Normaliser
from tap_impact_clicks.runtime.errors import DataError
from tap_impact_clicks.sandbox import ClickFactory, Sandbox
from tap_impact_clicks.sandbox.render import render_csv
from tests.helpers import Run, base_config, run_tap

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_impact_clicks.impact.client import ImpactClient

    MakeSandbox = Callable[..., Sandbox]

DAY = dt.date(2026, 3, 5)
ONE_DAY = {"start_date": "2026-03-05", "end_date": "2026-03-05"}
TRICKY = ('He said "hi", twice', "two\nlines, one comma", '}],{"Id":"x"},', "crlf\r\nend")
Click = dict[str, t.Any]


@dataclasses.dataclass(frozen=True)
class TrickyFactory(ClickFactory):
    """The default clicks, some with commas, quotes, newlines and JSON-like text in them."""

    def click(self, day: dt.date, i: int, *, brand: bool = False) -> dict[str, t.Any]:
        click = super().click(day, i, brand=brand)
        if i % 2 == 0:
            click["AdName"] = TRICKY[i // 2 % len(TRICKY)]
        # Always present: a CSV cannot tell a missing field from an empty one.
        click["SearchText"] = TRICKY[(i + 1) % len(TRICKY)] if i % 4 == 2 else ""
        return click


def _clicks(n: int) -> list[Click]:
    factory = TrickyFactory(per_day=n)
    return [factory.click(DAY, i) for i in range(n)]


def _json(raw: bytes) -> tuple[list[Click], JsonClicks]:
    reader = JsonClicks(io.BytesIO(raw))
    return [click for batch in reader.batches() for click in batch], reader


def _collect(reader: JsonClicks, into: list[Click]) -> None:
    """Every click the reader gives before it raises, in ``into``."""
    for batch in reader.batches():
        into += batch


def _csv_clicks(raw: bytes) -> list[Click]:
    return [click for batch in CsvClicks(io.BytesIO(raw)).batches() for click in batch]


def _body(raw: bytes, content_type: str = "") -> ResultBody:
    body = ResultBody(max_size=1 << 20)
    body.write(raw)
    body.seek(0)
    body.content_type = content_type
    body.digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    return body


# -- JSON: every shape, any size ------------------------------------------------------------


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("count", [0, 1, 60, 3000])
def test_json_gives_every_click_in_every_shape(indent: int | None, count: int) -> None:
    """Clicks, Records, both, a bare list; nested groups, "}],{" inside strings; pages of
    any size (a span is cut wherever its bytes end)."""
    clicks = _clicks(count)
    half = count // 2
    shapes: list[tuple[object, dict[str, t.Any], list[str]]] = [
        (clicks, {}, [""]),
        ({"@page": "1", "@numpages": "1", "Clicks": clicks, "@total": str(count)},
         {"@page": "1", "@numpages": "1", "@total": str(count)}, ["Clicks"]),
        ({"Records": clicks, "@numpages": 7}, {"@numpages": 7}, ["Records"]),
        ({"Clicks": clicks[:half], "Records": clicks[half:]}, {}, ["Clicks", "Records"]),
    ]  # fmt: skip
    for body, meta, keys in shapes:
        got, reader = _json(json.dumps(body, indent=indent).encode())
        assert got == clicks
        assert reader.count == count
        assert reader.meta == meta
        assert reader.keys == keys


def test_a_click_longer_than_a_span_and_a_bom() -> None:
    clicks = [{"Id": "1", "ProgramId": "2", "AdName": "x" * 300_000}, {"Id": "2", "ProgramId": "2"}]
    assert _json(b"\xef\xbb\xbf" + json.dumps(clicks).encode())[0] == clicks


def test_json_is_read_in_flat_memory() -> None:
    """A 4 MB page is read within 2 MiB of memory (decoding it whole takes about 16 MB)."""
    factory = ClickFactory(per_day=8000)
    raw = json.dumps({"@numpages": "1", "Clicks": [factory.click(DAY, i) for i in range(8000)]})
    body = io.BytesIO(raw.encode())
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        count = sum(len(batch) for batch in JsonClicks(body).batches())
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert count == 8000
    assert len(raw) > 3_500_000
    assert peak < 2 << 20


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_corrupt_json_gives_only_the_good_clicks_before_it(where: float) -> None:
    clicks = _clicks(1000)
    raw = json.dumps({"Clicks": clicks}).encode()
    middle = int(len(raw) * where)
    raw = raw[:middle] + b"\x00}{\xff" + raw[middle + 4 :]
    reader = JsonClicks(io.BytesIO(raw))
    got: list[Click] = []
    with pytest.raises(CorruptBodyError):
        _collect(reader, got)
    assert got == clicks[: len(got)]
    assert reader.count == len(got) < 1000


@pytest.mark.parametrize(
    "raw",
    [b'{"Clicks":[{"Id":"1"},{"Id":', b'{"Clicks":[{"Id":"1"}]} trailing', b"<html></html>",
     b'{"Clicks":[1,2]}', b'[{"Id":"\xff\xfe"}]', b"", b"[NaN]"],
)  # fmt: skip
def test_broken_json_is_corrupt(raw: bytes) -> None:
    with pytest.raises(CorruptBodyError):
        _json(raw)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"{}", "an empty JSON object"),
        (b'{"Status": "ERROR", "Message": "Export expired"}', "Export expired"),
        (b'{"Clicks": {"Id": "1"}}', "holds a JSON object, not a list of clicks"),
        (b'{"@page": "1", "Items": []}', "no Clicks or Records list"),
    ],
)
def test_json_without_a_click_list_says_so(raw: bytes, words: str) -> None:
    with pytest.raises(NoClickListError, match=words):
        _json(raw)


# -- the format of a page -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "content_type", "reader"),
    [
        (b'{"Clicks": []}', "", JsonClicks),
        (b"  [ ]", "text/csv", JsonClicks),
        (b"\xef\xbb\xbf[]", "application/octet-stream", JsonClicks),
        (b"Id,ProgramId,EventDate\r\n1,2,x", "application/json", CsvClicks),
        (b"\xef\xbb\xbfId,ProgramId\n", "", CsvClicks),
        (b"Foo;Bar\n1;2", "text/csv; charset=utf-8", CsvClicks),
    ],
)
def test_a_page_is_read_as_json_or_csv_by_its_content(
    raw: bytes, content_type: str, reader: type
) -> None:
    with _body(raw, content_type) as body:
        assert isinstance(_reader(body), reader)


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [(b'<?xml version="1.0"?><ClickExport/>', ""), (b"<Clicks></Clicks>", ""),
     (b"Id,ProgramId", "application/xml")],
)  # fmt: skip
def test_xml_is_refused_naming_the_formats_read(raw: bytes, content_type: str) -> None:
    with _body(raw, content_type) as body, pytest.raises(DataError, match=r"XML.*JSON or CSV"):
        _reader(body)


@pytest.mark.parametrize("raw", [b"", b"  \n", b"<html><body>oops</body></html>", b"garbage"])
def test_other_bodies_are_corrupt(raw: bytes) -> None:
    with _body(raw) as body, pytest.raises(CorruptBodyError):
        _reader(body)


def test_a_spooled_page_keeps_its_content_type_and_bytes() -> None:
    raw = b"Id,ProgramId\n1,2\n"
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "text/CSV"
    response.raw = urllib3.HTTPResponse(body=io.BytesIO(raw), preload_content=False)
    with spool(response, 10.0, "a page", 1 << 20) as body:
        assert body.content_type == "text/csv"
        assert isinstance(_reader(body), CsvClicks)
        assert [c for b in CsvClicks(t.cast("t.BinaryIO", body)).batches() for c in b] == [
            {"Id": "1", "ProgramId": "2"}
        ]


def test_a_page_over_the_download_limit_is_refused() -> None:
    response = requests.Response()
    response.status_code = 200
    response.raw = urllib3.HTTPResponse(body=io.BytesIO(b"[" + b" " * 3000 + b"]"),
                                        preload_content=False)  # fmt: skip
    with pytest.raises(DataError, match="page 1 is larger than"):
        spool(response, 10.0, "page 1", 2048)


# -- CSV ------------------------------------------------------------------------------------


def _csv(rows: list[list[str]], terminator: str = "\r\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=terminator).writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize("terminator", ["\r\n", "\n"])
def test_csv_quoted_commas_quotes_newlines_and_groups(terminator: str) -> None:
    raw = _csv(
        [["Id", "ProgramId", "AdName", "LoyaltyTier", "PartnerRelated.SubId1", "PartnerRelated.X"],
         ["1", "1001", 'a, "b"\nc', "", "s1", ""],
         ["2", "1001", "line1\r\nline2", "gold", "", ""]],
        terminator,
    )  # fmt: skip
    assert _csv_clicks(raw) == [
        {"Id": "1", "ProgramId": "1001", "AdName": 'a, "b"\nc',
         "PartnerRelated": {"SubId1": "s1", "X": ""}},
        {"Id": "2", "ProgramId": "1001", "AdName": "line1\r\nline2", "LoyaltyTier": "gold"},
    ]  # fmt: skip


def test_csv_header_alone_is_an_empty_page() -> None:
    assert _csv_clicks(b"Id,ProgramId,EventDate\r\n") == []


@pytest.mark.parametrize(
    "raw",
    [b'Id,ProgramId\n1,2\n3,"unterminated', b"Id,ProgramId\n1,2,3\n", b"Id,ProgramId\n\xff,2\n"],
)
def test_broken_csv_is_corrupt(raw: bytes) -> None:
    with pytest.raises(CorruptBodyError):
        _csv_clicks(raw)


@pytest.mark.parametrize("brand", [False, True])
def test_csv_clicks_become_the_records_their_json_becomes(brand: bool) -> None:
    factory = TrickyFactory(per_day=600)
    clicks = [factory.click(DAY, i, brand=brand) for i in range(600)]
    from_csv = _csv_clicks(render_csv(clicks))
    from_json = _json(json.dumps({"Clicks": clicks}).encode())[0]
    normaliser = Normaliser(None)
    records = [normaliser.normalise(c, "2026-03-05") for c in from_csv]
    assert records == [normaliser.normalise(c, "2026-03-05") for c in from_json]
    assert len(records) == 600


# -- a day's pages: read again, never twice -------------------------------------------------


class _Pages:
    """A client whose Download serves the given bodies in turn (the last one again)."""

    def __init__(self, *bodies: bytes) -> None:
        self.bodies = list(bodies)
        self.asked: list[int] = []

    def download_page(self, job_id: str, page: int, result_uri: str | None) -> ResultBody:
        self.asked.append(page)
        raw = self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]
        return _body(raw)


def _day(client: _Pages) -> Iterator[list[Click]]:
    def never(_info: object) -> None:
        raise AssertionError

    reader = DayReader(t.cast("ImpactClient", client), ResultRef(DAY, "J1"), never)
    return reader.batches()


def test_a_page_corrupt_part_way_is_read_again_from_the_first_click_not_given() -> None:
    clicks = _clicks(3000)
    good = json.dumps({"@page": "1", "@numpages": "1", "Clicks": clicks}).encode()
    corrupt = good[: len(good) // 2] + b"\x00garbage"
    client = _Pages(corrupt, good)
    got = [click for batch in _day(client) for click in batch]
    assert got == clicks
    assert client.asked == [1, 1]


def test_a_page_unreadable_every_time_ends_the_day_naming_it() -> None:
    client = _Pages(b'{"Clicks": [{"Id": "1", "ProgramId": "2"}, {"Id":')
    with pytest.raises(DataError, match=r"^2026-03-05: page 1 of the result of export job J1 "
                                        r"is unreadable after 4 downloads"):  # fmt: skip
        list(_day(client))
    assert client.asked == [1, 1, 1, 1]


def test_a_page_that_repeats_the_one_before_is_refused() -> None:
    page = {"@numpages": "2", "Clicks": [{"Id": "1", "ProgramId": "2"}]}
    client = _Pages(json.dumps(page).encode())
    with pytest.raises(DataError, match=r"page 2 .* is the same as page 1"):
        list(_day(client))


def test_a_page_that_says_it_is_another_is_refused() -> None:
    first = {"@page": "1", "@numpages": "2", "Clicks": [{"Id": "1", "ProgramId": "2"}]}
    second = {"@page": "1", "@numpages": "2", "Clicks": [{"Id": "2", "ProgramId": "2"}]}
    client = _Pages(json.dumps(first).encode(), json.dumps(second).encode())
    with pytest.raises(DataError, match=r"page 2 .* says it is page 1"):
        list(_day(client))


# -- through the tap ------------------------------------------------------------------------


def _records(run: Run) -> list[dict[str, t.Any]]:
    assert run.error is None, run.logs[-2000:]
    return run.records


def _keys(records: list[dict[str, t.Any]]) -> list[tuple[str, str]]:
    return [(str(r["Id"]), str(r["ProgramId"])) for r in records]


@pytest.mark.parametrize("brand", [False, True])
def test_a_csv_day_gives_the_same_records_as_a_json_day(
    make_sandbox: MakeSandbox, brand: bool
) -> None:
    factory = TrickyFactory(per_day=250)
    extra = {"account_type": "brand", "program_ids": ["1001"]} if brand else {}
    as_json = make_sandbox(factory=factory, page_size=40)
    as_csv = make_sandbox(factory=factory, result_format="CSV")
    json_records = _records(run_tap(base_config(as_json.url, **ONE_DAY, **extra)))
    csv_records = _records(run_tap(base_config(as_csv.url, **ONE_DAY, **extra)))
    params = {"ProgramId": ["1001"]} if brand else None
    truth = as_json.truth(DAY, params, brand=brand)
    assert _keys(json_records) == _keys(truth)
    assert csv_records == json_records
    assert as_csv.count("Download") == 1  # one unpaged file
    texts = {r.get("AdName") for r in csv_records} | {r.get("SearchText") for r in csv_records}
    for special in (",", '"', "\n"):  # quoted commas, quotes and line breaks came through
        assert any(special in text for text in texts if text), (special, sorted(map(str, texts)))
    assert brand or any(r.get("extra_fields") for r in csv_records)  # LoyaltyTier


def test_csv_served_with_a_json_content_type_is_read_as_csv(make_sandbox: MakeSandbox) -> None:
    rows = [["Id", "ProgramId", "EventDate", "Payout", "UniqueClick", "CustomerCountry"],
            ["9", "1001", "2026-03-05T10:00:00-05:00", "2.50", "true", "NA"],
            ["9", "1002", "2026-03-05T11:00:00-05:00", "n/a", "FALSE", "n/a"]]  # fmt: skip
    box = make_sandbox(raw_results={"2026-03-05": _csv(rows)})
    records = _records(run_tap(base_config(box.url, **ONE_DAY)))
    fields = ("Id", "ProgramId", "EventDate", "Payout", "UniqueClick", "CustomerCountry")
    assert [tuple(r[name] for name in fields) for r in records] == [
        ("9", "1001", "2026-03-05T15:00:00+00:00", 2.5, True, "NA"),
        ("9", "1002", "2026-03-05T16:00:00+00:00", None, False, None),
    ]


def test_an_xml_result_is_one_clear_error_not_retried(make_sandbox: MakeSandbox) -> None:
    xml = b'<?xml version="1.0" encoding="UTF-8"?><ClickExport><Clicks/></ClickExport>'
    box = make_sandbox(raw_results={"2026-03-05": xml}, redirect_downloads=False)
    run = run_tap(base_config(box.url, **ONE_DAY))
    assert isinstance(run.error, DataError)
    assert run.error.exit_code == 7
    message = str(run.error)
    assert "\n" not in message
    assert "2026-03-05" in message
    assert "XML" in message
    assert "JSON or CSV" in message
    assert box.count("Download") == 1
    assert run.records == []


@pytest.mark.parametrize(("per_day", "page_size"), [(300, 40), (5000, 2000)])
def test_a_page_corrupt_in_transit_is_read_again_without_repeats(
    make_sandbox: MakeSandbox, per_day: int, page_size: int
) -> None:
    box = make_sandbox(factory=ClickFactory(per_day=per_day), page_size=page_size)
    box.inject("signed", "corrupt", times=1)
    run = run_tap(base_config(box.url, **ONE_DAY))
    records = _records(run)
    assert "downloading it again" in run.logs
    assert _keys(records) == _keys(box.truth(DAY))
    assert len(set(_keys(records))) == per_day
