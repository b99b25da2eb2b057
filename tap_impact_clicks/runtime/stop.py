"""SIGINT and SIGTERM: stop within moments, say how far the run got, exit 130 or 143.

The first signal stops the run: sleeps (``clock.sleep``, on any thread) end at once, and the
main thread — wherever it waits: a request, a poll, another thread's download — gets
:class:`Interrupted`, unless it is writing a Singer message, which is finished first (a half
line would corrupt the target's input). The tap then writes a last STATE and one line, and
the process exits ``128 + signal``. A second signal exits at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

#: Set when a stop was asked for; every interruptible sleep waits on it.
STOP = threading.Event()
_received: list[int] = []
_delivered: list[bool] = []
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
    """Raise :class:`Interrupted` if a stop was asked for (once: then the stop is under way).

    Raises:
        Interrupted: A signal arrived.
    """
    if not _received or _sections():
        return
    if threading.current_thread() is not threading.main_thread():
        raise Interrupted(_received[0])  # ends a helper thread's work; the main thread stops
    if not _delivered:
        _delivered.append(True)
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
    graces = [grace for grace in _sections() if grace is not None]
    if graces and hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, min(graces))
    check()


def handle_alarm() -> None:
    """A section's grace ran out: stop now, unless a message is being written.

    Raises:
        Interrupted: The stop, delivered inside the section.
    """
    sections = _sections()
    if not _received or _delivered:
        return
    if sections and sections[-1] is None:  # writing a message: let it finish first
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        return
    _delivered.append(True)
    raise Interrupted(_received[0])


def _sections() -> list[float | None]:
    stack: list[float | None] = getattr(_critical, "stack", [])
    return stack


class _Section:
    """A section a signal does not cut (see :func:`critical`).

    A class, not a generator: it is entered for every Singer message, so it stays cheap.
    """

    __slots__ = ("_grace", "_saved")

    def __init__(self, grace: float | None) -> None:
        self._grace = grace
        self._saved: list[float | None] = []

    def __enter__(self) -> None:
        self._saved = _sections()
        _critical.stack = [*self._saved, self._grace]

    def __exit__(self, *exc: object) -> None:
        _critical.stack = self._saved
        if threading.current_thread() is threading.main_thread():
            check()


def critical(grace: float | None = None) -> _Section:
    """A section a signal should not cut: the stop waits for its end.

    Args:
        grace: Wait at most this many seconds, then stop inside the section anyway (for
            a call that may hang). None: never cut (writing a message: a half line would
            corrupt the target's input).

    Returns:
        The section, a context manager.
    """
    return _Section(grace)


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
    _delivered.clear()
    STOP.clear()
