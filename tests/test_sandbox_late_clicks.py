"""Late clicks: a run starting ``late_after`` seconds after the day ended includes them.

An export (or a replay) run earlier does not. Late clicks carry Ids no other click has, are
filtered and shaped like the others, follow them across pages, and ``Sandbox.truth`` knows
them (``late=True``, or ``as_of`` a run's start). Time is simulated.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_impact_clicks.sandbox import ClickFactory, Sandbox
from tap_impact_clicks.sandbox.probe import Probe

#: Ended 15 hours before the simulated "now" (2026-03-10 15:00 UTC).
DAY = dt.date(2026, 3, 9)
HOUR = 3600.0
MakeSandbox = t.Callable[..., Sandbox]


def test_late_clicks_come_only_in_runs_that_start_late_enough(
    make_sandbox: MakeSandbox, sim: t.Any
) -> None:
    box = make_sandbox(factory=ClickFactory(per_day=10), page_size=4, late_clicks=5,
                       late_after=20 * HOUR)  # fmt: skip
    probe = Probe.of(box)
    job = probe.export(DAY.isoformat())
    early = probe.clicks(job)
    assert early == box.truth(DAY) == box.truth(DAY, late=False)
    assert early == box.truth(DAY, as_of=sim.time())
    assert len(early) == 10
    sim.advance(5 * HOUR - 1)  # 20 hours after the day ended, less a second
    probe.replay(job)
    assert probe.clicks(job) == early
    assert box.truth(DAY, as_of=sim.time()) == early
    sim.advance(1)
    probe.replay(job)
    late = probe.clicks(job)  # four pages: 4 + 4 + 4 + 3
    assert box.count("Download") == 3 + 3 + 4
    assert len(late) == 15
    assert late[:10] == early
    assert late == box.truth(DAY, late=True) == box.truth(DAY, as_of=sim.utcnow())
    today = dt.date(2026, 3, 10)  # not ended: no run includes its late clicks yet
    assert probe.clicks(probe.export(today.isoformat())) == box.truth(today)
    assert len(box.truth(today)) == 10


def test_late_click_ids_are_new(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(late_clicks=30)
    days = [dt.date(2026, 3, d) for d in range(1, 10)]
    every_id = {c["Id"] for day in days for c in box.truth(day)}
    late_ids = []
    for day in days:
        clicks = box.truth(day, late=True)
        late_ids += [click["Id"] for click in clicks[len(box.truth(day)) :]]
    assert len(late_ids) == 30 * len(days)
    assert len(set(late_ids)) == len(late_ids)  # unique among themselves
    assert not set(late_ids) & every_id  # and unlike every other click's


def test_late_clicks_are_filtered_and_shaped_like_the_others(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(late_clicks=12, api_version=16, redirect_downloads=False)
    probe = Probe.of(box, accept="application/json, application/octet-stream")
    job = probe.export(DAY.isoformat(), ProgramId="1002")
    served = probe.clicks(job)
    assert served == box.truth(DAY, {"ProgramId": ["1002"]}, late=True)
    assert {click.get("ProgramId", "1002") for click in served} == {"1002"}
    plain = box.truth(DAY, {"ProgramId": ["1002"]})
    assert 0 < len(served) - len(plain) < 12  # some of the late clicks are another program's
    assert all(isinstance(click["PartnerRelated"], list) for click in served)
    brand_job = probe.export(DAY.isoformat(), program="1001")
    brand = probe.clicks(brand_job, brand=True)
    assert brand == box.truth(DAY, {"ProgramId": ["1001"]}, brand=True, late=True)
    assert all(isinstance(click["BrandRelated"], dict) for click in brand)
