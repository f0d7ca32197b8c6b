"""Plain data types of the lot as analysis sees it: segment decisions, alarms, verdicts.

These are what the archive stores, the report draws, the control room shows and
the PLC snapshot is filled from. They are frozen dataclasses of plain values;
:func:`to_dict` turns any of them into JSON-ready data.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Protocol, Sequence

from conveyor.records import LotEnd, LotStart

SegmentClass = Literal["ore", "waste-suspect", "contaminated", "uninspected"]
SEGMENT_CLASSES: tuple[str, ...] = ("uninspected", "ore", "waste-suspect", "contaminated")
VerdictClass = Literal["pending", "ore", "waste", "contaminated", "inconclusive"]
VERDICT_CLASSES: tuple[str, ...] = ("pending", "ore", "waste", "contaminated", "inconclusive")
AlarmState = Literal["raised", "acknowledged", "cleared"]
Severity = Literal["info", "warning", "alarm", "critical"]


@dataclass(frozen=True)
class StationCoverage:
    """How much of a segment one station inspected."""

    station: str
    inspected_t: float
    uninspected_t: float
    reasons: tuple[str, ...] = ()

    @property
    def fraction(self) -> float:
        total = self.inspected_t + self.uninspected_t
        return self.inspected_t / total if total > 0 else 0.0


@dataclass(frozen=True)
class SegmentDecision:
    """The class of one segment and the evidence behind it.

    ``index`` counts from 0 at lot start; ``start_t``/``end_t`` are lot-relative
    tonnes. ``evidence`` holds the numbers that decided (NIR scores, detection
    counts, coverage) as plain values.
    """

    lot_id: str
    index: int
    start_t: float
    end_t: float
    segment_class: str
    decided_time_s: float
    coverage: tuple[StationCoverage, ...] = ()
    nir_waste_score: float = math.nan
    nir_contaminant_score: float = math.nan
    nir_novelty_fraction: float = math.nan
    nir_spectra: int = 0
    detections: int = 0
    detection_kinds: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def class_code(self) -> int:
        return SEGMENT_CLASSES.index(self.segment_class)


@dataclass(frozen=True)
class Alarm:
    """One alarm with its lifecycle: raised → acknowledged → cleared (history kept by the alarm book)."""

    alarm_id: int
    key: str
    category: str
    severity: str
    message: str
    raised_time_s: float
    lot_id: str = ""
    mark_t: float = math.nan
    segment_index: int = -1
    state: str = "raised"
    acknowledged_time_s: float = math.nan
    acknowledged_by: str = ""
    cleared_time_s: float = math.nan
    evidence: Mapping[str, Any] = field(default_factory=dict)
    code: str = ""  #: what exactly (e.g. "sample_missed", "lot_waste"): refines the category for the PLC bits
    # The alarm journal's (ISA-18.2) fields: clock times (UNIX epoch s), the acknowledgement's comment, the
    # cause this alarm follows on from (``parent_id``, -1: none) and shelving (until an epoch time, why).
    raised_epoch_s: float = math.nan
    acknowledged_epoch_s: float = math.nan
    cleared_epoch_s: float = math.nan
    ack_comment: str = ""
    parent_id: int = -1
    shelved_until_epoch_s: float = math.nan
    shelve_reason: str = ""

    @property
    def active(self) -> bool:
        return self.state != "cleared"

    def shelved(self, now_epoch_s: float) -> bool:
        """True while the alarm is shelved (its expiry lies after ``now_epoch_s``)."""
        return math.isfinite(self.shelved_until_epoch_s) and self.shelved_until_epoch_s > now_epoch_s


@dataclass(frozen=True)
class LotVerdict:
    """The lot verdict as it forms and at lot end.

    ``verdict`` is pending until the sequential test crosses a boundary or the lot
    ends. ``confidence`` is 1 − the stated error rate of the decision made (or the
    posterior probability of the leading hypothesis while pending).
    ``decided_at_t`` is the earliest lot tonnage at which the decision was safe.
    """

    lot_id: str
    verdict: str
    confidence: float
    final: bool
    tonnage_t: float
    decided_at_t: float = math.nan
    log_likelihood_ratio: float = 0.0
    segments_total: int = 0
    segments_by_class: Mapping[str, int] = field(default_factory=dict)
    uninspected_fraction: float = 0.0
    alpha: float = math.nan
    beta: float = math.nan
    reasons: tuple[str, ...] = ()

    @property
    def verdict_code(self) -> int:
        return VERDICT_CLASSES.index(self.verdict)


def to_dict(obj: Any) -> Any:
    """JSON-ready copy of a dataclass (recursively), with NaN turned into None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return to_dict(obj.item())
    return obj


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the control room's audit trail: a login, a refusal or an operator command.

    ``action`` names what was tried (``login``, ``logout``, ``acknowledge``, ``shelve``, ``stop``,
    ``targeted_sample``, ``request`` for a refused read, ...); ``outcome`` is ``ok`` or why it was refused
    (``refused: wrong credentials``, ``throttled``, ...). ``person`` is the account name (or ``token:operator``
    for a machine token, ``anonymous``); ``session`` is a short tag of the session (never the session id
    itself); ``source`` the client address; ``epoch_s`` and ``clock`` the wall-clock time (UTC, ISO 8601).
    """

    epoch_s: float
    clock: str
    action: str
    outcome: str
    person: str
    role: str
    session: str
    source: str
    lot_id: str = ""
    detail: str = ""


class LotSnapshot(Protocol):
    """A read-only copy of the lot monitor's state, taken under its lock (``LotMonitor.snapshot()``).

    Sequences are immutable copies: a reader (the control room's HTTP handlers) never sees a list the
    line thread is appending to.
    """

    @property
    def lot_id(self) -> str: ...
    @property
    def start(self) -> LotStart | None: ...
    @property
    def end(self) -> LotEnd | None: ...
    @property
    def verdict(self) -> LotVerdict | None: ...
    @property
    def segments(self) -> Sequence[SegmentDecision]: ...
    @property
    def detections(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def increments(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def nir_trend(self) -> Sequence[tuple[float, float, float]]: ...


class LotSource(Protocol):
    """What hands out :class:`LotSnapshot` copies (the lot monitor)."""

    def snapshot(self) -> LotSnapshot: ...


class AlarmView(Protocol):
    """The alarm book as the control room reads and commands it."""

    def all(self) -> list[Alarm]: ...
    def active(self) -> list[Alarm]: ...
    def get(self, alarm_id: int) -> Alarm: ...


class ControlRoomLine(Protocol):
    """The running line as the control room sees it (``analysis.service.LineService`` implements it).

    Lot data is read only through ``monitor.snapshot()``; commands go through the three methods.
    """

    # read-only members: the control room never assigns them (a plain attribute or a property satisfies them)
    @property
    def version(self) -> int: ...
    @property
    def monitor(self) -> LotSource: ...
    @property
    def alarms(self) -> AlarmView: ...
    @property
    def reports(self) -> Mapping[str, Mapping[str, str]]: ...
    @property
    def run_dir(self) -> str: ...
    @property
    def lab_folders(self) -> Sequence[str]: ...
    @property
    def sampler_status(self) -> Callable[[], Mapping[str, Any]] | None: ...

    def line_state(self) -> dict[str, Any]: ...
    def trend_points(self, last_n: int = 600) -> list[dict[str, Any]]: ...
    def wait_for_change(self, since_version: int, timeout_s: float) -> int: ...
    def acknowledge(self, alarm_id: int, by: str, *, comment: str = "", lot_id: str | None = None) -> Alarm: ...
    def request_targeted(self, mark_t: float, reason: str, *, refuse: bool = False) -> Any: ...
    def stop_lot(self, reason: str) -> None: ...
