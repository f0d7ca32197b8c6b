"""What a model could do at other decision levels: recall against false alarms as the object decision moves.

The fitted model reports a candidate when the classifier's p(none) is at most ``none_max`` (calibrated on fit
belt) and its corrected length passes the size gate. :func:`candidate_scores` runs the detector over simulated
belt with every candidate kept (``report_all``) and records, per truth object, the lowest p(none) of the
candidates on it, and the p(none) of every candidate on no object; :func:`frontier` turns them into recall and
false alarms per 1,000 m (with the 95 % Poisson bound) at any ``none_max``. When no level gives both targets, the
table shows by how much they are out of reach on that cargo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from vision.evaluate import MATCH_MARGIN_MM, _poisson_upper95
from vision.fit import VisionModel
from vision.detect import Detection, with_features
from vision.scene import SceneObject, random_objects
from vision.sim_camera import SimulatedCamera
from vision.tiles import TileSet
from vision.visibility import truth_bins

#: Objects at least this long (mm) count towards recall (the issue's target size).
TARGET_MM = 50.0


@dataclass
class CandidateScores:
    """p(none) of the best size-passing candidate on each truth object >= TARGET_MM (inf: none found), of every
    size-passing candidate on no object, and the belt (m) they were seen on."""

    object_p_none: np.ndarray
    object_kinds: list[str]
    false_p_none: np.ndarray
    belt_m: float
    #: widths (mm) of the truth objects, in ``object_p_none`` order
    object_width_mm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: per truth object: whether the model reports it (a size-passing candidate on it at or below the decision where
    #: it lies, :attr:`~vision.detect.Detection.none_max`), and its visibility (:func:`vision.visibility.truth_bins`)
    object_reported: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    object_truth: dict = field(default_factory=dict)

    @property
    def object_candidate(self) -> np.ndarray:
        """Per truth object: any size-passing candidate on it (the candidate ceiling)."""
        return np.isfinite(self.object_p_none)

    def recall(self, none_max: float, kind: str | None = None, max_width_mm: float = np.inf) -> tuple[int, int]:
        """(found, objects) at ``none_max`` among objects of ``kind`` (default all) narrower than ``max_width_mm``."""
        sel = self.object_width_mm < max_width_mm
        if kind is not None:
            sel &= np.asarray(self.object_kinds) == kind
        return int(np.sum(self.object_p_none[sel] <= none_max)), int(sel.sum())


def every_candidate(model: VisionModel, backgrounds: str | Path | TileSet, *, length_m: float, seed: int,
                    objects_per_m: float, frame_lines: int = 2048, scene: dict | None = None,
                    objects: dict | None = None) -> tuple[list[Detection], list[SceneObject], SimulatedCamera]:
    """(every candidate of ``model``'s detector, reported or not; the objects on the belt it saw; the camera: its
    ``position_m`` the metres seen, its ``scene`` the belt rendered) over ``length_m`` of simulated belt of
    ``backgrounds`` with ``objects_per_m`` random objects. Candidates are the detections with component features
    (:func:`vision.detect.with_features`): an evidence's own detections, the thin sticks', are left out."""
    rng = np.random.default_rng(seed)
    objs = random_objects(length_m * 1000.0, rng, per_m=objects_per_m, **(objects or {})) if objects_per_m > 0 else []
    found, cam = belt_detections(model, backgrounds, objs, length_m=length_m, seed=seed, frame_lines=frame_lines,
                                 scene=scene, switches={"report_all": True})
    return with_features(found), [o for o in objs if o.belt_mm < cam.position_m * 1000.0], cam


def belt_detections(model: VisionModel, backgrounds: str | Path | TileSet, objects: list[SceneObject], *, length_m: float,
                    seed: int, frame_lines: int = 2048, scene: dict | None = None,
                    switches: dict[str, bool] | None = None) -> tuple[list[Detection], SimulatedCamera]:
    """(every detection of ``model``'s detector, its attributes ``switches`` set; the camera) over ``length_m`` of
    simulated belt of ``backgrounds`` (seed ``seed``) carrying ``objects``, streamed frame by frame as a station does."""
    cam = SimulatedCamera(tiles=backgrounds, seed=seed, objects=objects, width_px=model.width_px, frame_lines=frame_lines,
                          mm_per_px=model.mm_per_px, scene_options=scene)
    cam.open()
    det = model.detector()
    for name, value in (switches or {}).items():
        if not hasattr(det, name):
            raise AttributeError(f"the detector has no switch {name!r}")
        setattr(det, name, value)
    found: list[Detection] = []
    while cam.position_m < length_m - 1e-9:
        found += det.process(cam.grab()).detections
    found += det.flush()
    return found, cam


def candidate_scores(model: VisionModel, backgrounds: str | Path | TileSet, *, length_m: float, seed: int,
                     objects_per_m: float, frame_lines: int = 2048, scene: dict | None = None,
                     objects: dict | None = None) -> CandidateScores:
    """Every candidate of ``model``'s detector over ``length_m`` of simulated belt of ``backgrounds`` with
    ``objects_per_m`` random objects (see :class:`CandidateScores`)."""
    found, truth, cam = every_candidate(model, backgrounds, length_m=length_m, seed=seed, objects_per_m=objects_per_m,
                                      frame_lines=frame_lines, scene=scene, objects=objects)
    gate = model.params.min_length_mm
    found = [d for d in found if d.length_mm >= gate]
    pos = np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in found]).reshape(-1, 2)
    p_none = np.array([d.p_none for d in found])
    reported = np.array([d.p_none <= d.none_max for d in found], bool)
    on_object = np.zeros(len(found), bool)
    best, kinds, widths, hit, big = [], [], [], [], []
    for o in truth:
        near = np.hypot(pos[:, 0] - o.belt_mm, pos[:, 1] - o.lateral_mm) <= o.length_mm / 2 + MATCH_MARGIN_MM
        on_object |= near
        if o.length_mm >= TARGET_MM:
            best.append(float(p_none[near].min()) if near.any() else np.inf)
            kinds.append(o.kind)
            widths.append(o.width_mm)
            hit.append(bool(reported[near].any()))
            big.append(o)
    truth_table = truth_bins(cam.scene, big) if cam.scene is not None else {}
    return CandidateScores(np.asarray(best, float), kinds, p_none[~on_object], float(cam.position_m), np.asarray(widths, float),
                           np.asarray(hit, bool), truth_table)


def frontier(with_objects: CandidateScores, object_free: CandidateScores,
             levels: Sequence[float] | None = None) -> list[dict]:
    """Recall (objects >= TARGET_MM, from ``with_objects``) and false alarms per 1,000 m with the 95 % bound (from
    ``object_free``) at each ``none_max`` of ``levels`` (default: the levels at which recall is 50, 80, 90, 95 and
    99 %)."""
    obj = np.sort(with_objects.object_p_none)
    if levels is None:
        finite = obj[np.isfinite(obj)]
        levels = sorted({float(np.quantile(obj, q, method="lower")) for q in (0.5, 0.8, 0.9, 0.95, 0.99)
                         if finite.size and np.isfinite(np.quantile(obj, q, method="lower"))})
    rows = []
    for level in levels:
        fa = int(np.sum(object_free.false_p_none <= level))
        rows.append(dict(none_max=float(level), recall=float(np.mean(obj <= level)) if obj.size else float("nan"),
                         false_alarms=fa, belt_m=object_free.belt_m,
                         per_1000_m=1000.0 * fa / max(object_free.belt_m, 1e-9),
                         upper95_per_1000_m=1000.0 * _poisson_upper95(fa) / max(object_free.belt_m, 1e-9)))
    return rows


__all__ = ["CandidateScores", "belt_detections", "candidate_scores", "frontier"]
