"""The mixing and grain-size physics checked against real measurements (``oreline spectra evaluate``).

* **Measured intimate mixtures** (class ``mixture`` of ``usgs_splib07a_more``, fractions as named by USGS):
  each is predicted from library spectra of its components with the simulator's Hapke model
  (:func:`spectra.hapke.intimate_mixture`: cross-section = mass / (density × grain size), mixed in
  single-scattering albedo) and, for comparison, by linear mixing of reflectance. The component samples of the
  USGS mixtures are not in the library; the closest library samples of the same minerals (lowest prediction
  error among all samples of each mineral) stand in and are named. Each mixture is also unmixed (NNLS in albedo
  on those components, cross-sections converted back to mass) to compare recovered and stated fractions.
* **The chlorite–epidote–calcite series** (GDS310–319, ten mixtures of the same three samples) has no epidote in
  the library; it checks the mixing law itself: the three end-member albedos are fitted on nine mixtures and
  the tenth is predicted (leave one out), in albedo (Hapke) and in reflectance (areal).
* **Grain size**: each fraction of the hematite GDS69 series (150–250 µm … < 10 µm) is predicted from every
  other with :func:`spectra.hapke.scale_grain_size`, for the slab exponent (1) and the model's exponent.

All errors are RMS reflectance over the grid's channels.
"""

from __future__ import annotations

import itertools
from pathlib import Path
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import nnls

from spectra.constants import REFLECTANCE_FLOOR
from spectra.errors import GridError, LibraryError
from spectra.grid import InstrumentGrid
from conveyor.cargo import CargoModel
from spectra.hapke import (GRAIN_PATH_EXPONENT, band_depth, cross_section_fractions, intimate_mixture, mass_fractions,
                           reff_from_ssa, scale_grain_size, ssa_from_reff, water_absorption_per_cm, water_path_cm, wet)
from spectra.library import LibraryEntry, SpectralLibrary
from spectra.materials import density_g_cm3
from spectra.scene import CargoScene, grain_um_of
from spectra.watercheck import check_water_bands, water_markdown

#: Density of the mixture components (g/cm³) by mineral name as written in the USGS mixture names.
_COMPONENT_KEYS = {"hematite": ("hematite",), "goethite": ("goethite",), "quartz": ("quartz",),
                   "calcite": ("calcite",), "kaolinite": ("kaolinite",), "chlorite": ("chlorite", "clinochlore"),
                   "epidote": ("epidote",)}
_MAX_COMBOS = 400


@dataclass(frozen=True)
class MixtureCheck:
    """One measured mixture against its prediction (see module docstring)."""

    name: str
    stated: dict[str, float]
    components: dict[str, str]
    rms_hapke: float
    rms_areal: float
    recovered: dict[str, float]
    mean_reflectance: float


@dataclass(frozen=True)
class SeriesCheck:
    name: str
    rms_hapke: float
    rms_areal: float


@dataclass(frozen=True)
class GrainCheck:
    exponent: float
    mean_rms: float
    max_rms: float
    unchanged_rms: float  # predicting each fraction by the other one unchanged


def stated_fractions(material: str) -> dict[str, float]:
    """Mineral → stated fraction from a USGS mixture description ('chlorite 0.2 + epidote 0.6 + calcite 0.2')."""
    out = {}
    for part in material.split("+"):
        m = re.match(r"\s*([a-z]+)\b.*?(\d*\.\d+)", part.strip().lower())
        if m is None:
            raise LibraryError(f"cannot read a mineral and fraction from {part!r} of {material!r}")
        out[m.group(1)] = float(m.group(2))
    return out


def _resampled(entries: list[LibraryEntry], grid: InstrumentGrid) -> tuple[list[LibraryEntry], np.ndarray]:
    keep, rows = [], []
    for e in entries:
        try:
            rows.append(e.spectrum.resample(grid))
        except GridError:
            continue
        keep.append(e)
    return keep, (np.vstack(rows) if rows else np.zeros((0, grid.n_channels)))


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.nanmean((a - b) ** 2)))


def candidates(library: SpectralLibrary, mineral: str) -> list[LibraryEntry]:
    """Library ore/gangue samples of ``mineral`` (never a mixture)."""
    keys = _COMPONENT_KEYS.get(mineral, (mineral,))
    return [e for e in library.entries if e.klass in ("ore", "gangue") and any(k in e.material.lower() for k in keys)]


