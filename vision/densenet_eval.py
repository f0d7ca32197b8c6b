"""Measuring the dense detector (:mod:`vision.densenet`) alone and beside the feature detector, on the same frames.

:func:`run_case` streams simulated belt (as :func:`vision.frontier.every_candidate`: the same objects and frames for
the same seed) through the network and, when given, the feature detector with every candidate kept. Per truth object
>= TARGET_MM it records the network's best component peak on it (log-odds; -inf: none), whether a size-passing
feature candidate lies on it (the features' candidate ceiling) and whether the detector reports it; and the peak of
every network component on no object, with the CPU time of each. :func:`calibration` streams the fit split's
object-free belt (fit tiles and seeds, the fit's scene mix) for the network's own level (:func:`level_of`: half the
p(none) of the highest false peak, as the features' decision halves its lowest false p(none)). A component lies on
an object when its centre is within half the object's length + MATCH_MARGIN_MM of the object's centre (the
features' rule).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from vision.classify import KindClassifier
from vision.densenet import BASE_LOGIT, OUT_CELLS, DenseNet, DenseSeeds, block_px, components, dense_inputs
from vision.densenet_data import CALIBRATION_SEED0, stream
from vision.evaluate import MATCH_MARGIN_MM
from vision.fit import VisionModel, _scene_kw
from vision.frames import Frame
from vision.planks import PlankStream
from vision.scenes import FIT_MIX
from vision.sim_camera import SimulatedCamera
from vision.tiles import TileSet, augmented_tiles
from vision.visibility import truth_bins

#: Objects at least this long (mm) count towards recall (the issue's target size).
TARGET_MM = 50.0


@dataclass
class DensePass:
    """One stream's results (see the module). Per truth object >= TARGET_MM: ``object_peak``, ``feature_candidate``,
    ``reported``, ``kinds`` and ``truth`` (:func:`vision.visibility.truth_bins`); ``false_peaks`` of the network's
    components on no object; belt (m), frames, CPU seconds of the network (``net_s``: features, ONNX run and
    components; ``onnx_s`` the run alone, ``onnx_frame_s`` per frame) and of the feature detector (``detector_s``)."""

    object_peak: np.ndarray
    feature_candidate: np.ndarray
    reported: np.ndarray
    kinds: list[str]
    false_peaks: np.ndarray
    belt_m: float
    frames: int
    net_s: float
    onnx_s: float
    detector_s: float
    feature_false: int = 0
    truth: dict = field(default_factory=dict)
    onnx_frame_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: per truth object >= TARGET_MM the lowest p(none) of the size-passing candidates on it (NaN: none); the p(none)
    #: of the size-passing candidates on no object, and the decision (largest p(none) reported) where each is
    object_p_none: np.ndarray = field(default_factory=lambda: np.zeros(0))
    false_p_none: np.ndarray = field(default_factory=lambda: np.zeros(0))
    false_none_max: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: the same of the net's own candidates only (``Detection.dense_own``), and how many of them on no object were
    #: reported (false alarms of the net's own components)
    own_object_p_none: np.ndarray = field(default_factory=lambda: np.zeros(0))
    own_false_p_none: np.ndarray = field(default_factory=lambda: np.zeros(0))
    own_false: int = 0


def level_of(false_peaks: np.ndarray) -> float:
    """Log-odds level that halves the p(none) = 1 / (1 + e^peak) of the highest of ``false_peaks`` (none: the
    components' base level, p = 0.25)."""
    if not false_peaks.size:
        return BASE_LOGIT
    m = float(false_peaks.max())
    return m + float(np.log(2.0 + np.exp(-m)))


def _components_mm(logit: np.ndarray, frame: Frame, width_px: int) -> tuple[np.ndarray, np.ndarray]:
    """(peaks, centres (n, 2) in belt / lateral mm) of the components of one frame's map."""
    comps = components(logit)
    out_px = block_px(frame.mm_per_px) * OUT_CELLS
    pos = np.array([[frame.start_belt_m * 1000.0 + (c.row + 0.5) * out_px * frame.mm_per_px,
                     ((c.col + 0.5) * out_px - width_px / 2.0) * frame.mm_per_px] for c in comps], float).reshape(-1, 2)
    return np.array([c.peak_logit for c in comps], float), pos


def _near(pos: np.ndarray, belt_mm: float, lateral_mm: float, length_mm: float) -> np.ndarray:
    return np.hypot(pos[:, 0] - belt_mm, pos[:, 1] - lateral_mm) <= length_mm / 2 + MATCH_MARGIN_MM


def run_case(net: DenseNet, model: VisionModel | None, tiles: str | TileSet, *, seed: int, length_m: float, scene: dict,
             objects: dict | None, objects_per_m: float, mm_per_px: float = 4.0, width_px: int = 512,
             dense_seeds: DenseSeeds | None = None, dense_classifier: KindClassifier | None = None,
             dense_union: bool = False, planks: PlankStream | None = None) -> DensePass:
    """Stream ``length_m`` of belt through the network and (``model`` given) the feature detector, with the network's
    seeds beside its own when ``dense_seeds`` is given (``Detector.dense_seeds``) and their own components judged by
    ``dense_classifier`` when given (``Detector.dense_classifier``; with ``dense_union`` the features' components too,
    reported when either classifier reports them: ``Detector.dense_union``) and the plank evidence ``planks``
    (``Detector.planks``) when given; see the module."""
    det = None
    if model is not None:
        det = model.detector()
        det.report_all = True
        det.dense_seeds = dense_seeds
        det.dense_classifier = dense_classifier
        det.dense_union = dense_union
        det.planks = planks
    peaks, pos, found, frame_s = [], [], [], []
    ref: float | None = None
    net_s = onnx_s = det_s = 0.0
    cam = None
    for frame, camera in stream(tiles, seed, length_m, scene=scene, objects=objects, objects_per_m=objects_per_m,
                                mm_per_px=mm_per_px, width_px=width_px):
        cam = camera
        t = time.thread_time()
        inp = dense_inputs(frame.image, frame.mm_per_px, ref)
        t1 = time.thread_time()
        logit = net.logit_map(inp.x)[0]
        t2 = time.thread_time()
        logit[:, ~inp.belt_cols.reshape(-1, OUT_CELLS).all(axis=1)] = -np.inf
        p, c = _components_mm(logit, frame, width_px)
        net_s += time.thread_time() - t
        onnx_s += t2 - t1
        frame_s.append(t2 - t1)
        ref = inp.last_ref
        peaks.append(p)
        pos.append(c)
        if det is not None:
            t = time.thread_time()
            found += det.process(frame).detections
            det_s += time.thread_time() - t
    if det is not None:
        found += det.flush()
    if cam is None:
        raise ValueError(f"no belt streamed (length_m {length_m})")
    return _match(model, cam, np.concatenate(peaks), np.concatenate(pos), found, len(frame_s), net_s, onnx_s, det_s,
                  np.asarray(frame_s))


def _match(model: VisionModel | None, cam: SimulatedCamera, peaks: np.ndarray, pos: np.ndarray, found: list, n_frames: int,
           net_s: float, onnx_s: float, det_s: float, frame_s: np.ndarray) -> DensePass:
    gate = model.params.min_length_mm if model is not None else 0.0
    cand = [d for d in found if d.length_mm >= gate]
    cpos = np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in cand], float).reshape(-1, 2)
    reported = np.array([d.p_none <= d.none_max for d in cand], bool)
    p_none = np.array([d.p_none for d in cand], float)
    own = np.array([d.dense_own for d in cand], bool)
    truth = [o for o in cam.objects if o.belt_mm < cam.position_m * 1000.0]
    on_obj = np.zeros(len(peaks), bool)
    cand_on = np.zeros(len(cand), bool)
    best, fc, rep, kinds, big, obj_p, own_p = [], [], [], [], [], [], []
    for o in truth:
        near = _near(pos, o.belt_mm, o.lateral_mm, o.length_mm)
        cnear = _near(cpos, o.belt_mm, o.lateral_mm, o.length_mm)
        on_obj |= near
        cand_on |= cnear
        if o.length_mm >= TARGET_MM:
            best.append(float(peaks[near].max()) if near.any() else -np.inf)
            fc.append(bool(cnear.any()))
            rep.append(bool((cnear & reported).any()))
            obj_p.append(float(p_none[cnear].min()) if cnear.any() else np.nan)
            own_p.append(float(p_none[cnear & own].min()) if (cnear & own).any() else np.nan)
            kinds.append(o.kind)
            big.append(o)
    bins = truth_bins(cam.scene, big) if cam.scene is not None and big else {}
    none_max = np.array([d.none_max for d in cand], float)
    return DensePass(np.asarray(best, float), np.asarray(fc, bool), np.asarray(rep, bool), kinds, peaks[~on_obj],
                     float(cam.position_m), n_frames, net_s, onnx_s, det_s, int((reported & ~cand_on).sum()), bins, frame_s,
                     np.asarray(obj_p, float), p_none[~cand_on], none_max[~cand_on], np.asarray(own_p, float),
                     p_none[~cand_on & own], int((reported & ~cand_on & own).sum()))


