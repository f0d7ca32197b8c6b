"""Helpers every test area may use: deadline polling instead of fixed sleeps, ports that cannot race."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], *, timeout_s: float, what: str, interval_s: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy and return that; AssertionError naming ``what``
    after ``timeout_s`` wall seconds. An exception from the predicate propagates (catch inside it if the
    condition may raise while not ready)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)


@contextmanager
def refused_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A TCP port on ``host`` that refuses connections for as long as the block runs.

    The port stays bound (not listening) by this socket, so no other test or process can take it meanwhile:
    unlike "bind, close, hand out the number", it cannot race.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        yield s.getsockname()[1]
