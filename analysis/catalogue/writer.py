"""The line's catalogue writer: a queue and one thread, so the line and the control room never wait on the database.

Callers :meth:`CatalogueWriter.submit` a change (a function of a session) and go on; the thread applies queued
changes in batches, one transaction per batch. A database that fails is retried with back-off while changes
keep queueing (bounded: the oldest are dropped and counted beyond ``max_queue``); the archive stays the record
and ``oreline lots reindex`` restores what was lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from analysis.catalogue.db import Catalogue

log = logging.getLogger(__name__)

Change = Callable[[Session], object]
_STOP = object()


class CatalogueWriter:
    """Applies catalogue changes in a background thread."""

    def __init__(self, catalogue: Catalogue, *, max_queue: int = 100_000, batch: int = 500,
                 retry_s: float = 1.0, coalesce_s: float = 0.25) -> None:
        self.catalogue = catalogue
        self._coalesce_s = coalesce_s
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._batch, self._retry_s = batch, retry_s
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self.last_error = ""
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="catalogue-writer", daemon=True)
        self._thread.start()

    def submit(self, change: Change) -> None:
        """Queue ``change`` (never blocks; drops the change and counts it when the queue is full)."""
        self._idle.clear()
        try:
            self._queue.put_nowait(change)
        except queue.Full:
            self.dropped += 1

    def _take(self) -> list[object]:
        """The next batch: what arrives within ``coalesce_s`` of the first change (fewer, larger transactions)."""
        items = [self._queue.get()]
        deadline = time.monotonic() + self._coalesce_s
        while len(items) < self._batch and items[-1] is not _STOP:
            remaining = deadline - time.monotonic()
            try:
                items.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _apply(self, changes: list[Change]) -> None:
        while True:
            try:
                with self.catalogue.session() as session, session.begin():
                    for change in changes:
                        change(session)
                self.written += len(changes)
                return
            except SQLAlchemyError as exc:
                self.failures += 1
                self.last_error = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
                log.warning("catalogue write failed (%s); retrying in %.1f s", self.last_error, self._retry_s)
                if self._closing:
                    return
                time.sleep(self._retry_s)
            except Exception:  # a change that cannot apply: skip the batch, keep the line's writer alive
                self.failures += 1
                log.exception("catalogue change failed; batch skipped")
                return

    _closing = False

    def _run(self) -> None:
        while True:
            items = self._take()
            stop = any(i is _STOP for i in items)
            changes = [i for i in items if i is not _STOP]
            if changes:
                self._apply(changes)  # type: ignore[arg-type]
            if self._queue.empty():
                self._idle.set()
            if stop:
                return

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued change was applied; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._idle.wait(0.05) and self._queue.empty():
                return True
        return False

    def close(self, timeout_s: float = 10.0) -> None:
        """Apply what is queued (bounded by ``timeout_s``) and stop the thread."""
        try:
            self._queue.put(_STOP, timeout=timeout_s)
        except queue.Full:
            pass
        self._thread.join(timeout_s)
        self._closing = True
        self._thread.join(1.0)
