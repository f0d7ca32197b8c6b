"""Helpers every test area may use: deadline polling instead of fixed sleeps, ports that cannot race, fixtures
built once for all pytest-xdist workers."""

from __future__ import annotations

import fcntl
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
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


def shared_build_dir() -> Path:
    """A folder all pytest-xdist workers of this session share (the session cache of the root conftest)."""
    path = Path(os.environ["ORELINE_CACHE"]) / "tests"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_once(path: Path, build: Callable[[Path], object], load: Callable[[Path], T]) -> T:
    """``load(path)``, after ``build(path)`` wrote it if it is not there yet; an exclusive file lock beside
    ``path`` makes the first worker build while the others wait, then load what it wrote. ``build`` must write
    ``path`` completely (or not at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            build(path)
    return load(path)
