"""Result bodies: JSON read in batches, flat memory; CSV read as the same clicks; XML refused."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import typing as t

import pytest
import requests

from tap_impact_clicks.client import spool
from tap_impact_clicks.runtime.errors import DataError
from tap_impact_clicks.results.records import Normaliser
from tap_impact_clicks.results import CorruptBodyError, ResultReader, UnsupportedFormatError, sniff
from tap_impact_clicks.sandbox import ClickFactory
from tap_impact_clicks.sandbox.__main__ import build_parser, config_from
from tap_impact_clicks.sandbox.render import render_csv
from tests.helpers import base_config, run_tap

DAY = dt.date(2026, 3, 5)
ONE_DAY = {"start_date": "2026-03-05", "end_date": "2026-03-05"}
TRICKY = ('He said "hi", twice', "two\nlines, one comma", '}],{"Id":"x"},', "crlf\r\nend")


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


def _read(raw: bytes, **kwargs: t.Any) -> tuple[list[dict[str, t.Any]], ResultReader]:
    reader = ResultReader(io.BytesIO(raw), **kwargs)
    return list(reader), reader


def _clicks(n: int) -> list[dict[str, t.Any]]:
    factory = TrickyFactory(per_day=n)
    return [factory.click(DAY, i) for i in range(n)]


# -- JSON in batches ------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [7, 100, 4096, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_json_batches_give_every_click_whatever_the_cuts(chunk, indent):
    clicks = _clicks(60)  # nested groups, unknown fields, "}],{" inside strings
    for body in (clicks, {"@page": "1", "@numpages": "1", "Clicks": clicks, "@total": "60"}):
        raw = json.dumps(body, indent=indent).encode()
        got, reader = _read(raw, chunk=chunk, whole=0)
        assert got == clicks
        assert reader.count == 60
        assert reader.format == "json"
        if isinstance(body, dict):
            assert reader.meta["@numpages"] == "1"
            assert reader.meta["@total"] == "60"


def test_json_buffer_stays_about_one_chunk_whatever_the_body():
    raw = json.dumps({"@numpages": "1", "Clicks": _clicks(4000)}).encode()  # ~2 MB
    reader = ResultReader(io.BytesIO(raw), chunk=8192, whole=0)
    largest = 0
    for _ in reader:
        largest = max(largest, len(reader._buf))
    assert reader.count == 4000
    assert largest <= 3 * 8192  # memory follows the chunk, not the page


def test_json_click_longer_than_a_chunk():
    clicks = [{"Id": "1", "ProgramId": "2", "AdName": "x" * 5000}, {"Id": "2", "ProgramId": "2"}]
    assert _read(json.dumps(clicks).encode(), chunk=64, whole=0)[0] == clicks


def test_json_bom_is_skipped():
    clicks = [{"Id": "1", "ProgramId": "2"}]
    assert _read(b"\xef\xbb\xbf" + json.dumps(clicks).encode(), whole=0)[0] == clicks


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_corrupt_json_yields_only_the_good_clicks_before_it(where):
    clicks = _clicks(300)
    raw = json.dumps({"Clicks": clicks}).encode()
    middle = int(len(raw) * where)
    raw = raw[:middle] + b"\x00}{\xff" + raw[middle + 4 :]
    reader = ResultReader(io.BytesIO(raw), chunk=2048, whole=0)
    got = []
    with pytest.raises(CorruptBodyError):
        got.extend(reader)
    assert got == clicks[: len(got)]
    assert reader.count == len(got)
    assert len(got) < 300


# -- format --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "content_type", "expected"),
    [
        (b'{"Clicks": []}', "", "json"),
        (b"  [ ]", "text/csv", "json"),
        (b"Id,ProgramId,EventDate\r\n1,2,x", "application/json", "csv"),
        (b"\xef\xbb\xbfId,ProgramId\n", "", "csv"),
        (b"Foo;Bar\n1;2", "text/csv; charset=utf-8", "csv"),
    ],
)
def test_sniff_recognises_json_and_csv(head, content_type, expected):
    assert sniff(head, content_type) == expected


@pytest.mark.parametrize(
    ("head", "content_type"),
    [(b'<?xml version="1.0"?><ClickExport/>', ""), (b"<Clicks></Clicks>", ""),
     (b"Id,ProgramId", "application/xml")],
)  # fmt: skip
def test_sniff_refuses_xml(head, content_type):
    with pytest.raises(UnsupportedFormatError, match="XML"):
        sniff(head, content_type)


@pytest.mark.parametrize("head", [b"", b"  \n", b"<html><body>oops</body></html>", b"garbage"])
def test_sniff_calls_other_bodies_corrupt(head):
    with pytest.raises(CorruptBodyError):
        sniff(head, "")


# -- CSV -----------------------------------------------------------------------------------


def _csv(rows: list[list[str]], terminator: str = "\r\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=terminator).writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize("terminator", ["\r\n", "\n"])
def test_csv_quoted_commas_quotes_and_newlines(terminator):
    raw = _csv(
        [["Id", "ProgramId", "AdName", "LoyaltyTier", "PartnerRelated.SubId1", "PartnerRelated.X"],
         ["1", "1001", 'a, "b"\nc', "", "s1", ""],
         ["2", "1001", "line1\r\nline2", "gold", "", ""]],
        terminator,
    )  # fmt: skip
    got, reader = _read(raw, chunk=5)
    assert reader.format == "csv"
    assert got == [
        {"Id": "1", "ProgramId": "1001", "AdName": 'a, "b"\nc',
         "PartnerRelated": {"SubId1": "s1", "X": ""}},
        {"Id": "2", "ProgramId": "1001", "AdName": "line1\r\nline2", "LoyaltyTier": "gold"},
    ]  # fmt: skip
    assert reader.count == 2
    assert reader.meta == {}  # no @numpages: one page


@pytest.mark.parametrize(
    "raw",
    [b'Id,ProgramId\n1,2\n3,"unterminated', b"Id,ProgramId\n1,2,3\n", b"Id,ProgramId\n\xff,2\n"],
)
def test_csv_broken_bodies_are_corrupt(raw):
    with pytest.raises(CorruptBodyError):
        _read(raw)


@pytest.mark.parametrize("brand", [False, True])
def test_csv_clicks_normalise_to_the_json_records(brand):
    factory = TrickyFactory(per_day=80)
    clicks = [factory.click(DAY, i, brand=brand) for i in range(80)]
    got, _ = _read(render_csv(clicks), chunk=300)
    normaliser = Normaliser(None)
    expected = [normaliser.normalise(json.loads(json.dumps(c)), "2026-03-05") for c in clicks]
    assert [normaliser.normalise(c, "2026-03-05") for c in got] == expected


def test_spool_keeps_the_content_type():
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "text/csv"
    response.raw = io.BytesIO(b"Id,ProgramId\n1,2\n")
    with spool(response, "a page") as body:
        assert getattr(body, "content_type", "") == "text/csv"
        reader = ResultReader(body, content_type="text/csv")
        assert list(reader) == [{"Id": "1", "ProgramId": "2"}]


# -- through the tap -----------------------------------------------------------------------


def _records(run: t.Any) -> list[dict[str, t.Any]]:
    assert run.error is None, run.logs[-2000:]
    return run.records


@pytest.mark.parametrize("brand", [False, True])
def test_csv_day_gives_the_same_records_as_json(make_sandbox, brand):
    factory = TrickyFactory(per_day=250)
    extra = {"account_type": "brand", "program_ids": ["1001"]} if brand else {}
    as_json = make_sandbox(factory=factory, page_size=40)
    as_csv = make_sandbox(factory=factory, result_format="CSV")
    json_records = _records(run_tap(base_config(as_json.url, **ONE_DAY, **extra)))
    csv_records = _records(run_tap(base_config(as_csv.url, **ONE_DAY, **extra)))
    assert json_records, "the day has clicks"
    assert csv_records == json_records
    assert as_csv.count("Download") == 1  # one unpaged file
    texts = {r.get("AdName") for r in csv_records} | {r.get("SearchText") for r in csv_records}
    texts.discard(None)
    for special in (",", '"', "\n"):  # quoted commas, quotes and line breaks came through
        assert any(special in text for text in texts), (special, sorted(texts))
    assert brand or any(r.get("extra_fields") for r in csv_records)  # LoyaltyTier


def test_csv_served_with_a_json_content_type_is_sniffed(make_sandbox):
    rows = [["Id", "ProgramId", "EventDate", "Payout", "UniqueClick", "CustomerCountry"],
            ["9", "1001", "2026-03-05T10:00:00-05:00", "2.50", "true", "NA"],
            ["9", "1002", "2026-03-05T11:00:00-05:00", "n/a", "FALSE", "n/a"]]  # fmt: skip
    box = make_sandbox(raw_results={"2026-03-05": _csv(rows)})
    records = _records(run_tap(base_config(box.url, **ONE_DAY)))
    fields = ("Id", "ProgramId", "Payout", "UniqueClick", "CustomerCountry")
    assert [tuple(r[name] for name in fields) for r in records] == [
        ("9", "1001", 2.5, True, "NA"),
        ("9", "1002", None, False, None),
    ]


def test_xml_result_is_one_clear_error_not_retried(make_sandbox):
    xml = b'<?xml version="1.0" encoding="UTF-8"?><ClickExport><Clicks/></ClickExport>'
    box = make_sandbox(raw_results={"2026-03-05": xml}, redirect_downloads=False)
    run = run_tap(base_config(box.url, **ONE_DAY))
    assert isinstance(run.error, DataError)
    message = str(run.error)
    assert "\n" not in message
    assert "2026-03-05" in message
    assert "XML" in message
    assert "JSON or CSV" in message
    assert box.count("Download") == 1


def test_sandbox_cli_result_format():
    parser = build_parser()
    assert config_from(parser.parse_args([]), parser).result_format == "JSON"
    assert config_from(parser.parse_args(["--result-format", "csv"]), parser).result_format == "CSV"
    with pytest.raises(SystemExit):
        parser.parse_args(["--result-format", "xml"])
