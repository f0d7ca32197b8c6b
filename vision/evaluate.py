"""Scoring detections against simulation truth: matching, recall/precision per kind and size class, and the numbers a
detection shows users (its probability, its length) against what the scene holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from vision.detect import Detection
from vision.scene import SceneObject

#: Size classes by object length (mm): label → [lo, hi).
SIZE_CLASSES = {"<50 mm": (0.0, 50.0), "50-100 mm": (50.0, 100.0), "100-300 mm": (100.0, 300.0), ">=300 mm": (300.0, np.inf)}
MATCH_MARGIN_MM = 40.0
#: Reported-probability bins of :func:`reliability` ([lo, hi), the last closed): a detection of an evidence that carries
#: no probability of its own (thin sticks, planks, the matched filter, the pixel net) reports exactly 1.0 and is
#: binned apart (:data:`EVIDENCE_BIN`), so it is not taken for a classifier that is sure.
PROBABILITY_BINS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0))
EVIDENCE_BIN = "1.0 (evidence)"
#: Kinds whose probability is not p(kind | object): ``uncertain`` reports the foreign mass given an object.
UNCERTAIN_KIND = "uncertain"
LUMP_KIND = "lump"


def size_class(length_mm: float) -> str:
    for name, (lo, hi) in SIZE_CLASSES.items():
        if lo <= length_mm < hi:
            return name
    raise ValueError(f"length must be >= 0 mm, got {length_mm}")


@dataclass
class Match:
    """Truth objects with the detection matched to each (or None), detections near no object (false alarms) and
    further detections on an object that already has one (duplicates: a split object)."""

    pairs: list[tuple[SceneObject, Detection | None]]
    false_alarms: list[Detection]
    duplicates: list[Detection] = field(default_factory=list)


def match(truth: Sequence[SceneObject], detections: Sequence[Detection], *, origin_belt_m: float = 0.0) -> Match:
    """Match each truth object to the nearest unmatched detection whose centre lies within half the object's
    length plus MATCH_MARGIN_MM of the object's centre. Truth ``belt_mm`` is relative to ``origin_belt_m``."""
    det_pos = np.array([[(d.belt_m - origin_belt_m) * 1000.0, d.lateral_m * 1000.0] for d in detections]).reshape(-1, 2)
    used = np.zeros(len(detections), bool)
    pairs: list[tuple[SceneObject, Detection | None]] = []
    for obj in sorted(truth, key=lambda o: -o.length_mm):
        if len(detections):
            d = np.hypot(det_pos[:, 0] - obj.belt_mm, det_pos[:, 1] - obj.lateral_mm)
            d[used] = np.inf
            i = int(np.argmin(d))
            if d[i] <= obj.length_mm / 2 + MATCH_MARGIN_MM:
                used[i] = True
                pairs.append((obj, detections[i]))
                continue
        pairs.append((obj, None))
    rest = [i for i in range(len(detections)) if not used[i]]
    dup = np.zeros(len(detections), bool)
    for obj in truth:
        if rest:
            d = np.hypot(det_pos[rest, 0] - obj.belt_mm, det_pos[rest, 1] - obj.lateral_mm)
            dup[np.asarray(rest)[d <= obj.length_mm / 2 + MATCH_MARGIN_MM]] = True
    return Match(pairs, [d for i, d in enumerate(detections) if not used[i] and not dup[i]],
                 [d for i, d in enumerate(detections) if not used[i] and dup[i]])


def score_table(m: Match, belt_m: float) -> dict:
    """Recall per kind and size class, precision per detected kind, false alarms per 1,000 m of belt, and the reported
    probabilities and lengths against the truth (:func:`reliability`, :func:`size_agreement`)."""
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for obj, det in m.pairs:
        big = obj.length_mm >= 50
        for key in (("kind", obj.kind), ("size", size_class(obj.length_mm)), ("all", "all"),
                    ("size>=50", "all") if big else None, ("kind>=50", obj.kind) if big else None):
            if key is None:
                continue
            r = rows.setdefault(key, {"objects": 0, "detected": 0, "kind_correct": 0})
            r["objects"] += 1
            r["detected"] += det is not None
            r["kind_correct"] += det is not None and det.kind == obj.kind
    for r in rows.values():
        r["recall"] = r["detected"] / r["objects"] if r["objects"] else float("nan")
    precision = {}
    matched = [d for _, d in m.pairs if d is not None]
    for kind in sorted({d.kind for d in matched} | {d.kind for d in m.false_alarms}):
        tp = sum(1 for o, d in m.pairs if d is not None and d.kind == kind and o.kind == kind)
        n = sum(1 for d in matched if d.kind == kind) + sum(1 for d in m.false_alarms if d.kind == kind)
        precision[kind] = tp / n if n else float("nan")
    n_det = len(matched) + len(m.false_alarms)
    return {
        "recall": {f"{k[0]}:{k[1]}": v for k, v in rows.items()},
        "precision_by_kind": precision,
        "detection_precision": len(matched) / n_det if n_det else float("nan"),
        "false_alarms": len(m.false_alarms),
        "duplicates": len(m.duplicates),
        "belt_m": belt_m,
        "false_alarms_per_1000_m": 1000.0 * len(m.false_alarms) / belt_m if belt_m > 0 else float("nan"),
        "false_alarms_per_1000_m_upper95": 1000.0 * _poisson_upper95(len(m.false_alarms)) / belt_m if belt_m > 0 else float("nan"),
        "reliability": reliability(m),
        "size": size_agreement(m),
    }


