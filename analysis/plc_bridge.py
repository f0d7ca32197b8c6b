"""The bridge between the running line and oreline's Modbus register map.

Each tick :class:`PlcBridge` fills a :class:`plc.snapshot.LineSnapshot` from the
line service (state, segments, verdict, alarms, sampler) and publishes it; then it
takes the PLC's commands (acknowledge alarm, request targeted sample, start/stop
lot) and completes each with a result code. A PLC that stops polling raises a
``plc_fault`` alarm; the line keeps running.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from conveyor.runtime import LineState
from plc import codes
from plc.robot_block import sampler_state_code
from plc.server import Command, OrelineModbusServer
from plc.snapshot import LineSnapshot
from analysis.model import Alarm

log = logging.getLogger(__name__)

#: alarm category (analysis) → PLC alarm bit (plc.codes.AlarmBit)
CATEGORY_BITS: dict[str, codes.AlarmBit] = {
    "waste": codes.AlarmBit.WASTE_SUSPECT,
    "contamination": codes.AlarmBit.CONTAMINANT,
    "nir_fault": codes.AlarmBit.NIR_FAULT,
    "camera_fault": codes.AlarmBit.CAMERA_FAULT,
    "sampler_fault": codes.AlarmBit.SAMPLER_FAULT,
    "scale_fault": codes.AlarmBit.BELT_SCALE_LINK,
    "plc_fault": codes.AlarmBit.PLC_LINK,
    "uninspected": codes.AlarmBit.UNINSPECTED,
    "system": codes.AlarmBit.STATION_ERROR,
}


def alarm_bit(alarm: Alarm) -> codes.AlarmBit:
    """The PLC bit an alarm sets (keys refine the category: verdicts, detections, totaliser)."""
    if alarm.key.startswith("verdict:waste"):
        return codes.AlarmBit.LOT_WASTE
    if alarm.key.startswith("verdict:contaminated"):
        return codes.AlarmBit.LOT_CONTAMINATED
    if alarm.key.startswith("detection:"):
        return codes.AlarmBit.FOREIGN_OBJECT
    if "totaliser" in alarm.key:
        return codes.AlarmBit.TOTALISER_FAULT
    if alarm.category == "sampler_fault" and ("missed" in alarm.message or "skipped" in alarm.message):
        return codes.AlarmBit.SAMPLE_MISSED
    return CATEGORY_BITS.get(alarm.category, codes.AlarmBit.STATION_ERROR)


_VERDICT_CODES = {
    "pending": codes.LotVerdict.PENDING, "ore": codes.LotVerdict.ORE, "waste": codes.LotVerdict.WASTE,
    "contaminated": codes.LotVerdict.CONTAMINATED, "inconclusive": codes.LotVerdict.INCONCLUSIVE,
}
_SEGMENT_CODES = {
    "uninspected": codes.SegmentClass.UNINSPECTED, "ore": codes.SegmentClass.ORE,
    "waste-suspect": codes.SegmentClass.WASTE_SUSPECT, "contaminated": codes.SegmentClass.CONTAMINATED,
}


class PlcBridge:
    """Publishes the plant's state on an :class:`OrelineModbusServer` and executes PLC commands."""

    def __init__(self, plant: Any, *, host: str = "127.0.0.1", port: int = 0, device_id: int = 1,
                 link_timeout_s: float = 10.0, watchdog_timeout_s: float | None = None) -> None:
        self.plant = plant
        self.server = OrelineModbusServer(host=host, port=port, device_id=device_id, link_timeout_s=link_timeout_s,
                                          watchdog_timeout_s=watchdog_timeout_s)
        self.lot_number = 1
        self.commands_done: list[tuple[Command, int]] = []

    @property
    def port(self) -> int | None:
        return self.server.port

    def start(self) -> None:
        self.server.start()
        self.plant.line.listeners.append(self.on_tick)
        self.publish(None)

    def stop(self) -> None:
        self.server.stop()

    # ---- state → registers -----------------------------------------------------------------------
    def snapshot(self, state: LineState | None) -> LineSnapshot:
        monitor, alarms = self.plant.monitor, self.plant.alarms
        verdict = monitor.verdict
        last_segment = monitor.segments[-1] if monitor.segments else None
        active = alarms.active()
        active_bits = unacked_bits = 0
        for a in active:
            bit = 1 << int(alarm_bit(a))
            active_bits |= bit
            if a.state == "raised":
                unacked_bits |= bit
        if state is None:
            status = codes.LineStatus.IDLE
        elif state.phase == "ended":
            status = codes.LineStatus.IDLE
        elif not state.scale_ok or state.stations_faulted:
            status = codes.LineStatus.DEGRADED
        elif not state.running:
            status = codes.LineStatus.BELT_STOPPED
        else:
            status = codes.LineStatus.RUNNING
        sampler = self._sampler_summary()
        score = last_segment.nir_waste_score if last_segment else math.nan
        decided_at = verdict.decided_at_t if verdict is not None else math.nan
        lot_id = monitor.lot_id[:32]
        return LineSnapshot(
            line_status=status,
            lot_number=self.lot_number if monitor.start else 0,
            lot_id=lot_id,
            lot_tonnage_t=max(0.0, state.lot_tonnage_t) if state else 0.0,
            belt_speed_m_s=state.belt_speed_m_s if state else 0.0,
            rate_t_h=state.rate_t_h if state else 0.0,
            segment_index=max(0, state.segment_index) if state else 0,
            segment_class=_SEGMENT_CODES[last_segment.segment_class] if last_segment else codes.SegmentClass.UNINSPECTED,
            nir_waste_score=min(1.0, max(0.0, score)) if math.isfinite(score) else 0.0,
            vision_detections=len(monitor.detections),
            lot_verdict=_VERDICT_CODES.get(verdict.verdict, codes.LotVerdict.PENDING) if verdict else codes.LotVerdict.PENDING,
            verdict_confidence=min(1.0, max(0.0, verdict.confidence)) if verdict else 0.0,
            earliest_safe_tonnage_t=decided_at if math.isfinite(decided_at) and decided_at > 0 else 0.0,
            alarms_active=active_bits,
            alarms_unacked=unacked_bits,
            sampler_state=sampler["state"],
            samples_routine=sampler["routine"],
            samples_targeted=sampler["targeted"],
            samples_missed=sampler["missed"],
        )

    def _sampler_summary(self) -> dict[str, int]:
        increments = self.plant.monitor.increments
        routine = sum(1 for i in increments if i.get("role") == "routine" and i.get("status") == "cut")
        targeted = sum(1 for i in increments if i.get("role") == "targeted" and i.get("status") == "cut")
        missed = sum(1 for i in increments if i.get("status") not in ("cut",))
        state = codes.SamplerState.OFFLINE
        sampler = next((s for s in self.plant.stations.values() if hasattr(s, "request_targeted")), None)
        robot = getattr(sampler, "robot", None)
        if robot is not None:
            try:
                state = sampler_state_code(robot.state)
            except Exception:  # an unknown robot state must not stop publishing
                state = codes.SamplerState.OFFLINE
        return {"state": state, "routine": routine, "targeted": targeted, "missed": missed}

    def publish(self, state: LineState | None) -> None:
        try:
            self.server.publish(self.snapshot(state))
        except Exception:
            log.exception("publishing the register map failed")

    def on_tick(self, state: LineState) -> None:
        self.publish(state)
        self._supervise_link()
        for command in self.server.poll_commands():
            result = self.execute(command)
            self.server.complete(command, result)
            self.commands_done.append((command, int(result)))

    def _supervise_link(self) -> None:
        link = self.server.link_status()
        key = "plc:link"
        if link.seen_client and not link.ok:
            self.plant.alarms.raise_alarm(key, "plc_fault", "alarm", f"PLC link lost: {link.reason}",
                                          lot_id=self.plant.monitor.lot_id)
        elif link.ok and self.plant.alarms.is_active(key):
            self.plant.alarms.clear(key)

    # ---- commands --------------------------------------------------------------------------------
    def execute(self, command: Command) -> codes.CommandResult:
        """Carry out one PLC command; return the result code written back to the PLC."""
        code = codes.CommandCode(command.code)
        try:
            if code == codes.CommandCode.ACK_ALARM:
                bit = command.alarm_bit
                acked = 0
                for alarm in self.plant.alarms.active():
                    if alarm.state == "raised" and (bit is None or int(alarm_bit(alarm)) == bit):
                        self.plant.alarms.acknowledge(alarm.alarm_id, "PLC")
                        acked += 1
                return codes.CommandResult.DONE if acked else codes.CommandResult.REJECTED
            if code == codes.CommandCode.REQUEST_SAMPLE:
                tracker = self.plant.line.tracker
                if tracker.empty or self.plant.monitor.start is None:
                    return codes.CommandResult.REJECTED
                start_mark = self.plant.monitor.start.start_mark_t
                self.plant.service.request_targeted(tracker.last_mark_t - start_mark, f"PLC request ref {command.arg}")
                return codes.CommandResult.DONE
            if code == codes.CommandCode.STOP_LOT:
                if self.plant.monitor.start is None or self.plant.monitor.end is not None:
                    return codes.CommandResult.REJECTED
                self.plant.service.stop_lot(f"stopped by PLC command (seq {command.seq})")
                return codes.CommandResult.DONE
            if code == codes.CommandCode.START_LOT:
                # The runtime opens a lot itself at start; a second lot needs the current one ended first.
                return codes.CommandResult.REJECTED
        except Exception as exc:
            log.warning("PLC command %s failed: %s", code.name, exc)
            return codes.CommandResult.FAILED
        return codes.CommandResult.REJECTED
