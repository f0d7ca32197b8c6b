"""Compose a line from a site configuration: stations, feed, monitor, archive, PLC and control room.

:func:`load_site` validates a TOML site file (the shipped default when no path is
given; it and the schema live in :mod:`analysis.site_file`). :func:`compose` builds a :class:`Plant`, everything one unloading line
needs, ready to :meth:`Plant.run_lot`. Station kinds map to their packages'
``from_config`` factories and are imported lazily: a package that is not
installed leaves its stations off the line (logged), it never fakes them.
"""

from __future__ import annotations

import importlib
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from conveyor.cargo import CargoModel
from conveyor.clock import Clock, SimulatedClock, WallClock
from conveyor.config import SCALE_FIELDS
from conveyor.errors import ConfigError
from conveyor.feed import BeltEvent, FeedSource, SimulatedFeed
from conveyor.records import LotEnd, LotIdentity
from conveyor.runtime import Line
from conveyor.station import Station, StationContext
from conveyor.totaliser import TonnageCounter
from spectra.errors import FingerprintError
from spectra.fingerprint import ProductCheckFactory, live_checks
from spectra.segment import LotSegmentScorer
from plc.scale import scale_class, scale_from_config
from analysis.catalogue import CatalogueWriter
from analysis.decide import AlarmBook, LotMonitor
from analysis.service import LineService
# The site file's schema and reader live in analysis.site_file (light, for `oreline config`); named here too.
from analysis.site_file import DEFAULT_SITE as DEFAULT_SITE, EXTRA_SECTIONS as EXTRA_SECTIONS
from analysis.site_file import STATION_SETTINGS as STATION_SETTINGS, load_site as load_site, validate as validate

if TYPE_CHECKING:
    from analysis.archive import LotArchive
    from analysis.catalogue import LineCatalogue
    from analysis.plc_bridge import PlcBridge
    from analysis.web import ControlRoomServer

log = logging.getLogger(__name__)

#: station kind → (module, factory); imported only when a station of that kind is configured.
STATION_KINDS: dict[str, tuple[str, str]] = {
    "spectrometer": ("spectra.station", "from_config"),
    "camera": ("vision.station", "from_config"),
    "sampler": ("sampler.station", "from_config"),
}


def station_factory(kind: str) -> Callable[..., Station]:
    """The ``from_config`` of a station kind (its module is part of oreline: imported here, on first use)."""
    module_name, attr = STATION_KINDS[kind]
    return getattr(importlib.import_module(module_name), attr)


def is_simulated(site: Mapping[str, Any]) -> bool:
    """True when every device of the site is simulated (the line then runs on the simulated clock)."""
    stations = [s for s in site["stations"].values() if s.get("enabled", True)]
    return scale_class(site["scale"]["backend"]).simulated and all(s["backend"] == "simulated" for s in stations)


def build_cargo(site: Mapping[str, Any]) -> CargoModel:
    """The simulated lot's ground truth from the ``[simulation]`` section."""
    sim, lot, line = site["simulation"], site["lot"], site["line"]
    rng = np.random.default_rng(sim["seed"])
    return CargoModel.random(
        lot["declared_product"], sim["lot_mass_t"], rng,
        waste_fraction=sim["waste_fraction"], waste_material=sim["waste_material"],
        waste_start_t=sim["waste_start_t"], waste_extent_t=(sim["waste_extent_t"] or None),
        objects_per_1000_t=sim["objects_per_1000_t"], belt_width_m=line["belt_width_m"],
    )


@dataclass
class Plant:
    """Everything one line needs, composed from a site configuration."""

    site: dict[str, Any]
    run_dir: Path
    clock: Clock
    line: Line
    monitor: LotMonitor
    alarms: AlarmBook
    service: LineService
    stations: dict[str, Station]
    cargo: CargoModel | None
    closers: list[Callable[[], None]] = field(default_factory=list)
    lot: LotIdentity | None = None
    #: the catalogue's background writer, when shared across lots (set by the caller; else made on attach)
    catalogue_writer: CatalogueWriter | None = None
    # what analysis.integration.attach adds (None until attached)
    archive: LotArchive | None = None
    catalogue_link: LineCatalogue | None = None
    plc_bridge: PlcBridge | None = None
    control_room: ControlRoomServer | None = None

    def new_lot(self) -> LotIdentity:
        lot_cfg, sim = self.site["lot"], self.site["simulation"]
        self.lot = LotIdentity(
            lot_id=LotIdentity.new_lot_id(lot_cfg["vessel"], lot_cfg["hold"]), vessel=lot_cfg["vessel"],
            hold=lot_cfg["hold"], declared_product=lot_cfg["declared_product"], declared_mass_t=sim["lot_mass_t"],
            supplier=lot_cfg["supplier"],
        )
        return self.lot

    def run_lot(self, lot: LotIdentity | None = None) -> LotEnd:
        lot = lot or self.lot or self.new_lot()
        return self.line.run_lot(lot, config=_jsonable(self.site))

    def close(self) -> None:
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:
                log.exception("closing %r failed", closer)
        self.line.close()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _nir_scorer_factory() -> Callable[[Mapping[str, Any]], LotSegmentScorer]:
    """spectra's per-lot segment scorer factory."""
    return LotSegmentScorer.from_metadata


def product_check_factory(folder: str) -> ProductCheckFactory | None:
    """The line's product-fingerprint checks from ``[verdict] product_fingerprints`` (None when empty).
    ConfigError when the folder cannot be read: a configured check that silently does nothing would be worse."""
    if not folder:
        return None
    try:
        return live_checks(folder)
    except FingerprintError as exc:
        raise ConfigError("verdict.product_fingerprints", str(exc)) from exc


