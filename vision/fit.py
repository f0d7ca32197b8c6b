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

from vision.classify import KindClassifier
from vision.detect import Detector, DetectorParams
from vision.errors import ModelError
from vision.evaluate import match
from vision.features import cell_features
from vision.frames import Frame
from vision.model import NormalOreModel
from vision.scene import BeltScene, random_objects
from vision.tiles import TileSet, load_tiles

MODEL_FORMAT = "oreline-vision-model-1"
THRESHOLD_MARGIN = 0.5


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
        h = hashlib.sha256(self.ore.nll_table_.tobytes() + repr(asdict(self.params)).encode()).hexdigest()[:10]
        return f"{MODEL_FORMAT}:{h}"

    @property
    def kinds(self) -> list[str]:
        return [] if self.classifier is None else [str(k) for k in self.classifier.classes_]

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
        clf = KindClassifier.from_arrays(a) if "cls_coef" in a else None
        return cls(ore, params, clf, int(a["width_px"]))


def _frame(image: np.ndarray, mm_per_px: float, frame_id: int = 0) -> Frame:
    return Frame(image, frame_id, 0.0, 100.0, 0.0, 0.0, mm_per_px)


def _scene(tiles: TileSet, seed: int, width_px: int, mm_per_px: float, **kw) -> BeltScene:
    return BeltScene(tiles, width_px=width_px, mm_per_px=mm_per_px, seed=seed, dust_probability=0.15, **kw)


def calibrate_threshold(ore: NormalOreModel, images: list[np.ndarray], params: DetectorParams) -> float:
    """Lowest smoothed score above which no component of ``params.min_area_mm2`` appears in ``images``, + margin."""
    cell_mm = ore.block_px * ore.mm_per_px
    min_cells = params.min_area_mm2 / cell_mm**2
    worst = 0.0
    for img in images:
        f = cell_features(img, ore.block_px)
        raw = ore.score(f)
        raw[:, ~f.belt_cols] = 0
        sm = ndi.uniform_filter(raw, params.smooth_cells, mode="nearest")
        for t in np.arange(max(worst, 2.0), 15.0, 0.25):
            lab, n = ndi.label(sm > t)
            if n == 0 or np.bincount(lab.ravel())[1:].max() < min_cells:
                worst = max(worst, float(t))
                break
    return worst + THRESHOLD_MARGIN


def fit_vision_model(
    *,
    mm_per_px: float = 1.0,
    width_px: int = 2048,
    seed: int = 0,
    tiles: TileSet | None = None,
    normal_m: float = 40.0,
    calibration_m: float = 40.0,
    objects_m: float = 60.0,
    params: DetectorParams | None = None,
) -> VisionModel:
    """Fit the normal-ore model, calibrate the threshold and train the kind classifier on simulated scenes
    built from ``tiles`` (default: the fit split). Lengths are metres of belt rendered for each step."""
    tiles = load_tiles("fit") if tiles is None else tiles
    params = params or DetectorParams()
    scene_rows = int(5000 / mm_per_px)
    n_normal = max(1, int(round(normal_m / 5.0)))
    ore = NormalOreModel(cell_mm=max(4.0, 2.0 * mm_per_px), mm_per_px=mm_per_px)
    ore.fit(_scene(tiles, seed * 1000 + i, width_px, mm_per_px).render(0, scene_rows) for i in range(n_normal))
    calib = [_scene(tiles, seed * 1000 + 500 + i, width_px, mm_per_px).render(0, scene_rows) for i in range(max(1, int(round(calibration_m / 5.0))))]
    params.threshold = calibrate_threshold(ore, calib, params)
    model = VisionModel(ore, params, None, width_px)
    x, y = [], []
    rng = np.random.default_rng(seed + 7)
    for i in range(max(1, int(round(objects_m / 5.0)))):
        sc = _scene(tiles, seed * 1000 + 800 + i, width_px, mm_per_px)
        objs = random_objects(5000.0, rng, per_m=2.5, length_range_mm=(40.0, 500.0))
        det = model.detector()
        res = det.process(_frame(sc.render(0, scene_rows, objs), mm_per_px)).detections + det.flush()
        for obj, d in match(objs, res).pairs:
            if d is not None and d.features is not None:
                x.append(d.features)
                y.append(obj.kind)
    if len(set(y)) >= 2:
        model.classifier = KindClassifier().fit(np.array(x), y)
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
