"""Many accounts: one inherited extractor per impact.com account, each with its own state.

Two sandboxes stand for two accounts (their own Account SID, token and daily ClickExport
limit). ``tap-impact-clicks`` syncs account A and ``tap-impact-clicks--account-b`` (in
meltano.yml, ``inherit_from: tap-impact-clicks``) account B, both configured from one
environment, as an orchestrator would run them. Each must keep its own state ID, bookmark,
jobs and quota ledger, and each sandbox must see only its own account's requests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import typing as t
import uuid

import pytest

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import meltano

if t.TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

TAP_A = "tap-impact-clicks"
TAP_B = "tap-impact-clicks--account-b"
#: Meltano's prefix for the inherited plugin's settings (its name, `-` read as `_`).
B = "TAP_IMPACT_CLICKS__ACCOUNT_B_"
LOADER = "target-jsonl"
LIMIT_A, LIMIT_B = 3, 10


def _state(state_id: str, env: dict[str, str]) -> dict[str, t.Any]:
    out = meltano(["--environment=sandbox", "state", "get", state_id], env).stdout
    return t.cast("dict[str, t.Any]", json.loads(out)["singer_state"]["bookmarks"]["clicks"])


def _synced_days(state: dict[str, t.Any], start: dt.date) -> set[str]:
    """The days a state says were synced: from start_date to its bookmark."""
    last = dt.date.fromisoformat(state["replication_key_value"])
    return {(start + dt.timedelta(days=n)).isoformat() for n in range((last - start).days + 1)}


def _records(directory: Path) -> list[dict[str, t.Any]]:
    path = directory / "clicks.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_two_inherited_extractors_keep_their_own_state_and_quota(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    start = today - dt.timedelta(days=7)  # 6 or 7 ended days: more than account A's quota
    config_a = SandboxConfig(account_sid="IRACCOUNTA", auth_token="token-a",
                             daily_limit=LIMIT_A, latency=0.3, page_size=13)  # fmt: skip
    config_b = SandboxConfig(account_sid="IRACCOUNTB", auth_token="token-b",
                             daily_limit=LIMIT_B, latency=0.3, page_size=13)  # fmt: skip
    with Sandbox(config_a) as box_a, Sandbox(config_b) as box_b:
        out_a, out_b = tmp_path / "a", tmp_path / "b"
        out_a.mkdir()
        out_b.mkdir()
        # One environment for both, as a scheduler has it: the parent's settings under
        # TAP_IMPACT_CLICKS_*, account B's under its own prefix (what B does not set, here
        # start_date, it inherits from the parent). A separate system database keeps this
        # test's state apart from the project's.
        env = {
            **os.environ,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
            "TAP_IMPACT_CLICKS_ACCOUNT_SID": box_a.config.account_sid,
            "TAP_IMPACT_CLICKS_AUTH_TOKEN": box_a.config.auth_token,
            "TAP_IMPACT_CLICKS_API_URL": box_a.url,
            "TAP_IMPACT_CLICKS_START_DATE": start.isoformat(),
            "TAP_IMPACT_CLICKS_DAILY_EXPORT_LIMIT": str(LIMIT_A),
            f"{B}ACCOUNT_SID": box_b.config.account_sid,
            f"{B}AUTH_TOKEN": box_b.config.auth_token,
            f"{B}API_URL": box_b.url,
            f"{B}DAILY_EXPORT_LIMIT": str(LIMIT_B),
        }
        meltano(["install", TAP_A, TAP_B, LOADER], env)  # B shares A's venv
        suffix = uuid.uuid4().hex

        def run(tap: str, out: Path) -> None:
            args = ["--environment=sandbox", "run", f"--state-id-suffix={suffix}", tap, LOADER]
            meltano(args, {**env, "TARGET_JSONL_DESTINATION_PATH": str(out)})

        run(TAP_A, out_a)
        run(TAP_B, out_b)

        # Two state IDs, one per extractor.
        id_a = f"sandbox:{TAP_A}-to-{LOADER}:{suffix}"
        id_b = f"sandbox:{TAP_B}-to-{LOADER}:{suffix}"
        listed = meltano(["--environment=sandbox", "state", "list"], env).stdout.split()
        assert sorted(listed) == sorted([id_a, id_b])
        state_a, state_b = _state(id_a, env), _state(id_b, env)

        # Each sandbox saw only its own account, and each state holds only its own days.
        days_a, days_b = set(box_a.export_dates), set(box_b.export_dates)
        assert len(days_a) == LIMIT_A, "account A stopped at its own quota"
        assert len(days_b) >= 6, "account B synced every ended day"
        assert days_a < days_b
        assert _synced_days(state_a, start) == days_a
        assert _synced_days(state_b, start) == days_b
        assert not state_a.get("jobs")
        assert not state_b.get("jobs")
        assert all(job.day.isoformat() in days_a for job in box_a.jobs.values())
        # Each quota ledger counts its own account's ClickExport calls only.
        assert state_a["exports"] == {"utc_day": today.isoformat(), "count": LIMIT_A}
        assert state_b["exports"] == {"utc_day": today.isoformat(), "count": len(days_b)}
        assert box_a.count("ClickExport") == LIMIT_A
        assert box_b.count("ClickExport") == len(days_b)
        assert box_a.exports_by_day == {today.isoformat(): LIMIT_A}
        assert box_b.exports_by_day == {today.isoformat(): len(days_b)}
        # ... and each loader got its own account's clicks.
        records_a, records_b = _records(out_a), _records(out_b)
        assert len(records_a) == sum(box_a.served_clicks.values()) > 0
        assert len(records_b) == sum(box_b.served_clicks.values()) > 0
        assert {r["export_date"] for r in records_a} == days_a
        assert {r["export_date"] for r in records_b} == days_b

        # Again the same day: A's own ledger says its quota is spent (no ClickExport call at
        # all), whatever B did; B has nothing new. Neither state moved the other.
        run(TAP_A, out_a)
        run(TAP_B, out_b)
        assert box_a.count("ClickExport") == LIMIT_A
        assert box_b.count("ClickExport") == len(days_b)
        assert _state(id_a, env)["replication_key_value"] == max(days_a)
        assert _state(id_b, env)["exports"]["count"] == len(days_b)

        # Account B without its own credentials does not borrow account A's (inherited from
        # the parent's TAP_IMPACT_CLICKS_* variables): meltano.yml blanks them for B.
        before = dict(box_a.calls)
        unset = {k: v for k, v in env.items() if not k.startswith(f"{B}A")}  # SID, token, URL
        failed = meltano(
            ["--environment=sandbox", "run", f"--state-id-suffix={uuid.uuid4().hex}",
             TAP_B, LOADER], {**unset, "TARGET_JSONL_DESTINATION_PATH": str(tmp_path)}, ok=False,
        )  # fmt: skip
        assert failed.returncode != 0
        assert "account_sid" in failed.stderr
        assert box_a.calls == before
