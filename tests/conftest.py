"""Fixtures: simulated time and sandboxes."""

from __future__ import annotations

import typing as t

import pytest

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.sandbox.simtime import SimClock, simulated_time
from tests.helpers import START
from tests.postgres_server import postgres  # noqa: F401 - the fixture, for the e2e tests

if t.TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def job_ledger_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test its own job ledger (the tap's default place is the user's cache directory).

    Sandboxes number their jobs alike (J000001, …), so a ledger shared between tests could
    hand one test's job to another. The CLI runs of a test inherit the same place.
    """
    home = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("MELTANO_PROJECT_ROOT", raising=False)
    return home


@pytest.fixture
def sim() -> t.Iterator[SimClock]:
    """Simulated time for the tap (and for the SDK's backoff sleeps)."""
    with simulated_time(SimClock(START)) as clock:
        yield clock


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


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    """Print the reliability figures gathered by this session, if any."""
    from tests.reliability_report import report  # noqa: PLC0415

    text = report()
    if text:
        terminalreporter.write_sep("-", "reliability figures")
        terminalreporter.write_line(text)
