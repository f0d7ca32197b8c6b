"""The object decision: the p("none") level at or below which a candidate is reported.

It is set on the *empirical* false candidates of object-free belt of every scene type a fit renders, belt the
classifier never trained on (new scenes of the fit tiles), scored by the final classifier; nothing is extrapolated.
Per scene type the level is DECISION_MARGIN x the lowest p(none) of a candidate that passes the size gate, and the
station, which does not know the scene type, takes the strictest. No calibration candidate lies at or below that
level, so the false-alarm rate it allows is bounded by the calibration length actually scored: 0 events in L m give
the 95 % Poisson bound -ln(0.05) / L per metre (1 per 1,000 m needs ~3,000 m).

Why the final classifier and not out-of-fold ones (model formats 6-8): classifiers trained on one of two folds of
the tiles scored unseen ore of the mixed belt some 3 orders of magnitude lower than the final classifier scores
held-out ore (docs/vision.md), so a decision set on them was far too strict; the final classifier's lowest p(none)
on fit-tile belt and on held-out belt were alike (0.019-0.083 against 0.031-0.059 on 300 m of each type).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

#: The level is this share of the lowest calibration p(none): unseen ore (other photographs) scores a little lower
#: than new scenes of the fit tiles.
DECISION_MARGIN = 0.5
#: Highest decision: a candidate is never reported with p(none) above it (and the decision when no calibration
#: candidate passes the size gate).
DECISION_CAP = 0.5
#: Upper 95 % bound of a Poisson mean when 0 events were seen: -ln(0.05).
ZERO_EVENTS_UPPER95 = -math.log(0.05)


@dataclass
class Decision:
    """The object decision and what it rests on: metres of calibration belt scored and lowest p(none) per scene type."""

    none_max: float
    belt_m: dict[str, float] = field(default_factory=dict)
    lowest_p_none: dict[str, float] = field(default_factory=dict)

    @property
    def calibration_m(self) -> float:
        return float(sum(self.belt_m.values()))

    def fa_bound_per_1000_m(self, scene_type: str | None = None) -> float:
        """95 % bound on false alarms per 1,000 m at ``none_max`` from the belt scored (one type, or all): no
        calibration candidate lies at or below the decision. Infinite without calibration belt."""
        belt_m = self.calibration_m if scene_type is None else self.belt_m.get(scene_type, 0.0)
        return 1000.0 * ZERO_EVENTS_UPPER95 / belt_m if belt_m > 0 else math.inf

    def as_dict(self) -> dict:
        """JSON-ready record (saved in the model's ``fitted_on["decision"]``)."""
        out = asdict(self)
        out["fa_bound_per_1000_m"] = {t: round(self.fa_bound_per_1000_m(t), 3) for t in self.belt_m}
        out["fa_bound_per_1000_m"]["all"] = round(self.fa_bound_per_1000_m(), 3)
        return out


def decide(p_none: np.ndarray, scene_type: np.ndarray, belt_m: dict[str, float]) -> Decision:
    """The decision from out-of-fold p(none) (n,) of the size-gated candidates on object-free calibration belt and
    their scene types (n,); ``belt_m``: metres of belt scored per scene type (a type with belt but no candidate
    allows the cap). Raises ValueError when the arrays differ in length or a type has no belt."""
    p_none, scene_type = np.asarray(p_none, float), np.asarray(scene_type, str)
    if p_none.shape != scene_type.shape:
        raise ValueError(f"expected one scene type per p(none), got {p_none.shape} and {scene_type.shape}")
    unknown = sorted(set(scene_type.tolist()) - set(belt_m))
    if unknown:
        raise ValueError(f"candidates of scene types {unknown} without calibration belt (have {sorted(belt_m)})")
    lowest = {t: float(p_none[scene_type == t].min()) if np.any(scene_type == t) else 1.0 for t in belt_m}
    level = min([DECISION_CAP] + [DECISION_MARGIN * v for v in lowest.values()])
    return Decision(float(level), {t: float(m) for t, m in belt_m.items()}, lowest)
