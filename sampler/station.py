"""The sampler station: runs the ISO 3082 plan on the line, commands the robot, records every increment.

Each tick the runtime calls :meth:`SamplerStation.process`. The station

1. polls the robot and records finished cuts (intended time = when the wanted
   mark actually reached the cutter, from the tracker; actual = mid-stream time
   reported by the robot; ``|error| > timing_tolerance_s`` → status ``late``);
2. looks ahead: for the next increment whose mark is weighed, it predicts the
   arrival at the cutter from the tracker and the current belt speed and, once
   that is within ``lead time + lookahead_s``, commands the robot for that
   time (the robot starts moving ``lead_time_s`` before);
3. records increments it could not cut (robot busy/faulted, too late) as
   ``missed`` with the reason — no routine increment is silently skipped — and
   targeted requests it refuses as ``skipped``.

Routine increments go into one partial sample per sub-lot (together the gross
sample); each targeted increment (see :meth:`request_targeted`) is its own sample
and never enters the gross sample; a targeted cut never delays a routine one.
Every increment whose status is not ``cut`` (and a robot entering FAULT/ESTOP)
is raised as an alarm: a :class:`~conveyor.records.LineEvent` (severity "alarm",
kind ``increment_<status>`` or ``robot_fault``) next to the measurement, whose
``note`` starts with ``ALARM:``; :attr:`SamplerStation.alarms` lists them too.

The sampler does not judge material, so it emits no Coverage records.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from conveyor.clock import Clock
from conveyor.config import Field, StationSettings, positive_ints
from conveyor.errors import ConfigError
from conveyor.records import LineEvent, LotStart, Measurement, Record, StreamDescription
from conveyor.station import MaterialWindow, Station, StationContext
from conveyor.tracking import MaterialTracker

from sampler import iso3082
from sampler.custody import CustodyLog, IncrementRecord, rows_to_csv
from sampler.errors import PlanError, RobotError, SamplerError, TargetedRequestError, TargetedSkipError
from sampler.plan import BASES, METHODS, SamplingPlan, make_plan, plan_from_dict
from sampler.robot import CutResult, CutStatus, Robot, RobotState, RobotTimings
from sampler.robot import robot_from_config

log = logging.getLogger(__name__)

#: Stream fields: key → (shape, dtype).
SAMPLER_FIELDS: dict[str, tuple[tuple[int, ...], str]] = {
    "increment_id": ((), "str"),
    "number": ((), "int32"),
    "role": ((), "str"),
    "status": ((), "str"),
    "mass_kg": ((), "float32"),
    "intended_time_s": ((), "float64"),
    "actual_time_s": ((), "float64"),
    "timing_error_s": ((), "float64"),
    "sample_id": ((), "str"),
    "reason": ((), "str"),
}
SAMPLER_UNITS = {"mass_kg": "kg", "intended_time_s": "s", "actual_time_s": "s", "timing_error_s": "s"}


@dataclass
class SamplerSettings:
    """Station settings beyond the plan (see :func:`from_config` for meanings and defaults)."""

    timing_tolerance_s: float = 0.5
    max_late_s: float = 2.0
    lookahead_s: float = 2.0
    targeted_min_spacing_t: float = 50.0
    targeted_enabled: bool = True
    auto_reset_s: float = 0.0
    cutter_aperture_mm: float | None = None
    cutter_speed_m_s: float = 0.45
    write_files: bool = True


@dataclass
class _Increment:
    increment_id: str
    number: int
    role: str
    sublot: int
    mark_t: float  # absolute mark; NaN for time basis until cut
    planned_time_s: float  # time basis: planned cut time; mass basis: NaN
    reason: str = ""
    alarm_id: str = ""
    predicted_s: float = math.nan
    status: CutStatus | None = None
    held_by_stop: bool = False  # withdrawn from the robot because the belt stopped or slowed
    note: str = ""  # why a cut increment's mark differs from the plan's
    waited_for: str = ""  # the cut the robot was busy with while this increment was due


@dataclass(frozen=True)
class ResumedLot:
    """What a resumed lot's sampler continues from: the archived plan, how far the killed run got along it
    (``done``: lot tonnes on a mass basis, seconds on a time basis) and the increments it recorded (archived rows
    with their lot-relative ``mark_t``)."""

    plan: SamplingPlan
    done: float
    increments: tuple[Mapping[str, Any], ...]


class SamplerStation(Station):
    """A sampling robot at ``position_m`` running an ISO 3082 plan; see the module docstring.

    ``plan_options`` are keyword arguments of :func:`sampler.plan.make_plan` except the lot
    mass, which comes from the lot start (declared mass). ``robot`` is any :class:`Robot`.
    """

    def __init__(
        self, name: str, position_m: float, robot: Robot, clock: Clock, plan_options: Mapping[str, Any],
        settings: SamplerSettings | None = None, run_dir: Path | None = None,
    ) -> None:
        super().__init__(name, position_m)
        self.robot = robot
        self.clock = clock
        self.plan_options = dict(plan_options)
        self.settings = settings or SamplerSettings()
        self.run_dir = run_dir
        self.tracker: MaterialTracker | None = None
        self.plan: SamplingPlan | None = None
        self.custody: CustodyLog | None = None
        self.alarms: list[dict[str, Any]] = []
        self._resume: ResumedLot | None = None
        self._reset_lot_state()

    def _reset_lot_state(self) -> None:
        self._lot_id = ""
        self._lot_start_mark_t = 0.0
        self._lot_start_time_s = 0.0
        self._pending: list[_Increment] = []  # not yet commanded
        self._in_robot: _Increment | None = None  # commanded, not finished
        self._awaiting: list[tuple[_Increment, CutStatus]] = []  # finished cut, arrival time not yet known
        self._out: list[Record] = []
        self._next_routine = 1
        self._next_targeted = 1
        self._targeted_marks: list[tuple[float, str]] = []
        self._routine_covered = 0.0  # mass basis: offset (t) up to which increments exist
        self._plan_shift = 0.0  # a resumed lot: plan offsets before this were the killed run's (t or s)
        self._fault_since_s: float | None = None
        self._speed_m_s = 0.0
        self._prev_speed_m_s = 0.0
        self._tick_s = 0.0  # the line's tick (from the windows): a cut is commanded on a tick
        self._started = False

    # ---- line integration -----------------------------------------------------------------------
    def attach_tracker(self, tracker: MaterialTracker) -> None:
        """Give the station the line's material tracker (called by the runtime before the lot starts)."""
        self.tracker = tracker

    def describe(self) -> Sequence[StreamDescription]:
        plan = self.plan.to_dict() if self.plan is not None else {"pending_lot_start": True, **self.plan_options}
        meta = {"plan": plan, "robot": self.robot.describe(), "position_m": self.position_m,
                "timing_tolerance_s": self.settings.timing_tolerance_s}
        return [StreamDescription(self.name, self.name, "sampler", dict(SAMPLER_FIELDS), dict(SAMPLER_UNITS), meta)]

    def start_lot(self, start: LotStart) -> Sequence[Record]:
        """Compute the plan from the declared lot mass and open the lot's samples.

        Raises :class:`PlanError` for a plan that cannot be made, :class:`SamplerError` when
        no tracker was attached (mass basis needs it).
        """
        self._reset_lot_state()
        self.alarms = []
        resume, self._resume = self._resume, None
        opts = dict(self.plan_options)
        opts.setdefault("seed", 0)
        self.plan = resume.plan if resume is not None else make_plan(start.lot.declared_mass_t, **opts)
        if self.plan.basis == "mass" and self.tracker is None:
            raise SamplerError(f"sampler {self.name}: mass-basis sampling needs attach_tracker(tracker) before start_lot")
        self._lot_id = start.lot.lot_id
        self._lot_start_mark_t = float(start.start_mark_t)
        # LotStart.time_s is epoch time in the runtime; the plan runs on the line clock.
        now = self.clock.now_s()
        self._lot_start_time_s = self.tracker.last_time_s if self.tracker is not None and not self.tracker.empty else now
        self._started = True
        self.custody = CustodyLog(self._lot_id, epoch_offset_s=self.clock.epoch_s() - now)
        for sub in range(1, self.plan.sublots + 1):
            self.custody.new_sample(self._gross_id(sub), "routine", sub, now)
        if resume is not None:
            self._restore(resume, now)
        self._extend_routine()
        return ()

    def resume_from(self, plan: Mapping[str, Any], done: float, increments: Sequence[Mapping[str, Any]]) -> None:
        """Continue an archived lot at the next :meth:`start_lot` instead of planning it afresh.

        ``plan`` is the archived plan (``SamplingPlan.to_dict``), ``done`` how far the killed run got along it (lot
        tonnes on a mass basis, line seconds since lot start on a time basis), ``increments`` the archived increment
        rows (``increment_id``, ``number``, ``role``, ``status``, lot-relative ``mark_t``...). The resumed lot cuts
        only the plan's increments beyond ``done``, numbered as planned; planned increments before ``done`` that the
        archive does not hold are recorded ``missed`` (never silently dropped); the archived increments go into the
        new custody log, so the samples hold every increment once. Raises :class:`PlanError` for a bad plan."""
        self._resume = ResumedLot(plan_from_dict(plan), float(done), tuple(dict(r) for r in increments))

    def _restore(self, resume: ResumedLot, now: float) -> None:
        """Start a resumed lot: the killed run's increments into custody, its unrecorded ones as missed."""
        assert self.plan is not None and self.custody is not None
        self._plan_shift = resume.done
        recorded = {str(r.get("increment_id")) for r in resume.increments}
        for row in resume.increments:
            self._custody_of_archived(row)
        targeted = [int(r.get("number", 0)) for r in resume.increments if r.get("role") == "targeted"]
        self._next_targeted = max(targeted, default=0) + 1
        for i, off in enumerate(self.plan.offsets.tolist()):
            inc_id = f"{self._lot_id}-R{i + 1:04d}"
            if off >= resume.done or inc_id in recorded:
                continue
            mass = self.plan.basis == "mass"
            inc = _Increment(inc_id, i + 1, "routine", int(self.plan.sublot_of[i]),
                             self._lot_start_mark_t + off - resume.done if mass else math.nan,
                             math.nan if mass else self._lot_start_time_s + off - resume.done)
            unit = "t" if mass else "s"
            self._record(inc, "missed", math.nan, math.nan, f"not cut: the line stopped before its material reached "
                         f"the cutter (planned at {off:.3f} {unit}; the lot resumed at {resume.done:.3f} {unit})")

    def _custody_of_archived(self, row: Mapping[str, Any]) -> None:
        """An increment the killed run recorded, into this run's custody log (its material is in the samples)."""
        assert self.plan is not None and self.custody is not None
        role, number, status = str(row["role"]), int(row["number"]), str(row["status"])
        mark = self._lot_start_mark_t + float(row["mark_t"]) - self._plan_shift
        sublot = (int(self.plan.sublot_of[number - 1]) if role == "routine" and number <= self.plan.n_total
                  else self._sublot_of_mark(mark))
        sample_id = str(row.get("sample_id") or "")
        if sample_id and sample_id not in self.custody.samples:
            self.custody.new_sample(sample_id, role, sublot, float(row.get("actual_time_s") or 0.0))
        self.custody.add_increment(IncrementRecord(
            increment_id=str(row["increment_id"]), lot_id=self._lot_id, number=number, role=role, sublot=sublot,
            mark_t=mark, intended_time_s=float(row.get("intended_time_s", math.nan)),
            actual_time_s=float(row.get("actual_time_s", math.nan)), timing_error_s=float(row.get("timing_error_s",
            math.nan)), status=status, mass_kg=float(row.get("mass_kg", math.nan)), sample_id=sample_id,
            reason=str(row.get("reason") or "")))

    def _gross_id(self, sublot: int) -> str:
        return f"{self._lot_id}-G{sublot}"

    # ---- targeted ----------------------------------------------------------------------------------
    def request_targeted(self, mark_t: float, reason: str, alarm_id: str = "", *, refuse: bool = False) -> str:
        """Ask for a targeted increment of the material at absolute mark ``mark_t`` (t); return its id.

        It will be skipped when it comes within ``targeted_min_spacing_t`` of the previous targeted
        mark, when the mark has already passed the cutter, or when targeted sampling is disabled. Then
        it is recorded ``skipped`` (with the reason), or, with ``refuse`` (an operator waiting for the
        answer), :class:`TargetedSkipError` is raised with the reason and nothing is queued or recorded.
        Raises :class:`TargetedRequestError` before a lot starts or for a mark that is not finite or
        lies before the lot start.
        """
        if not self._started or self.plan is None:
            raise TargetedRequestError(f"sampler {self.name}: targeted increment requested before the lot started")
        if not isinstance(mark_t, (int, float)) or not math.isfinite(mark_t):
            raise TargetedRequestError(f"targeted mark must be a finite number of tonnes, got {mark_t!r}")
        if mark_t < self._lot_start_mark_t:
            raise TargetedRequestError(
                f"targeted mark must be >= lot start mark {self._lot_start_mark_t:.3f} t, got {mark_t:.3f} t"
            )
        why = self._targeted_skip_reason(float(mark_t))
        if why and refuse:
            raise TargetedSkipError(f"the sampler would skip it: {why}")
        k = self._next_targeted
        self._next_targeted += 1
        inc = _Increment(f"{self._lot_id}-T{k:03d}", k, "targeted", self._sublot_of_mark(mark_t), float(mark_t),
                         math.nan, reason=str(reason), alarm_id=str(alarm_id))
        if why:
            self._record(inc, "skipped", math.nan, math.nan, why)
        else:
            self._targeted_marks.append((float(mark_t), inc.increment_id))
            self._pending.append(inc)
        return inc.increment_id

    def _targeted_skip_reason(self, mark_t: float) -> str:
        """Why a targeted increment at ``mark_t`` would be skipped now ("" when it would be queued)."""
        if not self.settings.targeted_enabled:
            return "targeted sampling disabled"
        for prev_mark, prev_id in self._targeted_marks:
            if abs(prev_mark - mark_t) < self.settings.targeted_min_spacing_t:
                return (f"rate limited: {abs(prev_mark - mark_t):.1f} t from {prev_id} "
                        f"(minimum spacing {self.settings.targeted_min_spacing_t:g} t)")
        if self.tracker is not None and not self.tracker.empty:
            now = self.clock.now_s()
            arrived = float(self.tracker.arrival_time_s(mark_t, self.position_m))
            if math.isfinite(arrived) and arrived < now - self.settings.max_late_s + self.robot.lead_time_s:
                return f"mark {mark_t:.3f} t passed the cutter at {arrived:.2f} s, before the request"
            if mark_t <= self.tracker.last_mark_t:
                due = float(self.tracker.predict_arrival_s(mark_t, self.position_m, self._speed_m_s))
                return self._targeted_too_late(due, now)
        return ""

    def _targeted_too_late(self, due_s: float, now: float, waited_for: str = "") -> str:
        """Why a targeted cut of material due at the cutter at ``due_s`` could not be within the timing tolerance
        ("" when it can): the robot's lead time from its next free tick. A targeted increment is about that very
        material, so it is skipped with this reason rather than cut late (or moved, as routine ones are)."""
        start = self._robot_free_s(now)
        late = start + self.robot.lead_time_s - due_s
        if not math.isfinite(due_s) or late <= self.settings.timing_tolerance_s:
            return ""
        if start > now and self._in_robot is not None:
            busy = f"the robot is busy with {self._in_robot.increment_id} until {start:.2f} s; "
        else:
            busy = f"the robot was busy with {waited_for}; " if waited_for else ""
        return (f"too late for a cut within the {self.settings.timing_tolerance_s:g} s tolerance: {busy}its material "
                f"reaches the cutter at {due_s:.2f} s, {late:.2f} s before the robot could")

    def _sublot_of_mark(self, mark_t: float) -> int:
        assert self.plan is not None
        shift = self._plan_shift if self.plan.basis == "mass" else 0.0  # a resumed lot continues the killed run's
        sub = int((mark_t - self._lot_start_mark_t + shift) // self.plan.sublot_mass_t) + 1
        return min(max(sub, 1), self.plan.sublots)

    # ---- the tick ------------------------------------------------------------------------------------
    def process(self, window: MaterialWindow) -> Sequence[Record]:
        if not self._started:
            return ()
        self._prev_speed_m_s, self._speed_m_s = self._speed_m_s, window.belt_speed_m_s
        if window.end_time_s > window.start_time_s:
            self._tick_s = float(window.end_time_s - window.start_time_s)
        now = self.clock.now_s()
        self.robot.poll()
        self._collect_finished()
        self._finalize_awaiting(final=False)
        self._auto_reset(now)
        self._extend_routine()
        self._retime_commanded()
        self._schedule(now)
        out, self._out = self._out, []
        return out

    def end_lot(self, end_mark_t: float) -> Sequence[Record]:
        """Record every increment still open (never silently dropped), seal samples, write CSVs."""
        if not self._started:
            return ()
        self.robot.poll()
        if self._in_robot is not None and self._in_robot.status is not None:
            try:  # the robot is finishing a cut: wait for it (bounded by the status deadline)
                self._in_robot.status.wait()
            except RobotError as exc:
                log.warning("sampler %s: %s", self.name, exc)
        self._collect_finished()
        self._finalize_awaiting(final=True)
        if self._in_robot is not None:
            inc = self._in_robot
            self._in_robot = None
            self._record(inc, "missed", inc.predicted_s, math.nan,
                         "lot ended with this cut still in progress; result unknown", alarm=True)
        for inc in sorted(self._pending, key=lambda i: (i.mark_t if math.isfinite(i.mark_t) else i.planned_time_s)):
            if inc.role == "routine" and math.isfinite(inc.mark_t) and inc.mark_t > end_mark_t:
                self._record(inc, "skipped", math.nan, math.nan,
                             f"lot ended at {end_mark_t:.3f} t before the planned mark {inc.mark_t:.3f} t", alarm=False)
            elif inc.role == "routine" and self._after_lot_material(inc.planned_time_s, end_mark_t):
                self._record(inc, "skipped", math.nan, math.nan,
                             f"planned at {inc.planned_time_s:.2f} s, after the lot's last material passed", alarm=False)
            else:
                self._record(inc, "missed", inc.predicted_s, math.nan, "lot ended before the increment was cut")
        self._pending = []
        now = self.clock.now_s()
        assert self.custody is not None
        for i, sample in enumerate(self.custody.samples.values(), start=1):
            if sample.status == "open":
                self.custody.transition(sample.sample_id, "sealed", now, seal=f"S-{self._lot_id}-{i:03d}",
                                        note=f"{len(sample.increment_ids)} increments, {sample.mass_kg:.1f} kg")
        if self.settings.write_files and self.run_dir is not None:
            self.write_files(Path(self.run_dir) / "sampler" / self._lot_id)
        self._started = False
        out, self._out = self._out, []
        return out

    def _after_lot_material(self, time_s: float, end_mark_t: float) -> bool:
        """True for a time-basis increment planned after the lot's last tonne passed the cutter."""
        if not math.isfinite(time_s) or self.tracker is None or self.tracker.empty:
            return False
        last = float(self.tracker.arrival_time_s(end_mark_t, self.position_m))
        return math.isfinite(last) and time_s > last

    def close(self) -> None:
        self.robot.close()

    # ---- increments -----------------------------------------------------------------------------------
    def _extend_routine(self) -> None:
        """Create routine increments: the plan's, and more at the same interval if the lot runs past it."""
        plan = self.plan
        assert plan is not None
        if plan.basis == "mass":
            shift = self._plan_shift  # a resumed lot: marks run from the killed run's tonnage on
            if self._next_routine == 1:
                for i, (off, sub) in enumerate(zip(plan.offsets.tolist(), plan.sublot_of.tolist())):
                    if off >= shift:
                        self._add_routine(i + 1, int(sub), self._lot_start_mark_t + off - shift, math.nan)
                self._next_routine = max(self._next_routine, plan.n_total + 1)
                self._routine_covered = float(plan.offsets[-1]) if plan.n_total else 0.0
            weighed = shift + ((self.tracker.last_mark_t - self._lot_start_mark_t)
                               if self.tracker and not self.tracker.empty else 0.0)
            while weighed > self._routine_covered + plan.interval:
                self._routine_covered += plan.interval
                self._add_routine(self._next_routine, plan.sublots,
                                  self._lot_start_mark_t + self._routine_covered - shift, math.nan)
        else:
            horizon = self.clock.now_s() + self.robot.lead_time_s + self.settings.lookahead_s + plan.interval
            while True:
                k = self._next_routine - 1
                off = float(plan.offsets[k]) if k < plan.n_total else float(plan.offsets[-1]) + (k - plan.n_total + 1) * plan.interval
                if off < self._plan_shift:  # a resumed lot: the killed run's part of the plan
                    self._next_routine = k + 2
                    continue
                t = self._lot_start_time_s + off - self._plan_shift
                if t > horizon:
                    break
                sub = int(plan.sublot_of[k]) if k < plan.n_total else plan.sublots
                self._add_routine(k + 1, sub, math.nan, t)

    def _add_routine(self, number: int, sublot: int, mark_t: float, time_s: float) -> None:
        inc = _Increment(f"{self._lot_id}-R{number:04d}", number, "routine", sublot, mark_t, time_s)
        self._pending.append(inc)
        self._next_routine = number + 1

    def _predict(self, inc: _Increment) -> float:
        """Predicted time the increment's material is at the cutter (inf: not weighed yet / belt stopped)."""
        if math.isfinite(inc.planned_time_s):
            return inc.planned_time_s
        tr = self.tracker
        if tr is None or tr.empty or inc.mark_t > tr.last_mark_t:
            return math.inf
        return float(tr.predict_arrival_s(inc.mark_t, self.position_m, self._speed_m_s))

    def _schedule(self, now: float) -> None:
        s = self.settings
        lead = self.robot.lead_time_s
        for inc in self._pending:
            inc.predicted_s = self._predict(inc)
            self._remark_after_stop(inc, now)
        self._pending.sort(key=lambda i: (i.predicted_s, i.role != "routine"))
        self._remark_behind_busy_robot(now)
        keep: list[_Increment] = []
        robot_state = self.robot.state
        robot_busy = self.robot.busy
        for inc in self._pending:
            t = inc.predicted_s
            if not math.isfinite(t) or t - lead - now > s.lookahead_s or (inc.held_by_stop and not self._belt_steady()):
                keep.append(inc)
                continue
            why_late = self._targeted_too_late(t, now, inc.waited_for) if inc.role == "targeted" and not robot_busy else ""
            if why_late:  # (a busy robot: decided once it is free, when the lateness is known)
                self._record(inc, "skipped", t, math.nan, why_late, alarm=True)
                continue
            lateness = now + lead - t
            if lateness > s.max_late_s:
                if robot_state in (RobotState.FAULT, RobotState.ESTOP):
                    why = f"robot in {robot_state.name} when the mark reached the cutter"
                elif robot_busy:
                    why = f"robot busy with {self._in_robot.increment_id if self._in_robot else 'another cut'}"
                else:
                    why = f"too late to command: {lateness:.2f} s after the last moment the robot could start"
                if inc.role == "targeted":
                    self._record(inc, "skipped", t, math.nan, why, alarm=True)
                else:
                    self._record(inc, "missed", t, math.nan, why)
                continue
            if robot_busy or robot_state is not RobotState.IDLE:
                inc.waited_for = self._in_robot.increment_id if self._in_robot is not None else inc.waited_for
                keep.append(inc)
                continue
            if inc.role == "targeted" and self._blocks_routine(t, keep + self._pending):
                self._record(inc, "skipped", t, math.nan, "would block a routine increment (routine first)", alarm=True)
                continue
            try:
                inc.status = self.robot.cut(t, inc.increment_id, number=inc.number)
            except RobotError as exc:
                keep.append(inc)
                log.warning("sampler %s: cut %s not commanded: %s", self.name, inc.increment_id, exc)
                continue
            self._in_robot = inc
            robot_busy = True
        self._pending = [i for i in keep if i.status is None]

    def _retime_commanded(self) -> None:
        """Keep the commanded cut on its material when the belt stops or slows (the material, not the clock).

        While the cutter has not moved, a cut whose predicted arrival moved by more than half the timing
        tolerance (infinitely, for a stopped belt) is cancelled on the robot and goes back to the pending
        increments, to be commanded again for the new arrival once the belt runs. A cutter already moving
        when the belt stops crosses a stream that is not there: that pass is not the increment, which goes
        back to the pending ones too (an "info" event records the void pass).
        """
        inc = self._in_robot
        if inc is None or inc.status is None or inc.status.done or not math.isfinite(inc.mark_t):
            return
        predicted = self._predict(inc)
        commanded = inc.status.target_time_s
        if abs(predicted - commanded) <= 0.5 * self.settings.timing_tolerance_s:
            return
        if self.robot.cancel():
            log.info("sampler %s: cut %s withdrawn (material due at %.2f s, commanded for %.2f s)",
                     self.name, inc.increment_id, predicted, commanded)
        elif not math.isfinite(predicted):
            message = (f"belt stopped while the cutter was moving for {inc.increment_id}: that pass is void, "
                       f"the increment is cut again when its material arrives")
            log.info("sampler %s: %s", self.name, message)
            self._out.append(LineEvent(self._lot_id, float(self.clock.now_s()), self.name, "cut_void_belt_stopped",
                                       "info", message, float(inc.mark_t)))
        else:
            return
        inc.status = None
        inc.held_by_stop = True
        self._in_robot = None
        self._pending.append(inc)

    def _belt_steady(self) -> bool:
        """True when the belt runs at the same speed over the last two ticks (a restart's tick averages in
        the standstill, so its speed would mistime the cut)."""
        v, prev = self._speed_m_s, self._prev_speed_m_s
        return v > 0 and abs(v - prev) <= 0.02 * v

    def _remark_after_stop(self, inc: _Increment, now: float) -> None:
        """Move a held increment's mark to the first material the robot can still reach after the restart.

        Material that stood closer to the cutter than the robot's lead time when the belt stopped arrives
        too soon after the restart to be cut; the increment then takes the material just behind it (a shift
        of a few tonnes, written in the increment's reason) instead of being cut seconds late. Routine
        increments only.
        """
        tr = self.tracker
        if tr is None or tr.empty or not self._belt_steady() or not inc.held_by_stop or inc.role != "routine":
            return  # a targeted increment is about that very material: it is never moved
        lead = self.robot.lead_time_s + 0.25 * self.settings.timing_tolerance_s
        if now + lead <= inc.predicted_s:
            return
        upstream_m = self.position_m - self._speed_m_s * lead
        mark = float(tr.mark_at(upstream_m, now))
        if not math.isfinite(mark) or mark <= inc.mark_t:
            return
        inc.note = (f"mark moved {mark - inc.mark_t:.2f} t from {inc.mark_t:.3f} t: the belt restarted with it "
                    f"too near the cutter")
        inc.mark_t = mark
        inc.held_by_stop = False
        inc.predicted_s = self._predict(inc)

    def _robot_free_s(self, now: float) -> float:
        """The first tick at which the robot can take the next command (``now`` when it is idle)."""
        inc = self._in_robot
        if inc is None or inc.status is None or inc.status.done:
            return now
        t = self.robot.timings
        free = inc.status.target_time_s + 0.5 * t.cut_s + t.return_s
        tick = self._tick_s or 1.0
        return now + math.ceil(max(0.0, free - now) / tick - 1e-9) * tick

    def _remark_behind_busy_robot(self, now: float) -> None:
        """Move the next routine increment to material the robot can reach once it is free.

        After a belt stop a held increment is cut (moved to the material behind, see :meth:`_remark_after_stop`)
        close to the next increment; the robot, busy with the first until its next free tick, would cut the
        second up to a tick plus a return late. That increment takes the first material the robot can reach
        instead (a shift of a few tonnes written in its reason), so no routine cut is late by the robot's own
        doing. Routine increments on a mass basis only; targeted ones are never moved."""
        tr, tol = self.tracker, self.settings.timing_tolerance_s
        if tr is None or tr.empty or self._in_robot is None or not self._belt_steady():
            return
        start = self._robot_free_s(now)
        for inc in self._pending:
            if inc.role != "routine" or not math.isfinite(inc.mark_t) or not math.isfinite(inc.predicted_s):
                continue
            if start + self.robot.lead_time_s - inc.predicted_s <= 0.5 * tol:
                return  # reachable in time (the pending list is sorted: so are the later ones)
            upstream_m = self.position_m - self._speed_m_s * (start + self.robot.lead_time_s + 0.25 * tol - now)
            mark = float(tr.mark_at(upstream_m, now))
            if math.isfinite(mark) and mark > inc.mark_t:
                inc.note = (f"mark moved {mark - inc.mark_t:.2f} t from {inc.mark_t:.3f} t: the robot was busy with "
                            f"{self._in_robot.increment_id} when its material reached the cutter")
                inc.mark_t = mark
                inc.predicted_s = self._predict(inc)
            return

    def _blocks_routine(self, t_targeted: float, others: Sequence[_Increment]) -> bool:
        timings: RobotTimings = self.robot.timings
        busy_until = t_targeted + 0.5 * timings.cut_s + timings.return_s + self.settings.timing_tolerance_s
        for other in others:
            if other.role == "routine" and other.status is None:
                t = other.predicted_s if math.isfinite(other.predicted_s) else self._predict(other)
                if math.isfinite(t) and t_targeted <= t and t - self.robot.lead_time_s < busy_until:
                    return True
        return False

    def _collect_finished(self) -> None:
        inc = self._in_robot
        if inc is None or inc.status is None or not inc.status.done:
            return
        self._in_robot = None
        self._awaiting.append((inc, inc.status))

    def _finalize_awaiting(self, final: bool) -> None:
        still: list[tuple[_Increment, CutStatus]] = []
        for inc, st in self._awaiting:
            intended, mark = self._truth(inc, st)
            if not math.isfinite(intended) and not final:
                still.append((inc, st))  # material not at the cutter yet (belt stopped): decide later
                continue
            if not math.isfinite(intended):
                intended = st.target_time_s
            if math.isfinite(mark):
                inc.mark_t = mark
            actual = st.actual_time_s
            if st.result is CutResult.CUT:
                err = actual - intended
                if abs(err) <= self.settings.timing_tolerance_s:
                    self._record(inc, "cut", intended, actual, inc.note)
                else:
                    side = "late" if err > 0 else "early"
                    self._record(inc, "late", intended, actual,
                                 f"cut {abs(err):.2f} s {side} (tolerance {self.settings.timing_tolerance_s:g} s)")
            elif st.result is CutResult.MISSED:
                self._record(inc, "missed", intended, actual, f"robot: {st.fault or 'missed cut'}")
            else:
                self._record(inc, "fault", intended, actual, f"robot {st.result.name}: {st.fault}")
        self._awaiting = still

    def _truth(self, inc: _Increment, st: CutStatus) -> tuple[float, float]:
        """(intended time, mark): when the wanted mark was really at the cutter / what mark was cut (time basis)."""
        tr = self.tracker
        if math.isfinite(inc.planned_time_s):  # time basis: intended is the planned time
            mark = math.nan
            if tr is not None and not tr.empty and tr.last_time_s >= inc.planned_time_s:
                mark = float(tr.mark_at(self.position_m, inc.planned_time_s))
            return inc.planned_time_s, mark
        if tr is None or tr.empty:
            return math.nan, inc.mark_t
        return float(tr.arrival_time_s(inc.mark_t, self.position_m)), inc.mark_t

    def _auto_reset(self, now: float) -> None:
        state = self.robot.state
        if state in (RobotState.FAULT, RobotState.ESTOP):
            if self._fault_since_s is None:
                self._fault_since_s = now
                self._alarm(f"robot {state.name}", now, "", kind="robot_fault")
            elif self.settings.auto_reset_s > 0 and now - self._fault_since_s >= self.settings.auto_reset_s:
                self.robot.reset()
                self._fault_since_s = None
        else:
            self._fault_since_s = None

    # ---- recording --------------------------------------------------------------------------------
    def _mass_estimate_kg(self, actual_time_s: float) -> float:
        """Increment mass from the flow at the cutter at cut time (ISO 3082 m = q·l/(3.6·v))."""
        tr = self.tracker
        if tr is None or tr.empty or not math.isfinite(actual_time_s):
            return math.nan
        half = 0.5
        m0, m1 = tr.mark_at(self.position_m, np.array([actual_time_s - half, actual_time_s + half]))
        if not (np.isfinite(m0) and np.isfinite(m1)):
            return math.nan
        flow_t_h = max(0.0, float(m1 - m0)) * 3600.0
        aperture = self.settings.cutter_aperture_mm or (self.plan.min_cutter_aperture_mm if self.plan else 30.0)
        return iso3082.increment_mass_kg(flow_t_h, aperture, self.settings.cutter_speed_m_s)

    def _record(self, inc: _Increment, status: str, intended_s: float, actual_s: float, reason: str,
                alarm: bool | None = None) -> None:
        assert self.custody is not None
        collected = status in ("cut", "late")
        sample_id = ""
        if collected:
            if inc.role == "routine":
                sample_id = self._gross_id(inc.sublot)
            else:
                sample_id = f"{self._lot_id}-TS{inc.number:03d}"
                self.custody.new_sample(sample_id, "targeted", inc.sublot, actual_s)
        mass = self._mass_estimate_kg(actual_s) if collected else math.nan
        mark = inc.mark_t if math.isfinite(inc.mark_t) else self._lot_start_mark_t
        full_reason = reason if inc.role == "routine" or not inc.reason else (
            f"{inc.reason}; {reason}" if reason else inc.reason)
        rec = IncrementRecord(
            increment_id=inc.increment_id, lot_id=self._lot_id, number=inc.number, role=inc.role, sublot=inc.sublot,
            mark_t=mark, intended_time_s=intended_s, actual_time_s=actual_s,
            timing_error_s=actual_s - intended_s, status=status, mass_kg=mass, sample_id=sample_id,
            reason=full_reason, alarm_id=inc.alarm_id,
        )
        self.custody.add_increment(rec)
        if alarm is None:
            alarm = status != "cut"
        note = ""
        time_s = actual_s if math.isfinite(actual_s) else (intended_s if math.isfinite(intended_s) else self.clock.now_s())
        if alarm:
            note = f"ALARM: {inc.role} increment {inc.increment_id} {status}: {reason}"
            self._alarm(note[7:], time_s, inc.increment_id, kind=f"increment_{status}", mark_t=mark)
        self._out.append(Measurement(
            lot_id=self._lot_id, stream=self.name, time_s=float(time_s), tonnage_mark_t=float(mark),
            data={
                "increment_id": inc.increment_id, "number": np.int32(inc.number), "role": inc.role, "status": status,
                "mass_kg": np.float32(mass), "intended_time_s": float(intended_s), "actual_time_s": float(actual_s),
                "timing_error_s": float(actual_s - intended_s), "sample_id": sample_id, "reason": full_reason,
            },
            note=note,
        ))

    def _alarm(self, message: str, time_s: float, increment_id: str, kind: str, mark_t: float = math.nan) -> None:
        """Log, keep and emit an alarm as a :class:`LineEvent` (severity "alarm")."""
        # A skipped targeted cut is the rate-limit policy at work: it is recorded and raised, not shouted.
        level = logging.INFO if kind == "increment_skipped" else logging.WARNING
        log.log(level, "sampler %s: %s", self.name, message)
        self.alarms.append({"time_s": time_s, "station": self.name, "increment_id": increment_id, "kind": kind,
                            "message": message})
        self._out.append(LineEvent(self._lot_id, float(time_s), self.name, kind, "alarm", message, float(mark_t)))

    # ---- reports and files ---------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Routine and targeted increments counted by status, samples, timing errors (for the lot report)."""
        if self.custody is None:
            return {}
        out: dict[str, Any] = {"lot_id": self._lot_id or self.custody.lot_id,
                               "plan": self.plan.to_dict() if self.plan else {}}
        for role in ("routine", "targeted"):
            recs = [r for r in self.custody.increments.values() if r.role == role]
            errs = np.array([r.timing_error_s for r in recs if r.collected], dtype=float)
            out[role] = {
                "n": len(recs),
                "by_status": {s: sum(r.status == s for r in recs) for s in ("cut", "late", "missed", "fault", "skipped")},
                "max_abs_timing_error_s": float(np.max(np.abs(errs))) if errs.size else math.nan,
                "mass_kg": float(np.nansum([r.mass_kg for r in recs if r.collected])) if recs else 0.0,
            }
        out["samples"] = self.custody.sample_rows()
        out["alarms"] = list(self.alarms)
        return out

    def write_files(self, folder: Path) -> dict[str, Path]:
        """Write custody.csv, increments.csv and samples.csv for the lot into ``folder``."""
        assert self.custody is not None
        folder.mkdir(parents=True, exist_ok=True)
        files = {
            "custody": folder / "custody.csv", "increments": folder / "increments.csv",
            "samples": folder / "samples.csv",
        }
        files["custody"].write_text(rows_to_csv(self.custody.to_rows()), encoding="utf-8")
        files["increments"].write_text(rows_to_csv(self.custody.increment_rows(),
                                                   list(IncrementRecord.__dataclass_fields__)), encoding="utf-8")
        files["samples"].write_text(rows_to_csv(self.custody.sample_rows()), encoding="utf-8")
        return files


# ---- configuration -----------------------------------------------------------------------------------
_TIMINGS_DOC = "(the robot's cut cycle: travel, cut, return; with jitter)"
#: Every key of ``[stations.<name>]`` with ``kind = "sampler"``: shared, then per backend.
SETTINGS = StationSettings(
    kind="sampler",
    doc="Sampling robot and its ISO 3082 plan (sampler/station.py).",
    fields={
        # the plan (ISO 3082)
        "basis": Field(str, "mass", choices=BASES, doc="Mass-basis or time-basis sampling."),
        "method": Field(str, "systematic", choices=METHODS, doc="Systematic or stratified random increments."),
        "quality_variation": Field(str, "medium", choices=iso3082.QUALITY_VARIATIONS,
                                   doc="Quality variation class of the ore (ISO 3082 table 2)."),
        "nominal_top_size_mm": Field(float, 31.5, min=0.0, min_exclusive=True, doc="Nominal top size, mm."),
        "sublots": Field(int, 1, min=1, doc="Sub-lots, one partial sample each."),
        "max_flow_t_h": Field(float, None, min=0.0, min_exclusive=True,
                              doc="Highest flow of the lot, t/h (required for time basis)."),
        "nominal_flow_t_h": Field(float, None, min=0.0, min_exclusive=True,
                                  doc="Nominal flow, t/h (optional: gives the expected increment mass)."),
        "seed": Field(int, None, min=0, doc="Random seed of the plan (default: the line seed)."),
        # the cutter
        "stream_width_m": Field(float, None, min=0.0, min_exclusive=True,
                                doc="Width of the falling stream, m (default: 0.8 x belt width)."),
        "cutter_speed_m_s": Field(float, 0.45, min=0.0, min_exclusive=True, max=iso3082.CUTTER_SPEED_MAX_M_S,
                                  doc="Cutter speed through the stream, m/s (ISO 3082 7.5)."),
        "cutter_aperture_mm": Field(float, None, min=0.0, min_exclusive=True,
                                    doc="Cutter aperture, mm (default and minimum: 3 x top size, at least 30 mm)."),
        "travel_s": Field(float, 1.0, min=0.0, doc="Travel to the stream, s " + _TIMINGS_DOC + "."),
        "return_s": Field(float, 1.6, min=0.0, doc="Return to park, s."),
        "jitter_s": Field(float, 0.02, min=0.0, doc="Timing jitter (sd), s."),
        # the station
        "timing_tolerance_s": Field(float, 0.5, min=0.0, min_exclusive=True,
                                    doc="A cut further than this from its intended time is late, s."),
        "max_late_s": Field(float, 2.0, min=0.0, doc="Beyond this a cut is not attempted (missed), s."),
        "lookahead_s": Field(float, 2.0, min=0.0, min_exclusive=True, doc="Command the robot this early, s."),
        "targeted_min_spacing_t": Field(float, 50.0, min=0.0, doc="Least tonnage between targeted increments, t."),
        "targeted_enabled": Field(bool, True, doc="Accept targeted (alarm) increments."),
        "write_files": Field(bool, True, doc="Write the sample record CSVs into the run folder."),
    },
    backends={
        "simulated": {
            "auto_reset_s": Field(float, 60.0, min=0.0, doc="Reset the robot after this long in FAULT/ESTOP, s (0: never)."),
            "fault_jam_probability": Field(float, 0.0, min=0.0, max=1.0, doc="Probability that a cut jams."),
            "fault_missed_probability": Field(float, 0.0, min=0.0, max=1.0, doc="Probability that a cut misses."),
            "fault_estop_probability": Field(float, 0.0, min=0.0, max=1.0, doc="Probability of an emergency stop."),
            "fault_jam_at": Field(list, [], check=positive_ints, doc="Cut ordinals that jam."),
            "fault_missed_at": Field(list, [], check=positive_ints, doc="Cut ordinals that miss."),
            "fault_estop_at": Field(list, [], check=positive_ints, doc="Cut ordinals with an emergency stop."),
            "travel_variation": Field(float, 0.01, min=0.0, max=0.49, doc="Relative variation of the travel time."),
        },
        "modbus": {
            "auto_reset_s": Field(float, 0.0, min=0.0, doc="Reset the robot after this long in FAULT/ESTOP, s (0: never)."),
            "host": Field(str, "127.0.0.1", doc="Robot controller (Modbus TCP server) address."),
            "port": Field(int, 502, min=1, max=65535, doc="Its port."),
            "device_id": Field(int, 1, min=0, max=255, doc="Modbus device (unit) id."),
            "base_address": Field(int, 0, min=0, max=65535, doc="First holding register of the robot block."),
            "timeout_s": Field(float, 1.0, min=0.0, min_exclusive=True, doc="Modbus request timeout, s."),
        },
    },
)


def from_config(name: str, section: Mapping[str, Any], context: StationContext) -> SamplerStation:
    """Build a sampler station from ``[stations.<name>]`` (keys, bounds and defaults: :data:`SETTINGS`).

    Besides the table, the cutter aperture must be at least 3 x the nominal top size (ISO 3082 7.5) and a
    time-basis plan needs ``max_flow_t_h``. The Modbus robot connects on first use. Raises
    :class:`ConfigError` naming ``stations.<name>.<key>`` for a missing, unknown or bad key.
    """
    cfg = SETTINGS.validate(name, section)
    backend, position, path = cfg["backend"], cfg["position_m"], f"stations.{name}"
    if cfg["basis"] == "time" and cfg["max_flow_t_h"] is None:
        raise ConfigError(f"{path}.max_flow_t_h", "missing; time-basis sampling needs the highest flow in t/h")
    top_mm = cfg["nominal_top_size_mm"]
    try:
        iso3082.min_increment_mass_kg(top_mm)
    except ValueError as exc:
        raise ConfigError(f"{path}.nominal_top_size_mm", str(exc)) from None
    min_aperture_mm = iso3082.min_cutter_aperture_mm(top_mm)
    aperture = min_aperture_mm if cfg["cutter_aperture_mm"] is None else cfg["cutter_aperture_mm"]
    if aperture < min_aperture_mm:
        raise ConfigError(f"{path}.cutter_aperture_mm", f"expected >= {min_aperture_mm:g} mm (3 x nominal top size "
                                                         f"{top_mm:g} mm, ISO 3082 7.5), got {aperture:g} mm")
    speed = cfg["cutter_speed_m_s"]
    plan_options: dict[str, Any] = {key: cfg[key] for key in ("basis", "method", "quality_variation",
                                                                "nominal_top_size_mm", "sublots", "max_flow_t_h",
                                                                "nominal_flow_t_h")}
    plan_options.update(seed=context.seed if cfg["seed"] is None else cfg["seed"], cutter_speed_m_s=speed,
                        cutter_aperture_mm=aperture)
    try:  # the plan of a nominal lot, so that what the table cannot check surfaces at start-up
        make_plan(1000.0, **plan_options)
    except PlanError as exc:
        raise ConfigError(path, str(exc)) from None
    width = 0.8 * context.belt_width_m if cfg["stream_width_m"] is None else cfg["stream_width_m"]
    timings = RobotTimings.for_cutter(width, speed, travel_s=cfg["travel_s"], return_s=cfg["return_s"],
                                      jitter_s=cfg["jitter_s"])
    settings = SamplerSettings(
        timing_tolerance_s=cfg["timing_tolerance_s"], max_late_s=cfg["max_late_s"], lookahead_s=cfg["lookahead_s"],
        targeted_min_spacing_t=cfg["targeted_min_spacing_t"], targeted_enabled=cfg["targeted_enabled"],
        auto_reset_s=cfg["auto_reset_s"], cutter_aperture_mm=aperture, cutter_speed_m_s=speed,
        write_files=cfg["write_files"],
    )
    try:
        robot = robot_from_config(backend, context.clock, cfg, timings=timings, seed=context.seed)
    except RobotError as exc:
        raise ConfigError(path, str(exc)) from None
    return SamplerStation(name, position, robot, context.clock, plan_options, settings, run_dir=context.run_dir)
