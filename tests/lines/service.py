"""A small, self-contained simulated line for exercising the control room.

Real parts throughout: :class:`conveyor.runtime.Line` on a
:class:`~conveyor.clock.SimulatedClock`, a :class:`~conveyor.feed.SimulatedFeed`,
a :class:`~conveyor.cargo.CargoModel`, the real :class:`~analysis.decide.monitor.LotMonitor`,
:class:`~analysis.decide.alarms.AlarmBook` and :class:`~analysis.service.LineService`.
The three stations are deliberately simple stand-ins for the spectra/vision/sampler
stations (which live in their own packages):

- :class:`SimNirStation` mixes two real USGS library spectra (hematite ore,
  kaolinite waste) by the cargo's waste fraction, adds noise, and estimates the
  waste fraction back by least-squares unmixing (``p_waste`` is a logistic of it);
- :class:`SimCameraStation` reports the cargo's foreign objects with a thumbnail
  cropped from a real ore-on-belt photograph;
- :class:`SimSamplerStation` cuts routine increments every ``routine_every_t``
  tonnes and targeted increments on request.

The line itself is built by :func:`tests.lines.build_line` (the one test line builder); NIR segments are scored by
:class:`tests.lines.stations.ThresholdScorer` at 0.5. Used by the control-room tests and the benchmark
(``oreline control-room`` runs the real site: analysis/control_room.py; :mod:`tests.lines.site` composes it for tests).
"""

from __future__ import annotations

import json
import math
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from conveyor.cargo import CargoModel
from conveyor.clock import SimulatedClock
from conveyor.config import validate_section
from conveyor.feed import SimulatedFeed
from conveyor.records import LotEnd, LotIdentity, LotStart, Measurement, Record, StreamDescription
from conveyor.resources import shared_data_dir
from conveyor.runtime import Line
from conveyor.station import MaterialWindow, Station
from analysis.decide import VERDICT_FIELDS, AlarmBook, LotMonitor
from analysis.service import LineService
from tests.lines.build import build_line
from tests.lines.stations import ThresholdScorer

#: NIR grid of the simulated spectrometer, nm.
WAVELENGTH_NM = np.linspace(900.0, 1700.0, 128)
ORE_SPECTRUM = "usgs_splib07_mineral_hematite_gds27_624a67cb.json"
WASTE_SPECTRUM = "usgs_splib07_mineral_kaolinite_kl502_(pxl)_d84d3a69.json"
THUMB_PX = 48


def _library_spectrum(name: str) -> np.ndarray:
    """A USGS library spectrum resampled to WAVELENGTH_NM (nulls dropped before interpolation)."""
    doc = json.loads((shared_data_dir() / "spectra" / "usgs_splib07" / name).read_text())
    wl = np.asarray(doc["wavelengths"], float) * 1000.0
    refl = np.array([np.nan if v is None else v for v in doc["reflectance"]], float)
    ok = np.isfinite(refl) & np.isfinite(wl)
    return np.interp(WAVELENGTH_NM, wl[ok], refl[ok])


def _belt_photo() -> np.ndarray:
    """One real ore-on-belt photograph (H×W×3 uint8)."""
    from PIL import Image

    folder = shared_data_dir() / "vision" / "roboflow-cdm-ore-on-belt" / "labeled"
    path = sorted(folder.glob("*.jpg"))[0]
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


