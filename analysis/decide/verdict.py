"""The lot verdict, formed while unloading continues: a sequential probability ratio test on segments.

Each decided segment is a Bernoulli observation "flagged waste-suspect or not".
Under H0 (genuine ore) a segment is flagged with the NIR model's per-segment
false-alarm rate ``p0``; under H1 (the lot carries at least the declared waste
admixture, e.g. 5 % by mass) with the model's per-segment sensitivity ``p1``.
Wald's SPRT with error rates ``alpha`` (declaring waste for genuine ore) and
``beta`` (missing waste) crosses the upper boundary log((1-β)/α) at the earliest
tonnage at which a *waste* verdict is safe. The statistic is kept as a CUSUM
(floored at 0), so a clean start cannot bank credit that hides waste in a later
part of the hold. An *ore* verdict is only given at lot end, and only when the
uninspected share of the lot is at most ``max_uninspected_fraction``: a lot that
was not seen is inconclusive, never clean. Nor is a lot whose NIR flags are more
than genuine ore gives (above the 1 − α quantile of Binomial(scored segments, p0))
but too sparse for the SPRT — waste the NIR sees only in part of its segments
(e.g. slag or mill scale that an ore blend nearly mimics, docs/spectra.md): it
ends inconclusive, its flagged segments having requested targeted increments. Contamination is decided by
foreign-object evidence: ``contaminated_segments_min`` contaminated segments make
the lot contaminated.

All thresholds are configuration (``[verdict]`` in the site file), not code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from conveyor.config import Field
from analysis.errors import VerdictConfigError
from analysis.model import SEGMENT_CLASSES, LotVerdict, SegmentDecision

VERDICT_FIELDS: dict[str, Field] = {
    "alpha": Field(float, 0.001, min=0.0, min_exclusive=True, max=0.5, doc="Risk of declaring a genuine ore lot waste."),
    "beta": Field(float, 0.01, min=0.0, min_exclusive=True, max=0.5, doc="Risk of missing a waste lot."),
    "segment_false_alarm_rate": Field(float, 0.01, min=0.0, min_exclusive=True, max=0.5,
                                      doc="p0: probability a genuine-ore segment is flagged (NIR model calibration)."),
    "segment_sensitivity": Field(float, 0.6, min=0.05, max=1.0,
                                 doc="p1: probability a segment with the declared admixture is flagged "
                                     "(NIR benchmark on held-out lots: 0.53-0.64 at 5 % waste)."),
    "declared_waste_fraction": Field(float, 0.05, min=0.0, min_exclusive=True, max=1.0,
                                     doc="Smallest waste admixture (mass fraction) the test is designed to catch."),
    "max_uninspected_fraction": Field(float, 0.05, min=0.0, max=1.0,
                                      doc="Largest uninspected share of a lot that still allows an ore verdict."),
    "contaminated_segments_min": Field(int, 1, min=1, doc="Contaminated segments that make the lot contaminated."),
    "min_coverage": Field(float, 0.8, min=0.0, max=1.0,
                          doc="Share of a segment a station must inspect for its evidence to count."),
    "nir_waste_threshold": Field(float, 0.0, min=0.0,
                                 doc="Override of the NIR model's calibrated segment threshold (0: use the model's)."),
    "min_object_length_mm": Field(float, 50.0, min=0.0, doc="Smallest foreign object that contaminates a segment."),
    "min_object_probability": Field(float, 0.5, min=0.0, max=1.0, doc="Smallest detection probability that counts."),
    "product_fingerprints": Field(str, "", doc="Folder of product fingerprints (`oreline fleet fingerprint`). A lot "
                                  "whose first segments do not match its declared product's earlier genuine lots "
                                  "raises an alarm and cannot get an ore verdict (it needs an assay). Empty: no check."),
}


@dataclass
class SequentialVerdict:
    """Wald SPRT (as a CUSUM) on segment flags; feed decided segments in order with :meth:`update`."""

    lot_id: str
    alpha: float = 0.001
    beta: float = 0.01
    p0: float = 0.01
    p1: float = 0.6
    max_uninspected_fraction: float = 0.05
    contaminated_segments_min: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.p0 < self.p1 < 1:
            raise VerdictConfigError(
                f"need 0 < segment_false_alarm_rate < segment_sensitivity < 1, got p0={self.p0}, p1={self.p1}"
            )
        if not (0 < self.alpha < 0.5 and 0 < self.beta < 0.5):
            raise VerdictConfigError(f"alpha and beta must be in (0, 0.5), got {self.alpha}, {self.beta}")
        self.upper = math.log((1 - self.beta) / self.alpha)
        self.llr_flag = math.log(self.p1 / self.p0)
        self.llr_clear = math.log((1 - self.p1) / (1 - self.p0))
        self.cusum = 0.0
        self.counts = {c: 0 for c in SEGMENT_CLASSES}
        self.tonnage_by_class = {c: 0.0 for c in SEGMENT_CLASSES}
        self.tonnage_t = 0.0
        self.decided: LotVerdict | None = None
        self.ore_holds: list[str] = []

    @classmethod
    def from_config(cls, lot_id: str, section: dict) -> "SequentialVerdict":
        return cls(
            lot_id,
            alpha=section["alpha"],
            beta=section["beta"],
            p0=section["segment_false_alarm_rate"],
            p1=section["segment_sensitivity"],
            max_uninspected_fraction=section["max_uninspected_fraction"],
            contaminated_segments_min=section["contaminated_segments_min"],
        )

    @property
    def segments_needed_for_waste(self) -> int:
        """Flagged segments in a row that cross the upper boundary from zero."""
        return math.ceil(self.upper / self.llr_flag)

    def hold_ore(self, reason: str) -> None:
        """Lot-level evidence against an ore verdict (e.g. not like its product): the lot can end waste or
        contaminated as before, but instead of ore it ends inconclusive, with ``reason``."""
        self.ore_holds.append(reason)

    def update(self, segment: SegmentDecision) -> LotVerdict:
        """Add one decided segment; return the verdict so far."""
        cls_ = segment.segment_class
        self.counts[cls_] += 1
        mass = segment.end_t - segment.start_t
        self.tonnage_by_class[cls_] += mass
        self.tonnage_t = max(self.tonnage_t, segment.end_t)
        if cls_ == "waste-suspect":
            self.cusum = max(0.0, self.cusum + self.llr_flag)
        elif cls_ in ("ore", "contaminated"):
            self.cusum = max(0.0, self.cusum + self.llr_clear)
        # uninspected segments carry no evidence either way
        if self.decided is None:
            if self.cusum >= self.upper:
                self.decided = self._verdict("waste", 1 - self.alpha, final=False, decided_at=self.tonnage_t,
                                             reasons=(f"SPRT crossed log((1-β)/α) = {self.upper:.2f}",))
            elif self.counts["contaminated"] >= self.contaminated_segments_min:
                self.decided = self._verdict(
                    "contaminated", 1 - self.alpha, final=False, decided_at=self.tonnage_t,
                    reasons=(f"{self.counts['contaminated']} contaminated segment(s)",),
                )
        if self.decided is not None:
            return self._verdict(self.decided.verdict, self.decided.confidence, final=False,
                                 decided_at=self.decided.decided_at_t, reasons=self.decided.reasons)
        return self._verdict("pending", self._posterior_h0(), final=False, decided_at=math.nan,
                             reasons=("no boundary crossed yet",))

    def finish(self, lot_mass_t: float | None = None) -> LotVerdict:
        """The final verdict at lot end."""
        total = max(lot_mass_t or 0.0, self.tonnage_t)
        uninspected = self.tonnage_by_class["uninspected"] / total if total > 0 else 1.0
        if self.decided is not None:
            return self._verdict(self.decided.verdict, self.decided.confidence, final=True,
                                 decided_at=self.decided.decided_at_t, reasons=self.decided.reasons,
                                 uninspected=uninspected)
        if uninspected > self.max_uninspected_fraction:
            return self._verdict(
                "inconclusive", 0.0, final=True, decided_at=math.nan, uninspected=uninspected,
                reasons=(f"{uninspected:.1%} of the lot uninspected (> {self.max_uninspected_fraction:.0%})",),
            )
        holds = list(self.ore_holds)
        flags, limit, scored = self.excess_flags()
        if flags > limit:
            holds.append(f"{flags} NIR waste-suspect segments of {scored} scored, more than genuine ore gives "
                         f"(limit {limit} at p0 = {self.p0:g}): partly seen waste, assay the targeted increments")
        if holds:
            return self._verdict("inconclusive", 0.0, final=True, decided_at=math.nan, uninspected=uninspected,
                                 reasons=("no waste boundary crossed, but: " + "; ".join(holds),))
        return self._verdict(
            "ore", 1 - self.beta, final=True, decided_at=self.tonnage_t, uninspected=uninspected,
            reasons=("SPRT never crossed the waste boundary", f"{uninspected:.1%} uninspected"),
        )

    def excess_flags(self) -> tuple[int, int, int]:
        """(waste-suspect segments, the most genuine ore gives with probability 1 − α, scored segments)."""
        from scipy.stats import binom  # here, not at the top: scipy.stats costs ~0.7 s of every command's start-up

        scored = self.counts["waste-suspect"] + self.counts["ore"] + self.counts["contaminated"]
        limit = int(binom.ppf(1.0 - self.alpha, scored, self.p0)) if scored else 0
        return self.counts["waste-suspect"], limit, scored

    def _posterior_h0(self) -> float:
        """P(genuine ore | evidence) with even prior odds, from the current statistic."""
        return 1.0 / (1.0 + math.exp(min(self.cusum, 700.0)))

    def _verdict(self, verdict: str, confidence: float, *, final: bool, decided_at: float,
                 reasons: tuple[str, ...], uninspected: float | None = None) -> LotVerdict:
        total = self.tonnage_t
        if uninspected is None:
            uninspected = self.tonnage_by_class["uninspected"] / total if total > 0 else 0.0
        return LotVerdict(
            lot_id=self.lot_id, verdict=verdict, confidence=confidence, final=final, tonnage_t=self.tonnage_t,
            decided_at_t=decided_at, log_likelihood_ratio=self.cusum, segments_total=sum(self.counts.values()),
            segments_by_class=dict(self.counts), uninspected_fraction=uninspected, alpha=self.alpha, beta=self.beta,
            reasons=reasons,
        )
