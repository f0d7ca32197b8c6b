"""Foreign-object sprites for the simulated belt scene.

Each kind gets a shape and an appearance built from real pixels where possible:
scikit-image's CC0 ``gravel`` and ``brick`` textures (CC0Textures Gravel04, Bricks25) modulate
every surface, and large lumps are cut from the Roboflow "Conversion" crushed-stone crops
(CC BY 4.0), tinted to ore colour and shaded. Colours, grain, folds and highlights are
per-kind rules (see docs/vision.md). Sprites are rendered in object coordinates (mm) so
they look the same at any ``mm_per_px``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from conveyor.resources import shared_data_dir
from vision.errors import DataError
from vision.tiles import read_rgb, rock_crops

#: Kinds the simulator can insert (the cargo's object kinds).
KINDS = ("wood", "plastic", "rubber", "metal", "cloth", "concrete", "lump")

_PALETTE = {
    "wood": [(205, 172, 120), (185, 145, 95), (150, 140, 125), (160, 110, 65)],
    "plastic": [(40, 80, 200), (225, 225, 230), (25, 25, 28), (230, 200, 40), (200, 40, 40)],
    "rubber": [(32, 32, 34), (45, 44, 44)],
    "metal": [(150, 152, 160), (120, 122, 130), (165, 110, 70)],
    "cloth": [(200, 40, 40), (40, 60, 170), (230, 230, 225), (240, 120, 20), (110, 110, 115)],
    "concrete": [(175, 172, 165), (150, 150, 145)],
    "lump": [(125, 80, 55), (105, 70, 50)],
}


#: Photographed surfaces (``shared/data/vision/textures-cc0``, CC0; see its SOURCES.md) per object kind, and the
#: size of one texel on the object (mm): planks and slabs are photographed at about 1 mm per texel of the 1k maps,
#: fabrics and rubber closer. Plastic and rubber photos are weak (near-flat colour, a computer-generated rubber):
#: for them only the photo's brightness texture is used, on the kind's palette colour.
TEXTURE_DIR = "textures-cc0"
PHOTO_MATERIAL = {"wood": "wood", "plastic": "plastic", "rubber": "rubber", "metal": "rusty_steel", "cloth": "cloth",
                  "concrete": "concrete"}
TEXEL_MM = {"wood": 1.0, "plastic": 0.5, "rubber": 0.4, "rusty_steel": 0.8, "cloth": 0.5, "concrete": 1.0}
PALETTE_ONLY = ("plastic", "rubber")
#: Side (texels) the photos are kept at (every second texel of the 1k maps, TEXEL_MM x 2 per texel).
PHOTO_PX = 512
#: Wet wood (water darkens and saturates a porous surface): brightness factor and saturation gain.
WET_GAIN = 0.55
WET_SATURATION = 1.35
ATTRIBUTION_TEXTURES = "object surfaces: Poly Haven and ambientCG texture photographs (CC0)"


@lru_cache(maxsize=1)
def photo_textures() -> dict[str, tuple[np.ndarray, ...]]:
    """The colour photos per material (PHOTO_MATERIAL values) as (PHOTO_PX, PHOTO_PX, 3) float32 0..255.

    Raises DataError when a material has no photo."""
    root = shared_data_dir() / "vision" / TEXTURE_DIR
    out = {}
    for material in sorted(set(PHOTO_MATERIAL.values())):
        paths = sorted(p for p in (root / material).glob("*") if p.suffix.lower() in (".jpg", ".png", ".webp"))
        if not paths:
            raise DataError(f"expected texture photos in {root / material}, found none")
        out[material] = tuple(np.asarray(Image.fromarray(read_rgb(p)).resize((PHOTO_PX, PHOTO_PX), Image.Resampling.BOX), np.float32)
                              for p in paths)
    return out


@dataclass(frozen=True)
class Sprite:
    """A rendered object: colour (h, w, 3) float32 0..255, coverage alpha and shadow alpha (h, w) float32 0..1.

    ``centre_px`` is (row, col) of the object centre inside the sprite arrays.
    """

    rgb: np.ndarray
    alpha: np.ndarray
    shadow: np.ndarray
    centre_px: tuple[float, float]


@lru_cache(maxsize=1)
def _textures() -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    gravel = data.gravel().astype(np.float32)
    brick = data.brick().astype(np.float32)
    gravel = (gravel - gravel.mean()) / (gravel.std() + 1e-6)
    brick = (brick - brick.mean()) / (brick.std() + 1e-6)
    return gravel, brick


def _sample(tex: np.ndarray, u_mm: np.ndarray, v_mm: np.ndarray, mm_per_texel: float, offset: tuple[int, int]) -> np.ndarray:
    n = tex.shape[0]
    iu = (np.floor(u_mm / mm_per_texel).astype(np.int64) + offset[0]) % n
    iv = (np.floor(v_mm / mm_per_texel).astype(np.int64) + offset[1]) % n
    return tex[iv, iu]


def _harmonic_radius(theta: np.ndarray, rng: np.random.Generator, amount: float, n: int = 5) -> np.ndarray:
    r = np.ones_like(theta)
    for k in range(2, 2 + n):
        r += amount / k * rng.uniform(-1, 1) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return r


#: Peak pull towards white of the glints of wet wood and of plastic (no measured figure: no photograph of either on a
#: belt exists in shared/data; a wet surface under a line light shows small saturated glints).
SPECULAR_WET = 0.6
SPECULAR_PLASTIC = 0.4


def render_sprite(
    kind: str, length_mm: float, width_mm: float, angle_deg: float, mm_per_px: float, seed: int, *,
    surface: str = "rules", buried: float = 0.0, wet: bool = False, ore_rgb: np.ndarray | None = None,
    cast: float = 0.0, dust: float = 0.0,
) -> Sprite:
    """Render one object of ``kind`` (one of KINDS) with its long axis at ``angle_deg`` to the belt direction.

    Sizes in mm; the sprite is sampled at ``mm_per_px``. ``surface``: "rules" (palette colour, grain and folds by
    rule, modulated by the gravel texture) or "photo" (the kind's photographed surface, :func:`photo_textures`, with
    relief shading by shape). ``buried``: share (0..0.8) of the object covered by ore (blobs ~30 mm, the ore shows
    there, alpha 0); ``wet``: darkened, saturated surface; ``ore_rgb`` (3,): the ore's mean colour, towards which
    ``cast`` (0..1) pulls the object's chromaticity (ore fines coat everything) and ``dust`` (0..1) mixes a lighter
    ore-dust layer. Raises ValueError for an unknown kind or surface, or a size <= 0.
    """
    if surface not in ("rules", "photo"):
        raise ValueError(f"surface must be 'rules' or 'photo', got {surface!r}")
    if kind not in KINDS:
        raise ValueError(f"object kind must be one of {KINDS}, got {kind!r}")
    if not (length_mm > 0 and width_mm > 0 and mm_per_px > 0):
        raise ValueError(f"length, width and mm_per_px must be > 0, got {length_mm}, {width_mm}, {mm_per_px}")
    rng = np.random.default_rng(seed)
    half_diag = 0.5 * float(np.hypot(length_mm, width_mm)) * 1.2 + 12.0
    n = int(np.ceil(2 * half_diag / mm_per_px)) + 2
    c = (n - 1) / 2.0
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32)
    y_mm, x_mm = (ys - c) * mm_per_px, (xs - c) * mm_per_px
    a = np.deg2rad(angle_deg)
    # u along the object's length (belt direction = rows at angle 0), v across it
    u = np.cos(a) * y_mm + np.sin(a) * x_mm
    v = -np.sin(a) * y_mm + np.cos(a) * x_mm
    hl, hw = length_mm / 2.0, width_mm / 2.0
    un, vn = u / hl, v / hw
    theta = np.arctan2(vn, un)
    if kind in ("metal", "wood"):
        f = np.maximum(np.abs(un) ** 8 + np.abs(vn) ** 8, 0) ** (1 / 8)
        if kind == "wood":
            f = f * (1 + 0.03 * np.sin(u / 7.0 + rng.uniform(0, 6)))
    elif kind == "rubber":
        f = (np.abs(un) ** 4 + np.abs(vn) ** 4) ** 0.25
    elif kind in ("plastic", "cloth"):
        f = np.hypot(un, vn) / _harmonic_radius(theta, rng, 0.35 if kind == "cloth" else 0.25)
    else:  # concrete, lump
        f = (np.abs(un) ** 2.4 + np.abs(vn) ** 2.4) ** (1 / 2.4) / _harmonic_radius(theta, rng, 0.18)
    edge_px = max(1.0, min(hl, hw) / mm_per_px)
    alpha = np.clip((1.0 - f) * edge_px + 0.5, 0.0, 1.0).astype(np.float32)

    gravel, brick = _textures()
    off = (int(rng.integers(0, 512)), int(rng.integers(0, 512)))
    base = np.array(_PALETTE[kind][rng.integers(len(_PALETTE[kind]))], dtype=np.float32)
    base = base * rng.uniform(0.9, 1.1)
    detail = _sample(gravel, u, v, 0.8, off)
    coarse = ndi.gaussian_filter(_sample(gravel, u, v, 6.0, off), 1.0)
    if kind == "wood":
        grain = np.sin(2 * np.pi * v / 5.0 + 1.5 * _sample(gravel, u, v * 4, 3.0, off))
        shade = 1.0 + 0.12 * grain + 0.05 * detail
    elif kind == "metal":
        shade = 1.0 + 0.7 * np.exp(-((v / (0.3 * hw)) ** 2)) + 0.05 * _sample(brick, u, v, 1.0, off)
    elif kind == "plastic":
        shade = 1.0 + 0.18 * coarse + 0.03 * detail
    elif kind == "rubber":
        shade = 1.0 + 0.1 * detail + 0.08 * np.sin(2 * np.pi * v / 8.0)
    elif kind == "cloth":
        weave = np.sin(2 * np.pi * u / 2.5) * np.sin(2 * np.pi * v / 2.5)
        shade = 1.0 + 0.22 * coarse + 0.08 * weave + 0.04 * detail
    elif kind == "concrete":
        shade = 1.0 + 0.22 * detail + 0.08 * coarse
    else:  # lump: real crushed-stone pixels, tinted to ore colour, lit from one side
        crops = rock_crops()
        crop = crops[int(rng.integers(len(crops)))].astype(np.float32).mean(axis=-1)
        crop = np.asarray(Image.fromarray(crop).resize((n, n), Image.Resampling.BILINEAR), dtype=np.float32)
        crop = (crop - crop.mean()) / (crop.std() + 1e-6)
        light = 1.0 - 0.35 * (un * 0.6 + vn * 0.4)
        shade = light * (1.0 + 0.25 * crop + 0.1 * detail)
    rgb = np.clip(base[None, None, :] * shade[..., None], 0, 255).astype(np.float32)
    if surface == "photo" and kind in PHOTO_MATERIAL:
        rgb = _photo_surface(kind, u, v, un, vn, base, rng)
    rgb = _wet_and_coated(rgb, wet, wet or (surface == "photo" and kind == "plastic"), ore_rgb, cast, dust, mm_per_px, rng)
    if buried > 0:
        alpha = alpha * _uncovered(alpha, buried, mm_per_px, rng)
    return Sprite(rgb, alpha, _cast_shadow(alpha, kind, width_mm, mm_per_px), (c, c))


def _cast_shadow(alpha: np.ndarray, kind: str, width_mm: float, mm_per_px: float) -> np.ndarray:
    """The object's footprint shifted down-right by its height, softened, outside the object (float32)."""
    height_mm = {"plastic": 2.0, "cloth": 3.0, "wood": 0.4 * width_mm, "metal": 0.5 * width_mm}.get(kind, 0.45 * width_mm)
    shift = min(height_mm, 40.0) / mm_per_px * 0.5
    shadow = ndi.shift(alpha, (shift, shift), order=1, mode="constant")
    return (ndi.gaussian_filter(shadow, max(0.5, shift * 0.5)) * (1 - alpha)).astype(np.float32)


