"""The Singer SDK's standard tap tests, against a live sandbox."""

from __future__ import annotations

import atexit
import datetime as dt

from singer_sdk.testing import get_tap_test_class

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.tap import TapImpactClicks
from tests.helpers import base_config

# The SDK builds the test class (and a tap, to list its streams) at import, so the sandbox
# must be listening by then. It is stopped once this module's tests are done; at exit when
# they were all deselected (``-m e2e``, ``-m reliability``) and teardown_module never runs.
_SANDBOX = Sandbox(SandboxConfig(latency=0.0, page_size=50)).start()
atexit.register(_SANDBOX.stop)
_TODAY = dt.datetime.now(dt.timezone.utc).date()

TestTapImpactClicks = get_tap_test_class(
    tap_class=TapImpactClicks,
    config=base_config(
        _SANDBOX.url,
        start_date=(_TODAY - dt.timedelta(days=4)).isoformat(),
        timezone="UTC",
        job_poll_interval=0,
        job_ledger="off",
    ),
)


def teardown_module() -> None:
    """Stop the sandbox after the SDK's tests (Sandbox.stop may be called twice)."""
    _SANDBOX.stop()
