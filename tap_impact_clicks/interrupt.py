"""SIGINT and SIGTERM: stop within moments, say how far the run got, exit 130 or 143.

The first signal stops the run: sleeps (``clock.sleep``, on any thread) end at once, and the
main thread — wherever it waits: a request, a poll, another thread's download — gets
:class:`Interrupted`, unless it is writing a Singer message, which is finished first (a half
line would corrupt the target's input). The tap then writes a last STATE and one line, and
the process exits ``128 + signal``. A second signal exits at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Set when a stop was asked for; every interruptible sleep waits on it.
STOP = threading.Event()
_received: list[int] = []
_critical = threading.local()
_finisher: list[Callable[[Interrupted], None]] = []


class Interrupted(BaseException):
    """The run was asked to stop by a signal (a BaseException: nothing may swallow it)."""

    def __init__(self, signum: int) -> None:
        """Remember the signal.

        Args:
            signum: The signal number.
        """
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        #: How far the run got, set by the tap once the last STATE is out.
        self.summary = "stopped before any stream synced"

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 SIGINT, 143 SIGTERM).

        Returns:
            The exit code.
        """
        return 128 + self.signum


def requested() -> int | None:
    """The signal that asked the run to stop, if any.

    Returns:
        The signal number, or None.
    """
    return _received[0] if _received else None


def check() -> None:
    """Raise :class:`Interrupted` if a stop was asked for.

    Raises:
        Interrupted: A signal arrived.
    """
    if _received and not _in_critical():
        raise Interrupted(_received[0])


def handle(signum: int) -> None:
    """The signal handler's work (runs in the main thread).

    Args:
        signum: The signal.

    Raises:
        Interrupted: At the first signal, unless a message is being written.
    """
    if _received:  # the second signal: no more waiting
        sys.stderr.write(f"tap-impact-clicks: {signal.Signals(signum).name} again: exiting now\n")
        sys.stderr.flush()
        os._exit(128 + signum)
    _received.append(signum)
    STOP.set()
    check()


def _in_critical() -> bool:
    return bool(getattr(_critical, "depth", 0))


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """A section a signal must not cut (writing a message): the stop waits for its end.

    Yields:
        Nothing.
    """
    _critical.depth = getattr(_critical, "depth", 0) + 1
    try:
        yield
    finally:
        _critical.depth -= 1
    if threading.current_thread() is threading.main_thread():
        check()


def set_finisher(finisher: Callable[[Interrupted], None]) -> None:
    """Name what writes the last STATE when a signal stopped the run (the running tap).

    Args:
        finisher: Called by :func:`finish` with the stop.
    """
    _finisher[:] = [finisher]


def finish(stop: Interrupted) -> None:
    """Let the running tap write its last STATE and set ``stop.summary``.

    Args:
        stop: The stop.
    """
    for finisher in _finisher:
        finisher(stop)


def reset() -> None:
    """Forget a stop (tests run several syncs in one process)."""
    _received.clear()
    STOP.clear()
