"""ISO 3082 (iron ores — sampling and sample preparation; GB/T 10322.1 is identical) values used by the plan.

This is the ONE place where values from the standard live. Each entry names the
clause it comes from (clause numbers of ISO 3082:2009/2017; GB/T 10322.1-2014/2023
use the same numbering).

CONFIDENCE. The standard is a paid document and its tables could not be retrieved
while this module was written (public search found only the table of contents:
5.3 quality variation, 5.4 sampling precision and number of primary increments,
6.1 mass-basis, 6.2 time-basis, 6.3 stratified random sampling, 7.5 primary
samplers). The numbers below are written from the engineer's working knowledge of
the standard and are marked:

* ``CONFIRMED``: agreed by an independent public source found during writing
  (cutter aperture ≥ 3 × nominal top size: R.J. Holmes, "Grade control sampling"
  / "Sampling mineral commodities", citing the ISO TC102 practice).
* ``UNCONFIRMED``: must be checked against the purchased standard before the
  plan is used for commercial (contractual) sampling. Change the value here
  and the tests that pin the worked examples will tell you what moved.
"""

from __future__ import annotations

from typing import Literal

QualityVariation = Literal["large", "medium", "small"]
QUALITY_VARIATIONS: tuple[str, ...] = ("large", "medium", "small")

# ---- 5.4 (Table "Minimum number of primary increments"), mechanical sampling -----------------
# UNCONFIRMED. Rows: (lower bound of lot mass in t (exclusive), upper bound (inclusive)) ->
# minimum number of primary increments for large / medium / small quality variation.
# The columns follow the standard's design: medium ≈ large / 2, small ≈ large / 4, since the
# sampling variance is σw² / n and the classes differ by a factor of 2 in σw² steps.
# Worked example used by the tests: 120 000 t, small quality variation -> 30 increments.
# fmt: off
PRIMARY_INCREMENTS_TABLE: tuple[tuple[float, float, int, int, int], ...] = (
    #  over t,   up to t,   large, medium, small
    (0.0,        500.0,      60,    30,    15),
    (500.0,      1_000.0,    70,    35,    18),
    (1_000.0,    2_000.0,    75,    38,    19),
    (2_000.0,    5_000.0,    80,    40,    20),
    (5_000.0,    15_000.0,   90,    45,    23),
    (15_000.0,   30_000.0,   100,   50,    25),
    (30_000.0,   45_000.0,   105,   53,    27),
    (45_000.0,   70_000.0,   110,   55,    28),
    (70_000.0,   100_000.0,  115,   58,    29),
    (100_000.0,  150_000.0,  120,   60,    30),
    (150_000.0,  210_000.0,  125,   63,    32),
    (210_000.0,  270_000.0,  130,   65,    33),
    (270_000.0,  float("inf"), 135, 68,    34),
)
# fmt: on

# ---- 5.3 Quality variation classes ------------------------------------------------------------
# UNCONFIRMED. Standard deviation of Fe content (% Fe, absolute) within strata, σw, that defines
# each class: large σw ≥ 2.0, medium 1.5 ≤ σw < 2.0, small σw < 1.5. Used only to classify a
# measured σw (ISO 3084 experiment) into a class.
QUALITY_VARIATION_SIGMA_W_FE_PCT: dict[str, tuple[float, float]] = {
    "large": (2.0, float("inf")),
    "medium": (1.5, 2.0),
    "small": (0.0, 1.5),
}

# ---- 5.1.4 / 7.5 Minimum mass of primary increment by nominal top size --------------------------
# UNCONFIRMED. Rows: (nominal top size up to mm (inclusive), minimum increment mass kg).
# Above the last row the plan refuses the top size (PlanError).
# fmt: off
MIN_INCREMENT_MASS_TABLE: tuple[tuple[float, float], ...] = (
    #  top size up to mm, min increment kg
    (10.0,   1.0),
    (22.4,   5.0),
    (31.5,  10.0),
    (50.0,  20.0),
    (100.0, 40.0),
    (150.0, 60.0),
    (250.0, 100.0),
)
# fmt: on

# ---- 7.5 Primary (falling-stream) cutter design rules ------------------------------------------
#: CONFIRMED (Holmes; also in the brief). Cutter aperture ≥ this × nominal top size.
CUTTER_APERTURE_FACTOR = 3.0
#: UNCONFIRMED. Absolute minimum cutter aperture in mm (whatever the top size).
CUTTER_APERTURE_MIN_MM = 30.0
#: UNCONFIRMED (stated in the brief; common ISO TC102 practice). Maximum falling-stream cutter
#: speed through the stream, m/s, for the minimum aperture. A wider aperture allows a
#: proportionally higher speed (v ≤ 0.6 × aperture / (3 × top size)); the plan only applies
#: the plain 0.6 m/s limit and reports the proportional allowance separately.
CUTTER_SPEED_MAX_M_S = 0.6
#: Cross-belt cutters: cutter speed ≥ this × belt speed is usual practice (UNCONFIRMED, not enforced).
CROSS_BELT_SPEED_RATIO_MIN = 1.5

# ---- 5.1.4 Increment mass of a falling-stream cutter ---------------------------------------------
# m_I = q_m · l / (3.6 · v_c): increment mass in kg for flow q_m in t/h, cutter aperture l in m and
# cutter speed v_c in m/s. This is physics (tonnes per hour → kg per second times the time the
# aperture spends in the stream) and is used in the standard in this form. CONFIRMED by derivation.
INCREMENT_MASS_COEFFICIENT = 3.6


def primary_increments_min(lot_mass_t: float, quality_variation: str) -> int:
    """Minimum number of primary increments for a lot (``PRIMARY_INCREMENTS_TABLE``, clause 5.4)."""
    column = QUALITY_VARIATIONS.index(quality_variation)
    for low, high, *counts in PRIMARY_INCREMENTS_TABLE:
        if low < lot_mass_t <= high:
            return int(counts[column])
    raise ValueError(f"lot mass must be > 0 t, got {lot_mass_t!r}")


def min_increment_mass_kg(nominal_top_size_mm: float) -> float:
    """Minimum primary increment mass in kg for a nominal top size (``MIN_INCREMENT_MASS_TABLE``)."""
    for top, mass in MIN_INCREMENT_MASS_TABLE:
        if nominal_top_size_mm <= top:
            return mass
    raise ValueError(
        f"nominal top size must be <= {MIN_INCREMENT_MASS_TABLE[-1][0]} mm, got {nominal_top_size_mm!r}"
    )


def min_cutter_aperture_mm(nominal_top_size_mm: float) -> float:
    """Minimum cutter aperture in mm: max(3 × top size, absolute minimum) (clause 7.5)."""
    return max(CUTTER_APERTURE_FACTOR * nominal_top_size_mm, CUTTER_APERTURE_MIN_MM)


def increment_mass_kg(flow_t_h: float, aperture_mm: float, cutter_speed_m_s: float) -> float:
    """Mass of one falling-stream increment in kg: q_m · l / (3.6 · v_c) (clause 5.1.4)."""
    return flow_t_h * (aperture_mm / 1000.0) / (INCREMENT_MASS_COEFFICIENT * cutter_speed_m_s)


def classify_quality_variation(sigma_w_fe_pct: float) -> str:
    """Quality-variation class for a within-strata standard deviation of Fe (% Fe) (clause 5.3)."""
    for name, (low, high) in QUALITY_VARIATION_SIGMA_W_FE_PCT.items():
        if low <= sigma_w_fe_pct < high:
            return name
    raise ValueError(f"sigma_w must be >= 0 % Fe, got {sigma_w_fe_pct!r}")
