"""Leave one physical sample out over every real reference spectrum: how the identifier does on measurements.

Each real spectrum of the three shared folders (synthetic end-members are references only, never scored) is
convolved to the instrument grid, rendered as measured, finer (grain factor 0.5), coarser (2), damp (5 % water)
and wet (10 %), and passed through the detector model (shot/read noise, dark drift, ageing white reference, as on
the line). It is then identified with every reference of its own physical sample removed (grain-size fractions
and the wet measurement of one sample are one sample: :func:`spectra.library.sample_group`).

"Black" spectra (mean reflectance below :data:`BLACK_ALBEDO` as measured, no C–H band) are reported apart: NIR
sees no band in carbon-filled plastic or rubber, nor in magnetite.
"""

from __future__ import annotations

import numpy as np

from spectra.detector import DetectorConfig, DetectorModel, simulate_referenced
from spectra.grid import InstrumentGrid
from spectra.hapke import (
    reff_from_ssa,
    scale_grain_size,
    ssa_from_reff,
    water_absorption_per_cm,
    wet,
)
from spectra.identify.identifier import ID_CLASSES, Identifier
from spectra.identify.learned import decision_without, training_set
from spectra.models.evaluation import roc_curve

#: (label, grain factor, moisture) of the rendered variants of each real spectrum
RENDERINGS = (("as measured", 1.0, 0.0), ("finer ×0.5", 0.5, 0.0), ("coarser ×2", 2.0, 0.0),
              ("damp 5 %", 1.0, 0.05), ("wet 10 %", 1.0, 0.10))
BLACK_ALBEDO = 0.10


def render(reflectance: np.ndarray, wavelength_nm: np.ndarray, grain: float, moisture: float) -> np.ndarray:
    """Grain-size / pore-water variant of (k, n) reflectance (Hapke, :mod:`spectra.hapke`)."""
    if grain == 1.0 and moisture == 0.0:
        return np.array(reflectance, float)
    w = ssa_from_reff(np.clip(reflectance, 1e-4, 0.999))
    w = scale_grain_size(w, grain) if grain != 1.0 else w
    w = wet(w, moisture, water_absorption_per_cm(wavelength_nm)) if moisture > 0 else w
    return reff_from_ssa(w)


#: the learned decision is refitted once per fold of held-out physical samples (every fold sample's renderings,
#: mixtures and references excluded from that fit: stricter than one sample at a time, and 10× faster)
LOSO_FOLDS = 20


def _loso_identify(idf: Identifier, r: np.ndarray, samples: np.ndarray, learned: bool) -> list[tuple]:
    """(called, called group, p, evidence) per row, every row identified without its own sample; with
    ``learned`` the decision is refitted per held-out sample without its renderings, mixtures or references."""
    d, d2_ref, row, valid = idf.prepare(r, exclude_samples=samples)
    snr = idf.ch_snr(np.where(np.isfinite(r), r, 1e-4))
    ts = training_set(idf) if learned else None
    out: list[tuple] = [()] * r.shape[0]
    uniq = np.unique(samples)
    fold = np.random.default_rng(0).permutation(uniq.size) % min(LOSO_FOLDS, uniq.size)
    for f in range(fold.max() + 1):
        out_samples = uniq[fold == f]
        k = np.flatnonzero(np.isin(samples, out_samples))
        dec = decision_without(idf, ts, out_samples.tolist(), idf.params.class_prior) if learned else None
        ident = idf._decide(d.take(k), d2_ref[k], row[k], valid[k], snr[k], decision=dec)
        for j, kk in enumerate(k):
            out[kk] = (str(ident.klass[j]), str(ident.group[j]), ident.p[j].tolist(), idf.evidence(ident, j))
    return out


