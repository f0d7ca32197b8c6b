"""Mineral abundances by non-negative least squares in single-scattering-albedo space (Hapke).

Intimate mixtures are linear in albedo weighted by cross-section, so the measured reflectance is turned
into albedo and unmixed against mineral endmember albedos with non-negativity; the cross-section fractions
are normalised to sum 1 and converted to mass fractions with each mineral's density and grain size. The
residual is the RMS misfit in albedo.

Water is an end-member too: free water on the grains is not a particle of the intimate mixture but darkens
every grain's internal transmission, most in its bands (970, 1200, 1450 nm). So the unmixer (a) estimates the
moisture mass fraction of each spectrum with a linear calibration on log(1/R) (ridge regression fitted on
simulated wet and dry blends: the water bands' depth against the continuum), and (b) gives the NNLS a
``water`` column (the mean albedo loss per unit moisture of training blends, entering with a minus sign), so that
a water band is not explained by a hydroxyl-bearing mineral (gibbsite, kaolinite). Abundances are then mass
fractions of the wet material: solids × (1 − moisture), water = moisture; ``minerals`` ends with ``"water"``.
The solver is a batched coordinate descent on the Gram matrix
(vectorised over spectra) for batches, :func:`scipy.optimize.nnls` for a handful of spectra; the two agree to
~1e-4 in abundance on well-posed problems.
"""

from __future__ import annotations

import numpy as np

from spectra.errors import ModelError
from spectra.hapke import mass_fractions, ssa_from_reff
from spectra.preprocessing.kernel import absorbance


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
    # coordinate descent on the transposed (k, n) layout: each column update reads and writes contiguous rows
    At = np.ascontiguousarray(A.T)
    Bt = np.ascontiguousarray(B.T)
    GAt = G @ At
    for _ in range(n_sweeps):
        max_step = 0.0
        for j in range(G.shape[0]):
            new = np.maximum(At[j] - (GAt[j] - Bt[j]) / diag[j], 0.0)
            d = new - At[j]
            step = float(np.abs(d).max())
            if step > 0.0:
                At[j] = new
                GAt += G[:, j, None] * d[None, :]
                max_step = max(max_step, step)
        if max_step < tol:
            break
    return At.T.copy()


#: Name of the water component (last entry of :attr:`MineralUnmixer.minerals` when a water model is set).
WATER = "water"
#: Weight of the soft sum-to-one row of the NNLS (cross-sections of a spectrum add up to ~1).
SUM_WEIGHT = 0.3