def check_mixtures(library: SpectralLibrary, grid: InstrumentGrid, grain_um: float | None = None) -> list[MixtureCheck]:
    """:class:`MixtureCheck` for every measured mixture whose components all have library samples. Grain sizes:
    the simulator's (:func:`spectra.scene.grain_um_of`: ore minerals finer than gangue), or ``grain_um`` for all."""
    out = []
    for mix in (e for e in library.entries if e.klass == "mixture"):
        stated = stated_fractions(mix.material)
        pools = []
        for mineral in stated:
            pool, refl = _resampled(candidates(library, mineral), grid)
            pools.append(list(zip(pool, refl)))
        if any(not p for p in pools):
            continue
        try:
            measured = mix.spectrum.resample(grid)
        except GridError:  # a measured mixture that does not cover the grid (e.g. from 513 nm on a 400 nm grid)
            continue
        mass = np.array(list(stated.values()))
        mass = mass / mass.sum()
        best: tuple[float, tuple[Any, ...], np.ndarray, np.ndarray, np.ndarray, float] | None = None
        combos = itertools.islice(itertools.product(*pools), _MAX_COMBOS)
        for combo in combos:
            r = np.vstack([c[1] for c in combo])
            rho = np.array([density_g_cm3(c[0].material) for c in combo])
            d = np.array([grain_um_of(c[0]) if grain_um is None else grain_um for c in combo])
            w = ssa_from_reff(np.clip(r, REFLECTANCE_FLOOR, None))
            pred = reff_from_ssa(intimate_mixture(mass, w, rho, d))
            err = _rms(pred, measured)
            if best is None or err < best[0]:
                best = (err, combo, w, rho, d, _rms(mass @ r, measured))
        if best is None:  # no combination (never: every pool holds a sample)
            continue
        err, combo, w, rho, d, err_areal = best
        # unmixing: NNLS in albedo with a sum-to-one row, cross-sections → mass at equal grain size
        a = np.vstack([w.T, 10.0 * np.ones(len(combo))])
        b = np.concatenate([ssa_from_reff(np.clip(measured, REFLECTANCE_FLOOR, None)), [10.0]])
        xs, _ = nnls(a, b)
        rec = mass_fractions(xs, rho, d)
        out.append(MixtureCheck(mix.usgs_name, dict(zip(stated, mass.round(3).tolist())),
                                {m: c[0].usgs_name for m, c in zip(stated, combo)}, err, err_areal,
                                dict(zip(stated, rec.round(3).tolist())), float(np.nanmean(measured))))
    return out


def check_series(library: SpectralLibrary, grid: InstrumentGrid,
                 minerals: tuple[str, ...] = ("chlorite", "epidote", "calcite")) -> list[SeriesCheck]:
    """Leave-one-out prediction within the measured mixtures made only of ``minerals`` (end-members fitted)."""
    mixes = [e for e in library.entries if e.klass == "mixture" and set(stated_fractions(e.material)) <= set(minerals)
             and len(stated_fractions(e.material)) >= 2]
    mixes, refl = _resampled(mixes, grid)
    if len(mixes) < len(minerals) + 1:
        return []
    mass = np.array([[stated_fractions(e.material).get(m, 0.0) for m in minerals] for e in mixes])
    mass /= mass.sum(axis=1, keepdims=True)
    rho = np.array([density_g_cm3(m) for m in minerals])
    xs = cross_section_fractions(mass, rho, np.ones(len(minerals)))
    w = ssa_from_reff(np.clip(refl, REFLECTANCE_FLOOR, None))
    out = []
    for k in range(len(mixes)):
        tr = np.arange(len(mixes)) != k
        em_w = np.clip(np.linalg.lstsq(xs[tr], w[tr], rcond=None)[0], 0.0, 1.0)
        em_r = np.clip(np.linalg.lstsq(mass[tr], refl[tr], rcond=None)[0], 0.0, 1.0)
        out.append(SeriesCheck(mixes[k].usgs_name, _rms(reff_from_ssa(xs[k] @ em_w), refl[k]),
                               _rms(mass[k] @ em_r, refl[k])))
    return out


def grain_series(library: SpectralLibrary, grid: InstrumentGrid, prefix: str = "Hematite GDS69") -> tuple[
        list[str], np.ndarray, np.ndarray]:
    """Names and mean sieve sizes (µm) of a grain-size series, plus its reflectance on ``grid``."""
    entries = [e for e in library.entries if e.usgs_name.startswith(prefix)]
    sizes = []
    for e in entries:
        m = re.search(r"(\d+)-(\d+)u", e.usgs_name)
        lt = re.search(r"lt(\d+)um|<(\d+)", e.usgs_name)
        if m:
            sizes.append(0.5 * (float(m.group(1)) + float(m.group(2))))
        elif lt:
            sizes.append(0.5 * float(lt.group(1) or lt.group(2)))
        else:
            raise LibraryError(f"no sieve size in {e.usgs_name!r}")
    entries, refl = _resampled(entries, grid)
    return [e.usgs_name for e in entries], np.array(sizes), refl


