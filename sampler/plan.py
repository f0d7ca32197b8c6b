"""ISO 3082 sampling plans: how many primary increments, where (tonnage marks) or when (seconds), how heavy.

Mass basis (clause 6.1): the lot (or each sub-lot) is cut into ``n`` equal mass
strata of ``interval_t``; *systematic* sampling takes each increment at the same
offset in every stratum (one random start), *stratified random* sampling (clause
6.3) at an independent random offset in each stratum. Time basis (clause 6.2):
the same in seconds, with ``interval_s = 3600 · sublot_mass_t / (max_flow_t_h · n)``
so that even at the highest flow each sub-lot gets at least ``n`` increments;
time-basis increments continue until the lot ends.

Sub-lots: each of ``sublots`` equal sub-lots gets ``ceil(n_lot / sublots)``
increments, so the gross sample keeps at least the lot's precision (σw² / n); each
sub-lot becomes one partial sample.

Marks are tonnes since lot start; times are seconds since lot start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from sampler import iso3082
from sampler.errors import PlanError

BASES = ("mass", "time")
METHODS = ("systematic", "stratified_random")


@dataclass(frozen=True)
class PlannedIncrement:
    """One routine increment of the plan. ``offset`` is t (mass basis) or s (time basis) since lot start."""

    number: int
    sublot: int
    offset: float
    stratum_start: float
    stratum_end: float


@dataclass(frozen=True)
class SamplingPlan:
    """A computed plan. Build with :func:`make_plan`; all fields are plain values.

    ``offsets`` holds every increment's mark (t since lot start, mass basis) or time
    (s since lot start, time basis), shape (n_total,), increasing. ``sublot_of`` the
    sub-lot (1-based) of each increment.
    """

    lot_mass_t: float
    basis: str
    method: str
    quality_variation: str
    nominal_top_size_mm: float
    sublots: int
    n_lot_min: int
    n_per_sublot: int
    interval: float
    interval_unit: str
    min_increment_mass_kg: float
    min_cutter_aperture_mm: float
    cutter_aperture_mm: float | None
    cutter_speed_m_s: float | None
    max_flow_t_h: float | None
    expected_increment_mass_kg: float | None
    seed: int
    offsets: np.ndarray = field(repr=False)
    sublot_of: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def n_total(self) -> int:
        """Routine increments planned (mass basis: exact; time basis: at the planned horizon)."""
        return int(self.offsets.size)

    @property
    def sublot_mass_t(self) -> float:
        return self.lot_mass_t / self.sublots

    def increments(self) -> list[PlannedIncrement]:
        """The planned increments as records (number is 1-based across the lot)."""
        out = []
        for i, (offset, sub) in enumerate(zip(self.offsets.tolist(), self.sublot_of.tolist())):
            k = i - (int(sub) - 1) * self.n_per_sublot
            start = (int(sub) - 1) * self._sublot_span + k * self.interval
            out.append(PlannedIncrement(i + 1, int(sub), offset, start, start + self.interval))
        return out

    @property
    def _sublot_span(self) -> float:
        return self.n_per_sublot * self.interval

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (stream metadata, lot start record, JSON)."""
        return {
            "standard": "ISO 3082 (GB/T 10322.1)",
            "lot_mass_t": self.lot_mass_t, "basis": self.basis, "method": self.method,
            "quality_variation": self.quality_variation, "nominal_top_size_mm": self.nominal_top_size_mm,
            "sublots": self.sublots, "n_lot_min": self.n_lot_min, "n_per_sublot": self.n_per_sublot,
            "n_total": self.n_total, "interval": self.interval, "interval_unit": self.interval_unit,
            "min_increment_mass_kg": self.min_increment_mass_kg,
            "min_cutter_aperture_mm": self.min_cutter_aperture_mm, "cutter_aperture_mm": self.cutter_aperture_mm,
            "cutter_speed_m_s": self.cutter_speed_m_s, "max_flow_t_h": self.max_flow_t_h,
            "expected_increment_mass_kg": self.expected_increment_mass_kg, "seed": self.seed,
            "offsets": [round(float(v), 6) for v in self.offsets], "warnings": list(self.warnings),
        }


