"""How unusual the belt looks as a whole: notices a cargo the normal-ore model was not fitted on.

A model fitted on red hematite calls nearly every cell of grey crushed rock unusual; left alone, the detector then
reports a flood of "foreign objects" that are only the new cargo (or a wet belt, a dusty window). This module gives
the station one figure per frame and a running measure with a limit, so the station can say *the camera cannot
judge this cargo* (an alarm with the figure, windows uninspected) instead.

- **Level** (:func:`unusual_level`): the cell score above which lies ``TAIL_MASS`` (1 %) of the fitted normal-ore
  density, read off the model's own table (no extra data: it is the fitted distribution).
- **Frame figure** (:func:`frame_unusual_share`): the belt is cut into ``N_BANDS`` lateral bands; per band the
  share of cells above the level; the figure is the *lowest* band share. A foreign object, even a large tarpaulin,
  lies in one or two bands and leaves the figure alone; a cargo the model does not know raises every band.
  On the fitted cargo the figure is about 0.1 %; on grey rock under the red-ore model 25-70 %.
- **Running measure** (:class:`AppearanceMonitor`): fast attack, slow release over belt length: a frame above the
  running value sets it; otherwise it decays towards the frame figure with ``RELEASE_M`` metres.
- **Limit** (:func:`calibrate_limit`): ``LIMIT_MARGIN`` x the largest frame figure on fit frames (normal ore *and*
  belt with foreign objects), at least ``MIN_LIMIT``. :func:`default_limit` calibrates it for a model fitted on the
  built-in fit split (cached by model version); a model fitted on a site's own frames should carry its own limit
  (``calibrate_limit`` on those frames).

Everything here is a few vectorised passes over the cell score the detector computes anyway (< 0.5 ms a frame).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from vision.cache_io import default_cache_dir, replace_atomically
from vision.model import NormalOreModel
from vision.scene import BeltScene, random_objects
from vision.tiles import load_tiles

#: Share of the fitted density above the unusual level.
TAIL_MASS = 0.01
#: Lateral bands of the belt; the frame figure is the lowest band's share of unusual cells.
N_BANDS = 4
#: Belt length (m) over which the running measure falls back after the belt looks normal again.
RELEASE_M = 3.0
#: The limit is this multiple of the largest frame figure seen on fit frames ...
LIMIT_MARGIN = 3.0
#: ... and never below this share of unusual cells.
MIN_LIMIT = 0.05
#: Alarm clears when the running measure is below this fraction of the limit (hysteresis).
CLEAR_FRACTION = 0.5


def unusual_level(ore: NormalOreModel, tail_mass: float = TAIL_MASS) -> float:
    """Cell score (same units as :meth:`NormalOreModel.score`) above which ``tail_mass`` of the fitted density lies."""
    nll = ore.nll_table_.astype(np.float64)
    p = np.exp(-nll)
    order = np.argsort(nll)
    cum = np.cumsum(p[order])
    cum /= cum[-1]
    i = min(int(np.searchsorted(cum, 1.0 - tail_mass)), nll.size - 1)
    return float(nll[order[i]] - ore.nll_median_)


def frame_unusual_share(score: np.ndarray, belt_cols: np.ndarray, level: float, min_belt_fraction: float = 0.3) -> float:
    """The frame figure: lowest share over N_BANDS lateral bands of cells with ``score`` > ``level``.

    ``score`` (h, w) cell scores over *all* columns; ``belt_cols`` (w,) bool. When fewer than ``min_belt_fraction``
    of the columns are belt (the belt was not recognised, as with a cargo of another colour) the central half of the
    image is used: the camera looks at the belt, whatever lies on it. NaN for an empty score map.
    """
    h, w = score.shape
    if h == 0 or w == 0:
        return math.nan
    idx = np.flatnonzero(belt_cols) if belt_cols.mean() >= min_belt_fraction else np.arange(w // 4, max(w // 4 + 1, 3 * w // 4))
    if idx[-1] - idx[0] + 1 == idx.size:  # one run of columns (as belt detection gives): slices, no copy
        a, b = int(idx[0]), int(idx[-1]) + 1
        edges = np.linspace(a, b, min(N_BANDS, b - a) + 1).astype(int)
        shares = [np.count_nonzero(score[:, lo:hi] > level) / ((hi - lo) * h) for lo, hi in zip(edges[:-1], edges[1:])]
    else:
        edges = np.linspace(0, idx.size, min(N_BANDS, idx.size) + 1).astype(int)
        shares = [np.count_nonzero(score[:, idx[lo:hi]] > level) / ((hi - lo) * h) for lo, hi in zip(edges[:-1], edges[1:])]
    return float(min(shares))


def frame_figures(ore: NormalOreModel, images: Iterable[np.ndarray]) -> np.ndarray:
    """Frame figure of each (H, W, 3) uint8 image under ``ore`` (the same computation the detector makes: belt
    columns by the model's own belt test)."""
    level = unusual_level(ore)
    out = []
    for img in images:
        f = ore.features(img)
        raw = ore.score(f)
        out.append(frame_unusual_share(raw, ore.belt_columns(f, raw), level))
    return np.asarray(out, float)


def calibrate_limit(ore: NormalOreModel, images: Iterable[np.ndarray]) -> float:
    """The alarm limit from fit frames: LIMIT_MARGIN x the largest frame figure, at least MIN_LIMIT.
    Raises ValueError when ``images`` is empty."""
    figs = frame_figures(ore, images)
    figs = figs[np.isfinite(figs)]
    if figs.size == 0:
        raise ValueError("calibrate_limit needs at least one fit frame; got none")
    return float(max(MIN_LIMIT, LIMIT_MARGIN * figs.max()))


def _cache_file(version: str) -> Path:
    return default_cache_dir() / f"appearance-{version.replace(':', '-')}.json"


def default_limit(model_ore: NormalOreModel, version: str, width_px: int, *, n_scenes: int = 6, scene_m: float = 5.0) -> float:
    """The limit for a model fitted on the built-in fit split: calibrated on fit-split scenes (normal belt and belt
    with 4 objects/m, as the fit renders) at the model's scale; cached as JSON keyed by the model ``version``."""
    path = _cache_file(version)
    try:
        return float(json.loads(path.read_text())["limit"])
    except (OSError, ValueError, KeyError):
        pass
    tiles = load_tiles("fit")
    rows = int(scene_m * 1000.0 / model_ore.mm_per_px)
    rng = np.random.default_rng(4242)
    images = []
    for i in range(n_scenes):
        scene = BeltScene(tiles, width_px=width_px, mm_per_px=model_ore.mm_per_px, seed=7000 + i, dust_probability=0.15)
        objs = random_objects(scene_m * 1000.0, rng, per_m=4.0, min_gap_mm=120.0) if i % 2 else []
        images.append(scene.render(0, rows, objs))
    limit = calibrate_limit(model_ore, images)
    record = json.dumps({"limit": limit, "version": version, "scenes": n_scenes, "scene_m": scene_m})
    replace_atomically(path, lambda tmp: tmp.write_text(record))  # one temporary per process: concurrent fits
    return limit


@dataclass
class AppearanceState:
    """What :meth:`AppearanceMonitor.update` returns: the frame figure, the running measure, the limit, whether the
    belt is judged unusual now, and whether this frame raised (``started``) or cleared (``ended``) that state."""

    frame_share: float
    running: float
    limit: float
    unusual: bool
    started: bool = False
    ended: bool = False

    def describe(self) -> str:
        return (f"{100 * self.running:.1f} % of the belt unlike the fitted ore (limit {100 * self.limit:.1f} %, "
                f"this frame {100 * self.frame_share:.1f} %)")


class AppearanceMonitor:
    """Running measure of how unusual the belt looks, with an alarm state (raise above ``limit``, clear below
    CLEAR_FRACTION x ``limit``). Feed it the frame figure and the belt length of each frame in order."""

    def __init__(self, limit: float, release_m: float = RELEASE_M) -> None:
        if not limit > 0 or not release_m > 0:
            raise ValueError(f"expected limit > 0 and release_m > 0, got {limit}, {release_m}")
        self.limit = float(limit)
        self.release_m = float(release_m)
        self.reset()

    def reset(self) -> None:
        """Forget the history (new lot)."""
        self.running = 0.0
        self.unusual = False
        self.peak = 0.0

    def update(self, frame_share: float, length_m: float) -> AppearanceState:
        """One frame's figure and its belt length (m). A NaN figure (no cells) leaves the measure as it is."""
        if math.isfinite(frame_share):
            decay = math.exp(-max(length_m, 0.0) / self.release_m)
            self.running = max(frame_share, decay * self.running + (1.0 - decay) * frame_share)
        self.peak = max(self.peak, self.running)
        was = self.unusual
        if not was and self.running > self.limit:
            self.unusual = True
        elif was and self.running < CLEAR_FRACTION * self.limit:
            self.unusual = False
        return AppearanceState(frame_share, self.running, self.limit, self.unusual, self.unusual and not was, was and not self.unusual)