def check_grain(library: SpectralLibrary, grid: InstrumentGrid,
                exponents: tuple[float, ...] = (1.0, GRAIN_PATH_EXPONENT)) -> list[GrainCheck]:
    """Every fraction of the hematite GDS69 series predicted from every other (all ordered pairs)."""
    _, sizes, refl = grain_series(library, grid)
    if sizes.size < 2:
        return []
    w = ssa_from_reff(np.clip(refl, REFLECTANCE_FLOOR, None))
    pairs = [(i, j) for i in range(sizes.size) for j in range(sizes.size) if i != j]
    unchanged = float(np.mean([_rms(refl[i], refl[j]) for i, j in pairs]))
    out = []
    for beta in exponents:
        errs = [_rms(reff_from_ssa(scale_grain_size(w[i], sizes[j] / sizes[i], exponent=beta)), refl[j])
                for i, j in pairs]
        out.append(GrainCheck(beta, float(np.mean(errs)), float(np.max(errs)), unchanged))
    return out


def markdown(mixtures: list[MixtureCheck], series: list[SeriesCheck], grain: list[GrainCheck]) -> list[str]:
    """Report lines for the three checks."""
    lines = ["| measured mixture | stated | recovered (unmixed) | closest library components | RMS Hapke | "
             "RMS areal |", "|---|---|---|---|---|---|"]
    fmt = lambda d: " + ".join(f"{k} {v:.2f}" for k, v in d.items())  # noqa: E731
    for m in mixtures:
        lines.append(f"| {m.name} | {fmt(m.stated)} | {fmt(m.recovered)} | {', '.join(m.components.values())} | "
                     f"{m.rms_hapke:.3f} | {m.rms_areal:.3f} |")
    if series:
        lines += ["", "Chlorite–epidote–calcite series, leave one out (end-members fitted on the other mixtures):", "",
                  "| mixture | RMS Hapke (albedo) | RMS areal (reflectance) |", "|---|---|---|"]
        lines += [f"| {s.name} | {s.rms_hapke:.4f} | {s.rms_areal:.4f} |" for s in series]
        lines.append(f"| **mean** | **{np.mean([s.rms_hapke for s in series]):.4f}** | "
                     f"**{np.mean([s.rms_areal for s in series]):.4f}** |")
    if grain:
        lines += ["", "Grain size, hematite GDS69 (7 sieve fractions, every fraction predicted from every other):", "",
                  "| path exponent β | mean RMS | max RMS | no change (RMS between fractions) |", "|---|---|---|---|"]
        lines += [f"| {g.exponent:g} | {g.mean_rms:.3f} | {g.max_rms:.3f} | {g.unchanged_rms:.3f} |" for g in grain]
    return lines


# --- moisture -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MoistureCheck:
    """Band depth at 1450 nm (continuum 1300–1650 nm) of the demo lot and of the real wet/dry sludge pair."""

    demo_product: str
    demo_moisture: float
    demo_band_depth: float
    model_band_depth_per_pct: float  # slope over 6–10 % moisture on the demo blend
    model_band_depth_at: dict[str, float]  # moisture → band depth of the demo blend (clean Hapke render)
    alpha_water_1450_per_cm: float
    path_um_at_8pct: float
    wet_sludge_band_depth: float
    dry_sludge_band_depth: float
    sludge_moisture_reproducing_wet: float  # model applied to the dry sludge: moisture giving the wet band depth
    wavelength_nm: list[float]
    demo_mean: list[float]


def check_moisture(library: SpectralLibrary, grid: InstrumentGrid, product: str = "iron ore fines",
                   n_spectra: int = 300, seed: int = 0) -> MoistureCheck:
    """The demo lot's mean spectrum (the line's scene for ``product``: :class:`spectra.scene.CargoScene`)
    against the moisture model's band depth and the measured wet/dry tunnel sludge SM93-15(w)."""
    rlib = library.resample(grid, skip_uncovered=True)
    scene = CargoScene(grid, CargoModel(product, []), seed=seed, library=rlib)
    refl = np.vstack([scene.reflectance(i, i + 1.0) for i in range(n_spectra)])
    wl = grid.wavelength_nm
    mean = refl.mean(axis=0)
    _, _, moist = scene.segment_material(0.0)
    alpha = water_absorption_per_cm(wl)
    levels = (0.0, 0.02, 0.06, 0.08, 0.10)
    bd = {f"{m:.2f}": float(band_depth(scene.sim.render(scene.lot.blend[None, :], None, conditions=False,
                                                        moisture_frac=m)[0], wl)) for m in levels}
    names = [e.usgs_name for e in rlib.entries]
    try:
        dry = rlib.reflectance[names.index("Renyolds Tnl Sludge SM93-15")]
        wet_r = rlib.reflectance[names.index("Renyolds TnlSldgWet SM93-15w")]
    except ValueError as exc:
        raise LibraryError("the moisture check needs the wet/dry tunnel sludge SM93-15(w)") from exc
    target = float(band_depth(wet_r, wl))
    w_dry = ssa_from_reff(np.clip(dry, REFLECTANCE_FLOOR, None))
    grid_m = np.linspace(0.0, 0.6, 121)
    bds = band_depth(reff_from_ssa(wet(np.repeat(w_dry[None, :], grid_m.size, 0), grid_m, alpha)), wl)
    m_sludge = float(grid_m[np.argmin(np.abs(bds - target))])
    return MoistureCheck(product, float(moist), float(band_depth(mean, wl)),
                         (bd["0.10"] - bd["0.06"]) / 4.0, bd, float(np.interp(1450.0, wl, alpha)),
                         float(water_path_cm(0.08) * 1e4), target, float(band_depth(dry, wl)), m_sludge,
                         wl.tolist(), mean.tolist())


