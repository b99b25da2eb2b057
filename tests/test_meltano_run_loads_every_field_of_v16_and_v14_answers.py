"""End to end: `meltano run` loads every field of every click from v16 and v14 answers.

The sandbox answers as the vendor's OpenAPI documents show (partner v16: ``PartnerRelated`` an
array of objects, integers and booleans as JSON types, results as octet-stream; brand v14:
both groups objects), and ``meltano run tap-impact-clicks target-jsonl`` loads them; each
loaded record must equal the click served, field by field (``tests/click_truth.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
import uuid

import pytest

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.click_truth import check_every_field
from tests.helpers import assert_no_secret, meltano, sandbox_env

if t.TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

PROGRAMS = ["1001", "1002"]


@pytest.mark.parametrize(
    ("brand", "version"), [(False, 16), (True, 14)], ids=["partner-v16", "brand-v14"]
)
def test_meltano_run_loads_every_field_of_every_click(
    tmp_path: Path, brand: bool, version: int
) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    days = [today - dt.timedelta(days=5), today - dt.timedelta(days=4)]
    out = tmp_path / "out"
    # The sandbox serves brand answers two versions behind the partner version it is given.
    with Sandbox(SandboxConfig(latency=0.3, page_size=40, api_version=16)) as box:
        settings = {
            "TAP_IMPACT_CLICKS_END_DATE": days[-1].isoformat(),
            "TAP_IMPACT_CLICKS_API_VERSION": str(version),
            "TARGET_JSONL_DESTINATION_PATH": str(out),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        }
        if brand:
            settings["TAP_IMPACT_CLICKS_ACCOUNT_TYPE"] = "brand"
            settings["TAP_IMPACT_CLICKS_PROGRAM_IDS"] = json.dumps(PROGRAMS)
        env = sandbox_env(box, days[0], **settings)
        meltano(["install", "tap-impact-clicks", "target-jsonl"], env)
        result = meltano(["--environment=sandbox", "run", f"--state-id-suffix={uuid.uuid4().hex}",
                          "tap-impact-clicks", "target-jsonl"], env)  # fmt: skip
        with (out / "clicks.jsonl").open(encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle]
        checked = check_every_field(records, box, days=days, programs=PROGRAMS, brand=brand,
                                    version=version)  # fmt: skip
        assert checked == len(records) > 20
        group = "AdCampaign" if brand else "SubId1"
        assert any(record.get(group) for record in records), f"{group}: the nested group's fields"
        assert all(record["EventDate"].endswith("+00:00") for record in records)
        assert box.count("ClickExport") == len(days) * (len(PROGRAMS) if brand else 1)
        assert_no_secret(result.stdout + result.stderr)