class MineralUnmixer:
    """Endmember albedos ``endmembers`` (e, c), each a sample of mineral ``column_mineral[j]`` (index into the solid
    ``minerals``; default one column per mineral), with ``density_g_cm3`` and ``grain_um`` (e,). Several samples
    of one mineral (its natural variability) are separate columns whose abundances add up.

    Optional water model: ``water_albedo_loss`` (c,) albedo lost per unit moisture mass fraction,
    ``moisture_coef`` (c,) and ``moisture_intercept`` of the moisture calibration on log10(1/R).
    """

    def __init__(self, minerals: list[str], endmembers: np.ndarray, density_g_cm3: np.ndarray,
                 grain_um: np.ndarray, water_albedo_loss: np.ndarray | None = None,
                 moisture_coef: np.ndarray | None = None, moisture_intercept: float = 0.0,
                 column_mineral: np.ndarray | None = None) -> None:
        self.solids = [m for m in minerals if m != WATER]
        self.endmembers = np.asarray(endmembers, float)
        self.density = np.asarray(density_g_cm3, float)
        self.grain_um = np.asarray(grain_um, float)
        self.column_mineral = (np.arange(len(self.solids)) if column_mineral is None
                               else np.asarray(column_mineral, int))
        self.water_albedo_loss = None if water_albedo_loss is None else np.asarray(water_albedo_loss, float)
        self.moisture_coef = None if moisture_coef is None else np.asarray(moisture_coef, float)
        self.moisture_intercept = float(moisture_intercept)
        if (self.water_albedo_loss is None) != (self.moisture_coef is None):
            raise ModelError("unmixer: water albedo loss and moisture calibration go together")
        self.minerals = self.solids + ([WATER] if self.has_water else [])
        k = self.column_mineral.size
        if self.endmembers.ndim != 2 or self.endmembers.shape[0] != k or self.density.shape != (k,) \
                or self.grain_um.shape != (k,) or (k and (self.column_mineral.min() < 0
                                                          or self.column_mineral.max() >= len(self.solids))):
            raise ModelError(f"unmixer: expected {k} endmembers with density, grain size and a mineral each, got "
                             f"{self.endmembers.shape}, {self.density.shape}, {self.grain_um.shape}")
        c = self.endmembers.shape[1]
        loss, coef = self.water_albedo_loss, self.moisture_coef
        if loss is not None and coef is not None and (loss.shape != (c,) or coef.shape != (c,)):
            raise ModelError(f"unmixer water model: expected ({c},) arrays, got {loss.shape}, {coef.shape}")

    @property
    def has_water(self) -> bool:
        return self.water_albedo_loss is not None

    def moisture(self, reflectance: np.ndarray) -> np.ndarray:
        """Moisture mass fraction (n,) from the calibration on log10(1/R), clipped to 0…0.5 (NaN without one)."""
        r = np.atleast_2d(reflectance)
        if self.moisture_coef is None:
            return np.full(r.shape[0], np.nan)
        a = absorbance(r)
        return np.clip(a @ self.moisture_coef + self.moisture_intercept, 0.0, 0.5)

    def unmix(self, reflectance: np.ndarray, n_sweeps: int = 60) -> tuple[np.ndarray, np.ndarray]:
        """Mass-fraction abundances (n, len(minerals)) summing to 1 (0 rows for a zero fit; the last column is
        water when the unmixer has a water model) and albedo RMS residual (n,)."""
        r = np.clip(np.atleast_2d(reflectance), 0.0, None)
        w = ssa_from_reff(r)
        loss = self.water_albedo_loss
        E = self.endmembers if loss is None else np.vstack([self.endmembers, -loss])
        e = self.column_mineral.size
        ones = np.zeros(E.shape[0])
        ones[:e] = SUM_WEIGHT
        a = nnls_batch(np.vstack([E.T, ones]), np.hstack([w, np.full((w.shape[0], 1), SUM_WEIGHT)]),
                       n_sweeps=n_sweeps)
        resid = np.sqrt(np.mean((a @ E - w) ** 2, axis=1))
        per_column = mass_fractions(a[:, :e], self.density, self.grain_um)
        mass = np.zeros((per_column.shape[0], len(self.solids)))
        np.add.at(mass.T, self.column_mineral, per_column.T)
        if not self.has_water:
            return mass, resid
        m = self.moisture(r)[:, None]
        return np.hstack([mass * (1.0 - m), m]), resid

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}endmembers": self.endmembers, f"{prefix}density": self.density,
               f"{prefix}grain_um": self.grain_um, f"{prefix}column_mineral": self.column_mineral}
        if self.water_albedo_loss is not None and self.moisture_coef is not None:
            out.update({f"{prefix}water_loss": self.water_albedo_loss, f"{prefix}moisture_coef": self.moisture_coef,
                        f"{prefix}moisture_intercept": np.array(self.moisture_intercept)})
        return out

    @classmethod
    def from_arrays(cls, minerals: list[str], arrays, prefix: str) -> "MineralUnmixer":
        water = f"{prefix}water_loss" in arrays
        return cls(minerals, arrays[f"{prefix}endmembers"], arrays[f"{prefix}density"], arrays[f"{prefix}grain_um"],
                   arrays[f"{prefix}water_loss"] if water else None,
                   arrays[f"{prefix}moisture_coef"] if water else None,
                   float(arrays[f"{prefix}moisture_intercept"]) if water else 0.0,
                   arrays[f"{prefix}column_mineral"] if f"{prefix}column_mineral" in arrays else None)
