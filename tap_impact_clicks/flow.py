"""What records need while they flow: a calmer cyclic GC, and a thread to prefetch pages."""

from __future__ import annotations

import gc
import typing as t
from concurrent.futures import ThreadPoolExecutor

if t.TYPE_CHECKING:
    from types import TracebackType

#: The cyclic GC's first-generation threshold while records flow (Python's default: 700).
GC_THRESHOLD = 50_000


class RecordFlow:
    """A context manager for one sync: set up on entry, and undone on exit, always.

    Records are plain dicts without cycles, made by the hundred thousand: a larger
    first-generation threshold spares the cyclic GC most of its passes over them (about 8 %
    of the record path). The prefetch executor downloads a day's next page while this one is
    emitted; on exit, a pending prefetch is cancelled and the thread is not waited for.
    """

    def __init__(self) -> None:
        """Prepare (nothing changes before ``__enter__``)."""
        self._saved: tuple[int, ...] | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The prefetch thread (one worker).

        Returns:
            The executor.

        Raises:
            RuntimeError: Outside the ``with`` block.
        """
        if self._executor is None:
            msg = "RecordFlow is not entered"
            raise RuntimeError(msg)
        return self._executor

    def __enter__(self) -> RecordFlow:  # noqa: PYI034 - Self needs Python 3.11
        """Raise the GC threshold and start the prefetch executor.

        Returns:
            The flow.
        """
        self._saved = gc.get_threshold()
        gc.set_threshold(GC_THRESHOLD, *self._saved[1:])
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Restore the GC threshold and stop the prefetch executor."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
