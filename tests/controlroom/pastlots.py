"""Past lots for the control-room tests: real simulated lots written to real archives and indexed into a real
catalogue (as ``oreline control-room`` does at each lot end), served by a real control room with the live line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.archive import LotArchive
from analysis.catalogue import CatalogueQueries, index_archive, open_catalogue, store
from analysis.control_room import CurrentLotService
from analysis.decide import AlarmIds
from analysis.web.evidence import SpectrumCache
from analysis.web.server import ControlRoomServer
from conveyor.feed import BeltEvent, SimulatedFeed
from conveyor.records import LotIdentity
from tests.controlroom.conftest import OPERATOR
from tests.lines.service import SimLine, build_sim_line

#: The belt stop of each archived lot: from this line time (s), for this long (s).
STOP_AT_S, STOP_FOR_S = 60.0, 25.0


@dataclass
class ArchivedLot:
    """One lot run to its end on the simulated line, with its archive and what the line knew of it."""

    lot_id: str
    path: Path
    sim: SimLine
    snapshot: Any = None
    alarms: list = field(default_factory=list)


def run_archived_lot(folder: Path, lot_id: str, *, seed: int, mass_t: float = 700.0) -> ArchivedLot:
    """Run one lot (NIR, camera with thumbnails, sampler; a belt stop) with its archive wired as the line wires it."""
    sim = build_sim_line(speedup=math.inf, lot_mass_t=mass_t, objects_per_1000_t=10.0, seed=seed,
                         waste_start_t=200.0, waste_extent_t=200.0)
    path = folder / f"{lot_id}.h5"
    archive = LotArchive(path, flush_interval_s=0.0, clock=sim.clock)
    sim.line.add_sink(archive)
    sim.monitor.segment_listeners.append(archive.add_segment)
    sim.monitor.verdict_listeners.append(archive.add_verdict)
    sim.alarms.listeners.append(archive.alarm_changed)
    sim.line.feed = SimulatedFeed(sim.rate_t_h, sim.speed_m_s, mass_t, seed=seed,
                                  events=(BeltEvent(STOP_AT_S, STOP_FOR_S),))
    sim.line.run_lot(LotIdentity(lot_id, f"MV Past {seed}", "H1", "iron ore fines", mass_t, supplier="simulated"))
    archive.close()
    return ArchivedLot(lot_id, path, sim, sim.monitor.snapshot(), sim.alarms.all())


@dataclass
class PastLotsRoom:
    """A served control room whose catalogue holds two archived lots, one whose archive is gone and one corrupt."""

    server: ControlRoomServer
    lots: list[ArchivedLot]
    live: SimLine
    missing: str = "LOT-ARCHIVE-GONE"
    corrupt: str = "LOT-ARCHIVE-CORRUPT"

    @property
    def url(self) -> str:
        return self.server.url.rstrip("/")


def past_lots_room(folder: Path) -> tuple[PastLotsRoom, Any]:
    """Two archived lots indexed into a SQLite catalogue, and a control room serving a live line beside them."""
    catalogue = open_catalogue(f"sqlite:///{folder / 'catalogue.sqlite'}")
    lots = [run_archived_lot(folder, f"LOT-PAST-{i}", seed=10 + i) for i in (1, 2)]
    for lot in lots:
        index_archive(catalogue, lot.path)
    corrupt = folder / "corrupt.h5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    with catalogue.session() as s, s.begin():
        store.upsert_lot(s, PastLotsRoom.missing, {"vessel": "MV Gone", "status": "complete", "line_verdict": "ore",
                                                   "archive_path": str(folder / "moved-away.h5")})
        store.upsert_lot(s, PastLotsRoom.corrupt, {"vessel": "MV Broken", "status": "complete",
                                                   "line_verdict": "ore", "archive_path": str(corrupt)})
    live = build_sim_line(speedup=math.inf, lot_mass_t=300.0, objects_per_1000_t=5.0, seed=3)
    spectra = SpectrumCache()
    live.line.add_sink(spectra)
    service = CurrentLotService(live.service, AlarmIds(CatalogueQueries(catalogue).max_alarm_id() + 1))
    server = ControlRoomServer(service, operator_token=OPERATOR, spectra=spectra, history=CatalogueQueries(catalogue))
    server.start()
    live.run_lot()
    return PastLotsRoom(server, lots, live), catalogue
