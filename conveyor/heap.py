"""Freed heap memory kept in the process for reuse (glibc), so that a station's arrays are not paged in anew each window.

The 4 mm/px detector allocates and frees some 18 MB of numpy arrays per 1 s window (maps of 0.1-4 MB). With glibc's
defaults the heap's free top is given back to the system as soon as it exceeds twice the (dynamic) mmap threshold, and
arrays above that threshold are mapped and unmapped one by one: every window then faults its pages in again (a
detector fed frames made elsewhere, as from a camera: ~4,600 page faults a window, each a zeroed 4 KB page, 20-30 % of
its CPU on the shared machine; a process that freed larger arrays before, as the simulator's or the 1 mm/px
benchmark's, has had glibc's own dynamic threshold raised and faults far less). With
:func:`keep_freed_memory` the heap keeps up to TRIM_THRESHOLD_BYTES of free memory at its top and serves arrays up to
MMAP_THRESHOLD_BYTES itself: after the first windows no page is faulted in. The numbers computed do not change; the
process keeps up to TRIM_THRESHOLD_BYTES more resident. A setting of the whole process (glibc's ``mallopt``), made by
every ``oreline`` command at its start (``analysis.cli.main``: one ``oreline vision evaluate`` of 20 m at 4 mm/px
28-32 -> 21-24 CPU s, its system time 9-13 -> 5-8 s) and by the camera station (:class:`vision.station.CameraStation`,
for callers that build one without the command); not where the environment sets glibc's own variables
(``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``: the operator's choice stands), nor without glibc (macOS, musl,
Windows). The fleet's dask workers raise the same thresholds while a partition runs (``analysis.fleet.malloc``, with
:func:`glibc` and the parameters here). docs/vision.md, "Speed (issue 27)".
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from typing import Any

#: glibc's ``mallopt`` parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Arrays up to this size come from the heap (glibc's own dynamic threshold stops at the same 32 MiB on 64-bit).
MMAP_THRESHOLD_BYTES = 32 << 20
#: Free memory at the heap's top up to this size is kept (glibc's default: twice the mmap threshold).
TRIM_THRESHOLD_BYTES = 64 << 20

_kept: bool | None = None  # None: not asked yet


def keep_freed_memory() -> bool:
    """Ask glibc to keep up to TRIM_THRESHOLD_BYTES of freed heap and to serve allocations up to MMAP_THRESHOLD_BYTES
    from the heap. Returns True when glibc took both settings (now or before), False where nothing changed (no
    glibc, or the environment sets glibc's malloc variables); asked once per process."""
    global _kept
    if _kept is None:
        _kept = _mallopt()
    return _kept


def glibc_platform() -> bool:
    """Whether this process runs on Linux with glibc (whose ``mallopt`` :func:`keep_freed_memory` uses)."""
    return sys.platform == "linux" and platform.libc_ver()[0] == "glibc"


def glibc() -> Any | None:
    """The C library when it is glibc with ``mallopt`` and ``malloc_trim``, else None."""
    if not glibc_platform():
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:  # pragma: no cover - no C library handle
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def _mallopt() -> bool:
    """Set both thresholds with glibc's ``mallopt``; False where it is not used (see :func:`keep_freed_memory`)."""
    libc = None if any(k in os.environ for k in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")) else glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1


__all__ = ["M_MMAP_THRESHOLD", "M_TRIM_THRESHOLD", "MMAP_THRESHOLD_BYTES", "TRIM_THRESHOLD_BYTES", "glibc", "glibc_platform",
           "keep_freed_memory"]
