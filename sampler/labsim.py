"""Simulated lab results: the assay of each sample from the material its increments really cut.

For a simulated lot the cargo truth (:class:`conveyor.cargo.CargoModel`) says, at every tonnage mark, which
mass fraction is waste and of which material. A sample's assay is the mass-weighted mix, over its collected
increments, of an ore composition and the waste family's composition at the cut's true waste fraction, both
drawn from the published-composition table (sampler/labtable.py), plus the analytical error of XRF
(relative 1 %, with a floor). XRD reports a phase of the waste at >= 2 % of the sample (trace), >= 10 %
(minor), >= 50 % (major): below 2 % XRD does not see it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from conveyor.cargo import CargoModel
from sampler.lab import LabResult, Phase
from sampler.labtable import CompositionRow

#: Relative analytical error (1 sigma) and its floor in % (XRF of iron ore, ISO 9516-1 scale of repeatability).
REL_ERROR = 0.01
FLOOR_ERROR_PCT = 0.01
XRD_LIMITS = ((0.5, "major"), (0.10, "minor"), (0.02, "trace"))


def family_of_material(material: str) -> str:
    """The by-product family of a simulated waste material name (whatever the spectra package calls it)."""
    m = material.lower()
    for words, fam in ((("bf_slag", "blast", "gbfs"), "bf_slag"), (("scale",), "mill_scale"),
                       (("cinder", "pyrite"), "pyrite_cinder"), (("red_mud", "redmud", "bauxite"), "red_mud"),
                       (("dust", "sludge"), "eaf_dust"), (("copper", "fayal"), "nonferrous_slag"),
                       (("slag", "bof", "eaf", "scrap"), "steel_slag")):
        if any(w in m for w in words):
            return fam
    return "steel_slag"


@dataclass(frozen=True)
class SampleTruth:
    """What a simulated sample really holds: waste mass fraction by family (mass-weighted over increments)."""

    sample_id: str
    waste_fraction: float
    by_family: Mapping[str, float]


def sample_truth(samples: Sequence[Mapping[str, Any]], increments: Sequence[Mapping[str, Any]], cargo: CargoModel,
                 lot_start_mark_t: float) -> dict[str, SampleTruth]:
    """True waste fraction of each sample from its collected increments' marks (absolute t) and masses."""
    by_sample: dict[str, list[tuple[float, float]]] = {}
    for inc in increments:
        sid = str(inc.get("sample_id") or "")
        if not sid or inc.get("status") not in ("cut", "late"):
            continue
        mass = float(inc.get("mass_kg") or 0.0)
        by_sample.setdefault(sid, []).append((float(inc["mark_t"]) - lot_start_mark_t, mass if mass > 0 else 1.0))
    out: dict[str, SampleTruth] = {}
    for s in samples:
        sid = str(s["sample_id"])
        cuts = by_sample.get(sid, [])
        if not cuts:
            out[sid] = SampleTruth(sid, 0.0, {})
            continue
        marks = np.array([c[0] for c in cuts])
        w = np.array([c[1] for c in cuts])
        w = w / w.sum()
        fams: dict[str, float] = {}
        for key, frac in cargo.fraction_at(marks).items():
            category, _, material = key.partition(":")
            if category != "waste":
                continue
            fam = family_of_material(material)
            fams[fam] = fams.get(fam, 0.0) + float(np.dot(w, frac))
        out[sid] = SampleTruth(sid, float(sum(fams.values())), fams)
    return out


def simulate_assays(truth: Mapping[str, SampleTruth], table: Sequence[CompositionRow], rng: np.random.Generator,
                    *, ore_row: str | None = None) -> list[LabResult]:
    """A lab result per sample: ore (one table row for the lot, ``ore_row`` or drawn) mixed with each family's
    composition (a row of that family, drawn per sample) at the sample's true fractions, plus analytical error."""
    ores = [r for r in table if r.family == "ore"]
    ore = next((r for r in ores if r.meta["row_id"] == ore_row), None) if ore_row else ores[int(rng.integers(len(ores)))]
    if ore is None:
        raise ValueError(f"no ore row {ore_row!r} in the table; have {[r.meta['row_id'] for r in ores]}")
    results = []
    for sid, t in truth.items():
        mix = {k: (1.0 - t.waste_fraction) * v for k, v in ore.result.assays_pct.items()}
        phases = {p.name: p for p in ore.result.phases}
        for fam, frac in t.by_family.items():
            rows = [r for r in table if r.family == fam]
            if not rows or frac <= 0:
                continue
            row = rows[int(rng.integers(len(rows)))]
            for k, v in row.result.assays_pct.items():
                mix[k] = mix.get(k, 0.0) + frac * v
            qual = next((q for lim, q in XRD_LIMITS if frac >= lim), "")
            if qual:
                for p in row.result.phases:
                    phases.setdefault(p.name, Phase(p.name, qual))
        noisy = {}
        for k, v in mix.items():
            sd = max(FLOOR_ERROR_PCT, REL_ERROR * abs(v))
            x = v + float(rng.normal(0.0, sd))
            noisy[k] = round(x if k == "loi" else max(0.0, x), 4)
        if "feo" in noisy and "tfe" in noisy:  # keep the iron balance physical after the noise
            noisy["feo"] = min(noisy["feo"], noisy["tfe"] * 1.2865)
        results.append(LabResult(sid, noisy, tuple(phases.values()),
                                 findings=f"simulated assay (true waste {100 * t.waste_fraction:.1f} %)"))
    return results


def assay_error_pct(value_pct: float) -> float:
    """1-sigma analytical error of a simulated assay (%)."""
    return max(FLOOR_ERROR_PCT, REL_ERROR * abs(value_pct)) if math.isfinite(value_pct) else math.nan
