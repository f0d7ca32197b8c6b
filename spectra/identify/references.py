"""The reference library of the identifier: every real spectrum of the shared folders (``usgs_splib07``,
``usgs_splib07a_more``, ``usgs_splib07a_contaminants``) plus the SYNTHETIC waste end-members, each with its line
class (ore / waste / contaminant; gangue counts as ore) and a material group ("polyethylene", "Fe-oxide ore", ...).

Mixtures of gangue minerals are ore references; the slag phases of ``usgs_splib07a_more`` (olivine, pyroxene,
wollastonite, ...) are waste references of the group "slag phase (Fe²⁺ silicate)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spectra.errors import GridError, LibraryError
from spectra.grid import InstrumentGrid
from spectra.hapke import WET_SOLID_DENSITY_G_CM3
from spectra.library import (
    LibraryEntry,
    default_library_dir,
    load_library,
    read_usgs_json,
    sample_group,
)
from spectra.resample import resample

CONTAMINANT_FOLDER = "usgs_splib07a_contaminants"
LINE_CLASSES = ("ore", "waste", "contaminant")
#: library class → line class
LINE_CLASS_OF = {"ore": "ore", "gangue": "ore", "mixture": "ore", "waste": "waste", "waste-phase": "waste",
                 "contaminant": "contaminant"}

#: (pattern on "material usgs-name", group) — first match wins; order matters (specific before general).
GROUP_RULES: tuple[tuple[str, str], ...] = (
    (r"synthetic.*(steel|bof|eaf) slag|blast.furnace slag|slag glass", "slag"),
    (r"mill scale", "mill scale"),
    (r"pyrite cinder", "pyrite cinder"),
    (r"eaf dust|dust/sludge", "EAF dust / sludge"),
    (r"olivine|pyroxene|hedenbergite|diopside|wollastonite|monticellite", "slag phase (Fe²⁺ silicate)"),
    (r"chromite|ilmenite|zincite|pyrrhotite", "slag phase (oxide/sulfide)"),
    (r"pyrite|iron sulfide|fes\b", "sulfide"),
    (r"sludge|fe-hydroxide", "sludge / Fe-hydroxide"),
    (r"steel|tin can|rust|galvan|iron powder|lepidocrocite", "scrap / rust / Fe metal"),
    (r"maghemite|pigment", "Fe-oxide pigment / roasted"),
    (r"hdpe|ldpe|polyethylene|\bpe\b|tyvek|visqueen", "polyethylene"),
    (r"pet\b|pete|polyester", "PET / polyester"),
    (r"pvc|vinyl", "PVC / vinyl"),
    (r"nylon", "nylon"),
    (r"plastic|abs|polystyrene|tarp", "other plastic"),
    (r"wood|cedar|pine|osb|particle|paper|cellulose|lignin|cotton|terry|grass|vegetation|leaves", "wood / cellulose"),
    (r"asphalt|tar\b|tar paper|felt|shingle|kerogen", "bitumen / roofing"),
    (r"carbon black|bone.black|char\b", "carbon black / char"),
    (r"fib(re|er)glass|insulation", "fibreglass"),
    (r"gypsum", "gypsum"),
    (r"brick|concrete|cinder|cement|portlandite|rubble|collapse", "building rubble"),
    (r"alumin|metal|paint", "metal / paint"),
    (r"magnetite", "magnetite ore"),
    (r"hematite|goethite|limonite|ferrihydrite", "Fe-oxide ore"),
    (r"siderite", "siderite ore"),
    (r"kaolin|illite|muscovite|chlorite|clinochlore|talc|epidote", "clay / phyllosilicate"),
    (r"calcite|dolomite", "carbonate"),
    (r"quartz|chert|microcline|feldspar", "quartz / feldspar"),
    (r"gibbsite", "gibbsite"),
    (r"jarosite", "sulfate (jarosite)"),
)


#: groups whose items are non-porous: wet, they carry a surface water film (:mod:`spectra.identify.wetting`), not
#: pore water. Reason per group.
NONPOROUS_GROUPS: dict[str, str] = {
    "polyethylene": "bags, film, bottles: a closed polymer surface; water beads or runs off as a film",
    "PET / polyester": "bottles and sheet (the fabrics of the group are porous by name, below)",
    "PVC / vinyl": "pipe, sheet and toys: closed polymer surface",
    "other plastic": "ABS pipe, PS, tarp tape, greenhouse sheet: closed polymer surface",
    "fibreglass": "resin-bound glass-fibre panels: glass and cured resin take up no water",
    "metal / paint": "aluminium and paint films: water only on the surface",
}
#: items of a non-porous group that hold water between fibres or grains (fabrics, carpet, wool, powders)
POROUS_NAME = r"fabric|webbing|carpet|pile|insul|powder"
#: items of a porous group whose surface is closed (sheet steel, cans)
NONPOROUS_NAME = r"steel|sheetmetal|sheet metal|tin can"


#: solid density (g/cm³) of the porous contaminant groups: the solid their pore water wets (the cell wall, the fibre,
#: the mineral grains of rubble), which with the moisture mass fraction sets the water's path
#: (:func:`spectra.hapke.water_path_cm`). Ore, gangue and waste references stay at the line's ore fines
#: (:data:`spectra.hapke.WET_SOLID_DENSITY_G_CM3`), as the line's simulator wets its blends.
CONTAMINANT_SOLID_DENSITY_G_CM3: dict[str, float] = {
    "wood / cellulose": 1.5,  # cellulose / lignin cell wall 1.45-1.55; cotton 1.54
    "nylon": 1.14, "PET / polyester": 1.38, "polyethylene": 0.95, "PVC / vinyl": 1.38, "other plastic": 1.05,
    "bitumen / roofing": 1.2, "carbon black / char": 1.8, "fibreglass": 2.55,  # E-glass fibre (insulation)
    "building rubble": 2.6, "gypsum": 2.31, "metal / paint": 2.7,
}


def solid_density_g_cm3(group: str, line_class: str) -> float:
    """Solid density (g/cm³) the item's pore water is measured against: its group's for a contaminant
    (:data:`CONTAMINANT_SOLID_DENSITY_G_CM3`), the line's ore fines' otherwise."""
    if line_class == "contaminant":
        return CONTAMINANT_SOLID_DENSITY_G_CM3.get(group, WET_SOLID_DENSITY_G_CM3)
    return WET_SOLID_DENSITY_G_CM3


def is_porous(group: str, name: str) -> bool:
    """Whether water wets the item as pore water (porous: ore, rubble, wood, fabrics) or as a surface film
    (plastics, metal, paint, glass fibre: :data:`NONPOROUS_GROUPS`, with the name overrides)."""
    text = name.lower()
    if group in NONPOROUS_GROUPS:
        return bool(re.search(POROUS_NAME, text))
    return not re.search(NONPOROUS_NAME, text)


def material_group(material: str, usgs_name: str = "") -> str:
    """The material group of a library spectrum (:data:`GROUP_RULES`); ``"other " + class`` when none matches."""
    text = f"{material} {usgs_name}".lower()
    for pattern, group in GROUP_RULES:
        if re.search(pattern, text):
            return group
    return "other"


@dataclass(frozen=True, eq=False)
class Reference:
    """One reference spectrum as read: file, USGS name, physical sample, library class, line class, group."""

    file: str
    name: str
    sample: str
    library_class: str
    line_class: str
    group: str
    folder: str
    wavelength_nm: np.ndarray
    reflectance: np.ndarray

    @property
    def porous(self) -> bool:
        """Wet as pore water (True) or as a surface film (False): :func:`is_porous`."""
        return is_porous(self.group, self.name)

    @property
    def solid_density_g_cm3(self) -> float:
        """Solid density its pore water wets (:func:`solid_density_g_cm3`)."""
        return solid_density_g_cm3(self.group, self.line_class)


def _contaminant_rows(folder: Path) -> dict[str, tuple[str, str]]:
    """FILES.md of the contaminant folder: file → (USGS name, group). Raises LibraryError on a malformed row."""
    md = folder / "FILES.md"
    rows: dict[str, tuple[str, str]] = {}
    for n, line in enumerate(md.read_text(encoding="utf-8").splitlines(), 1):
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3:
            raise LibraryError(f"{md}:{n}: expected | File | Material | Group | ..., got {line[:80]!r}")
        rows[cells[0].strip("`")] = (cells[1].strip("*").strip(), cells[2])
    return rows


def _from_entry(e: LibraryEntry) -> Reference:
    folder = "synthetic" if e.spectrum.meta.get("synthetic") else (
        "usgs_splib07a_more" if e.klass in ("waste-phase", "mixture") else "usgs_splib07")
    return Reference(e.file, e.usgs_name, e.group, e.klass, LINE_CLASS_OF[e.klass],
                     material_group(e.material, e.usgs_name), folder, e.spectrum.wavelength_nm,
                     e.spectrum.reflectance)


def load_references(root: str | Path | None = None) -> list[Reference]:
    """Every reference spectrum under ``root`` (default: the shared data), in file order per folder."""
    root = Path(root) if root is not None else default_library_dir()
    refs = [_from_entry(e) for e in load_library(root).entries]
    folder = root / CONTAMINANT_FOLDER
    if (folder / "FILES.md").is_file():
        rows = _contaminant_rows(folder)
        for f in sorted(folder.glob("*.json")):
            if f.name not in rows:
                raise LibraryError(f"{f.name}: no row in {folder / 'FILES.md'}")
            name, grp = rows[f.name]
            spec = read_usgs_json(f)
            refs.append(Reference(f.name, name, sample_group(name), "contaminant", "contaminant",
                                  material_group(f"{grp} {name}", name), CONTAMINANT_FOLDER,
                                  spec.wavelength_nm, spec.reflectance))
    return refs


def on_grid(refs: list[Reference], grid: InstrumentGrid) -> tuple[list[Reference], np.ndarray, list[str]]:
    """References convolved onto ``grid``: (kept, reflectance (k, n_channels), skipped file names)."""
    kept, rows, skipped = [], [], []
    for r in refs:
        try:
            rows.append(resample(r.wavelength_nm, r.reflectance, grid, what=r.file))
            kept.append(r)
        except GridError:
            skipped.append(r.file)
    if not rows:
        raise LibraryError(f"no reference spectrum covers grid {grid.name!r}")
    return kept, np.clip(np.vstack(rows), 1e-4, None), skipped
