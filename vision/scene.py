"""A moving belt scene rendered from real ore-on-belt tiles, with foreign objects of known truth.

Rows run along the belt (row ``r`` shows belt position ``r * mm_per_px`` mm from the scene
origin), columns across it. The same row always renders the same pixels, so frames can be
cut anywhere. The belt (``belt_width_m`` wide, centred) is a feathered mosaic of tiles with
random flips and quarter turns; beyond it lies the dark steel frame. Effects: slow lighting
drift along the belt, lateral vignetting, dust haze, motion blur, empty-belt stretches (tiles
with the ore painted out), and foreign objects pasted with their shadows.

Attribution of the images: :data:`vision.tiles.ATTRIBUTION` (CC BY 4.0, keep it with any output).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from vision.objects import KINDS, Sprite, render_sprite
from vision.tiles import TileSet

#: Scene-level "lighting knots" spacing along the belt (mm): lighting and dust vary smoothly between knots.
KNOT_MM = 3000.0
DUST_RGB = np.array([175.0, 160.0, 135.0], dtype=np.float32)
FRAME_RGB = np.array([38.0, 38.0, 42.0], dtype=np.float32)
#: Tiles with at least this fraction of ore pixels show a loaded belt ("dense"), the others bare belt with ore dust.
DENSE_ORE_FRACTION = 0.45


@dataclass(frozen=True)
class SceneObject:
    """An object to insert: centre at ``belt_mm`` along the belt (scene coordinates) and ``lateral_mm`` from
    the belt centre line (positive towards higher columns); long axis at ``angle_deg`` to the belt direction."""

    kind: str
    length_mm: float
    width_mm: float
    belt_mm: float
    lateral_mm: float = 0.0
    angle_deg: float = 0.0
    seed: int = 0
    mark_t: float = float("nan")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"object kind must be one of {KINDS}, got {self.kind!r}")
        if not (self.length_mm > 0 and self.width_mm > 0):
            raise ValueError(f"object size must be > 0 mm, got {self.length_mm} x {self.width_mm}")


def ore_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels showing reddish/tan ore rather than green belt: (..., 3) uint8/float → bool (...)."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    return (r >= 0.92 * g) & (r > 1.3 * b) & (r + g + b > 60)


def paint_out_ore(tiles: np.ndarray) -> np.ndarray:
    """Empty-belt versions of (N, S, S, 3) uint8 tiles: ore pixels replaced by the surrounding belt colour."""
    out = np.empty_like(tiles)
    for i, tile in enumerate(tiles):
        t = tile.astype(np.float32)
        mask = ndi.binary_dilation(ore_mask(t), iterations=2)
        w = (~mask).astype(np.float32)
        den = ndi.gaussian_filter(w, 8)
        fill = np.stack([ndi.gaussian_filter(t[..., c] * w, 8) for c in range(3)], -1) / np.maximum(den, 1e-3)[..., None]
        belt = np.median(t[~mask], axis=0) if (~mask).any() else np.array([60.0, 85.0, 45.0])
        fill = np.where((den < 0.05)[..., None], belt, fill)
        out[i] = np.clip(np.where(mask[..., None], fill, t), 0, 255).astype(np.uint8)
    return out


#: Largest tile bank (bytes, all 8 orientations) kept pre-oriented.
ORIENTED_MAX_BYTES = 96 << 20


def _orientations(stack: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) → (8, N, S, S, 3): flip rows (bit 0), flip columns (bit 1), transpose (bit 2)."""
    out = np.empty((8,) + stack.shape, stack.dtype)
    for f in range(8):
        t = stack
        if f & 1:
            t = t[:, ::-1]
        if f & 2:
            t = t[:, :, ::-1]
        if f & 4:
            t = t.transpose(0, 2, 1, 3)
        out[f] = t
    return out


