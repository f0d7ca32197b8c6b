"""A line that writes an archive slowly, for the SIGKILL test: ``python -m tests.archive.writer_proc PATH LOT_ID``.

Runs a long simulated lot at 20× real time with a 0.2 s flush interval until killed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conveyor.cargo import CargoModel
from conveyor.clock import SimulatedClock
from conveyor.feed import SimulatedFeed
from analysis.archive import LotArchive
from tests.lines import build_line
from tests.lines.stations import LibraryNir, Probe


def main(path: str, lot_id: str, speedup: float = 20.0) -> None:
    clock = SimulatedClock(speedup=speedup)
    archive = LotArchive(Path(path), flush_interval_s=0.2)  # wall-clock flush interval
    stations = [Probe("probe", 20.0), LibraryNir("nir", 40.0, CargoModel("fines"))]
    rig = build_line(stations, clock=clock, feed=SimulatedFeed(6000.0, 4.5, 20000.0, seed=2), sinks=[archive],
                     keep_records=False)
    rig.run_lot(lot_id, vessel="MV Kill")
    archive.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(float(a) for a in sys.argv[3:]))
