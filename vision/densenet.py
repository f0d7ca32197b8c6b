"""The dense learned detector: a small fully convolutional network that sees every cell of a frame (issue 27).

Unlike the patch verifier (:mod:`vision.patchnet`), which judges the feature detector's candidates, this network
looks at the whole frame and gives an object log-odds per output cell of OUT_CELLS x OUT_CELLS feature cells
(32 mm at 4 mm/px). Its input is the frame normalised as the detector normalises it (:func:`dense_inputs`: the
per-cell chromaticity, log grey against the belt's reference along the belt, in-cell and 3 x 3 contrast of
:func:`vision.features.cell_features`, and the belt-column mask); the network standardises them itself, so the ONNX
bytes are all a caller needs. :class:`DenseNet` runs them with onnxruntime on one thread; :func:`components` turns a
map into detections (connected cells above a base level, each with its peak log-odds).

Fitting needs torch (:mod:`vision.densenet_fit`); this module needs only numpy, scipy and onnxruntime. The shipped
4 mm/px model carries a net as candidate seeds (:class:`DenseSeeds`) with a second classifier judging beside its own
(:mod:`vision.union_fit`; docs/vision.md, "Dense learned detector" and "The union shipped: FIT_VERSION 18").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from vision.onnx_session import onnx_session
from vision.errors import FrameError, ModelError
from vision.features import FEATURES, cell_features
from vision.filters import window_max

#: Size (mm) of the feature cells the network sees (the 4 mm/px detector's 2 px cells).
CELL_MM = 8.0
#: Output cell: this many feature cells a side (32 mm at 4 mm/px).
OUT_CELLS = 4
#: Input channels: the cell features (FEATURES) and the belt-column mask.
IN_CHANNELS = len(FEATURES) + 1
#: Components are cells whose log-odds is at least this (p = 0.25); a component's score is its peak.
BASE_LOGIT = float(np.log(0.25 / 0.75))


def block_px(mm_per_px: float) -> int:
    """Feature cell size (px) at ``mm_per_px``: CELL_MM, at least one pixel."""
    return max(1, int(round(CELL_MM / mm_per_px)))


@dataclass
class DenseInputs:
    """Network input (1, IN_CHANNELS, h, w) float32 with h, w multiples of OUT_CELLS, the belt columns (w,) of
    cells, and the belt's last band reference (the next frame's ``ref_start``)."""

    x: np.ndarray
    belt_cols: np.ndarray
    last_ref: float


def dense_inputs(image: np.ndarray, mm_per_px: float, ref_start: float | None = None) -> DenseInputs:
    """The network's input for an (H, W, 3) uint8 frame (rows and columns beyond whole output cells dropped).
    Raises FrameError for another shape or dtype, or a frame smaller than one output cell."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise FrameError(f"dense detector expects an (H, W, 3) RGB frame, got shape {img.shape}")
    if img.dtype != np.uint8:
        raise FrameError(f"dense detector expects a uint8 frame, got {img.dtype}")
    b = block_px(mm_per_px)
    h = img.shape[0] // (b * OUT_CELLS) * OUT_CELLS
    w = img.shape[1] // (b * OUT_CELLS) * OUT_CELLS
    if h == 0 or w == 0:
        raise FrameError(f"dense detector needs at least {b * OUT_CELLS} x {b * OUT_CELLS} px, got {img.shape[:2]}")
    cf = cell_features(img[: h * b, : w * b], b, ref_start=ref_start)
    x = np.empty((1, IN_CHANNELS, h, w), np.float32)
    for i, m in enumerate((cf.r, cf.g, cf.lum, cf.fine, cf.coarse)):
        x[0, i] = m
    x[0, -1] = cf.belt_cols[None, :]
    return DenseInputs(x, cf.belt_cols, cf.last_ref)


