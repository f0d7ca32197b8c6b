"""Tonnes from a belt-scale totaliser that may wrap around or step backwards.

Integrators count up to a modulus and start again at zero; communication
glitches or a re-zeroed integrator can make the value go backwards. A wrap is
unfolded; a small backwards step is held (logged and counted, never negative
tonnage); a large backwards step that is not a wrap raises
:class:`TotaliserError` because the tonnage can no longer be trusted.
"""

from __future__ import annotations

import logging
import math

from conveyor.errors import TotaliserError

log = logging.getLogger(__name__)


class TonnageCounter:
    """Cumulative tonnes past the belt scale from raw totaliser readings.

    ``modulus_t`` is where the integrator wraps (``None``: never wraps);
    ``max_backstep_t`` is the largest backwards step that is held as noise.
    """

    def __init__(self, *, modulus_t: float | None = None, max_backstep_t: float = 1.0) -> None:
        if modulus_t is not None and not modulus_t > 0:
            raise TotaliserError(f"modulus_t must be > 0 t, got {modulus_t}")
        self.modulus_t = modulus_t
        self.max_backstep_t = max_backstep_t
        self.total_t = 0.0
        self.wraps = 0
        self.backsteps = 0
        self._last_raw: float | None = None

    def update(self, raw_t: float) -> float:
        """Feed one raw totaliser reading (tonnes); return cumulative tonnes since the first reading."""
        if not math.isfinite(raw_t) or raw_t < 0:
            raise TotaliserError(f"totaliser reading must be a finite value >= 0 t, got {raw_t}")
        if self._last_raw is None:
            self._last_raw = raw_t
            return self.total_t
        step = raw_t - self._last_raw
        if step < 0 and self.modulus_t is not None and -step > self.modulus_t / 2:
            step += self.modulus_t
            self.wraps += 1
            log.info("belt-scale totaliser wrapped at %.3f t (wrap %d)", self.modulus_t, self.wraps)
        if step < 0:
            if -step > self.max_backstep_t:
                raise TotaliserError(
                    f"belt-scale totaliser went backwards by {-step:.3f} t "
                    f"({self._last_raw:.3f} t -> {raw_t:.3f} t); expected steps >= -{self.max_backstep_t} t"
                )
            self.backsteps += 1
            log.warning("belt-scale totaliser stepped back %.3f t; holding %.3f t", -step, self.total_t)
            return self.total_t  # hold: keep last raw so the step is not counted twice
        self.total_t += step
        self._last_raw = raw_t
        return self.total_t

    def resync(self, raw_t: float) -> float:
        """Take ``raw_t`` as the new baseline without counting the step (after a TotaliserError); return tonnes."""
        self._last_raw = raw_t
        return self.total_t
