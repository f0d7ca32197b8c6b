"""The live stream (``GET /api/stream``, server-sent events) with stream slots per role and a write timeout.

Viewers share ``max_viewers`` slots; operators have ``max_operator_streams`` of their own, so 50 viewer pages
cannot push the operators' pages off the stream (429 goes to the viewer beyond its slots). A stream whose
client has stopped reading (its socket buffers full) for ``stream_write_timeout_s`` is aborted and its slot
freed. Stream sockets get a small send buffer, so a stalled reader is noticed after a few events, not megabytes.
"""

# No ``from __future__ import annotations``: FastAPI resolves the local ``viewer`` dependency at definition time.

import socket
import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Response
from starlette.types import Receive, Scope, Send

from analysis.web.auth import Identity
from analysis.web.connections import CONNECTION_KEY
from analysis.web.live import LiveFeed
from analysis.web.schemas import ErrorBody

#: Seconds between keep-alive comments on an idle live stream.
HEARTBEAT_S = 15.0
#: Send buffer of a stream socket, bytes (the kernel doubles it).
STREAM_SNDBUF_BYTES = 32 * 1024


class StreamSlots:
    """Live-stream slots per role (thread-safe counters)."""

    def __init__(self, *, viewer: int, operator: int) -> None:
        self.limits = {"viewer": int(viewer), "operator": int(operator)}
        self.used = {"viewer": 0, "operator": 0}
        self.timed_out = 0
        self._lock = threading.Lock()

    def take(self, role: str) -> None:
        """Take a slot of ``role`` ('none' counts as viewer); raises HTTPException 429 when none is free."""
        pool = "operator" if role == "operator" else "viewer"
        with self._lock:
            if self.used[pool] >= self.limits[pool]:
                raise HTTPException(429, f"expected at most {self.limits[pool]} {pool} live streams, already "
                                         f"serving {self.used[pool]}", headers={"Retry-After": "5"})
            self.used[pool] += 1

    def give(self, role: str) -> None:
        pool = "operator" if role == "operator" else "viewer"
        with self._lock:
            self.used[pool] -= 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.used.values())


async def _events(feed: LiveFeed) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    version = -1
    while not feed.closed:
        snap = await feed.next_after(version, HEARTBEAT_S)
        if snap is None:
            if feed.closed:
                break
            yield b": keep-alive\n\n"
            continue
        version, payload = snap
        yield f"id: {version}\nevent: state\ndata: {payload}\n\n".encode()


class LiveStreamResponse(Response):
    """An ASGI response sending the feed's events; gives the slot back however it ends."""

    media_type = "text/event-stream"

    def __init__(self, feed: LiveFeed, slots: StreamSlots, role: str, write_timeout_s: float) -> None:
        self.status_code, self.background = 200, None
        self.feed, self.slots, self.role, self.write_timeout_s = feed, slots, role, write_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        conn = (scope.get("state") or {}).get(CONNECTION_KEY)
        sock = conn.transport.get_extra_info("socket") if conn is not None else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SNDBUF_BYTES)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
                (b"x-accel-buffering", b"no")]})
            async with anyio.create_task_group() as tg:
                async def disconnected() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tg.cancel_scope.cancel()

                tg.start_soon(disconnected)
                await self._pump(send, conn)
                tg.cancel_scope.cancel()
        finally:
            self.slots.give(self.role)

    async def _pump(self, send: Send, conn: Any) -> None:
        async for chunk in _events(self.feed):
            try:
                with anyio.fail_after(self.write_timeout_s):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except TimeoutError:
                self.slots.timed_out += 1
                if conn is not None:
                    conn.abort()
                return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def stream_router(feed: LiveFeed, slots: StreamSlots, viewer: Callable[..., Identity], write_timeout_s: float,
                  responses: dict) -> APIRouter:
    """``GET /api/stream`` for the viewer guard ``viewer``."""
    router = APIRouter()

    @router.get("/api/stream", response_class=LiveStreamResponse, status_code=200,
                responses={200: {"content": {"text/event-stream": {}}}, 429: {"model": ErrorBody}, **responses},
                tags=["line"])
    async def stream(who: Annotated[Identity, Depends(viewer)]) -> LiveStreamResponse:
        """Server-sent events: ``state`` events carry the shared snapshot after each change (coalesced)."""
        slots.take(who.role)
        return LiveStreamResponse(feed, slots, who.role, write_timeout_s)

    return router


__all__ = ["HEARTBEAT_S", "LiveStreamResponse", "StreamSlots", "stream_router"]