def check_inputs(x: np.ndarray) -> np.ndarray:
    """``x`` as contiguous float32 (n, IN_CHANNELS, h, w) with h, w multiples of OUT_CELLS and every value finite.
    Raises ModelError naming what is wrong."""
    a = np.asarray(x)
    if a.ndim != 4 or a.shape[1] != IN_CHANNELS:
        raise ModelError(f"dense detector expects inputs (n, {IN_CHANNELS}, h, w) ({', '.join(FEATURES)}, belt), got shape {a.shape}")
    if a.shape[2] % OUT_CELLS or a.shape[3] % OUT_CELLS or not a.shape[2] or not a.shape[3]:
        raise ModelError(f"dense detector expects h and w multiples of {OUT_CELLS}, got {a.shape[2]} x {a.shape[3]}")
    a = np.ascontiguousarray(a, np.float32)
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ModelError(f"dense detector input has a non-finite value ({a[tuple(bad)]}) at (n, channel, row, col) {tuple(int(i) for i in bad)}")
    return a


class DenseNet:
    """Object log-odds maps from the ONNX network (input ``x`` (n, IN_CHANNELS, h, w), output ``logit``
    (n, 1, h / OUT_CELLS, w / OUT_CELLS)), run by onnxruntime on one thread."""

    def __init__(self, onnx_bytes: bytes) -> None:
        self.onnx_bytes = bytes(onnx_bytes)
        self._session: Any = None

    def run(self, x: np.ndarray) -> np.ndarray:
        """Log-odds (n, h / OUT_CELLS, w / OUT_CELLS) float32 of inputs ``x`` built by the caller as
        :func:`check_inputs` requires (unchecked: the detector's own cell features)."""
        if self._session is None:
            self._session = onnx_session(self.onnx_bytes, "dense detector")
        return self._session.run(["logit"], {"x": x})[0][:, 0]

    def logit_map(self, x: np.ndarray) -> np.ndarray:
        """Log-odds (n, h / OUT_CELLS, w / OUT_CELLS) float32 of inputs ``x`` (see :func:`check_inputs`)."""
        return self.run(check_inputs(x))

    def frame_map(self, image: np.ndarray, mm_per_px: float, ref_start: float | None = None) -> tuple[np.ndarray, DenseInputs]:
        """(log-odds map (h, w) of output cells, with the cells off the belt at -inf; the inputs) of one frame."""
        inp = dense_inputs(image, mm_per_px, ref_start)
        logit = self.logit_map(inp.x)[0]
        off = ~inp.belt_cols.reshape(-1, OUT_CELLS).all(axis=1)
        logit[:, off] = -np.inf
        return logit, inp


@dataclass
class DenseComponent:
    """A connected group of output cells at or above BASE_LOGIT: its peak log-odds, centre (row, col in output
    cells, peak-weighted by p) and extent (output cells along and across the belt)."""

    peak_logit: float
    row: float
    col: float
    rows: int
    cols: int


