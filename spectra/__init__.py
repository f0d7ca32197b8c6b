"""NIR spectrometers and chemometrics for oreline.

Entry points: :func:`spectra.library.load_library`, :func:`spectra.driver.open_spectrometer`,
:class:`spectra.models.bundle.SpectraModel`, :func:`spectra.models.training.train_model`,
:class:`spectra.segment.LotSegmentScorer` (the line's per-lot segment scorer),
:func:`spectra.station.from_config`, :mod:`spectra.cli`.
See docs/spectra.md.
"""
