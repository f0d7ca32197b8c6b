"""The simulated camera (backend ``simulated``): renders the belt scene as the belt moves.

The belt is *fed* to the camera as stretches (odometer metres with their tonnage marks,
times, objects and whether the belt is empty); :meth:`grab` renders the next frame of up to
``frame_lines`` lines from what has been fed and raises CameraTimeout when no belt is left
(as a line-scan camera waiting for encoder pulses would). Frames are cut on a fixed line grid
(line ``r`` at belt metre ``r * mm_per_px / 1000``): a fed stretch ends at the line nearest its
end, so consecutive stretches neither repeat nor skip a line and no frame is a sub-line sliver
(a frame's ends may lie up to half a line from the stretch's). With ``free_run=True`` the belt
simply runs on at ``belt_speed_m_s``. Faults: ``frame_loss_prob`` drops frames at random,
``frame_loss_marks`` drops every frame whose first line lies in one of the (start, end) tonnage
intervals (``frame_loss_at_t``: the same, lot-relative, placed by :meth:`start_lot`), :meth:`simulate_disconnect` makes the next grab raise CameraDisconnected until
:meth:`~vision.camera.Camera.reconnect`.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from conveyor.cargo import CargoModel
from conveyor.station import MaterialWindow, StationContext
from vision.camera import Camera
from vision.errors import CameraDisconnected, CameraError, CameraTimeout
from vision.frames import Frame
from vision.scene import BeltScene, SceneObject
from vision.tiles import TileSet, load_tiles


@dataclass
class _Stretch:
    start_belt_m: float
    end_belt_m: float
    start_mark_t: float
    end_mark_t: float
    start_time_s: float
    end_time_s: float
    empty: bool


class SimulatedCamera(Camera):
    """Renders frames of a :class:`~vision.scene.BeltScene`. ``tiles``: "fit", "heldout", "all" or a folder."""

    def __init__(
        self,
        *,
        tiles: str | Path | TileSet = "heldout",
        seed: int = 0,
        belt_speed_m_s: float = 4.5,
        belt_width_m: float = 1.8,
        lighting_variation: float = 0.15,
        dust_probability: float = 0.1,
        motion_blur_px: float = 0.0,
        frame_loss_prob: float = 0.0,
        frame_loss_marks: Sequence[tuple[float, float]] = (),
        frame_loss_at_t: Sequence[tuple[float, float]] = (),
        cargo: CargoModel | None = None,
        objects: Sequence[SceneObject] = (),
        free_run: bool = True,
        scene_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= frame_loss_prob < 1.0:
            raise ValueError(f"frame_loss_prob must be in [0, 1), got {frame_loss_prob}")
        self.tiles = tiles
        self.seed = int(seed)
        self.belt_speed_m_s = float(belt_speed_m_s)
        self.belt_width_m = float(belt_width_m)
        self.scene_kw = {**dict(lighting_variation=lighting_variation, dust_probability=dust_probability, motion_blur_px=motion_blur_px),
                         **(scene_options or {})}  # a scene type's own lighting and blur win
        self.frame_loss_prob = float(frame_loss_prob)
        self.frame_loss_marks = [tuple(map(float, m)) for m in frame_loss_marks]
        self.frame_loss_at_t = [tuple(map(float, m)) for m in frame_loss_at_t]
        self.cargo = cargo
        self.objects: list[SceneObject] = sorted(objects, key=lambda o: o.belt_mm)
        self.free_run = free_run
        self.scene: BeltScene | None = None
        self._queue: deque[_Stretch] = deque()
        self._pos_m = 0.0
        self._frame_id = 0
        self._disconnected = False
        self._rng = np.random.default_rng(self.seed + 17)
        self.lost_spans_m: list[tuple[float, float]] = []

    @property
    def position_m(self) -> float:
        """Belt length (m) imaged so far: where the next frame starts."""
        return self._pos_m

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], context: StationContext, **common: Any) -> "SimulatedCamera":
        """The line's simulated camera: belt from ``tiles``, objects from the context's cargo, faults from ``fault``."""
        fault = settings.get("fault") or {}
        return cls(tiles=settings.get("tiles", "heldout"), seed=context.seed, belt_speed_m_s=context.nominal_speed_m_s,
                   belt_width_m=context.belt_width_m, frame_loss_prob=fault.get("frame_loss_prob", 0.0),
                   frame_loss_at_t=fault.get("frame_loss_at_t", ()), cargo=context.cargo, free_run=False, **common)

    def start_lot(self, start_mark_t: float) -> None:
        self.frame_loss_marks = [(a + start_mark_t, b + start_mark_t) for a, b in self.frame_loss_at_t]

    def frames_for(self, window: MaterialWindow, contiguous: bool) -> list[Frame]:
        """Render the window: the cargo's objects in it are pasted where the belt carries them."""
        if not contiguous:
            self.skip_to(window.start_belt_m)
        self.feed(window.start_belt_m, window.end_belt_m, window.start_mark_t, window.end_mark_t,
                  window.start_time_s, window.end_time_s, self._cargo_objects(window))
        frames = []
        while True:
            try:
                frames.append(self.grab(timeout_s=1.0))
            except CameraTimeout:
                return frames

    def _cargo_objects(self, window: MaterialWindow) -> list[SceneObject]:
        if self.cargo is None or window.mass_t <= 0:
            return []
        rel0 = window.start_mark_t - window.lot_start_mark_t
        rel1 = window.end_mark_t - window.lot_start_mark_t
        objects = []
        for o in self.cargo.objects_between(rel0, rel1):
            belt_m = window.start_belt_m + (o.mark_t - rel0) / (rel1 - rel0) * window.length_m
            objects.append(SceneObject(o.kind, o.length_mm, o.width_mm, belt_m * 1000.0, o.lateral_m * 1000.0, o.angle_deg,
                                       seed=zlib.crc32(f"{o.mark_t:.6f}:{o.kind}".encode()) & 0x7FFFFFFF, mark_t=o.mark_t))
        return objects

    def _open(self) -> None:
        if self.scene is None:
            tiles = self.tiles if isinstance(self.tiles, TileSet) else load_tiles(self.tiles)
            self.scene = BeltScene(tiles, width_px=self.width_px, mm_per_px=self.mm_per_px,
                                   belt_width_m=self.belt_width_m, seed=self.seed, **self.scene_kw)
        self._disconnected = False

    @property
    def belt_scene(self) -> BeltScene:
        """The scene the camera renders (:class:`CameraError` before :meth:`open`)."""
        if self.scene is None:
            raise CameraError("the simulated camera is not open: no scene yet")
        return self.scene

    def simulate_disconnect(self) -> None:
        """Make the next grab fail with CameraDisconnected (fault injection)."""
        self._disconnected = True

    def feed(self, start_belt_m: float, end_belt_m: float, start_mark_t: float, end_mark_t: float,
             start_time_s: float, end_time_s: float, objects: Sequence[SceneObject] = (), empty: bool = False) -> None:
        """Queue a stretch of belt to image. Raises ValueError for a stretch that runs backwards."""
        if end_belt_m < start_belt_m:
            raise ValueError(f"belt stretch must run forward, got {start_belt_m} → {end_belt_m} m")
        if not self._queue:
            self._pos_m = start_belt_m
        self._queue.append(_Stretch(start_belt_m, end_belt_m, start_mark_t, end_mark_t, start_time_s, end_time_s, empty))
        if empty and self.scene is not None:
            self.scene.empty_mm.append((start_belt_m * 1000.0, end_belt_m * 1000.0))
            self.scene.empty_mm = self.scene.empty_mm[-64:]
        if objects:
            self.objects = sorted([o for o in self.objects if o.belt_mm > start_belt_m * 1000.0 - 2000.0] + list(objects), key=lambda o: o.belt_mm)

    def skip_to(self, belt_m: float) -> None:
        """Forget queued belt and continue at ``belt_m`` (the stretch between is not imaged)."""
        self._queue.clear()
        self._pos_m = belt_m

    def _row(self, belt_m: float) -> int:
        """Scene row (line) nearest to belt position ``belt_m``: frames are cut on this fixed grid."""
        return int(np.floor(belt_m * 1000.0 / self.mm_per_px + 0.5))

    def _next_span(self) -> tuple[int, int, _Stretch | None]:
        """Rows [start, end) of the next frame and its stretch. A stretch ends at the line nearest its end, so
        consecutive stretches share no line and skip none, and no frame is a sub-line sliver of a stretch."""
        while self._queue:
            s = self._queue[0]
            start = max(self._row(self._pos_m), self._row(s.start_belt_m))
            n = min(self.frame_lines, self._row(s.end_belt_m) - start)
            if n > 0:
                return start, start + n, s
            self._queue.popleft()
        if self.free_run:
            start = self._row(self._pos_m)
            return start, start + self.frame_lines, None
        return 0, 0, None

    def _grab(self, timeout_s: float) -> Frame:
        if self._disconnected:
            raise CameraDisconnected("simulated camera link lost; reconnect() to go on")
        line_m = self.mm_per_px / 1000.0
        while True:
            row0, row1, s = self._next_span()
            if row1 <= row0:
                raise CameraTimeout(f"no belt moved past the camera within {timeout_s} s")
            start, end = row0 * line_m, row1 * line_m
            self._pos_m = end
            self._frame_id += 1
            if s is not None:
                span = max(s.end_belt_m - s.start_belt_m, 1e-12)
                t_per_m = (s.end_mark_t - s.start_mark_t) / span
                mark = s.start_mark_t + (start - s.start_belt_m) * t_per_m
                time_s = s.start_time_s + (start - s.start_belt_m) / span * (s.end_time_s - s.start_time_s)
                speed = span / max(s.end_time_s - s.start_time_s, 1e-9)
                if row1 >= self._row(s.end_belt_m):
                    self._queue.popleft()
            else:
                t_per_m, mark, time_s, speed = 0.0, 0.0, start / self.belt_speed_m_s, self.belt_speed_m_s
            lost = (self.frame_loss_prob > 0 and self._rng.random() < self.frame_loss_prob) or any(a <= mark < b for a, b in self.frame_loss_marks)
            if lost:
                self.lost_spans_m.append((start, end))
                continue
            n = row1 - row0
            lo, hi = start * 1000.0 - 1000.0, end * 1000.0 + 1000.0
            objs = [o for o in self.objects if lo <= o.belt_mm <= hi]
            if self.scene is None:
                raise CameraError("the simulated camera is not open")
            image = self.scene.render(row0, n, objs)
            return Frame(image, self._frame_id, time_s, self.exposure_us, start, mark, self.mm_per_px, t_per_m, speed)
