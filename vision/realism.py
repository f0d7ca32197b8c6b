"""How far the scene renderer's physical effects are from the real images they stand for.

Each check compares one statistic of rendered belt or objects with the same statistic of real photographs in
``shared/data/vision`` and returns (name, rendered, real, error, spread): ``spread`` is how much the real statistic
itself varies (the standard deviation over the real images, or for a statistic of the whole set its bootstrap
standard deviation), and a check passes when the error is within it. The belt checks take a scene type's options
(:mod:`vision.scenes`). Printed by ``oreline vision evaluate`` (per scene type) and ``benchmarks/bench_vision_scenes.py``.

- **Illumination along the belt**: the spread (coefficient of variation) of the median grey of 200 mm stretches of
  rendered full-burden belt (tiles exposure-equalised, then lighting drift) against the spread of the median grey of
  the raw loaded CDM photos (the exposure differences between real shots the drift stands for, plus the ore's own).
- **Shadow depth**: the grey under an object's cast shadow relative to the ground around it (the renderer darkens
  by 1 - SHADOW_DEPTH) against the darkest 5 % of a loaded real tile relative to its median (shadows between rocks
  under the same light).
- **Ore dust colour**: the chromaticity (r, g) of the dust haze against the median chromaticity of the ore pixels of
  the real tiles (the dust on an ore belt is ore fines).
- **Object surfaces**: per kind, the chromaticity and grey contrast (std / mean) of rendered objects (photo
  surfaces, no cast, dust or burial) against those of the photographs they are made from: shape shading and
  mapping must not turn one material into another.
- **Saturated ore patches**: patches 50-200 mm (side of the equal-area square) of ore whose saturation, box-smoothed
  over 16 mm, exceeds the median of their own 248 mm window by more than the real photos' 98th percentile of that
  excess, per m^2 of ore, at 4 mm/px: whole loaded CDM photos (250 mm, each its own window) against 248 mm windows of
  rendered full-burden belt made of the same photos' tiles. The mosaic puts tiles of unrelated photos side by side;
  a tile more saturated than its neighbours is such a patch (the matched filter's highest false regions, issue 27).
- **Clipping**: the share of pixels at >= 254 in red and in green at 4 mm/px: the whole loaded CDM photos (the
  camera's clipped highlights) against the same windows of rendered full-burden belt as the patch check.
- **Belt edge**: the CDM photos cut from the side of a camera frame (:func:`edge_photos`) against rendered belt edges,
  both at 1 mm/px, oriented with the ore on the left (:func:`edge_profile`): the bare belt between the ore's boundary
  and the belt's edge, the roughness of that boundary, the grey beyond the edge relative to the ore's and the share
  of ore-coloured pixels there (spilt ore). Real values: the median over the photos' sources, spread their standard
  deviation over sources.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Sequence, TypedDict

import numpy as np

from PIL import Image
from scipy import ndimage as ndi

from vision.cache_io import default_cache_dir, replace_atomically
from vision.objects import PALETTE_ONLY, PHOTO_MATERIAL, photo_textures, render_sprite
from vision.scene import BeltScene, ore_mask
from vision.tiles import cdm_tile_paths, crop_tile, grey_of, load_tiles, read_rgb, source_of


#: The checks' belts (m) unless told: the clipping and clipped-colour checks', the illumination and patch checks', the
#: belt edge's.
CLIPPING_M = 100.0
BELT_M = 30.0
EDGE_M = 10.0


class RealismLengths(TypedDict):
    """The belt-length keywords of :func:`all_checks` (m)."""

    clipping_m: float
    belt_m: float
    edge_m: float


def realism_lengths(realism_m: float) -> RealismLengths:
    """The belts of :func:`all_checks` for ``realism_m`` m of clipping belt (> 0): the illumination and patch checks
    min(BELT_M, m), the belt edge min(EDGE_M, m). Raises ValueError for a length <= 0."""
    if not realism_m > 0:
        raise ValueError(f"expected a realism belt > 0 m, got {realism_m}")
    return RealismLengths(clipping_m=realism_m, belt_m=min(BELT_M, realism_m), edge_m=min(EDGE_M, realism_m))


@dataclass(frozen=True)
class RealismCheck:
    """One rendered statistic against the real one; ``error`` = rendered - real (same unit); ``spread``: the real
    statistic's own spread (0: unknown); ``ok`` when |error| <= spread."""

    name: str
    rendered: float
    real: float
    unit: str
    spread: float = 0.0

    @property
    def error(self) -> float:
        return self.rendered - self.real

    @property
    def ok(self) -> bool:
        return abs(self.error) <= self.spread

    def line(self) -> str:
        """``name: rendered vs real (error; real spread +-s) ok|OUTSIDE``."""
        return (f"{self.name}: {self.rendered:.3f} vs {self.real:.3f} ({self.error:+.3f} {self.unit}; real spread "
                f"+-{self.spread:.3f}) {'within' if self.ok else 'OUTSIDE'}")


