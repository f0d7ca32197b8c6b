"""Ground truth of what a simulated lot carries, by tonnage mark.

The conveyor knows nothing of spectra or images: a cargo is the declared product
plus *admixtures* (tonnage intervals where a fraction of the mass is waste or a
contaminant material, named by a generic material key) and *foreign objects*
(discrete items at a tonnage mark). The simulated spectrometer turns admixtures
into spectra, the simulated camera turns objects into pixels, and evaluation
scores detections against this truth.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np

from conveyor.errors import ConfigError

AdmixtureCategory = Literal["waste", "contaminant"]
OBJECT_KINDS = ("wood", "plastic", "rubber", "metal", "cloth", "concrete", "lump")
WASTE_MATERIALS = ("slag", "steel_slag", "bf_slag", "mill_scale", "pyrite_cinder", "eaf_dust", "sludge", "pyrite", "scrap")


@dataclass(frozen=True)
class Admixture:
    """``mass_fraction`` of the material between two marks is ``material`` (a waste or contaminant)."""

    start_mark_t: float
    end_mark_t: float
    category: AdmixtureCategory
    material: str
    mass_fraction: float

    def __post_init__(self) -> None:
        if not self.end_mark_t > self.start_mark_t:
            raise ConfigError("admixture", f"end mark {self.end_mark_t} t must exceed start {self.start_mark_t} t")
        if not 0.0 < self.mass_fraction <= 1.0:
            raise ConfigError("admixture.mass_fraction", f"must be in (0, 1], got {self.mass_fraction}")


@dataclass(frozen=True)
class ForeignObject:
    """A discrete object in the cargo at ``mark_t`` (relative to lot start).

    ``lateral_m`` is the offset of its centre from the belt centre line;
    ``angle_deg`` its orientation in the belt plane.
    """

    mark_t: float
    kind: str
    length_mm: float
    width_mm: float
    lateral_m: float = 0.0
    angle_deg: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in OBJECT_KINDS:
            raise ConfigError("object.kind", f"expected one of {OBJECT_KINDS}, got {self.kind!r}")
        if not (self.length_mm > 0 and self.width_mm > 0):
            raise ConfigError("object.size", f"length and width must be > 0 mm, got {self.length_mm}x{self.width_mm}")


@dataclass
class CargoModel:
    """The truth of a lot: product, admixtures and foreign objects, marks relative to lot start."""

    declared_product: str
    admixtures: list[Admixture] = field(default_factory=list)
    objects: list[ForeignObject] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.admixtures.sort(key=lambda a: a.start_mark_t)
        self.objects.sort(key=lambda o: o.mark_t)
        self._object_marks = [o.mark_t for o in self.objects]

    def admixtures_between(self, start_mark_t: float, end_mark_t: float) -> list[tuple[Admixture, float]]:
        """Admixtures overlapping [start, end) with the overlap in tonnes."""
        out = []
        for adm in self.admixtures:
            overlap = min(end_mark_t, adm.end_mark_t) - max(start_mark_t, adm.start_mark_t)
            if overlap > 0:
                out.append((adm, overlap))
        return out

    def fraction_at(self, marks_t: np.ndarray) -> dict[str, np.ndarray]:
        """Mass fraction of each admixture material at each mark (vectorised over marks)."""
        marks = np.asarray(marks_t, dtype=float)
        out: dict[str, np.ndarray] = {}
        for adm in self.admixtures:
            inside = (marks >= adm.start_mark_t) & (marks < adm.end_mark_t)
            key = f"{adm.category}:{adm.material}"
            out[key] = out.get(key, np.zeros_like(marks)) + inside * adm.mass_fraction
        return out

    def objects_between(self, start_mark_t: float, end_mark_t: float) -> Sequence[ForeignObject]:
        """Objects whose mark lies in [start, end)."""
        lo = bisect.bisect_left(self._object_marks, start_mark_t)
        hi = bisect.bisect_left(self._object_marks, end_mark_t)
        return self.objects[lo:hi]

    @classmethod
    def random(
        cls,
        declared_product: str,
        lot_mass_t: float,
        rng: np.random.Generator,
        *,
        waste_fraction: float = 0.0,
        waste_material: str = "slag",
        waste_start_t: float | None = None,
        waste_extent_t: float | None = None,
        objects_per_1000_t: float = 0.0,
        belt_width_m: float = 1.8,
    ) -> "CargoModel":
        """A random but reproducible cargo.

        ``waste_fraction`` of the mass between ``waste_start_t`` and
        ``waste_start_t + waste_extent_t`` (whole lot by default) is ``waste_material``;
        foreign objects arrive as a Poisson process of rate ``objects_per_1000_t``.
        """
        admixtures = []
        if waste_fraction > 0:
            start = 0.0 if waste_start_t is None else waste_start_t
            extent = lot_mass_t - start if waste_extent_t is None else waste_extent_t
            admixtures.append(Admixture(start, start + extent, "waste", waste_material, waste_fraction))
        n_objects = rng.poisson(objects_per_1000_t * lot_mass_t / 1000.0)
        objects = []
        for mark in np.sort(rng.uniform(0.0, lot_mass_t, n_objects)):
            kind = str(rng.choice(OBJECT_KINDS))
            length = float(rng.uniform(40, 600))
            width = float(rng.uniform(20, min(length, 300)))
            objects.append(
                ForeignObject(
                    mark_t=float(mark),
                    kind=kind,
                    length_mm=length,
                    width_mm=width,
                    lateral_m=float(rng.uniform(-0.3, 0.3) * belt_width_m),
                    angle_deg=float(rng.uniform(0, 180)),
                )
            )
        return cls(declared_product, admixtures, objects)
