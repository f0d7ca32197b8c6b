"""A moving belt scene rendered from real ore-on-belt tiles, with foreign objects of known truth.

Rows run along the belt (row ``r`` shows belt position ``r * mm_per_px`` mm from the scene
origin), columns across it. The same row always renders the same pixels, so frames can be
cut anywhere. The belt (``belt_width_m`` wide, centred) is a feathered mosaic of tiles with
random flips and quarter turns (drawn from a counter-based hash of seed, tile row and column,
vectorised over a whole frame); beyond it lies the dark steel frame. Effects: slow lighting
drift along the belt, lateral vignetting, dust haze, motion blur, empty-belt stretches (tiles
with the ore painted out), and foreign objects pasted with their shadows.

Attribution of the images: :data:`vision.tiles.ATTRIBUTION` (CC BY 4.0, keep it with any output).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from vision.cache_io import default_cache_dir, replace_atomically
from vision.objects import KINDS, Sprite, render_sprite
from vision.objects import _textures
from vision.tiles import TARGET_MEDIAN_GREY, TileSet, clipped

#: Scene-level "lighting knots" spacing along the belt (mm): lighting and dust vary smoothly between knots.
KNOT_MM = 3000.0
DUST_RGB = np.array([175.0, 160.0, 135.0], dtype=np.float32)
FRAME_RGB = np.array([38.0, 38.0, 42.0], dtype=np.float32)
#: Share of the light an object's cast shadow takes from the ground (checked against real rock shadows, vision.realism).
SHADOW_DEPTH = 0.55
#: Tiles with at least this fraction of ore pixels show a loaded belt ("dense"), the others bare belt with ore dust.
DENSE_ORE_FRACTION = 0.45
#: A full burden (``burden="full"``) uses only tiles with at least this fraction of ore pixels (no belt showing);
#: with none, the densest quarter of the loaded tiles.
FULL_ORE_FRACTION = 0.8
#: The real belt edge (``edge="camera"``), measured on the CDM photos that show it (:func:`vision.realism.edge_checks`):
#: the ore stops EDGE_MARGIN_MM inside the belt's edge (median over the 16 sources whose photos show the edge, sd
#: EDGE_MARGIN_SD_MM between them), on a ragged boundary (value noise of sd EDGE_ROUGH_MM: with the whole rocks of
#: :func:`rock_keep` the boundary's std about its line over 200 mm is the real 6.5 mm; 9.5 before rim41); between lies bare belt at EDGE_BELT_GREY of the ore's grey; beyond the edge the camera sees
#: black (EDGE_OFF_BELT_GREY of the ore's grey) and no spilt ore.
EDGE_MARGIN_MM = 123.0
EDGE_MARGIN_SD_MM = 6.8
EDGE_ROUGH_MM = 6.0
EDGE_BELT_GREY = 0.38
EDGE_OFF_BELT_GREY = 0.021
#: Octaves of the boundary's raggedness: knot spacing (mm) and weight; the sum is scaled to EDGE_ROUGH_MM.
EDGE_OCTAVES = ((6.0, 0.5), (20.0, 1.0), (60.0, 0.8))
#: Spacing (mm) of the knots of the ore margin's slow change along the belt.
EDGE_KNOT_MM = 1000.0
#: The ore's boundary follows the rocks (rim41, :func:`rock_keep`): a rock is a core of the ore mask brighter than the
#: mean grey around it (gaussian, EDGE_ROCK_SIGMA_MM), eroded by EDGE_ROCK_ERODE_MM (touching rocks apart) and cut every
#: EDGE_ROCK_ROWS_MM along the belt (global rows: a frame padded by EDGE_PAD_MM renders alike wherever it is cut), with
#: the pixels within EDGE_ROCK_REACH_MM of it (nearest core); it stays whole where its centre lies inside
#: :meth:`BeltScene.margin_mm` and goes whole where not. Cores over EDGE_ROCK_MAX_MM (rocks run together; at pixels
#: over EDGE_ROCK_ERODE_MM nothing is eroded) and ore farther from every core (fines) follow margin_mm.
EDGE_ROCK_SIGMA_MM = 8.0
EDGE_ROCK_ERODE_MM = 2.0
EDGE_ROCK_ROWS_MM = 96.0
EDGE_ROCK_REACH_MM = 8.0
EDGE_ROCK_MAX_MM = 24.0
EDGE_PAD_MM = EDGE_ROCK_ROWS_MM + 4.0 * EDGE_ROCK_SIGMA_MM + 48.0
#: Ore-free tiles the bare belt strip is made of, cross-faded over a quarter of a tile along the belt.
EDGE_BARE_TILES = 32


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
    #: Share of the object covered by ore (0..0.8) and whether it is wet (realistic scenes).
    buried: float = 0.0
    wet: bool = False

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
    t = tiles.astype(np.float32)
    in_plane = np.zeros((3, 3, 3), bool)
    in_plane[1] = ndi.generate_binary_structure(2, 1)  # dilate within each tile, never across tiles
    mask = ndi.binary_dilation(ore_mask(t), structure=in_plane, iterations=2)
    w = (~mask).astype(np.float32)
    den = ndi.gaussian_filter(w, (0, 8, 8))
    fill = ndi.gaussian_filter(t * w[..., None], (0, 8, 8, 0)) / np.maximum(den, 1e-3)[..., None]
    belt = np.array([np.median(ti[~mi], axis=0) if (~mi).any() else np.array([60.0, 85.0, 45.0]) for ti, mi in zip(t, mask)],
                    dtype=np.float32).reshape(len(t), 1, 1, 3)
    fill = np.where((den < 0.05)[..., None], belt, fill)
    return np.clip(np.where(mask[..., None], fill, t), 0, 255).astype(np.uint8)


#: Tiles :func:`painted_out` keeps (uint8, about 120 kB each at 200 px): a fit builds banks of many subsets (folds) of
#: one tile set, and each tile is painted out once.
PAINTED_MAX_TILES = 2048
_painted: dict[bytes, np.ndarray] = {}


def painted_out(tiles: np.ndarray) -> np.ndarray:
    """:func:`paint_out_ore` of (N, S, S, 3) uint8 tiles, each tile computed once and kept by its bytes' digest (the
    painting never reaches across tiles, so a tile's result does not depend on the stack it came in)."""
    if not len(tiles):
        return paint_out_ore(tiles)
    keys = [hashlib.blake2b(t.tobytes(), digest_size=16).digest() + bytes(str(t.shape), "ascii") for t in tiles]
    missing = [i for i, k in enumerate(keys) if k not in _painted]
    if missing:
        for i, done in zip(missing, paint_out_ore(tiles[missing])):
            _painted[keys[i]] = done
    out = np.stack([_painted[k] for k in keys])
    while len(_painted) > PAINTED_MAX_TILES:
        del _painted[next(iter(_painted))]
    return out


#: Bump when :func:`paint_out_ore` changes what it paints: the stacks :func:`painted_out_cached` keeps on disk are keyed
#: by it (and by the tiles' bytes).
PAINT_VERSION = 1


def painted_out_cached(tiles: np.ndarray) -> np.ndarray:
    """:func:`painted_out` of a whole (N, S, S, 3) uint8 stack, kept on disk (``<cache>/vision/painted-<digest>.npy``,
    keyed by the stack's bytes and :data:`PAINT_VERSION`). Every line process renders the same tile set, and painting
    its sparse tiles out took seconds of each one's start-up; a missing, unreadable or mismatched file is recomputed
    (and rewritten when the cache folder is writable)."""
    digest = hashlib.blake2b(np.ascontiguousarray(tiles).data, digest_size=16)
    digest.update(f"{tiles.shape}{tiles.dtype}v{PAINT_VERSION}".encode("ascii"))
    path = default_cache_dir() / f"painted-{digest.hexdigest()}.npy"
    try:
        kept = np.load(path, allow_pickle=False)
        if kept.shape == tiles.shape and kept.dtype == np.uint8:
            return kept
    except (OSError, ValueError, EOFError):
        pass
    out = painted_out(tiles)
    try:
        replace_atomically(path, lambda tmp: np.save(tmp, out, allow_pickle=False))
    except OSError:  # a read-only cache: computed each time, as before
        pass
    return out


