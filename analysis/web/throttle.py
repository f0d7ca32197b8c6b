"""Login throttling: wrong credentials per client address, and credential checks overall (``limits``).

- **Per client**: ``client_failures`` wrong credentials (password, token or bearer header) in
  ``client_window_s`` lock that *address* out (HTTP 429, ``Retry-After``) for the rest of the window, right
  credentials included. Another address is not affected: the right user logs in from elsewhere.
- **Overall**: at most ``overall_per_s`` password (argon2) checks a second from all clients together, so
  guessing from many addresses cannot pin the CPU; the excess is answered 429 for that second only.

Clients are keyed by address (IPv6 by its /64, so one host cannot rotate through its own prefix).
"""

from __future__ import annotations

import ipaddress
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


def client_key(address: str) -> str:
    """The throttling key of a client address: the address, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginThrottle:
    """Counts failures per client and checks overall; ``retry_after_s`` says when a refused client may retry."""

    def __init__(self, *, client_failures: int = 10, client_window_s: int = 900, overall_per_s: int = 20) -> None:
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self.client_window_s = int(client_window_s)
        self._failures = RateLimitItemPerSecond(int(client_failures), int(client_window_s))  # n per window
        self._overall = RateLimitItemPerSecond(int(overall_per_s))

    def client_blocked(self, address: str) -> bool:
        """True while ``address`` has used up its wrong credentials for the window."""
        return not self._limiter.test(self._failures, "fail", client_key(address))

    def admit(self, address: str) -> str:
        """'' when a credential check from ``address`` may go ahead; otherwise why not ('client' or 'overall')."""
        if self.client_blocked(address):
            return "client"
        if not self._limiter.hit(self._overall, "overall"):
            return "overall"
        return ""

    def failed(self, address: str) -> None:
        """Count one wrong credential from ``address``."""
        self._limiter.hit(self._failures, "fail", client_key(address))

    def retry_after_s(self, reason: str, address: str) -> int:
        """Seconds until a client refused for ``reason`` may try again (at least 1)."""
        if reason == "overall":
            return 1
        stats = self._limiter.get_window_stats(self._failures, "fail", client_key(address))
        return max(1, int(stats.reset_time - time.time()) + 1)


__all__ = ["LoginThrottle", "client_key"]
