"""Leave one physical sample out over every real reference spectrum: how the identifier does on measurements.

Each real spectrum of the three shared folders (synthetic end-members are references only, never scored) is
convolved to the instrument grid, rendered as measured, finer (grain factor 0.5), coarser (2), damp (5 % water)
and wet (10 %), and passed through the detector model (shot/read noise, dark drift, ageing white reference, as on
the line). It is then identified with every reference of its own physical sample removed (grain-size fractions
and the wet measurement of one sample are one sample: :func:`spectra.library.sample_group`).

"Black" spectra — dark and featureless (:func:`spectra.identify.temper.dark`: mean reflectance below 0.10, no C–H
band), the identifier's own ``unknown`` outcome for them — are reported apart: NIR sees no band in carbon-filled
plastic or rubber that magnetite, pyrite or mill scale would not show too (:mod:`spectra.identify.separability`
prints the numbers). The headline is printed with and without the NIR-ambiguous groups
(:data:`spectra.identify.separability.AMBIGUOUS`).
"""

from __future__ import annotations

import numpy as np

from spectra.detector import DetectorConfig, DetectorModel, simulate_referenced
from spectra.grid import InstrumentGrid
from spectra.hapke import WET_SOLID_DENSITY_G_CM3, scale_grain_size, ssa_from_reff
from spectra.identify import temper as temper_mod
from spectra.identify.identifier import ID_CLASSES, Identifier
from spectra.identify.learned import decision_without, training_set
from spectra.identify.cellulose_water import cellulose_water, markdown as cellulose_markdown
from spectra.identify.wetting import film_um, wet_albedo
from spectra.constants import REFLECTANCE_FLOOR
from spectra.identify.labels import relative_noise
from spectra.identify.limits import markdown as limits_markdown, physics_limits
from spectra.identify.ore_groups import ore_groups, ore_groups_markdown, ore_recall_with_kin
from spectra.identify.separability import AMBIGUOUS, dark_groups, per_group
from spectra.identify.unknown_limit import UNKNOWN_QUANTILE
from spectra.models.evaluation import roc_curve

#: (label, grain factor, moisture) of the rendered variants of each real spectrum
RENDERINGS = (("as measured", 1.0, 0.0), ("finer ×0.5", 0.5, 0.0), ("coarser ×2", 2.0, 0.0),
              ("damp 5 %", 1.0, 0.05), ("wet 10 %", 1.0, 0.10))


def render(reflectance: np.ndarray, wavelength_nm: np.ndarray, grain: float, moisture: float,
           porous: np.ndarray | bool = True,
           solid_density_g_cm3: np.ndarray | float = WET_SOLID_DENSITY_G_CM3) -> np.ndarray:
    """Grain-size / moisture variant of (k, n) reflectance (Hapke, :mod:`spectra.hapke`); moisture as pore water
    on ``porous`` rows (against each row's solid density), as a surface film on the others
    (:mod:`spectra.identify.wetting`)."""
    if grain == 1.0 and moisture == 0.0:
        return np.array(reflectance, float)
    w = ssa_from_reff(np.clip(reflectance, 1e-4, 0.999))
    w = scale_grain_size(w, grain) if grain != 1.0 else w
    return wet_albedo(w, wavelength_nm, moisture, porous, solid_density_g_cm3)


#: headline rows of the report (issue 21: "each spectrum convolved to the instrument grid with realistic noise. Also
#: run the same with grain-size and moisture variants"): label → the renderings it pools (None: all of them)
RENDERING_SETS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("as measured (headline)", ("as measured",)), ("grain-size variants", ("finer ×0.5", "coarser ×2")),
    ("moisture variants", ("damp 5 %", "wet 10 %")), ("all renderings", None))

#: the learned decision is refitted once per fold of held-out physical samples (every fold sample's renderings,
#: mixtures and references excluded from that fit: stricter than one sample at a time, and 10× faster)
LOSO_FOLDS = 20


