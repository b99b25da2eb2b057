"""Reading an answer's body as untrusted input: bounded in size, in time, and once.

Every body is read in pieces of at most :data:`PIECE` bytes (``read1``: a piece comes as soon
as the network has one, so a trickling server is noticed), decompressed a piece at a time
(a gzip bomb stops at the size limit, not in memory), and given an overall deadline:
``request_timeout`` for the first byte, plus one second for every :data:`MIN_RATE` bytes —
a body that arrives slower than that is a timeout, retried like one. API answers (a job, a
ClickExport) are read into memory up to :data:`ANSWER_LIMIT`; a result page is spooled to a
temporary file up to ``download_limit_mb``, hashed as it goes (a page identical to the one
before is noticed without a second read).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
import typing as t

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from tap_impact_clicks.runtime.errors import DataError

PIECE = 64 << 10
#: A job, ClickExport or Replay answer is a few hundred bytes; a Jobs list a few KiB a job.
ANSWER_LIMIT = 1 << 20
JOB_LIST_LIMIT = 16 << 20
#: Slowest average a body may arrive at, after ``request_timeout`` for its start (bytes/s).
MIN_RATE = 32 << 10
#: A result page up to this size stays in memory; larger ones go to a temporary file.
SPOOL_IN_MEMORY = 2 << 20


class SlowBodyError(requests.exceptions.Timeout):
    """The body arrived slower than the deadline allows (retried like a read timeout)."""


class ResultBody(tempfile.SpooledTemporaryFile[bytes]):
    """A downloaded result page: spooled, with its Content-Type and a digest of its bytes."""

    content_type: str = ""
    digest: str = ""


def _pieces(
    response: requests.Response, limit: int, timeout: float, what: str, hint: str = ""
) -> t.Iterator[bytes]:
    """The body's (decoded) bytes a piece at a time, within the size and time limits.

    Raises:
        DataError: The body is larger than ``limit``.
        SlowBodyError: It arrives too slowly.
    """
    started, total, raw = time.monotonic(), 0, response.raw  # real time: it measures I/O
    try:
        while True:
            piece = raw.read1(PIECE, decode_content=True)
            if not piece:
                return
            total += len(piece)
            if total > limit:
                msg = f"{what} is larger than {limit >> 20} MiB{hint}"
                raise DataError(msg)
            if time.monotonic() - started > timeout + total / MIN_RATE:
                took = time.monotonic() - started
                msg = f"{what} is arriving too slowly ({total} bytes in {took:.0f} s)"
                raise SlowBodyError(msg)
            yield piece
    except ProtocolError as exc:  # as requests' iter_content maps urllib3's failures
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc) from None
    finally:
        response.close()


def read_answer(
    response: requests.Response, timeout: float, what: str, limit: int = ANSWER_LIMIT
) -> bytes:
    """Read a (streamed) API answer whole, within the limits.

    Args:
        response: The answer, its body not yet read.
        timeout: ``request_timeout`` (seconds).
        what: What it is, for messages (``the answer of Jobs``).
        limit: The largest body accepted.

    Returns:
        The body.
    """
    return b"".join(_pieces(response, limit, timeout, what))


def spool(response: requests.Response, timeout: float, what: str, limit: int) -> ResultBody:
    """Read a result page into a spooled file (in memory while small), within the limits.

    Args:
        response: The answer (200), its body not yet read.
        timeout: ``request_timeout`` (seconds).
        what: What it is, for messages (``page 2 of the result of job J1``).
        limit: ``download_limit_mb`` in bytes.

    Returns:
        The body, positioned at its start, with its Content-Type and digest.
    """
    body = ResultBody(max_size=SPOOL_IN_MEMORY)
    body.content_type = response.headers.get("Content-Type", "").lower()
    digest = hashlib.blake2b(digest_size=16)
    try:
        hint = " (raise download_limit_mb to read it)"
        for piece in _pieces(response, limit, timeout, what, hint):
            digest.update(piece)
            body.write(piece)
    except BaseException:
        body.close()
        raise
    body.digest = digest.hexdigest()
    body.seek(0)
    return body
