"""The local job ledger: a lost state never makes the tap ask impact.com for a day again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tap_impact_clicks.ledger import KEEP_DAYS, JobLedger, default_directory
from tests.helpers import base_config, days_of, run_cli, run_tap

DAY = dt.date(2026, 3, 5)


def test_where_the_ledger_lives(tmp_path):
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


def test_remembers_per_day_filters_and_program(tmp_path, sim):
    ledger = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    ledger.remember(DAY, "", None, "J1")
    ledger.remember(DAY, "AdId=7", None, "J2")
    ledger.remember(DAY, "", "1001", "J3")
    again = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    assert again.find(DAY, "") == "J1"
    assert again.find(DAY, "AdId=7") == "J2"
    assert again.find(DAY, "", "1001") == "J3"
    assert again.find(DAY + dt.timedelta(days=1), "") is None
    document = json.loads(again.path.read_text())
    assert document["account"] == "IR1"
    assert "sandbox-token" not in again.path.read_text()


def test_old_entries_are_dropped(tmp_path, sim):
    ledger = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    ledger.remember(DAY, "", None, "J1")
    sim.advance((KEEP_DAYS + 1) * 86400)
    ledger.remember(DAY + dt.timedelta(days=1), "", None, "J2")
    again = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    assert again.find(DAY, "") is None
    assert again.find(DAY + dt.timedelta(days=1), "") == "J2"


def test_an_unreadable_ledger_is_started_again(tmp_path, sim):
    ledger = JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {})
    assert ledger.path is not None
    ledger.path.write_text("{not json")
    assert ledger.find(DAY, "") is None
    ledger.remember(DAY, "", None, "J1")
    assert (
        JobLedger.for_account(str(tmp_path), "https://api.impact.com", "IR1", {}).find(DAY, "")
        == "J1"
    )


def test_a_lost_state_repeats_no_export(make_sandbox):
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


def test_the_ledger_can_be_turned_off(make_sandbox):
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-05", job_ledger="off")
    run_tap(config)
    run_tap(config)
    assert box.count("ClickExport") == 2


def test_cli_runs_share_the_ledger(make_sandbox, tmp_path):
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-05",
                         job_ledger=str(tmp_path / "ledger"))  # fmt: skip
    for _ in range(2):
        result = run_cli(config, tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
    assert box.count("ClickExport") == 1
    assert list((tmp_path / "ledger").glob("jobs-*.json"))
