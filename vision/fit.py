"""Fitting, calibrating, saving and loading the whole vision model.

:func:`fit_vision_model` renders belt scenes from the *fit* split of the ore tiles only:
normal scenes fit the normal-ore density, other normal scenes set the detection threshold
(the lowest score at which no component of the minimum area appears, plus a margin), and
scenes with inserted objects train the kind classifier. Held-out tiles are never used here.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from vision.classify import NONE, KindClassifier
from vision.detect import Detector, DetectorParams
from vision.errors import ModelError
from vision.evaluate import match
from vision.features import cell_features
from vision.frames import Frame
from vision.model import NormalOreModel
from vision.scene import BeltScene, random_objects
from vision.tiles import TileSet, augmented_tiles, load_tiles

MODEL_FORMAT = "oreline-vision-model-5"
#: Quantile of the normal-belt smoothed score used as candidate threshold, and its floor.
SEED_QUANTILE = 0.995
MIN_SEED_THRESHOLD = 2.5
#: The object decision: p("none") <= NONE_MAX_MARGIN x the lowest p("none") seen on normal calibration belt.
NONE_MAX_MARGIN = 0.5
NONE_MAX_CAP = 0.5
#: Lengths of the training objects (mm): the target is objects >= 50 mm; smaller ones look like ore and pale
#: rocks, and teaching the classifier to call them objects makes it call pale rocks objects too.
TRAIN_LENGTH_MM = (50.0, 600.0)
#: Smallest object length (mm) the detector must find, and the share of such objects whose corrected measured
#: length may fall below the size gate ``min_length_mm`` (calibrated on fit scenes).
TARGET_MM = 50.0
MIN_LENGTH_QUANTILE = 0.1
#: Extent of the score smoothing (mm): about half the smallest object that must be found (50 mm).
SMOOTH_MM = 20.0


@dataclass
class VisionModel:
    """Everything detection needs: the normal-ore density, detector parameters and the kind classifier."""

    ore: NormalOreModel
    params: DetectorParams
    classifier: KindClassifier | None
    width_px: int

    @property
    def mm_per_px(self) -> float:
        return self.ore.mm_per_px

    @property
    def version(self) -> str:
        extra = b"" if self.classifier is None else self.classifier.coefs_[0].tobytes() + repr(self.classifier.none_max).encode()
        h = hashlib.sha256(self.ore.nll_table_.tobytes() + repr(asdict(self.params)).encode() + extra).hexdigest()[:10]
        return f"{MODEL_FORMAT}:{h}"

    @property
    def kinds(self) -> list[str]:
        return [] if self.classifier is None else self.classifier.kinds

    def detector(self) -> Detector:
        return Detector(self.ore, self.classifier, DetectorParams(**asdict(self.params)), width_px=self.width_px)

    def save(self, path: Path) -> Path:
        arrays = dict(self.ore.to_arrays())
        if self.classifier is not None:
            arrays.update(self.classifier.to_arrays())
        for k, v in asdict(self.params).items():
            arrays[f"param_{k}"] = np.float64(v)
        arrays["format"] = np.array(MODEL_FORMAT)
        arrays["width_px"] = np.int64(self.width_px)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: Path) -> "VisionModel":
        """Load a saved model. Raises ModelError when the file is missing, corrupt or of another format."""
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                a = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read vision model {path}: {exc}") from exc
        if str(a.get("format", "")) != MODEL_FORMAT:
            raise ModelError(f"expected a {MODEL_FORMAT} file, got format {str(a.get('format', 'none'))!r} in {path}")
        ore = NormalOreModel.from_arrays(a)
        fields = DetectorParams.__dataclass_fields__
        params = DetectorParams(**{k: (int(a[f"param_{k}"]) if fields[k].type in ("int", int) else float(a[f"param_{k}"])) for k in fields if f"param_{k}" in a})
        clf = KindClassifier.from_arrays(a) if "cls_w0" in a else None
        return cls(ore, params, clf, int(a["width_px"]))


def _frame(image: np.ndarray, mm_per_px: float, frame_id: int = 0) -> Frame:
    return Frame(image, frame_id, 0.0, 100.0, 0.0, 0.0, mm_per_px)


def _scene(tiles: TileSet, seed: int, width_px: int, mm_per_px: float, **kw) -> BeltScene:
    return BeltScene(tiles, width_px=width_px, mm_per_px=mm_per_px, seed=seed, dust_probability=0.15, **kw)


def smooth_cells_for(cell_mm: float) -> int:
    """Box-smoothing width (cells, odd, >= 3) spanning about SMOOTH_MM at cells of ``cell_mm``."""
    n = int(round(SMOOTH_MM / cell_mm))
    return max(3, n + (n % 2 == 0))


def _candidate_scores(ore: NormalOreModel, img: np.ndarray, params: DetectorParams) -> np.ndarray:
    f = cell_features(img, ore.block_px)
    raw = ore.score(f)
    return ndi.uniform_filter(raw, params.smooth_cells, mode="nearest")[:, f.belt_cols].ravel()


def calibrate_threshold(ore: NormalOreModel, images: list[np.ndarray], params: DetectorParams) -> float:
    """Candidate (seed) threshold: the SEED_QUANTILE of the smoothed score over the belt of normal ``images``
    (at least MIN_SEED_THRESHOLD). Candidates are verified by the classifier, so this only bounds their number."""
    q = np.quantile(np.concatenate([_candidate_scores(ore, img, params) for img in images]), SEED_QUANTILE)
    return float(max(MIN_SEED_THRESHOLD, q))


def _candidates(model: VisionModel, image: np.ndarray, objects: list, mm_per_px: float,
                sizes: list | None = None) -> tuple[list[np.ndarray], list[str]]:
    """Features and truth label (object kind or "none") of every candidate the detector finds in ``image``;
    (true, measured) lengths of matched objects are appended to ``sizes``."""
    det = model.detector()
    det.report_all = True
    found = det.process(_frame(image, mm_per_px)).detections + det.flush()
    m = match(objects, found)
    x = [d.features for _, d in m.pairs if d is not None] + [d.features for d in m.false_alarms + m.duplicates]
    y = [o.kind for o, d in m.pairs if d is not None] + [NONE] * (len(m.false_alarms) + len(m.duplicates))
    if sizes is not None:
        sizes += [(o.length_mm, d.length_mm) for o, d in m.pairs if d is not None]
    return x, y


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


def calibrate_none_max(model: VisionModel, images: list[np.ndarray], mm_per_px: float) -> float:
    """Largest "none" probability still reported as an object: NONE_MAX_MARGIN times the smallest "none"
    probability of any candidate in the normal ``images`` (capped at NONE_MAX_CAP)."""
    x = [f for img in images for f in _candidates(model, img, [], mm_per_px)[0]]
    if not x:
        return NONE_MAX_CAP
    lowest = float(model.classifier.p_none(np.array(x)).min())
    return float(min(NONE_MAX_CAP, lowest * NONE_MAX_MARGIN))


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
) -> VisionModel:
    """Fit the normal-ore model, set the candidate threshold, train the object/kind classifier and calibrate its
    decision on simulated scenes built from ``tiles`` (default: the fit split with photometric jitter,
    :func:`~vision.tiles.augmented_tiles`). Lengths are metres of belt
    rendered for each step; ``calibration_m`` defaults to 100 m x ``mm_per_px`` and ``objects_m`` to 120 m x
    ``mm_per_px`` (coarser scales are cheap to render, so they get more belt). The object decision is calibrated on
    ``calibration_tiles`` (default: the fit split without jitter). Held-out tiles are never used."""
    calibration_m = 100.0 * mm_per_px if calibration_m is None else calibration_m
    objects_m = 120.0 * mm_per_px if objects_m is None else objects_m
    tiles = augmented_tiles("fit", 2, seed) if tiles is None else tiles
    ore = NormalOreModel(cell_mm=max(4.0, 2.0 * mm_per_px), mm_per_px=mm_per_px)
    params = params or DetectorParams(smooth_cells=smooth_cells_for(ore.block_px * mm_per_px))
    scene_rows = int(5000 / mm_per_px)
    n_normal = max(1, int(round(normal_m / 5.0)))
    ore.fit(_scene(tiles, seed * 1000 + i, width_px, mm_per_px).render(0, scene_rows) for i in range(n_normal))
    n_cal = max(1, int(round(calibration_m / 5.0)))
    calib = [_scene(tiles, seed * 1000 + 500 + i, width_px, mm_per_px).render(0, scene_rows) for i in range(n_cal)]
    params.threshold = calibrate_threshold(ore, calib[: (n_cal + 1) // 2], params)
    model = VisionModel(ore, params, None, width_px)
    x, y, sizes = [], [], []
    rng = np.random.default_rng(seed + 7)
    for i in range(max(1, int(round(objects_m / 5.0)))):
        sc = _scene(tiles, seed * 1000 + 800 + i, width_px, mm_per_px)
        objs = random_objects(5000.0, rng, per_m=4.0, min_gap_mm=120.0, length_range_mm=TRAIN_LENGTH_MM)
        xi, yi = _candidates(model, sc.render(0, scene_rows, objs), objs, mm_per_px, sizes)
        x += xi
        y += yi
    calibrate_length(sizes, params)
    for img in calib[(n_cal + 1) // 2 :]:  # normal belt: everything found is "none"
        xi, yi = _candidates(model, img, [], mm_per_px)
        x += xi
        y += yi
    if len(set(y)) >= 2:
        model.classifier = KindClassifier(seed=seed).fit(np.array(x), y)
        plain = load_tiles("fit") if calibration_tiles is None else calibration_tiles
        extra = [_scene(plain, seed * 1000 + 300 + i, width_px, mm_per_px).render(0, scene_rows) for i in range(n_cal)]
        model.classifier.none_max = calibrate_none_max(model, extra, mm_per_px)
    return model


def default_cache_dir() -> Path:
    """``$ORELINE_CACHE/vision`` or ``~/.cache/oreline/vision``."""
    root = os.environ.get("ORELINE_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "oreline") / "vision"


def cached_model(mm_per_px: float = 1.0, width_px: int = 2048, seed: int = 0, cache_dir: Path | None = None, **kw) -> VisionModel:
    """A fitted model for these settings, from the cache when present, else fitted and cached."""
    key = hashlib.sha256(repr((MODEL_FORMAT, mm_per_px, width_px, seed, sorted(kw.items()))).encode()).hexdigest()[:12]
    path = (cache_dir or default_cache_dir()) / f"model-{mm_per_px:g}mm-{width_px}px-{key}.npz"
    if path.exists():
        try:
            return VisionModel.load(path)
        except ModelError:
            pass  # stale or corrupt cache: refit
    model = fit_vision_model(mm_per_px=mm_per_px, width_px=width_px, seed=seed, **kw)
    model.save(path)
    return model
