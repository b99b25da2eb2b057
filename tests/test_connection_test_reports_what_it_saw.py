"""``--test`` says what impact.com really sent: group shapes, unknown fields, the API version."""

from __future__ import annotations

import typing as t

import pytest

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import base_config, run_cli

if t.TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("version", "pinned", "says"),
    [
        (16, None, ["API version 16 (the account's setting)", "PartnerRelated array of 1",
                    "BrandRelated empty array", "fields the schema does not know: LoyaltyTier"]),
        (None, 16, ["API version 16 (pinned by api_version)", "PartnerRelated array of 1"]),
        (None, None, ["the account's API version is not known", "PartnerRelated flat"]),
    ],
)  # fmt: skip
def test_the_connection_test_reports_the_shapes_it_saw(
    tmp_path: Path, version: int | None, pinned: int | None, says: list[str]
) -> None:
    with Sandbox(SandboxConfig(api_version=version)) as box:
        config = base_config(box.url, job_ledger="off", job_poll_interval=0, api_version=pinned)
        result = run_cli(config, tmp_path, "--test")
        exports = box.count("ClickExport")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count('"type":"RECORD"') + result.stdout.count('"type": "RECORD"') == 1
    assert exports <= 1, "at most one export"
    for words in says:
        assert words in result.stderr, words
    assert "Jobs list is not available" not in result.stderr, "the list's bounds were accepted"