def moisture_markdown(m: MoistureCheck) -> list[str]:
    return [f"Demo lot ('{m.demo_product}', {100 * m.demo_moisture:.1f} % moisture): band depth at 1450 nm "
            f"{m.demo_band_depth:.3f}; measured wet tunnel sludge SM93-15w {m.wet_sludge_band_depth:.3f}, dry "
            f"SM93-15 {m.dry_sludge_band_depth:.3f}.", "",
            f"Model: liquid-water absorption {m.alpha_water_1450_per_cm:.0f} cm⁻¹ at 1450 nm (optical constants of "
            f"Segelstein 1981, continuing Hale & Querry 1973) and the wet surface of Lekner & Dorf 1988; water "
            f"path per grain = pore-water volume per solid volume × grain size ({m.path_um_at_8pct:.0f} µm at 8 % on "
            "150 µm ore fines). On the demo blend: band depth "
            + ", ".join(f"{100 * float(k):.0f} % → {v:.3f}" for k, v in m.model_band_depth_at.items())
            + f" ({m.model_band_depth_per_pct:.3f} per % moisture over 6–10 %).", "",
            f"The same model applied to the dry sludge reproduces the wet sludge's band depth at "
            f"{100 * m.sludge_moisture_reproducing_wet:.0f} % water (a saturated sludge: mud).", ""]


def plot_moisture(m: MoistureCheck, library: SpectralLibrary, grid: InstrumentGrid, path) -> None:
    """PNG: the demo lot's mean spectrum beside USGS ore spectra and the wet/dry sludge pair."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    wl = np.asarray(m.wavelength_nm)
    for name, style in (("Hematite GDS27", "-"), ("Goethite WS220", "-"), ("Magnetite HS195.2B", "-"),
                        ("Hematite GDS69.a 150-250u", "-"), ("Renyolds Tnl Sludge SM93-15", "--"),
                        ("Renyolds TnlSldgWet SM93-15w", "--")):
        e = next((e for e in library.entries if e.usgs_name == name), None)
        if e is not None:
            ax.plot(wl, e.spectrum.resample(grid), style, lw=1, label=f"USGS {name}")
    ax.plot(wl, m.demo_mean, "k-", lw=2.5,
            label=f"demo lot mean ({100 * m.demo_moisture:.1f} % water; BD1450 {m.demo_band_depth:.2f})")
    ax.set_xlabel("wavelength, nm")
    ax.set_ylabel("reflectance")
    ax.set_title("Demo lot vs USGS ore and the wet/dry sludge pair")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- the whole check, as ``oreline spectra evaluate`` prints it -------------------------------------------------
def physics_report(library: SpectralLibrary, grid: InstrumentGrid, out_dir=None) -> dict:
    """All checks of this module on ``grid`` (JSON-ready); with ``out_dir`` also ``moisture.png`` there."""
    mixtures = check_mixtures(library, grid)
    series = check_series(library, grid)
    grain = check_grain(library, grid)
    moisture = check_moisture(library, grid)
    water = check_water_bands(library)
    rep = {"water_bands": water.__dict__, "grid": grid.name, "mixtures": [m.__dict__ for m in mixtures], "series": [s.__dict__ for s in series],
           "grain": [g.__dict__ for g in grain], "moisture": {k: v for k, v in moisture.__dict__.items()
                                                              if k not in ("wavelength_nm", "demo_mean")}}
    rep["_markdown"] = (["## Physics of the simulator checked against real measurements", "",
                         f"Grid {grid.name}. Measured USGS intimate mixtures predicted from library spectra of their "
                         "components (the closest samples of the same minerals, named) with the simulator's Hapke "
                         "model, and unmixed:", ""]
                        + markdown(mixtures, series, grain) + ["", "### Moisture", ""] + moisture_markdown(moisture)
                        + ["", "### Water bands over the full range", ""] + water_markdown(water))
    if out_dir is not None:
        plot_moisture(moisture, library, grid, Path(out_dir) / "moisture.png")
        rep["plot"] = str(Path(out_dir) / "moisture.png")
    return rep
