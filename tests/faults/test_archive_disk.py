"""The archive's disk dies mid-lot: the line runs on, counts the failures, raises an ``archive`` alarm, and
the lot is not reported complete (its record is incomplete) — not silently logged.

Two ways to kill the disk: ENOSPC on a small tmpfs (needs ``mount``, i.e. root; skipped otherwise) and
EFBIG through RLIMIT_FSIZE (any user). Each lot runs in a subprocess (a resource limit is per process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.archive import open_archive
from analysis.errors import ArchiveError

from tests.faults.figures import record

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _run(run_dir: Path, mode: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tests.faults.archive_disk_proc", str(run_dir), mode],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _check(result: dict, key: str, fault: str, state: str) -> None:
    assert result["killed_at_t"] is not None, result
    assert result["status"] == "aborted", result
    assert "record sink 'archive' failed" in result["reason"], result
    assert result["sink_faults"].get("archive", 0) >= 1, result
    assert result["events"] == [["archive", "sink_fault"]], result  # one event per lot, however many failures
    assert "archive" in result["alarms"], result
    assert any("lot aborted" in r for r in result["verdict_reasons"]), result
    told = result["outputs"].get("archive", "")
    assert told.startswith(("INCOMPLETE", "FAILED")), result
    assert state != "complete", state
    record(key, group="disk", fault=fault, injected=1, survived=True, killed_at_t=result["killed_at_t"],
           lot_status=result["status"], archive_failures=result["sink_faults"]["archive"],
           archive_state=state.split(":")[0], alarms=result["alarms"])


def _archived_state(path: str) -> str:
    try:
        with open_archive(path) as reader:
            return reader.state
    except ArchiveError as exc:
        return f"unreadable: {exc}"


@pytest.fixture
def small_tmpfs(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the RLIMIT_FSIZE test covers this")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_archive_disk_full_mid_lot(small_tmpfs):
    result = _run(small_tmpfs, "enospc")
    (small_tmpfs / "filler.bin").unlink()
    _check(result, "disk.archive_enospc", "archive disk full mid-lot (tmpfs, ENOSPC)",
           _archived_state(result["archive"]))


def test_archive_file_size_limit_mid_lot(tmp_path):
    result = _run(tmp_path, "efbig")
    _check(result, "disk.archive_efbig", "archive file-size limit mid-lot (RLIMIT_FSIZE, EFBIG)",
           _archived_state(result["archive"]))
