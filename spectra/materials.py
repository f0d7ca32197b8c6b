"""Physical properties of library materials, synthetic waste end-members and the maps from cargo keys to spectra.

* :func:`mineral_of` — the unmixing mineral a library entry stands for (hematite, goethite, ...), or None.
* :func:`density_g_cm3` — grain density used to turn mass fractions into cross-sections.
* :data:`SYNTHETIC_WASTE` — **synthetic** phase-based end-members of smelting and rolling by-products (steel
  slag, blast-furnace slag, mill scale, pyrite cinder, EAF dust/sludge), composed by
  :func:`spectra.library.load_library` from real USGS spectra of their phases with the phase proportions of the
  published descriptions cited below. No real spectrum of these materials exists in the shared data; every
  name, material and report row of them says ``SYNTHETIC``.
* :data:`WASTE_PROXIES` / :data:`CONTAMINANT_PROXIES` — which library spectra stand for the cargo's waste and
  contaminant material keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from spectra.errors import LibraryError

#: Unmixing minerals and the substrings of a library *material* that belong to each.
MINERALS: dict[str, tuple[str, ...]] = {
    "hematite": ("hematite",),
    "goethite": ("goethite", "limonite", "ferrihydrite"),
    "magnetite": ("magnetite",),
    "siderite": ("siderite",),
    "kaolinite": ("kaolinite",),
    "quartz": ("quartz", "chert"),
    "carbonate": ("calcite", "dolomite"),
    "gibbsite": ("gibbsite",),
    "chlorite": ("chlorite",),
    "mica": ("muscovite", "illite"),
    "talc": ("talc",),
    "jarosite": ("jarosite",),
    "feldspar": ("microcline", "feldspar"),
}

_DENSITY = (  # (substring of material, g/cm³); first match wins
    ("magnetite skarn", 4.2), ("nanohematite", 5.0), ("maghemite", 4.9), ("lepidocrocite", 4.0),
    ("fe-hydroxide", 3.6), ("fayalite", 4.2), ("olivine", 3.8), ("hedenbergite", 3.55), ("diopside", 3.3),
    ("wollastonite", 2.9), ("monticellite", 3.1), ("chromite", 4.8), ("ilmenite", 4.72), ("pyrrhotite", 4.6),
    ("zincite", 5.4), ("kerogen", 1.2), ("bone black", 2.0), ("epidote", 3.45), ("hematite", 5.26), ("magnetite", 5.18), ("goethite", 4.27),
    ("ferrihydrite", 3.8), ("siderite", 3.96), ("pyrite", 5.0), ("iron sulfide", 4.6), ("metallic iron", 7.87),
    ("steel", 7.85), ("rust", 4.5), ("iron oxide", 5.0), ("sludge", 2.4), ("quartz", 2.65), ("chert", 2.6),
    ("calcite", 2.71), ("dolomite", 2.85), ("kaolinite", 2.6), ("gibbsite", 2.4), ("chlorite", 2.8),
    ("clinochlore", 2.9), ("illite", 2.75), ("muscovite", 2.82), ("talc", 2.75), ("jarosite", 3.0),
    ("microcline", 2.56), ("gypsum", 2.31), ("portlandite", 2.21), ("concrete", 2.3), ("brick", 1.9),
    ("dust", 2.2), ("asphalt", 1.3), ("tar", 1.2), ("roofing", 1.2), ("carbon black", 1.8), ("plastic", 1.1),
    ("polystyrene", 0.1), ("nylon", 1.14), ("polyester", 1.38), ("fabric", 1.5), ("paper", 0.8),
    ("cellulose", 1.5), ("lignin", 1.3), ("wood", 0.55), ("vegetation", 0.4), ("fibreglass", 0.1), ("paint", 2.7),
)


def mineral_of(material: str) -> str | None:
    """Unmixing mineral name for a library material description, or None."""
    m = material.lower()
    for mineral, keys in MINERALS.items():
        if any(k in m for k in keys):
            return mineral
    return None


def density_g_cm3(material: str) -> float:
    """Grain density (g/cm³) for a library material description (2.7 when unknown; synthetic end-members:
    their recipe's bulk density)."""
    m = material.lower()
    for s in SYNTHETIC_WASTE.values():
        if s.name.lower() in m:
            return s.density_g_cm3
    for key, rho in _DENSITY:
        if key in m:
            return rho
    return 2.7


@dataclass(frozen=True)
class Phase:
    """One mineral phase of a synthetic end-member: ``spectrum`` is a substring of a library entry's USGS name
    (lower case, first match in file order), ``mass_frac`` its share, ``grain_um`` its crystal (or prill) size in
    the particle, which with the density sets its optical cross-section. ``stands_for`` names the real phase
    when the spectrum is a proxy (no library spectrum of wüstite, C2S, melilite, Ca-ferrite exists)."""

    spectrum: str
    mass_frac: float
    grain_um: float
    stands_for: str = ""


@dataclass(frozen=True)
class SyntheticWaste:
    """A phase-based synthetic end-member. ``grain_um`` / ``density_g_cm3``: the material's particles on the belt
    (cross-section of an admixture). ``sources``: the published descriptions the phase proportions follow."""

    key: str
    name: str
    phases: tuple[Phase, ...]
    grain_um: float
    density_g_cm3: float
    sources: tuple[str, ...]

    @property
    def material(self) -> str:
        props = ", ".join(f"{p.stands_for or p.spectrum} {100 * p.mass_frac:.0f} %" for p in self.phases)
        return f"{self.name} (synthetic phase mixture: {props})"


_PIATAK = ("Piatak, Parsons & Seal 2015, Characteristics and environmental aspects of slag: a review, "
           "Applied Geochemistry 57:236-266")
_PROCTOR = ("Proctor et al. 2000, Physical and chemical characteristics of blast furnace, basic oxygen furnace and "
            "electric arc furnace steel industry slags, Environ. Sci. Technol. 34:1576-1582")

#: The synthetic waste families. Proportions are round mid-range values of the cited descriptions (the
#: descriptions give ranges; the exact split between proxies of one phase group is ours).
SYNTHETIC_WASTE: dict[str, SyntheticWaste] = {s.key: s for s in (
    SyntheticWaste(
        "steel_slag", "SYNTHETIC BOF/EAF steel slag",
        (Phase("wollastonite", 0.20, 50, "dicalcium/tricalcium silicate (C2S/C3S; Ca-silicate proxy wollastonite)"),
         Phase("monticellite", 0.15, 50, "C2S/merwinite (Ca-Mg silicate proxy monticellite)"),
         Phase("magnetite hs195.2b", 0.25, 30, "RO phase / wüstite FeO-MgO-MnO (black Fe2+ oxide proxy magnetite)"),
         Phase("maghemite", 0.15, 30, "dicalcium ferrite C2F (Fe3+ oxide proxy maghemite)"),
         Phase("olivine ki3005", 0.06, 50, "Ca-Fe olivine (kirschsteinite/fayalite)"),
         Phase("hedenbergite hs10.3b", 0.05, 50, "Ca-Fe pyroxene"),
         Phase("portlandite", 0.07, 20, "free lime (hydrated: portlandite)"),
         Phase("iron powder", 0.03, 200, "metallic iron prills"),
         Phase("chromite", 0.04, 30, "Mg-Cr-Mn spinel")),
        grain_um=300.0, density_g_cm3=3.4,
        sources=("Yildirim & Prezzi 2011, Chemical, mineralogical and morphological properties of steel slag, "
                 "Advances in Civil Engineering 2011:463638 (BOF/EAF phases: C2S, C3S, RO/wüstite, C2F, free "
                 "CaO/MgO; density 3.2-3.6 g/cm3)",
                 "Waligora et al. 2010, Chemical and mineralogical characterizations of LD converter steel slags, "
                 "Materials Characterization 61:39-48", _PROCTOR, _PIATAK)),
    SyntheticWaste(
        "bf_slag", "SYNTHETIC blast-furnace slag (air-cooled)",
        (Phase("monticellite", 0.30, 50, "melilite gehlenite-akermanite / monticellite (Ca-Mg silicate)"),
         Phase("diopside", 0.20, 50, "Ca-Mg pyroxene / merwinite"),
         Phase("wollastonite", 0.20, 50, "pseudo-wollastonite, C2S"),
         Phase("fiberglass", 0.26, 50, "Ca-Al silicate glass (glass proxy: fibreglass GDS374)"),
         Phase("pyrrhotite", 0.02, 20, "sulfides (oldhamite CaS, FeS; S ~1.4 %)"),
         Phase("iron powder", 0.02, 200, "metallic iron (FeO < 1 %)")),
        grain_um=300.0, density_g_cm3=2.9,
        sources=(_PROCTOR + " (BF slag: FeO 0.3-0.6 %, S ~1.4 %)",
                 _PIATAK + " (air-cooled BF slag: melilite, merwinite, wollastonite, glass)")),
    SyntheticWaste(
        "mill_scale", "SYNTHETIC mill scale",
        (Phase("magnetite hs195.1b", 0.68, 30, "wüstite FeO (no spectrum: black Fe2+ oxide proxy magnetite)"),
         Phase("magnetite hs195.4b", 0.22, 30, "magnetite (incl. eutectoid Fe3O4 + Fe from cooled wüstite)"),
         Phase("hematite gds27", 0.03, 5, "hematite outer layer"),
         Phase("iron powder", 0.03, 50, "metallic iron"),
         Phase("lepidocrocite", 0.04, 5, "rust on stockpiled scale (lepidocrocite)")),
        grain_um=500.0, density_g_cm3=5.6,
        sources=("Paidassi 1958, Acta Metallurgica 6:184 (hot scale FeO:Fe3O4:Fe2O3 about 95:4:1 by thickness)",
                 "Chen & Yuen 2003, Oxide-scale structures formed on commercial hot-rolled steel strip, Oxidation "
                 "of Metals 59:433-468 (wüstite partly transformed to magnetite + iron on coiling)")),
    SyntheticWaste(
        "pyrite_cinder", "SYNTHETIC pyrite cinder",
        (Phase("hematite gds27", 0.65, 10, "hematite (roasted pyrite)"),
         Phase("magnetite hs195.2b", 0.12, 10, "magnetite"),
         Phase("maghemite", 0.05, 10, "maghemite"),
         Phase("pyrrhotite", 0.04, 20, "residual sulfide (pyrrhotite)"),
         Phase("quartz hs32.2b", 0.10, 50, "silicate gangue"),
         Phase("jarosite gds636", 0.04, 20, "sulfates")),
        grain_um=60.0, density_g_cm3=4.6,
        sources=("Long et al. 2016, Preparation of metallic iron powder from pyrite cinder, Metals 6:88 (pyrite "
                 "cinder: Fe2O3, Fe3O4, silicates)",
                 "Bhargava, Garg & Subasinghe 2009, In situ high-temperature phase transformation studies on pyrite, "
                 "Fuel 88:988-993 (roasting in air gives hematite; low O2 magnetite; inert pyrrhotite)")),
    SyntheticWaste(
        "eaf_dust", "SYNTHETIC EAF dust/sludge",
        (Phase("zincite+franklin", 0.35, 2, "zinc ferrite franklinite + zincite"),
         Phase("magnetite hs195.4b", 0.28, 2, "magnetite"),
         Phase("hematite gds27", 0.08, 2, "hematite"),
         Phase("portlandite", 0.12, 2, "lime / Ca compounds"),
         Phase("fe-hydroxide", 0.10, 2, "amorphous Fe-hydroxide (wet scrubber sludge, weathering)"),
         Phase("quartz hs32.2b", 0.04, 5, "silica"),
         Phase("bone_black", 0.03, 2, "carbon (char; bone black)")),
        grain_um=10.0, density_g_cm3=4.0,
        sources=("Oustadakis et al. 2010, Hydrometallurgical process for zinc recovery from EAF dust, Part I: "
                 "characterization, J. Hazardous Materials 179:1-7 (franklinite, zincite, magnetite, Ca phases)",
                 "Sofilic et al. 2004, Characterization of steel mill electric-arc furnace dust, J. Hazardous "
                 "Materials 109:59-70")),
)}


#: Cargo waste keys → substrings of library *materials* (class waste) that stand for them. The old stand-ins
#: (metallic iron powder and FeS reagent as "slag", iron powder and pigments as "mill scale", raw pyrite as
#: "pyrite cinder") are gone: those real spectra stay in the library as waste spectra of their own.
WASTE_PROXIES: dict[str, tuple[str, ...]] = {
    "slag": (SYNTHETIC_WASTE["steel_slag"].name.lower(), SYNTHETIC_WASTE["bf_slag"].name.lower()),
    "steel_slag": (SYNTHETIC_WASTE["steel_slag"].name.lower(),),
    "bf_slag": (SYNTHETIC_WASTE["bf_slag"].name.lower(),),
    "mill_scale": (SYNTHETIC_WASTE["mill_scale"].name.lower(),),
    "pyrite_cinder": (SYNTHETIC_WASTE["pyrite_cinder"].name.lower(),),
    "eaf_dust": (SYNTHETIC_WASTE["eaf_dust"].name.lower(),),
    "sludge": ("mine-drainage tunnel sludge", SYNTHETIC_WASTE["eaf_dust"].name.lower()),
    "pyrite": ("pyrite",),  # raw pyrite (real spectra; weathered pyrite on tailings)
    "scrap": ("scrap", "rust"),
}

#: Waste families of the per-family evaluation: cargo key → label. Synthetic families say so.
WASTE_FAMILIES: dict[str, str] = {
    "steel_slag": "steel slag BOF/EAF (synthetic)",
    "bf_slag": "blast-furnace slag (synthetic)",
    "mill_scale": "mill scale (synthetic)",
    "pyrite_cinder": "pyrite cinder (synthetic)",
    "eaf_dust": "EAF dust/sludge (synthetic)",
    "sludge": "mine-drainage sludge (real) + EAF sludge (synthetic)",
    "pyrite": "pyrite (real)",
    "scrap": "scrap steel (real)",
}


def synthetic_of(material: str) -> SyntheticWaste | None:
    """The synthetic end-member a library material description belongs to, or None."""
    m = material.lower()
    return next((s for s in SYNTHETIC_WASTE.values() if s.name.lower() in m), None)


#: Cargo contaminant keys → substrings of library materials (class contaminant).
CONTAMINANT_PROXIES: dict[str, tuple[str, ...]] = {
    "wood": ("wood", "lignin", "cellulose"),
    "timber": ("wood",),
    "plastic": ("plastic",),
    "rubber": ("roofing felt", "asphalt", "carbon black"),  # no rubber spectrum: black carbon-filled organics
    "cloth": ("fabric", "nylon", "polyester"),
    "fabric": ("fabric",),
    "concrete": ("concrete", "cinder block", "building-collapse dust", "portlandite"),
    "cement": ("concrete", "portlandite"),
    "brick": ("brick",),
    "gypsum": ("gypsum",),
    "paper": ("paper", "cellulose"),
    "coal": ("carbon black",),  # NOT coal: carbonaceous proxy only
    "carbon": ("carbon black",),
    "asphalt": ("asphalt", "tar paper", "roofing felt"),
    "vegetation": ("vegetation",),
    "organic": ("vegetation", "wood", "cellulose", "lignin"),
    "fibreglass": ("fibreglass",),
    "fiberglass": ("fibreglass",),
    "insulation": ("fibreglass", "polystyrene"),
    "paint": ("paint",),
    "nylon": ("nylon",),
    "polyethylene": ("plastic pe",),
}


def proxy_indices(category: str, key: str, materials: Sequence[str], classes: Sequence[str]) -> list[int]:
    """Indices of library entries standing for cargo material ``key`` of ``category`` ('waste'|'contaminant').

    Falls back to a substring match of ``key`` in the materials of the matching class.
    Raises :class:`LibraryError` when nothing matches.
    """
    table = WASTE_PROXIES if category == "waste" else CONTAMINANT_PROXIES
    k = key.lower().replace("-", "_").strip()
    wanted = table.get(k, (k.replace("_", " "),))
    allowed = ("waste",) if category == "waste" else ("contaminant",)
    want_synthetic = any(w.startswith("synthetic") for w in wanted)
    idx = [i for i, (m, c) in enumerate(zip(materials, classes))
           if c in allowed and any(w in m.lower() for w in wanted)
           and (want_synthetic or not m.lower().startswith("synthetic"))]
    if not idx:
        raise LibraryError(
            f"no library spectrum stands for {category} material {key!r}; known keys: {sorted(table)}"
        )
    return idx
