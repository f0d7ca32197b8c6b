"""The simulated sampling robot: a clock-driven state machine with realistic timings and faults.

Nothing runs in a thread: each cut is planned as a timeline when commanded
(motion start, mid-stream, back in park, or the instant of a fault) and the
state is read off that timeline at the line clock's current time. So the robot
is exact on a :class:`~conveyor.clock.SimulatedClock` running at any speed-up.

Faults: ``jam`` (the cutter sticks in the stream → FAULT), ``missed`` (the cutter
crosses but collects nothing → MISSED, robot stays healthy) and ``estop`` (stop
while moving → ESTOP). Each happens with a probability per cut, or at given cut
ordinals (1 = the first cut commanded to this robot).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from conveyor.clock import Clock

from sampler.errors import RobotError
from sampler.robot import CutResult, CutStatus, Robot, RobotCounters, RobotState, RobotTimings


@dataclass(frozen=True)
class FaultPlan:
    """Fault injection for :class:`SimulatedRobot`.

    Probabilities are per cut, in [0, 1]. ``*_at`` are cut ordinals (1-based count of
    cuts commanded to this robot) at which that fault happens for certain.
    """

    jam_probability: float = 0.0
    missed_probability: float = 0.0
    estop_probability: float = 0.0
    jam_at: frozenset[int] = field(default_factory=frozenset)
    missed_at: frozenset[int] = field(default_factory=frozenset)
    estop_at: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for key in ("jam_probability", "missed_probability", "estop_probability"):
            p = getattr(self, key)
            if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
                raise RobotError(f"fault {key} must be in [0, 1], got {p!r}")
        for key in ("jam_at", "missed_at", "estop_at"):
            values = getattr(self, key)
            object.__setattr__(self, key, frozenset(int(v) for v in values))
            if any(v < 1 for v in getattr(self, key)):
                raise RobotError(f"fault {key} holds cut ordinals >= 1, got {sorted(values)}")

    def draw(self, ordinal: int, rng: np.random.Generator) -> str:
        """The fault of cut ``ordinal``: "", "jam", "missed" or "estop" (random draws are always taken)."""
        u = rng.random(3)
        if ordinal in self.estop_at or u[0] < self.estop_probability:
            return "estop"
        if ordinal in self.jam_at or u[1] < self.jam_probability:
            return "jam"
        if ordinal in self.missed_at or u[2] < self.missed_probability:
            return "missed"
        return ""


@dataclass
class _Timeline:
    status: CutStatus
    move_s: float
    cut_s: float
    return_s: float
    idle_s: float
    mid_s: float
    fault: str
    fault_s: float


class SimulatedRobot(Robot):
    """A simulated cross-stream cutter on the line clock.

    ``timings`` are the nominal motion durations; the actual travel varies by
    ``travel_variation`` (relative standard deviation) and the motion start by
    ``timings.jitter_s``. ``faults`` injects faults; ``seed`` makes it reproducible.
    """

    backend = "simulated"

    def __init__(
        self, clock: Clock, *, timings: RobotTimings | None = None, faults: FaultPlan | None = None,
        travel_variation: float = 0.01, seed: int = 0, status_margin_s: float = 10.0,
    ) -> None:
        super().__init__(clock, status_margin_s=status_margin_s)
        if not 0.0 <= travel_variation < 0.5:
            raise RobotError(f"travel_variation must be in [0, 0.5), got {travel_variation!r}")
        self._timings = timings or RobotTimings()
        self.faults = faults or FaultPlan()
        self.travel_variation = float(travel_variation)
        self._rng = np.random.default_rng(seed)
        self._job: _Timeline | None = None
        self._state = RobotState.IDLE
        self._ordinal = 0
        self._counts = {"cuts_commanded": 0, "cuts_ok": 0, "missed": 0, "jams": 0, "estops": 0}

    @classmethod
    def from_config(cls, clock: Clock, cfg: Mapping[str, Any], *, timings: RobotTimings,
                    seed: int) -> "SimulatedRobot":
        """The simulated robot of a sampler section: its ``fault_*`` keys, ``travel_variation``, and the site's
        cutter ``timings`` and ``seed``."""
        faults = FaultPlan(
            jam_probability=cfg.get("fault_jam_probability", 0.0),
            missed_probability=cfg.get("fault_missed_probability", 0.0),
            estop_probability=cfg.get("fault_estop_probability", 0.0),
            jam_at=frozenset(cfg.get("fault_jam_at", ())), missed_at=frozenset(cfg.get("fault_missed_at", ())),
            estop_at=frozenset(cfg.get("fault_estop_at", ())),
        )
        return cls(clock, timings=timings, faults=faults, seed=seed,
                   travel_variation=cfg.get("travel_variation", 0.01))

    @property
    def timings(self) -> RobotTimings:
        return self._timings

    # ---- hooks ----------------------------------------------------------------------------------
    def _command_cut(self, status: CutStatus) -> None:
        t = self._timings
        now = self.clock.now_s()
        self._ordinal += 1
        self._counts["cuts_commanded"] += 1
        travel = t.travel_s * (1.0 + self.travel_variation * float(self._rng.standard_normal()))
        jitter = t.jitter_s * float(self._rng.standard_normal())
        move = max(now, status.target_time_s - t.travel_s - 0.5 * t.cut_s) + jitter
        move = max(now, move)
        cut = move + max(0.0, travel)
        ret = cut + t.cut_s
        idle = ret + t.return_s
        fault = self.faults.draw(self._ordinal, self._rng)
        fraction = float(self._rng.uniform(0.2, 0.8))
        fault_s = math.inf
        if fault == "estop":
            fault_s = move + fraction * (cut - move)
        elif fault == "jam":
            fault_s = cut + fraction * t.cut_s
        self._job = _Timeline(status, move, cut, ret, idle, cut + 0.5 * t.cut_s, fault, fault_s)

    def _poll_backend(self) -> None:
        job = self._job
        if job is None:
            return
        now = self.clock.now_s()
        if now >= job.fault_s:
            if job.fault == "jam":
                self._state = RobotState.FAULT
                self._counts["jams"] += 1
                actual = job.mid_s if job.fault_s >= job.mid_s else math.nan
                job.status._finish(CutResult.JAMMED, actual, "cutter jammed in the stream", job.fault_s)
            else:
                self._state = RobotState.ESTOP
                self._counts["estops"] += 1
                job.status._finish(CutResult.ESTOP, math.nan, "emergency stop while moving", job.fault_s)
            self._job = None
            return
        if now >= job.idle_s:
            self._state = RobotState.IDLE
            if job.fault == "missed":
                self._counts["missed"] += 1
                job.status._finish(CutResult.MISSED, job.mid_s, "cutter crossed but collected nothing", job.idle_s)
            else:
                self._counts["cuts_ok"] += 1
                job.status._finish(CutResult.CUT, job.mid_s, "", job.idle_s)
            self._job = None
            return
        if now >= job.return_s:
            self._state = RobotState.RETURNING
        elif now >= job.cut_s:
            self._state = RobotState.CUTTING
        elif now >= job.move_s:
            self._state = RobotState.MOVING
        else:
            self._state = RobotState.IDLE

    def _read_state(self) -> RobotState:
        return self._state

    def _read_counters(self) -> RobotCounters:
        return RobotCounters(**self._counts)

    def _reset_backend(self) -> None:
        if self._job is not None:
            self._job.status._finish(CutResult.ABORTED, math.nan, "aborted by reset")
            self._job = None
        self._state = RobotState.IDLE

    def _estop_backend(self) -> None:
        self._poll_backend()
        if self._job is not None:
            self._job.status._finish(CutResult.ESTOP, math.nan, "emergency stop (operator)")
            self._job = None
        if self._state is not RobotState.ESTOP:
            self._counts["estops"] += 1
        self._state = RobotState.ESTOP
