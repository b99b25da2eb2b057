"""Stream maps (the SDK's ``stream_maps``) apply to every record; one that fails on a record
stops the run with one line naming it, before any export is spent."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_impact_clicks.runtime.errors import SettingError
from tap_impact_clicks.tap import TapImpactClicks
from tests.helpers import base_config, run_tap

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_impact_clicks.sandbox import Sandbox

    MakeSandbox = Callable[..., Sandbox]

ONE_DAY = {"start_date": "2026-03-05", "end_date": "2026-03-05"}


def test_stream_maps_apply_to_every_record(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(page_size=25)
    maps = {"clicks": {"IpAddress": "__NULL__", "program_and_id": "ProgramId + '/' + Id"}}
    run = run_tap(base_config(box.url, stream_maps=maps, **ONE_DAY))
    assert run.error is None
    truth = box.truth(dt.date(2026, 3, 5))
    assert [r["program_and_id"] for r in run.records] == [
        f"{c['ProgramId']}/{c['Id']}" for c in truth
    ]
    assert all("IpAddress" not in r for r in run.records)
    assert all(r["ProgramName"] for r in run.records)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]["properties"]
    assert "IpAddress" not in schema
    assert "program_and_id" in schema


@pytest.mark.parametrize(
    ("maps", "deselected", "named"),
    [
        ({"clicks": {"per_id": "nosuchfn(Id)"}}, None, "clicks.per_id = 'nosuchfn(Id)'"),
        ({"clicks": {"ip": "IpAddress + '!'"}}, "IpAddress", "clicks.ip = \"IpAddress + '!'\""),
    ],
)  # fmt: skip
def test_a_broken_stream_map_stops_before_any_export(
    make_sandbox: MakeSandbox, maps: dict[str, t.Any], deselected: str | None, named: str
) -> None:
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-06", stream_maps=maps)
    catalog = None
    if deselected is not None:  # the map reads a field the catalog leaves out
        catalog = TapImpactClicks(config=config, validate_config=False).catalog_dict
        for entry in catalog["streams"][0]["metadata"]:
            if entry["breadcrumb"] == ["properties", deselected]:
                entry["metadata"]["selected"] = False
    run = run_tap(config, catalog=catalog)
    assert isinstance(run.error, SettingError)
    assert str(run.error).startswith(f"stream_maps: {named} fails on a sample record")
    assert "\n" not in str(run.error)
    assert box.count("ClickExport") == 0
    assert run.records == []
