"""Where the catalogue lives: the data folder and the database URL.

The **data folder** is ``$ORELINE_DATA`` when set, else ``$XDG_DATA_HOME/oreline``, else
``~/.local/share/oreline``; it does not depend on the working directory. The embedded catalogue is the SQLite
file ``catalogue.sqlite`` in it. A site's ``[catalogue] url`` (or ``$ORELINE_CATALOGUE_URL``, or a command's
``--catalogue URL``) names another database instead, e.g. ``postgresql://user@host/oreline`` for a port where
several lines write to one catalogue.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.catalogue.errors import CatalogueUrlError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

CATALOGUE_FILE = "catalogue.sqlite"
SUPPORTED_DRIVERS = ("sqlite", "postgresql")


def data_dir() -> Path:
    """The oreline data folder (absolute; not created here)."""
    explicit = os.environ.get("ORELINE_DATA")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return (base / "oreline").resolve()


def default_url() -> str:
    """The embedded SQLite catalogue of the data folder."""
    return f"sqlite:///{data_dir() / CATALOGUE_FILE}"


def resolve_url(url: str | None = None) -> URL:
    """The SQLAlchemy URL of the catalogue: ``url``, else ``$ORELINE_CATALOGUE_URL``, else :func:`default_url`.

    ``postgresql://`` is served by psycopg 3. Raises CatalogueUrlError for a URL that cannot be parsed or names
    another database kind."""
    from sqlalchemy.engine import make_url  # here: SQLAlchemy costs ~0.15 s of `oreline config`'s start-up
    from sqlalchemy.exc import ArgumentError

    text = (url or os.environ.get("ORELINE_CATALOGUE_URL") or default_url()).strip()
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise CatalogueUrlError(f"catalogue url: expected sqlite:///FILE or postgresql://USER@HOST/DB, "
                                f"got {text[:120]!r}") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DRIVERS:
        raise CatalogueUrlError(f"catalogue url: expected a sqlite or postgresql URL, got {backend!r} "
                                f"in {parsed.render_as_string(hide_password=True)!r}")
    if backend == "postgresql" and "+" not in parsed.drivername:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return parsed


def display(url: URL) -> str:
    """The URL with its password hidden (for messages)."""
    return url.render_as_string(hide_password=True)
