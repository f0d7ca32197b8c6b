"""Code enums carried by the register map, defined once here.

The register table (:mod:`plc.registers`), the generated documentation and
``analysis`` (which fills :class:`~plc.snapshot.LineSnapshot`) all use these.
Values are part of the versioned map: never renumber, only append.
"""

from __future__ import annotations

import enum


class LineStatus(enum.IntEnum):
    """Overall state of the inspection line."""

    IDLE = 0  #: no lot open
    RUNNING = 1  #: lot open, belt moving, all stations inspecting
    BELT_STOPPED = 2  #: lot open, belt stopped or reversing
    DEGRADED = 3  #: lot open, at least one station or link faulted (segments may be uninspected)
    FAULT = 4  #: oreline cannot inspect (line runtime halted)


class SegmentClass(enum.IntEnum):
    """Decision for the current segment (a fixed tonnage increment of the lot)."""

    UNINSPECTED = 0  #: not seen by a required station, never treated as clean
    ORE = 1  #: inspected, consistent with the declared ore
    WASTE_SUSPECT = 2  #: NIR scores suggest waste admixture (slag, sludge, mill scale...)
    CONTAMINATED = 3  #: contaminant material or foreign object found


class LotVerdict(enum.IntEnum):
    """Sequential verdict for the whole lot."""

    PENDING = 0  #: not enough evidence yet
    ORE = 1  #: lot accepted as ore at the stated error rates
    WASTE = 2  #: lot contains waste above the decision limit
    CONTAMINATED = 3  #: lot contains contaminants
    INCONCLUSIVE = 4  #: lot ended without a decision (e.g. too much uninspected)


class SamplerState(enum.IntEnum):
    """State of the sampling robot (cutter), as reported by sampler/."""

    OFFLINE = 0  #: no contact with the robot
    IDLE = 1  #: parked, ready to cut
    MOVING = 2  #: travelling to the stream
    CUTTING = 3  #: crossing the stream
    RETURNING = 4  #: back to park
    FAULT = 5  #: jammed or faulted; needs a reset
    ESTOP = 6  #: emergency stop; needs a reset
    DISABLED = 7  #: taken out of service by the operator


class AlarmBit(enum.IntEnum):
    """Bit positions in the 32-bit alarm words (bit 0 = least significant bit of the low word)."""

    BELT_SCALE_LINK = 0  #: belt-scale integrator not answering
    PLC_LINK = 1  #: no Modbus client polling oreline (PLC disconnected or watchdog expired)
    NIR_FAULT = 2  #: NIR spectrometer station faulted
    CAMERA_FAULT = 3  #: camera station faulted
    SAMPLER_FAULT = 4  #: sampling robot faulted or e-stopped
    WASTE_SUSPECT = 5  #: a segment was classed waste-suspect
    CONTAMINANT = 6  #: a segment was classed contaminated
    FOREIGN_OBJECT = 7  #: vision found a foreign object
    LOT_WASTE = 8  #: lot verdict is waste
    LOT_CONTAMINATED = 9  #: lot verdict is contaminated
    LOT_INCONCLUSIVE = 10  #: lot verdict is inconclusive
    UNINSPECTED = 11  #: one or more segments could not be inspected
    TOTALISER_FAULT = 12  #: belt-scale totaliser jumped or went backwards
    SAMPLE_MISSED = 13  #: a planned or targeted increment was missed
    ARCHIVE_FAULT = 14  #: the lot archive could not be written
    STATION_ERROR = 15  #: a station raised an unexpected error
    UNCERTAIN_OBJECT = 16  #: vision found an object it cannot tell from an ore lump (targeted increment, not contamination)


class CommandCode(enum.IntEnum):
    """Commands the PLC may write into the command area (``CMD_CODE``)."""

    NONE = 0  #: no command (cannot be submitted)
    ACK_ALARM = 1  #: CMD_ARG = alarm bit 0..31, or 0xFFFFFFFF for all alarms
    REQUEST_SAMPLE = 2  #: CMD_ARG = PLC reference number recorded with the targeted increment (any value)
    START_LOT = 3  #: CMD_ARG = lot number (>= 1)
    STOP_LOT = 4  #: CMD_ARG = lot number to stop (must be the open lot's LOT_NUMBER), or 0 for the open lot
    ACK_REQUEST = 5  #: CMD_ARG = InterlockBit of a latched request (1 stop belt, 2 divert), or 0xFFFFFFFF for both


class InterlockBit(enum.IntEnum):
    """Bit positions in ``INTERLOCKS``: a permissive and two latched requests (see "Interlocks")."""

    INSPECTION_HEALTHY = 0  #: permissive: lot open, belt scale and every station inspecting, PLC link up
    STOP_BELT_REQUEST = 1  #: latched: a contaminated segment (foreign object) is on the belt; stop the belt
    DIVERT_REQUEST = 2  #: latched: a waste-suspect segment is on the belt; divert its window


class CommandResult(enum.IntEnum):
    """oreline's answer in ``CMD_RESULT``; final once ``CMD_ACK_SEQ`` equals ``CMD_SEQ``."""

    NONE = 0  #: no command received since start
    PENDING = 1  #: received and queued, not yet carried out
    DONE = 2  #: carried out
    REJECTED = 3  #: valid but not applicable now (e.g. start lot while a lot is open)
    FAILED = 4  #: tried and failed (see oreline's log / alarms)


class DriveState(enum.IntEnum):
    """Belt drive state exposed by the simulated PLC (not part of the BW500 map)."""

    STOPPED = 0  #: belt at rest
    FORWARD = 1  #: running in the conveying direction
    REVERSE = 2  #: running backwards (speed shown by the integrator is a magnitude)
    FAULT = 3  #: drive tripped


ACK_ALL_ALARMS = 0xFFFFFFFF
"""``CMD_ARG`` value that acknowledges every alarm."""

ALL_ENUMS: tuple[type[enum.IntEnum], ...] = (
    LineStatus,
    SegmentClass,
    LotVerdict,
    SamplerState,
    AlarmBit,
    InterlockBit,
    CommandCode,
    CommandResult,
)
"""Enums of the oreline register map, in the order the documentation lists them."""
