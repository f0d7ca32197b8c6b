"""Material tracking: which tonnage mark is under which station, and when.

The belt scale weighs material at belt coordinate ``u`` (the belt odometer at
that moment). Each coordinate gets the tonnage mark (cumulative tonnes past the
scale) it was weighed with. Only coordinates beyond the furthest the belt has
run get new marks, so a short reversal carries material back and forth without
weighing it twice. At time ``t`` a station ``d`` metres downstream sees the
material at coordinate ``odometer(t) - d``.

All lookups are vectorised over numpy arrays.
"""

from __future__ import annotations

import math

import numpy as np

from conveyor.errors import TrackingError
from conveyor.station import MaterialWindow


#: Rounding tolerance on belt coordinates (1 µm): a coordinate this close to the weighed range is inside it.
_COORD_EPS_M = 1e-6


class _Growable:
    """An append-only float64 array with amortised growth."""

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty(capacity)
        self.size = 0

    def append(self, value: float) -> None:
        if self.size == self._data.size:
            self._data = np.concatenate([self._data, np.empty(self._data.size)])
        self._data[self.size] = value
        self.size += 1

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


class MaterialTracker:
    """Maps between time, belt odometer, station position and tonnage mark.

    Feed one :meth:`record` per belt-scale reading (time in s, odometer in m,
    cumulative mark in t; time strictly increasing, mark non-decreasing).
    """

    def __init__(self) -> None:
        self._times = _Growable()
        self._odometer = _Growable()
        self._odometer_max = _Growable()  # running maximum: first time the belt reached a coordinate
        self._knot_u = _Growable()  # belt coordinates that were weighed (strictly increasing)
        self._knot_mark = _Growable()  # their marks (non-decreasing)

    # ---- feeding ---------------------------------------------------------------------------
    def record(self, time_s: float, odometer_m: float, mark_t: float) -> None:
        """Add a reading taken at the belt scale."""
        if not (math.isfinite(time_s) and math.isfinite(odometer_m) and math.isfinite(mark_t)):
            raise TrackingError(f"non-finite reading: time {time_s}, odometer {odometer_m}, mark {mark_t}")
        if self._times.size and time_s <= self._times.view[-1]:
            raise TrackingError(f"time must increase: {time_s} s after {self._times.view[-1]} s")
        if self._knot_mark.size and mark_t < self._knot_mark.view[-1]:
            raise TrackingError(f"mark must not decrease: {mark_t} t after {self._knot_mark.view[-1]} t")
        prev_max = self._odometer_max.view[-1] if self._odometer_max.size else -math.inf
        self._times.append(time_s)
        self._odometer.append(odometer_m)
        self._odometer_max.append(max(prev_max, odometer_m))
        if odometer_m > prev_max:
            self._knot_u.append(odometer_m)
            self._knot_mark.append(mark_t)
        elif self._knot_mark.size and mark_t > self._knot_mark.view[-1]:
            # Tonnage arriving while the belt is not advancing past new ground (stopped or
            # reversing): attribute it to the furthest weighed coordinate.
            self._knot_mark.view[-1] = mark_t

    @property
    def empty(self) -> bool:
        return self._times.size == 0

    @property
    def last_time_s(self) -> float:
        self._require()
        return float(self._times.view[-1])

    @property
    def last_mark_t(self) -> float:
        self._require()
        return float(self._knot_mark.view[-1])

    def _require(self) -> None:
        if self._times.size == 0:
            raise TrackingError("no belt-scale reading recorded yet")

    # ---- lookups ---------------------------------------------------------------------------
    def odometer_at(self, time_s: np.ndarray | float) -> np.ndarray:
        """Belt odometer (m) at the given time(s); times outside the record are clamped."""
        self._require()
        return np.interp(time_s, self._times.view, self._odometer.view)

    def mark_of_coordinate(self, belt_m: np.ndarray | float) -> np.ndarray:
        """Tonnage mark of the material weighed at belt coordinate(s); NaN where nothing was weighed."""
        self._require()
        u = np.asarray(belt_m, dtype=float)
        knots_u, knots_m = self._knot_u.view, self._knot_mark.view
        marks = np.interp(u, knots_u, knots_m)
        eps = _COORD_EPS_M
        return np.where((u < knots_u[0] - eps) | (u > knots_u[-1] + eps), np.nan, marks)

    def mark_at(self, position_m: np.ndarray | float, time_s: np.ndarray | float) -> np.ndarray:
        """Tonnage mark of the material ``position_m`` downstream of the scale at ``time_s`` (NaN: not weighed)."""
        return self.mark_of_coordinate(self.odometer_at(time_s) - np.asarray(position_m, dtype=float))

    def coordinate_of_mark(self, mark_t: np.ndarray | float) -> np.ndarray:
        """Belt coordinate (m) where material of ``mark_t`` was weighed (first coordinate reaching it)."""
        self._require()
        knots_u, knots_m = self._knot_u.view, self._knot_mark.view
        marks = np.asarray(mark_t, dtype=float)
        idx = np.searchsorted(knots_m, marks, side="left")
        idx_hi = np.clip(idx, 1, max(1, knots_m.size - 1))
        lo_m, hi_m = knots_m[idx_hi - 1], knots_m[np.minimum(idx_hi, knots_m.size - 1)]
        lo_u, hi_u = knots_u[idx_hi - 1], knots_u[np.minimum(idx_hi, knots_u.size - 1)]
        span = np.where(hi_m > lo_m, hi_m - lo_m, 1.0)
        frac = np.clip((marks - lo_m) / span, 0.0, 1.0)
        u = lo_u + frac * (hi_u - lo_u)
        u = np.where(marks <= knots_m[0], knots_u[0], u)
        return np.where(marks > knots_m[-1], np.nan, u)

    def arrival_time_s(self, mark_t: np.ndarray | float, position_m: np.ndarray | float) -> np.ndarray:
        """Time the material of ``mark_t`` first reached ``position_m`` downstream (NaN: not yet)."""
        self._require()
        target = self.coordinate_of_mark(mark_t) + np.asarray(position_m, dtype=float)
        reach, times = self._odometer_max.view, self._times.view
        idx = np.searchsorted(reach, target, side="left")
        ok = np.isfinite(target) & (idx < reach.size)
        idx_c = np.clip(idx, 1, reach.size - 1) if reach.size > 1 else np.zeros_like(idx)
        r0, r1 = reach[idx_c - 1], reach[idx_c]
        t0, t1 = times[idx_c - 1], times[idx_c]
        frac = np.clip((target - r0) / np.where(r1 > r0, r1 - r0, 1.0), 0.0, 1.0)
        t = np.where(idx == 0, times[0], t0 + frac * (t1 - t0))
        return np.where(ok, t, np.nan)

    def predict_arrival_s(self, mark_t: float, position_m: float, speed_m_s: float) -> float:
        """When ``mark_t`` will reach ``position_m``: the recorded arrival if past, else extrapolated at ``speed_m_s``.

        Returns ``inf`` when the belt is stopped and the material has not arrived.
        """
        arrived = float(self.arrival_time_s(mark_t, position_m))
        if math.isfinite(arrived):
            return arrived
        target = float(self.coordinate_of_mark(mark_t)) + position_m
        if not math.isfinite(target):
            raise TrackingError(f"mark {mark_t} t has not been weighed yet (last mark {self.last_mark_t:.3f} t)")
        remaining_m = target - float(self._odometer.view[-1])
        if speed_m_s <= 0:
            return math.inf
        return self.last_time_s + remaining_m / speed_m_s

    def window(
        self, lot_id: str, station: str, position_m: float, start_time_s: float, end_time_s: float,
        lot_start_mark_t: float = 0.0, lot_end_mark_t: float | None = None,
    ) -> MaterialWindow:
        """The material that passed ``position_m`` between two times.

        Clamped to weighed material, and to the lot's marks: nothing before
        ``lot_start_mark_t`` and, once the lot's end is known, nothing after ``lot_end_mark_t``.
        """
        self._require()
        u0, u1 = self.odometer_at(np.array([start_time_s, end_time_s])) - position_m
        lo = max(self._knot_u.view[0], float(self.coordinate_of_mark(lot_start_mark_t)))
        hi = self._knot_u.view[-1]
        if lot_end_mark_t is not None and lot_end_mark_t <= self.last_mark_t:
            hi = min(hi, float(self.coordinate_of_mark(lot_end_mark_t)))
        hi = max(hi, lo)
        u0c, u1c = float(np.clip(u0, lo, hi)), float(np.clip(u1, lo, hi))
        m0, m1 = self.mark_of_coordinate(np.array([u0c, u1c]))
        dt = end_time_s - start_time_s
        speed = (u1 - u0) / dt if dt > 0 else 0.0
        return MaterialWindow(
            lot_id=lot_id, station=station, start_time_s=start_time_s, end_time_s=end_time_s,
            start_mark_t=float(m0), end_mark_t=float(m1), start_belt_m=u0c, end_belt_m=u1c,
            belt_speed_m_s=float(speed), lot_start_mark_t=lot_start_mark_t,
        )


def transport_delay_s(from_position_m: float, to_position_m: float, belt_speed_m_s: float) -> float:
    """Seconds for material to travel from one station to another at a constant speed (inf when stopped)."""
    distance = to_position_m - from_position_m
    if belt_speed_m_s <= 0:
        return math.inf if distance > 0 else 0.0
    return distance / belt_speed_m_s