def components(logit: np.ndarray, base_logit: float = BASE_LOGIT) -> list[DenseComponent]:
    """The 8-connected components of the (h, w) log-odds map at or above ``base_logit``."""
    mask = logit >= base_logit
    labels, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    idx = np.arange(1, n + 1)
    peaks = ndi.maximum(logit, labels, idx)
    p = 1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50)))
    centres = ndi.center_of_mass(np.where(mask, p, 0.0), labels, idx)
    boxes = ndi.find_objects(labels)
    return [DenseComponent(float(pk), float(c[0]), float(c[1]), sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
            for pk, c, sl in zip(np.atleast_1d(peaks), centres, boxes)]




#: Reach (feature cells) of the network's receptive field on either side: two stride-2 3 x 3 layers, then 3 x 3
#: layers at dilations 1, 2, 4, 8 at stride 4 (1 + 2 + 4 + 4 * 2 * (1 + 2 + 4 + 8) = 127 cells wide).
REACH_CELLS = 64
#: The network's own regions keep this many cells (Chebyshev) from the features' regions: beyond the 2-cell ring of
#: ore around a component that its ring statistics read.
APART_CELLS = 4


class DenseSeeds:
    """The network as an extra candidate source of the feature detector (``Detector.dense_seeds``; None: off, as in
    every model fitted without it): cells where its log-odds is at least ``level`` seed the features' own regions
    they fall in, and those at least APART_CELLS cells from every such region are regions and seeds of their own
    (:meth:`apply`), so that a component the features make keeps its shape and its ring of ore (the classifier's view
    of it, :func:`vision.classify.component_features`); the components then go through the component features (with
    the net's peak log-odds over their cells, ``dense_max``) and the classifier as any other. The detector runs the
    net over its stream of blocks with :class:`vision.densenet_stream.DenseStream`."""

    def __init__(self, net: DenseNet, level: float = BASE_LOGIT, own_peak: bool = False) -> None:
        self.net = net
        self.level = float(level)
        #: The peak feature only on the net's own regions (:meth:`peak_map`): the features' components get the floor
        #: there, as without the net (a variant of the refit; docs/vision.md, "The dense net's candidates learned").
        self.own_peak = bool(own_peak)

    def guard_cells(self) -> int:
        """Rows at a block's end whose map still depends on rows not yet seen, rounded out to whole output cells."""
        return REACH_CELLS + 2 * OUT_CELLS

    def logit_cells(self, feats: np.ndarray, belt: np.ndarray) -> np.ndarray:
        """The net's log-odds (h, w) float32 at the resolution of the detector's cell features ``feats`` (h, w,
        len(FEATURES)) with belt mask ``belt`` (h, w), of this block alone (edge rows and columns padded to whole
        output cells)."""
        h, w = belt.shape
        ph, pw = -h % OUT_CELLS, -w % OUT_CELLS
        x = np.concatenate([np.asarray(feats, np.float32), np.asarray(belt, np.float32)[..., None]], axis=2)
        x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="edge").transpose(2, 0, 1)[None]
        logit = self.net.logit_map(x)[0]
        return np.repeat(np.repeat(logit, OUT_CELLS, axis=0), OUT_CELLS, axis=1)[:h, :w]

    def peak_map(self, logit: np.ndarray, own: np.ndarray | None) -> np.ndarray:
        """The map the component feature ``dense_max`` takes its maximum of: ``logit``, or with ``own_peak`` only its
        cells in the net's own regions ``own`` (:meth:`apply`; -inf elsewhere)."""
        if not self.own_peak:
            return logit
        return np.where(own, logit, -np.inf) if own is not None else np.full(logit.shape, -np.inf, np.float32)

    def apply(self, logit: np.ndarray, belt: np.ndarray, region: np.ndarray, seed: np.ndarray, *,
              seed_regions: bool = True) -> np.ndarray | None:
        """Add the network's cells (its log-odds ``logit`` (h, w) per cell at or above ``level`` on ``belt``) to the
        detector's ``region`` and ``seed`` masks (h, w) in place (see the class; ``seed_regions`` False: the net seeds
        none of the features' regions, only its own). Returns the net's own regions (h, w) bool, or None when it added
        none."""
        extra = (logit >= self.level) & belt
        if seed_regions:
            seed |= extra & region
        own = own_cells(extra, region)
        if own is not None:
            region |= own
            seed |= own
        return own


def own_cells(extra: np.ndarray, region: np.ndarray) -> np.ndarray | None:
    """The net's own regions (h, w) bool: its cells ``extra`` (h, w) bool that lie APART_CELLS or more from every
    cell of the features' ``region`` (h, w) bool (nearer, the features' region judges them); None when no cell of
    ``extra`` lies off ``region``."""
    rows, cols = np.divmod(np.flatnonzero(extra & ~region), region.shape[1])  # np.nonzero's, without its 2-D pass
    if not rows.size:
        return None
    m = APART_CELLS - 1  # the dilation's reach: only the region near the net's cells matters
    r0, r1 = max(0, int(rows.min()) - m), int(rows.max()) + m + 1
    c0, c1 = max(0, int(cols.min()) - m), int(cols.max()) + m + 1
    near = window_max(region[r0:r1, c0:c1], m)  # = ndi.binary_dilation(3 x 3, iterations=m)
    own = np.zeros(region.shape, bool)
    own[r0:r1, c0:c1] = extra[r0:r1, c0:c1] & ~near
    return own


__all__ = ["BASE_LOGIT", "CELL_MM", "DenseComponent", "DenseInputs", "DenseNet", "DenseSeeds", "IN_CHANNELS", "OUT_CELLS",
           "APART_CELLS", "REACH_CELLS", "block_px", "check_inputs", "components", "dense_inputs", "own_cells"]
