"""How well an ideal linear observer could see a rendered object against the ore's texture (issue 27).

One job: the detectability index d' of a known signal (the object's rendered effect on the image, RGB) against
stationary Gaussian clutter of a given cross-spectral density, the prewhitening (Hotelling) observer that knows the
object exactly (signal known exactly, SKE): d'^2 = sum_k S(k)^H P(k)^-1 S(k) / N^2 over the N x N DFT frequencies
k != 0, S the signal's DFT (grey levels), P the clutter's 3 x 3 cross-spectral density (grey levels^2 per cycle^2
per px^2, normalised so that white noise of variance sigma^2 has P = sigma^2 I). The window mean (k = 0) is left out:
the clutter estimate removes it, so the observer does not use the object's mean offset over its window. Under
Gaussian clutter no detector that knows less beats it: an upper bound for linear detection.

Then the search: an observer that must test ``n`` places of a belt for one false alarm in them sets its threshold
z with n Q(z) = 1, and finds an object of index d' with probability Phi(d' - z).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# scipy.signal and scipy.stats are imported inside the functions that use them (~0.4 s of start-up that every
# importer of the detector, `oreline config check` too, paid before).

#: Belt area (mm^2) in 1,000 m of a 1.8 m wide belt.
BELT_AREA_MM2_PER_1000_M = 1.8e3 * 1.0e6


def _check_image(name: str, a: np.ndarray, square: bool = False) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] != 3 or (square and a.shape[0] != a.shape[1]):
        shape = "(N, N, 3)" if square else "(rows, cols, 3)"
        raise ValueError(f"{name} must be {shape} RGB, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds {int(np.sum(~np.isfinite(a)))} NaN or infinite values")
    return a


def _check_psd(psd: np.ndarray, n: int) -> np.ndarray:
    if psd.shape != (n, n, 3, 3):
        raise ValueError(f"clutter PSD must be ({n}, {n}, 3, 3) for an {n} x {n} signal, got shape {psd.shape}")
    if not np.all(np.isfinite(psd)):
        raise ValueError("clutter PSD holds NaN or infinite values")
    return psd


def clutter_psd(images: Iterable[np.ndarray], window_px: int, step_px: int | None = None) -> tuple[np.ndarray, int]:
    """Welch estimate of the clutter's cross-spectral density from object-free ``images`` (each (rows, cols, 3),
    grey levels): ``window_px`` square windows every ``step_px`` (default half a window) in both directions, each
    channel's mean removed, a Hann taper. Returns (P, the number of windows): P (window_px, window_px, 3, 3)
    complex, in grey levels^2 per (cycle/px)^2, white noise of variance sigma^2 giving sigma^2 I."""
    if window_px < 8:
        raise ValueError(f"window_px must be >= 8, got {window_px}")
    step = step_px or window_px // 2
    taper1 = np.hanning(window_px + 2)[1:-1]
    taper = np.outer(taper1, taper1)[..., None]
    norm_w = float(np.sum(taper**2))
    acc = np.zeros((window_px, window_px, 3, 3), np.complex128)
    count = 0
    for i, img in enumerate(images):
        a = _check_image(f"clutter image {i}", img)
        if a.shape[0] < window_px or a.shape[1] < window_px:
            raise ValueError(f"clutter image {i} ({a.shape[0]} x {a.shape[1]} px) is smaller than the {window_px} px window")
        for r in range(0, a.shape[0] - window_px + 1, step):
            block = []
            for c in range(0, a.shape[1] - window_px + 1, step):
                w = a[r : r + window_px, c : c + window_px]
                block.append((w - w.mean(axis=(0, 1))) * taper)
            x = np.fft.fft2(np.stack(block), axes=(1, 2))  # (windows, N, N, 3)
            acc += np.einsum("wxyi,wxyj->xyij", x, np.conj(x))
            count += len(block)
    if count == 0:
        raise ValueError("no clutter window: no image given")
    return acc / (count * norm_w), count


def prewhitened(signal: np.ndarray, psd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S(k), P(k)^-1 S(k)) of an N x N x 3 ``signal`` (grey levels) against the clutter ``psd`` (N, N, 3, 3); both
    zero at k = 0 (the window mean is not used)."""
    s = _check_image("signal", signal, square=True)
    p = _check_psd(np.asarray(psd), s.shape[0])
    spec = np.fft.fft2(s, axes=(0, 1))
    spec[0, 0] = 0.0
    w = np.linalg.solve(p, spec[..., None])[..., 0]
    w[0, 0] = 0.0
    return spec, w


