"""Spectra from instruments with two detectors, joined at a splice: a repeated wavelength, or an overlap.

A two-detector spectrometer (e.g. a Si + InGaAs pair) exports the first detector's channels, then the second's.
Where they meet the same wavelength may appear twice (``992.7`` nm on both), or the second detector may start
below the first one's last channel (an overlap). :func:`join_detectors` averages the two detectors over the
overlap — each detector's reading where only it sees — and returns a note saying what was done, for the user.
Only one splice is accepted; anything else out of order is refused with the data row.
"""

from __future__ import annotations

import numpy as np

from spectra.errors import SpectrumFormatError


def _average_repeats(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Runs of equal adjacent wavelengths → one channel holding the mean of the finite readings."""
    starts = np.concatenate([[True], np.diff(x) != 0])
    group = np.cumsum(starts) - 1
    n = int(group[-1]) + 1
    finite = np.isfinite(y)
    total = np.bincount(group, weights=np.where(finite, y, 0.0), minlength=n)
    count = np.bincount(group, weights=finite.astype(float), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
    repeated = [float(v) for v in x[starts][np.bincount(group, minlength=n) > 1]]
    return x[starts], mean, repeated


def _average_overlap(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Detector 1 = rows [:k], detector 2 = rows [k:] starting below detector 1's end: average over the overlap."""
    x1, y1, x2, y2 = x[:k], y[:k], x[k:], y[k:]
    lo, hi = x2[0], x1[-1]
    in1, in2 = x1 >= lo, x2 <= hi
    y1 = y1.copy()
    other = np.interp(x1[in1], x2, y2)
    both = np.isfinite(other) & np.isfinite(y1[in1])
    y1[in1] = np.where(both, 0.5 * (y1[in1] + other), np.where(np.isfinite(y1[in1]), y1[in1], other))
    note = (f"detector splice: the two detectors overlap at {lo:g}–{hi:g} nm ({int(in1.sum())} + {int(in2.sum())} "
            f"channels); averaged onto the first detector's channels")
    return np.concatenate([x1, x2[~in2]]), np.concatenate([y1, y2[~in2]]), note


def join_detectors(x_nm: np.ndarray, y: np.ndarray, where: str,
                   rows: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Ascending wavelengths with at most one value each, and notes of any splice handled.

    ``x_nm`` ascending or descending, with at most one step backwards (the second detector's start) and
    repeated values. ``rows`` (the file line of each value) names the line in errors. Raises
    :class:`SpectrumFormatError` for more than one step backwards.
    """
    x = np.asarray(x_nm, float)
    y = np.asarray(y, float)
    line = list(rows) if rows is not None else list(range(1, x.size + 1))
    if x[0] > x[-1]:
        x, y, line = x[::-1], y[::-1], line[::-1]
    notes: list[str] = []
    back = np.nonzero(np.diff(x) < 0)[0]
    if back.size > 1:
        raise SpectrumFormatError(
            f"{where}: line {line[back[1] + 1]}: wavelength {x[back[1] + 1]:g} nm goes back a second time; expected "
            f"ascending wavelengths with at most one detector splice")
    if back.size == 1:
        k = int(back[0]) + 1
        if not (np.all(np.diff(x[:k]) >= 0) and np.all(np.diff(x[k:]) >= 0)) or x[k] < x[0]:
            raise SpectrumFormatError(f"{where}: line {line[k]}: expected ascending wavelengths on each detector")
        x, y, note = _average_overlap(x, y, k)
        notes.append(note)
    if np.any(np.diff(x) == 0):
        x, y, repeated = _average_repeats(x, y)
        shown = ", ".join(f"{v:g}" for v in repeated[:3]) + (" ..." if len(repeated) > 3 else "")
        notes.append(f"detector splice: wavelength {shown} nm repeated ({len(repeated)} channel(s)); the two "
                     f"detectors' readings averaged")
    return x, y, notes
