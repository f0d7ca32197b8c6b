"""The ``[catalogue]`` section of the site configuration (rendered into docs/configuration.md)."""

from __future__ import annotations

from analysis.catalogue.errors import CatalogueUrlError
from analysis.catalogue.location import resolve_url
from conveyor.config import Field
from conveyor.errors import ConfigError


def _check_url(path: str, value: str) -> str:
    if value:
        try:
            resolve_url(value)
        except CatalogueUrlError as exc:
            raise ConfigError(path, str(exc)) from None
    return value


CATALOGUE_FIELDS: dict[str, Field] = {
    "enabled": Field(bool, True, doc="Write each lot, its alarms, events and operator commands to the catalogue."),
    "url": Field(str, "", check=_check_url,
                 doc="Database URL: empty for the SQLite file `catalogue.sqlite` in the data folder "
                     "(`$ORELINE_DATA`, else `$XDG_DATA_HOME/oreline`, else `~/.local/share/oreline`; "
                     "`$ORELINE_CATALOGUE_URL` overrides it), or `postgresql://USER:PASSWORD@HOST/DB` for a "
                     "port where several lines write to one catalogue."),
}
