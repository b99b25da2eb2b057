"""Throughput baseline: the same pages, the same RECORD lines, the standard json module only.

Usage: python benchmarks/baseline.py API_URL SID TOKEN DATE
"""

from __future__ import annotations

import json
import sys

from export_job import pages


def main() -> None:
    """Export one day, wait for it, download every page, write RECORD lines to stdout."""
    out = sys.stdout
    for raw, set_page_count in pages(sys.argv[1:]):
        body = json.loads(raw)
        set_page_count(int(body["@numpages"]))
        for click in body["Clicks"]:
            out.write(json.dumps({"type": "RECORD", "stream": "clicks", "record": click}) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