def _loso_identify(idf: Identifier, prepared: tuple, snr: np.ndarray, samples: np.ndarray,
                   learned: bool, limits: list[float] | None = None) -> list[tuple]:
    """(called, called group, p, evidence) per row of ``prepared`` (:meth:`Identifier.prepare` with every row's
    own sample excluded); with ``learned`` the decision (and its ``unknown`` limit, appended to ``limits``) is
    refitted per fold of held-out samples without their renderings, mixtures or references."""
    d, d2_ref, row, valid = prepared
    ts = training_set(idf) if learned else None
    out: list[tuple] = [()] * d2_ref.shape[0]
    uniq = np.unique(samples)
    fold = np.random.default_rng(0).permutation(uniq.size) % min(LOSO_FOLDS, uniq.size)
    for f in range(fold.max() + 1):
        out_samples = uniq[fold == f]
        k = np.flatnonzero(np.isin(samples, out_samples))
        dec = decision_without(idf, ts, out_samples.tolist(), idf.params.class_prior) if ts is not None else None
        if limits is not None:
            limits.append(idf.d2_unknown if dec is None or dec.d2_unknown is None else dec.d2_unknown)
        ident = idf._decide(d.take(k), d2_ref[k], row[k], valid[k], snr[k], decision=dec)
        for j, kk in enumerate(k):
            out[kk] = (str(ident.klass[j]), str(ident.group[j]), ident.p[j].tolist(), idf.evidence(ident, j))
    return out


def _rendered(idf: Identifier, real: np.ndarray, renderings, seed: int) -> np.ndarray:
    """Every real reference in ``real`` rendered as each of ``renderings`` through the detector model (stacked)."""
    grid = idf.grid
    base = idf.reference_reflectance[real]
    porous = np.array([idf.references[i].porous for i in real])
    rho = np.array([idf.references[i].solid_density_g_cm3 for i in real])
    det = DetectorModel(grid, DetectorConfig(), seed=seed)
    rng = np.random.default_rng(seed)
    blocks = []
    for _, grain, moist in renderings:
        clean = render(base, grid.wavelength_nm, grain, moist, porous, rho)
        blocks.append(simulate_referenced(det, clean, rng, t_h=rng.uniform(0, 8, real.size),
                                          reference_age_h=rng.uniform(0, 0.5, real.size)))
    return np.vstack(blocks)


def row_physics(idf: Identifier, prepared: tuple, r: np.ndarray, own_cls: np.ndarray) -> dict[str, np.ndarray]:
    """Per row of (n, ch) ``r`` with its :meth:`Identifier.prepare` output and true line-class index ``own_cls``
    (n,): dark flag, albedo, deepest band, channel noise, d² to the nearest own-class and other-class reference
    (excluded references count as infinitely far)."""
    d, d2_ref = prepared[0], prepared[1]
    organic = idf.organic(d)
    n = len(own_cls)
    cls_d2 = np.stack([d2_ref[:, idx].min(axis=1) if idx.size else np.full(n, np.inf)
                       for idx in idf._refs_of_class], axis=1)
    own = cls_d2[np.arange(n), own_cls]
    other = np.where(np.arange(3)[None, :] == own_cls[:, None], np.inf, cls_d2).min(axis=1)
    return {"black": temper_mod.dark(d, organic), "albedo": np.exp(d.log_albedo),
            "max_band_depth": d.depth.max(axis=1) if d.depth.size else np.zeros(n),
            "noise": relative_noise(np.where(np.isfinite(r), r, REFLECTANCE_FLOOR)), "d2_own": own, "d2_other": other}