def plan_from_dict(d: Mapping[str, Any]) -> SamplingPlan:
    """The plan :meth:`SamplingPlan.to_dict` wrote (e.g. an archive's sampler stream), exactly as it was.

    ``to_dict(plan_from_dict(d)) == d`` for any ``d`` it wrote; raises :class:`PlanError` naming what is missing
    or wrong otherwise."""
    try:
        offsets = np.asarray(d["offsets"], dtype=float)
        sublots, n_per_sublot = int(d["sublots"]), int(d["n_per_sublot"])
        fields = {k: d[k] for k in ("lot_mass_t", "basis", "method", "quality_variation", "nominal_top_size_mm",
                                    "n_lot_min", "interval", "interval_unit", "min_increment_mass_kg",
                                    "min_cutter_aperture_mm", "cutter_aperture_mm", "cutter_speed_m_s", "max_flow_t_h",
                                    "expected_increment_mass_kg", "seed")}
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"expected a sampling plan as SamplingPlan.to_dict writes it; {type(exc).__name__}: {exc}") from None
    if offsets.size != int(d.get("n_total", offsets.size)) or offsets.size > sublots * n_per_sublot:
        raise PlanError(f"expected n_total = {d.get('n_total')} offsets (≤ sublots × n_per_sublot), got {offsets.size}")
    sublot_of = np.repeat(np.arange(1, sublots + 1), n_per_sublot)[:offsets.size]
    return SamplingPlan(sublots=sublots, n_per_sublot=n_per_sublot, offsets=offsets, sublot_of=sublot_of,
                        warnings=tuple(d.get("warnings") or ()), **fields)


