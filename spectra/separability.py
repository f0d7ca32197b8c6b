"""How far each waste (or contaminant) spectrum of a library is from anything an ore blend can look like.

A small admixture is visible to the NIR only through the part of its spectrum that no change of the ore blend
can reproduce. For each library entry of class ``waste`` this module fits the entry's single-scattering albedo
by a non-negative combination of the ore and gangue entries (NNLS, no sum constraint: brightness is not
informative on a belt, where illumination, distance and grain size change it) and reports:

* ``residual_rel`` — ‖w − W_ore a‖ / ‖w‖: the share of the waste spectrum no ore blend explains;
* ``cross_section_at_5pct`` — the geometric cross-section a 5 % mass admixture of it occupies in the bulk
  (Hapke: mass / (density × grain size), the line's bulk of 4.6 g/cm³ at 150 µm);
* ``distinct_signal_at_5pct`` — their product: the share of a segment's albedo that is evidence of waste
  rather than of a different blend. Compare it with the segment-to-segment variation of a lot's blend
  (σ 10 % of each fraction in :mod:`spectra.lots`).
* ``nearest`` — the three ore/gangue entries with the largest weights in that fit.

This is a property of the library and the grid, not of a model: ``oreline spectra evaluate`` prints it next to
the detection figures so that a low sensitivity for a material can be traced to physics (docs/spectra.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import nnls

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import LibraryError
from spectra.hapke import intimate_mixture, scale_grain_size, ssa_from_reff
from spectra.library import ResampledLibrary
from spectra.materials import density_g_cm3
from spectra.scene import grain_um_of

BULK_DENSITY_G_CM3 = 4.6
BULK_GRAIN_UM = 150.0


@dataclass(frozen=True)
class Separability:
    """One library entry against the ore/gangue entries (see module docstring)."""

    name: str
    klass: str
    residual_rel: float
    cross_section_at_5pct: float
    distinct_signal_at_5pct: float
    nearest: tuple[str, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def cross_section_share(mass_frac: float, density: float, grain_um: float) -> float:
    """Cross-section fraction of ``mass_frac`` of a material (density g/cm³, grain µm) in the line's bulk ore."""
    a = mass_frac / (density * grain_um)
    b = (1.0 - mass_frac) / (BULK_DENSITY_G_CM3 * BULK_GRAIN_UM)
    return float(a / (a + b))


def separability(library: ResampledLibrary, klass: str = "waste", *,
                 groups: set[str] | None = None) -> list[Separability]:
    """:class:`Separability` of every ``klass`` entry (optionally only those in sample ``groups``), worst first.

    Raises :class:`LibraryError` when the library has no ore/gangue entries or no ``klass`` entry.
    """
    ore = library.indices(classes=("ore", "gangue"))
    targets = [i for i in library.indices(classes=(klass,))
               if groups is None or library.entries[i].group in groups]
    if ore.size == 0 or not targets:
        raise LibraryError(f"separability needs ore/gangue entries and {klass} entries; got {ore.size} and "
                           f"{len(targets)}")
    ssa = ssa_from_reff(np.clip(library.reflectance, REFLECTANCE_FLOOR, None))
    basis = ssa[ore].T
    out = []
    for i in targets:
        e = library.entries[i]
        w = ssa[i]
        coef, res = nnls(basis, w, maxiter=50 * basis.shape[1])
        rel = float(res / max(np.linalg.norm(w), 1e-12))
        xs = cross_section_share(0.05, density_g_cm3(e.material), grain_um_of(e))
        top = np.argsort(-coef)[:3]
        out.append(Separability(e.usgs_name, e.klass, rel, xs, rel * xs,
                                tuple(library.entries[ore[j]].usgs_name for j in top if coef[j] > 0)))
    return sorted(out, key=lambda s: s.distinct_signal_at_5pct)


def markdown(rows: list[Separability]) -> list[str]:
    """Markdown table lines for :func:`separability` rows."""
    lines = ["| material | residual after best ore blend | cross-section at 5 % mass | distinct signal | "
             "nearest ore/gangue |", "|---|---|---|---|---|"]
    for s in rows:
        lines.append(f"| {s.name} | {100 * s.residual_rel:.1f} % | {100 * s.cross_section_at_5pct:.1f} % | "
                     f"{100 * s.distinct_signal_at_5pct:.2f} % | {', '.join(s.nearest)} |")
    return lines


@dataclass(frozen=True)
class LotSeparability:
    """A waste entry admixed to lots' own blends: the share of the admixed albedo that no non-negative re-blend of
    the lot's own ore/gangue components (at grain-size factors 0.8, 1, 1.25) reproduces, over many lots."""

    name: str
    mass_frac: float
    median: float
    p10: float
    p90: float
    n_lots: int

    def to_dict(self) -> dict:
        return asdict(self)


def lot_separability(sim, index: int, blends: np.ndarray, mass_frac: float = 0.05,
                     grain_factors: tuple[float, ...] = (0.8, 1.0, 1.25)) -> LotSeparability:
    """:class:`LotSeparability` of library entry ``index`` of ``sim`` (a :class:`spectra.scene.MixtureSimulator`)
    admixed at ``mass_frac`` to each of ``blends`` (mass fractions (k, n_entries), e.g. ``sim.ore_blends``)."""
    mixed = sim.admix(blends, index, mass_frac)
    w = intimate_mixture(mixed, sim.ssa, sim.density, sim.grain_um)
    shares = []
    for b, wm in zip(blends, w):
        comp = np.nonzero(b > 0)[0]
        basis = np.hstack([scale_grain_size(sim.ssa[comp], g).T for g in grain_factors])
        _, res = nnls(basis, wm, maxiter=50 * basis.shape[1])
        shares.append(res / max(np.linalg.norm(wm), 1e-12))
    s = np.array(shares)
    return LotSeparability(sim.library.entries[index].usgs_name, mass_frac, float(np.median(s)),
                           float(np.quantile(s, 0.1)), float(np.quantile(s, 0.9)), s.size)
