"""Open the catalogue: engine, schema migrations (Alembic, shipped in the package) and sessions.

:func:`open_catalogue` connects, brings the schema to the newest revision and returns a :class:`Catalogue`.
An unreachable server, a bad URL or a database that is not a catalogue raise :class:`CatalogueError`.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from analysis.catalogue.errors import CatalogueError
from analysis.catalogue.location import display, resolve_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: The newest migration (tests/catalogue checks it is Alembic's head): a catalogue already there opens without
#: loading Alembic, which keeps ``oreline lots list`` quick.
HEAD_REVISION = "0001"
#: Seconds a SQLite writer waits for another process's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0
_migrate_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for the catalogue at ``url`` (see :func:`~analysis.catalogue.location.resolve_url`)."""
    parsed = resolve_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def alembic_config() -> Any:
    """The Alembic configuration of the shipped migrations (no alembic.ini needed)."""
    from alembic.config import Config  # third-party, loaded only when a schema must change

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (idempotent; safe when several processes start at once)."""
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command  # third-party, loaded only when a schema must change

    with _migrate_lock, _sqlite_file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # one migrating process at a time per database
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(2323)")
        tables = set(inspect(conn).get_table_names())
        if tables and "alembic_version" not in tables and "lots" not in tables:
            raise CatalogueError(f"{display(engine.url)}: this database holds other tables ({sorted(tables)[:5]}), "
                                 "not an oreline catalogue")
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: no catalogue schema yet)."""
    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time for a SQLite file (an flock beside it); nothing for other databases."""
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Catalogue:
    """An open catalogue: its engine and a session factory. Use :func:`open_catalogue`; :meth:`close` it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return display(self.engine.url)

    def session(self) -> Session:
        return self.sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_catalogue(url: str | None = None) -> Catalogue:
    """Connect to the catalogue at ``url`` (default: the data folder's SQLite file) and migrate it."""
    engine = make_engine(url)
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise CatalogueError(f"catalogue {display(engine.url)}: cannot open: {reason}") from None
    except CatalogueError:
        engine.dispose()
        raise
    return Catalogue(engine)
