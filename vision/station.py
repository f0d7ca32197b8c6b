"""The camera station on the line: frames → detections → Measurements and Coverage records.

Keys of ``[stations.<name>]`` with ``kind = "camera"``: :data:`SETTINGS` (rendered into
docs/configuration.md). ``sim_mm_per_px`` is the coarser rendering/detection scale of the simulated
line; the stream metadata states the scale actually used. The simulated camera keeps ``frame_lines``
lines per frame at that scale (twice that from 2x coarser on: frames cover more belt). 8 mm/px images
a whole 3,000 t lot (~8 km) in well under a minute and still finds most objects >= 100 mm; 4 mm/px
finds >= 50 mm objects better at about a third of the speed (see docs/vision.md).

Records: one Measurement per detection on stream ``<name>`` and, per window, Coverage records
that tile the window: inspected, or not with a reason ("not imaged", "no material",
"frames lost", "belt stopped", "camera disconnected"...).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from conveyor.errors import ConfigError
from conveyor.records import Coverage, LineEvent, LotStart, Measurement, Record, StreamDescription
from conveyor.station import MaterialWindow, Station, StationContext
from vision.appearance import AppearanceMonitor, AppearanceState, default_limit
from vision.camera import Camera, camera_from_settings
from vision.detect import THUMB_PX, Detection, Detector
from vision.errors import CameraError, FrameError, VisionError
from vision.exposure import ExposureNorm
from vision.fit import VisionModel, cache_path, stored_model
from vision.model_cache import cached_model
from vision.frames import Frame
from conveyor.heap import keep_freed_memory
from vision.station_settings import BELT_EDGE, EXPOSURE_NORM, SETTINGS, DetectorSwitches
from vision.tiles import ATTRIBUTION

FIELDS = {
    "kind": ((), "str"),
    "probability": ((), "float32"),
    "length_mm": ((), "float32"),
    "width_mm": ((), "float32"),
    "area_mm2": ((), "float32"),
    "lateral_m": ((), "float32"),
    "anomaly_score": ((), "float32"),
    "thumbnail": ((THUMB_PX, THUMB_PX, 3), "uint8"),
}
UNITS = {"probability": "1", "length_mm": "mm", "width_mm": "mm", "area_mm2": "mm2", "lateral_m": "m", "anomaly_score": "nats"}
#: Coverage reason while the belt does not look like the ore the model was fitted on.
APPEARANCE_REASON = "appearance: belt unlike the fitted ore"
class CameraStation(Station):
    """A camera over the belt with its detector. Build it with :func:`from_config`.

    ``**switches``: the detector's run-time switches by key (:data:`vision.station_settings.DETECTOR_SWITCHES`, each
    its setting's default unless given; held once in ``switches``); TypeError for a keyword that is none of them."""

    def __init__(self, name: str, position_m: float, camera: Camera, model: VisionModel, *, imaged_fraction: float = 1.0,
                 context: StationContext | None = None, appearance_limit: float | None = None, product_models: Mapping[str, VisionModel] | None = None,
                 belt_edge: bool = BELT_EDGE, exposure_norm: bool = EXPOSURE_NORM, **switches: bool) -> None:
        super().__init__(name, position_m)
        keep_freed_memory()  # the detector's arrays reused from the heap, not paged in anew each window (conveyor/heap.py)
        self.camera = camera
        self.default_model = model
        self.product_models = dict(product_models or {})
        self.model = model
        self.context = context
        self.belt_edge = bool(belt_edge)
        self.exposure_norm = bool(exposure_norm)
        self.switches = DetectorSwitches(switches)
        self.detector: Detector = self._detector(model)
        self.imaged_fraction = float(imaged_fraction)
        self._credit = 1.0
        self._lot_id = ""
        self._last_end_belt_m: float | None = None
        self._appearance_limit_setting = appearance_limit
        self.appearance = AppearanceMonitor(self._appearance_limit(model))
        #: the latest appearance state (None before the first frame); detections dropped while the belt was unusual
        self.appearance_state: AppearanceState | None = None
        self.suppressed_detections = 0

    def describe(self) -> Sequence[StreamDescription]:
        cam = self.camera
        return [StreamDescription(
            name=self.name, station=self.name, kind="vision", fields=FIELDS, units=UNITS,
            metadata={"mm_per_px": cam.mm_per_px, "width_px": cam.width_px, "frame_lines": cam.frame_lines,
                      "kinds": self.model.kinds, "model_version": self.model.version, "attribution": ATTRIBUTION,
                      "backend": type(cam).__name__, "imaged_fraction": self.imaged_fraction,
                      "appearance_limit": self.appearance.limit,
                      "product_models": {p: m.version for p, m in self.product_models.items()}},
        )]

    def _appearance_limit(self, model: VisionModel) -> float:
        """The configured ``appearance_limit``, else the model's own (a site-fitted model may carry one), else the
        limit calibrated on the model's fit frames."""
        if self._appearance_limit_setting is not None:
            return float(self._appearance_limit_setting)
        return getattr(model, "appearance_limit", None) or default_limit(model.ore, model.version, model.width_px)

    def _detector(self, model: VisionModel) -> Detector:
        """``model``'s detector, told the line's belt width with ``belt_edge`` (candidates centred beyond the belt's edge
        are counted, ``Detector.off_belt_seen``, not reported as objects); else, or without a context, every candidate
        as on the belt; with ``exposure_norm`` its frames darkened into the fit's range (:mod:`vision.exposure`); and
        each of its run-time switches as the station's ``switches`` say (:data:`vision.station_settings.DETECTOR_SWITCHES`:
        the doc of each key in :data:`SETTINGS` says what it does)."""
        det = model.detector()
        det.belt_width_m = self.context.belt_width_m if self.context is not None and self.belt_edge else None
        det.exposure = ExposureNorm(det.block) if self.exposure_norm else None
        self.switches.apply(det)
        return det

    def model_for(self, declared_product: str) -> VisionModel:
        """The model of a declared product (``models``), else the station's ``model``."""
        return self.product_models.get(declared_product, self.default_model)

    def start_lot(self, start: LotStart) -> Sequence[Record]:
        self._lot_id = start.lot.lot_id
        model = self.model_for(start.lot.declared_product)
        if model is not self.model:  # another declared product: its model, and the appearance limit that goes with it
            self.model, self.detector = model, self._detector(model)
            self.appearance = AppearanceMonitor(self._appearance_limit(model))
        self.detector.reset()
        self._credit = 1.0
        self._last_end_belt_m = None
        self.appearance.reset()
        self.appearance_state = None
        self.camera.start_lot(start.start_mark_t)
        if not self.camera.is_open:
            self.camera.open()
        return ()

    def _imaged(self) -> bool:
        self._credit += self.imaged_fraction
        if self._credit >= 1.0:
            self._credit -= 1.0
            return True
        return False

    def process(self, window: MaterialWindow) -> Sequence[Record]:
        if window.length_m <= 0:
            return [window.coverage(False, "belt stopped")]
        if not self._imaged():
            self._gap()
            return [window.coverage(False, "not imaged")]
        if window.empty:
            self._gap()
            return [window.coverage(False, "no material")]
        contiguous = self._last_end_belt_m is not None and abs(self._last_end_belt_m - window.start_belt_m) <= 1e-6
        return self._detect(window, self.camera.frames_for(window, contiguous))

    def _gap(self) -> None:
        self.detector.reset()
        self._last_end_belt_m = None

    def _detect(self, window: MaterialWindow, frames: list[Frame]) -> list[Record]:
        records: list[Record] = []
        pieces: list[tuple[float, float, bool, str]] = []  # belt metres
        pos = window.start_belt_m
        # Frames are cut on the camera's line grid: a gap under half a line is quantisation, not a lost frame.
        tol_m = (frames[0].mm_per_px / 2000.0) if frames else 1e-6
        for f in frames:
            if f.start_belt_m > pos + tol_m:
                pieces.append((pos, f.start_belt_m, False, "frames lost"))
            try:
                res = self.detector.process(f)
            except FrameError as exc:
                pieces.append((f.start_belt_m, f.end_belt_m, False, f"bad frame: {exc}"))
                pos = f.end_belt_m
                continue
            state = self._appearance(f, res.unusual_share if res.reason != "no material" else math.nan, records)
            if state.unusual:
                pieces.append((f.start_belt_m, f.end_belt_m, False, APPEARANCE_REASON))
                self.suppressed_detections += len(res.detections)
            else:
                pieces.append((f.start_belt_m, f.end_belt_m, res.inspected, res.reason))
                records += [self._measurement(d) for d in res.detections]
                if res.off_belt:
                    records.append(self._off_belt_event(f, res.off_belt))
            pos = f.end_belt_m
        if pos < window.end_belt_m - tol_m:
            pieces.append((pos, window.end_belt_m, False, "frames lost"))
        self._last_end_belt_m = pos
        if pos < window.end_belt_m - tol_m or (frames and frames[-1].end_belt_m < window.end_belt_m - tol_m):
            self._last_end_belt_m = None
        records += self._coverage(window, pieces)
        return records

    def _off_belt_event(self, f: Frame, count: int) -> LineEvent:
        """The operator's note that ``count`` candidates of frame ``f`` lay beyond the belt's edge (``belt_edge``):
        counted as spillage, not reported as objects (docs/vision.md "Candidates off the belt")."""
        width_m = self.detector.belt_width_m
        return LineEvent(self._lot_id, f.time_s, self.name, "off_belt", "info",
                         f"vision: {count} candidate(s) centred beyond the belt's edge ({width_m:g} m belt) counted as "
                         f"spillage, not reported as objects", f.start_mark_t)

    def _appearance(self, f: Frame, share: float, records: list[Record]) -> AppearanceState:
        """Update the running appearance measure; raise the alarm when it passes the limit, clear it when it is back.
        Objects held back from unusual frames are dropped when it clears (they are pieces of the unusual stretch)."""
        state = self.appearance.update(share, f.length_m)
        self.appearance_state = state
        if state.started:
            records.append(LineEvent(self._lot_id, f.time_s, self.name, "appearance", "alarm",
                                     f"vision appearance: {state.describe()}; windows uninspected while it lasts", f.start_mark_t))
        elif state.ended:
            self.suppressed_detections += len(self.detector.flush())
            records.append(LineEvent(self._lot_id, f.time_s, self.name, "appearance_cleared", "info",
                                     f"vision appearance back to normal: {state.describe()}", f.start_mark_t))
        return state

    def _coverage(self, window: MaterialWindow, pieces: list[tuple[float, float, bool, str]]) -> list[Coverage]:
        merged: list[list[Any]] = []
        for a, b, ok, why in pieces:
            if merged and merged[-1][2] == ok and merged[-1][3] == why:
                merged[-1][1] = b
            else:
                merged.append([a, b, ok, why])
        span = max(window.length_m, 1e-12)
        out = []
        for a, b, ok, why in merged:
            fa = min(max((a - window.start_belt_m) / span, 0.0), 1.0)
            fb = min(max((b - window.start_belt_m) / span, 0.0), 1.0)
            if fb <= fa and len(merged) > 1:
                continue
            out.append(Coverage(self._lot_id or window.lot_id, self.name, window.start_mark_t + fa * window.mass_t,
                                window.start_mark_t + fb * window.mass_t, bool(ok), why, window.end_time_s))
        return out or [window.coverage(False, "no frames")]

    def _measurement(self, d: Detection) -> Measurement:
        data = {"kind": d.kind, "probability": np.float32(d.probability), "length_mm": np.float32(d.length_mm),
                "width_mm": np.float32(d.width_mm), "area_mm2": np.float32(d.area_mm2), "lateral_m": np.float32(d.lateral_m),
                "anomaly_score": np.float32(d.anomaly_score), "thumbnail": d.thumbnail}
        return Measurement(self._lot_id, self.name, d.time_s, d.tonnage_mark_t, data)

    def end_lot(self, end_mark_t: float) -> Sequence[Record]:
        held = self.detector.flush()
        if self.appearance.unusual:
            self.suppressed_detections += len(held)
            return []
        return [self._measurement(d) for d in held]

    def close(self) -> None:
        self.camera.close()