class _TileBank:
    """Tiles (full and ore-free) resampled to the scene's pixel size, with feather weights."""

    def __init__(self, tiles: TileSet, mm_per_px: float) -> None:
        side = max(8, int(round(tiles.tiles.shape[1] / mm_per_px)))
        def resize(stack: np.ndarray) -> np.ndarray:
            if side == stack.shape[1]:
                return stack.astype(np.float32)
            return np.stack([np.asarray(Image.fromarray(t).resize((side, side), Image.BOX)) for t in stack]).astype(np.float32)
        ore_fraction = ore_mask(tiles.tiles).mean(axis=(1, 2))
        dense = ore_fraction >= DENSE_ORE_FRACTION
        if dense.all() or not dense.any():  # a folder without both kinds: use every tile for both
            dense = np.ones(len(tiles), bool)
            sparse = dense
        else:
            sparse = ~dense
        self.dense = resize(tiles.tiles[dense])
        self.sparse = resize(tiles.tiles[sparse])
        self.empty = resize(paint_out_ore(tiles.tiles[sparse]))
        self.side = side
        self.overlap = max(2, side // 8)
        self.pitch = side - self.overlap
        ramp = np.clip((np.arange(side, dtype=np.float32) + 0.5) / self.overlap, 0, 1)
        ramp = np.minimum(ramp, ramp[::-1])
        self.weight = (ramp[:, None] * ramp[None, :])[..., None]
        # tiles pre-multiplied by the (flip-symmetric) feather weight: pasting is a plain add
        self.dense *= self.weight
        self.sparse = self.sparse * self.weight
        self.empty *= self.weight
        # small tiles: keep all 8 orientations contiguous (a paste is then one contiguous add, no strided view)
        n_bytes = 8 * (self.dense.nbytes + self.sparse.nbytes + self.empty.nbytes)
        self.oriented = n_bytes <= ORIENTED_MAX_BYTES
        if self.oriented:
            self.dense, self.sparse, self.empty = (_orientations(t) for t in (self.dense, self.sparse, self.empty))


@lru_cache(maxsize=6)
def _bank(tiles: TileSet, mm_per_px: float) -> _TileBank:
    return _TileBank(tiles, mm_per_px)


class BeltScene:
    """Renders rows of a belt carrying ore tiles and foreign objects.

    ``tiles``: a :class:`~vision.tiles.TileSet` (fit or held-out split, or any folder).
    ``width_px`` columns at ``mm_per_px``; the belt is ``belt_width_m`` wide and centred.
    ``lighting_variation`` is the relative amplitude of the slow lighting drift, ``dust_probability``
    the chance that a 3 m stretch carries a dust haze, ``motion_blur_px`` a box blur along the belt.
    ``empty_mm`` lists (start, end) belt-mm stretches with no material on the belt.
    """

    def __init__(
        self,
        tiles: TileSet,
        *,
        width_px: int = 2048,
        mm_per_px: float = 1.0,
        belt_width_m: float = 1.8,
        seed: int = 0,
        lighting_variation: float = 0.15,
        dust_probability: float = 0.1,
        motion_blur_px: float = 0.0,
        empty_mm: Sequence[tuple[float, float]] = (),
    ) -> None:
        if width_px < 16 or mm_per_px <= 0 or belt_width_m <= 0:
            raise ValueError(f"expected width_px >= 16, mm_per_px > 0, belt_width_m > 0; got {width_px}, {mm_per_px}, {belt_width_m}")
        self.tiles = tiles
        self.width_px = int(width_px)
        self.mm_per_px = float(mm_per_px)
        self.seed = int(seed)
        self.lighting_variation = float(lighting_variation)
        self.dust_probability = float(dust_probability)
        self.motion_blur_px = float(motion_blur_px)
        self.empty_mm = [tuple(map(float, e)) for e in empty_mm]
        belt_px = int(round(belt_width_m * 1000.0 / mm_per_px))
        self.belt_px = min(belt_px, self.width_px)
        self.belt_x0 = (self.width_px - self.belt_px) // 2
        self._bank = _bank(tiles, self.mm_per_px)
        x = (np.arange(self.width_px, dtype=np.float32) - self.width_px / 2) / (self.width_px / 2)
        self._vignette = (1.0 - 0.08 * x**2).astype(np.float32)
        self._sprites: dict[SceneObject, Sprite] = {}
        self._frame: np.ndarray | None = None
        self._knot_cache: dict[int, float] = {}
        self._light_cache: dict[int, tuple[float, float]] = {}

    # -- geometry -----------------------------------------------------------------
    def col_of_lateral(self, lateral_mm: float) -> float:
        """Column of a point ``lateral_mm`` from the belt centre line."""
        return self.width_px / 2.0 + lateral_mm / self.mm_per_px

    def lateral_of_col(self, col: float) -> float:
        """Lateral offset in mm from the belt centre line of column ``col``."""
        return (col - self.width_px / 2.0) * self.mm_per_px

    def is_empty(self, belt_mm: float) -> bool:
        return any(a <= belt_mm < b for a, b in self.empty_mm)

    # -- rendering ------------------------------------------------------------------
    def render(self, start_row: int, n_rows: int, objects: Sequence[SceneObject] = ()) -> np.ndarray:
        """Rows ``start_row .. start_row + n_rows`` as (n_rows, width_px, 3) uint8 RGB."""
        if n_rows <= 0:
            raise ValueError(f"n_rows must be > 0, got {n_rows}")
        pad = int(np.ceil(self.motion_blur_px)) if self.motion_blur_px >= 1.5 else 0
        r0, r1 = start_row - pad, start_row + n_rows + pad
        img = np.empty((r1 - r0, self.width_px, 3), dtype=np.float32)
        self._frame_texture(img, r0)
        self._render_belt(img, r0, r1)
        for obj in objects:
            self._paste(img, r0, obj)
        self._lighting(img, r0)
        if pad:
            img = ndi.uniform_filter1d(img, size=int(round(self.motion_blur_px)), axis=0, mode="nearest")[pad:-pad]
        np.clip(img, 0, 255, out=img)
        out = np.empty(img.shape, np.uint8)
        np.copyto(out, img, casting="unsafe")
        return out

    def _render_belt(self, img: np.ndarray, r0: int, r1: int) -> None:
        bank = self._bank
        oriented = bank.oriented
        p, s = bank.pitch, bank.side
        x0, x1 = self.belt_x0, self.belt_x0 + self.belt_px
        belt = img[:, x0:x1]
        belt[:] = 0.0
        k_first = int(np.floor((r0 - s) / p)) + 1
        k_last = int(np.floor((r1 - 1) / p))
        n_cols = int(np.ceil((x1 - x0 + s) / p)) + 1
        for k in range(k_first, k_last + 1):
            rng = np.random.default_rng([self.seed, k + (1 << 40)])
            top = k * p
            centre_mm = (top + s / 2) * self.mm_per_px
            lateral = ((np.arange(n_cols) * p - s // 2 + s / 2) / max(x1 - x0, 1)) * 2 - 1
            loading = self._loading(centre_mm) * np.clip(1.25 - lateral**2, 0, 1)
            use_dense = rng.random(n_cols) < loading
            if self.is_empty(centre_mm):
                use_dense[:] = False
            sparse = bank.empty if self.is_empty(centre_mm) else bank.sparse
            ax = 1 if oriented else 0
            choice_d = rng.integers(0, bank.dense.shape[ax], n_cols)
            choice_s = rng.integers(0, sparse.shape[ax], n_cols)
            flips = rng.integers(0, 8, n_cols)
            shift = int(rng.integers(0, p))
            ya, yb = max(top, r0), min(top + s, r1)
            if ya >= yb:
                continue
            for j in range(n_cols):
                left = j * p - shift - s // 2
                xa, xb = max(left, 0), min(left + s, x1 - x0)
                if xa >= xb:
                    continue
                f = flips[j]
                if oriented:
                    tile = bank.dense[f, choice_d[j]] if use_dense[j] else sparse[f, choice_s[j]]
                else:
                    tile = bank.dense[choice_d[j]] if use_dense[j] else sparse[choice_s[j]]
                    if f & 1:
                        tile = tile[::-1]
                    if f & 2:
                        tile = tile[:, ::-1]
                    if f & 4:
                        tile = tile.transpose(1, 0, 2)
                belt[ya - r0 : yb - r0, xa:xb] += tile[ya - top : yb - top, xa - left : xb - left]

    def _frame_texture(self, img: np.ndarray, r0: int) -> None:
        """Fill the steel frame beyond the belt (a gravel-textured dark grey, periodic along the belt)."""
        if self.belt_x0 <= 0:
            return
        if self._frame is None:
            from vision.objects import _textures

            gravel = _textures()[0]
            n = gravel.shape[0]
            cols = np.r_[0 : self.belt_x0, self.belt_x0 + self.belt_px : self.width_px] % n
            self._frame = (FRAME_RGB[None, None, :] * (1.0 + 0.15 * gravel[:, cols])[..., None]).astype(np.float32)
        n = self._frame.shape[0]
        rows = np.arange(r0, r0 + img.shape[0]) % n
        tex = self._frame[rows]
        nl = self.belt_x0
        img[:, :nl] = tex[:, :nl]
        img[:, self.belt_x0 + self.belt_px :] = tex[:, nl:]

    def _loading(self, belt_mm: float) -> float:
        """Share of loaded-belt tiles at the belt centre (0.35..1), varying smoothly every KNOT_MM."""
        pos = belt_mm / KNOT_MM
        k = int(np.floor(pos))
        vals = [self._knot_value(kk) for kk in (k, k + 1)]
        f = 0.5 - 0.5 * np.cos(np.pi * (pos - k))
        return float(vals[0] * (1 - f) + vals[1] * f)

    def _knot_value(self, k: int) -> float:
        """Loading knot ``k`` (memoised: seeding a generator costs more than the rest of a tile row)."""
        v = self._knot_cache.get(k)
        if v is None:
            if len(self._knot_cache) > 4096:
                self._knot_cache.clear()
            v = self._knot_cache[k] = float(np.random.default_rng([self.seed, k + (1 << 42)]).uniform(0.35, 1.0))
        return v

    def _knots(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gain = np.empty(k.shape, np.float32)
        dust = np.empty(k.shape, np.float32)
        for i, kk in enumerate(k):
            kk = int(kk)
            if kk not in self._light_cache:
                if len(self._light_cache) > 4096:
                    self._light_cache.clear()
                rng = np.random.default_rng([self.seed, kk + (1 << 41)])
                g = 1.0 + self.lighting_variation * rng.uniform(-1, 1)
                self._light_cache[kk] = (g, rng.uniform(0.1, 0.35) if rng.random() < self.dust_probability else 0.0)
            gain[i], dust[i] = self._light_cache[kk]
        return gain, dust

    def _lighting(self, img: np.ndarray, r0: int) -> None:
        mm = (np.arange(r0, r0 + img.shape[0], dtype=np.float64)) * self.mm_per_px
        pos = mm / KNOT_MM
        k0 = np.floor(pos).astype(np.int64)
        kk = np.arange(k0.min(), k0.max() + 2)
        gain_k, dust_k = self._knots(kk)
        frac = (pos - k0).astype(np.float32)
        idx = k0 - kk[0]
        smooth = 0.5 - 0.5 * np.cos(np.pi * frac)
        gain = gain_k[idx] * (1 - smooth) + gain_k[idx + 1] * smooth
        dust = dust_k[idx] * (1 - smooth) + dust_k[idx + 1] * smooth
        scale = (gain * (1 - dust))[:, None] * self._vignette[None, :]
        img *= scale[..., None]
        if dust.any():
            img += dust[:, None, None] * DUST_RGB[None, None, :]

    def sprite(self, obj: SceneObject) -> Sprite:
        """The rendered sprite of ``obj`` (cached)."""
        sp = self._sprites.get(obj)
        if sp is None:
            if len(self._sprites) > 64:
                self._sprites.clear()
            sp = render_sprite(obj.kind, obj.length_mm, obj.width_mm, obj.angle_deg, self.mm_per_px, obj.seed)
            self._sprites[obj] = sp
        return sp

    def _paste(self, img: np.ndarray, r0: int, obj: SceneObject) -> None:
        sp = self.sprite(obj)
        h, w = sp.alpha.shape
        top = int(round(obj.belt_mm / self.mm_per_px - sp.centre_px[0]))
        left = int(round(self.col_of_lateral(obj.lateral_mm) - sp.centre_px[1]))
        ya, yb = max(top, r0), min(top + h, r0 + img.shape[0])
        xa, xb = max(left, 0), min(left + w, self.width_px)
        if ya >= yb or xa >= xb:
            return
        sl = (slice(ya - top, yb - top), slice(xa - left, xb - left))
        region = img[ya - r0 : yb - r0, xa:xb]
        a = sp.alpha[sl][..., None]
        region *= 1.0 - 0.55 * sp.shadow[sl][..., None]
        region *= 1.0 - a
        region += a * sp.rgb[sl]


def random_objects(
    length_mm: float,
    rng: np.random.Generator,
    *,
    per_m: float = 0.3,
    start_mm: float = 0.0,
    belt_width_m: float = 1.8,
    kinds: Sequence[str] = KINDS,
    length_range_mm: tuple[float, float] = (30.0, 600.0),
    min_gap_mm: float = 300.0,
) -> list[SceneObject]:
    """Objects scattered over ``[start_mm, start_mm + length_mm)`` of belt, ``per_m`` per metre on average,
    kept at least ``min_gap_mm`` + half their length apart along the belt and inside the belt. Lengths are log-uniform in ``length_range_mm``."""
    n = rng.poisson(per_m * length_mm / 1000.0)
    out: list[SceneObject] = []
    centres = np.sort(rng.uniform(start_mm, start_mm + length_mm, n))
    last = -np.inf
    for c in centres:
        lo, hi = np.log(length_range_mm[0]), np.log(length_range_mm[1])
        length = float(np.exp(rng.uniform(lo, hi)))
        if c - last < min_gap_mm + length / 2:
            continue
        kind = str(rng.choice(list(kinds)))
        ratio = {"metal": (0.05, 0.3), "wood": (0.1, 0.5), "lump": (0.6, 1.0), "concrete": (0.5, 1.0)}.get(kind, (0.3, 1.0))
        width = max(10.0, length * float(rng.uniform(*ratio)))
        half = 0.5 * np.hypot(length, width)
        max_lat = belt_width_m * 500.0 - half - 50.0
        lateral = float(rng.uniform(-max_lat, max_lat)) if max_lat > 0 else 0.0
        out.append(SceneObject(kind, length, width, float(c), lateral, float(rng.uniform(0, 180)), int(rng.integers(1 << 31))))
        last = c + length / 2
    return out
