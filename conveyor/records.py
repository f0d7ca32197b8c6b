"""A lot as a validated run of records: start → stream descriptions → measurements → end.

Every measurement carries its lot id, its time and its tonnage mark (cumulative
tonnes past the belt scale when this material was weighed), so it maps to a
segment. :class:`LotRun` checks the order and that each measurement matches the
description of its stream; a mismatch raises :class:`RecordError` instead of
silently dropping data.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

import numpy as np

from conveyor.errors import RecordError

LotStatus = Literal["complete", "aborted"]


@dataclass(frozen=True)
class LotIdentity:
    """Who and what a lot is: the vessel, the hold or parcel and what was declared."""

    lot_id: str
    vessel: str
    hold: str
    declared_product: str
    declared_mass_t: float
    supplier: str = ""

    def __post_init__(self) -> None:
        if not self.lot_id or not self.lot_id.replace("-", "").replace("_", "").isalnum():
            raise RecordError(f"lot_id must be a non-empty [A-Za-z0-9_-] string, got {self.lot_id!r}")
        if not (self.declared_mass_t > 0 and math.isfinite(self.declared_mass_t)):
            raise RecordError(f"declared_mass_t must be > 0 t, got {self.declared_mass_t!r}")

    @staticmethod
    def new_lot_id(vessel: str, hold: str) -> str:
        """A unique, file-name-safe lot id from vessel and hold."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        clean = "".join(c if c.isalnum() else "-" for c in f"{vessel}-{hold}").strip("-")
        return f"{clean}-{stamp}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class LotStart:
    """First record of a lot. ``time_s`` is on the line clock; ``epoch_s`` the Unix time it corresponds to."""

    lot: LotIdentity
    time_s: float
    start_mark_t: float
    segment_mass_t: float
    sampling_plan: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    epoch_s: float = 0.0


@dataclass(frozen=True)
class StreamDescription:
    """What one stream of measurements holds.

    ``fields`` maps each data key to its shape (without the leading record axis;
    ``()`` for a scalar) and dtype string, e.g. ``{"reflectance": ((256,), "float32")}``.
    ``units`` maps data keys to units; ``metadata`` holds instrument facts
    (wavelength grid, image size, model versions).
    """

    name: str
    station: str
    kind: str
    fields: Mapping[str, tuple[tuple[int, ...], str]]
    units: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Measurement:
    """One event of a stream: data for material with a known tonnage mark."""

    lot_id: str
    stream: str
    time_s: float
    tonnage_mark_t: float
    data: Mapping[str, Any]
    inspected: bool = True
    note: str = ""


@dataclass(frozen=True)
class Coverage:
    """A stretch of material a station did or did not inspect.

    ``inspected=False`` means the station could not see it (sensor down, belt
    empty, saturated...); ``reason`` says why. Such material is *uninspected*,
    never clean.
    """

    lot_id: str
    station: str
    start_mark_t: float
    end_mark_t: float
    inspected: bool
    reason: str = ""
    time_s: float = 0.0


@dataclass(frozen=True)
class LotEnd:
    """Last record of a lot (``time_s`` on the line clock, ``epoch_s`` Unix time)."""

    lot_id: str
    time_s: float
    end_mark_t: float
    status: LotStatus
    reason: str = ""
    epoch_s: float = 0.0


@dataclass(frozen=True)
class LineEvent:
    """Something the line itself noticed: a station fault, a belt-scale disconnect, a totaliser anomaly.

    ``severity`` is "info", "warning" or "alarm"; analysis turns alarms into operator alarms.
    """

    lot_id: str
    time_s: float
    source: str
    kind: str
    severity: str
    message: str
    mark_t: float = float("nan")


Record = LotStart | StreamDescription | Measurement | Coverage | LineEvent | LotEnd


def _shape_of(value: Any) -> tuple[tuple[int, ...], str]:
    arr = np.asarray(value)
    return tuple(arr.shape), arr.dtype.kind


class LotRun:
    """Validates the records of one lot as they are made.

    >>> run = LotRun()
    >>> run.add(start)            # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.start: LotStart | None = None
        self.end: LotEnd | None = None
        self.streams: dict[str, StreamDescription] = {}
        self.counts: dict[str, int] = {}

    @property
    def lot_id(self) -> str:
        if self.start is None:
            raise RecordError("no LotStart yet")
        return self.start.lot.lot_id

    def add(self, record: Record) -> Record:
        """Check ``record`` against the run so far; return it unchanged or raise RecordError."""
        if isinstance(record, LotStart):
            if self.start is not None:
                raise RecordError(f"second LotStart for lot {self.lot_id}")
            self.start = record
            return record
        if self.start is None:
            raise RecordError(f"{type(record).__name__} before LotStart")
        if self.end is not None:
            raise RecordError(f"{type(record).__name__} after LotEnd of lot {self.lot_id}")
        if isinstance(record, StreamDescription):
            if record.name in self.streams:
                raise RecordError(f"stream {record.name!r} described twice")
            self.streams[record.name] = record
            self.counts[record.name] = 0
        elif isinstance(record, Measurement):
            self._check_measurement(record)
            self.counts[record.stream] += 1
        elif isinstance(record, Coverage):
            self._check_lot(record.lot_id)
            if not record.end_mark_t >= record.start_mark_t:
                raise RecordError(
                    f"coverage of {record.station}: end mark {record.end_mark_t} t < start {record.start_mark_t} t"
                )
        elif isinstance(record, LineEvent):
            self._check_lot(record.lot_id)
        elif isinstance(record, LotEnd):
            self._check_lot(record.lot_id)
            self.end = record
        else:
            raise RecordError(f"unknown record type {type(record).__name__}")
        return record

    def _check_lot(self, lot_id: str) -> None:
        if lot_id != self.lot_id:
            raise RecordError(f"record for lot {lot_id!r} in run of lot {self.lot_id!r}")

    def _check_measurement(self, m: Measurement) -> None:
        self._check_lot(m.lot_id)
        desc = self.streams.get(m.stream)
        if desc is None:
            raise RecordError(f"measurement for undescribed stream {m.stream!r}; described: {sorted(self.streams)}")
        if not math.isfinite(m.tonnage_mark_t):
            raise RecordError(f"stream {m.stream!r}: tonnage mark must be finite, got {m.tonnage_mark_t}")
        expected, got = set(desc.fields), set(m.data)
        if expected != got:
            raise RecordError(
                f"stream {m.stream!r}: expected keys {sorted(expected)}, got {sorted(got)}"
            )
        for key, (shape, dtype) in desc.fields.items():
            got_shape, got_kind = _shape_of(m.data[key])
            if tuple(shape) != got_shape:
                raise RecordError(f"stream {m.stream!r} key {key!r}: expected shape {tuple(shape)}, got {got_shape}")
            want_kind = np.dtype(dtype).kind
            numeric = {"f", "i", "u", "b"}
            if want_kind in numeric and got_kind not in numeric:
                raise RecordError(f"stream {m.stream!r} key {key!r}: expected {dtype}, got kind {got_kind!r}")
