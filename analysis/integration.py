"""Wire the plant's outputs: lot archive, Modbus register map, control room, report.

:func:`attach` runs before the lot (opens the archive, starts the servers),
:func:`finish` after it (closes the archive, writes the report). Each part is
optional in the configuration; what is configured but fails to start is
reported, and the line runs on without it.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from analysis.archive import COMMAND_ACTIONS, LotArchive
from analysis.catalogue import CatalogueWriter, LineCatalogue, open_catalogue
from analysis.errors import LotStateError
from analysis.model import AuditEvent
from analysis.plc_bridge import PlcBridge
from analysis.report import write_report
from analysis import web  # the room's lazy front door: FastAPI loads where a control room is started, not here
from conveyor.records import LotEnd

if TYPE_CHECKING:
    from analysis.site import Plant

log = logging.getLogger(__name__)


def attach(plant: Plant, *, serve: bool = True) -> dict[str, str]:
    """Open the archive and start the PLC and control-room servers; return what to tell the user."""
    told: dict[str, str] = {}
    site = plant.site
    parts = (
        ("archive", site["archive"]["enabled"], _attach_archive),
        ("catalogue", site.get("catalogue", {}).get("enabled", False), _attach_catalogue),
        ("modbus", serve and site["plc"]["enabled"], _attach_plc),
        ("control room", serve and site["control_room"]["enabled"], _attach_control_room),
    )
    for label, wanted, attach_part in parts:
        if not wanted:
            continue
        try:
            told.update(attach_part(plant))
        except Exception as exc:
            log.exception("%s failed to start", label)
            told[label] = f"FAILED to start: {type(exc).__name__}: {exc}"
    return told


def _attach_archive(plant: Plant) -> dict[str, str]:
    lot = plant.lot
    if lot is None:
        raise LotStateError("the plant has no lot to archive yet (Plant.new_lot first)")
    path = plant.run_dir / f"{lot.lot_id}.h5"
    archive = LotArchive(path, flush_interval_s=plant.site["archive"]["flush_interval_s"],
                         file_mode=int(plant.site["archive"].get("file_mode", "0640"), 8))
    plant.archive = archive
    plant.line.add_sink(archive)
    # The archive's listeners fail like its sink does: counted on the line (an "archive" alarm), never raised
    # into the monitor or the alarm book.
    plant.monitor.segment_listeners.append(_guarded(plant.line, archive.sink_name, archive.add_segment))
    plant.monitor.verdict_listeners.append(_guarded(plant.line, archive.sink_name, archive.add_verdict))
    plant.alarms.listeners.append(_guarded(plant.line, archive.sink_name, archive.alarm_changed))
    plant.closers.append(archive.close)
    return {"archive": str(path.resolve())}


def _attach_catalogue(plant: Plant) -> dict[str, str]:
    """The lot's row, alarms and events in the catalogue, through a background writer (shared across lots when
    the caller set ``plant.catalogue_writer``)."""
    writer = plant.catalogue_writer
    if writer is None:
        writer = CatalogueWriter(open_catalogue(plant.site["catalogue"]["url"] or None))
        plant.catalogue_writer = writer
        plant.closers.append(writer.catalogue.close)
        plant.closers.append(writer.close)
    link = LineCatalogue(writer, line=str(plant.site["line"].get("name", "")), epoch=plant.clock.epoch_s)
    archive = plant.archive
    link.attach(plant, archive.path if archive is not None else None)
    plant.catalogue_link = link
    plant.service.catalogue_link = link
    return {"catalogue": writer.catalogue.url}


def _guarded(line: Any, name: str, listener: Callable[..., None]) -> Callable[..., None]:
    """``listener`` whose exceptions are counted as faults of the line's sink ``name``."""
    def call(*args: Any) -> None:
        try:
            listener(*args)
        except Exception as exc:
            line.sink_failed(name, exc)
    return call