def _check_positive(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise PlanError(f"{name} must be a number > 0, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise PlanError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _check_choices(basis: str, method: str, quality_variation: str) -> None:
    """Raise :class:`PlanError` unless basis, method and quality variation are known names."""
    if basis not in BASES:
        raise PlanError(f"basis must be one of {BASES}, got {basis!r}")
    if method not in METHODS:
        raise PlanError(f"method must be one of {METHODS}, got {method!r}")
    if quality_variation not in iso3082.QUALITY_VARIATIONS:
        raise PlanError(f"quality_variation must be one of {iso3082.QUALITY_VARIATIONS}, got {quality_variation!r}")


def _check_cutter(
    cutter_aperture_mm: float | None, cutter_speed_m_s: float | None, top_mm: float, min_aperture_mm: float
) -> tuple[float | None, float | None]:
    """The installed cutter's (aperture mm, speed m/s), each None when not given, checked against ISO 3082 7.5."""
    aperture = speed = None
    if cutter_aperture_mm is not None:
        aperture = _check_positive("cutter_aperture_mm", cutter_aperture_mm)
        if aperture < min_aperture_mm:
            raise PlanError(
                f"cutter aperture must be >= {min_aperture_mm:g} mm (3 x nominal top size {top_mm:g} mm, min "
                f"{iso3082.CUTTER_APERTURE_MIN_MM:g} mm; ISO 3082 7.5), got {aperture:g} mm"
            )
    if cutter_speed_m_s is not None:
        speed = _check_positive("cutter_speed_m_s", cutter_speed_m_s)
        if speed > iso3082.CUTTER_SPEED_MAX_M_S:
            raise PlanError(
                f"falling-stream cutter speed must be <= {iso3082.CUTTER_SPEED_MAX_M_S} m/s (ISO 3082 7.5), "
                f"got {speed:g} m/s"
            )
    return aperture, speed


def _check_max_flow(basis: str, max_flow_t_h: float | None) -> float | None:
    """The lot's highest flow rate (t/h): required for time basis, optional (None) for mass basis."""
    if basis == "time":
        if max_flow_t_h is None:
            raise PlanError("time-basis sampling needs max_flow_t_h (highest flow rate of the lot in t/h)")
        return _check_positive("max_flow_t_h", max_flow_t_h)
    if max_flow_t_h is not None:
        return _check_positive("max_flow_t_h", max_flow_t_h)
    return None


def _offsets(
    mass_t: float, basis: str, method: str, k: int, n_sub: int, max_flow_t_h: float | None, seed: int
) -> tuple[float, str, np.ndarray, np.ndarray]:
    """(interval, its unit "t" or "s", every increment's offset from the lot start, its 1-based sub-lot)."""
    sub_mass = mass_t / k
    if basis == "mass":
        interval, unit, span = sub_mass / n_sub, "t", sub_mass
    else:
        assert max_flow_t_h is not None  # _check_max_flow requires it for time basis
        interval = 3600.0 * sub_mass / (max_flow_t_h * n_sub)
        unit, span = "s", interval * n_sub
    rng = np.random.default_rng(seed)
    idx = np.arange(n_sub)
    if method == "systematic":
        fractions = np.full(n_sub, rng.random())
    else:
        fractions = rng.random(n_sub)
    one = (idx + fractions) * interval  # offsets within a sub-lot
    offsets = (np.arange(k)[:, None] * span + one[None, :]).ravel()
    sublot_of = np.repeat(np.arange(1, k + 1), n_sub)
    return interval, unit, offsets, sublot_of


def make_plan(
    lot_mass_t: float,
    *,
    basis: str = "mass",
    method: str = "systematic",
    quality_variation: str = "medium",
    nominal_top_size_mm: float = 31.5,
    sublots: int = 1,
    cutter_aperture_mm: float | None = None,
    cutter_speed_m_s: float | None = None,
    max_flow_t_h: float | None = None,
    nominal_flow_t_h: float | None = None,
    seed: int = 0,
) -> SamplingPlan:
    """Compute the ISO 3082 plan for a lot of ``lot_mass_t`` tonnes.

    ``cutter_aperture_mm``/``cutter_speed_m_s`` describe the installed cutter; they are
    checked against clause 7.5 (aperture ≥ 3 × top size and ≥ the absolute minimum, speed
    ≤ 0.6 m/s) and, with ``nominal_flow_t_h``, give the expected increment mass, checked
    against the minimum for the top size. ``max_flow_t_h`` is required for time basis.
    Raises :class:`PlanError` for a bad value or a cutter that violates clause 7.5;
    an increment lighter than the minimum is a warning in the plan (the cutter design
    is then wrong, but the plan is still computable for a report).
    """
    mass = _check_positive("lot_mass_t", lot_mass_t)
    _check_choices(basis, method, quality_variation)
    top = _check_positive("nominal_top_size_mm", nominal_top_size_mm)
    if isinstance(sublots, bool) or not isinstance(sublots, (int, np.integer)) or sublots < 1:
        raise PlanError(f"sublots must be an integer >= 1, got {sublots!r}")
    try:
        min_mass = iso3082.min_increment_mass_kg(top)
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    min_aperture = iso3082.min_cutter_aperture_mm(top)
    aperture, speed = _check_cutter(cutter_aperture_mm, cutter_speed_m_s, top, min_aperture)
    warnings: list[str] = []
    expected_mass = None
    if nominal_flow_t_h is not None and aperture is not None and speed is not None:
        flow = _check_positive("nominal_flow_t_h", nominal_flow_t_h)
        expected_mass = iso3082.increment_mass_kg(flow, aperture, speed)
        if expected_mass < min_mass:
            warnings.append(
                f"expected increment {expected_mass:.1f} kg < minimum {min_mass:g} kg for top size {top:g} mm"
            )
    max_flow = _check_max_flow(basis, max_flow_t_h)

    n_lot = iso3082.primary_increments_min(mass, quality_variation)
    k = int(sublots)
    n_sub = math.ceil(n_lot / k)
    interval, unit, offsets, sublot_of = _offsets(mass, basis, method, k, n_sub, max_flow, seed)
    return SamplingPlan(
        lot_mass_t=mass, basis=basis, method=method, quality_variation=quality_variation, nominal_top_size_mm=top,
        sublots=k, n_lot_min=n_lot, n_per_sublot=n_sub, interval=float(interval), interval_unit=unit,
        min_increment_mass_kg=min_mass, min_cutter_aperture_mm=min_aperture, cutter_aperture_mm=aperture,
        cutter_speed_m_s=speed, max_flow_t_h=max_flow, expected_increment_mass_kg=expected_mass, seed=int(seed),
        offsets=offsets, sublot_of=sublot_of, warnings=tuple(warnings),
    )
