"""Fixtures of the catalogue tests: real lot archives, a SQLite catalogue, a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalogue.pgserver import PgServer


@pytest.fixture(scope="session")
def pg_url() -> str:
    server = PgServer().start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def archives(tmp_path_factory) -> Path:
    """Three real lot archives (a real Line, the archive wired as the line wires it) in one folder."""
    from tests.lines import archived_lot

    folder = tmp_path_factory.mktemp("archives")
    for i, (mass, lot_id) in enumerate(((300.0, "LOT-CAT-1"), (400.0, "LOT-CAT-2"), (300.0, "LOT-CAT-3"))):
        archived_lot(folder / f"{lot_id}.h5", mass_t=mass, lot_id=lot_id, seed=i + 1)
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue_url(request, tmp_path) -> str:
    """A fresh catalogue URL: a SQLite file, or a fresh database on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    base = request.getfixturevalue("pg_url")
    import psycopg

    name = f"cat_{abs(hash(str(tmp_path))) % 10**8}"
    with psycopg.connect(base.replace("/oreline", "/postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + f"/{name}"
