"""Measuring the kind a detection is reported as: ore lumps against foreign objects.

A large ore lump is reported as kind ``lump`` (oversize, not contamination); if it is called ``metal`` the segment and
the lot become contaminated (a false contamination). A foreign object called ``lump`` silently drops a real
contamination. :func:`kind_records` runs the detector over simulated belt of one scene type and keeps, per reported
detection, its truth kind (``"none"`` for a detection on no object) and the classifier's probabilities, so that any
kind rule (:mod:`vision.kind_decision`) can be scored on the same belt without running the detector again;
:func:`confusion` and :func:`kind_rates` turn them into a truth x reported table and the two operational rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vision.evaluate import match
from vision.fit import VisionModel
from vision.frontier import TARGET_MM, every_candidate
from vision.kind_decision import LUMP, UNCERTAIN, KindRule, decide_kinds, is_foreign
from vision.scenes import scene_options
from vision.tiles import TileSet

#: Truth kind of a detection on no object.
NO_OBJECT = "none"


@dataclass
class KindRecords:
    """Reported detections over ``belt_m`` of belt: truth kind (:data:`NO_OBJECT` on no object), truth length (mm,
    0 on no object), and the classifier's class probabilities (n, n_classes) in ``classes`` order; plus the truth
    objects >= :data:`vision.frontier.TARGET_MM` on that belt (kinds) and which of them were reported."""

    truth: list[str]
    truth_length_mm: np.ndarray
    proba: np.ndarray
    classes: np.ndarray
    belt_m: float
    object_kinds: list[str] = field(default_factory=list)
    #: per truth object >= TARGET_MM: the index into ``truth`` of its detection, -1 when not reported
    object_detection: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: the detections' component statistics (n, len(COMPONENT_FEATURES))
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    #: the kinds the detector reported (under the rule active when it ran)
    detector_kinds: list[str] = field(default_factory=list)

    def kinds(self, rule: KindRule | None = None, log_odds: np.ndarray | None = None) -> list[str]:
        """The reported kind of each detection under ``rule`` (None: the classifier's most likely object kind),
        applied to ``log_odds`` when given (:func:`vision.kind_decision.decide_kinds`)."""
        return decide_kinds(self.proba, self.classes, rule, log_odds)[0]


def kind_records(model: VisionModel, scene_type: str, *, backgrounds: str | Path | TileSet = "heldout",
                 length_m: float = 100.0, seed: int = 11, objects_per_m: float = 1.0,
                 objects: dict | None = None) -> KindRecords:
    """The detections ``model`` reports over ``length_m`` of simulated belt of ``scene_type`` (:mod:`vision.scenes`)
    built from ``backgrounds`` (``"heldout"`` to report, ``"fit"`` to calibrate), with their truth kinds.
    ``objects``: extra :func:`~vision.scene.random_objects` options (e.g. ``{"kinds": ("lump",)}``)."""
    scene, obj_opts = scene_options(scene_type)
    found, truth, cam = every_candidate(model, backgrounds, length_m=length_m, seed=seed, objects_per_m=objects_per_m,
                                        scene=scene, objects={**obj_opts, **(objects or {})})
    reported = [d for d in found if d.p_none <= d.none_max and d.length_mm >= model.params.min_length_mm]
    m = match(truth, reported)
    dets = [d for _, d in m.pairs if d is not None] + m.false_alarms
    kinds = [o.kind for o, d in m.pairs if d is not None] + [NO_OBJECT] * len(m.false_alarms)
    lengths = [o.length_mm for o, d in m.pairs if d is not None] + [0.0] * len(m.false_alarms)
    classes = model.classifier.classes_ if model.classifier is not None else np.array([NO_OBJECT])
    features = np.stack([np.asarray(d.features, np.float64) for d in dets]) if dets else np.zeros((0, 0))
    proba = _proba(model, dets, features, classes)
    index = {id(d): i for i, d in enumerate(dets)}
    big = [(o, d) for o, d in m.pairs if o.length_mm >= TARGET_MM]
    return KindRecords(kinds, np.asarray(lengths, float), proba, np.asarray(classes).astype(str), float(cam.position_m),
                       [o.kind for o, _ in big], np.array([index[id(d)] if d is not None else -1 for _, d in big], np.int64),
                       features, [d.kind for d in dets])


def _proba(model: VisionModel, dets: list, features: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each detection's class probabilities (n, len(classes)) by the classifier that judged it: the model's, or its
    second (``Detection.second_judge``: the union's ``VisionModel.dense_judge``) over the same classes."""
    proba = np.zeros((len(dets), len(classes)))
    if not dets or model.classifier is None:
        return proba
    second = np.array([d.second_judge for d in dets], bool)
    judges = ((model.classifier, ~second), (model.dense_judge, second))
    for clf, rows in judges:
        if rows.any():
            if clf is None or list(clf.classes_) != list(classes):
                raise ValueError(f"detections judged by a second classifier of other classes than {list(classes)}")
            proba[rows] = clf.proba(features[rows])
    return proba


def join(records: list[KindRecords]) -> KindRecords:
    """Several belts' records as one (same classifier)."""
    if not records:
        raise ValueError("expected at least one set of kind records")
    offsets = np.cumsum([0] + [len(r.truth) for r in records[:-1]])
    return KindRecords(
        [t for r in records for t in r.truth], np.concatenate([r.truth_length_mm for r in records]),
        np.concatenate([r.proba for r in records]), records[0].classes, float(sum(r.belt_m for r in records)),
        [k for r in records for k in r.object_kinds],
        np.concatenate([np.where(r.object_detection >= 0, r.object_detection + o, -1) for r, o in zip(records, offsets)]),
        np.concatenate([r.features for r in records if r.features.size]) if any(r.features.size for r in records) else np.zeros((0, 0)),
        [k for r in records for k in r.detector_kinds],
    )


def confusion(records: KindRecords, rule: KindRule | None = None, log_odds: np.ndarray | None = None) -> dict[str, dict[str, int]]:
    """truth kind -> reported kind -> count, over the reported detections (truth :data:`NO_OBJECT`: false alarms)."""
    table: dict[str, dict[str, int]] = {}
    for t, k in zip(records.truth, records.kinds(rule, log_odds)):
        row = table.setdefault(t, {})
        row[k] = row.get(k, 0) + 1
    return table


@dataclass(frozen=True)
class KindRates:
    """The operational rates of one rule on one set of records (counts and the belt they were seen on)."""

    lumps: int
    lumps_called_foreign: int
    lumps_called_uncertain: int
    foreign: int
    foreign_called_lump: int
    foreign_called_uncertain: int
    foreign_big: int
    #: foreign objects >= TARGET_MM on the belt reported as a foreign kind or uncertain (not lump, not missed)
    foreign_big_flagged: int
    belt_m: float

    @property
    def lump_foreign_share(self) -> float:
        return self.lumps_called_foreign / self.lumps if self.lumps else float("nan")

    @property
    def lump_foreign_per_1000_m(self) -> float:
        return 1000.0 * self.lumps_called_foreign / self.belt_m if self.belt_m > 0 else float("nan")

    @property
    def foreign_lump_share(self) -> float:
        return self.foreign_called_lump / self.foreign if self.foreign else float("nan")

    @property
    def foreign_recall(self) -> float:
        """Foreign objects >= TARGET_MM flagged (a foreign kind or uncertain) / on the belt."""
        return self.foreign_big_flagged / self.foreign_big if self.foreign_big else float("nan")


def kind_rates(records: KindRecords, rule: KindRule | None = None, log_odds: np.ndarray | None = None,
               kinds: list[str] | None = None) -> KindRates:
    """Lumps called a foreign kind (per detected lump and per 1,000 m of belt), foreign objects called lump (per
    detected foreign object), and how many foreign objects >= TARGET_MM are flagged, under ``rule`` (applied to
    ``log_odds`` when given), or with the detections' ``kinds`` given (e.g. after the lump judge)."""
    truth = np.asarray(records.truth, dtype=object)
    given = records.kinds(rule, log_odds) if kinds is None else kinds
    kinds_a = np.asarray(given, dtype=object)
    lump = truth == LUMP
    foreign = (truth != LUMP) & (truth != NO_OBJECT)
    called_foreign = is_foreign(kinds_a.astype(str)) if kinds_a.size else np.zeros(0, bool)
    big = np.asarray([k not in (LUMP, NO_OBJECT) for k in records.object_kinds], bool)
    det = records.object_detection
    flagged = np.array([i >= 0 and kinds_a[i] != LUMP for i in det], bool) if det.size else np.zeros(0, bool)
    return KindRates(int(lump.sum()), int((lump & called_foreign).sum()), int((lump & (kinds_a == UNCERTAIN)).sum()),
                     int(foreign.sum()), int((foreign & (kinds_a == LUMP)).sum()), int((foreign & (kinds_a == UNCERTAIN)).sum()),
                     int(big.sum()), int((big & flagged).sum()), records.belt_m)


def confusion_lines(table: dict[str, dict[str, int]]) -> list[str]:
    """A confusion table as markdown lines: one row per truth kind, one column per reported kind."""
    cols = sorted({k for row in table.values() for k in row})
    lines = ["| truth \\ reported | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for t in sorted(table, key=lambda k: (k == NO_OBJECT, k)):
        lines.append(f"| {t} | " + " | ".join(str(table[t].get(c, 0)) for c in cols) + " |")
    return lines


__all__ = ["KindRates", "KindRecords", "NO_OBJECT", "confusion", "confusion_lines", "join", "kind_rates", "kind_records"]
