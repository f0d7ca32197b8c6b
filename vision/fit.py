"""Fitting, calibrating, saving and loading the whole vision model.

:func:`fit_vision_model` renders belt scenes from the *fit* split of the ore tiles only:
normal scenes fit the normal-ore density, other normal scenes set the detection thresholds,
scenes with inserted objects (and their truth masks) train the learned objectness score
(:mod:`vision.objectness`, threshold set out of fold), and further scenes with objects train
the kind classifier. Held-out tiles are never used here.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, Callable, ParamSpec, Sequence, TypeVar, cast

import numpy as np
from scipy import ndimage as ndi
from threadpoolctl import threadpool_limits

from conveyor.resources import seed_cache_from_shipped, shared_data_dir
from vision.cache_io import default_cache_dir, save_npz
from vision.appearance import calibrate_limit
from vision.classify import NONE, KindClassifier
from vision.crossfit import CROSS_FIT, CROSS_FIT_GROUPS, out_of_fold_p_none, source_groups, source_share
from vision.decision import APPLY_REGIMES, Decision, decide
from vision.decision_level import HOLD_UNFOUNDED_REGIMES, LEVEL_BY_GROUPS, apply_choices, choose_levels, group_belt, hold_unfounded_regimes
from vision.densenet import DenseNet, DenseSeeds
from vision.decision_belt import FRAME_LINES, STREAMED_BELT, as_candidates, streamed_detections
from vision.detect import Detection, Detector, DetectorParams, cell_context, ridge_score, ridge_sigmas, with_features
from vision.errors import DataError, ModelError
from vision.evaluate import match
from vision.frames import Frame
from vision.model import NormalOreModel
from vision.objectness import ObjectnessModel, block_belt, context_cells, half_grid, to_cells, training_cells
from vision.objects import KINDS, TEXTURE_DIR
from vision.patchnet import FIT_PATCHNET, patch_of
from vision.patchnet_fit import fit_patchnet
from vision.regime import load_at
from vision.scene import BeltScene, random_objects
from vision.scenes import FIT_MIX, scene_options
from vision.site_images import files_digest, load_site_tiles
from vision.features import block_means, cell_features
from vision.tiles import CDM_DIR, ROCKS_DIR, TileSet, augmented_tiles, jittered, load_tiles, source_of, tile_fold

#: BLAS threads every camera fit runs on (:data:`one_fit_thread`): the fit's float32 matrix products (the objectness
#: and classifier MLPs) sum in an order that depends on the thread count, so an unpinned fit gives another model on
#: a machine with more cores (FIT 13's recipe at 4 mm/px: f203ffbe6c on 2 threads, f7cda9bb56 on 1; docs/vision.md
#: "FIT_VERSION 13's recipe today").
FIT_BLAS_THREADS = 1
_P = ParamSpec("_P")
_R = TypeVar("_R")


def one_fit_thread(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` run on FIT_BLAS_THREADS BLAS threads: the one place the pin is made. Every stage of a camera fit
    (:func:`candidate_pool`, :func:`finish_fit`, :func:`fit_site_model`) runs under it, whoever calls it (``make
    models``, ``oreline vision fit`` in all its forms, :func:`vision.model_cache.cached_model`, the union's refit)."""
    @wraps(fn)
    def pinned(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with threadpool_limits(FIT_BLAS_THREADS):
            return fn(*args, **kwargs)
    return pinned


MODEL_FORMAT = "oreline-vision-model-8"  # 8: coating/burial features (texture contrast, edge steps); 7: objectness seeds
#: Quantile of the normal-belt smoothed score used as candidate threshold, and its floor.
SEED_QUANTILE = 0.995
MIN_SEED_THRESHOLD = 2.5
#: Object-free belt (m per mm/px; equal shares per scene type a fit renders and per source group of the calibration
#: tiles) never trained on, scored only to set the object decision (:mod:`vision.decision`, out of fold with
#: :data:`vision.crossfit.CROSS_FIT`): 6,000 m at 4 mm/px, so that a full burden (realistic and dark-ore belt, 4,000 m)
#: has the 2,996 m a level of its own needs to bound its rate at 1 per 1,000 m (95 %) with 0 false candidates (3,000 m
#: to FIT_VERSION 10). Rendered and scored in chunks of DECISION_CHUNK_ROWS rows.
DECISION_M_PER_MM = 1500.0
DECISION_CHUNK_ROWS = 8192
#: Share of the decision belt per scene type, relative to an equal share (missing types: 1). Empty (equal shares):
#: FIT_VERSION 17 gave the full-burden types (realistic and dark ore) 1.65 x theirs (6,600 m of full burden at 4 mm/px,
#: so that the full burden's leave-one-group-out check, vision.decision_level, can pass at rank 1 with one event),
#: measured and not shipped (docs/vision.md "FIT_VERSION 17"); a fit that sets it must raise FIT_VERSION past 17.
DECISION_TYPE_SHARE: dict[str, float] = {}
#: Lengths of the training objects (mm): the target is objects >= 50 mm; smaller ones look like ore and pale
#: rocks, and teaching the classifier to call them objects makes it call pale rocks objects too.
TRAIN_LENGTH_MM = (50.0, 600.0)
#: Kinds drawn for the classifier's training objects: wood twice as often as the others (thin planks are the kind
#: most like ore; they need the most examples).
TRAIN_KINDS = KINDS + ("wood",)
#: Smallest object length (mm) the detector must find, and the share of such objects whose corrected measured
#: length may fall below the size gate ``min_length_mm`` (calibrated on fit scenes).
TARGET_MM = 50.0
MIN_LENGTH_QUANTILE = 0.1
#: Extent of the score smoothing (mm): about half the smallest object that must be found (50 mm).
SMOOTH_MM = 20.0
#: Smaller scale (Gaussian sigma, mm) of the bright-ridge seeds (planks, rods); the larger is RIDGE_SCALE_RATIO x it.
RIDGE_SIGMA_MM = 4.0
#: Whether fits set ``DetectorParams.dark_ridge_threshold`` (seeds on dark bars at full burden: wet planks). Fit C
#: (with them, concrete shading 0.1) lifted realistic recall 57 -> 67 % but its decision, set by the final
#: classifier, let 1 false alarm through in 3 km of held-out realistic belt and 1 in 3 km of today's (docs/vision.md);
#: FIT_VERSION 13 sets the decision out of fold (vision.crossfit).
DARK_RIDGE_SEEDS = True
#: Whether the dark-ridge level is set over the full-burden cells it fires on, at :func:`dark_ridge_quantile` (~99.2 %
#: on the fit mix: 0.89 x the all-belt level) instead of over all belt cells at SEED_QUANTILE. Off: the fit with it
#: (FIT_VERSION 14) lifted realistic recall 63.0 -> 64.8 % but let 7 false alarms through in 3,006 m of held-out
#: realistic belt (docs/vision.md "Dark-ridge level at full burden"); with the streamed belt (FIT_VERSION 15) it kept
#: 0 false alarms but lost recall (docs/vision.md "Out-of-fold tail"); with the frame-edge fix and the level checked by
#: leave-one-group-out (FIT_VERSION 16) 1 false alarm in 3,006 m of held-out realistic belt (docs/vision.md "FIT_VERSION 16"),
#: with more full-burden decision belt (FIT_VERSION 17) 13 (docs/vision.md "FIT_VERSION 17").
DARK_RIDGE_FULL_BURDEN = False
#: Extent of the broad-scale smoothing (mm), for large objects that are only mildly unusual all over.
BROAD_MM = 48.0
#: Metres of belt with objects rendered to train the classifier, per mm/px up to OBJECTS_SCALE_CAP mm/px (4 objects
#: per metre: ~1,000 objects at 1 mm/px, ~2,000 from 2 mm/px on).
OBJECTS_M_PER_MM = 480.0
OBJECTS_SCALE_CAP = 2.0
#: At most this many "none" candidates from object scenes per object candidate are used for training (a random
#: subset): the classifier's cost grows with them. At 1 mm/px there are ~5.5 per object (none dropped); coarse scales
#: find 8 and more. Normal calibration belt is always kept.
MAX_NONE_PER_OBJECT = 6.0
#: Folds of the fit tiles (by source image): each scene is built from one fold, and the objectness threshold is set
#: out of fold. (Format 6-8 also set the object decision out of fold, with classifiers trained on one fold: on the
#: mixed belt their p(none) on unseen ore fell some 3 orders of magnitude below the final classifier's on held-out
#: ore, docs/vision.md.)
N_FOLDS = 2
#: Belt with objects (m) rendered (shared out over the folds, at least 5 m each) to train the objectness model (4
#: objects per metre), and normal belt (m) to set its threshold (the OBJECTNESS_QUANTILE of its smoothed log-odds,
#: out of fold: a seed on about one cell in 500 of normal belt, each verified by the classifier).
OBJECTNESS_OBJECTS_M = 50.0
OBJECTNESS_NORMAL_M = 20.0
OBJECTNESS_QUANTILE = 0.998
#: Cells (mm) up to which a model gets the objectness score: 1, 2 and 4 mm/px models (cells of 4-8 mm). Format 7 found
#: it added no recall at 4 mm/px on today's scenes; on realistic belt (coated, buried, dark objects) it lifts the 4
#: mm/px candidate ceiling from 50 to 76 % (FIT_VERSION 10, docs/vision.md), at a cost in line rate stated there.
OBJECTNESS_MAX_CELL_MM = 8.0


@dataclass
class VisionModel:
    """Everything detection needs: the normal-ore density, detector parameters and the kind classifier."""

    ore: NormalOreModel
    params: DetectorParams
    classifier: KindClassifier | None
    width_px: int
    #: What the model was fitted on (images, their count and digest, mm/px, code digest; see :func:`provenance`).
    fitted_on: dict = field(default_factory=dict)
    #: The learned per-cell object score (:mod:`vision.objectness`); None: density seeds only.
    objectness: ObjectnessModel | None = None
    #: The appearance alarm's limit calibrated on the model's own fit frames (:func:`vision.appearance.calibrate_limit`;
    #: a site fit sets it); None: calibrated on the built-in fit split at first use.
    appearance_limit: float | None = None
    #: The dense net as a candidate source (:class:`vision.densenet.DenseSeeds`, ``Detector.dense_seeds``; issue 27,
    #: w27p) with which the classifier was fitted (its inputs then end with ``classify.DENSE_FEATURE``); None: off.
    dense: DenseSeeds | None = None
    #: The second classifier of the union (:mod:`vision.union_fit`; FIT_VERSION 18): a refit's, with the
    #: ``classify.DENSE_FEATURE`` column, that judges the net's own components and, beside ``classifier``, the
    #: features' candidates (``Detector.dense_classifier`` with ``dense_union``); None: ``classifier`` judges all.
    #: Needs ``dense``.
    dense_judge: KindClassifier | None = None

    @property
    def mm_per_px(self) -> float:
        return self.ore.mm_per_px

    @property
    def version(self) -> str:
        extra = b"" if self.classifier is None else _classifier_bytes(self.classifier)
        if self.objectness is not None:
            extra += self.objectness.w1_.tobytes()
        if self.dense is not None:
            extra += self.dense.net.onnx_bytes + repr((self.dense.level, self.dense.own_peak)).encode()
        if self.dense_judge is not None:
            extra += b"judge" + _classifier_bytes(self.dense_judge)
        h = hashlib.sha256(self.ore.nll_table_.tobytes() + repr(asdict(self.params)).encode() + extra).hexdigest()[:10]
        return f"{MODEL_FORMAT}:{h}"

    @property
    def kinds(self) -> list[str]:
        return [] if self.classifier is None else self.classifier.kinds

    def detector(self) -> Detector:
        det = Detector(self.ore, self.classifier, DetectorParams(**asdict(self.params)), width_px=self.width_px,
                       objectness=self.objectness)
        det.dense_seeds = self.dense
        if self.dense is not None and self.dense_judge is not None:  # the union (FIT_VERSION 18)
            det.dense_classifier, det.dense_union = self.dense_judge, True
        return det

    def save(self, path: Path) -> Path:
        arrays: dict[str, Any] = dict(self.ore.to_arrays())
        if self.classifier is not None:
            arrays.update(self.classifier.to_arrays())
        if self.objectness is not None:
            arrays.update(self.objectness.to_arrays())
        for k, v in asdict(self.params).items():
            arrays[f"param_{k}"] = np.float64(v)
        arrays["format"] = np.array(MODEL_FORMAT)
        arrays["width_px"] = np.int64(self.width_px)
        arrays["fitted_on"] = np.array(json.dumps(self.fitted_on, sort_keys=True))
        if self.appearance_limit is not None:
            arrays["appearance_limit"] = np.float64(self.appearance_limit)
        if self.dense is not None:
            arrays["dense_onnx"] = np.frombuffer(self.dense.net.onnx_bytes, np.uint8)
            arrays["dense_level"] = np.float64(self.dense.level)
            arrays["dense_own_peak"] = np.bool_(self.dense.own_peak)
        if self.dense_judge is not None:
            if self.dense is None:
                raise ModelError(f"cannot save vision model {path}: it has a dense judge but no dense net")
            arrays.update({DENSE_JUDGE_PREFIX + k: v for k, v in self.dense_judge.to_arrays().items()})
        return save_npz(Path(path), arrays)  # one temporary per process: concurrent fits

    @classmethod
    def load(cls, path: Path, mm_per_px: float | None = None) -> "VisionModel":
        """Load a saved model. Raises ModelError (naming the file) when it is missing, corrupt, of another format or,
        with ``mm_per_px`` given, fitted for another pixel scale."""
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                a = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read vision model {path}: {exc}") from exc
        if str(a.get("format", "")) != MODEL_FORMAT:
            raise ModelError(f"expected a {MODEL_FORMAT} file, got format {str(a.get('format', 'none'))!r} in {path}")
        ore = NormalOreModel.from_arrays(a)
        fields = DetectorParams.__dataclass_fields__
        kw: dict[str, Any] = {k: (int(a[f"param_{k}"]) if fields[k].type in ("int", int) else float(a[f"param_{k}"])) for k in fields if f"param_{k}" in a}
        params = DetectorParams(**kw)
        clf = KindClassifier.from_arrays(a) if "cls_mean" in a else None
        obj = ObjectnessModel.from_arrays(a) if "obj_w1" in a else None
        fitted_on = json.loads(str(a["fitted_on"])) if "fitted_on" in a else {}
        if mm_per_px is not None and abs(ore.mm_per_px - mm_per_px) > 1e-9:
            raise ModelError(f"vision model {path} was fitted for {ore.mm_per_px:g} mm/px, expected {mm_per_px:g} mm/px")
        limit = float(a["appearance_limit"]) if "appearance_limit" in a else None
        dense = (DenseSeeds(DenseNet(a["dense_onnx"].tobytes()), float(a["dense_level"]), bool(a.get("dense_own_peak", False)))
                 if "dense_onnx" in a else None)
        judge = _dense_judge(a, path)
        if judge is not None and dense is None:
            raise ModelError(f"vision model {path} has a dense judge ({DENSE_JUDGE_PREFIX}*) but no dense net (dense_onnx)")
        return cls(ore, params, clf, int(a["width_px"]), fitted_on, obj, limit, dense, judge)


#: Key prefix of :attr:`VisionModel.dense_judge`'s arrays in a saved model (the classifier's own keys after it).
DENSE_JUDGE_PREFIX = "judge_"


def _classifier_bytes(clf: KindClassifier) -> bytes:
    """What of a classifier goes into :attr:`VisionModel.version`: its first-layer weights, decision and regimes."""
    return (b"".join(c[0].tobytes() for c in clf.coefs_) + repr(clf.none_max).encode()
            + (clf.regimes_.tobytes() if len(clf.regimes_) else b""))


def _dense_judge(a: dict[str, Any], path: Path) -> KindClassifier | None:
    """The dense judge saved in a model's arrays ``a`` (None when there is none); ModelError naming ``path`` when its
    arrays are incomplete."""
    own = {k[len(DENSE_JUDGE_PREFIX):]: v for k, v in a.items() if k.startswith(DENSE_JUDGE_PREFIX)}
    if not own:
        return None
    try:
        return KindClassifier.from_arrays(own)
    except ModelError as exc:
        raise ModelError(f"vision model {path}: its dense judge: {exc}") from exc


def _scene(tiles: TileSet, seed: int, width_px: int, mm_per_px: float, **kw) -> BeltScene:
    return BeltScene(tiles, width_px=width_px, mm_per_px=mm_per_px, seed=seed, dust_probability=0.15, **kw)


def _scene_type(scene: dict | None, objects: dict | None, i: int, mix: Sequence[str] = FIT_MIX) -> str:
    """Name of the scene type of fit scene ``i`` (see :func:`_scene_kw`): "custom" when the fit is given one."""
    return "custom" if scene is not None or objects is not None else mix[i % len(mix)]


def _scene_kw(scene: dict | None, objects: dict | None, i: int, mix: Sequence[str] = FIT_MIX) -> tuple[dict, dict]:
    """(BeltScene, random_objects) options of fit scene ``i``: ``scene`` / ``objects`` when either is given (one scene
    type for the whole fit), else the scene types of ``mix`` (default :data:`vision.scenes.FIT_MIX`) in turn."""
    if scene is not None or objects is not None:
        return dict(scene or {}), dict(objects or {})
    return scene_options(mix[i % len(mix)])


#: The colour test finds the belt when it marks at least this share of the belt's columns on a fit scene.
CHROMA_BELT_SHARE = 0.9


def belt_test_for(tiles: TileSet, width_px: int, mm_per_px: float, seed: int = 0) -> str:
    """"chroma" when the colour test (:func:`~vision.features.belt_columns`) finds the belt of a scene made of
    ``tiles`` (coloured ore or belt, as the CDM cargo), else "score" (grey rock and other colourless cargo)."""
    sc = _scene(tiles, seed * 1000 + 999, width_px, mm_per_px)
    probe = NormalOreModel(cell_mm=max(4.0, 2.0 * mm_per_px), mm_per_px=mm_per_px)
    b = probe.block_px
    found = probe.features(sc.render(0, int(2000 / mm_per_px))).belt_cols
    inside = np.zeros(found.shape, bool)
    inside[-(-sc.belt_x0 // b) : (sc.belt_x0 + sc.belt_px) // b] = True
    share = float((found & inside).sum()) / max(1, int(inside.sum()))
    return "chroma" if share >= CHROMA_BELT_SHARE else "score"


def smooth_cells_for(cell_mm: float) -> int:
    """Box-smoothing width (cells, odd, >= 3) spanning about SMOOTH_MM at cells of ``cell_mm``."""
    n = int(round(SMOOTH_MM / cell_mm))
    return max(3, n + (n % 2 == 0))


def fine_cells_for(cell_mm: float) -> int:
    """Fine-scale box width (cells): the next odd width below :func:`smooth_cells_for` (1 = the cell score itself)."""
    return smooth_cells_for(cell_mm) - 2


def ridge_sigma_cells_for(cell_mm: float) -> float:
    """Smaller ridge scale (cells): RIDGE_SIGMA_MM, at least 0.7 cells."""
    return max(0.7, RIDGE_SIGMA_MM / cell_mm)


def broad_cells_for(cell_mm: float) -> int:
    """Broad-scale box width (cells, odd): about BROAD_MM, at least two cells wider than :func:`smooth_cells_for`."""
    n = int(round(BROAD_MM / cell_mm))
    return max(smooth_cells_for(cell_mm) + 2, n + (n % 2 == 0))


def _candidate_scores(ore: NormalOreModel, img: np.ndarray, params: DetectorParams) -> dict:
    """Belt cells' box-smoothed score (unmapped) at the base scale and at the fine and broad scales that are on,
    keyed by box width in cells, and (key "ridge") their ridge score when ``params.ridge_sigma_cells`` > 0."""
    f = ore.features(img)
    raw = ore.score(f)
    f.belt_cols = ore.belt_columns(f, raw)
    out: dict[int | str, np.ndarray] = {}
    for cells in {params.smooth_cells, params.fine_cells, params.broad_cells} - {0}:
        out[cells] = (ndi.uniform_filter(raw, cells, mode="nearest") if cells > 1 else raw)[:, f.belt_cols].ravel()
    if params.ridge_sigma_cells > 0:
        lum = np.where(f.belt_cols[None, :], f.lum, np.float32(0.0))
        out["ridge"] = ridge_score(lum, ridge_sigmas(params))[:, f.belt_cols].ravel()
        if DARK_RIDGE_SEEDS:
            dark = ridge_score(-lum, ridge_sigmas(params))
            if DARK_RIDGE_FULL_BURDEN:
                belt = np.broadcast_to(f.belt_cols, raw.shape)
                dark = dark[load_at(f.rgb, belt, np.arange(raw.shape[0]), ore.block_px * ore.mm_per_px) >= params.dark_ridge_min_load]
            out["dark_ridge"] = dark[:, f.belt_cols].ravel()
    return out


def dark_ridge_quantile(full_cells: int, belt_cells: int) -> float:
    """Quantile of the dark-ridge strength over full-burden belt cells (where its seeds fire) that seeds the same share
    of all belt cells, 1 - SEED_QUANTILE, as every other seed source: 1 - (1 - SEED_QUANTILE) / full-burden share,
    clipped to [SEED_QUANTILE - 2 (1 - SEED_QUANTILE), SEED_QUANTILE] (at most 3 x the cells of full burden)."""
    share = full_cells / belt_cells if belt_cells else 1.0
    q = 1.0 - (1.0 - SEED_QUANTILE) / max(share, 1e-9)
    return float(min(SEED_QUANTILE, max(3.0 * SEED_QUANTILE - 2.0, q)))


def calibrate_threshold(ore: NormalOreModel, images: list[np.ndarray], params: DetectorParams) -> float:
    """Candidate (seed) threshold: the SEED_QUANTILE of the smoothed score over the belt of normal ``images``
    (at least MIN_SEED_THRESHOLD). Candidates are verified by the classifier, so this only bounds their number.

    With ``params.fine_cells`` / ``broad_cells`` / ``ridge_sigma_cells`` > 0 also sets ``fine_threshold`` /
    ``broad_threshold`` / ``ridge_threshold`` (and, with DARK_RIDGE_SEEDS, ``dark_ridge_threshold``, of the negated
    grey): the same quantile of the value at that scale (with DARK_RIDGE_FULL_BURDEN the dark ridge's over the
    full-burden cells it fires on, at :func:`dark_ridge_quantile`)."""
    scores = [_candidate_scores(ore, img, params) for img in images]

    def level(key, floor: float = MIN_SEED_THRESHOLD, quantile: float = SEED_QUANTILE) -> float:
        values = np.concatenate([s[key] for s in scores])
        return float(max(floor, np.quantile(values, quantile))) if values.size else float(np.inf)

    if params.fine_cells > 0:
        params.fine_threshold = level(params.fine_cells)
    if params.broad_cells > 0:
        params.broad_threshold = level(params.broad_cells)
    if params.ridge_sigma_cells > 0:
        params.ridge_threshold = level("ridge", 0.0)
        if DARK_RIDGE_SEEDS:
            full_cells = sum(s["dark_ridge"].size for s in scores)
            belt_cells = sum(s[params.smooth_cells].size for s in scores)
            quantile = dark_ridge_quantile(full_cells, belt_cells) if DARK_RIDGE_FULL_BURDEN else SEED_QUANTILE
            params.dark_ridge_threshold = level("dark_ridge", 0.0, quantile)
    return level(params.smooth_cells)


def _objectness_inputs(model: "VisionModel", image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(objectness features (F, h/2, w/2), belt (h, w) bool) of a rendered frame, computed as the detector does."""
    ore, p = model.ore, model.params
    f = ore.features(image)
    raw = ore.score(f)
    cols = ore.belt_columns(f, raw)
    raw[:, ~cols] = 0.0
    belt = np.broadcast_to(cols, raw.shape)
    _, x = cell_context(f.stack(), raw, belt, p, ore.block_px * ore.mm_per_px, True)
    if x is None:
        raise DataError(f"a rendered frame of {image.shape[0]} rows is shorter than one cell")
    return x, belt


def fit_objectness(model: "VisionModel", folds: list[TileSet], plain: list[TileSet], width_px: int, mm_per_px: float,
                   seed: int = 0, scene: dict | None = None, objects: dict | None = None,
                   objects_m: float = OBJECTNESS_OBJECTS_M, normal_m: float = OBJECTNESS_NORMAL_M,
                   mix: Sequence[str] = FIT_MIX) -> list[ObjectnessModel]:
    """Train the objectness model (:mod:`vision.objectness`) on belt with objects rendered from each fold of
    ``folds`` (truth: the objects' cover) and set ``model.params.objectness_threshold`` to the OBJECTNESS_QUANTILE of its
    box-smoothed log-odds on normal belt of each fold of ``plain``, scored by the model trained *without* that fold
    (unseen ore crosses it about as often as the fit ore does). Sets ``model.objectness`` (trained on all folds)
    and returns the out-of-fold models (one per fold; the final model when there is one fold)."""
    p = model.params
    cell_mm = model.ore.block_px * mm_per_px
    p.objectness_context_cells = 2 * context_cells(2.0 * cell_mm)[1] + 1  # the context is taken on 2 x 2 cells
    rows = int(5000 / mm_per_px)
    rng = np.random.default_rng([seed, 41])
    cells: list[tuple[np.ndarray, np.ndarray]] = []
    for k, tiles in enumerate(folds):
        xs, ys = [], []
        for i in range(max(1, int(round(objects_m / 5.0 / len(folds))))):
            scene_kw, objects_kw = _scene_kw(scene, objects, 20 * k + i, mix)
            sc = _scene(tiles, seed * 1000 + 600 + 20 * k + i, width_px, mm_per_px, **scene_kw)
            objs = random_objects(5000.0, rng, per_m=4.0, min_gap_mm=120.0, length_range_mm=TRAIN_LENGTH_MM, **objects_kw)
            x, belt = _objectness_inputs(model, sc.render(0, rows, objs))
            cell_cover = block_means(sc.object_cover(0, rows, objs)[..., None], model.ore.block_px)[..., 0]
            cover = half_grid(cell_cover[: belt.shape[0], : belt.shape[1]])
            xi, yi = training_cells(x, cover, block_belt(belt[0]), rng)
            xs.append(xi)
            ys.append(yi)
        cells.append((np.concatenate(xs), np.concatenate(ys)))
    final = ObjectnessModel(seed=seed).fit(np.concatenate([c[0] for c in cells]), np.concatenate([c[1] for c in cells]))
    oof = [final] * len(folds)
    if len(folds) > 1:
        oof = [ObjectnessModel(seed=seed).fit(np.concatenate([c[0] for j, c in enumerate(cells) if j != k]),
                                              np.concatenate([c[1] for j, c in enumerate(cells) if j != k])) for k in range(len(folds))]
    normal = []
    for k, tiles in enumerate(plain):
        for i in range(max(1, int(round(normal_m / 5.0 / len(plain))))):
            x, belt = _objectness_inputs(model, _scene(tiles, seed * 1000 + 700 + 20 * k + i, width_px, mm_per_px, **_scene_kw(scene, objects, 20 * k + i, mix)[0]).render(0, rows))
            z = ndi.uniform_filter(to_cells(oof[k].score(x), *belt.shape), p.objectness_cells, mode="nearest")
            normal.append(z[belt])
    p.objectness_threshold = float(np.quantile(np.concatenate(normal), OBJECTNESS_QUANTILE))
    model.objectness = final
    return oof


def nearest_kind(d: Detection, objects: list) -> str:
    """Kind of the object nearest to detection ``d`` (a second piece of an object: reporting it is no false alarm,
    so it is trained as that kind, not as "none")."""
    dist = [np.hypot(d.belt_m * 1000.0 - o.belt_mm, d.lateral_m * 1000.0 - o.lateral_mm) for o in objects]
    return objects[int(np.argmin(dist))].kind


def _candidates(model: VisionModel, image: np.ndarray, objects: list, mm_per_px: float,
                sizes: list | None = None) -> tuple[list[np.ndarray], list[str], list[float], list[float], list[np.ndarray]]:
    """Features, truth label (object kind or "none"), measured length (mm), belt load (:mod:`vision.regime`) and
    patch (:func:`vision.patchnet.patch_of`) of every candidate the detector finds in ``image``; (true, measured) lengths of matched objects are appended to
    ``sizes``."""
    det = model.detector()
    det.report_all = True
    found = with_features(det.process(Frame.still(image, mm_per_px)).detections + det.flush())
    m = match(objects, found)
    dets = [d for _, d in m.pairs if d is not None] + m.false_alarms + m.duplicates
    y = [o.kind for o, d in m.pairs if d is not None] + [NONE] * len(m.false_alarms) + [nearest_kind(d, objects) for d in m.duplicates]
    if sizes is not None:
        sizes += [(o.length_mm, d.length_mm) for o, d in m.pairs if d is not None]
    return (cast(list[np.ndarray], [d.features for d in dets]), y, [d.length_mm for d in dets],
            [d.load for d in dets], [patch_of(d.thumbnail) for d in dets])


def calibrate_length(sizes: list[tuple[float, float]], params: DetectorParams) -> None:
    """Set ``params.length_scale`` (median true/measured length of matched fit objects >= 50 mm) and
    ``params.min_length_mm`` (TARGET_MM x the MIN_LENGTH_QUANTILE of corrected/true length of 50..150 mm objects,
    so that most target-size objects pass the size gate)."""
    a = np.array([(t, m) for t, m in sizes if t >= TARGET_MM and m > 0], float).reshape(-1, 2)
    if len(a) < 10:
        return
    params.length_scale = float(np.median(a[:, 0] / a[:, 1]))
    small = a[a[:, 0] < 3 * TARGET_MM]
    if len(small) >= 5:
        ratio = small[:, 1] * params.length_scale / small[:, 0]
        params.min_length_mm = float(TARGET_MM * min(1.0, np.quantile(ratio, MIN_LENGTH_QUANTILE)))


@dataclass
class CandidatePool:
    """Candidates for the classifier: features, labels, measured lengths (mm), source group, normal-belt flag, scene
    type, and whether they train the classifier (decision-only belt does not)."""

    x: list = field(default_factory=list)
    y: list = field(default_factory=list)
    length_mm: list = field(default_factory=list)
    fold: list = field(default_factory=list)
    normal: list = field(default_factory=list)
    scene_type: list = field(default_factory=list)
    train: list = field(default_factory=list)
    #: metres of object-free calibration belt the ``normal`` candidates were found on, per scene type
    belt_m: dict = field(default_factory=dict)
    #: the candidates' belt load (:mod:`vision.regime`; NaN: not measured), and the load of every row (``row_m``
    #: metres) of the decision-only belt (measured when :data:`vision.decision.APPLY_REGIMES` is on)
    load: list = field(default_factory=list)
    belt_load: list = field(default_factory=list)
    row_m: float = 0.0
    #: each candidate's image patch (:func:`vision.patchnet.patch_of`; None: not recorded)
    patch: list = field(default_factory=list)
    #: per source group (``fold``), the share of the decision tiles' sources its out-of-fold classifier trains on
    source_share: list = field(default_factory=list)
    #: whether the groups (``fold``) are the cross-fit's source groups: the decision belt is then scored out of fold
    cross_fit: bool = CROSS_FIT
    #: per :meth:`add_belt` call, (scene type, source group, metres): the decision belt each group's classifier scored
    belt_parts: list = field(default_factory=list)

    def add(self, found: tuple, fold: int, normal: bool, scene_type: str = "", train: bool = True) -> None:
        """Add (features, labels, lengths[, loads[, patches]]) of candidates (:func:`_candidates`)."""
        x, y, length = found[:3]
        self.load += list(found[3]) if len(found) > 3 else [float("nan")] * len(x)
        self.patch += list(found[4]) if len(found) > 4 else [None] * len(x)
        self.x += x
        self.y += y
        self.length_mm += length
        self.fold += [fold] * len(x)
        self.normal += [normal] * len(x)
        self.scene_type += [scene_type] * len(x)
        self.train += [train] * len(x)

    def add_belt(self, scene_type: str, metres: float, row_load: np.ndarray | None = None, row_m: float = 0.0,
                 group: int = -1) -> None:
        """Count ``metres`` of object-free calibration belt of ``scene_type`` (of source group ``group``) as scored
        (with the load of each of its rows of ``row_m`` metres, when measured)."""
        self.belt_m[scene_type] = self.belt_m.get(scene_type, 0.0) + float(metres)
        self.belt_parts.append((scene_type, int(group), float(metres)))
        if row_load is not None:
            self.belt_load.append(np.asarray(row_load, float))
            self.row_m = float(row_m)


def _folds(tiles: TileSet) -> list[TileSet]:
    """The tiles split by source into N_FOLDS folds, or [tiles] when a fold would be empty (tiny custom sets)."""
    try:
        return [tile_fold(tiles, k, N_FOLDS) for k in range(N_FOLDS)]
    except DataError:
        return [tiles]


def _groups(tiles: TileSet, n_folds: int, cross_fit: bool = CROSS_FIT) -> list[TileSet]:
    """The tiles split by source into the cross-fit's groups (:func:`vision.crossfit.source_groups`, nested in
    ``n_folds`` folds) with ``cross_fit``, else (or when a group would be empty) the ``n_folds`` folds themselves."""
    if cross_fit and n_folds == N_FOLDS:
        try:
            return source_groups(tiles, CROSS_FIT_GROUPS, N_FOLDS)
        except DataError:
            pass
    return _folds(tiles) if n_folds == N_FOLDS else [tiles]


def fit_vision_model(
    *,
    mm_per_px: float = 1.0,
    width_px: int = 2048,
    seed: int = 0,
    tiles: TileSet | None = None,
    normal_m: float = 40.0,
    calibration_m: float | None = None,
    objects_m: float | None = None,
    params: DetectorParams | None = None,
    calibration_tiles: TileSet | None = None,
    scene: dict | None = None,
    objects: dict | None = None,
    decision_m: float | None = None,
    cross_fit: bool = CROSS_FIT,
    dense: DenseSeeds | None = None,
    kind_weight: dict[str, float] | None = None,
    hold_regimes: bool | None = None,
    mix: Sequence[str] = FIT_MIX,
) -> VisionModel:
    """Fit the normal-ore model, set the candidate threshold, train the object/kind classifier and calibrate its
    decision on simulated scenes built from ``tiles`` (default: the fit split with photometric jitter,
    :func:`~vision.tiles.augmented_tiles`). Lengths are metres of belt
    rendered for each step; ``calibration_m`` defaults to 100 m x ``mm_per_px`` and ``objects_m`` to OBJECTS_M_PER_MM x
    min(``mm_per_px``, OBJECTS_SCALE_CAP) (coarser scales are cheap to render, so they get more belt). The object decision is calibrated on
    ``calibration_tiles`` (default: the fit split without jitter). Held-out tiles are never used.

    The classifier's training scenes are each built from one of N_FOLDS folds of the tiles (split by source image).
    The object decision ``none_max`` is set on ``decision_m`` metres (default DECISION_M_PER_MM x mm/px) of
    object-free belt of every scene type that the classifier never trained on (:func:`train_classifier`); with
    ``cross_fit`` (default :data:`vision.crossfit.CROSS_FIT`) the scenes are built per source group and that belt is
    scored out of fold (:mod:`vision.crossfit`). ``hold_regimes``: see :func:`train_classifier` (False: FIT_VERSION
    13's decision rule, as the union's base and refit were made).

    ``scene`` / ``objects``: extra :class:`~vision.scene.BeltScene` / :func:`~vision.scene.random_objects` options for
    every fitting scene (e.g. ``scene={}, objects={}``: today's scenes only); when both are None (default) the fit
    renders the scene types of :data:`vision.scenes.FIT_MIX` in turn (realistic, today's, dark ore).

    ``dense``: the dense net's seeds on in every detector the fit builds (the union's judge refit,
    :mod:`vision.densenet_refit`); ``kind_weight``: the classifier's training weight per kind
    (:class:`~vision.classify.KindClassifier`); ``mix``: the scene types rendered in turn when neither ``scene`` nor
    ``objects`` is given (default FIT_MIX; the camera union's :data:`vision.scenes.CAMERA_FIT_MIX`)."""
    model, pool = candidate_pool(mm_per_px=mm_per_px, width_px=width_px, seed=seed, tiles=tiles, normal_m=normal_m,
                                 calibration_m=calibration_m, objects_m=objects_m, params=params, calibration_tiles=calibration_tiles,
                                 scene=scene, objects=objects, decision_m=decision_m, cross_fit=cross_fit, dense=dense, mix=mix)
    return finish_fit(model, pool, seed=seed, calibration_tiles=calibration_tiles, scene=scene, objects=objects,
                      kind_weight=kind_weight, hold_regimes=hold_regimes, mix=mix)


@one_fit_thread
def finish_fit(model: VisionModel, pool: "CandidatePool", *, seed: int = 0, calibration_tiles: TileSet | None = None,
               scene: dict | None = None, objects: dict | None = None, kind_weight: dict[str, float] | None = None,
               hold_regimes: bool | None = None, mix: Sequence[str] = FIT_MIX) -> VisionModel:
    """The last steps of :func:`fit_vision_model` on the output of :func:`candidate_pool`: the classifier, its
    decision and the provenance (``mix``: the scene types the pool was rendered from)."""
    decision = None
    if len(set(pool.y)) >= 2:
        model.classifier, decision = train_classifier(pool, model.params, seed, kind_weight=kind_weight,
                                                      hold_regimes=hold_regimes)
    model.fitted_on = provenance(load_tiles("fit") if calibration_tiles is None else calibration_tiles, model.mm_per_px,
                                 scene=dict(scene or {}), objects=dict(objects or {}),
                                 scene_mix=list(mix) if scene is None and objects is None else [],
                                 decision=decision.as_dict() if decision is not None else {})
    return model


def provenance(tiles: TileSet, mm_per_px: float, **extra) -> dict:
    """What a model is fitted on: the images (origin, file count and digest of their sha256 list, tiles), the frames'
    and the model's mm/px, MODEL_FORMAT, RECIPE_FIT_VERSION (the union's fit sets its own), :func:`fit_data_digest` and the UTC time, plus ``extra``."""
    out = {"images": tiles.origin, "n_files": len(tiles.files) or len({n.split("@")[0] for n in tiles.names}),
           "files_sha256": files_digest(tiles.files) if tiles.files else "", "n_tiles": len(tiles),
           "frames_mm_per_px": tiles.mm_per_px, "mm_per_px": mm_per_px, "format": MODEL_FORMAT,
           "fit_version": RECIPE_FIT_VERSION, "data_digest": fit_data_digest(), "fitted_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out.update(extra)
    return out


#: Belt (m) rendered for each step of a site fit: less than the built-in fit (objects_m 480 m at 1 mm/px), so that
#: 100 frames fit in under 2 minutes on one core; the classifier's objects come from the same renderer.
SITE_NORMAL_M = 30.0
SITE_CALIBRATION_M = 60.0
SITE_OBJECTS_M = 120.0
#: Object-free belt of the site's own tiles scored only for the object decision (:mod:`vision.decision`): 150 m at
#: 1 mm/px keeps a site fit near 2 minutes; the model records the false-alarm bound it allows (20 per 1,000 m; a
#: site that needs 1 per 1,000 m fits with ``--decision-m 3000``).
SITE_DECISION_M = 150.0
#: Frames carry no labels, so a few may hold foreign objects. A tile's *unsupported share* is the share of its cells
#: whose colour and brightness (a coarse (r, g, lum) bin) at most max(2, SUPPORT_SOURCES x frames) frames show: an
#: object's colour rarely appears in other frames. But a whole frame of a rare ore looks like that too, so a tile is
#: dropped from a site fit only when its share exceeds UNSUPPORTED_SHARE *and* ODD_TILE_RATIO x the median share of the
#: other tiles of its frame (at least MIN_FRAME_TILES tiles): an ordinary frame with one odd patch. At most
#: MAX_DROP_SHARE of the tiles are dropped, and none with fewer than MIN_TRIM_FRAMES frames.
UNSUPPORTED_SHARE = 0.1
ODD_TILE_RATIO = 3.0
MIN_FRAME_TILES = 3
SUPPORT_SOURCES = 0.05
MAX_DROP_SHARE = 0.05
MIN_TRIM_FRAMES = 20
_SUPPORT_BINS = np.array([12, 12, 8])


def unusual_tiles(tiles: TileSet, block_px: int = 4) -> np.ndarray:
    """Boolean (N,) of the tiles of ``tiles`` to leave out of a site fit (see UNSUPPORTED_SHARE)."""
    drop = np.zeros(len(tiles), bool)
    share = unsupported_share(tiles, block_px)
    if share is None:
        return drop
    frames = np.array([n.split("#")[0].split("@")[0] for n in tiles.names])
    odd = np.zeros(len(tiles), bool)
    for f in np.unique(frames):
        idx = np.flatnonzero(frames == f)
        if idx.size < MIN_FRAME_TILES:
            continue
        for i in idx:
            rest = np.median(share[idx[idx != i]])
            odd[i] = share[i] > UNSUPPORTED_SHARE and share[i] > ODD_TILE_RATIO * rest
    order = np.argsort(-np.where(odd, share, -1.0))[: int(MAX_DROP_SHARE * len(tiles))]
    drop[order[odd[order]]] = True
    return drop


def unsupported_share(tiles: TileSet, block_px: int = 4) -> np.ndarray | None:
    """Per tile (N,), the share of its cells whose coarse (r, g, lum) bin at most max(2, SUPPORT_SOURCES x frames)
    frames show; None with fewer than MIN_TRIM_FRAMES frames."""
    sources = np.array([source_of(Path(n.split("#")[0])) for n in tiles.names])
    uniq, src = np.unique(sources, return_inverse=True)
    if len(uniq) < MIN_TRIM_FRAMES:
        return None
    w = tiles.tiles.shape[2] // block_px
    x = [np.stack([f.r.ravel(), f.g.ravel(), f.lum.ravel()], 1)
         for f in (cell_features(t, block_px, np.ones(w, bool)) for t in tiles.tiles)]
    allx = np.concatenate(x)
    lo, hi = np.percentile(allx, 0.5, axis=0), np.percentile(allx, 99.5, axis=0)
    nb = _SUPPORT_BINS
    ids = []
    for xi in x:
        b = np.clip(((xi - lo) / np.maximum(hi - lo, 1e-9) * (nb - 2)).astype(np.int64) + 1, 0, nb - 1)
        ids.append((b[:, 0] * nb[1] + b[:, 1]) * nb[2] + b[:, 2])
    pairs = np.unique(np.concatenate([np.column_stack([i, np.full(i.size, s)]) for i, s in zip(ids, src)]), axis=0)
    support = np.bincount(pairs[:, 0], minlength=int(nb.prod()))
    k = max(2, int(SUPPORT_SOURCES * len(uniq)))
    return np.array([float((support[i] <= k).mean()) for i in ids])


@one_fit_thread
def fit_site_model(folder: str | Path, *, mm_per_px: float = 1.0, width_px: int = 2048, seed: int = 0,
                   frame_px: tuple[int, int] | None = None, split: str = "all", normal_m: float = SITE_NORMAL_M,
                   calibration_m: float = SITE_CALIBRATION_M, objects_m: float = SITE_OBJECTS_M,
                   decision_m: float = SITE_DECISION_M) -> VisionModel:
    """Fit the whole vision model on a site's own ore-on-belt frames in ``folder`` (no labels; see
    :func:`~vision.site_images.load_site_tiles` for the checks and errors). Tiles that look unlike the rest under a
    few other frames (:func:`unusual_tiles`: frames holding objects) are dropped; the rest, with two
    photometrically jittered copies, fit the density and train the classifier on rendered belt with objects, and
    the plain tiles set the object decision on belt the classifier never trained on. The model records what it was fitted on."""
    site = load_site_tiles(folder, mm_per_px=mm_per_px, frame_px=frame_px, split=split)  # type: ignore[arg-type]
    drop = unusual_tiles(site)
    if drop.any() and not drop.all():
        kept = site.tiles[~drop]
        kept.setflags(write=False)
        site = TileSet(kept, tuple(n for n, d in zip(site.names, drop) if not d), site.origin, site.files, site.mm_per_px, site.skipped)
    model = fit_vision_model(mm_per_px=mm_per_px, width_px=width_px, seed=seed, tiles=jittered(site, 2, seed),
                             calibration_tiles=site, normal_m=normal_m, calibration_m=calibration_m, objects_m=objects_m,
                             decision_m=decision_m, scene={}, objects={},  # the site's own belt as it is photographed: no built-in scene mix
                             cross_fit=False)  # in fold, as before: seven classifiers would take a site fit past 2 minutes
    model.appearance_limit = site_appearance_limit(model, site, seed)
    model.fitted_on = provenance(site, mm_per_px, folder=str(Path(folder).resolve()), split=split,
                                 tiles_dropped=int(drop.sum()), frames_skipped=len(site.skipped),
                                 frames_skipped_examples=list(site.skipped[:5]),
                                 belt_test=model.ore.belt_test, decision=model.fitted_on.get("decision", {}))
    return model


#: Scenes (5 m each; every other one with 4 objects per metre) of the site's own tiles on which a site model's
#: appearance limit is calibrated.
SITE_APPEARANCE_SCENES = 6


def site_appearance_limit(model: VisionModel, site: TileSet, seed: int = 0) -> float:
    """The appearance alarm's limit for a model fitted on ``site``'s frames: :func:`~vision.appearance.calibrate_limit`
    on SITE_APPEARANCE_SCENES scenes of them (normal belt and belt with objects, as the fit renders)."""
    rows = int(5000 / model.mm_per_px)
    rng = np.random.default_rng([seed, 4242])
    images = []
    for i in range(SITE_APPEARANCE_SCENES):
        sc = _scene(site, seed * 1000 + 900 + i, model.width_px, model.mm_per_px)
        images.append(sc.render(0, rows, random_objects(5000.0, rng, per_m=4.0, min_gap_mm=120.0) if i % 2 else []))
    return calibrate_limit(model.ore, images)


def train_classifier(pool: "CandidatePool", params: DetectorParams, seed: int = 0,
                     patchnet: bool = FIT_PATCHNET, kind_weight: dict[str, float] | None = None,
                     hold_regimes: bool | None = None) -> tuple[KindClassifier, Decision]:
    """The kind classifier fitted on the training candidates of ``pool`` ("none" ones from object scenes thinned to
    at most MAX_NONE_PER_OBJECT per object candidate) and its object decision (:func:`vision.decision.decide`) from
    the p(none) of the size-gated candidates on decision-only object-free belt (never trained on). With
    ``pool.cross_fit`` (:data:`vision.crossfit.CROSS_FIT`) and more than one source group (``pool.fold``) on that belt, each group's
    candidates are scored by a classifier trained on the other groups' candidates (out of fold: ore it never saw, as
    at a port), else by the final classifier. Without such belt the normal calibration candidates it trained on set
    it (optimistic; the bound is then unknown).
    With ``patchnet`` and a patch per candidate, the classifier gets the patch verifier (:mod:`vision.patchnet_fit`)
    trained on the same candidates, and the decision is set on their combined p(none).
    ``hold_regimes`` (default :data:`vision.decision_level.HOLD_UNFOUNDED_REGIMES`): a belt condition keeps its own
    level only where leave-one-group-out founds it (:func:`vision.decision_level.hold_unfounded_regimes`).
    Raises ModelError with fewer than two classes (or, for the verifier, without torch)."""
    hold = HOLD_UNFOUNDED_REGIMES if hold_regimes is None else hold_regimes
    x, y = np.array(pool.x), np.asarray(pool.y)
    normal, length, load = np.asarray(pool.normal, bool), np.asarray(pool.length_mm), np.asarray(pool.load, float)
    types = np.asarray(pool.scene_type, str) if pool.scene_type else np.full(len(y), "")
    train = np.asarray(pool.train, bool) if pool.train else np.ones(len(y), bool)
    gated = normal & (length >= params.min_length_mm)
    held = gated & ~train
    if not held.any() and not pool.belt_m:
        held = gated
    other_none = np.flatnonzero((y == NONE) & ~normal & train)
    cap = int(MAX_NONE_PER_OBJECT * np.sum((y != NONE) & train))
    if other_none.size > cap:
        train = train.copy()
        train[np.random.default_rng([seed, 99]).choice(other_none, other_none.size - cap, replace=False)] = False
    patches = np.asarray(pool.patch) if patchnet and pool.patch and all(p is not None for p in pool.patch) else None

    def fit_on(mask: np.ndarray) -> KindClassifier:
        c = KindClassifier(seed=seed, kind_weight=kind_weight).fit(x[mask], y[mask])
        if patches is not None:
            c.patchnet_ = fit_patchnet(x[mask], patches[mask], y[mask], seed)
        return c

    def p_none_of(c: KindClassifier, mask: np.ndarray) -> np.ndarray:
        return c.p_none(x[mask], None if patches is None else patches[mask]) if mask.any() else np.zeros(0)

    clf = fit_on(train)
    belt_m = dict(pool.belt_m) or {t: 0.0 for t in set(types[held].tolist())}
    belt_load = np.concatenate(pool.belt_load) if pool.belt_load and APPLY_REGIMES else None  # levels per belt condition
    p_held = in_fold = p_none_of(clf, held)
    group = np.asarray(pool.fold)
    if pool.cross_fit and held.any() and np.unique(group[held]).size > 1 and pool.belt_m:
        p_held = out_of_fold_p_none(group, train, held, lambda fit, score: p_none_of(fit_on(fit), score))
    decision = decide(p_held, types[held], belt_m, load[held], belt_load, pool.row_m)
    if p_held is not in_fold:
        decision.record_in_fold(in_fold, types[held], p_held, list(pool.source_share))
        if (LEVEL_BY_GROUPS or hold) and set(np.unique(group[held]).tolist()) <= set(group_belt(pool.belt_parts)):
            choices = choose_levels(p_held, group[held], load[held], pool.belt_parts, pool.belt_load if APPLY_REGIMES else [], pool.row_m)
            if LEVEL_BY_GROUPS:
                apply_choices(decision, choices)
            if hold:
                hold_unfounded_regimes(decision, choices)
    clf.none_max = decision.none_max
    clf.regimes_ = decision.table()
    return clf, decision


@one_fit_thread
def candidate_pool(
    *,
    mm_per_px: float = 1.0,
    width_px: int = 2048,
    seed: int = 0,
    tiles: TileSet | None = None,
    normal_m: float = 40.0,
    calibration_m: float | None = None,
    objects_m: float | None = None,
    params: DetectorParams | None = None,
    calibration_tiles: TileSet | None = None,
    scene: dict | None = None,
    objects: dict | None = None,
    decision_m: float | None = None,
    cross_fit: bool = CROSS_FIT,
    dense: DenseSeeds | None = None,
    mix: Sequence[str] = FIT_MIX,
) -> tuple[VisionModel, "CandidatePool"]:
    """Steps of :func:`fit_vision_model` before the classifier: the fitted normal-ore model and calibrated detector
    parameters (as a VisionModel without classifier) and the labelled candidates to train the classifier on
    (``mix``: the scene types rendered in turn, :func:`_scene_kw`)."""
    calibration_m = 100.0 * mm_per_px if calibration_m is None else calibration_m
    decision_m = DECISION_M_PER_MM * mm_per_px if decision_m is None else decision_m
    objects_m = OBJECTS_M_PER_MM * min(mm_per_px, OBJECTS_SCALE_CAP) if objects_m is None else objects_m
    tiles = augmented_tiles("fit", 2, seed) if tiles is None else tiles
    ore = NormalOreModel(cell_mm=max(4.0, 2.0 * mm_per_px), mm_per_px=mm_per_px,
                         belt_test=belt_test_for(tiles, width_px, mm_per_px, seed))
    cell_mm = ore.block_px * mm_per_px
    params = params or DetectorParams(smooth_cells=smooth_cells_for(cell_mm), fine_cells=fine_cells_for(cell_mm),
                                      broad_cells=broad_cells_for(cell_mm), ridge_sigma_cells=ridge_sigma_cells_for(cell_mm))
    scene_rows = int(5000 / mm_per_px)
    n_normal = max(1, int(round(normal_m / 5.0)))
    geometry = _scene(tiles, seed * 1000, width_px, mm_per_px, **_scene_kw(scene, objects, 0, mix)[0])
    belt_px = (geometry.belt_x0, geometry.belt_x0 + geometry.belt_px)
    ore.fit((_scene(tiles, seed * 1000 + i, width_px, mm_per_px, **_scene_kw(scene, objects, i, mix)[0]).render(0, scene_rows) for i in range(n_normal)), belt_px)
    n_cal = max(1, int(round(calibration_m / 5.0)))
    n_thr = (n_cal + 1) // 2
    calib = [_scene(tiles, seed * 1000 + 500 + i, width_px, mm_per_px, **_scene_kw(scene, objects, i, mix)[0]).render(0, scene_rows) for i in range(n_thr)]
    params.threshold = calibrate_threshold(ore, calib, params)
    model = VisionModel(ore, params, None, width_px, dense=dense)  # dense: the net's seeds in every detector below
    cal_tiles = load_tiles("fit") if calibration_tiles is None else calibration_tiles
    folds, plain = _folds(tiles), _folds(cal_tiles)
    if len(plain) != len(folds):
        folds, plain = [tiles], [cal_tiles]
    by_fold = [model] * len(folds)
    if cell_mm <= OBJECTNESS_MAX_CELL_MM:
        oof = fit_objectness(model, folds, plain, width_px, mm_per_px, seed, scene, objects, mix=mix)
        # candidates of fold k are found with the objectness model trained without fold k: the classifier learns
        # (and its decision is calibrated on) objectness values as unseen ore gives them
        by_fold = [replace(model, objectness=o) for o in oof]
    # every scene below is built from one source group (group g inside fold g % len(folds)): the pool's "fold"
    groups, plain_groups = _groups(tiles, len(folds), cross_fit), _groups(cal_tiles, len(folds), cross_fit)
    if len(groups) != len(plain_groups):
        groups, plain_groups = folds, plain
    by_group = [by_fold[g % len(by_fold)] for g in range(len(groups))]
    pool = CandidatePool(cross_fit=cross_fit and len(groups) == CROSS_FIT_GROUPS > len(folds))
    sizes: list[tuple[float, float]] = []
    rng = np.random.default_rng(seed + 7)
    for i in range(max(1, int(round(objects_m / 5.0)))):
        k = i % len(groups)
        scene_kw, objects_kw = _scene_kw(scene, objects, i, mix)
        sc = _scene(groups[k], seed * 1000 + 800 + i, width_px, mm_per_px, **scene_kw)
        objs = random_objects(5000.0, rng, per_m=4.0, min_gap_mm=120.0, length_range_mm=TRAIN_LENGTH_MM,
                              **{"kinds": TRAIN_KINDS, **objects_kw})
        pool.add(_candidates(by_group[k], sc.render(0, scene_rows, objs), objs, mm_per_px, sizes), k, False)
    calibrate_length(sizes, params)
    for i in range(n_thr, n_cal):  # normal belt: everything found is "none"
        k = i % len(groups)
        pool.add(_candidates(by_group[k], _scene(groups[k], seed * 1000 + 500 + i, width_px, mm_per_px, **_scene_kw(scene, objects, i, mix)[0]).render(0, scene_rows), [], mm_per_px), k, False)
    for i in range(n_cal):  # normal calibration belt per group (also "none" training for the final classifier)
        k = i % len(plain_groups)
        sc = _scene(plain_groups[k], seed * 1000 + 300 + i, width_px, mm_per_px, **_scene_kw(scene, objects, i, mix)[0])
        pool.add(_belt_candidates(by_group[k], sc, scene_rows, scene_rows // 2), k, True, _scene_type(scene, objects, i, mix))
    _decision_belt(pool, by_group, plain_groups, decision_m, seed, scene, objects, mix)
    pool.source_share = source_share(plain_groups) if len(plain_groups) > 1 else []
    return model, pool


def _decision_belt(pool: CandidatePool, by_fold: list[VisionModel], plain: list[TileSet], decision_m: float, seed: int,
                   scene: dict | None, objects: dict | None, mix: Sequence[str] = FIT_MIX) -> None:
    """Add to ``pool`` the candidates (decision only, not training) of ``decision_m`` metres of object-free belt
    (times :data:`DECISION_TYPE_SHARE` per scene type): equal shares per scene type of the fit and per fold of the
    ``plain`` tiles, fold k's found by ``by_fold[k]``."""
    types = sorted({_scene_type(scene, objects, i, mix): i for i in range(len(mix))}.items())
    model = by_fold[0]
    mm_per_px, width_px = model.mm_per_px, model.width_px
    rows_equal = decision_m * 1000.0 / mm_per_px / len(types) / len(plain)
    for t, (name, i) in enumerate(types):
        rows_each = int(rows_equal * DECISION_TYPE_SHARE.get(name, 1.0))
        for k, tiles in enumerate(plain):
            sc = _scene(tiles, 10**6 + seed * 1000 + 10 * t + k, width_px, mm_per_px, **_scene_kw(scene, objects, i, mix)[0])
            if STREAMED_BELT:  # the frames a camera delivers, through one detector (vision.decision_belt)
                _streamed_decision_belt(pool, model, by_fold[k], sc, rows_each, name, k)
                continue
            for r0 in range(0, rows_each, DECISION_CHUNK_ROWS):
                rows = min(DECISION_CHUNK_ROWS, rows_each - r0)
                if rows * mm_per_px < 1000.0:  # under a metre: not worth a frame
                    continue
                image = sc.render(r0, rows)
                pool.add(_candidates(by_fold[k], image, [], mm_per_px), k, True, name, train=False)
                loads = _belt_row_loads(model, image) if APPLY_REGIMES else None
                pool.add_belt(name, rows * mm_per_px / 1000.0, loads, model.ore.block_px * mm_per_px / 1000.0, k)


def _streamed_decision_belt(pool: CandidatePool, model: VisionModel, finder: VisionModel, sc: BeltScene, rows: int,
                            scene_type: str, group: int) -> None:
    """Add to ``pool`` the candidates ``finder`` streams from ``rows`` rows of ``sc`` (decision only, source group
    ``group``) and the belt scored, with the load of each row (measured by ``model``) when APPLY_REGIMES is on."""
    loads: list[np.ndarray] = []

    def row_loads(image: np.ndarray) -> None:
        loads.append(_belt_row_loads(model, image))

    found = streamed_detections(finder.detector(), sc.render, rows, model.mm_per_px, FRAME_LINES,
                                row_loads if APPLY_REGIMES else None)
    pool.add(as_candidates(found), group, True, scene_type, train=False)
    pool.add_belt(scene_type, rows * model.mm_per_px / 1000.0, np.concatenate(loads) if loads else None,
                  model.ore.block_px * model.mm_per_px / 1000.0, group)


def _belt_candidates(model: VisionModel, sc: BeltScene, rows: int, frame_lines: int) -> tuple:
    """Candidates (:func:`_candidates`) of ``rows`` rows of object-free belt of ``sc``: streamed in frames of
    ``frame_lines`` lines with :data:`vision.decision_belt.STREAMED_BELT` (frame edges as at the station), else one still."""
    if STREAMED_BELT:
        return as_candidates(streamed_detections(model.detector(), sc.render, rows, model.mm_per_px, frame_lines))
    return _candidates(model, sc.render(0, rows), [], model.mm_per_px)


def _belt_row_loads(model: VisionModel, image: np.ndarray) -> np.ndarray:
    """The belt load (:func:`vision.regime.load_at`) at every cell row of ``image``, as the detector measures it
    around a candidate there."""
    feats = model.ore.features(image)
    cols = model.ore.belt_columns(feats, model.ore.score(feats))
    return load_at(feats.rgb, cols, np.arange(feats.rgb.shape[0]), model.ore.block_px * model.mm_per_px)


#: Fitted models shipped with oreline (the demo's camera model, ``make models``), under their cache file names.
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"


#: The fitting recipe's version, part of every cache key. Bump it when a change to the fitting, scene or detection
#: code changes what a fit produces; a comment, a rename or a refactor that keeps the fitted arrays keeps the key
#: (and so the shipped model). 7: the recipe of model format 7 (learned objectness seeds); 8: every fit step renders
#: the scene types of vision.scenes.FIT_MIX in turn (realistic, today's, dark ore), not today's scenes only, and the
#: classifier gets texture contrast against the local ore, peak in-cell contrast and edge steps (model format 8); 9: the
#: object decision is set on the empirical false candidates of object-free belt of every scene type (vision.decision,
#: DECISION_M_PER_MM), not on an extrapolated tail; 10: 4 mm/px models get the learned objectness
#: (OBJECTNESS_MAX_CELL_MM 4 -> 8); 11 and 12: candidates B and C, never shipped (docs/vision.md); 13: fit C's recipe
#: (gated dark-bar seeds, concrete shading 0.1) with scenes built per source group and the decision set out of fold
#: (vision.crossfit); 14: DARK_RIDGE_FULL_BURDEN on, measured and not shipped (7 false alarms in 3 km of held-out
#: realistic belt, docs/vision.md), so 13 stays; 15: 14 with the object-free belt streamed in camera frames
#: (vision.decision_belt.STREAMED_BELT), measured and not shipped (0 false alarms, but realistic 63.0 -> 57.4 % and dark
#: rubber 77.3 %: docs/vision.md "Out-of-fold tail"); 16: 15 on the frame-edge fix with the level's estimator chosen by
#: leave-one-group-out (vision.decision_level.LEVEL_BY_GROUPS), measured and not shipped (1 false alarm in 3,006 m of
#: held-out realistic belt: docs/vision.md "FIT_VERSION 16"); 17: 16 with 1.65 x the full-burden decision belt
#: (DECISION_TYPE_SHARE), measured and not shipped (13 false alarms in 3,006 m of held-out realistic belt: the check
#: passed up to rank 4 and loosened the level; docs/vision.md "FIT_VERSION 17"). A fit that turns any of these switches
#: on must raise FIT_VERSION past 18. 18: at the dense net's scale (vision.union_fit.UNION_MM_PER_PX, defaults
#: otherwise) 13's model unchanged plus the union: the dense net as seeds and a refit's classifier with the net's peak as
#: VisionModel.dense_judge, either classifier reporting (docs/vision.md "The union shipped: FIT_VERSION 18"); other
#: scales and settings: RECIPE_FIT_VERSION (19).
FIT_VERSION = 18
#: The union's base (:func:`vision.union_fit.features_model`): FIT_VERSION 13's model, the file shipped under this
#: version's cache key (the model the union was confirmed on; never refitted while that file is there).
FEATURES_FIT_VERSION = 13
#: The recipe of every other camera fit (other scales, fit options given, site fits, ``oreline vision fit``): 19 =
#: FIT_VERSION 13's recipe on one BLAS thread (:func:`one_fit_thread`) with a belt condition's own level kept only
#: where leave-one-group-out founds it (vision.decision_level.HOLD_UNFOUNDED_REGIMES). 13's recipe with today's
#: detector let 1 and 3 false alarms through in 3,006 m of held-out realistic belt (seeds 11, 12), recipe 19 none
#: (docs/vision.md "FIT_VERSION 13's recipe today"), so models cached under 13's keys are not taken for these settings.
RECIPE_FIT_VERSION = 19
#: The scale (mm/px) the dense net is trained at (``vision.densenet_data.training_set``'s default): the built-in fit
#: there, with its defaults, is the union (:mod:`vision.union_fit`).
UNION_MM_PER_PX = 4.0


def union_applies(mm_per_px: float, **kw: Any) -> bool:
    """Whether the built-in fit (:func:`vision.model_cache.cached_model`) at ``mm_per_px`` with the fit options ``kw``
    is the union (FIT_VERSION 18): at UNION_MM_PER_PX with the built-in fit's defaults (no option given)."""
    return abs(float(mm_per_px) - UNION_MM_PER_PX) < 1e-9 and not kw


def fit_version(mm_per_px: float, **kw: Any) -> int:
    """The recipe version of the built-in fit at ``mm_per_px`` with options ``kw``: FIT_VERSION for the union, else
    RECIPE_FIT_VERSION."""
    return FIT_VERSION if union_applies(mm_per_px, **kw) else RECIPE_FIT_VERSION


#: Folders of ``shared/data/vision`` a built-in fit reads (ore tiles, rock crops for lumps, surface photos); the
#: gravel/brick textures come from scikit-image, whose version is part of the digest.
FIT_DATA_DIRS = (CDM_DIR, ROCKS_DIR, TEXTURE_DIR)


@lru_cache(maxsize=1)
def fit_data_digest() -> str:
    """SHA-256 (hex, 12 digits) of the data a built-in fit reads: every file of :data:`FIT_DATA_DIRS` (name and
    bytes) and the scikit-image version (its gravel and brick textures). Computed once per process (~25 MB)."""
    import skimage

    root = shared_data_dir() / "vision"
    h = hashlib.sha256(f"skimage {skimage.__version__}".encode())  # type: ignore[attr-defined]
    for folder in FIT_DATA_DIRS:
        for path in sorted(p for p in (root / folder).rglob("*") if p.is_file()):
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:12]


def cache_key(mm_per_px: float = 1.0, width_px: int = 2048, seed: int = 0, **kw) -> str:
    """The cache key of a built-in fit: :func:`recipe_key` of its :func:`fit_version`."""
    return recipe_key(fit_version(mm_per_px, **kw), mm_per_px, width_px, seed, **kw)


def recipe_key(version: int, mm_per_px: float, width_px: int, seed: int = 0, **kw: Any) -> str:
    """The cache key of a fit of recipe ``version`` (e.g. FEATURES_FIT_VERSION: the union's base): MODEL_FORMAT, the
    version, the settings and :func:`fit_data_digest`."""
    settings = (MODEL_FORMAT, version, float(mm_per_px), int(width_px), int(seed), sorted(kw.items()))
    return hashlib.sha256(repr((settings, fit_data_digest())).encode()).hexdigest()[:12]


def cache_path(mm_per_px: float = 1.0, width_px: int = 2048, seed: int = 0, cache_dir: Path | None = None,
               version: int | None = None, **kw) -> Path:
    """Where :func:`vision.model_cache.cached_model` keeps the model for these settings (:func:`cache_key`;
    ``version``: of that recipe, e.g. FEATURES_FIT_VERSION for the union's base)."""
    key = cache_key(mm_per_px, width_px, seed, **kw) if version is None else recipe_key(version, mm_per_px, width_px, seed, **kw)
    return (cache_dir or default_cache_dir()) / f"model-{mm_per_px:g}mm-{width_px}px-{key}.npz"


def stored_model(mm_per_px: float = 1.0, width_px: int = 2048, seed: int = 0, cache_dir: Path | None = None,
                 version: int | None = None, **kw) -> VisionModel | None:
    """The model for these settings (of recipe ``version``, default :func:`fit_version`) from the cache or the shipped
    models, or None when it was never fitted (no fit)."""
    path = cache_path(mm_per_px, width_px, seed, cache_dir, version, **kw)
    if seed_cache_from_shipped(path, SHIPPED_DIR):
        try:
            return VisionModel.load(path)
        except ModelError:
            return None  # stale or corrupt cache: refit
    return None
