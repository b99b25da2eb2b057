"""impact.com's API as the tap calls it: requests, answers, rate limits.

Owns the endpoints and their paths, the client (ClickExport, a job's status, the Jobs list,
Download, Replay, CompanyInformation), the reading of every answer as untrusted input
(status codes, error bodies, job objects in every documented shape, bodies bounded in size
and time), and the rate-limit headers. It sends requests through a
:class:`~tap_impact_clicks.impact.client.Transport` (the SDK's HTTP machinery, wired in
:mod:`tap_impact_clicks.singer`). May import :mod:`tap_impact_clicks.runtime` and
:mod:`tap_impact_clicks.settings`.
"""
