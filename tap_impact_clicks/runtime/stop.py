"""SIGINT and SIGTERM: stop within moments, say how far the run got, exit 130 or 143.

The first signal stops the run: sleeps (``clock.sleep``, on any thread) end at once, and the
main thread — wherever it waits: a request, a poll, another thread's download — gets
:class:`Interrupted`, unless it is writing a Singer message, which is finished first (within
``WRITE_GRACE`` seconds: a reader that took nothing for that long has stopped reading, and the
rest of the output goes to /dev/null; else a half
line would corrupt the target's input). The tap then writes a last STATE and one line, and
the process exits ``128 + signal``. A second signal exits at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

#: Set when a stop was asked for; every interruptible sleep waits on it.
STOP = threading.Event()
#: Seconds a stop waits for a Singer message being written. Meltano, told to stop, stops
#: relaying the tap's output and waits for the tap to exit: a write into that full pipe would
#: never end, nor would the last STATE's, nor the flush at exit.
WRITE_GRACE = 3.0
_received: list[int] = []
#: When the signal came; then when the message being written after the stop began.
_since: list[float] = []
_silenced: list[bool] = []
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
        _disarm()
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
    _since.append(time.monotonic())
    STOP.set()
    sections = _sections()
    graces = [grace for grace in sections if grace is not None]
    if sections and hasattr(signal, "setitimer"):  # a message being written: WRITE_GRACE
        signal.setitimer(signal.ITIMER_REAL, min([*graces, WRITE_GRACE]))
    check()


def handle_alarm() -> None:
    """A section's grace ran out: stop now, unless a message is being written.

    Raises:
        Interrupted: The stop, delivered inside the section.
    """
    sections = _sections()
    if not _received:
        return
    if sections and sections[-1] is None:  # writing a message: let it finish first...
        waited = time.monotonic() - _since[-1]
        if waited < WRITE_GRACE:
            signal.setitimer(signal.ITIMER_REAL, min(0.05, WRITE_GRACE - waited))
        else:  # ...unless nobody has read it for WRITE_GRACE: then it ends at once
            _silence_stdout()
        return
    if _delivered:
        return
    _delivered.append(True)
    raise Interrupted(_received[0])


def _silence_stdout() -> None:
    """Point stdout at /dev/null: its reader has stopped reading (and the pipe closes)."""
    if _silenced:
        return
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (tests capture stdout)
        return
    _silenced.append(True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fileno)
    finally:
        os.close(devnull)
    name = signal.Signals(_received[0]).name
    sys.stderr.write(
        f"tap-impact-clicks: stdout not read for {WRITE_GRACE:.0f} s after {name}: "
        "the rest of the output is dropped\n"
    )


def _timer_here() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _disarm() -> None:
    if _timer_here():
        signal.setitimer(signal.ITIMER_REAL, 0)


def _sections() -> list[float | None]:
    stack: list[float | None] = getattr(_critical, "stack", [])
    return stack


class _Section:
    """A section a signal does not cut (see :func:`critical`).

    A class, not a generator: it is entered for every Singer message, so it stays cheap.
    """

    __slots__ = ("_armed", "_grace", "_saved")

    def __init__(self, grace: float | None) -> None:
        self._grace = grace
        self._saved: list[float | None] = []
        self._armed = False

    def __enter__(self) -> None:
        self._saved = _sections()
        _critical.stack = [*self._saved, self._grace]
        # A message written after the stop (the last STATE) gets WRITE_GRACE too.
        self._armed = bool(_delivered) and self._grace is None and _timer_here()
        if self._armed:
            _since[1:] = [time.monotonic()]
            signal.setitimer(signal.ITIMER_REAL, 0.05)

    def __exit__(self, *exc: object) -> None:
        _critical.stack = self._saved
        if self._armed:
            _disarm()
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
    _since.clear()
    _silenced.clear()
    _delivered.clear()
    STOP.clear()
