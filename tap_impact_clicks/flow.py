"""What records need while they flow: a calmer cyclic GC, and a thread to prefetch pages."""

from __future__ import annotations

import gc
import threading
import typing as t
from concurrent.futures import Future

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

_T = t.TypeVar("_T")

#: The cyclic GC's first-generation threshold while records flow (Python's default: 700).
GC_THRESHOLD = 50_000


class Prefetcher:
    """Runs a download on a daemon thread, so that a signal never waits for it.

    (A ``ThreadPoolExecutor``'s threads are joined when the interpreter exits: a prefetch
    waiting out an hour's ``Retry-After`` would keep a stopped tap alive.)
    """

    def __init__(self) -> None:
        """Accept work until closed."""
        self._closed = False

    def submit(self, func: Callable[..., _T], *args: t.Any) -> Future[_T]:  # noqa: ANN401
        """Start ``func(*args)`` on a new daemon thread.

        Args:
            func: The work.
            *args: Its arguments.

        Returns:
            Its future (cancellable until the thread picks it up).

        Raises:
            RuntimeError: After :meth:`close`.
        """
        if self._closed:
            msg = "the prefetcher is closed"
            raise RuntimeError(msg)
        future: Future[_T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(func(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on it
                future.set_exception(exc)

        threading.Thread(target=run, name="prefetch", daemon=True).start()
        return future

    def close(self) -> None:
        """Accept no more work (running downloads finish or die with the process)."""
        self._closed = True


class RecordFlow:
    """A context manager for one sync: set up on entry, and undone on exit, always.

    Records are plain dicts without cycles, made by the hundred thousand: a larger
    first-generation threshold spares the cyclic GC most of its passes over them (about 8 %
    of the record path). The prefetcher downloads a day's next page while this one is
    emitted; on exit it takes no more work, and a running download is not waited for.
    """

    def __init__(self) -> None:
        """Prepare (nothing changes before ``__enter__``)."""
        self._saved: tuple[int, ...] | None = None
        self._prefetcher: Prefetcher | None = None

    @property
    def prefetcher(self) -> Prefetcher:
        """Downloads the next page in the background.

        Returns:
            The prefetcher.

        Raises:
            RuntimeError: Outside the ``with`` block.
        """
        if self._prefetcher is None:
            msg = "RecordFlow is not entered"
            raise RuntimeError(msg)
        return self._prefetcher

    def __enter__(self) -> RecordFlow:  # noqa: PYI034 - Self needs Python 3.11
        """Raise the GC threshold and start the prefetcher.

        Returns:
            The flow.
        """
        self._saved = gc.get_threshold()
        gc.set_threshold(GC_THRESHOLD, *self._saved[1:])
        self._prefetcher = Prefetcher()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Restore the GC threshold and close the prefetcher."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
        if self._prefetcher is not None:
            self._prefetcher.close()
            self._prefetcher = None
