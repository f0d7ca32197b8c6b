"""Spectrometer backends. Import them through :func:`spectra.driver.open_spectrometer` (lazy)."""
