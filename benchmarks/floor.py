"""Throughput floor: the same pages, RECORD lines, msgspec decode + encode, nothing typed.

The fastest a tap in Python could go on these pages: each page decoded whole at C speed,
each click wrapped in a RECORD message and encoded at C speed, one write per page.

Usage: python benchmarks/floor.py API_URL SID TOKEN DATE
"""

from __future__ import annotations

import sys

import msgspec
from export_job import pages


def main() -> None:
    """Export one day, wait for it, download every page, write RECORD lines to stdout."""
    decoder, encoder = msgspec.json.Decoder(), msgspec.json.Encoder()
    out = sys.stdout.buffer
    for raw, set_page_count in pages(sys.argv[1:]):
        body = decoder.decode(raw)
        set_page_count(int(body["@numpages"]))
        lines = bytearray()
        for click in body["Clicks"]:
            encoder.encode_into({"type": "RECORD", "stream": "clicks", "record": click}, lines, -1)
            lines += b"\n"
        out.write(lines)
    out.flush()


if __name__ == "__main__":
    main()
