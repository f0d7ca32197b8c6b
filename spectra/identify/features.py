"""Diagnostic absorption features on an instrument grid, computed for many spectra at once.

Two continua, as in USGS Tetracorder / MICA (Clark et al. 2003, J. Geophys. Res. 108(E12):5131):

* a **local continuum per feature**: a straight line between the mean reflectance of two shoulder intervals either
  side of the band; the band depth is 1 − min(R / continuum) inside the band window, its position the wavelength
  of that minimum;
* the **upper convex hull** of the whole spectrum (on ~20 nm bins), for the continuum-removed shape that is fitted
  against the references. The hull is evaluated through its Legendre dual, ``hull(x) = min_s (s·x + max_i(y_i −
  s·x_i))`` over a fixed fan of slopes: one broadcast max and one min over all spectra, no loop per spectrum.

Shape, albedo and slope use the grid from :data:`SHAPE_FROM_NM` (780 nm) on. Features whose window or shoulders do not lie on the grid are left out of that grid's :class:`FeatureBank`
(a 900–1700 nm InGaAs sensor sees C–H at 1.21 and 1.40 µm but not the 1.73 µm band).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectra.grid import InstrumentGrid


@dataclass(frozen=True)
class DiagnosticFeature:
    """One absorption feature: ``key``, the chemistry it tells (``bond``), band window and shoulder intervals (nm)."""

    key: str
    bond: str
    window_nm: tuple[float, float]
    left_nm: tuple[float, float]
    right_nm: tuple[float, float]


#: The diagnostic features (positions from Clark et al. 1990 JGR 95:12653, Cloutis 1989 Science 245:165 for
#: hydrocarbons, Burns 1993 for Fe²⁺/Fe³⁺ crystal-field bands, Hunt 1977 Geophysics 42:501).
FEATURES: tuple[DiagnosticFeature, ...] = (
    DiagnosticFeature("Fe3+ 0.90", "Fe³⁺", (860.0, 960.0), (760.0, 800.0), (1150.0, 1250.0)),
    DiagnosticFeature("Fe2+ 1.05", "Fe²⁺", (980.0, 1150.0), (905.0, 935.0), (1450.0, 1550.0)),
    DiagnosticFeature("C-H 1.21", "C–H", (1185.0, 1232.0), (1150.0, 1168.0), (1245.0, 1262.0)),
    DiagnosticFeature("C-H 1.40", "C–H", (1380.0, 1425.0), (1290.0, 1320.0), (1520.0, 1560.0)),
    DiagnosticFeature("OH/H2O 1.45", "O–H/H₂O", (1395.0, 1500.0), (1290.0, 1320.0), (1560.0, 1620.0)),
    DiagnosticFeature("C-H 1.73", "C–H", (1690.0, 1738.0), (1640.0, 1665.0), (1741.0, 1760.0)),
    DiagnosticFeature("H2O 1.93", "H₂O", (1880.0, 2000.0), (1800.0, 1840.0), (2080.0, 2130.0)),
    DiagnosticFeature("Al-OH 2.20", "Al–OH", (2150.0, 2230.0), (2100.0, 2130.0), (2250.0, 2280.0)),
    DiagnosticFeature("Mg-OH/CO3 2.32", "Mg–OH/CO₃", (2290.0, 2360.0), (2240.0, 2270.0), (2380.0, 2420.0)),
)

#: Hull bins are about this wide (nm); slopes of the hull's Legendre fan (in units of the normalised axes).
HULL_BIN_NM = 20.0
#: The hull shape, albedo and slope use the grid from here on (nm): below, the colour of dyes and pigments varies
#: between samples of one material and tells nothing of it (the Fe³⁺ band is a feature of its own).
SHAPE_FROM_NM = 780.0
_HULL_SLOPES = np.tan(np.linspace(-1.5, 1.5, 33)).astype(np.float32)


def _span(wl: np.ndarray, lo_hi: tuple[float, float]) -> np.ndarray:
    return np.flatnonzero((wl >= lo_hi[0]) & (wl <= lo_hi[1]))


@dataclass(frozen=True, eq=False)
class FeatureBank:
    """The :data:`FEATURES` that fit on one grid, with their channel indices, and the hull bins of the grid."""

    grid_name: str
    wavelength_nm: np.ndarray
    features: tuple[DiagnosticFeature, ...]
    windows: tuple[np.ndarray, ...]
    lefts: tuple[np.ndarray, ...]
    rights: tuple[np.ndarray, ...]
    bin_matrix: np.ndarray  # (n_channels, n_bins) mean over each bin
    bin_nm: np.ndarray

    @classmethod
    def for_grid(cls, grid: InstrumentGrid) -> FeatureBank:
        wl = np.asarray(grid.wavelength_nm, float)
        feats, wins, lefts, rights = [], [], [], []
        for f in FEATURES:
            w, lft, rgt = _span(wl, f.window_nm), _span(wl, f.left_nm), _span(wl, f.right_nm)
            if w.size >= 2 and lft.size and rgt.size:
                feats.append(f)
                wins.append(w)
                lefts.append(lft)
                rights.append(rgt)
        lo = max(wl[0], SHAPE_FROM_NM) if wl[-1] - SHAPE_FROM_NM > 400.0 else wl[0]
        n_bins = max(8, round((wl[-1] - lo) / HULL_BIN_NM))
        edges = np.linspace(lo, wl[-1] + 1e-9, n_bins + 1)
        which = np.clip(np.searchsorted(edges, wl, side="right") - 1, 0, n_bins - 1)
        m = np.zeros((wl.size, n_bins))
        inside = np.flatnonzero(wl >= lo)
        m[inside, which[inside]] = 1.0
        keep = m.sum(axis=0) > 0
        m = m[:, keep] / m[:, keep].sum(axis=0)
        return cls(grid.name, wl, tuple(feats), tuple(wins), tuple(lefts), tuple(rights), m, wl @ m)

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.features]

    def band_depths(self, reflectance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local-continuum band depth (n, n_features) and band-minimum position (n, n_features) in nm."""
        r = np.asarray(reflectance, float)
        wl = self.wavelength_nm
        depth = np.zeros((r.shape[0], len(self.features)))
        pos = np.zeros_like(depth)
        for j, (w, lft, rgt) in enumerate(zip(self.windows, self.lefts, self.rights)):  # a handful of features
            yl, yr = r[:, lft].mean(axis=1), r[:, rgt].mean(axis=1)
            xl, xr = wl[lft].mean(), wl[rgt].mean()
            t = (wl[w] - xl) / (xr - xl)
            cont = yl[:, None] * (1.0 - t) + yr[:, None] * t
            ratio = r[:, w] / np.where(cont > 1e-6, cont, np.nan)
            k = np.nanargmin(np.where(np.isfinite(ratio), ratio, np.inf), axis=1)
            depth[:, j] = 1.0 - ratio[np.arange(r.shape[0]), k]
            pos[:, j] = wl[w][k]
        return np.nan_to_num(depth), pos

    def binned(self, reflectance: np.ndarray) -> np.ndarray:
        """Reflectance averaged over the hull bins (n, n_bins)."""
        return np.asarray(reflectance, float) @ self.bin_matrix

    def hull_removed(self, binned: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Binned reflectance divided by its upper convex hull (n, n_bins); 1 on the hull, < 1 in bands."""
        b = np.asarray(binned, np.float32)
        x = ((self.bin_nm - self.bin_nm[0]) / (self.bin_nm[-1] - self.bin_nm[0])).astype(np.float32)
        out = np.empty_like(b)
        s = _HULL_SLOPES
        sx = s[:, None] * x[None, :]  # (m, bins)
        for a in range(0, b.shape[0], chunk):
            y = b[a:a + chunk]
            scale = np.maximum(y.max(axis=1, keepdims=True), 1e-6)
            yn = y / scale
            offset = (yn[:, None, :] - sx[None]).max(axis=2)  # (n, m): support line per slope
            hull = (sx[None] + offset[:, :, None]).min(axis=1)  # (n, bins)
            out[a:a + chunk] = yn / np.maximum(hull, 1e-6)
        return np.minimum(out, 1.0)

    def albedo_slope(self, binned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ln of the mean reflectance and the relative slope (R_last-quarter − R_first-quarter) / mean (n,)."""
        b = np.asarray(binned, float)
        q = max(1, b.shape[1] // 4)
        mean = np.maximum(b.mean(axis=1), 1e-4)
        return np.log(mean), (b[:, -q:].mean(axis=1) - b[:, :q].mean(axis=1)) / mean