def _chroma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.reshape(-1, 3).astype(np.float64)
    return rgb[:, :2] / np.maximum(rgb.sum(axis=1, keepdims=True), 1.0)


@lru_cache(maxsize=1)
def _loaded_real_grey() -> tuple[tuple[np.ndarray, ...], tuple[str, ...]]:
    """Grey of the loaded held-out CDM tiles and each one's source (cached per process, as every real-side statistic
    here: a process that checks several scene types, ``oreline vision evaluate --scenes all``, reads and measures the
    photos once)."""
    paths = cdm_tile_paths("heldout")
    loaded = [(grey_of(t), source_of(p)) for p in paths for t in [crop_tile(read_rgb(p))] if is_loaded(t)]
    return tuple(g for g, _ in loaded), tuple(n for _, n in loaded)


def _bootstrap_draws(values: np.ndarray, stat, n: int = 200, seed: int = 0) -> np.ndarray:
    """``stat`` of ``n`` bootstrap resamples of ``values`` (each as many draws with replacement as ``values`` holds)."""
    rng = np.random.default_rng(seed)
    return np.array([stat(values[rng.integers(0, len(values), len(values))]) for _ in range(n)])


def _bootstrap_std(values: np.ndarray, stat, n: int = 200, seed: int = 0) -> float:
    return float(np.std(_bootstrap_draws(values, stat, n, seed)))


