"""The generic station protocol: what the line runtime hands a station and what it gets back.

A station stands at ``position_m`` metres downstream of the belt scale. Each tick
the runtime gives it a :class:`MaterialWindow`: the material (by tonnage mark and
belt coordinate) that passed under it during the tick. The station returns
records (:class:`~conveyor.records.Measurement`, :class:`~conveyor.records.Coverage`).
A station that raises is caught by the runtime, which marks the window
uninspected for that station and raises an alarm; the line keeps running.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from conveyor.cargo import CargoModel
from conveyor.clock import Clock
from conveyor.records import Coverage, LotStart, Record, StreamDescription

#: Below this belt loading the belt counts as empty: nothing to inspect.
EMPTY_BELT_KG_M = 1.0


@dataclass(frozen=True)
class MaterialWindow:
    """Material that passed under one station during one tick.

    Marks are cumulative tonnes past the belt scale (``start_mark_t`` ≤
    ``end_mark_t`` for forward motion). Belt coordinates are the belt odometer at
    which the material was weighed, in metres; a camera uses them to know which
    metre of belt its lines show. ``lot_start_mark_t`` is the mark at lot start.
    """

    lot_id: str
    station: str
    start_time_s: float
    end_time_s: float
    start_mark_t: float
    end_mark_t: float
    start_belt_m: float
    end_belt_m: float
    belt_speed_m_s: float
    lot_start_mark_t: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.end_time_s - self.start_time_s

    @property
    def mass_t(self) -> float:
        """Tonnes that passed the station in the window (0 when stopped or reversing)."""
        return max(0.0, self.end_mark_t - self.start_mark_t)

    @property
    def length_m(self) -> float:
        """Metres of belt that passed the station in the window (≥ 0)."""
        return max(0.0, self.end_belt_m - self.start_belt_m)

    @property
    def loading_kg_m(self) -> float:
        """Mean belt loading of the window in kg per metre (0 when nothing passed)."""
        return 1000.0 * self.mass_t / self.length_m if self.length_m > 0 else 0.0

    @property
    def empty(self) -> bool:
        """True when no material worth inspecting passed (stopped or empty belt)."""
        return self.length_m <= 0 or self.loading_kg_m < EMPTY_BELT_KG_M

    def coverage(self, inspected: bool, reason: str = "") -> Coverage:
        """A :class:`Coverage` record for this whole window."""
        return Coverage(
            lot_id=self.lot_id,
            station=self.station,
            start_mark_t=self.start_mark_t,
            end_mark_t=max(self.start_mark_t, self.end_mark_t),
            inspected=inspected,
            reason=reason,
            time_s=self.end_time_s,
        )


class Station(ABC):
    """A station on the belt. Subclasses implement :meth:`describe` and :meth:`process`.

    ``name`` is unique on the line; ``position_m`` is the distance downstream of the
    belt scale in metres (> 0).
    """

    def __init__(self, name: str, position_m: float) -> None:
        self.name = name
        self.position_m = float(position_m)

    @abstractmethod
    def describe(self) -> Sequence[StreamDescription]:
        """The streams this station will produce (emitted once per lot, before any measurement)."""

    def start_lot(self, start: LotStart) -> Sequence[Record]:
        """Prepare for a new lot. May return records (e.g. a reference measurement)."""
        return ()

    @abstractmethod
    def process(self, window: MaterialWindow) -> Sequence[Record]:
        """Inspect the material of ``window``; return its measurements and coverage."""

    def end_lot(self, end_mark_t: float) -> Sequence[Record]:
        """Flush anything buffered at lot end."""
        return ()

    def close(self) -> None:
        """Release devices. Safe to call twice."""


@dataclass(frozen=True)
class StationContext:
    """What the line gives a station factory besides its own config section.

    ``cargo`` is the simulation truth (``None`` on a real line); ``clock`` is the
    line clock; ``run_dir`` is where the station may write files (models, thumbnails);
    ``seed`` makes simulated backends reproducible.
    """

    clock: Clock
    belt_width_m: float
    nominal_speed_m_s: float
    run_dir: Path
    seed: int = 0
    cargo: CargoModel | None = None
    segment_mass_t: float = 100.0