def claim_holds(obj: SceneObject | None, det: Detection) -> bool:
    """Whether what ``det``'s probability is a probability of holds for the object it lies on (None: on none, a false
    alarm): its kind for a kind, any foreign object (not a lump) for ``uncertain``."""
    if obj is None:
        return False
    if det.kind == UNCERTAIN_KIND:
        return obj.kind != LUMP_KIND
    return obj.kind == det.kind


def class_holds(obj: SceneObject | None, det: Detection) -> bool:
    """Whether ``det`` is right at the level the verdict uses: called foreign (any foreign kind or ``uncertain``) on a
    foreign object, called a lump on a lump (None: a false alarm, never)."""
    return obj is not None and (obj.kind == LUMP_KIND) == (det.kind == LUMP_KIND)


def reliability(m: Match) -> dict:
    """The reported probabilities against the truth: per bin of :data:`PROBABILITY_BINS` (and the evidences' 1.0) the
    detections, their mean probability, the share whose claim holds (:func:`claim_holds`; false alarms never) and the
    share right at the verdict's level (:func:`class_holds`: foreign or lump); the
    expected calibration error over the classifier's bins (detections-weighted mean |mean probability - share|)."""
    scored = [(o, d) for o, d in m.pairs if d is not None] + [(None, d) for d in m.false_alarms]
    p = np.array([d.probability for _, d in scored], float)
    held = np.array([claim_holds(o, d) for o, d in scored], bool)
    right_class = np.array([class_holds(o, d) for o, d in scored], bool)
    rows, gap, n_classified = [], 0.0, 0
    for lo, hi in PROBABILITY_BINS:
        sel = (p >= lo) & (p < hi)
        rows.append(_bin_row(f"{lo:.1f}-{hi:.1f}", p[sel], held[sel], right_class[sel]))
        if sel.any():
            gap += float(sel.sum()) * abs(float(p[sel].mean()) - float(held[sel].mean()))
            n_classified += int(sel.sum())
    rows.append(_bin_row(EVIDENCE_BIN, p[p >= 1.0], held[p >= 1.0], right_class[p >= 1.0]))
    return {"bins": rows, "expected_calibration_error": gap / n_classified if n_classified else float("nan")}


def _bin_row(name: str, p: np.ndarray, held: np.ndarray, right_class: np.ndarray) -> dict:
    return {"bin": name, "detections": int(p.size), "mean_probability": float(p.mean()) if p.size else float("nan"),
            "observed": float(held.mean()) if held.size else float("nan"),
            "foreign_or_lump_right": float(right_class.mean()) if right_class.size else float("nan")}


def size_agreement(m: Match, min_length_mm: float = 50.0) -> dict:
    """Reported length against the true length of each found object >= ``min_length_mm``: quartiles of
    reported / true and the share within 25 %; apart for objects less and more than 20 % buried (a buried object shows
    only its visible part, which is all the camera can measure)."""
    out = {}
    for name, keep in (("all", lambda o: True), ("buried < 0.2", lambda o: o.buried < 0.2), ("buried >= 0.2", lambda o: o.buried >= 0.2)):
        r = np.array([d.length_mm / o.length_mm for o, d in m.pairs if d is not None and o.length_mm >= min_length_mm and keep(o)], float)
        q = np.quantile(r, (0.25, 0.5, 0.75)) if r.size else np.full(3, np.nan)
        out[name] = {"objects": int(r.size), "ratio_q25": float(q[0]), "ratio_median": float(q[1]), "ratio_q75": float(q[2]),
                     "within_25pct": float(np.mean(np.abs(r - 1.0) <= 0.25)) if r.size else float("nan")}
    return out


def truth_lines(table: dict) -> list[str]:
    """What ``vision evaluate`` prints of a table's reliability and sizes (one line each)."""
    rel, size = table["reliability"], table["size"]["all"]
    bins = ", ".join(f"{b['bin']}: {b['detections']} at {b['mean_probability']:.2f} -> {b['observed']:.2f} "
                     f"({b['foreign_or_lump_right']:.2f})" for b in rel["bins"] if b["detections"])
    return [f"probability against the truth (bin: detections at mean probability -> share of the kind right (share foreign or "
            f"lump right)): {bins or 'no detections'}; "
            f"calibration error {rel['expected_calibration_error']:.3f}",
            f"length against the truth (objects >= 50 mm found: {size['objects']}): reported / true median {size['ratio_median']:.2f} "
            f"(quartiles {size['ratio_q25']:.2f}-{size['ratio_q75']:.2f}), within 25 %: {size['within_25pct']:.2f}"]


def _poisson_upper95(k: int) -> float:
    """The 95 % upper bound of a Poisson mean with ``k`` events seen: chi2.ppf(0.95, 2k + 2) / 2, which scipy computes
    as gammaincinv(k + 1, 0.95) (the same float), without importing scipy.stats (~0.5 CPU s of every evaluate)."""
    from scipy.special import gammaincinv

    return float(gammaincinv(k + 1, 0.95))
