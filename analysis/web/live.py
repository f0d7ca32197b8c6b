"""The live feed: one thread turns service changes into one JSON snapshot that every viewer shares.

A :class:`LiveFeed` thread waits on :meth:`LineService.wait_for_change`, builds
the snapshot (line state, latest trend and NIR points, recent alarms, counts)
at most once per ``min_interval_s`` and wakes the asyncio tasks of the
server-sent-event streams. Work per change is independent of the number of
viewers, so 20 open pages cost the line thread nothing; a viewer holds only a
reference to the shared snapshot, so a page left open for hours grows nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any, Callable

from analysis.model import ControlRoomLine, to_dict
from analysis.web.evidence import plain

log = logging.getLogger(__name__)

#: Trend and NIR points carried in each snapshot (the page merges them by time).
SNAPSHOT_POINTS = 30
#: Alarms carried in each snapshot, newest first (active ones always included).
SNAPSHOT_ALARMS = 100


def dumps(data: Any) -> str:
    """Compact JSON (NaN never appears: callers pass data through ``plain``)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def build_snapshot(service: ControlRoomLine) -> dict[str, Any]:
    """Everything a page needs to redraw after a change, as JSON-ready data."""
    active = service.alarms.active()
    recent = service.alarms.all()[:SNAPSHOT_ALARMS]
    seen = {a.alarm_id for a in recent}
    alarms = recent + [a for a in active if a.alarm_id not in seen]
    state = service.line_state()
    state.pop("run_dir", None)  # streams go to viewers: no server paths
    snap = service.monitor.snapshot()
    return plain({
        **state,
        "trend": service.trend_points(SNAPSHOT_POINTS),
        "nir_trend": [{"lot_t": p[0], "p_waste": p[1], "t2": p[2]} for p in snap.nir_trend[-SNAPSHOT_POINTS:]],
        "alarms": [to_dict(a) for a in alarms],
        "counts": {
            "segments": len(snap.segments),
            "detections": len(snap.detections),
            "increments": len(snap.increments),
            "reports": len(service.reports),
        },
    }, max_list=1000)


class LiveFeed:
    """Shared snapshot of the service, refreshed by a background thread on every change."""

    def __init__(self, service: ControlRoomLine, *, min_interval_s: float = 0.1, poll_s: float = 0.5,
                 on_refresh: Callable[[], Any] | None = None) -> None:
        self.service = service
        self.on_refresh = on_refresh  # called after each refresh in the feed thread (the audit trail's flush)
        self.min_interval_s = float(min_interval_s)
        self.poll_s = float(poll_s)
        self.version = -1
        self.payload = ""
        self.snapshots_built = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the thread; wake-ups are delivered to ``loop`` (the server's event loop)."""
        self._stop.clear()
        self._loop = loop
        self._changed = asyncio.Event()
        self._refresh()
        self._thread = threading.Thread(target=self._run, name="controlroom-live", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread (bounded wait) and wake every stream so it can end."""
        self._stop.set()
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def _refresh(self) -> None:
        version = self.service.version
        try:
            payload = dumps(build_snapshot(self.service))
        except Exception:  # a broken snapshot must not kill the feed; the old one stays
            log.exception("building the control-room snapshot failed")
            return
        with self._lock:
            self.version, self.payload = version, payload
            self.snapshots_built += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            version = self.service.wait_for_change(self.version, self.poll_s)
            if self._stop.is_set():
                break
            if version == self.version:
                continue
            self._refresh()
            self._wake()
            if self.on_refresh is not None:
                try:
                    self.on_refresh()
                except Exception:  # the hook must not kill the feed
                    log.exception("live-feed refresh hook failed")
            self._stop.wait(self.min_interval_s)  # coalesce fast ticks

    def _wake(self) -> None:
        loop, event = self._loop, self._changed
        if loop is None or event is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._swap_event)
        except RuntimeError:  # loop closed meanwhile
            pass

    def _swap_event(self) -> None:
        old, self._changed = self._changed, asyncio.Event()
        if old is not None:
            old.set()

    def current(self) -> tuple[int, str]:
        with self._lock:
            return self.version, self.payload

    async def next_after(self, version: int, timeout_s: float) -> tuple[int, str] | None:
        """The snapshot newer than ``version``, waiting up to ``timeout_s``; None on timeout or close."""
        deadline = time.monotonic() + timeout_s
        while not self.closed:
            current = self.current()
            if current[0] != version and current[1]:
                return current
            event = self._changed
            remaining = deadline - time.monotonic()
            if event is None or remaining <= 0:
                return None
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except (asyncio.TimeoutError, TimeoutError):
                return None
        return None
