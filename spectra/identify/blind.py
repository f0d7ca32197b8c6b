"""Identification of a labelled folder of spectra from another instrument: the blind test of issue 21.

``oreline spectra evaluate --test-library DIR --labels CSV`` (without ``--model``) scores every readable file
the way ``--loso`` scores the shared spectra: the identifier's call (ore / waste / contaminant / ``unknown``),
its probabilities and the features that decided it, with dark featureless spectra apart, per class recall,
ROC AUC and the spread of every class probability (:func:`spectra.identify.validation.summarise`).

**Each file is identified on its own instrument's grid**, not convolved onto a model's: absorption-feature fits
carry from the library to any grid the references cover (the references are convolved to it, and the learned
decision is refitted on it, ~1 s per distinct grid). A file of more than :data:`MAX_OWN_CHANNELS` channels
(a field spectroradiometer's 1 nm sampling) is convolved onto a 4 nm grid of 10 nm FWHM over its own range
first. Given an explicit grid (``--grid``), every file is convolved onto that grid instead, and a file that
does not cover it is refused with the reason. Files that cannot be read or identified are listed with their
reason; the rest are scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spectra.errors import GridError, SpectraError
from spectra.formats import read_spectra
from spectra.grid import InstrumentGrid
from spectra.identify.identifier import ID_CLASSES, Identifier, IdentifierParams
from spectra.identify.validation import fmt3, row_physics, summarise
from spectra.library import Spectrum
from spectra.labels import read_labels
from spectra.resample import to_grid

#: a file with more channels than this is convolved onto a 4 nm / 10 nm FWHM grid over its own range
MAX_OWN_CHANNELS = 600
#: fewest channels, and narrowest span (nm), that identification needs
MIN_CHANNELS = 32
MIN_SPAN_NM = 200.0
#: the range the shared references cover (nm): a file's own grid is cut to it
REFERENCE_RANGE_NM = (400.0, 2400.0)


@dataclass
class Labelled:
    """One spectrum to score: where it came from, its label, and its reflectance on ``grid``."""

    file: str
    name: str
    klass: str
    label: str
    grid: InstrumentGrid
    reflectance: np.ndarray


@dataclass
class FolderRead:
    """What a labelled folder gave: the spectra to score, the refused files (file, reason) and reader notes."""

    items: list[Labelled] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)


def own_grid(s: Spectrum) -> tuple[InstrumentGrid, np.ndarray]:
    """The spectrum's own instrument grid (finite channels inside the references' range; FWHM 1.5 × the channel
    spacing) and its reflectance on it; a grid of more than :data:`MAX_OWN_CHANNELS` channels is convolved onto
    4 nm steps of 10 nm FWHM. Raises GridError when too few channels or too narrow a span are left."""
    wl, r = np.asarray(s.wavelength_nm, float), np.asarray(s.reflectance, float)
    keep = np.isfinite(r) & (wl >= REFERENCE_RANGE_NM[0]) & (wl <= REFERENCE_RANGE_NM[1])
    wl, r = wl[keep], r[keep]
    if wl.size < MIN_CHANNELS or np.ptp(wl) < MIN_SPAN_NM:
        raise GridError(f"{s.source or s.name}: expected at least {MIN_CHANNELS} finite channels over "
                        f"{MIN_SPAN_NM:.0f} nm inside {REFERENCE_RANGE_NM[0]:.0f}–{REFERENCE_RANGE_NM[1]:.0f} nm, "
                        f"got {wl.size} channels over {np.ptp(wl) if wl.size else 0.0:.0f} nm")
    name = f"own {wl[0]:.0f}–{wl[-1]:.0f} nm, {wl.size} ch"
    if wl.size <= MAX_OWN_CHANNELS:
        return InstrumentGrid.from_wavelengths(wl, name=name), r
    lo, hi = np.ceil(wl[0] / 4.0) * 4.0 + 8.0, np.floor(wl[-1] / 4.0) * 4.0 - 8.0
    step = np.arange(lo, hi + 1e-9, 4.0)
    grid = InstrumentGrid(f"4 nm over {lo:.0f}–{hi:.0f} nm", step, np.full(step.size, 10.0))
    return grid, to_grid(wl, r, grid, what=s.source or s.name)


def read_labelled(folder: str | Path, labels_csv: str | Path, grid: InstrumentGrid | None = None) -> FolderRead:
    """Every spectrum of the files named in ``labels_csv`` (``file,class``), on ``grid`` or on its own grid
    (:func:`own_grid`). A file that cannot be read or put on a grid is listed in ``errors`` with its reason."""
    folder, out = Path(folder), FolderRead()
    for name, label in read_labels(labels_csv):
        path = folder / name
        try:
            spectra = read_spectra(path)
            items = []
            for k, s in enumerate(spectra):
                g, r = (grid, to_grid(s.wavelength_nm, s.reflectance, grid, what=str(path))) if grid else own_grid(s)
                if not np.all(np.isfinite(r)) or not np.any(r > 0):
                    raise GridError(f"{path}: expected finite reflectance above 0 on grid {g.name!r}, got "
                                    f"{int(np.sum(~np.isfinite(r)))} missing channels, maximum {np.nanmax(r):.3g}")
                shown = name if len(spectra) == 1 else f"{name}#{k}"
                items.append(Labelled(name, shown, "ore" if label == "gangue" else label, label, g, r))
                out.notes += [{"file": name, "note": n} for n in s.meta.get("notes", [])]
        except (SpectraError, OSError) as exc:
            out.errors.append({"file": name, "error": str(exc)})
            continue
        out.items += items
    return out


def _grid_key(g: InstrumentGrid) -> tuple:
    return (g.name, np.round(g.wavelength_nm, 3).tobytes(), np.round(g.fwhm_nm, 3).tobytes())


def _rows(idf: Identifier, items: list[Labelled]) -> list[dict]:
    """One row per spectrum in the layout of :func:`spectra.identify.validation.leave_one_sample_out`."""
    r = np.vstack([it.reflectance for it in items])
    prepared = idf.prepare(r)
    ident = idf.decide_prepared(prepared, r)
    phys = row_physics(idf, prepared, r, np.array([ID_CLASSES.index(it.klass) for it in items]))
    return [{"file": it.file, "name": it.name, "library_class": it.label, "class": it.klass, "group": it.label,
             "rendering": "as measured", "grid": it.grid.name, "called": str(ident.klass[i]),
             "called_group": str(ident.group[i]), "p": [float(x) for x in ident.p[i]],
             "evidence": idf.evidence(ident, i),
             **{key: (bool(v[i]) if v.dtype == bool else float(v[i])) for key, v in phys.items()}}
            for i, it in enumerate(items)]


def identify_folder(folder: str | Path, labels_csv: str | Path, grid: InstrumentGrid | None = None, *,
                    ore_needs_evidence: bool = True, progress: Callable[[str], None] | None = None) -> dict:
    """Report dict: ``rows`` (one per scored spectrum), ``summary`` (:func:`summarise`), ``errors`` (refused files
    with their reason), ``notes`` (what the readers did), ``grids`` (spectra per grid). Raises SpectraError when
    no file could be scored."""
    say = progress or (lambda _m: None)
    got = read_labelled(folder, labels_csv, grid)
    for e in got.errors:
        say(f"{e['file']}: {e['error']}")
    rows: list[dict] = []
    by_grid: dict[tuple, list[Labelled]] = {}
    for it in got.items:
        by_grid.setdefault(_grid_key(it.grid), []).append(it)
    for items in by_grid.values():
        g = items[0].grid
        say(f"identifying {len(items)} spectra on grid {g.name!r} (references convolved to it, decision fitted)")
        idf = Identifier.from_library(g, params=IdentifierParams(ore_needs_evidence=ore_needs_evidence))
        rows += _rows(idf, items)
    if not rows:
        first = f"; first error: {got.errors[0]['error']}" if got.errors else ""
        raise SpectraError(f"{folder}: none of the labelled files could be identified{first}")
    return {"rows": rows, "summary": summarise(rows), "errors": got.errors, "notes": got.notes,
            "grids": {items[0].grid.name: len(items) for items in by_grid.values()}}


def markdown(report: dict) -> str:
    """The folder's identification as markdown: the targets of issue 21, per class, the spread of each class
    probability per true class, one line per file, and the refused files."""
    s, t = report["summary"], report["summary"]["targets"]
    b = s["black"]
    out = ["## Identification of a labelled folder (blind spectra, each on its own instrument grid)", "",
           f"{len(report['rows'])} spectra on {len(report['grids'])} grid(s): "
           + "; ".join(f"{g} ({n})" for g, n in report["grids"].items())
           + f". Dark, featureless spectra apart: {b['n']}, per true class called "
           + "; ".join(f"{k} {v}" for k, v in b["by_class"].items()) + ".", "",
           "| target (dark rows apart) | value | target |", "|---|---|---|",
           f"| non-black contaminants called contaminant | {fmt3(t['contaminant_recall'][0])} | ≥ 0.95 |",
           f"| ore + gangue called ore | {fmt3(t['ore_recall'][0])} | ≥ 0.95 |",
           f"| ore + gangue called waste/contaminant with p > 0.5 | {t['ore_wrong_p_over_half'][0]} | 0 |",
           f"| contaminant ROC AUC | {fmt3(t['contaminant_auc'][0])} | ≥ 0.95 |",
           f"| contaminants called ore with p > 0.5 | {t['contaminant_ore_p_over_half'][0]} | 0 |", "",
           "| class | spectra | recall | unknown | wrong with p > 0.5 |", "|---|---|---|---|---|"]
    out += [f"| {c} | {x['n']} | {fmt3(x['recall'])} | {fmt3(x['unknown'])} | {x['wrong_p_over_half']} |"
            for c, x in s["per_class"].items() if x["n"]]
    out += ["", "Spread of each output probability per true class (min / 5 % / 25 % / median / 75 % / 95 % / max):",
            "", "| true class | output | spread |", "|---|---|---|"]
    for k, per in s["spread_by_class"].items():
        out += [f"| {k} | p({c}) | {' / '.join(f'{x:.2f}' for x in q)} |" for c, q in per.items() if q]
    out += ["", "| file | label | called | p(ore / waste / contaminant / unknown) | evidence |", "|---|---|---|---|---|"]
    out += [f"| {r['name']} | {r['library_class']} | {r['called']} ({r['called_group']}) | "
            f"{' / '.join(f'{x:.2f}' for x in r['p'])} | {r['evidence']} |" for r in report["rows"]]
    if report["errors"]:
        out += ["", "Files that could not be scored:", ""] + [f"- {e['file']}: {e['error']}" for e in report["errors"]]
    return "\n".join(out) + "\n"
