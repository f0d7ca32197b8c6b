"""Control-room sessions: random ids in one bounded pool per role, with idle and absolute timeouts.

A session is a 128-bit random id (the ``oreline_session`` cookie). Each role has its own pool
(``max_sessions`` per role): a burst of viewer logins can only push out the oldest *viewer* sessions, never an
operator's. A session ends on logout, after ``idle_s`` without a request, after ``absolute_s`` from login
(whatever its use), or when an operator ends it. The table never holds a session id in a log or an audit
entry: those carry :func:`session_tag`, a short hash of it.
"""

from __future__ import annotations

import collections
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

#: The roles that hold sessions, weakest first.
SESSION_ROLES = ("viewer", "operator")


def session_tag(session_id: str) -> str:
    """A short, non-secret name of a session for logs and the audit trail (12 hex digits of its SHA-256)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12] if session_id else ""


@dataclass
class Session:
    """One logged-in client: who, in which role, from where, since when (monotonic seconds)."""

    session_id: str
    person: str
    role: str
    source: str
    created_s: float
    last_seen_s: float = field(default=0.0)

    @property
    def tag(self) -> str:
        return session_tag(self.session_id)


class SessionTable:
    """Sessions by id, one LRU pool per role; thread-safe. ``clock`` is monotonic seconds (tests may pass one)."""

    def __init__(self, *, max_sessions: Mapping[str, int], idle_s: float, absolute_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_sessions = {role: int(max_sessions[role]) for role in SESSION_ROLES}
        self.idle_s = float(idle_s)
        self.absolute_s = float(absolute_s)
        self._clock = clock
        self._pools: dict[str, collections.OrderedDict[str, Session]] = {
            role: collections.OrderedDict() for role in SESSION_ROLES}
        self._lock = threading.Lock()

    def open(self, person: str, role: str, source: str) -> tuple[Session, list[Session]]:
        """A new session; returns it and the sessions of the same role it pushed out (oldest first)."""
        now = self._clock()
        session = Session(secrets.token_urlsafe(16), person, role, source, now, now)
        with self._lock:
            pool = self._pools[role]
            pool[session.session_id] = session
            evicted = []
            while len(pool) > self.max_sessions[role]:
                evicted.append(pool.popitem(last=False)[1])
        return session, evicted

    def _expired(self, s: Session, now: float) -> bool:
        return now - s.last_seen_s > self.idle_s or now - s.created_s > self.absolute_s

    def get(self, session_id: str | None, *, touch: bool = True) -> Session | None:
        """The live session of ``session_id`` (refreshing its idle timer), or None (unknown or timed out)."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            for pool in self._pools.values():
                s = pool.get(session_id)
                if s is None:
                    continue
                if self._expired(s, now):
                    del pool[session_id]
                    return None
                if touch:
                    s.last_seen_s = now
                    pool.move_to_end(session_id)
                return s
        return None

    def end(self, session_id: str | None) -> Session | None:
        """End a session by id (logout); returns it, or None when there was none."""
        if not session_id:
            return None
        with self._lock:
            for pool in self._pools.values():
                s = pool.pop(session_id, None)
                if s is not None:
                    return s
        return None

    def end_by_tag(self, tag: str) -> Session | None:
        """End the session whose :func:`session_tag` is ``tag`` (an operator ending someone's session)."""
        with self._lock:
            for pool in self._pools.values():
                for sid, s in pool.items():
                    if s.tag == tag:
                        del pool[sid]
                        return s
        return None

    def sweep(self) -> int:
        """Drop timed-out sessions; returns how many."""
        now = self._clock()
        dropped = 0
        with self._lock:
            for pool in self._pools.values():
                for sid in [sid for sid, s in pool.items() if self._expired(s, now)]:
                    del pool[sid]
                    dropped += 1
        return dropped

    def listing(self) -> list[dict[str, object]]:
        """The live sessions (tag, person, role, source, age and idle seconds), for operators."""
        self.sweep()
        now = self._clock()
        with self._lock:
            return [{"session": s.tag, "person": s.person, "role": s.role, "source": s.source,
                     "age_s": round(now - s.created_s, 1), "idle_s": round(now - s.last_seen_s, 1)}
                    for pool in self._pools.values() for s in pool.values()]

    def count(self, role: str | None = None) -> int:
        with self._lock:
            return sum(len(p) for r, p in self._pools.items() if role is None or r == role)


__all__ = ["SESSION_ROLES", "Session", "SessionTable", "session_tag"]
