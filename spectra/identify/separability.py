"""Which material groups NIR can separate, shown with numbers (leave-one-sample-out rows of
:mod:`spectra.identify.validation`).

* **Separability per group**: the share of the group's spectra whose nearest reference of *another* line class is
  closer (d²) than the nearest of their own class (own physical sample excluded), and the leave-one-sample-out
  ROC AUC of the group against the other side (a contaminant or waste group: p(own class) against ore and gangue;
  an ore group: p(ore) against everything not ore). Near 0.5 means the spectra give no handle.
* **NIR-ambiguous groups** (:data:`AMBIGUOUS`, chosen from the physics before measuring, never from the scores):
  materials whose diagnostic bands are those of ore or gangue on 0.9–1.7 µm. They stay in the headline and are
  also reported apart.
* **Dark, featureless** (:func:`spectra.identify.temper.dark`): per group, the band depth against the spectrum's
  own channel noise and the albedo, to show there is nothing to tell them apart by.
"""

from __future__ import annotations

import numpy as np

from spectra.models.evaluation import roc_curve

#: (line class, material group) → why NIR cannot separate it from the other side
AMBIGUOUS: dict[tuple[str, str], str] = {
    ("contaminant", "building rubble"): "brick and tile are fired clay with hematite: the Fe³⁺ edge and clay O–H "
                                        "of lateritic ore",
    ("contaminant", "gypsum"): "the 1.45 µm O–H/H₂O band of gibbsite and hydrated gangue (its 1.75 µm band is "
                               "off a 900–1700 nm grid)",
    ("ore", "gibbsite"): "its strong 1.45 µm O–H band is gypsum's",
    ("contaminant", "metal / paint"): "bare metal is featureless and grey; paint shows its pigment, not the metal",
}


def _auc(rows: list[dict], members: list[bool], col: int, against: list[bool]) -> float:
    p = np.array([r["p"][col] for r, m, a in zip(rows, members, against) if m or a])
    y = np.array([m for m, a in zip(members, against) if m or a], bool)
    return roc_curve(p, y)[2] if 0 < y.sum() < y.size else float("nan")


def per_group(rows: list[dict]) -> dict[str, dict]:
    """Per "class / group" (dark rows left out): spectra, share closer to another class, median d² to the nearest
    own-class and other-class reference, ROC AUC against the other side, NIR-ambiguous reason ("" if not)."""
    lit = [r for r in rows if not r["black"]]
    out: dict[str, dict] = {}
    for cls, grp in sorted({(r["class"], r["group"]) for r in lit}):
        mem = [(r["class"], r["group"]) == (cls, grp) for r in lit]
        other = [(r["class"] == "ore") if cls != "ore" else (r["class"] != "ore") for r in lit]
        g = [r for r, m in zip(lit, mem) if m]
        own, oth = np.array([r["d2_own"] for r in g]), np.array([r["d2_other"] for r in g])
        out[f"{cls} / {grp}"] = {
            "n": len(g), "closer_to_other": float(np.mean(oth < own)),
            "d2_own": float(np.median(own)), "d2_other": float(np.median(oth)),
            "auc": _auc(lit, mem, ("ore", "waste", "contaminant").index(cls), other),
            "ambiguous": AMBIGUOUS.get((cls, grp), "")}
    return out


def dark_groups(rows: list[dict]) -> dict[str, dict]:
    """Per "class / group" of the dark, featureless rows: spectra, median mean reflectance, median deepest band,
    median channel noise, median deepest band over noise, share nearer another class's reference, and what they
    were called."""
    out: dict[str, dict] = {}
    for cls, grp in sorted({(r["class"], r["group"]) for r in rows if r["black"]}):
        g = [r for r in rows if r["black"] and (r["class"], r["group"]) == (cls, grp)]
        called: dict[str, int] = {}
        for r in g:
            called[r["called"]] = called.get(r["called"], 0) + 1
        out[f"{cls} / {grp}"] = {
            "n": len(g), "albedo": float(np.median([r["albedo"] for r in g])),
            "band_depth": float(np.median([r["max_band_depth"] for r in g])),
            "noise": float(np.median([r["noise"] for r in g])),
            "depth_over_noise": float(np.median([r["max_band_depth"] / max(r["noise"], 1e-6) for r in g])),
            "closer_to_other": float(np.mean([r["d2_other"] < r["d2_own"] for r in g])), "called": called}
    return out
