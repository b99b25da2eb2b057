"""Throughput baseline: the same pages, the same RECORD lines, the standard json module only.

Usage: python benchmarks/baseline.py API_URL SID TOKEN DATE
"""

from __future__ import annotations

import json
import sys
import time

import requests


def download(session: requests.Session, job_url: str, page: int) -> bytes:
    """One result page (asked again while the sandbox answers 202, not ready)."""
    while True:
        response = session.get(f"{job_url}/Download", params={"Page": page})
        response.raise_for_status()
        if response.status_code != requests.codes.accepted:
            return response.content
        time.sleep(0.05)


def main() -> None:
    """Export one day, wait for it, download every page, write RECORD lines to stdout."""
    api, sid, token, date = sys.argv[1:5]
    session = requests.Session()
    session.auth = (sid, token)
    session.headers["Accept"] = "application/json"
    base = f"{api}/Mediapartners/{sid}"
    job = session.get(f"{base}/ClickExport", params={"Date": date, "ResultFormat": "JSON"}).json()
    job_url = api + job["QueuedUri"]
    while session.get(job_url).json()["Status"] != "COMPLETED":
        time.sleep(0.05)
    out = sys.stdout
    page, pages = 1, 1
    while page <= pages:
        body = json.loads(download(session, job_url, page))
        pages = int(body["@numpages"])
        for click in body["Clicks"]:
            out.write(json.dumps({"type": "RECORD", "stream": "clicks", "record": click}) + "\n")
        page += 1
    out.flush()


if __name__ == "__main__":
    main()