#: Working memory (bytes) for composing rows of tiles at once.
STRIP_CHUNK_BYTES = 8 << 20
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


@lru_cache(maxsize=4)
def _dense_rows(tiles: TileSet) -> tuple[np.ndarray, np.ndarray]:
    """(dense, sparse) bool (N,): which tiles show a loaded belt; a folder without both kinds uses every tile for both."""
    ore_fraction = ore_mask(tiles.tiles).mean(axis=(1, 2))
    dense = ore_fraction >= DENSE_ORE_FRACTION
    if dense.all() or not dense.any():  # a folder without both kinds: use every tile for both
        dense = np.ones(len(tiles), bool)
        return dense, dense
    return dense, ~dense


@lru_cache(maxsize=4)
def _split_tiles(tiles: TileSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dense, sparse, ore-free sparse) uint8 tile stacks of a tile set, shared by every scale."""
    dense, sparse = _dense_rows(tiles)
    return tiles.tiles[dense], tiles.tiles[sparse], painted_out_cached(tiles.tiles[sparse])


def _box(stack: np.ndarray, side: int) -> np.ndarray:
    """(N, S, S, 3) uint8 tiles box-resized to ``side`` px, float32."""
    if side == stack.shape[1]:
        return stack.astype(np.float32)
    return np.stack([np.asarray(Image.fromarray(t).resize((side, side), Image.Resampling.BOX)) for t in stack]).astype(np.float32)


def _box_float(stack: np.ndarray, side: int) -> np.ndarray:
    """(N, S, S, 3) float32 tiles box-averaged to ``side`` px (exact block means when ``side`` divides S)."""
    n, s = stack.shape[:2]
    if s % side == 0:
        k = s // side
        return stack.reshape(n, side, k, side, k, 3).mean(axis=(2, 4), dtype=np.float32)
    return np.stack([np.stack([np.asarray(Image.fromarray(t[..., c]).resize((side, side), Image.Resampling.BOX))
                               for c in range(3)], axis=-1) for t in stack]).astype(np.float32)


def with_plateaus(dense: np.ndarray, tiles: TileSet, side: int, grey: float) -> np.ndarray:
    """The loaded tiles ``dense`` (N, S, S, 3) uint8 of ``tiles`` with the camera's clipped plateaus
    (:func:`vision.tiles.clipped`: the raw photo's >= CLIPPED_LEVEL, found from the tiles' exposure gains) set to
    ``grey`` in their channel, box-averaged to ``side`` px: (N, side, side, 3) float32 (the tiles as they are when the
    gains are not known). Only the clipped channel is raised (the others keep the equalised exposure): a hue-keeping
    raise of the whole pixel clips green about twice as often as red where the camera clipped it 7 x less."""
    mask = clipped(tiles)
    if mask is None:
        return _box(dense, side)
    return _box_float(np.where(mask[_dense_rows(tiles)[0]], np.float32(grey), dense.astype(np.float32)), side)


def chroma_gains(stack: np.ndarray, spread: float) -> np.ndarray | None:
    """(N,) float32 chroma gain of each of (N, S, S, 3) uint8 tiles for :func:`equalise_chroma` (None: 1 for every
    tile). Raises ValueError when ``spread`` is not in [0, 1]."""
    if not 0.0 <= spread <= 1.0:
        raise ValueError(f"expected a chroma spread in [0, 1], got {spread}")
    if spread == 1.0 or len(stack) == 0:
        return None
    t = stack.astype(np.float32)
    grey = t.mean(axis=-1, keepdims=True)
    chroma = (t.max(axis=-1) - t.min(axis=-1)) / np.maximum(grey[..., 0], 1.0)
    ore = ore_mask(stack)
    med = np.array([np.median(c[m]) if m.mean() >= 0.05 else np.median(c) for c, m in zip(chroma, ore)], np.float32)
    centre = float(np.median(med))
    return (centre + spread * (med - centre)) / np.maximum(med, 1e-3)


def equalise_chroma(stack: np.ndarray, spread: float) -> np.ndarray:
    """(N, S, S, 3) uint8 tiles with each tile's chroma ((max - min) / mean grey of a pixel) scaled about the pixel's
    grey (kept) so that the tile's median chroma over its ore pixels (all pixels when under 5 % are ore) keeps only
    ``spread`` of its deviation from the median over the tiles (1: the photos as they are; 0: every tile alike).
    Raises ValueError when ``spread`` is not in [0, 1]."""
    gain = chroma_gains(stack, spread)
    if gain is None:
        return stack
    t = stack.astype(np.float32)
    grey = t.mean(axis=-1, keepdims=True)
    return np.clip(grey + gain[:, None, None, None] * (t - grey), 0, 255).astype(np.uint8)


#: Camera saturation (``camera_exposure``, clip42): a plateau's pixels are extrapolated from the mean colour of the
#: unclipped pixels within PLATEAU_RING_PX around it (the ring's channel ratios); a plateau without such a ring keeps
#: its level.
PLATEAU_RING_PX = 2
#: Sub-pixel values a scene pixel's response is averaged over (:meth:`BeltScene._saturate`).
SUB_PIXEL_POINTS = 5
#: Lowest ``camera_plateau`` (:func:`camera_response`): a clipped channel must still count as clipped (>= 254).
CLIP_PLATEAU_MIN = 254.0


def plateau_radiance(stack: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) float32 radiance of tiles ``stack`` (uint8) whose camera-clipped channels ``mask`` (bool, the
    same shape; :func:`vision.tiles.clipped`) are extrapolated above their plateau: each clipped channel c of a pixel
    is the mean over its unclipped channels u of the pixel's u times the ratio c / u of the plateau's ring (the
    unclipped pixels within PLATEAU_RING_PX of it), never below the plateau itself; a pixel clipped in every channel
    takes the largest such factor of its plateau's other pixels (its level where none)."""
    t = stack.astype(np.float32)
    if not mask.any():
        return t
    plane = np.zeros((3, 3, 3), bool)
    plane[1] = True  # within each tile, never across tiles
    hit = np.asarray(mask.any(axis=-1))
    grown = ndi.binary_dilation(hit, structure=plane, iterations=PLATEAU_RING_PX)
    lab, n = ndi.label(grown, structure=plane)
    ring = grown & ~hit
    sums = np.stack([np.bincount(lab[ring], t[..., c][ring], minlength=n + 1) for c in range(3)], axis=-1)  # (n+1, 3)
    ratio = sums[:, :, None] / np.maximum(sums[:, None, :], 1e-6)  # ratio[l, c, u] = ring c / ring u
    has_ring = np.asarray((sums > 0).all(axis=1))
    free = ~mask & hit[..., None]
    px = lab[hit]
    vals, free_px, clip_px = t[hit], free[hit], mask[hit]
    est = np.einsum("pu,pcu->pc", vals * free_px, ratio[px]) / np.maximum(free_px.sum(axis=1, keepdims=True), 1)
    est = np.where(has_ring[px, None] & free_px.any(axis=1, keepdims=True), est, vals)
    factor = np.where(clip_px, est / np.maximum(vals, 1.0), 1.0).max(axis=1)  # the pixel's own lift
    best = np.zeros(n + 1)
    np.maximum.at(best, px, factor)
    lone = np.asarray(clip_px.all(axis=1))
    est = np.where(lone[:, None], vals * np.maximum(best[px], 1.0)[:, None], est)
    out = t.copy()
    out[hit] = np.where(clip_px, np.maximum(est, vals), vals)
    return out


