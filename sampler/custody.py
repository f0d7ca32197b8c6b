"""Increments, samples and their chain of custody, as plain dataclasses with ``to_rows()`` and CSV export.

Routine increments go into the lot's gross sample (one partial sample per sub-lot);
each targeted increment (taken because NIR or vision raised an alarm) becomes its
own sample. The two are never mixed: :meth:`CustodyLog.add_increment` refuses a
targeted increment for a routine sample and vice versa.

Sample status changes follow one path (any non-final status may also go to
``rejected``)::

    open -> sealed -> dispatched -> received -> analysed -> archived
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sampler.errors import CustodyError

SAMPLE_STATUSES = ("open", "sealed", "dispatched", "received", "analysed", "archived", "rejected")
_NEXT = {"open": "sealed", "sealed": "dispatched", "dispatched": "received", "received": "analysed",
         "analysed": "archived"}
INCREMENT_STATUSES = ("cut", "late", "missed", "fault", "skipped")
ROLES = ("routine", "targeted")


@dataclass
class IncrementRecord:
    """One increment event (routine or targeted) and where its material went.

    ``mark_t`` is the absolute tonnage mark aimed at; times are line-clock seconds;
    ``timing_error_s`` = actual − intended (NaN when not cut). ``sample_id`` is empty
    when nothing was collected.
    """

    increment_id: str
    lot_id: str
    number: int
    role: str
    sublot: int
    mark_t: float
    intended_time_s: float
    actual_time_s: float
    timing_error_s: float
    status: str
    mass_kg: float
    sample_id: str = ""
    reason: str = ""
    alarm_id: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise CustodyError(f"increment {self.increment_id}: role must be one of {ROLES}, got {self.role!r}")
        if self.status not in INCREMENT_STATUSES:
            raise CustodyError(
                f"increment {self.increment_id}: status must be one of {INCREMENT_STATUSES}, got {self.status!r}"
            )

    @property
    def collected(self) -> bool:
        """True when material was collected into a sample (status cut or late)."""
        return self.status in ("cut", "late")

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CustodyEvent:
    """A status change of a sample: who, when (line-clock s and Unix epoch s), why."""

    sample_id: str
    status: str
    time_s: float
    epoch_s: float
    by: str = "oreline"
    note: str = ""


@dataclass
class Sample:
    """A sample container: the gross/partial sample of a sub-lot, or one targeted increment.

    ``role`` is "routine" or "targeted"; ``increment_ids`` the increments it holds;
    ``mass_kg`` their summed mass; ``container`` the container barcode; ``seal`` the
    seal number once sealed.
    """

    sample_id: str
    lot_id: str
    role: str
    sublot: int
    container: str
    increment_ids: list[str] = field(default_factory=list)
    mass_kg: float = 0.0
    seal: str = ""
    status: str = "open"
    events: list[CustodyEvent] = field(default_factory=list)

    def to_row(self) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id, "lot_id": self.lot_id, "role": self.role, "sublot": self.sublot,
            "container": self.container, "seal": self.seal, "status": self.status, "mass_kg": round(self.mass_kg, 3),
            "n_increments": len(self.increment_ids), "increment_ids": " ".join(self.increment_ids),
        }


def barcode(lot_id: str, serial: int) -> str:
    """A container barcode ``OL-<lot>-<serial 6 digits>-<check digit>`` (Luhn over the serial digits)."""
    digits = f"{serial:06d}"
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    check = (10 - total % 10) % 10
    return f"OL-{lot_id}-{digits}-{check}"


class CustodyLog:
    """All increments and samples of one lot, with the chain of custody of each sample.

    ``clock_epoch`` converts a line-clock time to Unix time for records people read
    (default: identity offset 0, i.e. epoch = line time).
    """

    def __init__(self, lot_id: str, epoch_offset_s: float = 0.0) -> None:
        if not lot_id:
            raise CustodyError("lot_id must not be empty")
        self.lot_id = lot_id
        self.epoch_offset_s = float(epoch_offset_s)
        self.samples: dict[str, Sample] = {}
        self.increments: dict[str, IncrementRecord] = {}
        self._serial = 0

    # ---- samples ---------------------------------------------------------------------------------
    def new_sample(self, sample_id: str, role: str, sublot: int, time_s: float, by: str = "oreline") -> Sample:
        """Open a new sample container; raises CustodyError for a duplicate id or bad role."""
        if sample_id in self.samples:
            raise CustodyError(f"sample id {sample_id!r} already exists in lot {self.lot_id}")
        if role not in ROLES:
            raise CustodyError(f"sample {sample_id}: role must be one of {ROLES}, got {role!r}")
        self._serial += 1
        sample = Sample(sample_id, self.lot_id, role, int(sublot), barcode(self.lot_id, self._serial))
        sample.events.append(CustodyEvent(sample_id, "open", time_s, time_s + self.epoch_offset_s, by, "container opened"))
        self.samples[sample_id] = sample
        return sample

    def sample(self, sample_id: str) -> Sample:
        try:
            return self.samples[sample_id]
        except KeyError:
            raise CustodyError(f"unknown sample id {sample_id!r} in lot {self.lot_id}; known: {len(self.samples)}") from None

    def transition(self, sample_id: str, status: str, time_s: float, by: str = "oreline", note: str = "",
                   seal: str = "") -> Sample:
        """Move a sample to ``status``; raises CustodyError for a change out of order.

        Sealing needs a ``seal`` number. Receiving checks the seal: ``seal`` is the number read on the container
        when it arrived; a different one raises CustodyError (another container, or opened and re-sealed). Every
        step keeps its time and the person (``by``).
        """
        sample = self.sample(sample_id)
        if status not in SAMPLE_STATUSES:
            raise CustodyError(f"sample {sample_id}: status must be one of {SAMPLE_STATUSES}, got {status!r}")
        allowed = {_NEXT.get(sample.status, "")} | ({"rejected"} if sample.status not in ("archived", "rejected") else set())
        if status not in allowed:
            raise CustodyError(
                f"sample {sample_id}: expected a change to {sorted(s for s in allowed if s)}, got {sample.status} -> {status}"
            )
        if status == "sealed":
            if not seal:
                raise CustodyError(f"sample {sample_id}: sealing needs a seal number")
            sample.seal = seal
        if status == "received" and seal:
            if seal != sample.seal:
                raise CustodyError(f"sample {sample_id}: received with seal {seal!r}, expected {sample.seal!r}: "
                                   f"not the container that left, or opened and re-sealed")
            note = (note + "; " if note else "") + f"seal {seal} checked intact"
        if status in ("dispatched", "received", "analysed") and not by.strip():
            raise CustodyError(f"sample {sample_id}: {status} needs the person who did it")
        sample.status = status
        sample.events.append(CustodyEvent(sample_id, status, time_s, time_s + self.epoch_offset_s, by, note))
        return sample

    # ---- increments ------------------------------------------------------------------------------
    def add_increment(self, record: IncrementRecord) -> IncrementRecord:
        """Record an increment; a collected one is added to its sample. Raises CustodyError on a mix-up."""
        if record.increment_id in self.increments:
            raise CustodyError(f"increment id {record.increment_id!r} recorded twice")
        if record.lot_id != self.lot_id:
            raise CustodyError(f"increment {record.increment_id} of lot {record.lot_id!r} in log of {self.lot_id!r}")
        if record.collected:
            sample = self.sample(record.sample_id)
            if sample.role != record.role:
                raise CustodyError(
                    f"increment {record.increment_id} ({record.role}) cannot go into {sample.role} sample {sample.sample_id}"
                )
            if sample.status != "open":
                raise CustodyError(f"sample {sample.sample_id} is {sample.status}; increments go only into open samples")
            sample.increment_ids.append(record.increment_id)
            if math.isfinite(record.mass_kg):
                sample.mass_kg += record.mass_kg
        elif record.sample_id:
            raise CustodyError(f"increment {record.increment_id} has status {record.status} but names a sample")
        self.increments[record.increment_id] = record
        return record

    # ---- views -----------------------------------------------------------------------------------
    def increment_rows(self) -> list[dict[str, Any]]:
        return [r.to_row() for r in self.increments.values()]

    def sample_rows(self) -> list[dict[str, Any]]:
        return [s.to_row() for s in self.samples.values()]

    def to_rows(self) -> list[dict[str, Any]]:
        """The chain of custody: one row per status change of every sample (with the sample's facts)."""
        rows = []
        for s in self.samples.values():
            for ev in s.events:
                rows.append({
                    "sample_id": s.sample_id, "lot_id": s.lot_id, "role": s.role, "sublot": s.sublot,
                    "container": s.container, "seal": s.seal, "status": ev.status, "time_s": round(ev.time_s, 3),
                    "epoch_s": round(ev.epoch_s, 3), "by": ev.by, "note": ev.note, "mass_kg": round(s.mass_kg, 3),
                    "n_increments": len(s.increment_ids),
                })
        return rows

    def sample_ids(self) -> set[str]:
        return set(self.samples)


CUSTODY_COLUMNS = ("sample_id", "lot_id", "role", "sublot", "container", "seal", "status", "time_s", "epoch_s",
                   "by", "note", "mass_kg", "n_increments")


def rows_to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV text of ``rows`` (columns: given, or the keys of the first row)."""
    rows = list(rows)
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="raise", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def write_custody_csv(path: str | Path, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] = CUSTODY_COLUMNS) -> Path:
    """Write custody (or any) rows as CSV to ``path``; returns the path. Raises CustodyError on unknown columns."""
    path = Path(path)
    try:
        text = rows_to_csv(rows, columns)
    except ValueError as exc:
        raise CustodyError(f"custody CSV: expected columns {list(columns)}: {exc}") from exc
    path.write_text(text, encoding="utf-8")
    return path
