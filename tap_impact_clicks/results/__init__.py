"""Results: a completed job's clicks, downloaded, read and typed into records.

Owns the stream's schema and key properties, the download of a day's result pages (the
next page prefetched while this one is read; a corrupt page downloaded again; a page that
repeats the one before, or that holds no click list, refused), the readers of JSON and CSV
results (time and memory linear in the body, every value bounded), and the typing of a
click into a flat record in every documented shape. May import :mod:`tap_impact_clicks.impact`
and the rooms below it.
"""