def _scales(cfg: Mapping[str, Any]) -> tuple[float, int, int]:
    """(mm/px, frame width px, lines per frame) the station's camera and model work at. The simulated line renders
    at ``sim_mm_per_px`` and keeps the line count there, doubled from 2x coarser on (longer frames: a 1 s window at
    4.5 m/s is one frame, not a long and a short one; per-frame overhead dominates at coarse scales)."""
    mm_per_px, width_px, frame_lines = cfg["mm_per_px"], cfg["width_px"], cfg["frame_lines"]
    if cfg["backend"] != "simulated":
        return mm_per_px, width_px, frame_lines
    scale = mm_per_px if cfg.get("sim_mm_per_px") is None else cfg["sim_mm_per_px"]
    return scale, int(round(width_px * mm_per_px / scale)), frame_lines * (2 if scale >= 2 * mm_per_px else 1)


def prepare(name: str, section: Mapping[str, Any], context: StationContext) -> None:
    """Fit and cache the station's built-in model (minutes on first use; nothing when it is cached or shipped, or
    when the station names its ``model`` file). Called by ``analysis.prepare`` before stations are built:
    :func:`from_config` never fits."""
    cfg = SETTINGS.validate(name, section)
    if cfg["model"]:
        return
    scale, width, _lines = _scales(cfg)
    try:
        cached_model(mm_per_px=scale, width_px=width, seed=0)
    except VisionError as exc:
        raise ConfigError(f"stations.{name}.model", str(exc)) from exc


