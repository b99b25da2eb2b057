"""The Singer SDK's standard tap tests, against a live sandbox."""

from __future__ import annotations

import datetime as dt

from singer_sdk.testing import get_tap_test_class

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.tap import TapImpactClicks
from tests.helpers import base_config

_SANDBOX = Sandbox(SandboxConfig(latency=0.0, page_size=50)).start()
_TODAY = dt.datetime.now(dt.timezone.utc).date()

TestTapImpactClicks = get_tap_test_class(
    tap_class=TapImpactClicks,
    config=base_config(
        _SANDBOX.url,
        start_date=(_TODAY - dt.timedelta(days=4)).isoformat(),
        timezone="UTC",
        job_poll_interval=0,
    ),
)
