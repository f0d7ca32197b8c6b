"""Validation reports: held-out library samples (simulated mixtures) or any labelled folder of spectra.

Held-out mode uses only the sample groups the model did not train on (recorded in the model), so the same
physical sample is never on both sides. It reports the per-spectrum confusion matrix and one-vs-rest ROC,
novelty flag rates, unmixing error on synthetic held-out mixtures, and the segment-level detection rate
versus admixture mass fraction (1, 2, 5, 10, 20 %) with the false-alarm rate on ore-only segments.
Folder mode scores files listed in a ``file,class`` CSV (USGS JSON, ECOSTRESS text, CSV, JCAMP-DX, HDF5).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from spectra.errors import GridError, SpectraError, SpectrumFormatError
from spectra.formats import read_spectra
from spectra.lotdetector import LotDetector
from spectra.lots import simulate_lot
from spectra.materials import mineral_of
from spectra.models.bundle import CLASSES, SpectraModel
from spectra.models.fingerprint_eval import fingerprint_markdown
from spectra.models.heldout import held_out_world
from spectra.grid import InstrumentGrid, resolve_grid
from spectra.labels import read_labels
from spectra.models.training import LabelledSpectra, TrainConfig, simulate_classifier_set, simulate_segments
from spectra.resample import to_grid
from spectra.segment_stats import score_segment
from spectra.separability import Separability, markdown as separability_markdown, separability

FRACTIONS = (0.01, 0.02, 0.05, 0.10, 0.20)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k), int)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """False-positive rate, true-positive rate and AUC for ``scores`` against boolean ``positive``. Tied scores
    are one threshold (the curve crosses them diagonally: ties count half, whatever the order of the rows)."""
    if np.size(scores) == 0:
        return np.zeros(1), np.zeros(1), float("nan")
    order = np.argsort(-scores, kind="stable")
    pos = np.asarray(positive, bool)[order]
    last = np.flatnonzero(np.r_[np.diff(np.asarray(scores)[order]) != 0, True])  # last row of each tied score
    tp = np.concatenate([[0], np.cumsum(pos)[last]])
    fp = np.concatenate([[0], np.cumsum(~pos)[last]])
    tpr = tp / max(pos.sum(), 1)
    fpr = fp / max((~pos).sum(), 1)
    return fpr, tpr, float(np.trapezoid(tpr, fpr))


def _segment_rates(model: SpectraModel, segs: np.ndarray) -> dict:
    n_seg, n_spec, _ = segs.shape
    b = model.score(segs.reshape(n_seg * n_spec, -1), unmix=False)
    rs = lambda a: a.reshape(n_seg, n_spec)  # noqa: E731
    scores = [score_segment(rs(b.p_waste)[i], rs(b.p_contaminant)[i], rs(b.novel)[i], rs(b.valid)[i],
                            model.calibration, rs(b.p_ore)[i]) for i in range(n_seg)]
    fw = np.array([s.flagged_waste for s in scores])
    fc = np.array([s.flagged_contaminant for s in scores])
    return {"flagged_waste": float(fw.mean()), "flagged_contaminant": float(fc.mean()),
            "flagged_any": float((fw | fc).mean()), "novelty_fraction": float(np.mean([s.novelty_fraction for s in scores]))}


def evaluate_heldout(model: SpectraModel, *, n_segments: int = 200, spectra_per_segment: int = 60,
                     n_per_class: int = 1500, seed: int = 7, progress: Callable[[str], None] | None = None) -> dict:
    """Report dict for the model's held-out library groups (see module docstring)."""
    say = progress or (lambda _m: None)
    groups, rlib, sim, det, rng = held_out_world(model, seed)
    report: dict = {"model_version": model.model_version, "model_hash": model.training_hash,
                    "grid": model.grid.name, "held_out_groups": groups,
                    "held_out_files": [e.file for e in rlib.entries if e.group in set(groups)]}
    # per-spectrum classes as the classifier defines them: genuine cargo vs spots mostly of waste / contaminant
    X, y = simulate_classifier_set(sim, det, rng, n_per_class, TrainConfig())
    b = model.score(X)
    pred = np.argmax(b.p, axis=1)
    report["spectrum_level"] = {
        "classes": list(CLASSES), "confusion": confusion(y, pred, len(CLASSES)).tolist(),
        "accuracy": float(np.mean(pred == y)),
        "roc_auc": {c: roc_curve(b.p[:, i], y == i)[2] for i, c in enumerate(CLASSES)},
        "novel_rate": {c: float(b.novel[y == i].mean()) for i, c in enumerate(CLASSES)},
    }
    say(f"held-out spectra: accuracy {report['spectrum_level']['accuracy']:.3f}")
    report["_roc"] = {c: [a.tolist() for a in roc_curve(b.p[:, i], y == i)[:2]] for i, c in enumerate(CLASSES)}
    # unmixing on clean held-out mixtures of the minerals the unmixer knows
    comps = sim.ore_blends(rng, 300)
    truth_entries = [model.unmixer.minerals.index(m) if m in model.unmixer.minerals else -1
                     for m in (_mineral(e.material) for e in rlib.entries)]
    truth = np.zeros((comps.shape[0], len(model.minerals)))
    for j, mi in enumerate(truth_entries):
        if mi >= 0:
            truth[:, mi] += comps[:, j]
    ab, res = model.unmixer.unmix(sim.render(comps, None, conditions=False))
    report["unmixing"] = {"minerals": model.minerals, "mae_mass_fraction": float(np.nanmean(np.abs(ab - truth))),
                          "mean_residual": float(np.mean(res))}
    # segment level
    n0 = max(n_segments, 400)
    ore = _segment_rates(model, simulate_segments(sim, det, rng, n0, spectra_per_segment))
    report["segment_level"] = {"spectra_per_segment": spectra_per_segment, "ore_only_segments": n0,
                               "false_alarm": ore, "detection": {}}
    say(f"ore-only segments: false alarms {100 * ore['flagged_any']:.1f} %")
    for klass in ("waste", "contaminant"):
        pool = sim.pool(klass)
        rows = {}
        for f in FRACTIONS:
            rows[f"{f:.2f}"] = _segment_rates(model, simulate_segments(sim, det, rng, n_segments, spectra_per_segment,
                                                                      admix_pool=pool, mass_frac=f))
            say(f"{klass} {100 * f:.0f} %: detected {100 * rows[f'{f:.2f}']['flagged_any']:.1f} %")
        per_material = {}
        for i in pool:
            r = _segment_rates(model, simulate_segments(sim, det, rng, max(40, n_segments // 5), spectra_per_segment,
                                                        admix_pool=np.array([i]), mass_frac=0.05))
            per_material[rlib.entries[i].usgs_name] = r["flagged_any"]
        report["segment_level"]["detection"][klass] = {"by_fraction": rows, "by_material_at_5pct": per_material}
    d5 = report["segment_level"]["detection"]["waste"]["by_fraction"]["0.05"]["flagged_any"]
    report["legacy_target_5pct_waste"] = {"sensitivity": d5, "false_alarm": ore["flagged_any"],
                                          "met": bool(d5 >= 0.95 and ore["flagged_any"] <= 0.01)}
    return report


def _mineral(material: str) -> str | None:
    return mineral_of(material)


def read_labelled_folder(folder: str | Path, labels: str | Path,
                         grid: str | InstrumentGrid = "full") -> LabelledSpectra:
    """Every spectrum of the files ``labels`` names in ``folder`` on ``grid`` (a name or a grid), with its class,
    and the SHA-256 of the files' bytes (field spectra for ``oreline spectra train``). Spectra already on the
    grid are kept as they are; others are convolved to it. SpectrumFormatError/GridError naming the file."""
    import hashlib

    g = grid if isinstance(grid, InstrumentGrid) else resolve_grid(grid)
    rows, labs, h = [], [], hashlib.sha256()
    for name, klass in read_labels(labels):
        p = Path(folder) / name
        h.update(p.read_bytes())
        for s in read_spectra(p):
            rows.append(to_grid(s.wavelength_nm, s.reflectance, g, what=str(p)))
            labs.append(klass)
    return LabelledSpectra(np.vstack(rows), labs, g.wavelength_nm, h.hexdigest())


def evaluate_folder(model: SpectraModel, folder: str | Path, labels_csv: str | Path,
                    progress: Callable[[str], None] | None = None) -> dict:
    """Score every labelled file of ``folder``; unreadable files are listed as errors, not silently dropped."""
    say = progress or (lambda _m: None)
    folder = Path(folder)
    rows, y, files, errors, notes = [], [], [], [], []
    for name, klass in read_labels(labels_csv):
        try:
            spectra = read_spectra(folder / name)
            for s in spectra:
                rows.append(to_grid(s.wavelength_nm, s.reflectance, model.grid, what=str(folder / name)))
                y.append(CLASSES.index("ore" if klass == "gangue" else klass))
                files.append(name)
        except (SpectrumFormatError, GridError, OSError) as exc:
            errors.append({"file": name, "error": str(exc)})
        else:
            notes += [{"file": name, "note": note} for sp in spectra for note in sp.meta.get("notes", [])]
    say(f"{len(rows)} spectra read, {len(errors)} files failed")
    for e in errors + notes:
        say(f"{e['file']}: {e.get('error') or e['note']}")
    report: dict = {"model_version": model.model_version, "model_hash": model.training_hash,
                    "grid": model.grid.name, "test_library": str(folder), "errors": errors, "notes": notes,
                    "n_spectra": len(rows)}
    if not rows:
        report["spectrum_level"] = None
        return report
    b = model.score(np.vstack(rows))
    yt = np.array(y)
    pred = np.where(b.valid, np.argmax(np.nan_to_num(b.p, nan=-1), axis=1), -1)
    ok = pred >= 0
    report["spectrum_level"] = {
        "classes": list(CLASSES), "confusion": confusion(yt[ok], pred[ok], len(CLASSES)).tolist(),
        "accuracy": float(np.mean(pred[ok] == yt[ok])) if ok.any() else float("nan"),
        "invalid": int((~ok).sum()),
        "roc_auc": {c: (roc_curve(b.p[ok, i], yt[ok] == i)[2] if 0 < (yt[ok] == i).sum() < ok.sum() else None)
                    for i, c in enumerate(CLASSES)},
        "novel_rate": {c: (float(b.novel[ok & (yt == i)].mean()) if (ok & (yt == i)).any() else None)
                       for i, c in enumerate(CLASSES)},
    }
    report["_roc"] = {c: [a.tolist() for a in roc_curve(b.p[ok, i], yt[ok] == i)[:2]]
                      for i, c in enumerate(CLASSES) if 0 < (yt[ok] == i).sum() < ok.sum()}
    report["per_file"] = [
        {"file": f, "class": CLASSES[t], "p": [round(float(v), 4) for v in p], "novel": bool(n), "valid": bool(v)}
        for f, t, p, n, v in zip(files, yt, b.p, b.novel, b.valid)]
    return report


def write_report(report: dict, out_dir: str | Path) -> list[Path]:
    """Write report.json, report.md and PNG plots (confusion, ROC, detection vs fraction) to ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    roc = report.pop("_roc", {})
    written = []
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float))
    written.append(out / "report.json")
    sl = report.get("spectrum_level")
    if sl:
        cm = np.array(sl["confusion"])
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center")
        ax.set_xticks(range(len(CLASSES)), CLASSES)
        ax.set_yticks(range(len(CLASSES)), CLASSES)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title("confusion matrix")
        fig.tight_layout()
        fig.savefig(out / "confusion.png", dpi=100)
        plt.close(fig)
        written.append(out / "confusion.png")
    if roc:
        fig, ax = plt.subplots(figsize=(4, 4))
        for c, (fpr, tpr) in roc.items():
            ax.plot(fpr, tpr, label=c)
        ax.plot([0, 1], [0, 1], "k:")
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("true-positive rate")
        ax.legend()
        ax.set_title("ROC (one vs rest)")
        fig.tight_layout()
        fig.savefig(out / "roc.png", dpi=100)
        plt.close(fig)
        written.append(out / "roc.png")
    seg = report.get("segment_level")
    if seg:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for klass, d in seg["detection"].items():
            fr = [float(k) * 100 for k in d["by_fraction"]]
            ax.plot(fr, [v["flagged_any"] * 100 for v in d["by_fraction"].values()], "o:", label=f"{klass} (legacy)")
        ax.axhline(seg["false_alarm"]["flagged_any"] * 100, color="r", ls=":", label="false alarms (legacy)")
        lots = report.get("lots")
        if lots:
            fr = [float(k) * 100 for k in lots["sensitivity"]]
            ax.plot(fr, [100 * v for v in lots["sensitivity"].values()], "s-", color="k", label="waste, lot detector")
            ax.axhline(100 * lots["false_alarm"], color="r", ls="--", label="false alarms, lot detector")
        ax.axhline(95, color="g", ls=":", label="95 % target")
        ax.set_xscale("log")
        ax.set_xlabel("admixture, % of mass")
        ax.set_ylabel("segments flagged, %")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "detection.png", dpi=100)
        plt.close(fig)
        written.append(out / "detection.png")
    (out / "report.md").write_text(markdown(report))
    written.append(out / "report.md")
    return written


def markdown(report: dict) -> str:
    """Human-readable summary of a report dict."""
    lines = [f"# NIR model validation — {report.get('model_version')} ({report.get('model_hash', '')[:12]})", "",
             f"Grid: {report.get('grid')}", ""]
    sl = report.get("spectrum_level")
    if sl:
        lines += ["## Spectrum level", "", f"Accuracy: {sl['accuracy']:.3f}", "",
                  "| true \\ predicted | " + " | ".join(sl["classes"]) + " |",
                  "|---|" + "---|" * len(sl["classes"])]
        for c, row in zip(sl["classes"], sl["confusion"]):
            lines.append(f"| {c} | " + " | ".join(str(v) for v in row) + " |")
        lines += ["", "ROC AUC: " + ", ".join(f"{c} {v:.3f}" for c, v in sl["roc_auc"].items() if v is not None),
                  "", "Novel rate: " + ", ".join(f"{c} {v:.3f}" for c, v in sl["novel_rate"].items() if v is not None), ""]
    if report.get("unmixing"):
        u = report["unmixing"]
        lines += ["## Unmixing (clean held-out mixtures)", "",
                  f"Mean absolute error {u['mae_mass_fraction']:.3f} (mass fraction), residual {u['mean_residual']:.4f}", ""]
    seg = report.get("segment_level")
    if seg:
        fa = seg["false_alarm"]
        lines += ["## Segment level — legacy classifier statistic (independent random blends; not used by the line)",
                  "",
                  f"{seg['spectra_per_segment']} spectra per segment; false alarms on "
                  f"{seg['ore_only_segments']} held-out ore-only segments: {100 * fa['flagged_any']:.2f} %", "",
                  "| admixture | " + " | ".join(f"{float(k) * 100:.0f} %" for k in next(iter(seg["detection"].values()))["by_fraction"]) + " |",
                  "|---|" + "---|" * len(FRACTIONS)]
        for klass, d in seg["detection"].items():
            lines.append(f"| {klass} | " + " | ".join(f"{100 * v['flagged_any']:.1f} %" for v in d["by_fraction"].values()) + " |")
        t = report["legacy_target_5pct_waste"]
        lines += ["", f"Legacy per-spectrum-classifier statistic, 5 % waste: sensitivity "
                  f"{100 * t['sensitivity']:.1f} %, false alarms {100 * t['false_alarm']:.2f} % — "
                  f"{'MET' if t['met'] else 'NOT MET'}", ""]
        for klass, d in seg["detection"].items():
            lines += [f"### {klass} at 5 % by held-out material", ""]
            lines += [f"- {k}: {100 * v:.0f} %" for k, v in d["by_material_at_5pct"].items()]
            lines.append("")
    lots = report.get("lots")
    if lots:
        lines += lot_markdown(lots)
    if report.get("fingerprints"):
        lines += fingerprint_markdown(report["fingerprints"])
    for section in report.get("sections_md", []):  # sections rendered by their own modules (groupcheck)
        lines += [section]
    if report.get("errors"):
        lines += ["## Files that could not be scored", ""] + [f"- {e['file']}: {e['error']}" for e in report["errors"]]
    return "\n".join(lines) + "\n"


# --- lot-level (segment) detection on held-out lots -------------------------------------------------------
def evaluate_lots(model: SpectraModel, *, n_lots: int = 40, n_segments: int = 14, start_segment: int = 6,
                  spectra_per_segment: int = 60, fractions: tuple[float, ...] = FRACTIONS,
                  whole_lot_fractions: tuple[float, ...] = (0.05, 0.2, 0.5, 0.9), seed: int = 11,
                  progress: Callable[[str], None] | None = None) -> dict:
    """Segment-level detection of the lot detector on lots built ONLY from held-out samples.

    Each lot: a random blend of held-out ore/gangue samples with within-lot fluctuations
    (:mod:`spectra.lots`), scored segment by segment by :class:`spectra.lotdetector.LotDetector`.
    False alarms: clean lots, every scored segment. Sensitivity at each fraction: lots whose segments from
    ``start_segment`` on carry that mass fraction of one held-out waste sample (cycled over the samples);
    the flag rate over those segments. Whole-lot waste: admixture from the first tonne.
    """
    say = progress or (lambda _m: None)
    if model.lot_detector is None or model.lot_detector.thresholds is None:
        raise SpectraError("model has no calibrated lot detector; retrain with this version")
    groups, rlib, sim, det, rng = held_out_world(model, seed)
    lot_model = model.lot_detector
    pool = sim.pool("waste")

    def run(n_seg: int, idx: int | None, frac: np.ndarray | float) -> list:
        r = simulate_lot(sim, det, rng, n_seg, spectra_per_segment, admix_index=idx, mass_frac=frac)
        d = LotDetector(lot_model)
        return [d.update(s) for s in r]

    def flagged(dec) -> bool:
        return bool(dec.flagged_waste or dec.flagged_contaminant)

    clean = [run(n_segments, None, 0.0) for _ in range(n_lots)]
    scored = [d for lot in clean for d in lot if not d.warmup or flagged(d)]
    fa = float(np.mean([flagged(d) for d in scored])) if scored else float("nan")
    fa_by_pos = [float(np.mean([flagged(lot[i]) for lot in clean])) for i in range(n_segments)]
    post = [d for lot in clean for d in lot if not d.warmup]
    fa_lot = float(np.mean([bool(d.flagged_waste or d.flagged_contaminant) and not d.library_flag for d in post])) \
        if post else float("nan")
    fa_lib = float(np.mean([d.library_flag for lot in clean for d in lot]))
    say(f"held-out clean lots: false alarms {100 * fa:.2f} % of {len(scored)} scored segments "
        f"(lot statistic {100 * fa_lot:.2f} %, library-only flags {100 * fa_lib:.2f} % of segments)")
    report: dict = {"grid": model.grid.name, "n_lots": n_lots, "segments_per_lot": n_segments,
                    "spectra_per_segment": spectra_per_segment, "start_segment": start_segment,
                    "warmup_segments": lot_model.params.warmup_segments,
                    "held_out_waste": [rlib.entries[i].usgs_name for i in pool],
                    "false_alarm": fa, "false_alarm_by_position": fa_by_pos,
                    "false_alarm_lot_statistic": fa_lot, "library_flag_rate_clean": fa_lib,
                    "lots_library_flagged": float(np.mean([any(d.library_flag for d in lot) for lot in clean])),
                    "scored_clean_segments": len(scored),
                    "thresholds": lot_model.thresholds.to_dict() if lot_model.thresholds is not None else None,
                    "sensitivity": {}, "by_material": {},
                    "first_flag_segment": {}, "whole_lot": {},
                    "separability": [r.to_dict() for r in separability(rlib, "waste", groups=set(groups))]}
    for f in fractions:
        frac = np.where(np.arange(n_segments) >= start_segment, f, 0.0)
        hits: list[bool] = []
        per: dict[str, list[bool]] = {}
        first: list[int | None] = []
        for k in range(n_lots):
            idx = int(pool[k % pool.size])
            lot = run(n_segments, idx, frac)
            fl = [flagged(d) for d in lot[start_segment:]]
            hits += fl
            per.setdefault(rlib.entries[idx].usgs_name, []).extend(fl)
            first.append(next((i for i, x in enumerate(fl) if x), None))
        report["sensitivity"][f"{f:.2f}"] = float(np.mean(hits))
        report["by_material"][f"{f:.2f}"] = {k: float(np.mean(v)) for k, v in per.items()}
        report["first_flag_segment"][f"{f:.2f}"] = float(np.mean([x is not None and x == 0 for x in first]))
        say(f"held-out waste {100 * f:.0f} %: {100 * report['sensitivity'][f'{f:.2f}']:.1f} % of segments flagged")
    for f in whole_lot_fractions:
        flags = []
        for k in range(max(8, n_lots // 4)):
            lot = run(min(n_segments, 6), int(pool[k % pool.size]), f)
            flags.append([flagged(d) for d in lot])
        whole = np.array(flags)
        report["whole_lot"][f"{f:.2f}"] = {"segments_flagged": float(whole.mean()),
                                           "lots_with_a_flag_in_first_3": float(whole[:, :3].any(axis=1).mean())}
        say(f"whole-lot waste {100 * f:.0f} % from the first tonne: {100 * whole.mean():.0f} % of segments flagged")
    s5 = report["sensitivity"].get("0.05", float("nan"))
    report["target_5pct_waste"] = {"sensitivity": s5, "false_alarm": fa, "met": bool(s5 >= 0.95 and fa <= 0.01)}
    return report


def lot_markdown(lots: dict) -> list[str]:
    """Markdown lines for an :func:`evaluate_lots` result."""
    fr = list(lots["sensitivity"])
    t = lots["target_5pct_waste"]
    lines = ["## Segment level — lot detector on held-out lots (what the line uses)", "",
             f"Grid {lots['grid']}; {lots['n_lots']} lots of {lots['segments_per_lot']} segments x "
             f"{lots['spectra_per_segment']} spectra, ore and waste from held-out samples only; waste from segment "
             f"{lots['start_segment']} on; first {lots['warmup_segments']} segments are warm-up.", "",
             f"False alarms: {100 * lots['false_alarm']:.2f} % of {lots['scored_clean_segments']} scored clean "
             f"segments (lot statistic {100 * lots['false_alarm_lot_statistic']:.2f} %, library-only "
             f"{100 * lots['library_flag_rate_clean']:.2f} %)", "",
             "| waste, % of mass | " + " | ".join(f"{float(k) * 100:.0f} %" for k in fr) + " |",
             "|---|" + "---|" * len(fr),
             "| segments flagged | " + " | ".join(f"{100 * lots['sensitivity'][k]:.1f} %" for k in fr) + " |",
             "| first waste segment flagged | "
             + " | ".join(f"{100 * lots['first_flag_segment'][k]:.0f} %" for k in fr) + " |",
             "", f"Target (5 % waste: >= 95 % sensitivity at <= 1 % false alarms): sensitivity "
             f"{100 * t['sensitivity']:.1f} %, false alarms {100 * t['false_alarm']:.2f} % — "
             f"{'MET' if t['met'] else 'NOT MET'}", ""]
    for k, per in lots["by_material"].items():
        lines.append(f"- {float(k) * 100:.0f} %: " + ", ".join(f"{m} {100 * v:.0f} %" for m, v in per.items()))
    if lots.get("separability"):
        lines += ["", "How distinct each held-out waste spectrum is from any ore blend (spectra/separability.py; "
                  "a 5 % admixture is evidence of waste only through its distinct signal):", ""]
        lines += separability_markdown([Separability(**{**r, "nearest": tuple(r["nearest"])})
                                        for r in lots["separability"]])
    if lots.get("whole_lot"):
        lines += ["", "Whole-lot waste (admixture from the first tonne; the baseline cannot see it):", ""]
        lines += [f"- {float(k) * 100:.0f} %: {100 * v['segments_flagged']:.0f} % of segments flagged"
                  for k, v in lots["whole_lot"].items()]
    return lines + [""]
