"""The lot catalogue: lots, verdicts, alarms, events and operator commands across lots, in a database.

SQLAlchemy 2 models (:mod:`~analysis.catalogue.models`) and Alembic migrations shipped in the package (run by
:func:`open_catalogue`); SQLite in the data folder by default, PostgreSQL (psycopg 3) for a port. The archive
stays the record of a lot: :func:`reindex` rebuilds the catalogue from archives. The line writes through a
:class:`CatalogueWriter` (a queue and a thread), so it never waits on the database.
"""

from analysis.catalogue.db import Catalogue, open_catalogue
from analysis.catalogue.errors import CatalogueError, CatalogueUrlError
from analysis.catalogue.index import ReindexResult, index_archive, reindex
from analysis.catalogue.live import LineCatalogue
from analysis.catalogue.location import data_dir, default_url, resolve_url
from analysis.catalogue.queries import CatalogueQueries
from analysis.catalogue.settings import CATALOGUE_FIELDS
from analysis.catalogue.store import AlarmFilter, LotFilter
from analysis.catalogue.writer import CatalogueWriter

__all__ = [
    "CATALOGUE_FIELDS",
    "AlarmFilter",
    "Catalogue",
    "CatalogueError",
    "CatalogueQueries",
    "CatalogueUrlError",
    "CatalogueWriter",
    "LineCatalogue",
    "LotFilter",
    "ReindexResult",
    "data_dir",
    "default_url",
    "index_archive",
    "open_catalogue",
    "reindex",
    "resolve_url",
]
