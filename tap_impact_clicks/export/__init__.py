"""The export flow: which days, which jobs, how many exports, until each day's job is done.

Owns the plan (the days since the bookmark that have ended), the daily ClickExport quota,
the job ledger (a local file of submitted jobs, so a lost state never repeats an export),
the stream state's document (bookmark, jobs in flight, the window of done jobs), polling a
job until it is COMPLETED (and replaying a FAILED one, following the job the Replay answer
names), the window of jobs in flight emitted in date order, and ``lookback_days``. It hands
each completed job to a reader it is given: it never reads results itself. May import
:mod:`tap_impact_clicks.impact` and the rooms below it.
"""