def leave_one_sample_out(grid: InstrumentGrid, identifier: Identifier | None = None, *, seed: int = 5,
                         renderings=RENDERINGS, learned: bool = True) -> dict:
    """Report dict: ``rows`` (one per scored spectrum and rendering) and ``summary`` (per class, per group,
    dark items, NIR-ambiguous groups, probability spreads, targets)."""
    idf = identifier or Identifier.from_library(grid, learned=False)
    real = np.array([i for i, r in enumerate(idf.references) if r.folder != "synthetic"])
    r = _rendered(idf, real, renderings, seed)
    ref_idx = np.tile(real, len(renderings))
    samples = np.array([idf.references[i].sample for i in ref_idx])
    prepared = idf.prepare(r, exclude_samples=samples)
    limits: list[float] = []
    scored = _loso_identify(idf, prepared, idf.ch_snr(np.where(np.isfinite(r), r, REFLECTANCE_FLOOR)), samples,
                            learned, limits)
    phys = row_physics(idf, prepared, r, idf._class_of_ref[ref_idx])
    depth = {k: prepared[0].depth[:, j] for j, k in enumerate(idf.bank.keys)}
    rows = [{"file": idf.references[i].file, "name": idf.references[i].name, "sample": idf.references[i].sample,
             "library_class": idf.references[i].library_class, "class": idf.references[i].line_class,
             "group": idf.references[i].group, "rendering": renderings[k // real.size][0],
             "called": scored[k][0], "called_group": scored[k][1], "p": scored[k][2], "evidence": scored[k][3],
             **{key: (bool(v[k]) if v.dtype == bool else float(v[k])) for key, v in phys.items()},
             "band_depth": {key: float(v[k]) for key, v in depth.items()}}
            for k, i in enumerate(ref_idx)]
    return {"grid": grid.name, "rows": rows, "summary": summarise(rows),
            "unknown_limit": {"fixed": idf.d2_unknown_fixed, "calibrated_per_fold": _spread(np.array(limits)),
                              "quantile": UNKNOWN_QUANTILE},
            "references": len(idf.references), "real_spectra": int(real.size),
            "non_porous": int(sum(not idf.references[i].porous for i in real)),
            "cellulose_water": cellulose_water(idf.references, idf.reference_reflectance, grid.wavelength_nm),
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


def _headline(rows: list[dict]) -> dict:
    """The four targets of issue 21 over ``rows`` (dark rows already left out): value and target each."""
    p = np.array([r["p"] for r in rows]) if rows else np.zeros((0, 4))
    y = np.array([r["class"] for r in rows])
    cont = _block([r for r in rows if r["class"] == "contaminant"])
    ore = _block([r for r in rows if r["class"] == "ore"])
    auc = roc_curve(p[:, 2], y == "contaminant")[2] if rows else float("nan")
    is_c, is_o = y == "contaminant", y == "ore"
    return {"contaminant_recall": (cont["recall"], 0.95), "ore_recall": (ore["recall"], 0.95),
            "ore_wrong_p_over_half": (ore["wrong_p_over_half"], 0), "contaminant_auc": (auc, 0.95),
            "contaminant_ore_p_over_half": (int(np.sum(p[is_c, 0] > 0.5)), 0),
            "ore_p_ore_over_half": (float(np.mean(p[is_o, 0] > 0.5)) if is_o.any() else float("nan"), None),
            "spectra": (len(rows), None)}


def _by_rendering(lit: list[dict]) -> dict[str, dict]:
    """:func:`_headline` per :data:`RENDERING_SETS` row, with (``all``) and without (``without_ambiguous``) the
    NIR-ambiguous groups (dark rows already left out)."""
    out = {}
    for label, names in RENDERING_SETS:
        rows = [r for r in lit if names is None or r["rendering"] in names]
        out[label] = {"all": _headline(rows),
                      "without_ambiguous": _headline([r for r in rows if (r["class"], r["group"]) not in AMBIGUOUS])}
    return out


def _dark(rows: list[dict]) -> dict:
    """Dark, featureless rows: how many per line class and what each class's were called."""
    blk = [r for r in rows if r["black"]]
    blk_c = [r for r in blk if r["class"] == "contaminant"]
    return {"n": len(blk), "called": {c: sum(r["called"] == c for r in blk) for c in ID_CLASSES},
            "classes": {c: sum(r["class"] == c for r in blk) for c in ID_CLASSES[:3]},
            "by_class": {k: {c: sum(r["called"] == c for r in blk if r["class"] == k) for c in ID_CLASSES}
                         for k in ID_CLASSES[:3]},
            "contaminants_called": {c: sum(r["called"] == c for r in blk_c) for c in ID_CLASSES},
            "contaminant_names": sorted({r["name"] for r in blk_c})}


def summarise(rows: list[dict]) -> dict:
    """Per class and per material group: recall, unknown share, confident errors; ROC AUC and the spread
    (min, 5 %, 25 %, 50 %, 75 %, 95 %, max) of each class probability overall and per true class; the targets
    of issue 21 with and without the NIR-ambiguous groups (dark rows always apart); separability per group."""
    p = np.array([r["p"] for r in rows])
    y = np.array([r["class"] for r in rows])
    black = np.array([r["black"] for r in rows])
    lit = [r for r in rows if not r["black"]]
    per_group_ = {(r["class"], r["group"]): None for r in lit}
    return {"per_class": {c: _block([r for r in lit if r["class"] == c]) for c in ID_CLASSES[:3]},
            "per_group": {f"{c} / {g}": _block([r for r in lit if (r["class"], r["group"]) == (c, g)])
                          for c, g in per_group_},
            "roc_auc": {c: roc_curve(p[~black, k], y[~black] == c)[2] for k, c in enumerate(ID_CLASSES[:3])},
            "spread": {c: _spread(p[:, k]) for k, c in enumerate(ID_CLASSES)},
            "spread_by_class": {t: {c: _spread(p[y == t, k]) for k, c in enumerate(ID_CLASSES)}
                                for t in ID_CLASSES[:3]},
            "black": _dark(rows),
            "targets": _headline(lit),
            "targets_without_ambiguous": _headline([r for r in lit if (r["class"], r["group"]) not in AMBIGUOUS]),
            "targets_by_rendering": _by_rendering(lit),
            "separability": per_group(rows), "dark_groups": dark_groups(rows),
            "physics_limits": physics_limits(rows),
            "ore_groups": ore_groups(rows), "ore_recall_with_kin": ore_recall_with_kin(rows),
            "at_prior": {c: bool(np.ptp(p[:, k]) < 1e-3) for k, c in enumerate(ID_CLASSES)}}


def fmt3(x: float) -> str:
    """A figure to 3 decimals for the report tables; "–" for NaN (nothing to score)."""
    return "–" if x != x else f"{x:.3f}"


#: (column label, key of :func:`_headline`, target text, met?) of the target table
_TARGETS = (("non-black contaminants called contaminant", "contaminant_recall", "≥ 0.95", lambda v: v >= 0.95),
            ("ore + gangue called ore", "ore_recall", "≥ 0.95", lambda v: v >= 0.95),
            ("ore + gangue called waste/contaminant with p > 0.5", "ore_wrong_p_over_half", "0", lambda v: v == 0),
            ("contaminant ROC AUC", "contaminant_auc", "≥ 0.95", lambda v: v >= 0.95),
            ("contaminants called ore with p > 0.5", "contaminant_ore_p_over_half", "0", lambda v: v == 0),
            ("ore + gangue with p(ore) > 0.5", "ore_p_ore_over_half", "–", lambda v: True))


def _headline_md(s: dict) -> list[str]:
    """The target table: one row per rendering set (:data:`RENDERING_SETS`; *as measured* is the headline), all
    groups and without the NIR-ambiguous groups; a target not met is marked NO."""
    out = ["| renderings (dark rows apart) | groups | spectra | "
           + " | ".join(label for label, *_ in _TARGETS) + " |", "|---|---|---|" + "---|" * len(_TARGETS),
           "| target | | | " + " | ".join(t for _, _, t, _ in _TARGETS) + " |"]
    for label, per in s["targets_by_rendering"].items():
        for which, name in (("all", "all"), ("without_ambiguous", "without NIR-ambiguous groups")):
            t = per[which]
            cells = []
            for _, key, _, met in _TARGETS:
                v = t[key][0]
                text = str(v) if isinstance(v, int) else fmt3(v)
                cells.append(text if met(v) or v != v else f"{text} NO")
            out.append(f"| {label} | {name} | {t['spectra'][0]} | " + " | ".join(cells) + " |")
    return out


def _spread_md(s: dict) -> list[str]:
    out = ["Spread of each output probability (min / 5 % / 25 % / median / 75 % / 95 % / max), all scored spectra "
           "and per true class:", "", "| true class | output | spread | constant? |", "|---|---|---|---|"]
    for c, q in s["spread"].items():
        out.append(f"| all | p({c}) | {' / '.join(f'{x:.2f}' for x in q)} | {'YES' if s['at_prior'][c] else 'no'} |")
    for t, per in s["spread_by_class"].items():
        for c, q in per.items():
            out.append(f"| {t} | p({c}) | {' / '.join(f'{x:.2f}' for x in q)} | |")
    return out


def _dark_md(s: dict) -> list[str]:
    b = s["black"]
    lo, hi = temper_mod.DARK_WINDOW_NM
    out = [f"Dark, featureless spectra (mean reflectance < {temper_mod.DARK_ALBEDO} over {lo:.0f}–{hi:.0f} nm, no "
           "C–H band; "
           f"outcome `unknown`, group \"{temper_mod.DARK_GROUP}\"), reported apart: {b['n']}; per true class called "
           + "; ".join(f"{k} {v}" for k, v in b["by_class"].items()) + ".", "",
           "| dark class / group | spectra | mean R | deepest band | channel noise | band / noise | "
           "nearer another class | called |", "|---|---|---|---|---|---|---|---|"]
    for g, x in s["dark_groups"].items():
        out.append(f"| {g} | {x['n']} | {x['albedo']:.3f} | {x['band_depth']:.3f} | {x['noise']:.4f} | "
                   f"{x['depth_over_noise']:.0f} | {x['closer_to_other']:.2f} | {x['called']} |")
    return out


def _groups_md(s: dict) -> list[str]:
    out = ["Per material group (dark rows apart). *Nearer another class*: share of the group's spectra whose "
           "nearest reference of another line class is nearer (d²) than the nearest of its own; *AUC*: the group "
           "against the other side (contaminant/waste: p(own class) vs ore; ore: p(ore) vs not ore).", "",
           "| class / material group | spectra | recall | unknown | wrong with p > 0.5 | nearer another class | "
           "d² own / other | AUC | NIR-ambiguous |", "|---|---|---|---|---|---|---|---|---|"]
    for g, x in s["separability"].items():
        lit = s["per_group"][g]
        out.append(f"| {g} | {x['n']} | {fmt3(lit['recall'])} | {fmt3(lit['unknown'])} | "
                   f"{lit['wrong_p_over_half']} | {x['closer_to_other']:.2f} | {x['d2_own']:.1f} / "
                   f"{x['d2_other']:.1f} | {fmt3(x['auc'])} | {x['ambiguous']} |")
    return out


def _moisture_note(report: dict) -> str:
    """How the damp/wet renderings hold their water, and what checks it."""
    n_film = report.get("non_porous", 0)
    return (f"Moisture (:mod:`spectra.identify.wetting`): pore water (Hapke) on porous items, a surface water film "
            f"of {film_um(0.05):.0f} µm (damp) / {film_um(0.10):.0f} µm (wet) on the {n_film} non-porous real "
            "spectra (plastics, metal, paint, glass fibre). Pore water is checked against the measured wet/dry "
            "tunnel sludge (section \"Physics of the simulator\"); **the film model is unchecked**: the shared data "
            "hold no wet/dry measurement of a non-porous item. Pore water is measured against each item's own "
            "solid (wood 1.5, fabrics 1.1–1.4, rubble 2.6 g/cm³; ore, gangue and waste the line's fines, 4.6). "
            + cellulose_markdown(report.get("cellulose_water")))


def _limit_note(report: dict) -> str:
    """The ``unknown`` limit used in the folds (:mod:`spectra.identify.unknown_limit`)."""
    lim = report.get("unknown_limit")
    if not lim or not lim["calibrated_per_fold"]:
        return ""
    q = lim["calibrated_per_fold"]
    return (f"`unknown` limit: nearest-reference d² above the {100 * lim['quantile']:.0f} % quantile of unseen "
            f"samples of known materials, calibrated inside each fold: {q[0]:.1f}–{q[-1]:.1f} (median {q[3]:.1f}; "
            f"the fixed limit was {lim['fixed']:.1f}).")


def markdown(report: dict) -> str:
    """The validation as a markdown section (printed by ``oreline spectra evaluate --loso``)."""
    s = report["summary"]
    out = [f"## Identification, leave one physical sample out ({report['grid']})", "",
           (f"{report['real_spectra']} real spectra × {len(report['renderings'])} renderings "
            f"({', '.join(report['renderings'])}) with detector noise; {report['references']} references. "
            f"Black items (dark, featureless) apart: {s['black']['n']} (classes {s['black']['classes']}) called "
            f"{s['black']['called']}; the black contaminants ({', '.join(s['black']['contaminant_names'])}) "
            f"called {s['black']['contaminants_called']}."), "", _moisture_note(report), "", _limit_note(report),
           "", *_headline_md(s), "", *ore_groups_markdown(s), "",
           "| class | spectra | recall | unknown | not ore | wrong with p > 0.5 | ROC AUC |",
           "|---|---|---|---|---|---|---|"]
    for c, b in s["per_class"].items():
        out.append(f"| {c} | {b['n']} | {b['recall']:.3f} | {b['unknown']:.3f} | {b['not_ore']:.3f} | "
                   f"{b['wrong_p_over_half']} | {s['roc_auc'][c]:.3f} |")
    out += ["", *_spread_md(s), "", *_dark_md(s), "", *_groups_md(s), "",
            *limits_markdown(s["physics_limits"], report["grid"])]
    return "\n".join(out) + "\n"
