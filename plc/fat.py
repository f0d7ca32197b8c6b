"""A scripted line behind the oreline register map, for factory acceptance tests of a PLC program.

:class:`ScriptedLine` drives an :class:`~plc.server.OrelineModbusServer` through lots whose segment classes
follow :data:`LOT_SCRIPTS` in turn, so that every verdict, the segment-event FIFO, the interlock requests, the
alarm words and the verdict handshake appear, and carries out the PLC's commands as oreline would
(``oreline plc serve-sim --map``). No inspection runs: it is the register map's behaviour, not oreline's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from plc import codes
from plc.events import SegmentEvent
from plc.server import Command, OrelineModbusServer
from plc.snapshot import LineSnapshot

C = codes.SegmentClass
#: one script per lot, used in turn: each lot ends with the verdict its segments give
LOT_SCRIPTS: tuple[tuple[codes.SegmentClass, ...], ...] = (
    (C.ORE, C.ORE, C.ORE, C.ORE, C.CONTAMINATED, C.ORE, C.ORE, C.ORE, C.ORE, C.ORE),  # CONTAMINATED
    (C.ORE,) * 10,  # ORE
    (C.ORE, C.ORE, C.WASTE_SUSPECT, C.WASTE_SUSPECT, C.ORE, C.ORE, C.ORE, C.ORE, C.ORE, C.ORE),  # WASTE
    (C.ORE, C.UNINSPECTED, C.UNINSPECTED, C.ORE, C.ORE, C.ORE, C.ORE, C.ORE, C.ORE, C.ORE),  # INCONCLUSIVE
)
_ALARM_OF_CLASS = {C.WASTE_SUSPECT: codes.AlarmBit.WASTE_SUSPECT, C.CONTAMINATED: codes.AlarmBit.CONTAMINANT,
                   C.UNINSPECTED: codes.AlarmBit.UNINSPECTED}


def scripted_verdict(classes: list[codes.SegmentClass]) -> codes.LotVerdict:
    """The verdict a scripted lot ends with (contaminant first, two waste-suspect segments, > 5 % uninspected)."""
    if not classes:
        return codes.LotVerdict.INCONCLUSIVE
    if C.CONTAMINATED in classes:
        return codes.LotVerdict.CONTAMINATED
    if classes.count(C.WASTE_SUSPECT) >= 2:
        return codes.LotVerdict.WASTE
    if classes and classes.count(C.UNINSPECTED) / len(classes) > 0.05:
        return codes.LotVerdict.INCONCLUSIVE
    return codes.LotVerdict.ORE


@dataclass
class _Lot:
    number: int
    script: tuple[codes.SegmentClass, ...]
    segment_mass_t: float
    tonnage_t: float = 0.0
    decided: list[codes.SegmentClass] = field(default_factory=list)

    @property
    def mass_t(self) -> float:
        return self.segment_mass_t * len(self.script)


class ScriptedLine:
    """Lots of ``segment_mass_t`` x 10 t at ``rate_t_h``, with ``pause_s`` between lots (all in simulated s)."""

    def __init__(self, server: OrelineModbusServer, *, segment_mass_t: float = 100.0, rate_t_h: float = 4000.0,
                 speed_m_s: float = 4.0, pause_s: float = 30.0) -> None:
        self.server, self.segment_mass_t = server, segment_mass_t
        self.rate_t_h, self.speed_m_s, self.pause_s = rate_t_h, speed_m_s, pause_s
        self.lots_started = 0
        self.lot: _Lot | None = None
        self.ended: _Lot | None = None
        self.pause_left_s = 0.0
        self.next_number: int | None = None
        self.active = self.unacked = 0
        self.requests: dict[int, tuple[int, float, float]] = {}

    def step(self, dt_s: float) -> None:
        """Advance the line by ``dt_s`` simulated seconds, take the PLC's commands, publish."""
        for command in self.server.poll_commands():
            self.server.complete(command, self._execute(command))
        new_verdict = False
        if self.lot is None:
            self.pause_left_s -= dt_s
            if self.pause_left_s <= 0:
                self._start_lot()
        else:
            lot = self.lot
            lot.tonnage_t = min(lot.mass_t, lot.tonnage_t + self.rate_t_h * dt_s / 3600.0)
            while len(lot.decided) < math.floor(lot.tonnage_t / lot.segment_mass_t + 1e-9):
                self._decide(lot)
            new_verdict = len(lot.decided) == len(lot.script) and self._end_lot()
        self.server.publish(self.snapshot(), new_verdict=new_verdict)

    def _start_lot(self) -> None:
        script = LOT_SCRIPTS[self.lots_started % len(LOT_SCRIPTS)]
        number = self.next_number or (self.ended.number + 1 if self.ended else 1)
        self.lot, self.next_number = _Lot(number, script, self.segment_mass_t), None
        self.lots_started += 1

    def _decide(self, lot: _Lot) -> None:
        index = len(lot.decided)
        cls = lot.script[index]
        lot.decided.append(cls)
        start, end = index * lot.segment_mass_t, (index + 1) * lot.segment_mass_t
        self.server.push_event(SegmentEvent(lot.number, index, cls, 1 if cls is C.CONTAMINATED else 0, start, end))
        if cls in _ALARM_OF_CLASS:
            bit = 1 << _ALARM_OF_CLASS[cls]
            self.active |= bit
            self.unacked |= bit
        if cls is C.CONTAMINATED:
            self.requests[codes.InterlockBit.STOP_BELT_REQUEST] = (index, start, end)
        elif cls is C.WASTE_SUSPECT:
            self.requests[codes.InterlockBit.DIVERT_REQUEST] = (index, start, end)

    def _end_lot(self) -> bool:
        ended = self.lot
        assert ended is not None, "_end_lot is called only while a lot runs"
        self.ended, self.lot, self.pause_left_s = ended, None, self.pause_s
        verdict = scripted_verdict(ended.decided)
        bit = {codes.LotVerdict.WASTE: codes.AlarmBit.LOT_WASTE, codes.LotVerdict.CONTAMINATED:
               codes.AlarmBit.LOT_CONTAMINATED, codes.LotVerdict.INCONCLUSIVE: codes.AlarmBit.LOT_INCONCLUSIVE}
        if verdict in bit:
            self.unacked |= 1 << bit[verdict]
        self.active = 0  # the lot's conditions end with it; unacknowledged bits stay latched
        return True

    def snapshot(self) -> LineSnapshot:
        """The register view now."""
        lot = self.lot or self.ended
        if lot is None:
            return LineSnapshot(sampler_state=codes.SamplerState.IDLE)
        last = len(lot.decided) - 1
        final = self.lot is None
        verdict = scripted_verdict(lot.decided) if final else codes.LotVerdict.PENDING
        fields: dict = {}
        for bit, (index, start, end) in self.requests.items():
            prefix = "stop" if bit == codes.InterlockBit.STOP_BELT_REQUEST else "divert"
            fields.update({f"{prefix}_segment_index": index, f"{prefix}_mass_t": end - start,
                           f"{prefix}_window_start_t": start, f"{prefix}_window_end_t": end})
        healthy = 0 if final else 1 << codes.InterlockBit.INSPECTION_HEALTHY
        return LineSnapshot(
            line_status=codes.LineStatus.IDLE if final else codes.LineStatus.RUNNING, lot_number=lot.number,
            lot_id=f"FAT-LOT-{lot.number:04d}", lot_tonnage_t=lot.tonnage_t,
            belt_speed_m_s=0.0 if final else self.speed_m_s, rate_t_h=0.0 if final else self.rate_t_h,
            segment_index=max(0, last), segment_class=lot.decided[last] if last >= 0 else C.UNINSPECTED,
            nir_waste_score=0.9 if last >= 0 and lot.decided[last] is C.WASTE_SUSPECT else 0.1 if last >= 0 else 0.0,
            vision_detections=1 if last >= 0 and lot.decided[last] is C.CONTAMINATED else 0,
            lot_verdict=verdict, verdict_final=int(final), verdict_confidence=0.999 if final else 0.5,
            alarms_active=self.active, alarms_unacked=self.unacked, sampler_state=codes.SamplerState.IDLE,
            interlocks=healthy | sum(1 << b for b in self.requests), **fields,
        )

    def _execute(self, command: Command) -> codes.CommandResult:
        code, done, rejected = command.code, codes.CommandResult.DONE, codes.CommandResult.REJECTED
        if code is codes.CommandCode.ACK_ALARM:
            mask = 0xFFFFFFFF if command.alarm_bit is None else 1 << command.alarm_bit
            acked, self.unacked = self.unacked & mask, self.unacked & ~mask
            return done if acked else rejected
        if code is codes.CommandCode.ACK_REQUEST:
            bits = [1, 2] if command.arg == codes.ACK_ALL_ALARMS else [command.arg]
            return done if [self.requests.pop(b) for b in bits if b in self.requests] else rejected
        if code is codes.CommandCode.START_LOT:
            if self.lot is not None:
                return rejected
            self.next_number, self.pause_left_s = command.lot_number, 0.0
            return done
        if code is codes.CommandCode.STOP_LOT:
            if self.lot is None or command.lot_number not in (0, self.lot.number):
                return rejected
            self.lot.script = tuple(self.lot.decided)  # ends at the next step with what was decided
            return done
        return done if self.lot is not None else rejected  # REQUEST_SAMPLE
