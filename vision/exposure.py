"""Run-time exposure normalisation (issue 27, expo43): frames whose ore is brighter than the union was fitted on are
darkened back into the fit's range before detection; the model file is unchanged.

The shipped union was fitted on the renderer's exposure (the ore's median grey per 2,048-line frame at 4 mm/px in
the fit mix up to :data:`REF_GREY`); the real camera exposed the loaded ore at a median grey of 134 (clip42). A
digital gain ``g = min(1, REF_GREY / m)`` is applied to each frame, ``m`` the median grey (mean of R, G, B) of the
ore-coloured cells (:func:`vision.scene.ore_mask` on the detector's cell colours, as :mod:`vision.regime` takes them)
over the last :data:`STRETCH_M` of belt (a running stretch, so lighting knots do not pump it; one photo on its own for
a still photo). Darken only: a dark ore and an under-exposed camera cannot be told apart from grey alone. Clipped
pixels (255) become the gained 255 g: no highlight is invented. A frame whose gain is 1 is passed on unchanged (the
same array). No ore cells, an empty frame or a grey that is not finite: gain 1, with the reason.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from vision.features import block_means
from vision.frames import Frame
from vision.scene import ore_mask

#: Top of the fit's range: the 99th percentile of the per-frame ore median grey over the fit mix's scene types
#: (vision.scenes.FIT_MIX: realistic, today, dark ore) rendered from the fit split, 4 mm/px, 2,048-line frames, seeds 0
#: and 1, 1,000 m of each (984 frames: 1 % / 50 % / 99 % / max 37.0 / 83.8 / 100.4 / 106.2; docs/vision-experiments.md, "The
#: detector under the camera's real exposure").
REF_GREY = 100.4
#: Belt over which the ore's median grey is taken on a stream (m): tens of metres, many lighting knots (600 mm).
STRETCH_M = 30.0
#: Fewest ore-coloured cells a stretch (or a photo) needs before its median sets a gain.
MIN_ORE_CELLS = 64
#: Resolution of the running median (grey levels per histogram bin).
BIN_GREY = 0.25
_BINS = int(round(256 / BIN_GREY))


@dataclass(frozen=True)
class Gain:
    """A frame's digital gain ``gain`` (0 < gain <= 1), the ore median grey ``ore_grey`` it was set from (NaN: none)
    and, when the gain is 1 for want of a measurement, the ``reason`` (else "")."""

    gain: float
    ore_grey: float
    reason: str = ""


def ore_greys(image: np.ndarray, block: int) -> np.ndarray:
    """Grey (mean of R, G, B; 0..255) of the ore-coloured ``block`` x ``block`` cells of an (H, W, 3) image, 1-D
    float32 (empty for an empty image or one without ore). Raises ValueError for a shape that is not (H, W, 3)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    if block < 1:
        raise ValueError(f"expected block >= 1 px, got {block}")
    if image.shape[0] < block or image.shape[1] < block:
        return np.zeros(0, np.float32)
    cells = block_means(image, block)
    grey = cells.mean(axis=-1)
    return grey[ore_mask(cells) & np.isfinite(grey)]


def gain_for(ore_grey: float, n_ore: int, ref_grey: float = REF_GREY) -> Gain:
    """The gain that brings an ore median grey ``ore_grey`` (from ``n_ore`` ore cells) down to ``ref_grey``; 1 (with
    the reason) below it, without enough ore cells or for a grey that is not finite."""
    if n_ore < MIN_ORE_CELLS:
        return Gain(1.0, float("nan"), f"{n_ore} ore-coloured cells (needs {MIN_ORE_CELLS})")
    if not np.isfinite(ore_grey) or ore_grey <= 0:
        return Gain(1.0, float(ore_grey), f"ore median grey {ore_grey} not a positive number")
    return Gain(min(1.0, ref_grey / float(ore_grey)), float(ore_grey))


def photo_gain(image: np.ndarray, block: int, ref_grey: float = REF_GREY) -> Gain:
    """The gain of one still photo, from its own ore cells' median grey."""
    g = ore_greys(image, block)
    return gain_for(float(np.median(g)) if g.size else float("nan"), int(g.size), ref_grey)


def apply_gain(image: np.ndarray, gain: float) -> np.ndarray:
    """``image`` (uint8) times ``gain`` (0 < gain <= 1), rounded; the same array when ``gain`` is 1. Raises ValueError
    for a gain outside (0, 1]."""
    if not 0.0 < gain <= 1.0:
        raise ValueError(f"expected a darkening gain in (0, 1], got {gain}")
    if gain == 1.0:
        return image
    out = image.astype(np.float32)
    out *= np.float32(gain)
    np.rint(out, out=out)
    return out.astype(np.uint8)


class ExposureNorm:
    """The running exposure normalisation of one camera's stream: :meth:`apply` gains each frame by the ore median
    grey of the last ``stretch_m`` of belt (this frame included). ``block``: the detector's cell side (px)."""

    def __init__(self, block: int, *, ref_grey: float = REF_GREY, stretch_m: float = STRETCH_M) -> None:
        if block < 1 or not ref_grey > 0 or not stretch_m > 0:
            raise ValueError(f"expected block >= 1, ref_grey > 0 and stretch_m > 0, got {block}, {ref_grey}, {stretch_m}")
        self.block, self.ref_grey, self.stretch_m = int(block), float(ref_grey), float(stretch_m)
        self._hist: deque[tuple[float, np.ndarray]] = deque()  # (frame length m, histogram of its ore cells' grey)
        self._total = np.zeros(_BINS, np.int64)
        self._length_m = 0.0
        #: The last frame's gain (None before the first frame).
        self.last: Gain | None = None
        #: Frames seen and frames darkened (gain < 1).
        self.frames = 0
        self.gained = 0

    def _push(self, grey: np.ndarray, length_m: float) -> None:
        h = np.bincount(np.clip((grey / BIN_GREY).astype(np.int64), 0, _BINS - 1), minlength=_BINS)
        self._hist.append((length_m, h))
        self._total += h
        self._length_m += length_m
        while len(self._hist) > 1 and self._length_m - self._hist[0][0] >= self.stretch_m:
            old_m, old = self._hist.popleft()
            self._total -= old
            self._length_m -= old_m

    def gain(self, image: np.ndarray, length_m: float) -> Gain:
        """The gain of the next frame ``image`` (``length_m`` of belt), the stretch moved on by it."""
        self._push(ore_greys(image, self.block), length_m)
        n = int(self._total.sum())
        if n == 0:
            return gain_for(float("nan"), 0, self.ref_grey)
        k = int(np.searchsorted(np.cumsum(self._total), (n + 1) / 2.0))
        return gain_for((k + 0.5) * BIN_GREY, n, self.ref_grey)

    def apply(self, frame: Frame) -> Frame:
        """``frame`` with its image gained (the same frame when the gain is 1)."""
        g = self.gain(frame.image, frame.image.shape[0] * frame.mm_per_px / 1000.0)
        self.last = g
        self.frames += 1
        if g.gain >= 1.0:
            return frame
        self.gained += 1
        return replace(frame, image=apply_gain(frame.image, g.gain))


__all__ = ["BIN_GREY", "MIN_ORE_CELLS", "REF_GREY", "STRETCH_M", "ExposureNorm", "Gain", "apply_gain", "gain_for", "ore_greys",
           "photo_gain"]
