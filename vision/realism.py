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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from vision.objects import PALETTE_ONLY, PHOTO_MATERIAL, photo_textures, render_sprite
from vision.scene import BeltScene, ore_mask
from vision.tiles import cdm_tile_paths, crop_tile, load_tiles, read_rgb


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


def _loaded_real_grey() -> list[np.ndarray]:
    rgb = [crop_tile(read_rgb(p)) for p in cdm_tile_paths("heldout")]
    return [t.astype(np.float32).mean(axis=-1) for t in rgb if ore_mask(t).mean() > 0.8]


def _bootstrap_std(values: np.ndarray, stat, n: int = 200, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    return float(np.std([stat(values[rng.integers(0, len(values), len(values))]) for _ in range(n)]))


def illumination_checks(seed: int = 0, length_m: float = 30.0, scene: dict | None = None) -> list[RealismCheck]:
    """Lighting spread along the belt and shadow depth of a full-burden belt with ``scene`` options (see the module
    docstring)."""
    loaded = _loaded_real_grey()
    med = np.array([np.median(g) for g in loaded])
    cv = lambda m: float(m.std() / m.mean())  # noqa: E731
    opts = {k: v for k, v in (scene or {}).items() if k in ("lighting_variation", "light_knot_mm", "shadow_depth", "ore_gain")}
    sc = BeltScene(load_tiles("heldout"), width_px=1024, mm_per_px=2.0, seed=seed, burden="full", dust_probability=0.0, **opts)
    img = sc.render(0, int(length_m * 500)).astype(np.float32).mean(axis=-1)[:, sc.belt_x0 + 50 : sc.belt_x0 + sc.belt_px - 50]
    stretch = img[: img.shape[0] // 100 * 100].reshape(-1, 100, img.shape[1])
    m = np.median(stretch.reshape(stretch.shape[0], -1), axis=1)
    ratios = np.array([np.percentile(g, 5) / max(np.median(g), 1.0) for g in loaded])
    return [RealismCheck("illumination: spread of median grey along the belt (CV)", cv(m), cv(med), "1", _bootstrap_std(med, cv)),
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
    over the kind's photos)."""
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
    return out


def all_checks(seed: int = 0, scene: dict | None = None) -> list[RealismCheck]:
    """Every check of this module for a scene type's options (default: today's renderer settings)."""
    return illumination_checks(seed, scene=scene) + [dust_check(scene)] + surface_checks(seed)


#: Statistics compared between a set of real photographs and rendered belt of a scene type (:func:`image_stats`).
IMAGE_STATS = ("lighting spread (CV of median grey)", "shadow (5 % grey / median)", "ore chromaticity r", "grey contrast (std/mean)")


def image_stats(images: Sequence[np.ndarray]) -> dict[str, float]:
    """The :data:`IMAGE_STATS` of a set of RGB images (uint8): spread of their median grey, median shadow ratio,
    median chromaticity r of their ore pixels (all pixels where none look like ore), median grey contrast."""
    greys = [im.astype(np.float32).mean(axis=-1) for im in images]
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
    spaced along the belt as separate photographs would be."""
    opts = {k: v for k, v in (scene or {}).items() if k != "motion_blur_px"}
    sc = BeltScene(load_tiles("heldout"), width_px=1024, mm_per_px=2.0, seed=seed, **opts)
    x0 = sc.belt_x0 + (sc.belt_px - side_px) // 2
    return image_stats([sc.render(k * 700, side_px)[:, x0 : x0 + side_px] for k in range(n)])


def stats_distance(real: dict[str, float], rendered: dict[str, float]) -> list[tuple[str, float, float, float]]:
    """(statistic, real, rendered, rendered - real) per statistic of both."""
    return [(k, real[k], rendered[k], rendered[k] - real[k]) for k in IMAGE_STATS if k in real and k in rendered]
