"""The pixel net: a small CNN that sees the 4 mm/px pixels, run beside the union (issue 27).

Unlike the dense net (:mod:`vision.densenet`, 8 mm cell features only), this network sees every pixel: an 8 x 8 px
stride-8 convolution of the raw frame (texture and edges inside each 32 mm output cell), scaled per output row by the
belt's grey (``gain``, from the detector's reference along the belt), beside the detector's own cell features (r, g,
lum, fine, coarse and the belt mask of :func:`vision.features.cell_features`, standardised inside the network); then
four 3 x 3 layers of 16 channels at dilations 1, 2, 4 and 8 (about half a metre of context) and a 1 x 1 layer to the
object log-odds per 32 mm output cell. Its inputs: ``px`` (1, H, W, 3) uint8 as the camera gives it, ``gain``
(1, 1, H / 8, 1) float32, ``cells`` (1, CELL_CHANNELS, H / 2, W / 2) float32 (:func:`pixel_inputs`). Built for
4 mm/px only. :class:`PixelNet` runs the ONNX bytes with onnxruntime on one thread; :class:`PixelStream` turns the
maps of a stream of frames into regions (connected output cells at or above the level, each decided once) for the
detector's ``Detector.pixelnet`` switch (off by default). Fitting: :mod:`vision.pixelnet_fit`; level:
:mod:`vision.pixelnet_level` (docs/vision.md, "Pixel net").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from vision.errors import FrameError, ModelError
from vision.features import FEATURES, CellFeatures
from vision.onnx_session import onnx_session

#: The only scale the net is built for.
MM_PER_PX = 4.0
#: Detector cell (px) whose features the net sees (8 mm).
BLOCK_PX = 2
#: Output cell (px a side): 32 mm.
OUT_PX = 8
#: Output cell in detector cells a side.
OUT_CELLS = OUT_PX // BLOCK_PX
#: Cell channels: the cell features (FEATURES) and the belt-column mask.
CELL_CHANNELS = len(FEATURES) + 1
#: Reach of the net's map (output cells) on either side: 8 x 8 stem, then 3 x 3 at dilations 1, 2, 4, 8 (1 + 2 + 4 + 8).
REACH_OUT = 15
#: Output columns (32 mm) along each edge of the belt the net reports nothing in: the ore spilt over the edge made
#: every false alarm of the first net (docs/vision-experiments.md, "Pixel net").
EDGE_OUT = 1
#: Version of the weights file's format (:meth:`PixelNet.load` refuses another).
FILE_VERSION = 1
#: The net the ``--pixelnet`` switch loads by default (:func:`shipped_pixelnet`).
PIXELNET_PATH = Path(__file__).with_name("pixelnet_4mm.npz")


@dataclass
class PixelInputs:
    """The net's three inputs (see the module) and the belt columns (w,) of detector cells."""

    px: np.ndarray
    gain: np.ndarray
    cells: np.ndarray
    belt_cols: np.ndarray