def build_feed(site: Mapping[str, Any], context: StationContext) -> tuple[FeedSource, list[Callable[[], None]]]:
    """The belt-scale feed and its closers.

    ``direct`` feeds the simulated unloader straight into the runtime; ``simulated``
    serves it from a simulated PLC/belt-scale integrator on 127.0.0.1 and reads it
    back over Modbus TCP (the demo's path); ``modbus`` reads a real integrator.
    """
    sim, line, scale = site["simulation"], site["line"], site["scale"]
    events = [BeltEvent(e["start_s"], e["duration_s"], e["kind"], e["reverse_speed_m_s"]) for e in sim["events"]]
    feed = SimulatedFeed(
        rate_t_h=sim["rate_t_h"], speed_m_s=line["nominal_speed_m_s"], lot_mass_t=sim["lot_mass_t"],
        events=events, totaliser_modulus_t=scale["totaliser_modulus_t"] or None, seed=sim["seed"],
    )
    plc_keys = {k: v for k, v in scale.items() if k not in SCALE_FIELDS or k == "backend"}
    return scale_from_config(plc_keys, context, feed=feed), []  # the line closes its feed


def station_context(site: Mapping[str, Any], run_dir: Path, clock: Clock, *, simulated: bool) -> StationContext:
    """What every station factory is given: clock, belt, run folder, seed and (for simulated devices) the cargo."""
    sim, line_cfg = site["simulation"], site["line"]
    # Simulated devices need the truth of the cargo even on a partly real line.
    any_simulated = any(s["backend"] == "simulated" for s in site["stations"].values())
    cargo = build_cargo(site) if (simulated or any_simulated) else None
    return StationContext(
        clock=clock, belt_width_m=line_cfg["belt_width_m"], nominal_speed_m_s=line_cfg["nominal_speed_m_s"],
        run_dir=run_dir, seed=sim["seed"], cargo=cargo, segment_mass_t=site["lot"]["segment_mass_t"],
    )


def build_station(name: str, section: Mapping[str, Any], context: StationContext) -> Station:
    """The station ``name`` from its site section."""
    return station_factory(section["kind"])(name, {k: v for k, v in section.items() if k != "enabled"}, context)


def prepare_station(name: str, section: Mapping[str, Any], context: StationContext) -> None:
    """Fit and cache what the station's model needs, when its kind's module has a ``prepare`` (the camera); its
    factory then only loads. Nothing to do when the model is cached."""
    factory = station_factory(section["kind"])
    prepare = getattr(importlib.import_module(factory.__module__), "prepare", None)
    if callable(prepare):
        prepare(name, {k: v for k, v in section.items() if k != "enabled"}, context)


def compose(site: dict[str, Any], run_dir: Path, *, clock: Clock | None = None, simulated: bool = True) -> Plant:
    """Build the plant for ``site``; files go under ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    sim = site["simulation"]
    if clock is None:
        clock = SimulatedClock(sim["speedup"] if sim["speedup"] > 0 else math.inf) if simulated else WallClock()
    context = station_context(site, run_dir, clock, simulated=simulated)
    cargo = context.cargo
    stations: dict[str, Station] = {}
    for name, section in site["stations"].items():
        if not section.get("enabled", True):
            continue
        prepare_station(name, section, context)  # fits only on a first run without analysis.prepare; cached after
        stations[name] = build_station(name, section, context)
    line_cfg = site["line"]
    feed, closers = build_feed(site, context)
    alarms = AlarmBook(clock.now_s, epoch=clock.epoch_s)
    sampler = next((s for s in stations.values() if hasattr(s, "request_targeted")), None)
    monitor = LotMonitor(alarms, site["verdict"], nir_scorer_factory=_nir_scorer_factory(),
                         on_targeted=sampler.request_targeted if sampler is not None else None,
                         product_check_factory=product_check_factory(site["verdict"]["product_fingerprints"]))
    scale = site["scale"]
    line = Line(
        clock, feed, list(stations.values()), tick_s=line_cfg["tick_s"],
        segment_mass_t=site["lot"]["segment_mass_t"],
        totaliser=TonnageCounter(modulus_t=scale["totaliser_modulus_t"] or None, max_backstep_t=scale["max_backstep_t"]),
        allow_reverse=line_cfg["allow_reverse"], drain_timeout_s=line_cfg["drain_timeout_s"],
        sinks=[monitor],
    )
    service = LineService(line, monitor, alarms, site=site,
                          request_targeted=sampler.request_targeted if sampler is not None else None)
    service.run_dir = str(run_dir)
    if sampler is not None and hasattr(sampler, "summary"):
        service.sampler_status = lambda: sampler_status(sampler)
    plant = Plant(site, run_dir, clock, line, monitor, alarms, service, stations, cargo, closers)
    return plant


def sampler_status(sampler: Any) -> dict[str, Any]:
    """A compact, JSON-ready status of the sampling station for the control room."""
    summary = sampler.summary() or {}
    robot = getattr(sampler, "robot", None)
    state = getattr(robot, "state", None)
    out: dict[str, Any] = {"robot": getattr(state, "name", str(state)).lower() if state is not None else "offline"}
    plan = summary.get("plan") or {}
    if plan:
        out["routine planned"] = plan.get("n_total", "")
    for role in ("routine", "targeted"):
        info = summary.get(role) or {}
        by_status = info.get("by_status", {})
        out[f"{role} cut"] = by_status.get("cut", 0)
        not_cut = {k: v for k, v in by_status.items() if k != "cut" and v}
        if not_cut:
            out[f"{role} not cut"] = ", ".join(f"{k} {v}" for k, v in not_cut.items())
        err = info.get("max_abs_timing_error_s")
        if isinstance(err, float) and math.isfinite(err):
            out[f"{role} max timing error s"] = round(err, 3)
    return out


