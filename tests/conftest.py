"""Fixtures: simulated time and sandboxes."""

from __future__ import annotations

import typing as t

import backoff._sync
import pytest

from tap_impact_clicks import clock
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import SimClock


class _FakeTimeModule:
    def __init__(self, sim: SimClock) -> None:
        self.sleep = sim.sleep
        self.time = sim.time
        self.monotonic = sim.monotonic


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> SimClock:
    """Simulated time for the tap (and for the SDK's backoff sleeps)."""
    sim = SimClock()
    monkeypatch.setattr(clock, "monotonic", sim.monotonic)
    monkeypatch.setattr(clock, "sleep", sim.sleep)
    monkeypatch.setattr(clock, "utcnow", sim.utcnow)
    monkeypatch.setattr(backoff._sync, "time", _FakeTimeModule(sim))
    return sim


@pytest.fixture
def make_sandbox(sim: SimClock) -> t.Iterator[t.Callable[..., Sandbox]]:
    """Start sandboxes on the simulated clock; all are stopped at the end."""
    started: list[Sandbox] = []

    def make(**kwargs: t.Any) -> Sandbox:
        kwargs.setdefault("clock", sim.time)
        box = Sandbox(SandboxConfig(**kwargs)).start()
        started.append(box)
        return box

    yield make
    for box in started:
        assert box.credential_leaks == 0, "credentials were sent to a signed URL"
        box.stop()
