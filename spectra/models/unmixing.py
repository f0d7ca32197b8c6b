"""Mineral abundances by non-negative least squares in single-scattering-albedo space (Hapke).

Intimate mixtures are linear in albedo weighted by cross-section, so the measured reflectance is turned
into albedo and unmixed against mineral endmember albedos with non-negativity; the cross-section fractions
are normalised to sum 1 and converted to mass fractions with each mineral's density and grain size. The
residual is the RMS misfit in albedo. The solver is a batched coordinate descent on the Gram matrix
(vectorised over spectra) for batches, :func:`scipy.optimize.nnls` for a handful of spectra; the two agree to
~1e-4 in abundance on well-posed problems.
"""

from __future__ import annotations

import numpy as np

from spectra.errors import ModelError
from spectra.hapke import mass_fractions, ssa_from_reff


def nnls_batch(E: np.ndarray, Y: np.ndarray, n_sweeps: int = 200, tol: float = 1e-10) -> np.ndarray:
    """Solve min ||E a − y||² s.t. a ≥ 0 for every row y of ``Y`` (n, c); ``E`` (c, k). Returns (n, k)."""
    if Y.shape[0] <= 16:  # few spectra (the line, one at a time): exact active-set solver per row
        from scipy.optimize import nnls

        return np.vstack([nnls(E, y)[0] for y in Y]) if Y.shape[0] else np.zeros((0, E.shape[1]))
    G = E.T @ E
    B = Y @ E  # (n, k)
    diag = np.diag(G).copy()
    if np.any(diag <= 0):
        raise ModelError("unmixing endmembers must be non-zero")
    try:
        A = np.clip(np.linalg.solve(G + 1e-9 * np.eye(G.shape[0]) * diag.max(), B.T).T, 0.0, None)
    except np.linalg.LinAlgError:
        A = np.zeros_like(B)
    GA = A @ G
    for _ in range(n_sweeps):
        max_step = 0.0
        for j in range(G.shape[0]):
            new = np.maximum(A[:, j] - (GA[:, j] - B[:, j]) / diag[j], 0.0)
            d = new - A[:, j]
            if np.any(d):
                A[:, j] = new
                GA += d[:, None] * G[j][None, :]
                max_step = max(max_step, float(np.abs(d).max()))
        if max_step < tol:
            break
    return A


class MineralUnmixer:
    """Endmember albedos ``endmembers`` (k, c) of ``minerals`` with ``density_g_cm3`` and ``grain_um`` (k,)."""

    def __init__(self, minerals: list[str], endmembers: np.ndarray, density_g_cm3: np.ndarray,
                 grain_um: np.ndarray) -> None:
        self.minerals = list(minerals)
        self.endmembers = np.asarray(endmembers, float)
        self.density = np.asarray(density_g_cm3, float)
        self.grain_um = np.asarray(grain_um, float)
        k = len(self.minerals)
        if self.endmembers.ndim != 2 or self.endmembers.shape[0] != k or self.density.shape != (k,) \
                or self.grain_um.shape != (k,):
            raise ModelError(f"unmixer: expected {k} endmembers with density and grain size, got "
                             f"{self.endmembers.shape}, {self.density.shape}, {self.grain_um.shape}")

    def unmix(self, reflectance: np.ndarray, n_sweeps: int = 60) -> tuple[np.ndarray, np.ndarray]:
        """Mass-fraction abundances (n, k) summing to 1 (0 rows for a zero fit) and albedo RMS residual (n,)."""
        w = ssa_from_reff(np.clip(np.atleast_2d(reflectance), 0.0, None))
        a = nnls_batch(self.endmembers.T, w, n_sweeps=n_sweeps)
        resid = np.sqrt(np.mean((a @ self.endmembers - w) ** 2, axis=1))
        return mass_fractions(a, self.density, self.grain_um), resid

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}endmembers": self.endmembers, f"{prefix}density": self.density,
                f"{prefix}grain_um": self.grain_um}

    @classmethod
    def from_arrays(cls, minerals: list[str], arrays, prefix: str) -> "MineralUnmixer":
        return cls(minerals, arrays[f"{prefix}endmembers"], arrays[f"{prefix}density"], arrays[f"{prefix}grain_um"])