def pixel_inputs(image: np.ndarray, feats: CellFeatures) -> PixelInputs:
    """The net's inputs of an (H, W, 3) uint8 block and its detector cell features ``feats`` (cell_features at 2 px
    cells: (H / 2, W / 2)); rows and columns beyond whole output cells dropped. Raises FrameError for a bad image."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise FrameError(f"pixel net expects an (H, W, 3) uint8 frame, got shape {img.shape} {img.dtype}")
    h, w = feats.r.shape
    if img.shape[0] < h * BLOCK_PX or img.shape[1] < w * BLOCK_PX:
        raise FrameError(f"pixel net: image {img.shape[:2]} smaller than its cell features' {h} x {w} cells of {BLOCK_PX} px")
    ho, wo = h // OUT_CELLS, w // OUT_CELLS
    if ho == 0 or wo == 0:
        raise FrameError(f"pixel net needs at least {OUT_PX} x {OUT_PX} px, got {img.shape[:2]}")
    hc, wc = ho * OUT_CELLS, wo * OUT_CELLS
    cells = np.empty((1, CELL_CHANNELS, hc, wc), np.float32)
    for i, m in enumerate((feats.r, feats.g, feats.lum, feats.fine, feats.coarse)):
        cells[0, i] = m[:hc, :wc]
    cells[0, -1] = feats.belt_cols[None, :wc]
    # the belt's reference log grey per cell row: every column has lum = log grey - ref
    grey0 = (feats.rgb[:hc, 0].sum(axis=1) + 1.0) / 3.0
    ref = np.log(grey0) - feats.lum[:hc, 0]
    gain = np.exp(-ref.reshape(ho, OUT_CELLS).mean(axis=1)).astype(np.float32).reshape(1, 1, ho, 1)
    return PixelInputs(np.ascontiguousarray(img[None, : ho * OUT_PX, : wo * OUT_PX]), gain, cells, feats.belt_cols)


def check_inputs(px: np.ndarray, gain: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inputs as the network takes them (uint8, float32, float32, contiguous); ModelError naming what is wrong
    (shapes that do not agree, a non-finite or non-positive gain, a non-finite cell feature)."""
    p, g, c = np.asarray(px), np.asarray(gain), np.asarray(cells)
    if p.ndim != 4 or p.shape[0] != 1 or p.shape[3] != 3 or p.shape[1] % OUT_PX or p.shape[2] % OUT_PX or not p.shape[1] or not p.shape[2]:
        raise ModelError(f"pixel net expects px (1, H, W, 3) with H, W positive multiples of {OUT_PX}, got {p.shape}")
    if p.dtype != np.uint8:
        raise ModelError(f"pixel net expects px as uint8, got {p.dtype}")
    ho, wo = p.shape[1] // OUT_PX, p.shape[2] // OUT_PX
    if g.shape != (1, 1, ho, 1):
        raise ModelError(f"pixel net expects gain (1, 1, {ho}, 1) for px {p.shape}, got {g.shape}")
    if c.shape != (1, CELL_CHANNELS, ho * OUT_CELLS, wo * OUT_CELLS):
        raise ModelError(f"pixel net expects cells (1, {CELL_CHANNELS}, {ho * OUT_CELLS}, {wo * OUT_CELLS}) for px {p.shape}, got {c.shape}")
    g, c = np.ascontiguousarray(g, np.float32), np.ascontiguousarray(c, np.float32)
    if not (np.isfinite(g).all() and (g > 0).all()):
        raise ModelError(f"pixel net gain must be finite and positive, got {g[~(np.isfinite(g) & (g > 0))][:3]}")
    if not np.isfinite(c).all():
        bad = np.argwhere(~np.isfinite(c))[0]
        raise ModelError(f"pixel net cell input has a non-finite value at (n, channel, row, col) {tuple(int(i) for i in bad)}")
    return np.ascontiguousarray(p), g, c


class PixelNet:
    """The ONNX network (inputs ``px``, ``gain``, ``cells``; output ``logit`` (1, 1, H / 8, W / 8)) with its level
    (peak log-odds a region needs) and provenance, run by onnxruntime on one thread."""

    def __init__(self, onnx_bytes: bytes, level: float = float("inf"), provenance: str = "") -> None:
        self.onnx_bytes = bytes(onnx_bytes)
        self.level = float(level)
        self.provenance = provenance
        self._session: Any = None

    @property
    def digest(self) -> str:
        """First 12 hex digits of the ONNX bytes' SHA-256."""
        return hashlib.sha256(self.onnx_bytes).hexdigest()[:12]

    def logit_map(self, px: np.ndarray, gain: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Log-odds (H / 8, W / 8) float32 of one block's inputs (checked: :func:`check_inputs`)."""
        if self._session is None:
            self._session = onnx_session(self.onnx_bytes, "pixel net")
        p, g, c = check_inputs(px, gain, cells)
        return self._session.run(["logit"], {"px": p, "gain": g, "cells": c})[0][0, 0]

    def frame_map(self, inp: PixelInputs) -> np.ndarray:
        """Log-odds map (h, w) of output cells of ``inp``, the cells not wholly on the belt and the EDGE_OUT columns
        along its edges at -inf."""
        logit = self.logit_map(inp.px, inp.gain, inp.cells)
        on = inp.belt_cols[: logit.shape[1] * OUT_CELLS].reshape(-1, OUT_CELLS).all(axis=1)
        logit[:, ~ndi.binary_erosion(on, iterations=EDGE_OUT, border_value=0)] = -np.inf
        return logit

    def save(self, path: str | Path) -> None:
        """Write the net (bytes, level, provenance, FILE_VERSION) to an .npz file."""
        np.savez_compressed(path, onnx=np.frombuffer(self.onnx_bytes, np.uint8), level=np.float64(self.level),
                            provenance=np.str_(self.provenance), version=np.int64(FILE_VERSION), digest=np.str_(self.digest))

    @classmethod
    def load(cls, path: str | Path) -> "PixelNet":
        """The net stored by :meth:`save`; ModelError on a missing file, another FILE_VERSION or bytes that do not
        match the stored digest."""
        try:
            with np.load(path, allow_pickle=False) as z:
                version = int(z["version"]) if "version" in z else -1
                if version != FILE_VERSION:
                    raise ModelError(f"pixel net file {path} has format version {version}, this oreline reads {FILE_VERSION}: refit it (python -m vision.pixelnet_fit)")
                net = cls(z["onnx"].tobytes(), float(z["level"]), str(z["provenance"]))
                digest = str(z["digest"])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"cannot read the pixel net file {path}: {exc}") from exc
        if digest != net.digest:
            raise ModelError(f"pixel net file {path}: its network's digest {net.digest} is not the stored {digest}")
        return net


