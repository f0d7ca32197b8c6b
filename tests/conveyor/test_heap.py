"""conveyor.heap: freed heap memory kept for reuse (glibc), checked in fresh processes (whether an array is mmapped
depends on what the process did before)."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

from conveyor import heap


def _mmapped_blocks() -> int:
    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    return int(libc.mallinfo2().hblks)


def _kept_in_a_fresh_process(env_threshold: bool) -> str:
    """"" when a 20 MiB array comes from the heap after keep_freed_memory() (or, with glibc's variable set in the
    environment, when the call changes nothing); else what failed; "skip: ..." without glibc >= 2.33."""
    if not hasattr(ctypes.CDLL(None), "mallinfo2"):
        return "skip: needs glibc >= 2.33 (mallinfo2)"
    if env_threshold:
        os.environ["MALLOC_TRIM_THRESHOLD_"] = str(128 << 10)
        return "" if heap.keep_freed_memory() is False else "the environment's malloc setting was overridden"
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    os.environ.pop("MALLOC_MMAP_THRESHOLD_", None)
    if not heap.keep_freed_memory() or not heap.keep_freed_memory():  # asked twice: the same answer
        return "glibc did not take the settings"
    before = _mmapped_blocks()
    a = np.ones(20 << 17)  # 20 MiB: above glibc's starting threshold (128 KiB), below MMAP_THRESHOLD_BYTES
    during = _mmapped_blocks()
    del a
    return "" if during == before else f"a 20 MiB array was mmapped ({before} -> {during} blocks)"


@pytest.mark.parametrize("env_threshold", [False, True])
def test_keep_freed_memory_serves_large_arrays_from_the_heap(env_threshold: bool, monkeypatch) -> None:
    if not heap.glibc_platform():
        pytest.skip("needs glibc")
    for var in ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_"):  # the suite's own (tests/conftest.py): glibc as shipped
        monkeypatch.delenv(var, raising=False)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        problem = pool.apply(_kept_in_a_fresh_process, (env_threshold,))
    if problem.startswith("skip: "):
        pytest.skip(problem[6:])
    assert problem == ""


def test_thresholds_hold_the_detectors_arrays() -> None:
    # the largest per-window array (the dense net's input, ~4 MiB) well below the mmap threshold, the window's ~18 MiB
    # of arrays below the trim threshold
    assert heap.MMAP_THRESHOLD_BYTES >= 8 << 20 and heap.TRIM_THRESHOLD_BYTES >= 2 * heap.MMAP_THRESHOLD_BYTES


def test_every_oreline_command_keeps_freed_memory() -> None:
    """The console script's entry (``analysis.cli:main``) asks glibc to keep freed memory before any command runs;
    in a fresh interpreter without glibc's malloc variables (the test runner's are removed)."""
    if not heap.glibc_platform():
        pytest.skip("needs glibc")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    code = ("import contextlib, io; from analysis.cli import main; from conveyor import heap\n"
            "with contextlib.redirect_stdout(io.StringIO()): rc = main(['config', 'default'])\n"
            "print(rc, heap._kept)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "True"]