class SimNirStation(Station):
    """NIR stand-in: one spectrum per tick of loaded belt, waste fraction estimated by unmixing."""

    def __init__(self, name: str, position_m: float, cargo: CargoModel, *, seed: int = 0,
                 noise: float = 0.004) -> None:
        super().__init__(name, position_m)
        self.cargo = cargo
        self.ore = _library_spectrum(ORE_SPECTRUM)
        self.waste = _library_spectrum(WASTE_SPECTRUM)
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self._basis = np.stack([self.ore, self.waste], axis=1)  # (channels, 2)

    def describe(self) -> Sequence[StreamDescription]:
        return [StreamDescription(
            "nir", self.name, "nir",
            fields={"reflectance": ((WAVELENGTH_NM.size,), "float32"), "p_waste": ((), "float64"),
                    "valid": ((), "bool"), "t2": ((), "float64")},
            units={"reflectance": "1", "p_waste": "1"},
            metadata={"wavelength_nm": WAVELENGTH_NM.tolist(), "model": "simline unmixing"},
        )]

    def process(self, window: MaterialWindow) -> Sequence[Record]:
        if window.empty:
            return [window.coverage(False, "belt empty")]
        mark = 0.5 * (window.start_mark_t + window.end_mark_t)
        rel = mark - window.lot_start_mark_t
        frac = float(sum(v[0] for k, v in self.cargo.fraction_at(np.array([rel])).items() if k.startswith("waste")))
        spectrum = (1 - frac) * self.ore + frac * self.waste + self.rng.normal(0, self.noise, WAVELENGTH_NM.size)
        coef, residual, *_ = np.linalg.lstsq(self._basis, spectrum, rcond=None)
        est = float(coef[1] / max(coef.sum(), 1e-9))
        p_waste = 1.0 / (1.0 + math.exp(-(est - 0.025) / 0.005))
        t2 = float(residual[0]) if residual.size else 0.0
        m = Measurement(window.lot_id, "nir", window.end_time_s, mark,
                        {"reflectance": spectrum.astype(np.float32), "p_waste": p_waste, "valid": True, "t2": t2})
        return [m, window.coverage(True)]


class SimCameraStation(Station):
    """Vision stand-in: reports the cargo's foreign objects with a thumbnail from a real belt photo."""

    def __init__(self, name: str, position_m: float, cargo: CargoModel, *, seed: int = 0) -> None:
        super().__init__(name, position_m)
        self.cargo = cargo
        self.photo = _belt_photo()
        self.rng = np.random.default_rng(seed)

    def describe(self) -> Sequence[StreamDescription]:
        return [StreamDescription(
            "objects", self.name, "vision",
            fields={"kind": ((), "U16"), "length_mm": ((), "float64"), "width_mm": ((), "float64"),
                    "probability": ((), "float64"), "thumbnail": ((THUMB_PX, THUMB_PX, 3), "uint8")},
            units={"length_mm": "mm", "width_mm": "mm"},
            metadata={"thumbnail_px": THUMB_PX},
        )]

    def _thumbnail(self, length_mm: float, width_mm: float) -> np.ndarray:
        h, w, _ = self.photo.shape
        y = int(self.rng.integers(0, max(1, h - THUMB_PX)))
        x = int(self.rng.integers(0, max(1, w - THUMB_PX)))
        thumb = self.photo[y:y + THUMB_PX, x:x + THUMB_PX].copy()
        ly = max(2, min(THUMB_PX - 4, int(length_mm / 600 * THUMB_PX)))
        lx = max(2, min(THUMB_PX - 4, int(width_mm / 300 * THUMB_PX)))
        y0, x0 = (THUMB_PX - ly) // 2, (THUMB_PX - lx) // 2
        thumb[y0:y0 + ly, x0:x0 + lx] = (200, 170, 60)  # the object, drawn on the real ore texture
        return thumb

    def process(self, window: MaterialWindow) -> Sequence[Record]:
        if window.empty:
            return [window.coverage(False, "belt empty")]
        lo = window.start_mark_t - window.lot_start_mark_t
        hi = window.end_mark_t - window.lot_start_mark_t
        out: list[Record] = []
        for obj in self.cargo.objects_between(lo, hi):
            out.append(Measurement(window.lot_id, "objects", window.end_time_s, window.lot_start_mark_t + obj.mark_t, {
                "kind": obj.kind, "length_mm": obj.length_mm, "width_mm": obj.width_mm,
                "probability": float(self.rng.uniform(0.7, 0.99)),
                "thumbnail": self._thumbnail(obj.length_mm, obj.width_mm),
            }))
        out.append(window.coverage(True))
        return out


