"""``oreline control-room``: the shipped simulated site, lot after lot, behind one control room.

Each lot is composed and run exactly as ``oreline demo`` runs its lot (:func:`analysis.site.compose`, the
archive and the report of :mod:`analysis.integration`), so the page and the API show what the real line
computes: the NIR model, the camera detector and the sampling robot of the site file, not stand-ins. The
control-room server stays up across lots; :class:`CurrentLotService` hands it the service of the lot now
running. Each lot gets the next seed (other waste, other objects) and its own folder under ``--run-dir``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analysis import integration
from analysis.catalogue import (
    Catalogue,
    CatalogueQueries,
    CatalogueWriter,
    open_catalogue,
)
from analysis.decide import AlarmIds, AlarmJournal
from analysis.errors import AnalysisError
from analysis.model import Alarm
from analysis.plc_bridge import PlcBridge
from analysis.prepare import prepare_station_models
from analysis.service import LineService
from analysis.site import Plant, compose, load_site, validate
from analysis.web import ControlRoomServer, ServerStartError
from conveyor.errors import ConveyorError
from plc.errors import ServerError as PlcServerError


def _next_alarm_id(catalogue: Catalogue | None) -> int:
    """The first alarm id of this control room: past every id the catalogue holds (ids never repeat)."""
    if catalogue is None:
        return 1
    return CatalogueQueries(catalogue).max_alarm_id() + 1


class CurrentLotService:
    """The :class:`~analysis.service.LineService` of the lot now running, as one object that outlives lots.

    Attribute access goes to the current lot's service. ``version`` keeps increasing across lots (a new lot's
    service starts again at 0), so live feeds waiting for a change see the switch as one.
    """

    def __init__(self, first: LineService, ids: AlarmIds | None = None) -> None:
        self._current = first
        self._base = 0
        self.reports: dict[str, dict[str, str]] = first.reports  # every lot's reports, listed by the page
        #: the alarm journal across lots: ids unique across lots, unacknowledged alarms carried to the next lot
        self.alarms = AlarmJournal(first.alarms, ids)

    def switch(self, service: LineService) -> None:
        """Serve ``service`` from now on (the next lot's)."""
        service.reports = self.reports
        self.alarms.switch(service.alarms)
        base = self.version + 1
        self._current, self._base = service, base

    def _command(self, operator: str, command: str, detail: dict[str, Any], result: str, lot_id: str = "") -> None:
        """Log an operator command in the catalogue (when the lot has one)."""
        link = getattr(self._current, "catalogue_link", None)
        if link is not None:
            link.on_command({"operator": operator, "command": command, "detail": detail, "result": result,
                             "lot_id": lot_id})

    def acknowledge(self, alarm_id: int, by: str, *, comment: str = "", lot_id: str | None = None) -> Alarm:
        """Acknowledge any journal alarm (this lot's or a carried one) by its id; logged as a command."""
        alarm = self.alarms.acknowledge(alarm_id, by, comment=comment, lot_id=lot_id)
        self._command(by, "acknowledge", {"alarm_id": alarm_id, "comment": comment}, alarm.state, alarm.lot_id)
        return alarm

    def acknowledge_all(self, by: str, *, comment: str = "") -> list[Alarm]:
        """Acknowledge every raised, unshelved alarm of the journal; logged as a command."""
        done = self.alarms.acknowledge_all(by, comment=comment)
        self._command(by, "acknowledge_all", {"alarm_ids": [a.alarm_id for a in done], "comment": comment},
                      f"{len(done)} acknowledged")
        return done

    def shelve(self, alarm_id: int, by: str, *, reason: str, duration_s: float) -> Alarm:
        """Shelve a journal alarm with a reason until an expiry; logged as a command."""
        alarm = self.alarms.shelve(alarm_id, by, reason=reason, duration_s=duration_s)
        self._command(by, "shelve", {"alarm_id": alarm_id, "reason": reason, "duration_s": duration_s},
                      f"shelved for {duration_s:g} s", alarm.lot_id)
        return alarm

    def line_state(self) -> dict[str, Any]:
        """The current lot's state with the journal's alarm counts (carried alarms included)."""
        state = self._current.line_state()
        state["alarms_active"] = len(self.alarms.active())
        state["alarms_unacknowledged"] = len(self.alarms.unacknowledged())
        state["version"] = self.version
        return state

    @property
    def version(self) -> int:
        return self._base + self._current.version

    def wait_for_change(self, since_version: int, timeout_s: float) -> int:
        """Block until the version moves past ``since_version`` (also by a lot switch) or the timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            current, base = self._current, self._base
            if base + current.version > since_version:
                return base + current.version
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return base + current.version
            current.wait_for_change(since_version - base, min(remaining, 0.25))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current, name)


class LotAfterLot:
    """Composes and runs the site's lots one after the other in a background thread."""

    def __init__(self, site: dict[str, Any], run_dir: Path, *, report: bool = True,
                 say: Callable[[str], None] = print, catalogue: Catalogue | None = None) -> None:
        self.site, self.run_dir, self.report, self.say = site, run_dir, report, say
        self.lots_run = 0
        #: one catalogue writer for every lot (None: no catalogue)
        self.catalogue_writer = CatalogueWriter(catalogue) if catalogue is not None else None
        self.ids = AlarmIds(_next_alarm_id(catalogue))
        self.plant: Plant = self._compose(0)
        self.service = CurrentLotService(self.plant.service, self.ids)
        self.server: ControlRoomServer | None = None
        self.plc: Any = None  # a started analysis.plc_bridge.PlcBridge: one Modbus server across every lot
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _compose(self, index: int) -> Plant:
        site = {**self.site, "simulation": {**self.site["simulation"], "seed": self.site["simulation"]["seed"] + index}}
        plant = compose(site, self.run_dir / f"lot-{index + 1:03d}", simulated=True)
        plant.new_lot()
        plant.alarms.use_ids(self.ids)
        if self.catalogue_writer is not None:
            plant.catalogue_writer = self.catalogue_writer
        integration.attach(plant, serve=False)  # the archive; the one control room is served by this class
        return plant

    def _run_one(self, plant: Plant) -> None:
        if self.server is not None and self.server.spectra is not None and plant is not self.plant:
            plant.line.add_sink(self.server.spectra)
        if plant is not self.plant:
            self.plant = plant
            self.service.switch(plant.service)
        if self.server is not None and plant.archive is not None:
            self.server.audit.set_sink(integration.audit_sink(plant))  # this lot's audit: its archive, the catalogue
        lot = plant.lot or plant.new_lot()
        if self.plc is not None:
            self.plc.attach(plant)
            if self.site["plc"]["wait_for_start_lot"]:
                self.say(f"lot {self.lots_run + 1}: waiting for START_LOT from the PLC")
                while not self.plc.wait_for_start_lot(0.5):
                    if self._stop.is_set():
                        return
        self.say(f"lot {self.lots_run + 1}: {lot.lot_id} ({lot.declared_mass_t:,.0f} t) running")
        try:
            end = plant.run_lot(lot)
            outputs = integration.finish(plant, end, report=self.report)
        finally:
            plant.close()
        v = plant.monitor.verdict
        self.lots_run += 1
        self.say(f"lot {self.lots_run}: {lot.lot_id} {end.status}, verdict {v.verdict.upper() if v else 'none'}"
                 + "".join(f"; {k} {p}" for k, p in outputs.items()))

    def start(self, lots: int | None = None) -> LotAfterLot:
        """Run ``lots`` lots (None: until :meth:`stop`) in a daemon thread."""
        def loop() -> None:
            plant = self.plant
            while True:
                self._run_one(plant)
                if self._stop.is_set() or (lots is not None and self.lots_run >= lots):
                    return
                plant = self._compose(self.lots_run)

        self._thread = threading.Thread(target=loop, name="lot-after-lot", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """Abort the running lot (it is archived as aborted) and join the thread (bounded)."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        while self._thread is not None and self._thread.is_alive() and time.monotonic() < deadline:
            self.plant.line.request_stop("control room stopped")
            self._thread.join(0.2)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _control_room_section(site: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The site's ``[control_room]`` with the command line's address, accounts, secrets and TLS files."""
    cfg = dict(site.get("control_room") or {})
    cfg["port"] = args.port
    for key, value in (("host", args.host), ("accounts_file", args.accounts), ("secrets_file", args.secrets_file),
                       ("tls_cert", args.tls_cert), ("tls_key", args.tls_key)):
        if value is not None:
            cfg[key] = str(value)
    return cfg


def serve_lots(args: argparse.Namespace) -> int:
    """Run the simulated site lot after lot and serve its control room until Ctrl-C (or ``--lots`` lots ran): the
    options of :func:`analysis.control_room_cli.cli_controlroom`, already checked."""
    print(f"oreline control-room: composing the line of {args.config or 'the shipped simulated site'}", flush=True)
    try:
        site = load_site(args.config)
        if args.speedup is not None:
            site["simulation"]["speedup"] = args.speedup
        if args.lot_mass_t is not None:
            site["simulation"]["lot_mass_t"] = args.lot_mass_t
        site = validate(site)
        prepare_station_models(site)
        use_catalogue = site["catalogue"]["enabled"] and not args.no_catalogue
        site["catalogue"]["enabled"] = use_catalogue
        catalogue = open_catalogue(args.catalogue or site["catalogue"]["url"] or None) if use_catalogue else None
        lots = LotAfterLot(site, args.run_dir or Path("runs") / time.strftime("control-room-%Y%m%dT%H%M%S"),
                           report=not args.no_report, catalogue=catalogue)
        lots.server = ControlRoomServer.from_config(
            lots.service, _control_room_section(site, args),
            history=CatalogueQueries(catalogue) if catalogue is not None else None)
        lots.server.start()
        if getattr(lots.plant, "archive", None) is not None:
            lots.server.audit.set_sink(integration.audit_sink(lots.plant))
        if site["plc"]["enabled"]:
            lots.plc = PlcBridge.from_config(site["plc"]).start()
    except (ConveyorError, AnalysisError, ServerStartError, PlcServerError) as exc:
        print(f"oreline control-room: error: {exc}", file=sys.stderr)
        return 2
    print(f"control room: {lots.server.url}  (API spec {lots.server.url}openapi.json)", flush=True)
    if lots.plc is not None:
        print(f"modbus: {lots.plc.server.host}:{lots.plc.port} (device id {site['plc']['device_id']}; one server "
              "for every lot; map in docs/register-map.md)", flush=True)
    lots.start(lots=args.lots or None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    told_idle = False
    try:
        while not stop.is_set() and (lots.running or not args.exit_after_lots):
            if not lots.running and not told_idle:
                told_idle = True
                print(f"{lots.lots_run} lot(s) ran; the control room stays up at {lots.server.url} "
                      "(Ctrl-C or SIGTERM stops it)", flush=True)
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        lots.stop()
        lots.server.stop()
        if lots.plc is not None:
            lots.plc.stop()
        if lots.catalogue_writer is not None:
            lots.catalogue_writer.close()
            lots.catalogue_writer.catalogue.close()
    return 0
