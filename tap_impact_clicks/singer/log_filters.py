"""Log filters: the auth token masked in every line, and no line said twice.

Every line the tap, the SDK or urllib3 logs (a URL at DEBUG included) goes through
:class:`SecretFilter`. :class:`RedundantLinesFilter` drops the backoff library's own "Backing
off" lines (the tap logs one line per retry in plain words) and the SDK's "An unhandled error
occurred while syncing" (the run's last line names what failed; a bug still prints its
traceback).
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


class RedundantLinesFilter(logging.Filter):
    """Drops lines another line says better: backoff's retry lines, the SDK's "unhandled"."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if record.pathname.replace("\\", "/").endswith("backoff/_common.py"):
            return not message.startswith(("Backing off", "Giving up"))
        return not message.startswith("An unhandled error occurred while syncing")
