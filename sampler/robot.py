"""The sampling-robot family: one base class, backends registered by name, cuts as status objects.

A cut is commanded for a *target time*: the line-clock time (s) at which the
cutter should be in the middle of the stream, i.e. when the wanted tonnage mark
passes the cutter. The robot starts moving :attr:`RobotTimings.lead_time_s`
before that. :meth:`Robot.cut` returns at once with a :class:`CutStatus`; the
status finishes when the robot is back in its park position (or faulted) and
carries the result and the actual cut time. Nothing here blocks unless you call
:meth:`CutStatus.wait`, which waits on the line clock with a timeout.

State machine (codes are the register values of :mod:`sampler.robot_registers`)::

    IDLE(0) -> MOVING(1) -> CUTTING(2) -> RETURNING(3) -> IDLE(0)
    any -> FAULT(4) (jam)   any -> ESTOP(5)   FAULT/ESTOP -> IDLE by reset()

Backends (imported lazily): ``simulated`` (:mod:`sampler.robot_sim`) and
``modbus`` (:mod:`sampler.robot_modbus`). Building a robot does no I/O: a backend
connects in :meth:`Robot.open`, which every public call makes first (so a line can
be composed before its PLC is up). :func:`robot_from_config` builds one from a site
section by backend name.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable, Mapping

from conveyor.backends import import_backend
from conveyor.clock import Clock

from sampler.errors import (
    CutTimeoutError,
    RobotBackendError,
    RobotBusyError,
    RobotError,
    RobotFaultError,
)


class RobotState(IntEnum):
    """Robot state; the value is the code in the STATE register."""

    IDLE = 0
    MOVING = 1
    CUTTING = 2
    RETURNING = 3
    FAULT = 4
    ESTOP = 5


class CutResult(IntEnum):
    """Outcome of one cut; the value is the code in the RESULT_CODE register."""

    PENDING = 0  #: not finished yet
    CUT = 1  #: the cutter crossed the stream and collected the increment
    MISSED = 2  #: the cutter crossed but collected nothing (gate/bucket failure)
    JAMMED = 3  #: the cutter jammed; robot in FAULT
    ESTOP = 4  #: emergency stop during the cut; robot in ESTOP
    REJECTED = 5  #: the robot refused the command (busy, faulted, bad value)
    ABORTED = 6  #: the cut was aborted before it started (reset/close)
    TIMEOUT = 7  #: no result within the status timeout (set on the client side only)


#: Results after which the robot needs a reset before the next cut.
FAULT_RESULTS = frozenset({CutResult.JAMMED, CutResult.ESTOP})


@dataclass(frozen=True)
class RobotTimings:
    """Motion durations of a cross-stream cutter, in seconds.

    ``travel_s`` park → stream edge; ``cut_s`` crossing the stream (stream width /
    cutter speed); ``return_s`` stream edge → park; ``jitter_s`` standard deviation
    of the motion start (controller scan, drive response).
    """

    travel_s: float = 1.0
    cut_s: float = 2.4
    return_s: float = 1.6
    jitter_s: float = 0.02

    def __post_init__(self) -> None:
        for key in ("travel_s", "cut_s", "return_s", "jitter_s"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value >= 0):
                raise RobotError(f"robot timing {key} must be a finite value >= 0 s, got {value!r}")
        if self.cut_s <= 0:
            raise RobotError(f"robot timing cut_s must be > 0 s, got {self.cut_s!r}")

    @classmethod
    def for_cutter(
        cls, stream_width_m: float, cutter_speed_m_s: float, travel_s: float = 1.0, return_s: float = 1.6,
        jitter_s: float = 0.02,
    ) -> "RobotTimings":
        """Timings of a cutter crossing a ``stream_width_m`` stream at ``cutter_speed_m_s``."""
        if not (stream_width_m > 0 and cutter_speed_m_s > 0):
            raise RobotError(
                f"stream width and cutter speed must be > 0, got {stream_width_m!r} m and {cutter_speed_m_s!r} m/s"
            )
        return cls(travel_s=travel_s, cut_s=stream_width_m / cutter_speed_m_s, return_s=return_s, jitter_s=jitter_s)

    @property
    def lead_time_s(self) -> float:
        """Seconds from motion start to the middle of the stream (when the target mark should pass)."""
        return self.travel_s + 0.5 * self.cut_s

    @property
    def cycle_s(self) -> float:
        """Seconds for a whole cut cycle, park to park."""
        return self.travel_s + self.cut_s + self.return_s


@dataclass(frozen=True)
class RobotCounters:
    """Counters since the robot was created (uint32 registers on the Modbus robot)."""

    cuts_commanded: int = 0
    cuts_ok: int = 0
    missed: int = 0
    jams: int = 0
    estops: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "cuts_commanded": self.cuts_commanded, "cuts_ok": self.cuts_ok, "missed": self.missed,
            "jams": self.jams, "estops": self.estops,
        }


class CutStatus:
    """The status of one commanded cut (after ophyd's ``Status``): finishes once, with a deadline.

    ``target_time_s`` is when the cutter should be mid-stream; ``actual_time_s`` when
    it was (NaN if it never got there); ``timing_error_s`` = actual − target.
    ``deadline_s`` is the line-clock time after which an unfinished cut counts as
    :attr:`CutResult.TIMEOUT`.
    """

    def __init__(
        self, increment_id: str, number: int, target_time_s: float, commanded_at_s: float, deadline_s: float,
        clock: Clock, poll: Callable[[], None],
    ) -> None:
        self.increment_id = increment_id
        self.number = number
        self.target_time_s = float(target_time_s)
        self.commanded_at_s = float(commanded_at_s)
        self.deadline_s = float(deadline_s)
        self.result = CutResult.PENDING
        self.actual_time_s = math.nan
        self.finished_at_s = math.nan
        self.fault = ""
        self._clock = clock
        self._poll = poll
        self._callbacks: list[Callable[[CutStatus], None]] = []

    # ---- reading ------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """True once the cut finished (any result). Polls the robot, and times out past the deadline."""
        if self.result is CutResult.PENDING:
            self._poll()
        if self.result is CutResult.PENDING and self._clock.now_s() > self.deadline_s:
            self._finish(CutResult.TIMEOUT, fault=f"no result by deadline {self.deadline_s:.3f} s")
        return self.result is not CutResult.PENDING

    @property
    def success(self) -> bool:
        """True when the increment was collected (result CUT)."""
        return self.done and self.result is CutResult.CUT

    @property
    def timing_error_s(self) -> float:
        """Actual − target mid-stream time in s (NaN when the cutter never reached the stream)."""
        return self.actual_time_s - self.target_time_s

    def add_callback(self, callback: Callable[["CutStatus"], None]) -> None:
        """Call ``callback(status)`` when the cut finishes (at once if it already has)."""
        if self.result is not CutResult.PENDING:
            callback(self)
        else:
            self._callbacks.append(callback)

    def wait(self, timeout_s: float | None = None, poll_interval_s: float = 0.05) -> "CutStatus":
        """Wait on the line clock until done; return ``self``.

        Waits at most ``timeout_s`` line-clock seconds (default: until the deadline).
        Raises :class:`CutTimeoutError` when the cut is still unfinished then. A finished
        but failed cut does not raise: inspect :attr:`result`.
        """
        limit = self.deadline_s if timeout_s is None else min(self.deadline_s, self._clock.now_s() + timeout_s)
        while not self.done:
            now = self._clock.now_s()
            if now >= limit:
                raise CutTimeoutError(
                    f"cut {self.increment_id}: expected a result by {limit:.3f} s, still pending at {now:.3f} s"
                )
            self._clock.sleep_until(min(limit, now + poll_interval_s))
        return self

    # ---- for backends -------------------------------------------------------------------------
    def _finish(
        self, result: CutResult, actual_time_s: float = math.nan, fault: str = "", finished_at_s: float | None = None,
    ) -> None:
        if self.result is not CutResult.PENDING:
            return
        if result is CutResult.PENDING:
            raise RobotError("a cut cannot finish with result PENDING")
        self.result = result
        self.actual_time_s = float(actual_time_s)
        self.fault = fault
        self.finished_at_s = self._clock.now_s() if finished_at_s is None else float(finished_at_s)
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def __repr__(self) -> str:
        return (
            f"CutStatus({self.increment_id!r}, target={self.target_time_s:.3f} s, result={self.result.name}, "
            f"actual={self.actual_time_s:.3f} s)"
        )


class Robot(ABC):
    """Base class of sampling robots. Public methods hold the checks; backends implement the ``_`` hooks.

    ``clock`` is the line clock: every robot time is a line-clock time, so a simulated
    line may run faster than real time. ``status_margin_s`` is added to the expected
    finish time of a cut to give its status deadline.
    """

    #: Name the backend is registered under.
    backend: str = ""

    def __init__(self, clock: Clock, *, status_margin_s: float = 10.0) -> None:
        if not status_margin_s > 0:
            raise RobotError(f"status_margin_s must be > 0 s, got {status_margin_s!r}")
        self.clock = clock
        self.status_margin_s = float(status_margin_s)
        self._active: CutStatus | None = None
        self._closed = False
        self._opened = False

    @classmethod
    def from_config(cls, clock: Clock, cfg: Mapping[str, Any], *, timings: RobotTimings, seed: int) -> "Robot":
        """A robot from a site's sampler section: the keys named like ``__init__``'s keywords are passed.

        ``timings`` and ``seed`` are what the site derives (cutter geometry, the site's seed); backends that
        take them override this. Raises :class:`RobotError` for bad values (no I/O happens here).
        """
        names = inspect.signature(cls.__init__).parameters
        return cls(clock, **{k: v for k, v in cfg.items() if k in names and k != "clock"})

    # ---- public API -----------------------------------------------------------------------------
    def open(self) -> None:
        """Connect to the robot (a no-op once open). Every public call opens first; raises the backend's
        :class:`RobotError` (e.g. ``RobotCommunicationError``) when it cannot be reached."""
        if self._closed:
            raise RobotError(f"{self.backend} robot is closed")
        if not self._opened:
            self._open_backend()
            self._opened = True

    @property
    @abstractmethod
    def timings(self) -> RobotTimings:
        """The robot's motion durations."""

    @property
    def lead_time_s(self) -> float:
        """Seconds the robot needs from command to mid-stream (motion start to mid-stream)."""
        return self.timings.lead_time_s

    def cut(self, at_time_s: float, increment_id: str, *, number: int = 0, timeout_s: float | None = None) -> CutStatus:
        """Command a cut with the cutter mid-stream at line-clock time ``at_time_s`` (s); return its status.

        A target closer than :attr:`lead_time_s` is still executed as soon as possible
        (the status then shows the lateness). ``number`` is the increment number sent
        to the robot (uint32). ``timeout_s`` overrides the status deadline measured from
        now. Raises :class:`RobotBusyError` when a cut is pending, :class:`RobotFaultError`
        in FAULT/ESTOP, :class:`RobotError` for a closed robot or bad arguments.
        """
        self.open()
        if not math.isfinite(at_time_s):
            raise RobotError(f"cut target time must be finite, got {at_time_s!r}")
        if not increment_id:
            raise RobotError("increment_id must be a non-empty string")
        if not 0 <= int(number) < 2**32:
            raise RobotError(f"increment number must fit uint32, got {number!r}")
        if self.busy:
            raise RobotBusyError(
                f"cut {increment_id}: robot busy with {self._active.increment_id if self._active else '?'}"
            )
        state = self.state
        if state in (RobotState.FAULT, RobotState.ESTOP):
            raise RobotFaultError(f"cut {increment_id}: robot in {state.name}; reset it first")
        now = self.clock.now_s()
        expected_end = max(at_time_s, now + self.lead_time_s) + 0.5 * self.timings.cut_s + self.timings.return_s
        deadline = now + timeout_s if timeout_s is not None else expected_end + self.status_margin_s
        status = CutStatus(increment_id, int(number), at_time_s, now, deadline, self.clock, self.poll)
        self._command_cut(status)
        self._active = status
        return status

    @property
    def busy(self) -> bool:
        """True while a commanded cut has not finished."""
        return self._active is not None and not self._active.done

    @property
    def active(self) -> CutStatus | None:
        """The last commanded cut (finished or not)."""
        return self._active

    @property
    def state(self) -> RobotState:
        """Current state (polls the robot)."""
        self.poll()
        return self._read_state()

    @property
    def counters(self) -> RobotCounters:
        """Counters (polls the robot)."""
        self.poll()
        return self._read_counters()

    def poll(self) -> None:
        """Bring state and pending statuses up to the clock's time."""
        if not self._closed:
            self.open()
            self._poll_backend()

    def cancel(self) -> bool:
        """Withdraw the pending cut if the cutter has not started moving; True if it was withdrawn.

        The withdrawn cut's status finishes :attr:`CutResult.ABORTED` and the robot is free for a new
        command (e.g. the same increment re-timed after a belt stop). False, and nothing changes, when no
        cut is pending or the robot is no longer IDLE (moving, cutting, faulted): a cut in motion goes on.
        """
        self.open()
        active = self._active
        if active is None or active.done or self.state is not RobotState.IDLE:
            return False
        active._finish(CutResult.ABORTED, fault="cancelled before the cutter moved")
        self._cancel_backend()
        self.poll()
        return True

    def reset(self) -> None:
        """Clear a FAULT or ESTOP (operator acknowledged); a pending cut is aborted."""
        self.open()
        self._reset_backend()
        self.poll()

    def estop(self) -> None:
        """Emergency stop: the robot stops at once; a pending cut finishes with ESTOP."""
        self.open()
        self._estop_backend()
        self.poll()

    def close(self) -> None:
        """Release the robot; a pending cut is aborted. Safe to call twice."""
        if self._closed:
            return
        if self._active is not None and self._active.result is CutResult.PENDING:
            self._active._finish(CutResult.ABORTED, fault="robot closed")
        if self._opened:
            self._close_backend()
        self._closed = True

    def describe(self) -> dict[str, Any]:
        """Plain facts for stream metadata."""
        t = self.timings
        return {
            "backend": self.backend, "travel_s": t.travel_s, "cut_s": t.cut_s, "return_s": t.return_s,
            "lead_time_s": t.lead_time_s, "cycle_s": t.cycle_s,
        }

    # ---- backend hooks --------------------------------------------------------------------------
    def _open_backend(self) -> None:
        """Connect (the only place a backend does I/O before its first command)."""

    @abstractmethod
    def _command_cut(self, status: CutStatus) -> None:
        """Send the cut to the robot; raise RobotBusyError/RobotFaultError/RobotError if refused."""

    @abstractmethod
    def _poll_backend(self) -> None:
        """Update state; finish :attr:`_active` when the robot reports its result."""

    @abstractmethod
    def _read_state(self) -> RobotState:
        """The state as last polled."""

    @abstractmethod
    def _read_counters(self) -> RobotCounters:
        """The counters as last polled."""

    @abstractmethod
    def _reset_backend(self) -> None:
        """Clear FAULT/ESTOP."""

    @abstractmethod
    def _estop_backend(self) -> None:
        """Trigger an emergency stop."""

    def _cancel_backend(self) -> None:
        """Drop the pending, not yet moving cut on the robot (its status is already ABORTED).

        The default is the reset command, which every backend's robot honours by aborting a pending cut
        (register map: ``CMD_CODE`` 2 "clear FAULT/ESTOP; aborts a pending cut").
        """
        self._reset_backend()

    def _close_backend(self) -> None:
        """Release connections (called only for a robot that was opened)."""


#: Backends by name → (module, class), imported on first use.
ROBOT_BACKENDS: dict[str, tuple[str, str]] = {
    "simulated": ("sampler.robot_sim", "SimulatedRobot"),
    "modbus": ("sampler.robot_modbus", "ModbusRobot"),
}


def robot_class(backend: str) -> type[Robot]:
    """The class registered as ``backend``; raises :class:`RobotBackendError` if unknown or not importable."""
    return import_backend(ROBOT_BACKENDS, backend, "robot", unknown_error=RobotBackendError,
                          unavailable_error=RobotBackendError)


def create_robot(backend: str, clock: Clock, **options: Any) -> Robot:
    """Create a robot of the named backend on the line ``clock`` with backend-specific ``options`` (no I/O)."""
    return robot_class(backend)(clock, **options)


def robot_from_config(backend: str, clock: Clock, cfg: Mapping[str, Any], *, timings: RobotTimings,
                      seed: int) -> Robot:
    """The robot of a site's sampler section, by backend name (:meth:`Robot.from_config`; no I/O)."""
    return robot_class(backend).from_config(clock, cfg, timings=timings, seed=seed)