def shoulder(x: np.ndarray, knee: float, power: float = 2.0) -> np.ndarray:
    """The camera's response to radiance ``x`` (grey levels, any shape, float): linear up to ``knee``, then a shoulder
    255 - (255 - knee) (1 - u)^power over u = (x - knee) / (power (255 - knee)) in 0..1 (slope 1 to 0), 255 from u = 1
    on (``knee`` >= 255: a hard clip at 255)."""
    if knee >= 255.0:
        return np.minimum(x, 255.0)
    span = 255.0 - knee
    u = np.clip((x - knee) / (power * span), 0.0, 1.0)
    return np.where(x <= knee, x, 255.0 - span * (1.0 - u) ** power).astype(np.float32)


def white_level(knee: float, power: float = 2.0) -> float:
    """Radiance (grey levels) at which :func:`shoulder` reaches 255: the camera's white level, where its raw channels
    clip (255 for a linear curve, ``knee`` >= 255)."""
    return 255.0 if knee >= 255.0 else knee + power * (255.0 - knee)


def camera_response(v: np.ndarray, knee: float, power: float = 2.0, desaturation: float = 0.0,
                    plateau: float | np.ndarray = 255.0, white_balance: Sequence[float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """The camera's colour pipeline (cam47) on exposed radiance ``v`` (..., 3) float (grey levels, white-balanced):
    each channel clips at the white level W (:func:`white_level`: the raw clip, the white balance mapping every
    channel's to the tone curve's 255); a pixel whose channels overflow W by e in all (summed) is mixed by
    min(1, ``desaturation`` e / W) towards the sensor's white, equal raw channels, which the white balance's gains
    ``white_balance`` (R, G, B; relative to green's) put at W x gains / green's gain (the camera's highlight handling:
    clipped highlights go pale, not orange); then
    the tone curve (:func:`shoulder`, one for every channel) and the JPEG's clipped plateau: a channel at 255 reads
    ``plateau`` (a level or levels broadcast with ``v``; the encoder's ringing under the decoder's 255 clamp takes
    part of a clipped plateau's pixels to 254, :meth:`BeltScene._plateau`). (..., 3) float32; with ``desaturation`` 0 and ``plateau`` 255 the values of :func:`shoulder` per channel."""
    white = white_level(knee, power)
    raw = np.minimum(v, np.float32(white))
    if desaturation > 0:
        over = np.maximum(v - np.float32(white), 0.0).sum(axis=-1, keepdims=True)
        mix = np.minimum(np.float32(desaturation / white) * over, 1.0)
        gains = np.asarray(white_balance, np.float32)
        raw = raw + mix * (np.float32(white) * gains / gains[1] - raw)
    return np.minimum(shoulder(raw, knee, power), np.asarray(plateau, np.float32)).astype(np.float32)


def unshoulder(y: np.ndarray, knee: float, power: float = 2.0) -> np.ndarray:
    """The radiance whose :func:`shoulder` is ``y`` (< 255; 255 gives the shoulder's top)."""
    if knee >= 255.0:
        return y.astype(np.float32)
    span = 255.0 - knee
    v = np.clip((255.0 - y) / span, 0.0, 1.0)
    return np.where(y <= knee, y, knee + power * span * (1.0 - v ** (1.0 / power))).astype(np.float32)


def radiance_bank(tiles: TileSet, side: int, chroma_spread: float, knee: float = 255.0, power: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """(mean, deficit), each (N, side, side, 3) float32, of the loaded tiles of ``tiles`` as radiance: each raw photo's
    value taken back through the camera's :func:`shoulder` at ``knee`` and scaled by the tile's exposure gain, the
    camera's clipped plateaus extrapolated (:func:`plateau_radiance`; the tiles as they are when the gains are not
    known), the chroma equalised as :func:`equalise_chroma` does (same gains, no clip), box-averaged to ``side`` px;
    ``deficit`` is the mean less the least sub-pixel of each scene pixel per channel (0 where ``side`` does not divide
    the tile)."""
    dense = _split_tiles(tiles)[0]
    mask = clipped(tiles)
    rows = _dense_rows(tiles)[0]
    if mask is None or tiles.gain is None:
        rad = dense.astype(np.float32)
    else:
        g = tiles.gain[rows].astype(np.float32)[:, None, None, None]
        rad = plateau_radiance(g * unshoulder(np.minimum(dense / g, 254.0), knee, power), mask[rows])
    gain = chroma_gains(dense, chroma_spread)
    if gain is not None:
        grey = rad.mean(axis=-1, keepdims=True)
        rad = np.maximum(grey + gain[:, None, None, None] * (rad - grey), 0.0)
    mean = _box_float(rad, side)
    n, s = rad.shape[:2]
    if s % side or s == side:
        return mean, np.zeros_like(mean)
    k = s // side
    least = rad.reshape(n, side, k, side, k, 3).min(axis=(2, 4))
    return mean, np.maximum(mean - least, 0.0).astype(np.float32)


@lru_cache(maxsize=4)
def _full_ids(tiles: TileSet) -> np.ndarray:
    """Indices into the dense stack of :func:`_split_tiles` of the tiles a full burden is made of."""
    dense = _split_tiles(tiles)[0]
    f = ore_mask(dense).mean(axis=(1, 2))
    ids = np.flatnonzero(f >= FULL_ORE_FRACTION)
    return ids if ids.size else np.argsort(-f)[: max(1, len(f) // 4)]


@lru_cache(maxsize=8)
def _ore_rgb(tiles: TileSet) -> np.ndarray:
    px = tiles.tiles[:: max(1, len(tiles) // 64)].reshape(-1, 3)
    ore = ore_mask(px)
    return (px[ore] if ore.mean() > 0.05 else px).astype(np.float32).mean(axis=0)


class _TileBank:
    """Tiles (full and ore-free) resampled to the scene's pixel size, with feather weights."""

    def __init__(self, tiles: TileSet, mm_per_px: float, chroma_spread: float = 1.0, plateau_grey: float = 0.0,
                 camera: bool = False, knee: float = 255.0, power: float = 2.0) -> None:
        side = max(8, int(round(tiles.tiles.shape[1] / mm_per_px)))
        dense, sparse, empty = _split_tiles(tiles)
        deficit = None
        if camera:
            self.dense, deficit = radiance_bank(tiles, side, chroma_spread, knee, power)
        else:
            dense = equalise_chroma(dense, chroma_spread)
            self.dense = with_plateaus(dense, tiles, side, plateau_grey) if plateau_grey > 0 else _box(dense, side)
        self.sparse = _box(sparse, side)
        self.empty = _box(empty, side)
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
        self.n_dense, self.n_sparse = len(self.dense), len(self.sparse)
        # one bank indexed by tile id: dense 0..nd-1, sparse nd..nd+ns-1, ore-free nd+ns..
        stack = np.concatenate([self.dense, self.sparse, self.empty])
        del self.dense, self.sparse, self.empty
        # small tiles: keep all 8 orientations contiguous (a row of tiles is then one fancy-index gather)
        self.oriented = 8 * stack.nbytes * (1 if deficit is None else 2) <= ORIENTED_MAX_BYTES
        self.stack = _orientations(stack) if self.oriented else stack
        #: (camera saturation) each loaded tile's mean less its least sub-pixel (:func:`radiance_bank`), feathered
        #: alike; zero for the other tiles. None without ``camera``.
        self.deficit: np.ndarray | None = None
        if deficit is not None:
            d = np.zeros_like(stack)
            d[: len(deficit)] = deficit * self.weight
            self.deficit = _orientations(d) if self.oriented else d

    def gather(self, flips: np.ndarray, ids: np.ndarray, deficit: bool = False) -> np.ndarray:
        """Tiles ``ids`` (C,) in orientations ``flips`` (C,) (bits as in :func:`_orientations`): (C, S, S, 3) float32
        (of the deficit bank with ``deficit``)."""
        source = self.deficit if deficit and self.deficit is not None else self.stack
        if self.oriented:
            return source[flips, ids]
        out = np.empty((len(ids), self.side, self.side, 3), np.float32)
        for c, (f, i) in enumerate(zip(flips.tolist(), ids.tolist())):
            t = source[i]
            if f & 1:
                t = t[::-1]
            if f & 2:
                t = t[:, ::-1]
            if f & 4:
                t = t.transpose(1, 0, 2)
            out[c] = t
        return out


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _hash_uniform(seed: int, rows: np.ndarray, cols: np.ndarray, n_streams: int) -> np.ndarray:
    """Counter-based uniforms in [0, 1) on the grid ``rows`` x ``cols``: (n_streams, R, C) float64, a pure function of
    (seed, row, col, stream) (:func:`_hash_points` on the grid)."""
    return _hash_points(seed, rows[:, None], cols[None, :], n_streams)


def _hash_points(seed: int, rows: np.ndarray, cols: np.ndarray, n_streams: int) -> np.ndarray:
    """Counter-based uniforms in [0, 1) at points (``rows``, ``cols``) (integer arrays broadcast together to shape S):
    (n_streams, *S) float64, a pure function of (seed, row, col, stream)."""
    with np.errstate(over="ignore"):
        z = _mix64(np.full(1, seed, np.int64).astype(np.uint64))
        z = _mix64(z ^ rows.astype(np.uint64))
        z = _mix64(z ^ (cols.astype(np.uint64) * _GOLDEN))
        streams = np.arange(1, n_streams + 1, dtype=np.uint64).reshape((-1,) + (1,) * z.ndim) << np.uint64(40)
        z = _mix64(z[None] ^ streams)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


#: Seed offset of :meth:`BeltScene._plateau`'s draws (apart from the mosaic's, :func:`_hash_uniform`).
PLATEAU_STREAM = 0x5EED_C0DE


@lru_cache(maxsize=6)
def _bank(tiles: TileSet, mm_per_px: float, chroma_spread: float = 1.0, plateau_grey: float = 0.0, camera: bool = False,
          knee: float = 255.0, power: float = 2.0) -> _TileBank:
    return _TileBank(tiles, mm_per_px, chroma_spread, plateau_grey, camera, knee, power)


@lru_cache(maxsize=4)
def _bare_belt(tiles: TileSet, mm_per_px: float, width_px: int) -> np.ndarray:
    """A strip (R, <= width_px, 3) float32 of bare belt for ``edge="camera"``: up to EDGE_BARE_TILES ore-free tiles at
    the scene's pixel size, each scaled per channel to the tiles' median colour at EDGE_BELT_GREY of the tiles' median
    grey, stacked along the belt cross-faded over a quarter tile (cyclic: the strip repeats without a seam) and mirrored
    across to two tiles' width."""
    empty = _split_tiles(tiles)[2]
    empty = empty[:: max(1, len(empty) // EDGE_BARE_TILES)][:EDGE_BARE_TILES]
    side = max(8, int(round(tiles.tiles.shape[1] / mm_per_px)))
    stack = _box(empty, side)
    colour = np.median(stack.reshape(len(stack), -1, 3), axis=1)  # (N, 3)
    target = np.median(colour, axis=0)
    target *= EDGE_BELT_GREY * TARGET_MEDIAN_GREY / max(float(target.mean()), 1.0)
    stack *= (target / np.maximum(colour, 1.0)).astype(np.float32)[:, None, None, :]
    overlap = max(1, side // 4)
    pitch = side - overlap
    n_rows = len(stack) * pitch
    ramp = np.clip((np.arange(side, dtype=np.float32) + 0.5) / overlap, 0, 1)
    ramp = np.minimum(ramp, ramp[::-1])
    out = np.zeros((n_rows, side, 3), np.float32)
    weight = np.zeros(n_rows, np.float32)
    for i, tile in enumerate(stack):
        rows = (i * pitch + np.arange(side)) % n_rows
        out[rows] += ramp[:, None, None] * tile
        weight[rows] += ramp
    out /= np.maximum(weight, 1e-6)[:, None, None]
    return np.ascontiguousarray(np.concatenate([out, out[:, ::-1]], axis=1)[:, :width_px])


def _margin_bound_mm() -> float:
    """The largest value :meth:`BeltScene.margin_mm` can take (its value noise lies within +-sqrt(3) sd)."""
    norm = float(np.sqrt(sum(w * w for _, w in EDGE_OCTAVES)))
    return EDGE_MARGIN_MM + float(np.sqrt(3.0)) * (EDGE_MARGIN_SD_MM + EDGE_ROUGH_MM / norm * sum(w for _, w in EDGE_OCTAVES))


def rock_keep(rgb: np.ndarray, inside_px: np.ndarray, rows: np.ndarray, mm_per_px: float, reach_px: float) -> np.ndarray:
    """Which pixels of ``rgb`` (R, W, 3; column 0 at the belt's edge, rows ``rows`` of the scene) stay ore when the ore's
    boundary lies ``inside_px`` (R,) columns in from the edge and takes whole rocks: bool (R, W). Rocks: cores of the
    ore mask brighter than their surroundings (EDGE_ROCK_SIGMA_MM), eroded by EDGE_ROCK_ERODE_MM and cut every
    EDGE_ROCK_ROWS_MM of global rows, with the pixels within ``reach_px`` of them (nearest core); a rock stays where its
    centre lies inside the boundary. Other pixels stay where they lie inside it; belt pixels only there."""
    grey = rgb.mean(axis=-1)
    ore = ore_mask(rgb)
    core = ore & (grey > ndi.gaussian_filter(grey, EDGE_ROCK_SIGMA_MM / mm_per_px))
    core[(rows % max(2, int(round(EDGE_ROCK_ROWS_MM / mm_per_px)))) == 0] = False
    if int(EDGE_ROCK_ERODE_MM / mm_per_px) >= 1:
        core = ndi.binary_erosion(core, iterations=int(EDGE_ROCK_ERODE_MM / mm_per_px))
    lab, n = ndi.label(core)
    inside = (np.arange(rgb.shape[1]) + 0.5)[None, :] > inside_px[:, None]
    if n == 0:
        return inside
    flat = lab.ravel()
    count = np.bincount(flat, minlength=n + 1)[1:]
    rr, cc = np.indices(lab.shape)
    row_c = np.bincount(flat, rr.ravel(), minlength=n + 1)[1:] / count
    col_c = np.bincount(flat, cc.ravel(), minlength=n + 1)[1:] / count
    keep_rock = col_c + 0.5 > inside_px[np.clip(np.floor(row_c + 0.5).astype(np.int64), 0, len(rows) - 1)]  # floor: alike at any offset
    extent = np.array([max(r.stop - r.start, c.stop - c.start) for r, c in ndi.find_objects(lab)]) * mm_per_px
    rock = extent <= EDGE_ROCK_MAX_MM  # larger cores are rocks run together: they follow the boundary as fines do
    kept = core & np.concatenate([[False], rock & keep_rock])[lab]
    gone = core & np.concatenate([[False], rock & ~keep_rock])[lab]
    far = float(sum(lab.shape))
    d_kept = ndi.distance_transform_edt(~kept) if kept.any() else np.full(lab.shape, far)
    d_gone = ndi.distance_transform_edt(~gone) if gone.any() else np.full(lab.shape, far)
    near = np.minimum(d_kept, d_gone) <= reach_px
    return np.where(near, d_kept < d_gone, inside) & (ore | inside)


class BeltScene:
    """Renders rows of a belt carrying ore tiles and foreign objects.

    ``tiles``: a :class:`~vision.tiles.TileSet` (fit or held-out split, or any folder).
    ``width_px`` columns at ``mm_per_px``; the belt is ``belt_width_m`` wide and centred.
    ``lighting_variation`` is the relative amplitude of the slow lighting drift, ``dust_probability``
    the chance that a 3 m stretch carries a dust haze, ``motion_blur_px`` a box blur along the belt.
    ``empty_mm`` lists (start, end) belt-mm stretches with no material on the belt.

    Realism (defaults: today's scenes, on which the built-in model is fitted): ``burden="full"`` renders a full
    burden of ore (loaded tiles only; no bare-belt patches); ``surface="photo"`` gives objects photographed
    surfaces with relief shading, coated by the ore (a colour cast towards the ore's mean colour, 10..35 %, and a
    dust layer, 0..20 %, drawn per object); ``ore_gain`` (3,) scales the ore's colour (e.g. 0.45 for a dark ore).
    ``light_knot_mm``: spacing of the lighting knots (shorter: the light changes over less belt); ``shadow_depth``:
    share of the light a cast shadow takes; ``dust="ore"``: the haze has the ore's own chromaticity (fines of the
    cargo) instead of a neutral grey-beige; ``spillage_mm``: ore spilt over the belt edges onto the frame, a ragged
    band up to this wide (0: none); ``chroma_spread``: share of each loaded tile's deviation from the tiles' median
    chroma kept (:func:`equalise_chroma`; 1: the photos as they are), so that neighbouring tiles, drawn from unrelated
    photos, differ in colour as neighbouring stretches of one real belt do (:mod:`vision.realism`'s patch check).
    ``edge="camera"``: the belt's edge as the CDM photos show it (EDGE_MARGIN_MM and the constants beside it): the
    ore stops on a ragged boundary inside the edge, bare belt between, black beyond (``"frame"``: ore to the edge, the
    steel frame beyond). ``plateau_grey`` > 0: the camera's clipped plateaus of the loaded tiles
    (:func:`vision.tiles.clipped`) at this grey before the lighting, so they clip again (0: as the exposure
    equalisation scaled them, below 255). ``camera_exposure`` > 0: the real camera (:data:`vision.scenes.REAL_CAMERA`):
    the loaded tiles as radiance (:func:`radiance_bank`), exposed by it after the lighting, then the camera's response
    with ``camera_knee`` / ``camera_shoulder`` (the tone curve, :func:`shoulder`), ``camera_desaturation``,
    ``camera_plateau`` and ``camera_white_balance`` (:func:`camera_response`; desaturation 0 and plateau 255: the
    per-channel shoulder of clip42).
    :data:`vision.scenes.SCENE_TYPES` names the combinations used for fitting and evaluating.
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
        burden: str = "patchwork",
        surface: str = "rules",
        ore_gain: Sequence[float] = (1.0, 1.0, 1.0),
        light_knot_mm: float = KNOT_MM,
        shadow_depth: float = SHADOW_DEPTH,
        dust: str = "grey",
        spillage_mm: float = 0.0,
        chroma_spread: float = 1.0,
        edge: str = "frame",
        plateau_grey: float = 0.0,
        camera_exposure: float = 0.0,
        camera_knee: float = 255.0,
        camera_shoulder: float = 2.0,
        camera_desaturation: float = 0.0,
        camera_plateau: float = 255.0,
        camera_white_balance: Sequence[float] = (1.0, 1.0, 1.0),
    ) -> None:
        if burden not in ("patchwork", "full") or surface not in ("rules", "photo") or dust not in ("grey", "ore"):
            raise ValueError(f"expected burden 'patchwork'|'full', surface 'rules'|'photo' and dust 'grey'|'ore', got {burden!r}, {surface!r}, {dust!r}")
        if not (light_knot_mm > 0 and 0.0 <= shadow_depth < 1.0 and spillage_mm >= 0):
            raise ValueError(f"expected light_knot_mm > 0, 0 <= shadow_depth < 1, spillage_mm >= 0; got {light_knot_mm}, {shadow_depth}, {spillage_mm}")
        if edge not in ("frame", "camera") or not plateau_grey >= 0:
            raise ValueError(f"expected edge 'frame'|'camera' and plateau_grey >= 0, got {edge!r}, {plateau_grey}")
        self._set_camera(camera_exposure, camera_knee, camera_shoulder, camera_desaturation, camera_plateau, camera_white_balance)
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
        self.burden = burden
        self.surface = surface
        self.ore_gain = np.asarray(ore_gain, np.float32).reshape(3)
        self.light_knot_mm = float(light_knot_mm)
        self.shadow_depth = float(shadow_depth)
        self.spillage_px = int(round(spillage_mm / mm_per_px))
        belt_px = int(round(belt_width_m * 1000.0 / mm_per_px))
        self.belt_px = min(belt_px, self.width_px)
        self.belt_x0 = (self.width_px - self.belt_px) // 2
        if not 0.0 <= chroma_spread <= 1.0:
            raise ValueError(f"expected 0 <= chroma_spread <= 1, got {chroma_spread}")
        self.chroma_spread = float(chroma_spread)
        self.edge = edge
        self.plateau_grey = float(plateau_grey)
        on = self.camera_exposure > 0
        self._bank_key = (tiles, self.mm_per_px, self.chroma_spread, self.plateau_grey, on,
                          self.camera_knee if on else 255.0, self.camera_shoulder if on else 2.0)
        self._bank_built: _TileBank | None = None
        x = (np.arange(self.width_px, dtype=np.float32) - self.width_px / 2) / (self.width_px / 2)
        self._vignette = (1.0 - 0.08 * x**2).astype(np.float32)
        self._vignette3 = np.repeat(self._vignette, 3)
        self.dust_rgb = self._ore_dust_rgb() if dust == "ore" else DUST_RGB
        self._dust3 = np.tile(self.dust_rgb, self.width_px)
        self._sprites: dict[SceneObject, Sprite] = {}
        self._frame: np.ndarray | None = None
        self._buf: np.ndarray | None = None
        self._dbuf: np.ndarray | None = None
        self._knot_cache: dict[int, float] = {}
        self._light_cache: dict[int, tuple[float, float]] = {}

    def _set_camera(self, exposure: float, knee: float, power: float, desaturation: float, plateau: float,
                    white_balance: Sequence[float]) -> None:
        """Check and keep the camera's options (``camera_*``, :meth:`__init__`). Raises ValueError naming them."""
        if not (exposure >= 0 and 0 < knee <= 255 and power >= 1):
            raise ValueError(f"expected camera_exposure >= 0, 0 < camera_knee <= 255 and camera_shoulder >= 1, got "
                             f"{exposure}, {knee}, {power}")
        wb = np.asarray(white_balance, np.float64).ravel()
        if not (desaturation >= 0 and CLIP_PLATEAU_MIN <= plateau <= 255 and wb.shape == (3,) and (wb > 0).all()):
            raise ValueError(f"expected camera_desaturation >= 0, {CLIP_PLATEAU_MIN} <= camera_plateau <= 255 and three "
                             f"camera_white_balance gains > 0, got {desaturation}, {plateau}, {white_balance}")
        self.camera_exposure = float(exposure)
        self.camera_knee = float(knee)
        self.camera_shoulder = float(power)
        self.camera_desaturation = float(desaturation)
        self.camera_plateau = float(plateau)
        self.camera_white_balance = tuple(float(g) for g in wb)

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
        if self._buf is None or self._buf.shape[0] < r1 - r0:
            self._buf = np.empty((r1 - r0, self.width_px, 3), dtype=np.float32)
        img = self._buf[: r1 - r0]  # float32 working buffer, reused between frames
        self._frame_texture(img, r0)
        self._render_belt(img, r0, r1)
        if not np.all(self.ore_gain == 1.0):
            img[:, self.belt_x0 : self.belt_x0 + self.belt_px] *= self.ore_gain
        if self.spillage_px > 0:
            self._spill(img, r0)
        deficit = self._deficit(r0, r1)
        if self.edge == "camera":
            self._bare_margin(img, r0, deficit)
        for obj in objects:
            self._paste(img, r0, obj, deficit)
        self._lighting(img, r0, deficit)
        if pad:
            img = ndi.uniform_filter1d(img, size=int(round(self.motion_blur_px)), axis=0, mode="nearest")[pad:-pad]
            if deficit is not None:
                deficit = ndi.uniform_filter1d(deficit, size=int(round(self.motion_blur_px)), axis=0, mode="nearest")[pad:-pad]
        if deficit is not None:
            self._saturate(img, deficit, start_row)
        np.clip(img, 0, 255, out=img)
        out = np.empty(img.shape, np.uint8)
        np.copyto(out, img, casting="unsafe")
        return out

    def _deficit(self, r0: int, r1: int) -> np.ndarray | None:
        """(camera saturation) Rows ``r0 .. r1`` of the loaded tiles' sub-pixel deficit (:func:`radiance_bank`), composed
        as the belt is: (r1 - r0, width_px, 3) float32; None without ``camera_exposure``."""
        if self.camera_exposure <= 0:
            return None
        if self._dbuf is None or self._dbuf.shape[0] < r1 - r0:
            self._dbuf = np.empty((r1 - r0, self.width_px, 3), dtype=np.float32)
        d = self._dbuf[: r1 - r0]
        d[:] = 0.0
        self._render_belt(d, r0, r1, deficit=True)
        if not np.all(self.ore_gain == 1.0):
            d[:, self.belt_x0 : self.belt_x0 + self.belt_px] *= self.ore_gain
        return d

    def _saturate(self, img: np.ndarray, deficit: np.ndarray, start_row: int) -> None:
        """The camera's response (:func:`shoulder`, then 255; with ``camera_desaturation`` or ``camera_plateau``:
        :func:`camera_response`, pixel by pixel) of lit rows ``img`` whose pixels average sub-pixels (the tiles'
        pixels) from ``img - deficit`` (the least) up: each pixel is the mean response of SUB_PIXEL_POINTS values
        spread evenly from its least sub-pixel to that value's mirror about the pixel's mean, so it is 255 only where
        its least sub-pixel is (as a box-resized photo is); exact where no sub-pixel passes the knee (there the pixel
        is left as it is). ``start_row``: the scene row of ``img``'s first (the plateau's draws, :meth:`_plateau`)."""
        knee, power = self.camera_knee, self.camera_shoulder
        steps = np.linspace(-1.0, 1.0, SUB_PIXEL_POINTS, dtype=np.float32)
        if self.camera_desaturation > 0 or self.camera_plateau < 255:
            hot_px = (img + deficit > knee).any(axis=-1)
            if hot_px.any():
                mean, spread = img[hot_px], deficit[hot_px]
                rows, cols = np.nonzero(hot_px)
                plateau = self._plateau(start_row + rows, cols)
                img[hot_px] = np.mean([camera_response(mean + k * spread, knee, power, self.camera_desaturation, plateau,
                                                       self.camera_white_balance) for k in steps], axis=0)
            return
        hot = img + deficit > knee
        if not hot.any():
            return
        mean, spread = img[hot], deficit[hot]
        img[hot] = np.mean([shoulder(mean + k * spread, knee, power) for k in steps], axis=0)

    def _plateau(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(M, 3) float32 level a clipped channel of scene pixels (``rows``, ``cols``) reads (:func:`camera_response`):
        255, or 254 with a chance of 255 - ``camera_plateau`` drawn per pixel and channel from a counter-based hash of
        (seed, row, column), so that the mean is ``camera_plateau`` however frames are cut."""
        u = _hash_points(self.seed ^ PLATEAU_STREAM, rows, cols, 3).T
        return np.where(u < self.camera_plateau - 254.0, np.float32(255.0), np.float32(254.0))

    def _render_belt(self, img: np.ndarray, r0: int, r1: int, deficit: bool = False) -> None:
        """Add the feathered tile mosaic of rows ``r0 .. r1`` into the belt columns of ``img`` (zeroed first).

        Tile row ``k`` (top at ``k * pitch``) draws its tiles, orientations and lateral shift from a
        counter-based hash of (seed, k, column), so any row renders identically however frames are cut.
        Rows of tiles are gathered and composed into strips a chunk (STRIP_CHUNK_BYTES) at a time with
        vectorised copies and adds (no loop per tile); each strip is then added at its lateral shift.
        """
        bank = self._bank
        p, s, ov = bank.pitch, bank.side, bank.overlap
        x0, x1 = self.belt_x0, self.belt_x0 + self.belt_px
        belt = img[:, x0:x1]
        belt[:] = 0.0
        k_first = int(np.floor((r0 - s) / p)) + 1
        k_last = int(np.floor((r1 - 1) / p))
        if k_last < k_first:
            return
        n_cols = int(np.ceil((x1 - x0 + s) / p)) + 1
        ks = np.arange(k_first, k_last + 1, dtype=np.int64)
        js = np.arange(n_cols, dtype=np.int64)
        centre_mm = (ks * p + s / 2) * self.mm_per_px
        lateral = ((js * p - s // 2 + s / 2) / max(x1 - x0, 1)) * 2 - 1
        if self.burden == "full":
            loading = np.ones((len(ks), n_cols))
        else:
            loading = self._loadings(centre_mm)[:, None] * np.clip(1.25 - lateral**2, 0, 1)[None, :]
        empty = self._empty_rows(centre_mm)
        u = _hash_uniform(self.seed, ks, js, 5)  # (5, R, C)
        use_dense = (u[0] < loading) & ~empty[:, None]
        nd, ns = bank.n_dense, bank.n_sparse
        if self.burden == "full":
            full = _full_ids(self.tiles)
            pick = full[(u[1] * len(full)).astype(np.int64)]
        else:
            pick = (u[1] * nd).astype(np.int64)
        ids = np.where(use_dense, pick,
                       (u[2] * ns).astype(np.int64) + np.where(empty, nd + ns, nd)[:, None])
        flips = (u[3] * 8).astype(np.int64)
        shifts = (u[4][:, 0] * p).astype(np.int64)
        bw = x1 - x0
        per_row = n_cols * s * (s + (n_cols + 1) * p) * 3 * 4  # bytes of a row's tiles and strip
        chunk = max(1, STRIP_CHUNK_BYTES // per_row)
        for a in range(0, len(ks), chunk):
            b = min(len(ks), a + chunk)
            m = b - a
            tiles = bank.gather(flips[a:b].ravel(), ids[a:b].ravel(), deficit).reshape(m, n_cols, s, s, 3)
            # compose each tile row into a strip: tile j at strip columns j*p .. j*p+s (feathered overlaps add up)
            strips = np.empty((m, s, (n_cols + 1) * p, 3), np.float32)
            strips[:, :, : n_cols * p].reshape(m, s, n_cols, p, 3)[...] = tiles[:, :, :, :p].transpose(0, 2, 1, 3, 4)
            strips[:, :, n_cols * p :] = 0.0
            strips[:, :, p:].reshape(m, s, n_cols, p, 3)[:, :, :, :ov] += tiles[:, :, :, p:].transpose(0, 2, 1, 3, 4)
            for i in range(a, b):
                top = int(ks[i]) * p
                ya, yb = max(top, r0), min(top + s, r1)
                off = int(shifts[i]) + s // 2
                belt[ya - r0 : yb - r0] += strips[i - a, ya - top : yb - top, off : off + bw]

    def _spill(self, img: np.ndarray, r0: int) -> None:
        """Ore spilt over both belt edges: a ragged band (smooth random width 0..spillage_px per row, deterministic
        per row) of the belt's edge ore mirrored onto the frame."""
        n, w = img.shape[0], self.spillage_px
        rows = np.arange(r0, r0 + n, dtype=np.int64)
        for side in (0, 1):
            knots = _hash_uniform(self.seed + 97 * (side + 1), rows // 64, np.zeros(1, np.int64), 1)[0, :, 0]
            nxt = _hash_uniform(self.seed + 97 * (side + 1), rows // 64 + 1, np.zeros(1, np.int64), 1)[0, :, 0]
            f = (rows % 64) / 64.0
            width = (w * (knots * (1 - f) + nxt * f) ** 2).astype(np.int64)
            k = np.arange(w)
            mask = (k[None, :] < width[:, None])[..., None]
            if side == 0:
                x = self.belt_x0
                if x <= 0:
                    continue
                k = k[: min(w, x)]
                src, dst = img[:, x : x + len(k)], img[:, x - len(k) : x][:, ::-1]
            else:
                x = self.belt_x0 + self.belt_px
                k = k[: min(w, self.width_px - x)]
                src, dst = img[:, x - len(k) : x][:, ::-1], img[:, x : x + len(k)]
            m = mask[:, : len(k)]
            dst[...] = np.where(m, src, dst)

    def margin_mm(self, rows: np.ndarray, side: int) -> np.ndarray:
        """Width (mm) of bare belt between the belt's edge (``side`` 0: low columns, 1: high) and the ore's boundary at
        scene rows ``rows`` (``edge="camera"``): EDGE_MARGIN_MM, changing smoothly every EDGE_KNOT_MM by sd
        EDGE_MARGIN_SD_MM, plus the boundary's raggedness (EDGE_OCTAVES scaled to sd EDGE_ROUGH_MM)."""
        mm = rows.astype(np.float64) * self.mm_per_px
        zero = np.zeros(1, np.int64)

        def noise(spacing: float, stream: int) -> np.ndarray:  # unit-sd value noise, cosine-interpolated
            pos = mm / spacing
            k = np.floor(pos).astype(np.int64)
            u = _hash_uniform(self.seed + 7919 * (side + 1) + stream, np.concatenate([k, k + 1]), zero, 1)[0, :, 0]
            a, b = (u[: len(k)] - 0.5) * np.sqrt(12.0), (u[len(k) :] - 0.5) * np.sqrt(12.0)
            f = 0.5 - 0.5 * np.cos(np.pi * (pos - k))
            return a * (1 - f) + b * f

        rough = sum(w * noise(sp, i + 1) for i, (sp, w) in enumerate(EDGE_OCTAVES))
        norm = float(np.sqrt(sum(w * w for _, w in EDGE_OCTAVES)))
        return EDGE_MARGIN_MM + EDGE_MARGIN_SD_MM * noise(EDGE_KNOT_MM, 0) + EDGE_ROUGH_MM / norm * rough

    def _bare_margin(self, img: np.ndarray, r0: int, deficit: np.ndarray | None = None) -> None:
        """Bare belt from each belt edge in to the ore's ragged boundary (:meth:`margin_mm`), which takes whole rocks in
        or out (:func:`rock_keep`, on the belt padded by EDGE_PAD_MM above and below), feathered over 2 mm."""
        n = img.shape[0]
        pad = int(np.ceil(EDGE_PAD_MM / self.mm_per_px))
        rows = np.arange(r0 - pad, r0 + n + pad, dtype=np.int64)
        above, below = self._belt_rows(r0 - pad, r0), self._belt_rows(r0 + n, r0 + n + pad)
        strip = _bare_belt(self.tiles, self.mm_per_px, self.belt_px // 2)
        feather = max(1.0, 2.0 / self.mm_per_px)
        reach_px = EDGE_ROCK_REACH_MM / self.mm_per_px
        reach = int(np.ceil((_margin_bound_mm() + 40.0 + 4.0 * EDGE_ROCK_SIGMA_MM) / self.mm_per_px + feather))  # rows alike
        for side in (0, 1):
            d = self.margin_mm(rows, side) / self.mm_per_px
            w = min(strip.shape[1], reach)
            x = self.belt_x0 if side == 0 else self.belt_x0 + self.belt_px
            cols = slice(x, x + w) if side == 0 else slice(x - 1, x - w - 1 if x - w - 1 >= 0 else None, -1)
            rgb = np.concatenate([above[:, cols], img[:, cols], below[:, cols]])
            keep = rock_keep(rgb, d, rows, self.mm_per_px, reach_px)
            a = np.clip(ndi.uniform_filter((~keep).astype(np.float32), int(round(feather)) | 1)[pad : pad + n], 0, 1)[..., None]
            tex = strip[(rows[pad : pad + n] + side * (strip.shape[0] // 2)) % strip.shape[0], :w]
            region = img[:, cols]
            region *= 1.0 - a
            region += a * tex
            if deficit is not None:
                deficit[:, cols] *= 1.0 - a

    def _belt_rows(self, r0: int, r1: int) -> np.ndarray:
        """The belt mosaic of rows ``r0 .. r1`` (before lighting): (r1 - r0, width_px, 3) float32."""
        out = np.zeros((max(0, r1 - r0), self.width_px, 3), np.float32)
        if len(out):
            self._render_belt(out, r0, r1)
            if not np.all(self.ore_gain == 1.0):
                out[:, self.belt_x0 : self.belt_x0 + self.belt_px] *= self.ore_gain
        return out

    @property
    def _bank(self) -> _TileBank:
        """The scene's tile bank, built on first use (a scene asked only for its haze colour or options builds none:
        the realism checks' dust check)."""
        if self._bank_built is None:
            self._bank_built = _bank(*self._bank_key)
        return self._bank_built

    def _ore_dust_rgb(self) -> np.ndarray:
        """Haze of the cargo's own fines: the ore's mean chromaticity at DUST_RGB's brightness."""
        ore = self.ore_rgb()
        return (ore / max(float(ore.sum()), 1.0) * float(DUST_RGB.sum())).astype(np.float32)

    def _empty_rows(self, belt_mm: np.ndarray) -> np.ndarray:
        """Whether each belt position (mm) lies in an empty-belt stretch: (R,) → bool (R,)."""
        if not self.empty_mm:
            return np.zeros(belt_mm.shape, bool)
        e = np.asarray(self.empty_mm, dtype=np.float64)
        return np.asarray(((e[None, :, 0] <= belt_mm[:, None]) & (belt_mm[:, None] < e[None, :, 1])).any(axis=1))

    def _loadings(self, belt_mm: np.ndarray) -> np.ndarray:
        """Share of loaded-belt tiles at the belt centre (0.35..1) at belt positions (mm), varying smoothly every KNOT_MM."""
        pos = belt_mm / KNOT_MM
        k = np.floor(pos).astype(np.int64)
        kk = np.arange(int(k.min()), int(k.max()) + 2)
        vals = np.array([self._knot_value(int(x)) for x in kk])
        f = 0.5 - 0.5 * np.cos(np.pi * (pos - k))
        return vals[k - kk[0]] * (1 - f) + vals[k - kk[0] + 1] * f

    def _frame_texture(self, img: np.ndarray, r0: int) -> None:
        """Fill the steel frame beyond the belt (a gravel-textured dark grey, periodic along the belt)."""
        if self.belt_x0 <= 0:
            return
        if self._frame is None:
            gravel = _textures()[0]
            n = gravel.shape[0]
            cols = np.r_[0 : self.belt_x0, self.belt_x0 + self.belt_px : self.width_px] % n
            rgb = FRAME_RGB if self.edge == "frame" else np.full(3, EDGE_OFF_BELT_GREY * TARGET_MEDIAN_GREY, np.float32)
            self._frame = (rgb[None, None, :] * (1.0 + 0.15 * gravel[:, cols])[..., None]).astype(np.float32)
        n = self._frame.shape[0]
        nl, x1 = self.belt_x0, self.belt_x0 + self.belt_px
        pos, start = 0, r0 % n
        while pos < img.shape[0]:  # the texture repeats every n rows: copy it in slices, no gathered copy
            k = min(img.shape[0] - pos, n - start)
            img[pos : pos + k, :nl] = self._frame[start : start + k, :nl]
            img[pos : pos + k, x1:] = self._frame[start : start + k, nl:]
            pos, start = pos + k, 0

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

    def _lighting(self, img: np.ndarray, r0: int, deficit: np.ndarray | None = None) -> None:
        """Lighting drift, vignette and dust haze of rows ``img`` from scene row ``r0`` (and ``camera_exposure``: the
        camera's exposure, on ``deficit`` too, without the haze)."""
        mm = (np.arange(r0, r0 + img.shape[0], dtype=np.float64)) * self.mm_per_px
        pos = mm / self.light_knot_mm
        k0 = np.floor(pos).astype(np.int64)
        kk = np.arange(k0.min(), k0.max() + 2)
        gain_k, dust_k = self._knots(kk)
        frac = (pos - k0).astype(np.float32)
        idx = k0 - kk[0]
        smooth = 0.5 - 0.5 * np.cos(np.pi * frac)
        gain = gain_k[idx] * (1 - smooth) + gain_k[idx + 1] * smooth
        dust = dust_k[idx] * (1 - smooth) + dust_k[idx + 1] * smooth
        flat = img.reshape(img.shape[0], -1)  # (rows, width * 3): broadcasts run along whole rows
        flat *= self._vignette3[None, :]
        scale = gain * (1 - dust)
        if deficit is not None:
            dust = dust * self.camera_exposure
            scale = scale * self.camera_exposure
            d = deficit.reshape(deficit.shape[0], -1)
            d *= self._vignette3[None, :]
            d *= scale.astype(np.float32)[:, None]
        flat *= scale.astype(np.float32)[:, None]
        if dust.any():
            flat += dust.astype(np.float32)[:, None] * self._dust3[None, :]

    def sprite(self, obj: SceneObject) -> Sprite:
        """The rendered sprite of ``obj`` (cached)."""
        sp = self._sprites.get(obj)
        if sp is None:
            if len(self._sprites) > 64:
                self._sprites.clear()
            extra: dict[str, Any] = {}
            if self.surface == "photo":
                cast, dust = self.coating(obj)
                extra = dict(surface="photo", ore_rgb=self.ore_rgb(), cast=cast, dust=dust)
            sp = render_sprite(obj.kind, obj.length_mm, obj.width_mm, obj.angle_deg, self.mm_per_px, obj.seed,
                               buried=obj.buried, wet=obj.wet, **extra)
            self._sprites[obj] = sp
        return sp

    def use_sprite(self, obj: SceneObject, sprite: Sprite) -> None:
        """Render ``sprite`` wherever ``obj`` is pasted from now on (measurements of an object with another surface,
        e.g. ``benchmarks/bench_vision_detectability.py``'s flat sprites). It stays until the sprite cache is next cleared."""
        self._sprites[obj] = sprite

    def coating(self, obj: SceneObject) -> tuple[float, float]:
        """(colour cast towards the ore, 0.1..0.35; ore-dust layer, 0..0.2) that coat ``obj`` on a scene of
        photographed surfaces, drawn from the object's seed; (0, 0) on rule-drawn scenes."""
        if self.surface != "photo":
            return 0.0, 0.0
        u = np.random.default_rng([obj.seed, 31]).uniform(size=2)
        return 0.1 + 0.25 * u[0], 0.2 * u[1]  # numpy scalars: the sprite arithmetic promotes as it always did

    def ore_rgb(self) -> np.ndarray:
        """Mean colour (3,) float32 of the ore on this belt: the tiles' ore pixels (all pixels when none look like
        the reddish ore), times ``ore_gain``."""
        return _ore_rgb(self.tiles) * self.ore_gain

    def object_cover(self, start_row: int, n_rows: int, objects: Sequence[SceneObject]) -> np.ndarray:
        """Share (n_rows, width_px) float32 of each pixel of rows ``start_row .. start_row + n_rows`` that the
        ``objects`` cover (their sprites' alpha, as :meth:`render` pastes them): the truth mask of a rendered frame."""
        out = np.zeros((n_rows, self.width_px), np.float32)
        for obj in objects:
            place = self._placement(start_row, n_rows, obj)
            if place is not None:
                (ya, yb, xa, xb), sl, sp = place
                np.maximum(out[ya - start_row : yb - start_row, xa:xb], sp.alpha[sl], out=out[ya - start_row : yb - start_row, xa:xb])
        return out

    def _placement(self, r0: int, n_rows: int, obj: SceneObject) -> tuple[tuple[int, int, int, int], tuple[slice, slice], Sprite] | None:
        """Where ``obj``'s sprite lands in rows ``r0 .. r0 + n_rows``: image bounds (ya, yb, xa, xb), the sprite's
        slices and the sprite; None when it is outside."""
        sp = self.sprite(obj)
        h, w = sp.alpha.shape
        top = int(round(obj.belt_mm / self.mm_per_px - sp.centre_px[0]))
        left = int(round(self.col_of_lateral(obj.lateral_mm) - sp.centre_px[1]))
        ya, yb = max(top, r0), min(top + h, r0 + n_rows)
        xa, xb = max(left, 0), min(left + w, self.width_px)
        if ya >= yb or xa >= xb:
            return None
        return (ya, yb, xa, xb), (slice(ya - top, yb - top), slice(xa - left, xb - left)), sp

    def _paste(self, img: np.ndarray, r0: int, obj: SceneObject, deficit: np.ndarray | None = None) -> None:
        place = self._placement(r0, img.shape[0], obj)
        if place is None:
            return
        (ya, yb, xa, xb), sl, sp = place
        region = img[ya - r0 : yb - r0, xa:xb]
        a = sp.alpha[sl][..., None]
        region *= 1.0 - self.shadow_depth * sp.shadow[sl][..., None]
        region *= 1.0 - a
        region += a * sp.rgb[sl]
        if deficit is not None:  # the object's own pixels have no sub-pixel deficit
            deficit[ya - r0 : yb - r0, xa:xb] *= (1.0 - self.shadow_depth * sp.shadow[sl][..., None]) * (1.0 - a)


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
    buried_max: float = 0.0,
    wet_share: float = 0.0,
) -> list[SceneObject]:
    """Objects scattered over ``[start_mm, start_mm + length_mm)`` of belt, ``per_m`` per metre on average,
    kept at least ``min_gap_mm`` + half their length apart along the belt and inside the belt. Lengths are log-uniform in ``length_range_mm``.
    Each object is buried by a share uniform in [0, ``buried_max``]; ``wet_share`` of the wood is wet (drawn from
    the object's own seed, so the objects' kinds, sizes and places do not change with these)."""
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
        obj = SceneObject(kind, length, width, float(c), lateral, float(rng.uniform(0, 180)), int(rng.integers(1 << 31)))
        if buried_max > 0 or wet_share > 0:
            u = np.random.default_rng([obj.seed, 53]).uniform(size=2)
            obj = replace(obj, buried=float(buried_max * u[0]), wet=bool(kind == "wood" and u[1] < wet_share))
        out.append(obj)
        last = c + length / 2
    return out
