"""The bridge between the running line and oreline's Modbus register map, for as long as the line process runs.

:class:`PlcBridge` owns one :class:`~plc.server.OrelineModbusServer` and outlives lots: :meth:`attach` hands it
each lot's plant. While a lot runs, every line tick publishes a :class:`~plc.snapshot.LineSnapshot` and takes
the PLC's commands; each decided segment goes into the segment-event FIFO. At lot end the final verdict is
published with a new ``VERDICT_SEQ`` (the PLC acknowledges it in ``VERDICT_ACK_SEQ``) and held, with the last
segments, until the next lot starts; between lots a background thread keeps the heartbeat going and takes
commands (START_LOT, acknowledgements). A PLC that stops polling raises a ``plc_fault`` alarm; the line keeps
running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

from analysis.decide import AlarmBook, LotMonitor
from analysis.model import Alarm, LotVerdict, SegmentDecision
from analysis.plc_state import (
    SEGMENT_CODES,
    Request,
    alarm_bit,
    alarm_words,
    line_status,
    sampler_fields,
    segment_fields,
    verdict_fields,
)
from analysis.service import LineService
from conveyor.records import LotIdentity
from conveyor.runtime import Line, LineState
from plc import codes
from plc.config import server_from_config
from plc.events import SegmentEvent
from plc.server import Command, OrelineModbusServer
from plc.snapshot import LineSnapshot, ascii_lot_id

log = logging.getLogger(__name__)

__all__ = ["BridgedPlant", "PlcBridge", "alarm_bit"]


class BridgedPlant(Protocol):
    """What the bridge reads of a composed line (an :class:`analysis.site.Plant`)."""

    @property
    def site(self) -> Mapping[str, Any]: ...
    @property
    def line(self) -> Line: ...
    @property
    def monitor(self) -> LotMonitor: ...
    @property
    def alarms(self) -> AlarmBook: ...
    @property
    def service(self) -> LineService: ...
    @property
    def lot(self) -> LotIdentity | None: ...

_INSPECTING = ("spectrometer", "camera")


class PlcBridge:
    """Publishes each lot's state on one long-lived :class:`OrelineModbusServer` and executes PLC commands.

    ``idle_period_s`` is the publish period between lots (the heartbeat keeps changing).
    """

    def __init__(self, server: OrelineModbusServer, *, idle_period_s: float = 0.25) -> None:
        self.server = server
        self.idle_period_s = idle_period_s
        self.plant: BridgedPlant | None = None
        self.lot_number = 0
        self.next_lot_number: int | None = None
        self.commands_done: list[tuple[Command, int]] = []
        self._lock = threading.RLock()
        self._in_lot = False
        self._failed = False
        self._state: LineState | None = None
        self._latched: dict[int, int] = {}  # alarm id → bit: cleared before anyone acknowledged it
        self._requests: dict[int, Request] = {}  # InterlockBit → latched request
        self._start_lot = threading.Event()
        self._stop = threading.Event()
        self._idle: threading.Thread | None = None

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> PlcBridge:
        """A bridge for a validated ``[plc]`` table (see :data:`plc.config.PLC_FIELDS`)."""
        server = server_from_config({**cfg, "enabled": True})
        assert server is not None
        return cls(server)

    @property
    def port(self) -> int | None:
        return self.server.port

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> PlcBridge:
        """Start the server and the between-lots publisher (idempotent)."""
        self.server.start()
        if self._idle is None:
            self._stop.clear()
            self._idle = threading.Thread(target=self._idle_loop, name="oreline-plc-idle", daemon=True)
            self._idle.start()
        self.publish()
        return self

    def stop(self) -> None:
        """Stop the publisher and the server (bounded)."""
        self._stop.set()
        if self._idle is not None:
            self._idle.join(2.0)
            self._idle = None
        self.server.stop()

    def attach(self, plant: BridgedPlant) -> None:
        """Serve ``plant``'s lot (call before it runs). The lot starts for the PLC at its first line tick:
        until then the previous lot's verdict and segments stay in the registers."""
        plant.line.listeners.append(lambda st: self._on_tick(plant, st))
        plant.monitor.segment_listeners.append(lambda seg: self._on_segment(plant, seg))
        plant.monitor.verdict_listeners.append(lambda v: self._on_verdict(plant, v))
        plant.alarms.listeners.append(lambda action, alarm: self._on_alarm(plant, action, alarm))

    def _begin_lot(self, plant: BridgedPlant) -> None:
        with self._lock:
            self.plant, self._state, self._in_lot, self._failed = plant, None, True, False
            self.lot_number = self.next_lot_number or self.lot_number + 1
            self.next_lot_number = None
            self._start_lot.clear()
        log.info("PLC: lot %d (%s) started", self.lot_number, plant.monitor.lot_id)

    def lot_failed(self, reason: str) -> None:
        """The line could not run the lot: LINE_STATUS FAULT, held until the next lot."""
        log.error("PLC: lot %d failed: %s", self.lot_number, reason)
        with self._lock:
            self._in_lot, self._failed = False, True
        self.publish()

    def wait_for_start_lot(self, timeout_s: float | None = None) -> bool:
        """Block until the PLC's START_LOT is accepted (between lots); False on timeout."""
        return self._start_lot.wait(timeout_s)

    def wait_verdict_ack(self, timeout_s: float) -> bool:
        """After lot end: wait (at most ``timeout_s``) until the PLC acknowledges the final verdict.

        Returns at once (False) when no PLC was ever connected.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.server.verdict_acked:
                return True
            if not self.server.link_status().seen_client:
                return False
            time.sleep(0.05)
        return self.server.verdict_acked

    # ---- state → registers -----------------------------------------------------------------------
    def snapshot(self) -> LineSnapshot:
        """The register view of the current (or last) lot."""
        plant = self.plant
        words = alarm_words(plant.alarms.active() if plant else (), self._latched_bits())
        common = {"alarms_active": words[0], "alarms_unacked": words[1], **self._interlock_fields(plant)}
        if plant is None:
            return LineSnapshot(line_status=codes.LineStatus.FAULT if self._failed else codes.LineStatus.IDLE,
                                sampler_state=codes.SamplerState.DISABLED, **common)
        monitor, state = plant.monitor, self._state
        last = monitor.segments[-1] if monitor.segments else None
        inspecting = sum(1 for s in plant.site.get("stations", {}).values() if s.get("kind") in _INSPECTING)
        status = line_status(state, in_lot=self._in_lot, failed=self._failed, inspecting_stations=inspecting)
        return LineSnapshot(
            line_status=status,
            lot_number=self.lot_number,
            lot_id=ascii_lot_id(monitor.lot_id or (plant.lot.lot_id if plant.lot else "")),
            lot_tonnage_t=max(0.0, state.lot_tonnage_t) if state else 0.0,
            belt_speed_m_s=state.belt_speed_m_s if state and self._in_lot else 0.0,
            rate_t_h=state.rate_t_h if state and self._in_lot else 0.0,
            **segment_fields(last),
            **verdict_fields(monitor.verdict, monitor.sequential, last),
            **sampler_fields(plant),
            **common,
        )

    def _latched_bits(self) -> int:
        bits = 0
        for bit in self._latched.values():
            bits |= 1 << bit
        return bits

    def _interlock_fields(self, plant: BridgedPlant | None) -> dict[str, Any]:
        bits = 0
        out: dict[str, Any] = {}
        for bit, prefix in ((codes.InterlockBit.STOP_BELT_REQUEST, "stop"), (codes.InterlockBit.DIVERT_REQUEST, "divert")):
            request = self._requests.get(int(bit))
            if request is not None:
                bits |= 1 << bit
                out.update(request.fields(prefix))
        if plant is not None and self._healthy():
            bits |= 1 << codes.InterlockBit.INSPECTION_HEALTHY
        out["interlocks"] = bits
        return out

    def _healthy(self) -> bool:
        """The permissive: a lot open and running, the belt scale answering, no station faulted, PLC link up."""
        state = self._state
        if not self._in_lot or self._failed or state is None or state.phase == "ended":
            return False
        return state.scale_ok and not state.stations_faulted and self.server.link_status().ok

    def publish(self, *, new_verdict: bool = False) -> None:
        """Publish the current view; never raises (a failure is logged and the previous image stays)."""
        try:
            with self._lock:
                self.server.publish(self.snapshot(), new_verdict=new_verdict)
        except Exception:
            log.exception("publishing the register map failed")

    # ---- line events (line thread) ---------------------------------------------------------------
    def _on_tick(self, plant: BridgedPlant, state: LineState) -> None:
        if plant is not self.plant and state.phase != "ended":
            self._begin_lot(plant)
        if plant is not self.plant or not self._in_lot:
            return
        self._state = state
        self.publish()
        self._supervise_link()
        self._run_commands()

    def _on_segment(self, plant: BridgedPlant, segment: SegmentDecision) -> None:
        if plant is not self.plant:
            return
        code = SEGMENT_CODES.get(segment.segment_class, codes.SegmentClass.UNINSPECTED)
        with self._lock:
            if code is codes.SegmentClass.CONTAMINATED:
                self._requests[int(codes.InterlockBit.STOP_BELT_REQUEST)] = Request.of(self.lot_number, segment)
            elif code is codes.SegmentClass.WASTE_SUSPECT:
                self._requests[int(codes.InterlockBit.DIVERT_REQUEST)] = Request.of(self.lot_number, segment)
        try:
            self.server.push_event(SegmentEvent(self.lot_number, segment.index, code, int(segment.detections),
                                                max(0.0, segment.start_t), max(0.0, segment.end_t)))
        except Exception:
            log.exception("segment %d could not be put in the event FIFO", segment.index)

    def _on_verdict(self, plant: BridgedPlant, verdict: LotVerdict | None) -> None:
        if plant is not self.plant or verdict is None or not verdict.final:
            return
        if verdict.verdict == "inconclusive":
            plant.alarms.raise_alarm("verdict:inconclusive", "system", "warning",
                                     "lot verdict inconclusive: " + "; ".join(verdict.reasons),
                                     lot_id=verdict.lot_id, code="lot_inconclusive")
        with self._lock:
            self._in_lot = False
        self.publish(new_verdict=True)
        log.info("final verdict %s of lot %d published (VERDICT_SEQ %d)", verdict.verdict, self.lot_number,
                 self.server.verdict_seq)

    def _on_alarm(self, plant: BridgedPlant, action: str, alarm: Alarm) -> None:
        if plant is not self.plant:
            return
        if action == "cleared" and not alarm.acknowledged_by:
            with self._lock:
                self._latched[alarm.alarm_id] = int(alarm_bit(alarm))

    def _supervise_link(self) -> None:
        link = self.server.link_status()
        plant, key = self.plant, "plc:link"
        if plant is None:
            return
        if link.supervised and not link.ok:
            plant.alarms.raise_alarm(key, "plc_fault", "alarm", f"PLC link lost: {link.reason}",
                                     lot_id=plant.monitor.lot_id, code="plc_link")
        elif link.ok and plant.alarms.is_active(key):
            plant.alarms.clear(key)

    def _idle_loop(self) -> None:
        while not self._stop.wait(self.idle_period_s):
            if self._in_lot:
                continue
            self.publish()
            try:
                self._run_commands()
            except Exception:
                log.exception("PLC commands between lots failed")

    # ---- commands --------------------------------------------------------------------------------
    def _run_commands(self) -> None:
        for command in self.server.poll_commands():
            with self._lock:
                result = self.execute(command)
            self.server.complete(command, result)
            self.commands_done.append((command, int(result)))

    def execute(self, command: Command) -> codes.CommandResult:
        """Carry out one PLC command; return the result code written back to the PLC."""
        handlers = {
            codes.CommandCode.ACK_ALARM: self._ack_alarm,
            codes.CommandCode.REQUEST_SAMPLE: self._request_sample,
            codes.CommandCode.START_LOT: self._start_lot_command,
            codes.CommandCode.STOP_LOT: self._stop_lot_command,
            codes.CommandCode.ACK_REQUEST: self._ack_request,
        }
        handler = handlers.get(codes.CommandCode(command.code))
        if handler is None:
            return codes.CommandResult.REJECTED
        try:
            return handler(command)
        except Exception as exc:
            log.warning("PLC command %s failed: %s", command.code.name, exc)
            return codes.CommandResult.FAILED

    def _ack_alarm(self, command: Command) -> codes.CommandResult:
        bit = command.alarm_bit
        acked = 0
        for alarm_id, latched in list(self._latched.items()):
            if bit is None or latched == bit:
                del self._latched[alarm_id]
                acked += 1
        if self.plant is not None:
            for alarm in self.plant.alarms.active():
                if alarm.state == "raised" and (bit is None or int(alarm_bit(alarm)) == bit):
                    self.plant.alarms.acknowledge(alarm.alarm_id, "PLC")
                    acked += 1
        return codes.CommandResult.DONE if acked else codes.CommandResult.REJECTED

    def _ack_request(self, command: Command) -> codes.CommandResult:
        bits = [1, 2] if command.arg == codes.ACK_ALL_ALARMS else [command.arg]
        dropped = [self._requests.pop(b, None) for b in bits]
        return codes.CommandResult.DONE if any(dropped) else codes.CommandResult.REJECTED

    def _request_sample(self, command: Command) -> codes.CommandResult:
        plant = self.plant
        if plant is None or not self._in_lot or plant.line.tracker.empty or plant.monitor.start is None:
            return codes.CommandResult.REJECTED
        start_mark = plant.monitor.start.start_mark_t
        plant.service.request_targeted(plant.line.tracker.last_mark_t - start_mark, f"PLC request ref {command.arg}")
        return codes.CommandResult.DONE

    def _start_lot_command(self, command: Command) -> codes.CommandResult:
        if self._in_lot:
            return codes.CommandResult.REJECTED  # a lot is open: stop it first
        self.next_lot_number = command.lot_number
        self._start_lot.set()
        return codes.CommandResult.DONE

    def _stop_lot_command(self, command: Command) -> codes.CommandResult:
        if not self._in_lot or self.plant is None or command.lot_number not in (0, self.lot_number):
            return codes.CommandResult.REJECTED
        self.plant.service.stop_lot(f"stopped by PLC command (seq {command.seq}, lot {self.lot_number})")
        return codes.CommandResult.DONE