def shipped_pixelnet() -> PixelNet:
    """The pixel net of :data:`PIXELNET_PATH` (fitted and levelled on fit-split belt)."""
    return PixelNet.load(PIXELNET_PATH)


@dataclass
class PixelRegion:
    """One region of the net above its level: peak place (row, col in detector cells of its block), extent (mm), its
    peak log-odds ``score``, its first and last row (detector cells of its block)."""

    row: float
    col: float
    length_mm: float
    width_mm: float
    score: float
    first_row: int
    last_row: int
    load: float = float("nan")


def regions(logit: np.ndarray, level: float) -> list[PixelRegion]:
    """The 8-connected components of output cells at or above ``level`` of the (h, w) map ``logit``."""
    labels, n = ndi.label(logit >= level, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    idx = np.arange(1, n + 1)
    peaks = np.atleast_1d(ndi.maximum(logit, labels, idx))
    where = ndi.maximum_position(logit, labels, idx)
    out = []
    mm = OUT_PX * MM_PER_PX
    for pk, (r, c), sl in zip(peaks, where, ndi.find_objects(labels)):
        out.append(PixelRegion(row=(r + 0.5) * OUT_CELLS - 0.5, col=(c + 0.5) * OUT_CELLS - 0.5,
                               length_mm=(sl[0].stop - sl[0].start) * mm, width_mm=(sl[1].stop - sl[1].start) * mm, score=float(pk),
                               first_row=sl[0].start * OUT_CELLS, last_row=sl[0].stop * OUT_CELLS - 1))
    return out


class PixelStream:
    """The net's regions over a stream of blocks (pixels and the detector's cell features): each region decided once,
    in the block where it is complete (it ends ``guard`` cell rows before the block's end, or the stream is flushed),
    with ``carry`` rows of the block before as context. The map of the carried rows is kept where it is final (its
    output cells more than REACH_OUT output rows above the end of the rows seen): per block the net runs only from the
    first output row not final yet, with REACH_OUT output rows of input above it."""

    def __init__(self, net: PixelNet, level: float | None = None) -> None:
        self.net = net
        self.level = net.level if level is None else float(level)
        self.guard = (REACH_OUT + 1) * OUT_CELLS
        self.carry = 2 * self.guard
        self.reset()

    def reset(self) -> None:
        """Forget the carried rows (a gap in the belt)."""
        self._img: np.ndarray | None = None
        self._feats: CellFeatures | None = None
        self._map = np.zeros((0, 0), np.float32)  # log-odds of the carried rows' output cells
        self._final = 0  # leading rows of _map that are final
        self._start = 0
        self._decided = -1

    def push(self, image: np.ndarray, feats: CellFeatures, belt_cols: np.ndarray, start_row: int) -> list[tuple[PixelRegion, int]]:
        """(region, the belt row of its block's first row) of every region complete in the block: the carried rows
        and this block's pixels ``image`` (2 h, 2 w, 3) with its cell features ``feats`` (h, w) and the detector's belt
        columns ``belt_cols`` (w,) bool, whose first row is belt row ``start_row`` (detector cells); a block that does
        not follow the carried rows starts afresh."""
        feats = replace(feats, belt_cols=np.asarray(belt_cols, bool))
        if (self._img is not None and self._feats is not None and start_row == self._start + self._feats.r.shape[0]
                and self._img.shape[1] == image.shape[1]):
            img, feats, start_row = np.concatenate([self._img, image]), _join(self._feats, feats), self._start
        else:
            self.reset()
            img = image
        return self._decide(img, feats, start_row, final=False)

    def flush(self) -> list[tuple[PixelRegion, int]]:
        """The regions of the carried rows not decided yet (end of the stream), then :meth:`reset`."""
        out = [] if self._img is None or self._feats is None else self._decide(self._img, self._feats, self._start, final=True)
        self.reset()
        return out

    def _logit(self, img: np.ndarray, feats: CellFeatures) -> np.ndarray:
        """The map of the joined block: the carried final rows as kept, the net run from REACH_OUT rows above the
        first row not final."""
        final = min(self._final, feats.r.shape[0] // OUT_CELLS)
        if self._map.shape[1] != feats.r.shape[1] // OUT_CELLS:
            final = 0
        a = max(0, final - REACH_OUT)
        run = self.net.frame_map(pixel_inputs(img[a * OUT_PX :], _rows(feats, a * OUT_CELLS, copy=False)))
        return np.concatenate([self._map[:final], run[final - a :]]) if final else run

    def _decide(self, img: np.ndarray, feats: CellFeatures, start_row: int, final: bool) -> list[tuple[PixelRegion, int]]:
        h = feats.r.shape[0]
        end = h if final else h - self.guard
        found: list[PixelRegion] = []
        logit = np.zeros((0, 0), np.float32)
        if h >= OUT_CELLS:
            logit = self._logit(img, feats)
            found = regions(logit, self.level)
        out = [(r, start_row) for r in found if r.last_row < end and start_row + r.last_row >= self._decided]
        self._decided = max(self._decided, start_row + end)
        keep = max(0, h - self.guard - self.carry)
        keep -= keep % OUT_CELLS  # keep the output cells' grid
        if final:
            self.reset()
        else:
            k = keep // OUT_CELLS
            self._map, self._final = logit[k:], max(0, logit.shape[0] - REACH_OUT - k)
            self._img, self._feats, self._start = img[keep * BLOCK_PX :].copy(), _rows(feats, keep), start_row + keep
        return out


def _rows(f: CellFeatures, r0: int, copy: bool = True) -> CellFeatures:
    """``f``'s rows from ``r0``: copies (kept beyond the block), or views (``copy`` False: read at once)."""
    r, g, lum, fine, coarse, rgb = (getattr(f, k)[r0:] for k in ("r", "g", "lum", "fine", "coarse", "rgb"))
    if copy:
        r, g, lum, fine, coarse, rgb = (v.copy() for v in (r, g, lum, fine, coarse, rgb))
    return CellFeatures(r, g, lum, fine, coarse, rgb, f.belt_cols, f.last_ref)


def _join(a: CellFeatures, b: CellFeatures) -> CellFeatures:
    """``a``'s rows then ``b``'s, with ``b``'s belt columns and reference."""
    r, g, lum, fine, coarse, rgb = (np.concatenate([getattr(a, k), getattr(b, k)]) for k in ("r", "g", "lum", "fine", "coarse", "rgb"))
    return CellFeatures(r, g, lum, fine, coarse, rgb, b.belt_cols, b.last_ref)


__all__ = ["BLOCK_PX", "CELL_CHANNELS", "EDGE_OUT", "FILE_VERSION", "MM_PER_PX", "OUT_CELLS", "OUT_PX", "PIXELNET_PATH", "PixelInputs",
           "PixelNet", "PixelRegion", "PixelStream", "REACH_OUT", "check_inputs", "pixel_inputs", "regions", "shipped_pixelnet"]
