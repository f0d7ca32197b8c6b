"""The site file: its schema (every section's keys, bounds and defaults) and reading it (:func:`load_site`,
:func:`validate`); the shipped default is :data:`DEFAULT_SITE` (:mod:`analysis.site_default`).

Apart from the composition (:mod:`analysis.site`, which imports the whole line) so that checking a site file
(``oreline config check``) loads only the settings tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from conveyor.config import SCALE_FIELDS, Field, StationSettings, load_site_config, validate_section, validate_site
from conveyor.errors import ConfigError
from spectra.station_settings import SETTINGS as SPECTROMETER_SETTINGS
from vision.station_settings import SETTINGS as CAMERA_SETTINGS
from sampler.station import SETTINGS as SAMPLER_SETTINGS
from plc.config import PLC_FIELDS
from plc.scale import SCALE_BACKENDS, scale_fields
from analysis.catalogue import CATALOGUE_FIELDS
from analysis.decide import VERDICT_FIELDS
from analysis.web import CONTROL_ROOM_FIELDS
from analysis.site_default import DEFAULT_SITE

#: Station kind → its settings table (every key, per backend): validates the site file, fills the defaults
#: and is rendered into docs/configuration.md.
STATION_SETTINGS: dict[str, StationSettings] = {
    "spectrometer": SPECTROMETER_SETTINGS,
    "camera": CAMERA_SETTINGS,
    "sampler": SAMPLER_SETTINGS,
}


def check_file_mode(path: str, value: str) -> str:
    """An octal file mode that gives others nothing to write, e.g. "0640" or "0600"."""
    try:
        mode = int(value, 8)
    except (TypeError, ValueError):
        raise ConfigError(path, f"expected an octal file mode such as \"0640\", got {value!r}") from None
    if not 0 <= mode <= 0o777 or mode & 0o022 or not mode & 0o600 == 0o600:
        raise ConfigError(path, f"expected a mode 0600..0755 that the owner can read and write and no one else "
                                f"can write, got {value!r}")
    return value


ARCHIVE_FIELDS: dict[str, Field] = {
    "flush_interval_s": Field(float, 5.0, min=0.1, max=600.0, doc="Longest time archived data waits for a flush, s."),
    "enabled": Field(bool, True, doc="Write the HDF5 lot archive."),
    "file_mode": Field(str, "0640", check=check_file_mode,
                       doc="Permissions of archive and report files (octal; no access for others by default)."),
}
EXTRA_SECTIONS: dict[str, Mapping[str, Field]] = {
    "verdict": VERDICT_FIELDS,
    "archive": ARCHIVE_FIELDS,
    "plc": PLC_FIELDS,
    "control_room": CONTROL_ROOM_FIELDS,
    "catalogue": CATALOGUE_FIELDS,
}


def load_site(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate a site file (the shipped default when ``path`` is None)."""
    return _check_scale_backend(load_site_config(path or DEFAULT_SITE, EXTRA_SECTIONS, STATION_SETTINGS, tuple(SCALE_BACKENDS)))


def validate(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate an already-parsed site configuration."""
    return _check_scale_backend(validate_site(raw, EXTRA_SECTIONS, STATION_SETTINGS, tuple(SCALE_BACKENDS)))


def _check_scale_backend(site: dict[str, Any]) -> dict[str, Any]:
    """The ``[scale]`` keys of its backend (plc's table) are checked with the rest, not only when the line starts."""
    scale = site["scale"]
    validate_section({k: v for k, v in scale.items() if k not in SCALE_FIELDS}, scale_fields(scale["backend"]), "scale")
    return site