def dprime(signal: np.ndarray, psd: np.ndarray) -> float:
    """Detectability index d' (dimensionless) of the known ``signal`` (N, N, 3; grey levels, the object's image
    minus the same belt without it) against clutter of cross-spectral density ``psd`` (:func:`clutter_psd`, same N)."""
    spec, w = prewhitened(signal, psd)
    n = spec.shape[0]
    d2 = float(np.real(np.sum(np.conj(spec) * w))) / (n * n)
    return float(np.sqrt(max(d2, 0.0)))


def template(signal: np.ndarray, psd: np.ndarray) -> np.ndarray:
    """The ideal observer's spatial template w (N, N, 3): its response t = sum(w * x) to a window x has mean d'^2 on
    the signal alone and standard deviation d' on the Gaussian clutter of ``psd``."""
    _, w = prewhitened(signal, psd)
    return np.real(np.fft.ifft2(w, axes=(0, 1)))


def responses(image: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The template ``weights`` (h, w, 3) applied at every place where it lies wholly inside ``image`` (rows, cols,
    3): (rows - h + 1, cols - w + 1) responses."""
    a = _check_image("image", image)
    t = _check_image("template", weights)
    if t.shape[0] > a.shape[0] or t.shape[1] > a.shape[1]:
        raise ValueError(f"template {t.shape[:2]} is larger than the image {a.shape[:2]}")
    from scipy import signal as sps

    return sum(sps.correlate(a[..., c], t[..., c], mode="valid", method="fft") for c in range(3))


def search_positions(area_mm2: float, belt_area_mm2: float = BELT_AREA_MM2_PER_1000_M) -> float:
    """Places an object of ``area_mm2`` can take on ``belt_area_mm2`` of belt side by side (no orientations):
    the tests a searching observer makes per 1,000 m."""
    if not area_mm2 > 0:
        raise ValueError(f"object area must be > 0 mm^2, got {area_mm2}")
    return max(1.0, belt_area_mm2 / area_mm2)


def search_threshold(n_positions: float, false_alarms: float = 1.0) -> float:
    """Threshold z (in units of the clutter's response sigma) with ``n_positions`` x Q(z) = ``false_alarms``."""
    if not (n_positions >= 1 and false_alarms > 0):
        raise ValueError(f"expected n_positions >= 1 and false_alarms > 0, got {n_positions}, {false_alarms}")
    from scipy.stats import norm

    return float(norm.isf(min(false_alarms / n_positions, 0.5)))


def p_found(d: float | np.ndarray, z: float | np.ndarray) -> np.ndarray:
    """Probability Phi(d' - z) that the ideal observer's response to an object of index ``d`` exceeds ``z``."""
    from scipy.stats import norm

    return np.asarray(norm.cdf(np.asarray(d, float) - np.asarray(z, float)))


def colour_unknown(d: float, n_positions: float) -> float:
    """P(found) of an observer that knows the signal's spatial shape but not its colour: it fits the 3 channels'
    amplitudes (GLRT; prewhitened energy chi-square with 3 degrees of freedom under the clutter, non-central with
    d'^2 on the object) at the threshold for 1 false alarm in ``n_positions``."""
    from scipy.stats import chi2, ncx2

    return float(ncx2.sf(chi2.isf(min(1.0 / n_positions, 0.5), 3), 3, d * d))
