"""A reader that arrives while another process holds the archive's HDF5 lock (a writer between creating the
file and switching it to SWMR) waits for it, and names the lock if it is never released."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from analysis.archive import LotArchive, open_archive
from analysis.errors import ArchiveError

from tests.lines import build_line
from tests.lines.stations import Probe

HOLDER = textwrap.dedent("""
    import sys, time, h5py
    f = h5py.File(sys.argv[1], "r+", libver="latest")   # exclusive lock, not yet SWMR
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    f.swmr_mode = True                                   # what the writer does next: readers may enter
    print("swmr", flush=True)
    time.sleep(60)
""")


@pytest.fixture
def complete_archive(tmp_path: Path) -> Path:
    path = tmp_path / "LOT-L.h5"
    with LotArchive(path) as w:
        build_line([Probe("probe", 20.0)], mass_t=20.0, sinks=[w]).run_lot("LOT-L", vessel="MV Lock")
    return path


def _hold(path: Path, hold_s: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(hold_s)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "locked", proc.stderr.read() if proc.stderr else ""
    return proc


def test_reader_waits_while_the_writer_switches_to_swmr(complete_archive):
    proc = _hold(complete_archive, 1.0)
    try:
        with open_archive(complete_archive, lock_wait_s=30.0) as a:  # arrives while the file is locked
            assert a.lot_id == "LOT-L" and a.live
    finally:
        proc.kill()
        proc.communicate(timeout=30)


def test_a_lock_never_released_is_named_not_called_corrupt(complete_archive):
    proc = _hold(complete_archive, 120.0)
    try:
        with pytest.raises(ArchiveError, match="held open for writing, not in live SWMR mode") as err:
            open_archive(complete_archive, lock_wait_s=0.3)
        assert "corrupt" not in str(err.value)
    finally:
        proc.kill()
        proc.communicate(timeout=30)