def leave_one_sample_out(grid: InstrumentGrid, identifier: Identifier | None = None, *, seed: int = 5,
                         renderings=RENDERINGS, learned: bool = True) -> dict:
    """Report dict: ``rows`` (one per scored spectrum and rendering) and ``summary`` (per class, per group,
    black items, probability spreads, targets)."""
    idf = identifier or Identifier.from_library(grid, learned=False)
    real = np.array([i for i, r in enumerate(idf.references) if r.folder != "synthetic"])
    base = idf.reference_reflectance[real]
    det = DetectorModel(grid, DetectorConfig(), seed=seed)
    rng = np.random.default_rng(seed)
    blocks = []
    for _, grain, moist in renderings:
        clean = render(base, grid.wavelength_nm, grain, moist)
        blocks.append(simulate_referenced(det, clean, rng, t_h=rng.uniform(0, 8, real.size),
                                          reference_age_h=rng.uniform(0, 0.5, real.size)))
    r = np.vstack(blocks)
    ref_idx = np.tile(real, len(renderings))
    samples = np.array([idf.references[i].sample for i in ref_idx])
    scored = _loso_identify(idf, r, samples, learned)
    organic = idf.organic(idf.describe(np.where(np.isfinite(r), r, 1e-4)))
    albedo = np.nanmean(r, axis=1)
    rows = [{"file": idf.references[i].file, "name": idf.references[i].name,
             "library_class": idf.references[i].library_class, "class": idf.references[i].line_class,
             "group": idf.references[i].group, "rendering": renderings[k // real.size][0],
             "called": scored[k][0], "called_group": scored[k][1], "p": scored[k][2],
             "black": bool(albedo[k] < BLACK_ALBEDO and not organic[k]), "evidence": scored[k][3]}
            for k, i in enumerate(ref_idx)]
    return {"grid": grid.name, "rows": rows, "summary": summarise(rows),
            "references": len(idf.references), "real_spectra": int(real.size),
            "renderings": [x[0] for x in renderings]}


def _spread(v: np.ndarray) -> list[float]:
    return [float(x) for x in np.quantile(v, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])] if v.size else []


def _block(rows: list[dict]) -> dict:
    p = np.array([r["p"] for r in rows]) if rows else np.zeros((0, 4))
    cl = rows[0]["class"] if rows else ""
    called = np.array([r["called"] for r in rows])
    wrong_sure = [k for k, c in enumerate(ID_CLASSES[:3]) if c != cl]
    return {"n": len(rows), "recall": float(np.mean(called == cl)) if rows else float("nan"),
            "unknown": float(np.mean(called == "unknown")) if rows else float("nan"),
            "not_ore": float(np.mean(called != "ore")) if rows else float("nan"),
            "wrong_p_over_half": int(np.sum(np.max(p[:, wrong_sure], axis=1) > 0.5)) if rows else 0}


def summarise(rows: list[dict]) -> dict:
    """Per class and per material group: recall, unknown share, confident errors; ROC AUC and the spread
    (min, 5 %, 25 %, 50 %, 75 %, 95 %, max) of each class probability; targets of issue 21."""
    p = np.array([r["p"] for r in rows])
    y = np.array([r["class"] for r in rows])
    black = np.array([r["black"] for r in rows])
    per_class = {c: _block([r for r in rows if r["class"] == c and not r["black"]]) for c in ID_CLASSES[:3]}
    per_group = {(r["class"], r["group"]): None for r in rows}
    groups = {f"{c} / {g}": _block([r for r in rows if (r["class"], r["group"]) == (c, g)]) for c, g in per_group}
    auc = {c: roc_curve(p[~black, k], y[~black] == c)[2] for k, c in enumerate(ID_CLASSES[:3])}
    spread = {c: _spread(p[:, k]) for k, c in enumerate(ID_CLASSES)}
    cont, ore = per_class["contaminant"], per_class["ore"]
    blk = [r for r in rows if r["black"]]
    blk_c = [r for r in blk if r["class"] == "contaminant"]
    return {"per_class": per_class, "per_group": groups, "roc_auc": auc, "spread": spread,
            "black": {"n": len(blk), "called": {c: sum(r["called"] == c for r in blk) for c in ID_CLASSES},
                      "classes": {c: sum(r["class"] == c for r in blk) for c in ID_CLASSES[:3]},
                      "contaminants_called": {c: sum(r["called"] == c for r in blk_c) for c in ID_CLASSES},
                      "contaminant_names": sorted({r["name"] for r in blk_c})},
            "targets": {"contaminant_recall": (cont["recall"], 0.95), "ore_recall": (ore["recall"], 0.95),
                        "ore_wrong_p_over_half": (ore["wrong_p_over_half"], 0),
                        "contaminant_auc": (auc["contaminant"], 0.95)},
            "at_prior": {c: bool(np.ptp(p[:, k]) < 1e-3) for k, c in enumerate(ID_CLASSES)}}


