"""The local job ledger: a lost state never makes the tap ask impact.com for a day again."""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from pathlib import Path

import pytest

from tap_impact_clicks.export.ledger import KEEP_DAYS, JobLedger, default_directory
from tap_impact_clicks.runtime.errors import SettingError
from tests.helpers import MakeSandbox, base_config, days_of, run_cli, run_tap

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.simtime import SimClock

DAY = dt.date(2026, 3, 5)


def test_where_the_ledger_lives(tmp_path: Path) -> None:
    assert default_directory({"MELTANO_PROJECT_ROOT": "/p"}) == Path(
        "/p/.meltano/run/tap-impact-clicks"
    )
    assert default_directory({"XDG_CACHE_HOME": "/c"}) == Path("/c/tap-impact-clicks")
    assert JobLedger.for_account("off", "https://api.impact.com", "IR1", {}).path is None
    mine = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    other = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR2", {})
    assert mine.path is not None
    assert mine.path.parent == tmp_path
    assert mine.path != other.path, "one file per API host and account"


def test_remembers_per_day_filters_and_program(tmp_path: Path, sim: SimClock) -> None:
    ledger = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    ledger.remember(DAY, "", None, "J1")
    ledger.remember(DAY, "AdId=7", None, "J2")
    ledger.remember(DAY, "", "1001", "J3")
    again = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    assert again.find(DAY, "") == "J1"
    assert again.find(DAY, "AdId=7") == "J2"
    assert again.find(DAY, "", "1001") == "J3"
    assert again.find(DAY + dt.timedelta(days=1), "") is None
    assert again.path is not None
    document = json.loads(again.path.read_text())
    assert document["account"] == "IR1"
    assert "sandbox-token" not in again.path.read_text()


def test_old_entries_are_dropped(tmp_path: Path, sim: SimClock) -> None:
    ledger = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    ledger.remember(DAY, "", None, "J1")
    sim.advance((KEEP_DAYS + 1) * 86400)
    ledger.remember(DAY + dt.timedelta(days=1), "", None, "J2")
    again = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    assert again.find(DAY, "") is None
    assert again.find(DAY + dt.timedelta(days=1), "") == "J2"


@pytest.mark.parametrize("content", ["{not json", '{"jobs": ["J1"]}', "[]", '{"jobs": {"k": 1}}'])
def test_an_unreadable_ledger_stops_the_run_and_is_kept(
    tmp_path: Path, sim: SimClock, content: str
) -> None:
    ledger = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    assert ledger.path is not None
    ledger.path.write_text(content)
    with pytest.raises(SettingError, match=r"^job_ledger: the file .* move it away"):
        ledger.find(DAY, "")
    assert ledger.path.read_text() == content


def test_a_lost_state_repeats_no_export(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=600, job_script={"2026-03-07": ["NEVER"]})
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-08",
                         job_timeout=900)  # fmt: skip
    first = run_tap(config)
    assert first.error is not None  # 03-07 never finishes: the run stops there
    assert box.count("ClickExport") == 4
    box.config.job_script.clear()
    box.store.jobs["J000003"].script = []  # the job of 03-07 completes now
    # The state is lost (as after `meltano config test`): the ledger still knows the jobs.
    second = run_tap(config)
    assert second.error is None, second.error
    assert box.count("ClickExport") == 4, "no day asked for twice"
    assert "local job ledger knows export job" in second.logs
    expected = {f"2026-03-0{d}": len(box.truth(dt.date(2026, 3, d))) for d in (5, 6, 7, 8)}
    assert days_of(second.records) == {k: v for k, v in expected.items() if v}


def test_a_lost_state_keeps_todays_export_count(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-01", end_date="2026-03-03",
                         daily_export_limit=5)  # fmt: skip
    assert run_tap(config).error is None
    assert box.count("ClickExport") == 3
    # The state is lost; the next run wants 5 more days: the ledger says 3 calls are spent.
    later = run_tap({**config, "end_date": "2026-03-08"})
    assert later.error is None, later.error
    assert box.count("ClickExport") == 5, "2 left of 5: not 5 more"
    assert "Daily ClickExport limit reached" in later.logs
    assert set(days_of(later.records)) <= {f"2026-03-0{d}" for d in range(1, 6)}
    assert later.bookmark["replication_key_value"] == "2026-03-05"
    assert later.bookmark["exports"]["count"] == 2, "this state's own calls"


def test_the_ledger_can_be_turned_off(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-05", job_ledger="off")
    run_tap(config)
    run_tap(config)
    assert box.count("ClickExport") == 2


def test_cli_runs_share_the_ledger(make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-05",
                         job_ledger=str(tmp_path / "ledger"))  # fmt: skip
    for _ in range(2):
        result = run_cli(config, tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
    assert box.count("ClickExport") == 1
    assert list((tmp_path / "ledger").glob("jobs-*.json"))


def _test_run(config: dict[str, t.Any], tmp_path: Path) -> list[dict[str, t.Any]]:
    result = run_cli(config, tmp_path, "--test")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ERROR" not in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_connection_test_spends_at_most_one_export(tmp_path: Path) -> None:
    from tap_impact_clicks.sandbox import Sandbox, SandboxConfig  # noqa: PLC0415

    with Sandbox(SandboxConfig(latency=0.2)) as box:
        config = base_config(box.url, start_date="2026-01-01", job_poll_interval=0.05,
                             timezone="UTC")  # fmt: skip
        first = _test_run(config, tmp_path)
        assert box.count("ClickExport") == 1, "nothing listed: the last ended day, once"
        assert not [m for m in first if m["type"] == "STATE" and "replication_key_value" in
                    m["value"]["bookmarks"].get("clicks", {})], "no bookmark moves"  # fmt: skip
        assert [m["type"] for m in first].count("RECORD") == 1
        second = _test_run(config, tmp_path)
        assert box.count("ClickExport") == 1, "a second --test spends none"
        assert [m["type"] for m in second].count("RECORD") == 1


def test_connection_test_reads_a_job_impact_com_lists(tmp_path: Path) -> None:
    from tap_impact_clicks.sandbox import Sandbox, SandboxConfig  # noqa: PLC0415

    with Sandbox(SandboxConfig()) as box:
        config = base_config(box.url, start_date="2026-01-01", end_date="2026-01-02",
                             job_poll_interval=0)  # fmt: skip
        assert run_cli(config, tmp_path).returncode == 0  # an earlier sync: jobs completed
        exports = box.count("ClickExport")
        test_config = {**config, "job_ledger": "off"}  # only the list can say
        messages = _test_run(test_config, tmp_path)
        assert box.count("ClickExport") == exports
        assert box.count("JobList") >= 1
        records = [m["record"] for m in messages if m["type"] == "RECORD"]
        assert len(records) == 1
        assert records[0]["export_date"] in {"2026-01-01", "2026-01-02"}