def _attach_plc(plant: Plant) -> dict[str, str]:
    cfg = plant.site["plc"]
    bridge = PlcBridge.from_config(cfg).start()
    plant.closers.append(bridge.stop)
    plant.plc_bridge = bridge
    bridge.attach(plant)
    return {"modbus": f"{cfg['host']}:{bridge.port} (device id {cfg['device_id']}; map in docs/register-map.md)"}


def audit_sink(plant: Plant) -> Callable[[AuditEvent], None]:
    """Where the control room's audit events of this lot go: the lot archive (every event; raises while it cannot
    take one, so the event waits), then the catalogue's command table (commands only, when a catalogue is on)."""
    archive, link = plant.archive, plant.catalogue_link
    if archive is None:
        raise LotStateError("the plant has no lot archive attached to take its audit events")

    def sink(event: AuditEvent) -> None:
        archive.add_audit(event)
        if link is not None and event.action in COMMAND_ACTIONS:
            link.on_command({"epoch_s": event.epoch_s, "lot_id": event.lot_id, "operator": event.person,
                             "command": event.action, "result": event.outcome,
                             "detail": {"role": event.role, "session": event.session, "source": event.source,
                                        "detail": event.detail}})
    return sink


def _attach_control_room(plant: Plant) -> dict[str, str]:
    cfg = dict(plant.site["control_room"])
    told: dict[str, str] = {}
    if not (cfg["operator_token"] or cfg["accounts_file"] or cfg["secrets_file"]
            or os.environ.get(web.TOKEN_ENV["operator_token"])):
        cfg["operator_token"] = told["operator token"] = secrets.token_urlsafe(12)  # the demo's one-off token
    server = web.ControlRoomServer.from_config(plant.service, cfg)  # its first use loads FastAPI
    server.start()
    archive = plant.archive
    if archive is not None:
        server.audit.set_sink(audit_sink(plant))  # logins, refusals and commands into the lot archive
    plant.closers.append(server.stop)
    plant.control_room = server
    return {"control room": server.url, **told}


def finish(plant: Plant, end: LotEnd, *, report: bool = True) -> dict[str, str]:
    """Close the archive and write the batch report; return the output paths."""
    out: dict[str, str] = {}
    archive = plant.archive
    if archive is not None:
        for station in plant.stations.values():
            custody = getattr(station, "custody", None)
            if custody is not None:  # the ISO 3082 sample record and its chain of custody
                try:
                    archive.add_custody_rows(custody.to_rows())
                    archive.add_custody_rows(custody.sample_rows(), kind="sample")
                except Exception:
                    log.exception("archiving the sample record of %s failed", station.name)
        try:
            archive.close()
        except Exception as exc:  # the disk went away: say so; the lot's record is incomplete
            log.exception("closing the archive failed")
            plant.line.sink_failed(archive.sink_name, exc)
            out["archive"] = f"FAILED: {type(exc).__name__}: {exc} (the lot's record is incomplete)"
            return out
        if plant.line.lot_sink_faults.get(archive.sink_name):
            out["archive"] = (f"INCOMPLETE: {plant.line.lot_sink_faults[archive.sink_name]} write(s) failed "
                              f"({archive.path})")
        if report:
            try:
                paths = write_report(archive.path, plant.run_dir)
                for path in paths.values():
                    os.chmod(path, archive.file_mode)  # as private as the archive it was made from
                for kind, path in paths.items():
                    out[f"report {kind}"] = str(path.resolve())
                plant.service.reports[end.lot_id] = {k: str(v) for k, v in paths.items()}
            except Exception as exc:  # the lot is archived; a report failure must be visible, not fatal
                log.exception("report failed")
                out["report"] = f"FAILED: {exc} (regenerate with `oreline report {archive.path}`)"
    link = plant.catalogue_link
    if link is not None:  # the closed archive indexed whole: the lot's final row
        link.finish(archive.path if archive is not None else None, plant.service.reports.get(end.lot_id))
    return out
