"""Physical constants of reflectance spectra, named once and imported wherever they are used.

Kept in ``spectra`` (not ``conveyor``, whose units module knows only the belt): every user is in ``spectra`` or a
package above it (``analysis.fleet``), so the import direction holds.
"""

from __future__ import annotations

#: Lowest reflectance taken as measured: below it (dark, or negative after referencing noise) reflectance is
#: clipped here before a logarithm, Hapke's single-scattering albedo or a feature. Absorbance is then at most 4.
REFLECTANCE_FLOOR = 1e-4
#: Diffuse reflectance of bulk material lies in this range (fraction); outside it a spectrum is not plausible
#: (a bad reference, saturation, or percent read as fraction). The upper end also tells percent from fraction.
REFLECTANCE_RANGE = (-0.05, 1.6)
#: Standard normal variate divides by a spectrum's standard deviation only above this (absorbance units); a
#: spectrum flatter than that is centred only (all zeros), never blown up to unit variance.
SNV_MIN_STD = 1e-12
