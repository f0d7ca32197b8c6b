"""Run one short composed lot whose archive disk dies mid-lot; print what the line reported as JSON.

``python -m tests.faults.archive_disk_proc RUN_DIR MODE``; MODE is ``enospc`` (RUN_DIR is a small tmpfs
the caller mounted: a filler file takes its last byte) or ``efbig`` (RLIMIT_FSIZE drops to the archive's
size, so its next growth fails with EFBIG; this process only, hence a subprocess); ``none`` kills nothing. The disk dies once
half the lot has been weighed.
"""

from __future__ import annotations

import errno
import json
import resource
import signal
import sys
from pathlib import Path

from tests.lines.site import run_site_lot, short_site

LOT_MASS_T = 600.0


def _fill(disk: Path) -> None:
    """Write a filler file until the file system is full."""
    chunk = b"\0" * (64 << 10)
    with open(disk / "filler.bin", "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    try:
        with open(disk / "filler.bin", "ab", buffering=0) as f:
            while True:
                f.write(b"\0")
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise


def _limit_file_size(run_dir: Path) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    size = max(p.stat().st_size for p in run_dir.glob("*.h5"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def main(run_dir: Path, mode: str) -> dict:
    killed: list[float] = []

    def kill_disk(plant, _t: float) -> None:
        state = plant.line.state
        if mode == "none" or killed or state is None or state.lot_tonnage_t < LOT_MASS_T / 2:
            return
        killed.append(state.lot_tonnage_t)
        _fill(run_dir) if mode == "enospc" else _limit_file_size(run_dir)

    site = short_site(LOT_MASS_T, camera=False)
    run = run_site_lot(site, run_dir, pre_tick=kill_disk)
    if mode == "efbig":
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    v = run.plant.monitor.verdict
    return {
        "killed_at_t": killed[0] if killed else None,
        "status": run.end.status, "reason": run.end.reason,
        "verdict": v.verdict if v else None, "verdict_reasons": list(v.reasons) if v else [],
        "alarms": sorted({a.category for a in run.plant.alarms.all()}),
        "sink_faults": dict(run.plant.line.counters.sink_faults),
        "events": [(e.source, e.kind) for e in run.log.events if e.kind == "sink_fault"],
        "outputs": run.outputs, "archive": str(run.plant.archive.path),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2])))
