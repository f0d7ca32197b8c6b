"""A sampler station on a test line (:func:`tests.lines.build_line`): build it from its site section, run a lot,
read its increments."""

from __future__ import annotations

import pathlib
from typing import Any

from conveyor.clock import SimulatedClock
from conveyor.records import LineEvent, Measurement
from sampler.station import SamplerStation, from_config
from tests.lines.build import LineRig, build_line, station_context


def make_station(tmp_path: pathlib.Path, clock: SimulatedClock | None = None, seed: int = 0,
                 **keys: Any) -> SamplerStation:
    """A sampler station named ``sampler`` at 150 m, built by ``sampler.station.from_config`` from ``keys``."""
    ctx = station_context(tmp_path, clock=clock, seed=seed)
    section: dict[str, Any] = {"kind": "sampler", "position_m": 150.0}
    section.update(keys)
    return from_config("sampler", section, ctx)


def run_lot(station: SamplerStation, *, lot_mass_t: float = 1500.0, rate_t_h: float = 8000.0,
            speed_m_s: float = 6.0, lot_id: str = "LOT1", **options: Any) -> LineRig:
    """One lot on a line of ``station`` alone (on its clock); ``options`` go to :func:`build_line`
    (``events``, ``seed``, ``pre_tick``, ``listeners``)."""
    rig = build_line([station], clock=station.clock, mass_t=lot_mass_t, rate_t_h=rate_t_h, speed_m_s=speed_m_s,
                     **options)
    rig.run_lot(lot_id)
    return rig


def increments(rig: LineRig) -> list[Measurement]:
    """The increments of the line's (only) sampler station."""
    return rig.measurements(rig.line.stations[0].name)


def alarms(rig: LineRig) -> list[LineEvent]:
    """The line events the sampler station raised."""
    return rig.events(rig.line.stations[0].name)


def by_status(rig: LineRig, role: str = "routine") -> dict[str, int]:
    """How many increments of ``role`` ended in each status."""
    out: dict[str, int] = {}
    for m in increments(rig):
        if m.data["role"] == role:
            out[m.data["status"]] = out.get(m.data["status"], 0) + 1
    return out
