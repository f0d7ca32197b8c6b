"""Instrument wavelength grids: channel centres and band widths (FWHM) in nanometres.

Named grids:

* ``ingaas256`` — 256-pixel InGaAs array, 900–1700 nm, 10 nm FWHM (default line instrument).
* ``full`` — 400–2400 nm every 4 nm (501 channels), 10 nm FWHM. The nominal range of a full-range
  instrument is 350–2500 nm, but several library spectra have deleted channels above 2.448 µm and the
  Beckman spectra start at 0.35 µm, so the grid stops where the whole library can be convolved honestly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from spectra.errors import GridError


@dataclass(frozen=True, eq=False)
class InstrumentGrid:
    """Channel centres ``wavelength_nm`` (n,) ascending and Gaussian band FWHM ``fwhm_nm`` (n,)."""

    name: str
    wavelength_nm: np.ndarray
    fwhm_nm: np.ndarray

    def __post_init__(self) -> None:
        wl = np.asarray(self.wavelength_nm, dtype=float)
        fw = np.broadcast_to(np.asarray(self.fwhm_nm, dtype=float), wl.shape).copy()
        if wl.ndim != 1 or wl.size < 2:
            raise GridError(f"grid {self.name!r}: expected a 1-D array of >= 2 wavelengths, got shape {wl.shape}")
        if not (np.all(np.isfinite(wl)) and np.all(np.diff(wl) > 0)):
            raise GridError(f"grid {self.name!r}: wavelengths must be finite and strictly ascending")
        if not np.all(fw > 0):
            raise GridError(f"grid {self.name!r}: FWHM must be > 0 nm, got min {fw.min()}")
        wl.setflags(write=False)
        fw.setflags(write=False)
        object.__setattr__(self, "wavelength_nm", wl)
        object.__setattr__(self, "fwhm_nm", fw)

    @property
    def n_channels(self) -> int:
        return int(self.wavelength_nm.size)

    @property
    def range_nm(self) -> tuple[float, float]:
        return float(self.wavelength_nm[0]), float(self.wavelength_nm[-1])

    def digest(self) -> str:
        """Short hash of centres and widths (rounded to 1 pm), for model keys."""
        payload = np.round(np.concatenate([self.wavelength_nm, self.fwhm_nm]), 3).tobytes()
        return hashlib.sha256(payload).hexdigest()[:16]

    def same_as(self, other: "InstrumentGrid", tol_nm: float = 0.01) -> bool:
        """True when both grids have the same channels within ``tol_nm``."""
        return (
            self.n_channels == other.n_channels
            and bool(np.all(np.abs(self.wavelength_nm - other.wavelength_nm) <= tol_nm))
            and bool(np.all(np.abs(self.fwhm_nm - other.fwhm_nm) <= max(tol_nm, 0.05 * self.fwhm_nm.min())))
        )

    def check_same(self, other: "InstrumentGrid", what: str = "spectrum") -> None:
        """Raise :class:`GridError` unless ``other`` is the same grid."""
        if not self.same_as(other):
            raise GridError(
                f"{what}: expected grid {self.name!r} ({self.n_channels} ch, {self.range_nm[0]:.1f}–"
                f"{self.range_nm[1]:.1f} nm), got {other.name!r} ({other.n_channels} ch, "
                f"{other.range_nm[0]:.1f}–{other.range_nm[1]:.1f} nm)"
            )

    def to_dict(self) -> dict:
        return {"name": self.name, "wavelength_nm": self.wavelength_nm.tolist(), "fwhm_nm": self.fwhm_nm.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "InstrumentGrid":
        return cls(str(d["name"]), np.asarray(d["wavelength_nm"], float), np.asarray(d["fwhm_nm"], float))

    @classmethod
    def from_wavelengths(cls, wavelength_nm: np.ndarray, fwhm_nm: float | np.ndarray | None = None,
                         name: str = "custom") -> "InstrumentGrid":
        """A grid from channel centres; FWHM defaults to 1.5× the local channel spacing."""
        wl = np.asarray(wavelength_nm, dtype=float)
        if fwhm_nm is None:
            fwhm_nm = 1.5 * np.gradient(wl) if wl.size >= 2 else np.ones_like(wl)
        return cls(name, wl, np.broadcast_to(np.asarray(fwhm_nm, float), wl.shape))


def ingaas256() -> InstrumentGrid:
    """256-pixel InGaAs grid, 900–1700 nm, 10 nm FWHM."""
    return InstrumentGrid("ingaas256", np.linspace(900.0, 1700.0, 256), np.full(256, 10.0))


def full_range() -> InstrumentGrid:
    """Full-range grid 400–2400 nm, 4 nm step (501 channels), 10 nm FWHM."""
    wl = np.arange(400.0, 2400.0 + 1e-9, 4.0)
    return InstrumentGrid("full", wl, np.full(wl.size, 10.0))


GRIDS = {"ingaas256": ingaas256, "full": full_range}


def grid_by_name(name: str) -> InstrumentGrid:
    """One of the named grids; raises :class:`GridError` for an unknown name."""
    try:
        return GRIDS[name]()
    except KeyError:
        raise GridError(f"expected grid name in {sorted(GRIDS)}, got {name!r}") from None
