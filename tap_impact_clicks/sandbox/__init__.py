"""A built-in impact.com stand-in on loopback, for tests, benchmarks and demos.

The sandbox owns impact.com's side of the conversation: ClickExport, Jobs and the Jobs list,
Download (202, 302 to a signed URL, pages), Replay (three behaviours), CompanyInformation,
the account's API version and per-request pins, content negotiation, rate-limit headers and
limits, late clicks, injected and random faults, hostile answers, and the calls report
(``GET /_sandbox/calls``). It imports nothing from the tap except ``tap_impact_clicks.clock``
(for ``simtime``, so a simulated clock can drive the tap and a sandbox together): a test of
the tap never checks the tap against the tap's own ideas.
"""

from __future__ import annotations

from tap_impact_clicks.sandbox.data import ClickFactory
from tap_impact_clicks.sandbox.server import Fault, Sandbox, SandboxConfig

__all__ = ["ClickFactory", "Fault", "Sandbox", "SandboxConfig"]
