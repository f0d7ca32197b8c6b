"""Belt kinematics: the belt odometer from encoder pulses or from measured speed.

The odometer is metres of belt that have passed the belt scale since the line
started; it decreases during a reversal. Encoder counters wrap (e.g. 32-bit);
a wrap is unfolded, a jump that no belt could make is an error.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from conveyor.errors import KinematicsError

log = logging.getLogger(__name__)


@dataclass
class EncoderSpec:
    """An incremental encoder on a belt pulley.

    ``pulses_per_m`` pulses per metre of belt; ``counter_modulus`` where the
    counter wraps (2**32 for a 32-bit counter); ``max_speed_m_s`` bounds a
    plausible step.
    """

    pulses_per_m: float
    counter_modulus: int = 2**32
    max_speed_m_s: float = 12.0

    def __post_init__(self) -> None:
        if not self.pulses_per_m > 0:
            raise KinematicsError(f"pulses_per_m must be > 0, got {self.pulses_per_m}")
        if self.counter_modulus < 2:
            raise KinematicsError(f"counter_modulus must be >= 2, got {self.counter_modulus}")


class BeltKinematics:
    """Integrates the belt odometer from encoder counts or speed readings.

    Call :meth:`update_speed` (measured speed, trapezoid integration) or
    :meth:`update_encoder` (counter value) once per reading, with increasing times.
    ``allow_reverse`` permits negative speeds (short reversals); otherwise a
    negative speed raises :class:`KinematicsError`.
    """

    def __init__(self, *, allow_reverse: bool = True, max_speed_m_s: float = 12.0) -> None:
        self.allow_reverse = allow_reverse
        self.max_speed_m_s = max_speed_m_s
        self.odometer_m = 0.0
        self.speed_m_s = 0.0
        self.time_s: float | None = None
        self._last_count: int | None = None

    def _check_time(self, time_s: float) -> float:
        if not math.isfinite(time_s):
            raise KinematicsError(f"time must be finite, got {time_s}")
        if self.time_s is not None and time_s <= self.time_s:
            raise KinematicsError(f"time must increase: got {time_s} s after {self.time_s} s")
        return 0.0 if self.time_s is None else time_s - self.time_s

    def check_speed(self, speed_m_s: float) -> None:
        """Raise :class:`KinematicsError` for a speed no belt of this line can have (NaN, too fast, reversing when not allowed)."""
        if not math.isfinite(speed_m_s):
            raise KinematicsError(f"belt speed must be finite, got {speed_m_s}")
        if abs(speed_m_s) > self.max_speed_m_s:
            raise KinematicsError(f"belt speed {speed_m_s:.3f} m/s beyond plausible ±{self.max_speed_m_s} m/s")
        if speed_m_s < 0 and not self.allow_reverse:
            raise KinematicsError(f"negative belt speed {speed_m_s:.3f} m/s but reversal is not allowed")

    def update_speed(self, time_s: float, speed_m_s: float) -> float:
        """Integrate a measured speed reading; return the odometer in metres."""
        self.check_speed(speed_m_s)
        dt = self._check_time(time_s)
        if self.time_s is not None:
            self.odometer_m += 0.5 * (self.speed_m_s + speed_m_s) * dt
        self.time_s, self.speed_m_s = time_s, speed_m_s
        return self.odometer_m

    def update_encoder(self, time_s: float, count: int, spec: EncoderSpec) -> float:
        """Advance by the pulses since the last count (unfolding wraps); return the odometer in metres."""
        dt = self._check_time(time_s)
        count = int(count) % spec.counter_modulus
        if self._last_count is None:
            self._last_count, self.time_s = count, time_s
            return self.odometer_m
        delta = (count - self._last_count) % spec.counter_modulus
        if delta > spec.counter_modulus // 2:
            delta -= spec.counter_modulus  # backwards: a reversal
        step_m = delta / spec.pulses_per_m
        speed = step_m / dt
        try:
            self.check_speed(speed)
        except KinematicsError as exc:
            raise KinematicsError(f"encoder step {delta} pulses in {dt:.3f} s: {exc}") from exc
        self.odometer_m += step_m
        self._last_count, self.time_s, self.speed_m_s = count, time_s, speed
        return self.odometer_m
