"""What the throughput baselines share: export one day and fetch its pages, nothing else.

Kept out of the tap on purpose: the baselines time only decoding and encoding.
"""

from __future__ import annotations

import time
import typing as t

import requests

if t.TYPE_CHECKING:
    from collections.abc import Iterator


def pages(argv: list[str]) -> Iterator[tuple[bytes, t.Callable[[int], None]]]:
    """Export the day `argv` names (API_URL SID TOKEN DATE), wait for it, yield its pages.

    Yields:
        (page body, a callback to tell the page count once the body is read).
    """
    api, sid, token, date = argv[:4]
    session = requests.Session()
    session.auth = (sid, token)
    session.headers["Accept"] = "application/json"
    base = f"{api}/Mediapartners/{sid}"
    job = session.get(f"{base}/ClickExport", params={"Date": date, "ResultFormat": "JSON"}).json()
    job_url = api + job["QueuedUri"]
    while session.get(job_url).json()["Status"] != "COMPLETED":
        time.sleep(0.05)
    count = [1]
    page = 1
    while page <= count[0]:
        yield _download(session, job_url, page), lambda n: count.__setitem__(0, n)
        page += 1


def _download(session: requests.Session, job_url: str, page: int) -> bytes:
    """One result page (asked again while the sandbox answers 202, not ready)."""
    while True:
        response = session.get(f"{job_url}/Download", params={"Page": page})
        response.raise_for_status()
        if response.status_code != requests.codes.accepted:
            return response.content
        time.sleep(0.05)
