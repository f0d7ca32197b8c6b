"""Physical properties of library materials and the maps from cargo keys to library spectra.

* :func:`mineral_of` — the unmixing mineral a library entry stands for (hematite, goethite, ...), or None.
* :func:`density_g_cm3` — bulk grain density used to turn mass fractions into cross-sections.
* :data:`WASTE_PROXIES` / :data:`CONTAMINANT_PROXIES` — which library spectra stand for the cargo's waste
  and contaminant material keys (the library has no slag, mill scale or pyrite cinder; see docs/spectra.md).
"""

from __future__ import annotations

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
    ("magnetite skarn", 4.2), ("nanohematite", 5.0), ("hematite", 5.26), ("magnetite", 5.18), ("goethite", 4.27),
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
    """Grain density (g/cm³) for a library material description (2.7 when unknown)."""
    m = material.lower()
    for key, rho in _DENSITY:
        if key in m:
            return rho
    return 2.7


#: Cargo waste keys → substrings of library *materials* (class waste) that stand for them.
WASTE_PROXIES: dict[str, tuple[str, ...]] = {
    # steel/BF slag: dark Fe-bearing silicate with sulfide and metallic-iron prills; the library has no slag
    "slag": ("iron sulfide reagent", "metallic iron powder"),
    "sludge": ("mine-drainage tunnel sludge",),
    # mill scale: wüstite/magnetite/hematite flakes from rolling; nearest: metallic iron dust, maghemite, pigment
    "mill_scale": ("metallic iron powder", "gamma-fe2o3", "synthetic iron oxide pigment"),
    # pyrite cinder: roasted pyrite (hematite + residual sulfide)
    "pyrite_cinder": ("weathered pyrite", "pyrite", "synthetic red iron oxide pigment"),
    "scrap": ("scrap", "rust"),
}

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
    idx = [i for i, (m, c) in enumerate(zip(materials, classes))
           if c in allowed and any(w in m.lower() for w in wanted)]
    if not idx:
        raise LibraryError(
            f"no library spectrum stands for {category} material {key!r}; known keys: {sorted(table)}"
        )
    return idx
