"""The object decision: the p("none") level at or below which a candidate is reported.

It is set on the *empirical* false candidates of object-free belt of every scene type a fit renders, belt no
classifier trained on; nothing is extrapolated. Since FIT_VERSION 13 they are scored **out of fold**
(:mod:`vision.crossfit`): each source group's belt by a classifier trained on the other groups (>= 81 % of the fit
sources), so the level is set on p(none) that ore the classifier never saw gets. The final classifier (all sources)
scores the fit ore's false candidates far more confidently than unseen ore's (FIT_VERSION 13 fit: lowest on realistic
belt 0.064 in fold against 0.0015 out of fold; the held-out realistic belt's lowest is 0.0035), which is why fit C's
decision, set in fold, leaked.

**Per belt condition** (CFAR-style; :data:`APPLY_REGIMES`): the detector measures the belt's *load* around each
candidate from the frame itself (:mod:`vision.regime`: the share of belt cells that look like ore over 4 m), and the
level is that of the belt condition (:data:`REGIME_BINS`: part-loaded, full burden) the load falls in, each set on
its own calibration belt: DECISION_MARGIN x the (k+1)-th lowest p(none) of its candidates, where k calibration
events still keep the 95 % Poisson bound chi2.ppf(0.95, 2k + 2) / 2 / L within 1 per 1,000 m (k = 0 below 4,744 m:
no calibration candidate at or below the level, bound -ln(0.05) / L). A condition with under 2,996 m of its own belt
keeps the strictest level. A load no regime's calibration covered gets the strictest level: DECISION_MARGIN x the
lowest p(none) of all calibration candidates (the single level of FIT_VERSION 9-10, still ``none_max``).

Why not the 2-fold out-of-fold classifiers of model formats 6-8: each saw half the sources, and scored unseen ore
some 3 orders of magnitude lower than the final classifier scores held-out ore (docs/vision.md): far too strict.
Classifiers that see >= 81 % of the sources are near the final one: on an 8 mm/px check fit their lowest p(none) on
today's belt (1.8e-5) was below the final classifier's on held-out belt (6.7e-5), the final classifier's own on the
fit ore far above it (0.0020).
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


#: Belt conditions (:mod:`vision.regime`): the load (share of the belt's cells that look like ore, over 4 m) below
#: LOAD_EDGE is a part-loaded belt (today's patchwork: 35-78 %), at or above it a full burden (realistic belt and dark
#: ore: 93-100 %).
LOAD_EDGE = 0.9
REGIME_BINS = (("part-loaded", 0.0, LOAD_EDGE), ("full burden", LOAD_EDGE, 1.0))
#: A regime gets its own level only when at least this share of the calibration belt fell in it; the load range it
#: covers is the range its calibration belt showed, widened by LOAD_TOLERANCE. A load in no regime's range (a belt
#: the fit never saw) gets the strictest level.
REGIME_MIN_SHARE = 0.25
LOAD_TOLERANCE = 0.02
#: Whether fits set the per-condition levels and the detector applies them (else ``none_max``, the strictest,
#: everywhere). On since FIT_VERSION 13, whose levels are set out of fold on 6,000 m of decision belt: the full burden
#: (3,997 m) gets its own level (7.3e-4 against the strictest 5.6e-4), today's part-loaded belt (2,003 m) keeps the
#: strictest; 0 false alarms in 3,006 m of held-out realistic and of today's belt (docs/vision.md). Set in fold on
#: the fit ore (FIT_VERSION 11-12 candidates) the levels leaked: 6 false alarms in 3 km at 0.026, 18 at 0.030.
APPLY_REGIMES = True
#: False alarms per 1,000 m (95 % bound) a regime's level must allow on its calibration belt: with L m scored, k
#: calibration candidates may lie at or below the level when chi2.ppf(0.95, 2k + 2) / 2 / L <= this.
TARGET_FA_PER_1000_M = 1.0


def poisson_upper95(k: int) -> float:
    """Upper 95 % bound of a Poisson mean when ``k`` events were seen: chi2.ppf(0.95, 2k + 2) / 2."""
    from scipy.stats import chi2

    return float(chi2.ppf(0.95, 2 * k + 2) / 2.0)


def allowed_events(belt_m: float, target_per_1000_m: float = TARGET_FA_PER_1000_M) -> int:
    """Largest k whose 95 % bound from ``belt_m`` metres is within ``target_per_1000_m`` (0 when even k = 0 is not:
    the level then stays below every calibration candidate, and the regime states the weaker bound it has)."""
    k = 0
    while belt_m > 0 and 1000.0 * poisson_upper95(k + 1) / belt_m <= target_per_1000_m:
        k += 1
    return k


def tail_level(scores: np.ndarray, belt_m: float, events: int | None = None, counted: str = "candidates") -> tuple[float, int]:
    """(level, k) of a run-time evidence from the ``scores`` (higher: more object-like) of the ``counted`` on ``belt_m``
    metres of the fit split's object-free belt: the (k+1)-th highest finite score, k = ``events`` or
    :func:`allowed_events` of ``belt_m``, plus ``ln(1 / DECISION_MARGIN)``. Raises ValueError without belt or with
    fewer than k + 1 finite scores."""
    if not belt_m > 0:
        raise ValueError(f"expected belt_m > 0, got {belt_m}")
    k = allowed_events(belt_m) if events is None else int(events)
    v = np.sort(np.asarray(scores, float)[np.isfinite(scores)])[::-1]
    if v.size <= k:
        raise ValueError(f"{v.size} {counted} on {belt_m:.0f} m: need more than {k} to set the level")
    return float(v[k] + math.log(1.0 / DECISION_MARGIN)), k


@dataclass
class Regime:
    """One belt condition's decision: the load range its calibration belt showed, the belt scored, the calibration
    candidates allowed at or below the level (``events``), the lowest p(none) there, the level and its bound."""

    name: str
    load_lo: float
    load_hi: float
    belt_m: float
    events: int
    lowest_p_none: float
    none_max: float
    fa_bound_per_1000_m: float


def in_bin(load: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Whether each ``load`` lies in the belt condition [lo, hi) of :data:`REGIME_BINS` ([lo, 1] for hi = 1)."""
    load = np.asarray(load, float)
    return (load >= lo) & ((load < hi) if hi < 1.0 else (load <= hi))