def calibration(net: DenseNet, length_m: float, seed: int = 0, mm_per_px: float = 4.0, width_px: int = 512) -> DensePass:
    """The network over ``length_m`` of the fit split's object-free belt (fit tiles, fit seeds), the fit's scene mix in
    turn (a quarter of the length each), streamed in 2,048-line frames; printed as it goes."""
    tiles = augmented_tiles("fit", 2, seed)
    parts = []
    for i, name in enumerate(FIT_MIX):
        scene, _ = _scene_kw(None, None, i)
        parts.append(run_case(net, None, tiles, seed=CALIBRATION_SEED0 + 10 * seed + i, length_m=length_m / len(FIT_MIX),
                              scene=scene, objects=None, objects_per_m=0.0, mm_per_px=mm_per_px, width_px=width_px))
        p = parts[-1]
        top = f"{p.false_peaks.max():.2f}" if p.false_peaks.size else "none"
        print(f"dense calibration belt (fit split, {name}): {p.belt_m:.0f} m, {p.false_peaks.size} components, highest peak {top}", flush=True)
    return DensePass(np.zeros(0), np.zeros(0, bool), np.zeros(0, bool), [], np.concatenate([p.false_peaks for p in parts]),
                     sum(p.belt_m for p in parts), sum(p.frames for p in parts), sum(p.net_s for p in parts),
                     sum(p.onnx_s for p in parts), 0.0, onnx_frame_s=np.concatenate([p.onnx_frame_s for p in parts]))


__all__ = ["DensePass", "TARGET_MM", "calibration", "level_of", "run_case"]