class SimSamplerStation(Station):
    """Sampler stand-in: routine increments every ``routine_every_t`` t, targeted ones on request."""

    def __init__(self, name: str, position_m: float, *, routine_every_t: float = 50.0) -> None:
        super().__init__(name, position_m)
        self.routine_every_t = routine_every_t
        self._lock = threading.Lock()
        self._pending: list[tuple[float, str]] = []
        self._next_routine_t = 0.0
        self._number = 0
        self._cut = {"routine": 0, "targeted": 0}
        self._last = ""

    def describe(self) -> Sequence[StreamDescription]:
        return [StreamDescription(
            "increments", self.name, "sampler",
            fields={"increment_id": ((), "int64"), "number": ((), "int64"), "role": ((), "U16"),
                    "status": ((), "U16"), "reason": ((), "U64"), "mass_kg": ((), "float64")},
            units={"mass_kg": "kg"},
        )]

    def start_lot(self, start: LotStart) -> Sequence[Record]:
        with self._lock:
            self._pending.clear()
            self._next_routine_t = start.start_mark_t + self.routine_every_t / 2
            self._number = 0
            self._cut = {"routine": 0, "targeted": 0}
        return ()

    def request(self, mark_t: float, reason: str, alarm_id: int = 0, *, refuse: bool = False) -> dict[str, Any]:
        """Queue a targeted cut of the material at absolute mark ``mark_t`` (thread-safe; it never skips one,
        so ``refuse`` changes nothing)."""
        if not math.isfinite(mark_t):
            raise ValueError(f"expected a finite mark, got {mark_t}")
        with self._lock:
            if len(self._pending) >= 20:
                raise RuntimeError(f"expected at most 20 pending targeted cuts, already {len(self._pending)}")
            self._pending.append((mark_t, reason))
            self._pending.sort()
            return {"queued_mark_t": mark_t, "pending": len(self._pending)}

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"state": "ready", "routine_cut": self._cut["routine"], "targeted_cut": self._cut["targeted"],
                    "targeted_pending": len(self._pending), "last": self._last}

    def _increment(self, window: MaterialWindow, mark: float, role: str, reason: str) -> Measurement:
        self._number += 1
        self._cut[role] += 1
        self._last = f"{role} #{self._number} at {mark - window.lot_start_mark_t:.1f} t"
        return Measurement(window.lot_id, "increments", window.end_time_s, mark, {
            "increment_id": self._number, "number": self._number, "role": role, "status": "cut",
            "reason": reason[:64], "mass_kg": 12.0})

    def process(self, window: MaterialWindow) -> Sequence[Record]:
        out: list[Record] = []
        with self._lock:
            while window.mass_t > 0 and self._next_routine_t < window.end_mark_t:
                if self._next_routine_t >= window.start_mark_t:
                    out.append(self._increment(window, self._next_routine_t, "routine", "ISO 3082 mass basis"))
                self._next_routine_t += self.routine_every_t
            while self._pending and self._pending[0][0] < window.end_mark_t and window.mass_t > 0:
                mark, reason = self._pending.pop(0)
                out.append(self._increment(window, max(mark, window.start_mark_t), "targeted", reason))
        return out


