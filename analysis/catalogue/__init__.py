"""The lot catalogue: lots, verdicts, alarms, events and operator commands across lots, in a database.

SQLAlchemy 2 models (:mod:`~analysis.catalogue.models`) and Alembic migrations shipped in the package (run by
:func:`open_catalogue`); SQLite in the data folder by default, PostgreSQL (psycopg 3) for a port. The archive
stays the record of a lot: :func:`reindex` rebuilds the catalogue from archives. The line writes through a
:class:`CatalogueWriter` (a queue and a thread), so it never waits on the database.

The names below are imported on first use (PEP 562), so ``oreline lots list`` does not load the archive and
decision code it does not need.
"""

from __future__ import annotations

from analysis.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Catalogue": "db", "open_catalogue": "db",
    "CatalogueError": "errors", "CatalogueUrlError": "errors", "UnknownLot": "errors", "ArchiveUnavailable": "errors",
    "lot_archive": "archived", "lot_summary": "archived",
    "ReindexResult": "index", "index_archive": "index", "reindex": "index",
    "LineCatalogue": "live",
    "data_dir": "location", "default_url": "location", "resolve_url": "location",
    "CatalogueQueries": "queries",
    "CATALOGUE_FIELDS": "settings",
    "AlarmFilter": "store", "LotFilter": "store",
    "CatalogueWriter": "writer",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