def markdown(report: dict) -> str:
    """The validation as a markdown section (printed by ``oreline spectra evaluate --loso``)."""
    s = report["summary"]
    t = s["targets"]
    ok = {"contaminant_recall": t["contaminant_recall"][0] >= 0.95, "ore_recall": t["ore_recall"][0] >= 0.95,
          "ore_wrong_p_over_half": t["ore_wrong_p_over_half"][0] == 0,
          "contaminant_auc": t["contaminant_auc"][0] >= 0.95}
    out = [f"## Identification, leave one physical sample out ({report['grid']})", "",
           (f"{report['real_spectra']} real spectra × {len(report['renderings'])} renderings "
           f"({', '.join(report['renderings'])}) with detector noise; {report['references']} references. "
           f"Black items (mean reflectance < {BLACK_ALBEDO}, no C–H band) apart: {s['black']['n']} "
           f"(classes {s['black']['classes']}) called {s['black']['called']}; the black contaminants "
           f"({', '.join(s['black']['contaminant_names'])}) called {s['black']['contaminants_called']}."), "",
           "| target | measured | target | met |", "|---|---|---|---|",
           (f"| non-black contaminants called contaminant | {t['contaminant_recall'][0]:.3f} | ≥ 0.95 | "
           f"{'yes' if ok['contaminant_recall'] else 'NO'} |"),
           f"| ore + gangue called ore | {t['ore_recall'][0]:.3f} | ≥ 0.95 | {'yes' if ok['ore_recall'] else 'NO'} |",
           (f"| ore + gangue called waste/contaminant with p > 0.5 | {t['ore_wrong_p_over_half'][0]} | 0 | "
           f"{'yes' if ok['ore_wrong_p_over_half'] else 'NO'} |"),
           (f"| contaminant ROC AUC | {t['contaminant_auc'][0]:.3f} | ≥ 0.95 | "
           f"{'yes' if ok['contaminant_auc'] else 'NO'} |"), "",
           "| class | spectra | recall | unknown | not ore | wrong with p > 0.5 | ROC AUC |", "|---|---|---|---|---|---|---|"]
    for c, b in s["per_class"].items():
        out.append(f"| {c} | {b['n']} | {b['recall']:.3f} | {b['unknown']:.3f} | {b['not_ore']:.3f} | "
                   f"{b['wrong_p_over_half']} | {s['roc_auc'][c]:.3f} |")
    out += ["", "Spread of each output probability over all scored spectra (min / 5 % / 25 % / median / 75 % / 95 % / max):",
            "", "| output | spread | constant? |", "|---|---|---|"]
    for c, q in s["spread"].items():
        out.append(f"| p({c}) | {' / '.join(f'{x:.2f}' for x in q)} | {'YES' if s['at_prior'][c] else 'no'} |")
    out += ["", "| class / material group | spectra | recall | unknown | wrong with p > 0.5 |", "|---|---|---|---|---|"]
    for g, b in sorted(s["per_group"].items()):
        out.append(f"| {g} | {b['n']} | {b['recall']:.3f} | {b['unknown']:.3f} | {b['wrong_p_over_half']} |")
    return "\n".join(out) + "\n"