def _wet_and_coated(rgb: np.ndarray, wet: bool, glossy: bool, ore_rgb: np.ndarray | None, cast: float, dust: float,
                    mm_per_px: float, rng: np.random.Generator) -> np.ndarray:
    """A surface wet (darker, saturated), glossy (glints: wet, or plastic) and coated by the ore (colour ``cast``
    towards the ore's chromaticity, a ``dust`` layer of lighter ore fines)."""
    if wet:
        grey = rgb.mean(axis=-1, keepdims=True)
        rgb = np.clip((grey + WET_SATURATION * (rgb - grey)) * WET_GAIN, 0, 255)
    if glossy:
        rgb = _specular(rgb, mm_per_px, rng, SPECULAR_WET if wet else SPECULAR_PLASTIC)
    if ore_rgb is not None and (cast > 0 or dust > 0):
        ore = np.asarray(ore_rgb, np.float32)
        grey = rgb.mean(axis=-1, keepdims=True)
        rgb = (1 - cast) * rgb + cast * grey * (ore / max(float(ore.mean()), 1.0))
        rgb = (1 - dust) * rgb + dust * np.clip(1.6 * ore, 0, 255)
    return rgb


def _specular(rgb: np.ndarray, mm_per_px: float, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Glints of a glossy surface (wet wood, plastic): where a smooth random field (~4 mm) is in its top 6 %, the
    colour is pulled towards white by up to ``strength``."""
    field = ndi.gaussian_filter(rng.normal(size=rgb.shape[:2]).astype(np.float32), max(0.7, 4.0 / mm_per_px))
    q = float(np.quantile(field, 0.94))
    glint = np.clip((field - q) / max(float(field.max()) - q, 1e-6), 0, 1) ** 0.7
    return rgb + (strength * glint)[..., None] * (255.0 - rgb)


def _photo_surface(kind: str, u: np.ndarray, v: np.ndarray, un: np.ndarray, vn: np.ndarray, base: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """A kind's photographed surface in object coordinates (u along, v across, mm), with relief shading: light from
    one side across rounded bars (wood, metal, rubber), soft folds on sheets (plastic, cloth), a sloped face on slabs."""
    material = PHOTO_MATERIAL[kind]
    photos = photo_textures()[material]
    tex = photos[int(rng.integers(len(photos)))]
    mm = 2.0 * TEXEL_MM[material] * rng.uniform(0.8, 1.25)
    n = tex.shape[0]
    iu = (np.floor(u / mm).astype(np.int64) + int(rng.integers(n))) % n
    iv = (np.floor(v / mm).astype(np.int64) + int(rng.integers(n))) % n
    # the grain of planks runs along them: photo rows along the object's length
    rgb = tex[iu, iv] if kind == "wood" else tex[iv, iu]
    if material in PALETTE_ONLY:
        lum = rgb.mean(axis=-1)
        rgb = base[None, None, :] * (lum / max(float(lum.mean()), 1.0))[..., None]
    if kind in ("wood", "metal", "rubber"):
        across = np.clip(np.abs(vn), 0, 1)
        shade = 0.7 + 0.3 * np.sqrt(1 - across**2) - 0.15 * vn
    elif kind in ("plastic", "cloth"):
        shade = 1.0 + 0.12 * np.sin(u / 23.0 + rng.uniform(0, 6)) * np.sin(v / 17.0 + rng.uniform(0, 6))
    else:
        shade = 1.0 - SLAB_SLOPE_SHADE * (0.6 * un + 0.4 * vn)
    return np.clip(rgb * shade[..., None], 0, 255).astype(np.float32)


#: Brightness change across a slab's sloped face (concrete), end to end: set by hand (no photograph of a slab on a
#: belt). 0.2 (to FIT_VERSION 10) put the rendered grey contrast outside the real photos' spread (vision.realism:
#: 0.208 vs 0.183 +-0.020); 0.1 brings it within (0.197).
SLAB_SLOPE_SHADE = 0.1


#: Size (mm, Gaussian sigma) of the ore blobs that cover a partly buried object.
BURIAL_BLOB_MM = 12.0


def _uncovered(alpha: np.ndarray, buried: float, mm_per_px: float, rng: np.random.Generator) -> np.ndarray:
    """Visibility (h, w) float32 0..1 of a partly buried object: smooth random blobs cover the share ``buried``
    (0..0.8) of its footprint, with soft edges."""
    buried = float(np.clip(buried, 0.0, 0.8))
    noise = ndi.gaussian_filter(rng.standard_normal(alpha.shape).astype(np.float32), max(1.0, BURIAL_BLOB_MM / mm_per_px))
    inside = alpha > 0.5
    if not inside.any():
        return np.ones_like(alpha)
    cut = np.quantile(noise[inside], buried)
    edge = max(float(noise[inside].std()) * 0.3, 1e-6)
    return np.clip((noise - cut) / edge + 0.5, 0.0, 1.0).astype(np.float32)
