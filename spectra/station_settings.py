"""The keys of ``[stations.<name>]`` with ``kind = "spectrometer"`` (:data:`SETTINGS`), apart from the station
(:mod:`spectra.station`) so that checking a site file (``oreline config check``) does not load the models and
scikit-learn. Rendered into docs/configuration.md.
"""

from __future__ import annotations

from conveyor.config import Field, StationSettings, intervals_t
from spectra.grid import DEFAULT_GRID

#: Acquisitions averaged into each dark/white reference (``reference_repeats``): 64 × 16 scans × 10 ms ≈ 10 s.
DEFAULT_REFERENCE_REPEATS = 64

#: Every key of ``[stations.<name>]`` with ``kind = "spectrometer"``: shared, then per backend.
SETTINGS = StationSettings(
    kind="spectrometer",
    doc="NIR spectrometer (spectra/station.py).",
    fields={
        "grid": Field(str, DEFAULT_GRID,
                      doc="Instrument grid: ingaas256 (900-1700 nm), full (400-2400 nm), a shipped grid file's name "
                          "(nir256_1014-1749nm) or the site spectrometer's grid file (CSV: centre nm, FWHM nm per "
                          "pixel; relative to the working folder, then the run folder). full (the default since w21i) "
                          "sees slag and mill scale per segment that 900-1700 nm misses and identifies moist ore; "
                          "an InGaAs-only site sets ingaas256 (its model ships too): docs/spectra.md \"Instrument "
                          "range decided by measurement\"."),
        "spectra_per_s": Field(float, 2.0, min=0.0, min_exclusive=True,
                               doc="Averaged spectra per second, each covering the material that passed meanwhile."),
        "model": Field(str, "default", doc="Trained model (.npz) on the same grid, or default (built in; fitted before "
                                           "the line starts by oreline run/demo, or by oreline spectra train, and "
                                           "cached by fit version, settings and data digests)."),
        "site_novelty": Field(str, "", doc="Model file written by oreline spectra fit-novelty (relative to the working "
                                           "folder, then the run folder): its T²/Q novelty, fitted to the site's own "
                                           "ore, replaces the model's; empty: the model's own. Named in the run's log "
                                           "and archive (stream metadata site_novelty)."),
        "white_reference_every_s": Field(float, 600.0, min=0.0, min_exclusive=True,
                                         doc="Dark + white reference interval, line seconds."),
        "integration_time_ms": Field(float, 10.0, min=0.0, min_exclusive=True, doc="Integration time, ms."),
        "n_average": Field(int, 16, min=1, doc="Scans averaged per acquisition."),
        "timeout_s": Field(float, 2.0, min=0.0, min_exclusive=True, doc="Timeout of one acquisition, s."),
        "reference_repeats": Field(int, DEFAULT_REFERENCE_REPEATS, min=1,
                                   doc="Acquisitions averaged into each dark and white reference (its noise is shared "
                                       "by every spectrum until the next one, so it must stay well below one spectrum's)."),
        "seed": Field(int, None, doc="Random seed of the simulated instrument (default: the line seed)."),
        "ore_needs_evidence": Field(bool, True, doc="p(ore) > 0.5 only with positive ore evidence (no trace of "
                                                    "C–H, or the Fe³⁺ band); docs/spectra.md."),
    },
    backends={
        "simulated": {
            "dropout_at_t": Field(list, [], check=intervals_t,
                                  doc="[start, end] lot-relative tonnes where the spectrometer returns nothing."),
            "saturate_at_t": Field(list, [], check=intervals_t,
                                   doc="[start, end] lot-relative tonnes where the detector saturates."),
            "window_dirt_rate": Field(float, 0.0, min=0.0, doc="Loss of window transmission per hour."),
        },
        "replay": {
            "replay_path": Field(str, doc="File or folder of spectra to replay."),
            "replay_loop": Field(bool, True, doc="Start again at the end."),
        },
        "ocean": {
            "serial": Field(str, "", doc="Device serial number (empty: the first found)."),
        },
    },
)
