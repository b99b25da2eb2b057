"""Log filters: the auth token masked in every line, and one line per retry.

Every line the tap, the SDK or urllib3 logs (a URL at DEBUG included) goes through
:class:`SecretFilter`; the backoff library's own "Backing off" lines are dropped, since the
tap logs one line per retry in plain words.
"""

from __future__ import annotations

import logging

from typing_extensions import override

#: Shorter secrets are not masked inside log lines (they would mask ordinary words).
MIN_SECRET = 4


class SecretFilter(logging.Filter):
    """Masks a secret wherever a log line would carry it (e.g. a URL urllib3 logs at DEBUG)."""

    def __init__(self, secret: str) -> None:
        """Remember the secret.

        Args:
            secret: The value to mask.
        """
        super().__init__()
        self.secret = secret

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if len(self.secret) >= MIN_SECRET:
            message = record.getMessage()
            if self.secret in message:
                record.msg, record.args = message.replace(self.secret, "***"), None
        return True


class BackoffLinesFilter(logging.Filter):
    """Drops the backoff library's own lines: the tap logs one line per retry itself."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.pathname.replace("\\", "/").endswith("backoff/_common.py")
            and str(record.msg).startswith(("Backing off", "Giving up"))
        )