def regimes(p_none: np.ndarray, load: np.ndarray, belt_load: np.ndarray, row_m: float, strictest: float) -> list[Regime]:
    """The regimes of :data:`REGIME_BINS` with enough calibration belt (REGIME_MIN_SHARE): candidates' p(none) and
    load (n,), the load of every calibration belt row (rows,) of ``row_m`` metres. Per regime the level is
    DECISION_MARGIN x the (k+1)-th lowest p(none) of its candidates, k = :func:`allowed_events` of its belt, never
    stricter than ``strictest`` (the level a belt in no regime gets) nor above DECISION_CAP. A regime whose own belt
    cannot bound its rate within TARGET_FA_PER_1000_M even with no event (under 2,996 m) keeps ``strictest``: it is
    recorded (its belt and lowest p(none)) but gets no level of its own. Its load range is the range its calibration
    belt showed, widened by LOAD_TOLERANCE but never past its bin: a load between the bins' calibration belt is
    unseen and gets ``strictest``."""
    out = []
    total = belt_load.size * row_m
    for name, lo, hi in REGIME_BINS:
        rows = belt_load[in_bin(belt_load, lo, hi)]
        belt_m = rows.size * row_m
        if total <= 0 or belt_m < REGIME_MIN_SHARE * total:
            continue
        p = np.sort(p_none[in_bin(load, lo, hi)])
        k = allowed_events(belt_m)
        level = DECISION_MARGIN * float(p[k]) if p.size > k else DECISION_CAP
        thin = 1000.0 * ZERO_EVENTS_UPPER95 / belt_m > TARGET_FA_PER_1000_M
        level = float(strictest) if thin else float(np.clip(level, strictest, DECISION_CAP))
        out.append(Regime(name, max(lo, float(rows.min()) - LOAD_TOLERANCE), min(hi, float(rows.max()) + LOAD_TOLERANCE),
                          float(belt_m), k, float(p[0]) if p.size else 1.0, level, 1000.0 * poisson_upper95(k) / belt_m))
    return out


def regime_levels(load: np.ndarray, table: np.ndarray, strictest: float) -> np.ndarray:
    """Per load value (n,), the level of the regime of ``table`` (m, 3: load_lo, load_hi, none_max; the first that
    holds it) or ``strictest`` (NaN load, or a load no regime covers)."""
    load = np.asarray(load, float)
    out = np.full(load.shape, float(strictest))
    for lo, hi, level in np.asarray(table, float).reshape(-1, 3)[::-1]:
        out[(load >= lo) & (load <= hi)] = level
    return out


