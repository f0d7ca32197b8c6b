"""glibc malloc tuning while a fleet partition runs in a dask worker (see :func:`worker_malloc`)."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterator

from conveyor.heap import M_MMAP_THRESHOLD as _M_MMAP_THRESHOLD
from conveyor.heap import M_TRIM_THRESHOLD as _M_TRIM_THRESHOLD
from conveyor.heap import MMAP_THRESHOLD_BYTES as _TASK_MMAP_BYTES
from conveyor.heap import glibc

__all__ = ["glibc", "worker_malloc", "users"]

#: Free heap kept while a partition runs (the mmap threshold is the camera station's: glibc's largest, 32 MiB)
_TASK_TRIM_BYTES = 256 << 20
_MALLOC_LOCK = threading.Lock()
_malloc_users = 0


@contextlib.contextmanager
def worker_malloc() -> Iterator[None]:
    """While open, glibc malloc keeps freed memory for reuse instead of handing it back to the OS at once.

    dask's nanny starts every ``dask.distributed`` worker with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``). Setting it also pins glibc's mmap threshold at 128 KiB, so
    every array above that (one segment's 120 x 256 float64 spectra is 240 KiB, and the lot detector makes
    several per segment) is mmap'd, page-faulted in and unmapped again: line-mode re-scoring ran ~3.5x
    slower in such a worker than in a plain process. Only when one of those variables is set (glibc's
    adaptive thresholds are then already off): thresholds raised while partitions run, then put back to the
    environment's values and the heap trimmed, so the worker still returns its memory between tasks.
    No-op elsewhere (other C libraries, plain processes). Nested/concurrent use is counted.
    """
    global _malloc_users
    env = {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")}
    libc = glibc() if any(v is not None for v in env.values()) else None
    if libc is None:
        yield
        return

    def restore() -> None:
        for param, key, default in ((_M_TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_", 128 << 10),
                                    (_M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", 128 << 10)):
            text = env[key]
            try:
                value = int(text) if text is not None else default
            except ValueError:
                value = default
            libc.mallopt(param, value)
        libc.malloc_trim(0)

    with _MALLOC_LOCK:
        _malloc_users += 1
        if _malloc_users == 1:
            libc.mallopt(_M_MMAP_THRESHOLD, _TASK_MMAP_BYTES)
            libc.mallopt(_M_TRIM_THRESHOLD, _TASK_TRIM_BYTES)
    try:
        yield
    finally:
        with _MALLOC_LOCK:
            _malloc_users -= 1
            if _malloc_users == 0:
                restore()


def users() -> int:
    """How many :func:`worker_malloc` guards are open now."""
    with _MALLOC_LOCK:
        return _malloc_users