@dataclass
class SimLine:
    """A composed simulated line and its service; :meth:`start` runs lots in a background thread."""

    clock: SimulatedClock
    line: Line
    monitor: LotMonitor
    alarms: AlarmBook
    service: LineService
    sampler: SimSamplerStation
    cargo: CargoModel
    lot_mass_t: float
    rate_t_h: float
    speed_m_s: float
    seed: int
    lots_run: int = 0
    ends: list[LotEnd] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def run_lot(self) -> LotEnd:
        """Run one lot to its end (in the calling thread)."""
        if self.lots_run:
            # Line.run_lot reads the scale at the clock's current time, which is the previous lot's last
            # tick: move on one tick first (otherwise BeltKinematics refuses the repeated time).
            self.clock.advance(self.line.tick_s)
        previous = self.line.feed
        offset = previous.totaliser_offset_t + previous.fed_t if isinstance(previous, SimulatedFeed) else 0.0
        self.line.feed = SimulatedFeed(self.rate_t_h, self.speed_m_s, self.lot_mass_t, totaliser_offset_t=offset,
                                       seed=self.seed + self.lots_run)
        lot_id = LotIdentity.new_lot_id("MV SIMLINE", f"H{self.lots_run + 1}")
        lot = LotIdentity(lot_id, "MV SIMLINE", f"H{self.lots_run + 1}", "iron ore fines", self.lot_mass_t,
                          supplier="simulated")
        end = self.line.run_lot(lot)
        self.lots_run += 1
        self.ends.append(end)
        return end

    def start(self, lots: int | None = None) -> "SimLine":
        """Run ``lots`` lots (None: until :meth:`stop`) in a daemon thread."""
        def loop() -> None:
            n = 0
            while not self._stop.is_set() and (lots is None or n < lots):
                self.run_lot()
                n += 1

        self._stop.clear()
        self._thread = threading.Thread(target=loop, name="simline", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Abort the running lot and join the thread (bounded)."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        # Repeat the request: Line.run_lot clears a stop that arrives between two lots.
        while True:
            self.line.request_stop("simulation stopped")
            if self._thread is None or time.monotonic() > deadline:
                break
            self._thread.join(0.1)
            if not self._thread.is_alive():
                break

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def build_sim_line(
    *,
    lot_mass_t: float = 2000.0,
    rate_t_h: float = 6000.0,
    speed_m_s: float = 4.0,
    speedup: float = 20.0,
    segment_mass_t: float = 100.0,
    waste_fraction: float = 0.08,
    waste_start_t: float = 600.0,
    waste_extent_t: float = 400.0,
    objects_per_1000_t: float = 10.0,
    tick_s: float = 1.0,
    seed: int = 7,
    run_dir: str | Path | None = None,
) -> SimLine:
    """Compose the simulated line (stations at 30 m NIR, 40 m camera, 80 m sampler) and its LineService."""
    rng = np.random.default_rng(seed)
    cargo = CargoModel.random("iron ore fines", lot_mass_t, rng, waste_fraction=waste_fraction,
                              waste_material="slag", waste_start_t=waste_start_t, waste_extent_t=waste_extent_t,
                              objects_per_1000_t=objects_per_1000_t)
    sampler = SimSamplerStation("sampler", 80.0)
    stations = [SimNirStation("nir", 30.0, cargo, seed=seed), SimCameraStation("camera", 40.0, cargo, seed=seed),
                sampler]
    rig = build_line(stations, clock=SimulatedClock(speedup=speedup), mass_t=lot_mass_t, rate_t_h=rate_t_h,
                     speed_m_s=speed_m_s, seed=seed, decide=True, verdict=validate_section({}, VERDICT_FIELDS, "verdict"),
                     scorer=lambda meta: ThresholdScorer(meta, threshold=0.5, contaminant_threshold=math.inf),
                     on_targeted=sampler.request, cargo=cargo, keep_records=False, tick_s=tick_s,
                     segment_mass_t=segment_mass_t)
    service = LineService(rig.line, rig.monitor, rig.alarms, site={"line": {"name": "simline"}},
                          request_targeted=sampler.request)
    service.sampler_status = sampler.status
    service.run_dir = str(run_dir or tempfile.gettempdir())
    return SimLine(rig.clock, rig.line, rig.monitor, rig.alarms, service, sampler, cargo, lot_mass_t, rate_t_h,
                   speed_m_s, seed)