@dataclass
class Decision:
    """The object decision and what it rests on: metres of calibration belt scored and lowest p(none) per scene type,
    and the level per belt condition (:class:`Regime`); ``none_max`` is the strictest level, for a belt the fit never
    saw (and the only one without regimes)."""

    none_max: float
    belt_m: dict[str, float] = field(default_factory=dict)
    lowest_p_none: dict[str, float] = field(default_factory=dict)
    regimes: list[Regime] = field(default_factory=list)
    #: Why the decision is what it is (one line, kept with the model).
    reason: str = ""
    #: Lowest p(none) per scene type that the final classifier gives the same candidates, when the level was set on
    #: out-of-fold scores (:mod:`vision.crossfit`; empty otherwise): how much more confident it is on ore it saw.
    in_fold_lowest_p_none: dict[str, float] = field(default_factory=dict)
    #: Per source group of the decision belt, the share of the sources its out-of-fold classifier trained on.
    source_share: list[float] = field(default_factory=list)

    #: Spread (min, 5 %, median, 95 %, max) of the calibration candidates' p(none), out of fold and in fold.
    p_none_spread: dict[str, list[float]] = field(default_factory=dict)
    #: The level's estimator checked by leave-one-group-out (:func:`vision.decision_level.choose_levels`; empty: the
    #: pooled minimum, FIT_VERSION 13-15).
    level_choice: dict = field(default_factory=dict)

    def record_in_fold(self, p_none: np.ndarray, scene_type: np.ndarray, out_of_fold: np.ndarray,
                       source_share: list[float] | None = None) -> None:
        """Note that the level rests on the ``out_of_fold`` p(none), and what the final classifier gives the same
        candidates (``p_none``, in fold; lowest per scene type, and the spread of both)."""
        p_none, scene_type = np.asarray(p_none, float), np.asarray(scene_type, str)
        self.in_fold_lowest_p_none = {t: float(p_none[scene_type == t].min()) if np.any(scene_type == t) else 1.0
                                      for t in self.belt_m}
        self.p_none_spread = {"out_of_fold": spread(out_of_fold), "in_fold": spread(p_none)}
        self.source_share = [float(v) for v in source_share or []]
        seen = f", each trained on >= {min(self.source_share):.0%} of the sources" if self.source_share else ""
        self.reason = f"out of fold (classifiers trained without the belt's sources{seen}): {self.reason}"

    @property
    def calibration_m(self) -> float:
        return float(sum(self.belt_m.values()))

    def fa_bound_per_1000_m(self, scene_type: str | None = None) -> float:
        """95 % bound on false alarms per 1,000 m at ``none_max`` from the belt scored (one type, or all): no
        calibration candidate lies at or below the decision. Infinite without calibration belt."""
        belt_m = self.calibration_m if scene_type is None else self.belt_m.get(scene_type, 0.0)
        return 1000.0 * ZERO_EVENTS_UPPER95 / belt_m if belt_m > 0 else math.inf

    def table(self) -> np.ndarray:
        """The regimes as (m, 3) rows (load_lo, load_hi, none_max), as the classifier keeps them."""
        return np.array([[r.load_lo, r.load_hi, r.none_max] for r in self.regimes], float).reshape(-1, 3)

    def as_dict(self) -> dict:
        """JSON-ready record (saved in the model's ``fitted_on["decision"]``)."""
        out = asdict(self)
        out["fa_bound_per_1000_m"] = {t: round(self.fa_bound_per_1000_m(t), 3) for t in self.belt_m}
        out["fa_bound_per_1000_m"]["all"] = round(self.fa_bound_per_1000_m(), 3)
        return out


def decide(p_none: np.ndarray, scene_type: np.ndarray, belt_m: dict[str, float], load: np.ndarray | None = None,
           belt_load: np.ndarray | None = None, row_m: float = 0.0) -> Decision:
    """The decision from p(none) (n,) of the size-gated candidates on object-free calibration belt and their scene
    types (n,); ``belt_m``: metres of belt scored per scene type (a type with belt but no candidate allows the cap).
    With ``load`` (n,: the candidates' belt load, :mod:`vision.regime`) and ``belt_load`` (the load of every
    calibration row of ``row_m`` metres) it adds a level per belt condition (:func:`regimes`). Raises ValueError
    when the arrays differ in length or a type has no belt."""
    p_none, scene_type = np.asarray(p_none, float), np.asarray(scene_type, str)
    if p_none.shape != scene_type.shape or (load is not None and np.shape(load) != p_none.shape):
        raise ValueError(f"expected one scene type per p(none) (and one load), got {p_none.shape}, {scene_type.shape}"
                         f"{'' if load is None else f' and {np.shape(load)}'}")
    unknown = sorted(set(scene_type.tolist()) - set(belt_m))
    if unknown:
        raise ValueError(f"candidates of scene types {unknown} without calibration belt (have {sorted(belt_m)})")
    lowest = {t: float(p_none[scene_type == t].min()) if np.any(scene_type == t) else 1.0 for t in belt_m}
    level = min([DECISION_CAP] + [DECISION_MARGIN * v for v in lowest.values()])
    reason = f"{DECISION_MARGIN:g} x the lowest p(none) of all calibration candidates"
    found: list[Regime] = []
    if load is not None and belt_load is not None and belt_load.size:
        found = regimes(p_none, np.asarray(load, float), np.asarray(belt_load, float), row_m, level)
        reason = ("per belt load (share of ore-coloured belt over 4 m): " + "; ".join(
            f"{r.name} {r.load_lo:.2f}-{r.load_hi:.2f}: {DECISION_MARGIN:g} x the {_nth(r.events + 1)} lowest p(none) of "
            f"{r.belt_m:.0f} m" for r in found) + f"; any other load: {reason}")
    return Decision(float(level), {t: float(m) for t, m in belt_m.items()}, lowest, found, reason)


def spread(values: np.ndarray) -> list[float]:
    """(min, 5 %, median, 95 %, max) of ``values``; empty when there are none."""
    v = np.asarray(values, float)
    return [float(q) for q in np.quantile(v, [0.0, 0.05, 0.5, 0.95, 1.0])] if v.size else []


def _nth(k: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(k, f"{k}th")
