"""How far the scene renderer's physical effects are from the real images they stand for.

Each check compares one statistic of rendered belt or objects with the same statistic of real photographs in
``shared/data/vision`` and returns (name, rendered, real, error). Printed by ``benchmarks/bench_vision_scenes.py``.

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

import numpy as np

from vision.objects import PALETTE_ONLY, PHOTO_MATERIAL, photo_textures, render_sprite
from vision.scene import DUST_RGB, SHADOW_DEPTH, BeltScene, ore_mask
from vision.tiles import cdm_tile_paths, crop_tile, load_tiles, read_rgb


@dataclass(frozen=True)
class RealismCheck:
    """One rendered statistic against the real one; ``error`` = rendered - real (same unit)."""

    name: str
    rendered: float
    real: float
    unit: str

    @property
    def error(self) -> float:
        return self.rendered - self.real


def _chroma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.reshape(-1, 3).astype(np.float64)
    return rgb[:, :2] / np.maximum(rgb.sum(axis=1, keepdims=True), 1.0)


def illumination_checks(seed: int = 0, length_m: float = 30.0) -> list[RealismCheck]:
    """Lighting spread along the belt and shadow depth (see the module docstring)."""
    rgb = [crop_tile(read_rgb(p)) for p in cdm_tile_paths("heldout")]
    loaded = [t.astype(np.float32).mean(axis=-1) for t in rgb if ore_mask(t).mean() > 0.8]
    med = np.array([np.median(g) for g in loaded])
    real_cv = float(med.std() / med.mean())
    sc = BeltScene(load_tiles("heldout"), width_px=1024, mm_per_px=2.0, seed=seed, burden="full", dust_probability=0.0)
    img = sc.render(0, int(length_m * 500)).astype(np.float32).mean(axis=-1)[:, sc.belt_x0 + 50 : sc.belt_x0 + sc.belt_px - 50]
    stretch = img[: img.shape[0] // 100 * 100].reshape(-1, 100, img.shape[1])
    m = np.median(stretch.reshape(stretch.shape[0], -1), axis=1)
    rendered_cv = float(m.std() / m.mean())
    real_shadow = float(np.median([np.percentile(g, 5) / max(np.median(g), 1.0) for g in loaded]))
    return [RealismCheck("illumination: spread of median grey along the belt (CV)", rendered_cv, real_cv, "1"),
            RealismCheck("shadow: grey in shadow / grey around", 1.0 - SHADOW_DEPTH, real_shadow, "1")]


def dust_check() -> RealismCheck:
    """Chromaticity r of the dust haze against that of the real ore pixels."""
    px = load_tiles("all").tiles[::4].reshape(-1, 3)
    ore = px[ore_mask(px)]
    real = float(np.median(_chroma(ore)[:, 0]))
    return RealismCheck("dust: chromaticity r of the haze vs ore fines", float(_chroma(DUST_RGB)[0, 0]), real, "1")


def surface_checks(seed: int = 0, n: int = 6) -> list[RealismCheck]:
    """Per photographed kind: mean chromaticity r and grey contrast of rendered objects against the photos."""
    out = []
    photos = photo_textures()
    for kind, material in PHOTO_MATERIAL.items():
        if material in PALETTE_ONLY:
            continue  # colour from the palette (the photos are near-flat or computer-generated); texture only
        real = np.concatenate([p.reshape(-1, 3) for p in photos[material]])
        rows = []
        for k in range(n):
            sp = render_sprite(kind, 300.0, 120.0, 30.0 * k, 1.0, seed * 100 + k, surface="photo")
            rows.append(sp.rgb[sp.alpha > 0.99])
        rend = np.concatenate(rows)
        g_real, g_rend = real.mean(axis=1), rend.mean(axis=1)
        out += [RealismCheck(f"{kind} surface: chromaticity r", float(_chroma(rend)[:, 0].mean()), float(_chroma(real)[:, 0].mean()), "1"),
                RealismCheck(f"{kind} surface: grey contrast (std/mean)", float(g_rend.std() / g_rend.mean()), float(g_real.std() / g_real.mean()), "1")]
    return out


def all_checks(seed: int = 0) -> list[RealismCheck]:
    """Every check of this module."""
    return illumination_checks(seed) + [dust_check()] + surface_checks(seed)