def _builtin_model(name: str, scale: float, width: int) -> VisionModel:
    model = stored_model(mm_per_px=scale, width_px=width, seed=0)
    if model is None:
        raise ConfigError(f"stations.{name}.model", f"no fitted camera model for {scale:g} mm/px, {width} px frames "
                          f"({cache_path(mm_per_px=scale, width_px=width, seed=0)} is missing): fit it first with "
                          "`python -m analysis.prepare` or `oreline run`, which prepare the stations' models")
    return model


def _load_model(name: str, key: str, path: Any, scale: float, width: int) -> VisionModel:
    try:
        m = VisionModel.load(Path(path), mm_per_px=scale)
    except VisionError as exc:
        raise ConfigError(f"stations.{name}.{key}", str(exc)) from exc
    if m.width_px != width:
        raise ConfigError(f"stations.{name}.{key}", f"vision model {path} is for frames {m.width_px} px wide, the station's are {width} px")
    return m


def from_config(name: str, section: Mapping[str, Any], context: StationContext) -> CameraStation:
    """Build a camera station from its ``[stations.<name>]`` table (keys: :data:`SETTINGS`); the camera comes from
    the backend registry (:func:`~vision.camera.camera_from_settings`) and is opened when the first lot starts.

    Raises ConfigError(``stations.<name>.<key>``, ...) for a missing/unknown key or a bad value, and for a built-in
    model that was never fitted (:func:`prepare` fits it; building a station never does).
    """
    cfg = SETTINGS.validate(name, section)
    scale, width, lines = _scales(cfg)
    models = cfg.get("models") or {}
    if not all(isinstance(v, str) for v in models.values()):
        raise ConfigError(f"stations.{name}.models", f"expected a table of declared product = \"model.npz\", got {models!r}")
    product_models = {str(p): _load_model(name, f"models.{p}", v, scale, width) for p, v in models.items()}
    model = _load_model(name, "model", cfg["model"], scale, width) if cfg["model"] else _builtin_model(name, scale, width)
    common = dict(width_px=width, frame_lines=lines, mm_per_px=scale, exposure_us=cfg["exposure_us"])
    try:
        camera = camera_from_settings(cfg["backend"], cfg, context, **common)
    except (CameraError, ValueError) as exc:
        raise ConfigError(f"stations.{name}.backend", str(exc)) from exc
    return CameraStation(name, cfg["position_m"], camera, model, imaged_fraction=cfg["imaged_fraction"], context=context,
                         appearance_limit=cfg.get("appearance_limit"), product_models=product_models,
                         belt_edge=cfg["belt_edge"], exposure_norm=cfg["exposure_norm"], **DetectorSwitches.from_settings(cfg))