def illumination_checks(seed: int = 0, length_m: float = BELT_M, scene: dict | None = None) -> list[RealismCheck]:
    """Lighting spread along the belt and shadow depth of a full-burden belt with ``scene`` options (see the module
    docstring)."""
    loaded, names = _loaded_real_grey()
    med = np.array([np.median(g) for g in loaded])
    cv = lambda m: float(m.std() / m.mean())  # noqa: E731
    by_source: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_source.setdefault(name, []).append(i)
    groups = [med[idx] for idx in by_source.values()]
    cv_of_sources = lambda idx: cv(np.concatenate([groups[int(i)] for i in idx]))  # noqa: E731
    opts = {k: v for k, v in (scene or {}).items() if k in ("lighting_variation", "light_knot_mm", "shadow_depth", "ore_gain")}
    sc = BeltScene(load_tiles("heldout"), width_px=1024, mm_per_px=2.0, seed=seed, burden="full", dust_probability=0.0, **opts)
    img = grey_of(sc.render(0, int(length_m * 500))[:, sc.belt_x0 + 50 : sc.belt_x0 + sc.belt_px - 50])
    stretch = img[: img.shape[0] // 100 * 100].reshape(-1, 100, img.shape[1])
    m = np.median(stretch.reshape(stretch.shape[0], -1), axis=1)
    ratios = np.array([np.percentile(g, 5) / max(np.median(g), 1.0) for g in loaded])
    # spread: bootstrap over the photos' sources (a source's augmented copies are not independent), as the other checks
    spread = _bootstrap_std(np.arange(len(groups)), cv_of_sources)
    return [RealismCheck("illumination: spread of median grey along the belt (CV)", cv(m), cv(med), "1", spread),
            RealismCheck("shadow: grey in shadow / grey around", 1.0 - sc.shadow_depth, float(np.median(ratios)), "1",
                         float(ratios.std()))]


def dust_check(scene: dict | None = None) -> RealismCheck:
    """Chromaticity r of the dust haze of a scene with ``scene`` options against that of the real ore pixels."""
    tiles = load_tiles("all")
    per_tile = np.array([np.median(_chroma(t[ore_mask(t)])[:, 0]) for t in tiles.tiles[::4] if ore_mask(t).mean() > 0.2])
    opts = {k: v for k, v in (scene or {}).items() if k in ("dust", "ore_gain")}
    sc = BeltScene(tiles, width_px=64, mm_per_px=8.0, **opts)
    return RealismCheck("dust: chromaticity r of the haze vs ore fines", float(_chroma(sc.dust_rgb)[0, 0]),
                        float(np.median(per_tile)), "1", float(per_tile.std()))


def surface_checks(seed: int = 0, n: int = 6) -> list[RealismCheck]:
    """Per photographed kind: mean chromaticity r and grey contrast of rendered objects against the photos (spread:
    over the kind's photos). The same for every scene type (objects' surfaces only): computed once per process."""
    return list(_surface_checks(seed, n))


@lru_cache(maxsize=4)
def _surface_checks(seed: int, n: int) -> tuple[RealismCheck, ...]:
    out = []
    photos = photo_textures()
    for kind, material in PHOTO_MATERIAL.items():
        if material in PALETTE_ONLY:
            continue  # colour from the palette (the photos are near-flat or computer-generated); texture only
        per_photo = [p.reshape(-1, 3).astype(np.float64) for p in photos[material]]
        real = np.concatenate(per_photo)
        rows = []
        for k in range(n):
            sp = render_sprite(kind, 300.0, 120.0, 30.0 * k, 1.0, seed * 100 + k, surface="photo")
            rows.append(sp.rgb[sp.alpha > 0.99])
        rend = np.concatenate(rows)
        g_real, g_rend = real.mean(axis=1), rend.mean(axis=1)
        r_spread = float(np.std([_chroma(p)[:, 0].mean() for p in per_photo]))
        c_spread = float(np.std([p.mean(axis=1).std() / p.mean() for p in per_photo]))
        out += [RealismCheck(f"{kind} surface: chromaticity r", float(_chroma(rend)[:, 0].mean()), float(_chroma(real)[:, 0].mean()), "1",
                             max(r_spread, 0.01)),
                RealismCheck(f"{kind} surface: grey contrast (std/mean)", float(g_rend.std() / g_rend.mean()), float(g_real.std() / g_real.mean()),
                             "1", max(c_spread, 0.02))]
    return tuple(out)


#: Pixel size (mm) of the saturated-patch check (the 4 mm/px line station's), the smoothing of the colour (mm), the
#: side of a window (px: a whole 250 mm CDM photo), the patch sizes counted (mm) and the quantile of the real photos'
#: excess saturation a patch exceeds (the 99th leaves 2 patches in the photos' 11.8 m^2 of ore: too few to compare).
PATCH_MM_PER_PX = 4.0
PATCH_SMOOTH_MM = 16.0
PATCH_WINDOW_PX = 62
PATCH_SIZE_MM = (50.0, 200.0)
PATCH_QUANTILE = 0.98


def saturation_excess(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(saturation (max - min) / max of the colour box-smoothed over PATCH_SMOOTH_MM, less its median over the ore
    pixels; ore mask), each (H, W), of one (H, W, 3) window at PATCH_MM_PER_PX."""
    k = max(1, int(round(PATCH_SMOOTH_MM / PATCH_MM_PER_PX)))
    x = ndi.uniform_filter(rgb.astype(np.float32), (k, k, 1), mode="nearest")
    mx = x.max(axis=-1)
    sat = (mx - x.min(axis=-1)) / np.maximum(mx, 1.0)
    ore = ore_mask(x)
    return sat - (float(np.median(sat[ore])) if ore.any() else 0.0), ore


def saturated_patches(excess: np.ndarray, ore: np.ndarray, threshold: float) -> tuple[int, float]:
    """(patches of ore with ``excess`` > ``threshold`` whose equal-area side is within PATCH_SIZE_MM, ore area m^2)."""
    labels, _ = ndi.label((excess > threshold) & ore, structure=np.ones((3, 3), bool))
    side_mm = np.sqrt(np.bincount(labels.ravel())[1:]) * PATCH_MM_PER_PX
    n = int(((side_mm >= PATCH_SIZE_MM[0]) & (side_mm <= PATCH_SIZE_MM[1])).sum())
    return n, float(ore.sum()) * (PATCH_MM_PER_PX / 1000.0) ** 2


#: Share of ore pixels above which a photo, tile or window counts as a full burden (loaded).
LOADED_ORE_SHARE = 0.8


def is_loaded(rgb: np.ndarray) -> bool:
    """Whether an (H, W, 3) image shows a full burden: ore on more than :data:`LOADED_ORE_SHARE` of it."""
    return bool(ore_mask(rgb).mean() > LOADED_ORE_SHARE)


def photo_window(rgb: np.ndarray) -> np.ndarray:
    """A whole photo (1 mm/px) box-averaged to PATCH_MM_PER_PX: one window of the patch and clipping checks."""
    side = int(round(rgb.shape[1] / PATCH_MM_PER_PX)), int(round(rgb.shape[0] / PATCH_MM_PER_PX))
    return np.asarray(Image.fromarray(rgb).resize(side, Image.Resampling.BOX))


def _loaded_windows(windows: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [w for w in windows if is_loaded(w)]


@lru_cache(maxsize=1)
def _real_photo_windows() -> tuple[list[np.ndarray], list[str]]:
    """Whole loaded CDM photos (every split) at PATCH_MM_PER_PX and their source names (cached: do not change them)."""
    out, names = [], []
    for p in cdm_tile_paths("all"):
        small = photo_window(read_rgb(p))
        if is_loaded(small):
            out.append(small)
            names.append(source_of(p))
    return out, names


def rendered_window_rows(scene: dict | None = None, *, length_m: float = 30.0, seed: int = 0, split: str = "heldout") -> list[list[np.ndarray]]:
    """Every PATCH_WINDOW_PX window of ``length_m`` of object-free belt of ``split`` tiles with ``scene`` options at
    PATCH_MM_PER_PX (512 px wide, as the line station streams it), 80 mm in from the belt edges, loaded or not: one
    list per row of windows along the belt (rendered in frames of 32 rows of windows; the renderer draws the same
    pixels however its frames are cut, so the rows of a shorter length are the first rows of a longer one)."""
    sc = BeltScene(load_tiles(split), width_px=512, mm_per_px=PATCH_MM_PER_PX, seed=seed, **(scene or {}))
    w, rows = PATCH_WINDOW_PX, 32 * PATCH_WINDOW_PX
    n = int(length_m * 1000.0 / PATCH_MM_PER_PX) // w * w
    margin = int(round(80.0 / PATCH_MM_PER_PX))
    xs = range(sc.belt_x0 + margin, sc.belt_x0 + sc.belt_px - margin - w + 1, w)
    out = []
    for r in range(0, n, rows):
        frame = sc.render(r, min(rows, n - r))
        out += [[frame[y : y + w, x : x + w] for x in xs] for y in range(0, frame.shape[0] - w + 1, w)]
    return out


def rendered_windows(scene: dict | None = None, *, length_m: float = 30.0, seed: int = 0, split: str = "heldout") -> list[np.ndarray]:
    """The windows of :func:`rendered_window_rows` that show a full burden (ore on > 80 %)."""
    return _loaded_windows([w for row in rendered_window_rows(scene, length_m=length_m, seed=seed, split=split) for w in row])


def _frozen(scene: dict | None) -> tuple:
    """A scene type's options as a hashable key (values that are lists become tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (scene or {}).items()))


#: The rows of full-burden windows last rendered for the patch and clipping checks: {(seed, scene key): rows}. A
#: shorter length is read from the first rows of a longer one (the clipping check's 100 m holds the patch check's 30 m).
_FULL_ROWS: dict[tuple, list[list[np.ndarray]]] = {}


def _full_windows(seed: int, length_m: float, scene: tuple) -> list[np.ndarray]:
    """:func:`rendered_windows` of full-burden belt of every CDM photo's tiles with ``scene`` options (kept for the
    patch and clipping checks of one scene type: the longest length asked for is rendered once)."""
    n_rows = int(length_m * 1000.0 / PATCH_MM_PER_PX) // PATCH_WINDOW_PX
    rows = _FULL_ROWS.get((seed, scene))
    if rows is None or len(rows) < n_rows:
        opts = {k: v for k, v in scene if k != "burden"}
        rows = rendered_window_rows(dict(opts, burden="full"), length_m=length_m, seed=seed, split="all")
        _FULL_ROWS.clear()
        _FULL_ROWS[(seed, scene)] = rows
    return _loaded_windows([w for row in rows[:n_rows] for w in row])


def patch_rate(windows: Sequence[np.ndarray], threshold: float) -> float:
    """Saturated patches (:func:`saturated_patches`) per m^2 of ore over ``windows`` (NaN without ore)."""
    counts = np.array([saturated_patches(*saturation_excess(w), threshold) for w in windows]).reshape(-1, 2)
    return float(counts[:, 0].sum() / counts[:, 1].sum()) if counts[:, 1].sum() > 0 else float("nan")


def patch_check(seed: int = 0, scene: dict | None = None, length_m: float = BELT_M) -> RealismCheck:
    """Saturated ore patches 50-200 mm per m^2 of ``length_m`` of rendered full-burden belt (``scene`` options) made
    of the tiles of every CDM photo against those whole loaded photos (spread: bootstrap over the photos' sources):
    the same photos on both sides, so what differs is the mosaic. See the module docstring."""
    threshold, real_rate, spread = _real_patches()
    rendered = patch_rate(_full_windows(seed, length_m, _frozen(scene)), threshold)
    return RealismCheck("saturated ore patches 50-200 mm per m^2 of ore", rendered, real_rate, "1/m^2", spread)


@lru_cache(maxsize=1)
def _real_patches() -> tuple[float, float, float]:
    """The patch check's real side (the same for every scene type, computed once per process): the saturation excess
    a patch exceeds (the photos' PATCH_QUANTILE), the photos' patches per m^2 of ore and its bootstrap spread."""
    real, names = _real_photo_windows()
    maps = [saturation_excess(w) for w in real]
    threshold = float(np.quantile(np.concatenate([e[o] for e, o in maps]), PATCH_QUANTILE))
    per_source: dict[str, np.ndarray] = {}
    for (e, o), name in zip(maps, names):
        per_source[name] = per_source.get(name, np.zeros(2)) + np.array(saturated_patches(e, o, threshold), float)
    arr = np.array(list(per_source.values()))
    rate = lambda a: float(a[:, 0].sum() / a[:, 1].sum())  # noqa: E731
    return threshold, rate(arr), _bootstrap_std(arr, rate)


#: Belt-edge check: the central part of a 250 px CDM photo kept (rows, columns: the +-5 degree rotation's black
#: corners cut off), the grey (max channel) under which a pixel is the black beyond the belt, the rows of a
#: roughness window (200 mm at 1 mm/px) and the ore share a photo must have to show an ore boundary.
EDGE_CROP = (slice(25, 225), slice(12, 238))
EDGE_BLACK_MAX = 12
EDGE_ORE_SHARE = (0.05, 0.85)


def orient_edge(rgb: np.ndarray) -> np.ndarray:
    """The quarter turn of an (H, W, 3) photo that puts its ore on the left (the most ore in the left 60 columns of
    :data:`EDGE_CROP` against the right 60), cropped to EDGE_CROP, float32."""
    turns = [np.rot90(rgb, k)[EDGE_CROP] for k in range(4)]
    prof = [ore_mask(t).mean(axis=0) for t in turns]
    return turns[int(np.argmax([p[:60].mean() - p[-60:].mean() for p in prof]))].astype(np.float32)


def edge_profile(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ore boundary, belt edge) column per row of an oriented (H, W, 3) image (ore on the left, NaN where none): the
    boundary is the step that best splits the row's ore (cleaned, 5 px smoothed) into ore left / none right; the edge
    the step that best splits it into not black / black (max channel < EDGE_BLACK_MAX) with black beyond it."""
    ore = ndi.binary_opening(ndi.binary_closing(ore_mask(rgb), iterations=2), iterations=2)
    of = ndi.uniform_filter1d(ore.astype(np.float32), 5, axis=1)
    bf = ndi.uniform_filter1d((rgb.max(axis=-1) < EDGE_BLACK_MAX).astype(np.float32), 5, axis=1)
    w = rgb.shape[1]
    zero = np.zeros((rgb.shape[0], 1), np.float32)
    xb = np.argmax(np.concatenate([zero, np.cumsum(2 * of - 1, axis=1)], axis=1), axis=1)
    xe = np.argmax(np.concatenate([zero, np.cumsum(1 - 2 * bf, axis=1)], axis=1), axis=1)
    left = np.cumsum(of, axis=1)[np.arange(len(of)), np.maximum(xb - 1, 0)] / np.maximum(xb, 1)
    right = np.array([r[x:].mean() if x < w else 0.0 for r, x in zip(bf, xe)])
    bound = np.where((left > 0.6) & (xb < w - 3), xb, np.nan)
    edge = np.where((xe < w - 5) & (xe > 0) & (right > 0.6), xe, np.nan)
    return bound, edge


def edge_stats(rgb: np.ndarray, edge_col: float | None = None) -> dict[str, float]:
    """Statistics of one oriented image at 1 mm/px (:func:`edge_profile`): ``rough`` (std of the ore boundary about
    its fitted line, mm), and where the belt's edge is known or seen in over half the rows (``edge_col``: the belt
    edge's column when known, as on rendered belt), ``width`` (median bare belt from the boundary to the edge, mm),
    ``beyond`` (mean grey beyond the edge / median grey of the ore) and ``spill`` (ore-coloured share beyond it)."""
    bound, edge = edge_profile(rgb)
    ok = np.isfinite(bound)
    out = {"rough": float("nan"), "width": float("nan"), "beyond": float("nan"), "spill": float("nan")}
    if ok.mean() >= 0.8:
        y = np.flatnonzero(ok)
        out["rough"] = float((bound[ok] - np.polyval(np.polyfit(y, bound[ok], 1), y)).std())
    if edge_col is not None:
        edge = np.full(len(edge), float(edge_col))
    if np.isfinite(edge).mean() <= 0.5:
        return out
    grey = rgb.mean(axis=-1)
    cols = np.arange(rgb.shape[1])[None, :]
    beyond = np.isfinite(edge)[:, None] & (cols >= np.nan_to_num(edge, nan=1e9)[:, None] + 3)
    ore = ore_mask(rgb)
    out["width"] = float(np.nanmedian(edge - bound)) if ok.any() else float("nan")
    if beyond.any() and ore.any():
        out["beyond"] = float(grey[beyond].mean() / max(float(np.median(grey[ore])), 1.0))
        out["spill"] = float(ore[beyond].mean())
    return out


@lru_cache(maxsize=1)
def edge_photos() -> tuple[tuple[str, ...], tuple[np.ndarray, ...]]:
    """(source names, oriented photos) of the CDM photos that show the ore's boundary at the side of the belt: the
    "images" sources (the ones cut from camera frames) with ore on 5-85 % of the photo (cached: do not change them)."""
    names, photos = [], []
    for p in cdm_tile_paths("all"):
        name = source_of(p)
        if not name.startswith("images"):
            continue
        rgb = read_rgb(p)
        if EDGE_ORE_SHARE[0] < ore_mask(rgb).mean() < EDGE_ORE_SHARE[1]:
            names.append(name)
            photos.append(orient_edge(rgb))
    return tuple(names), tuple(photos)


def real_edge_stats() -> dict[str, np.ndarray]:
    """Per source of :func:`edge_photos`, the median over its photos of each :func:`edge_stats` (NaN where none)."""
    return {k: v.copy() for k, v in _real_edge_stats().items()}


@lru_cache(maxsize=1)
def _real_edge_stats() -> dict[str, np.ndarray]:
    """:func:`real_edge_stats`, computed once per process (the same photos for every scene type: do not change it)."""
    names, photos = edge_photos()
    per: dict[str, list[dict[str, float]]] = {}
    for name, rgb in zip(names, photos):
        per.setdefault(name, []).append(edge_stats(rgb))
    keys = ("rough", "width", "beyond", "spill")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a source whose photos never show the edge: NaN
        return {k: np.array([np.nanmedian([d[k] for d in v]) for v in per.values()]) for k in keys}


def rendered_edges(scene: dict | None = None, *, length_m: float = 10.0, seed: int = 0) -> list[tuple[np.ndarray, float]]:
    """(oriented window, belt edge's column) of both edges of ``length_m`` of a narrow (0.5 m) belt of held-out tiles with
    ``scene`` options at 1 mm/px, in windows of 200 rows cut like an edge photo (EDGE_CROP wide, the edge 175 px in)."""
    opts = {k: v for k, v in (scene or {}).items() if k != "motion_blur_px"}
    sc = BeltScene(load_tiles("heldout"), width_px=700, mm_per_px=1.0, belt_width_m=0.5, seed=seed, **opts)
    w, at = EDGE_CROP[1].stop - EDGE_CROP[1].start, 175
    x1 = sc.belt_x0 + sc.belt_px
    out = []
    for r in range(0, int(length_m * 1000) // 200 * 200, 2000):
        frame = sc.render(r, 2000).astype(np.float32)
        for y in range(0, 2000, 200):
            out.append((frame[y : y + 200, x1 - at : x1 - at + w], float(at)))
            out.append((frame[y : y + 200, sc.belt_x0 + at - w : sc.belt_x0 + at][:, ::-1], float(at)))
    return out


def edge_checks(seed: int = 0, scene: dict | None = None, length_m: float = EDGE_M) -> list[RealismCheck]:
    """The belt edge of ``scene`` against the CDM photos' (see the module docstring; rendered: median over windows)."""
    real = real_edge_stats()
    rend = [edge_stats(w, edge_col=e) for w, e in rendered_edges(scene, length_m=length_m, seed=seed)]
    rows = (("width", "belt edge: bare belt from the ore's boundary to the edge", "mm"),
            ("rough", "belt edge: roughness of the ore's boundary (std about its line, 200 mm)", "mm"),
            ("beyond", "belt edge: grey beyond the edge / ore grey", "1"),
            ("spill", "belt edge: ore-coloured share beyond the edge (spilt ore)", "1"))
    out = []
    for key, name, unit in rows:
        r = real[key][np.isfinite(real[key])]
        v = np.array([d[key] for d in rend])
        v = v[np.isfinite(v)]
        out.append(RealismCheck(name, float(np.median(v)) if len(v) else float("nan"), float(np.median(r)), unit, float(r.std())))
    return out


#: Level (>= ) at which a pixel counts as clipped, and the channels the clipping check compares (blue never clips).
CLIP_LEVEL = 254
CLIP_CHANNELS = ("red", "green")


def clip_shares(windows: Sequence[np.ndarray]) -> np.ndarray:
    """Share (3,) of the pixels of ``windows`` at or above CLIP_LEVEL per channel (zeros without windows)."""
    if not windows:
        return np.zeros(3)
    return np.mean([(w >= CLIP_LEVEL).reshape(-1, 3).mean(axis=0) for w in windows], axis=0)


def clipping_checks(seed: int = 0, scene: dict | None = None, length_m: float = CLIPPING_M) -> list[RealismCheck]:
    """Share (%) of pixels at >= CLIP_LEVEL in red and green at PATCH_MM_PER_PX: ``length_m`` of rendered full-burden belt
    of every CDM photo's tiles (``scene`` options; the patch check's windows) against the whole loaded photos
    (spread: bootstrap over the photos' sources)."""
    real, names = _real_photo_windows()
    per_source: dict[str, list[np.ndarray]] = {}
    for w, name in zip(real, names):
        per_source.setdefault(name, []).append((w >= CLIP_LEVEL).reshape(-1, 3).mean(axis=0))
    arr = np.array([np.mean(v, axis=0) for v in per_source.values()])
    counts = np.array([len(v) for v in per_source.values()], float)
    rendered = clip_shares(_full_windows(seed, length_m, _frozen(scene)))
    out = []
    for c, name in enumerate(CLIP_CHANNELS):
        pooled = lambda idx, c=c: float(np.average(arr[idx.astype(int), c], weights=counts[idx.astype(int)]))  # noqa: E731
        idx = np.arange(len(arr), dtype=float)
        out.append(RealismCheck(f"clipping: share of {name} at >= {CLIP_LEVEL} (4 mm/px)", 100.0 * float(rendered[c]), 100.0 * pooled(idx),
                                "%", 100.0 * _bootstrap_std(idx, pooled)))
    return out


def clipped_red_colour(windows: Sequence[np.ndarray]) -> np.ndarray:
    """(median G/R, median B/R) (2,) of the pixels of ``windows`` whose red is at or above CLIP_LEVEL (NaN without)."""
    px = [w.reshape(-1, 3) for w in windows]
    hot = np.concatenate([p[p[:, 0] >= CLIP_LEVEL] for p in px]).astype(np.float64) if px else np.zeros((0, 3))
    if not len(hot):
        return np.full(2, np.nan)
    return np.median(hot[:, 1:] / hot[:, :1], axis=0)


def clipped_colour_checks(seed: int = 0, scene: dict | None = None, length_m: float = CLIPPING_M) -> list[RealismCheck]:
    """Colour of the clipped red pixels (median G/R and B/R of the pixels whose red is >= CLIP_LEVEL, 4 mm/px): the
    clipping check's rendered windows against the whole loaded photos (spread: bootstrap over the photos' sources)."""
    want, spread = _real_clipped_colour()
    got = clipped_red_colour(_full_windows(seed, length_m, _frozen(scene)))
    return [RealismCheck(f"clipped red pixels: median {ratio} (4 mm/px)", float(got[k]), float(want[k]), "1",
                         float(spread[k])) for k, ratio in enumerate(("G/R", "B/R"))]


@lru_cache(maxsize=1)
def _real_clipped_colour() -> tuple[np.ndarray, np.ndarray]:
    """The clipped-colour check's real side, once per process: (median G/R, B/R) (2,) of the photos' clipped red
    pixels and its bootstrap spread over the photos' sources (2,)."""
    real, names = _real_photo_windows()
    per_source: dict[str, list[np.ndarray]] = {}
    for w, name in zip(real, names):
        per_source.setdefault(name, []).append(w)
    groups = list(per_source.values())
    boot = _bootstrap_draws(np.arange(len(groups)), lambda idx: clipped_red_colour([w for i in idx for w in groups[i]]))
    return clipped_red_colour(real), np.array([np.nanstd(boot[:, k]) for k in range(boot.shape[1])])


def all_checks(seed: int = 0, scene: dict | None = None, *, clipping_m: float = CLIPPING_M, belt_m: float = BELT_M,
               edge_m: float = EDGE_M, surfaces: bool = True) -> list[RealismCheck]:
    """Every check of this module for a scene type's options (default: today's renderer settings), on belts of
    today's lengths unless given: ``clipping_m`` of full-burden belt for the clipping and clipped-colour checks,
    ``belt_m`` for the illumination and patch checks, ``edge_m`` for the belt edge; ``surfaces``: with the object
    surface checks (the same for every scene type)."""
    clipping = clipping_checks(seed, scene, clipping_m)  # first: its 100 m of full-burden belt hold the patch check's 30 m
    return (illumination_checks(seed, belt_m, scene) + [dust_check(scene), patch_check(seed, scene, belt_m)] + clipping
            + clipped_colour_checks(seed, scene, clipping_m) + edge_checks(seed, scene, edge_m)
            + (surface_checks(seed) if surfaces else []))


#: Statistics compared between a set of real photographs and rendered belt of a scene type (:func:`image_stats`).
IMAGE_STATS = ("lighting spread (CV of median grey)", "shadow (5 % grey / median)", "ore chromaticity r", "grey contrast (std/mean)")


def image_stats(images: Sequence[np.ndarray]) -> dict[str, float]:
    """The :data:`IMAGE_STATS` of a set of RGB images (uint8): spread of their median grey, median shadow ratio,
    median chromaticity r of their ore pixels (all pixels where none look like ore), median grey contrast."""
    greys = [grey_of(im) for im in images]
    med = np.array([np.median(g) for g in greys])
    chroma = []
    for im in images:
        px = im.reshape(-1, 3)
        ore = px[ore_mask(px)]
        chroma.append(np.median(_chroma(ore if len(ore) > 100 else px)[:, 0]))
    return dict(zip(IMAGE_STATS, (float(med.std() / max(med.mean(), 1e-9)),
                                  float(np.median([np.percentile(g, 5) / max(np.median(g), 1.0) for g in greys])),
                                  float(np.median(chroma)),
                                  float(np.median([g.std() / max(g.mean(), 1e-9) for g in greys])))))


def rendered_stats(scene: dict | None = None, *, n: int = 24, side_px: int = 200, seed: int = 0) -> dict[str, float]:
    """:func:`image_stats` of ``n`` crops of ``side_px`` of rendered held-out belt (2 mm/px) with ``scene`` options,
    spaced along the belt as separate photographs would be. Kept in :func:`rendered_stats_file` (every
    ``oreline vision evaluate --labelled`` compares its photos with the same rendered belt: ~4 CPU s each time)."""
    path = rendered_stats_file(scene, n=n, side_px=side_px, seed=seed)
    try:
        return {k: float(v) for k, v in json.loads(path.read_text())["stats"].items()}
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    opts = {k: v for k, v in (scene or {}).items() if k != "motion_blur_px"}
    sc = BeltScene(load_tiles("heldout"), width_px=1024, mm_per_px=2.0, seed=seed, **opts)
    x0 = sc.belt_x0 + (sc.belt_px - side_px) // 2
    stats = image_stats([sc.render(k * 700, side_px)[:, x0 : x0 + side_px] for k in range(n)])
    replace_atomically(path, lambda tmp: tmp.write_text(json.dumps({"stats": stats})))  # floats as repr: exact
    return stats


#: The packages whose versions the rendering's figures depend on (resampling, filters, the gravel texture).
RENDER_PACKAGES = ("numpy", "scipy", "pillow", "scikit-image")
#: The camera package (vision/): its modules' bytes are part of :func:`render_fingerprint`.
PACKAGE_DIR = Path(__file__).resolve().parent


def render_fingerprint(package_dir: Path = PACKAGE_DIR) -> str:
    """What rendered belt is made of: the bytes of the camera package's modules (``package_dir``/*.py), the held-out
    CDM photos (name, size, modification time) and :data:`RENDER_PACKAGES`' versions; a change to any gives another
    (a cache keyed by it never hands back figures of another renderer)."""
    h = hashlib.sha256()
    for f in sorted(package_dir.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    for p in cdm_tile_paths("heldout"):
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    h.update(repr([metadata.version(pkg) for pkg in RENDER_PACKAGES]).encode())
    return h.hexdigest()


def rendered_stats_file(scene: dict | None = None, *, n: int = 24, side_px: int = 200, seed: int = 0) -> Path:
    """Where :func:`rendered_stats` keeps its figures: ``$ORELINE_CACHE/vision/realism`` (or ``~/.cache/oreline/...``),
    named by the arguments and :func:`render_fingerprint`."""
    key = hashlib.sha256(repr((_frozen(scene), n, side_px, seed, render_fingerprint())).encode()).hexdigest()[:20]
    return default_cache_dir() / "realism" / f"rendered-stats-{key}.json"


def stats_distance(real: dict[str, float], rendered: dict[str, float]) -> list[tuple[str, float, float, float]]:
    """(statistic, real, rendered, rendered - real) per statistic of both."""
    return [(k, real[k], rendered[k], rendered[k] - real[k]) for k in IMAGE_STATS if k in real and k in rendered]
