"""The catalogue on SQLite and on a real PostgreSQL server: migrations, reindex from archives, filters."""

from __future__ import annotations

import math

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from analysis.archive import open_archive
from analysis.catalogue import (
    CatalogueError,
    LotFilter,
    index_archive,
    open_catalogue,
    reindex,
    store,
)
from analysis.catalogue.models import Base
from analysis.catalogue.writer import CatalogueWriter


def test_migrations_create_exactly_the_models(catalogue_url):
    with open_catalogue(catalogue_url) as cat, cat.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    with open_catalogue(catalogue_url) as cat:  # opening again migrates nothing and keeps working
        with cat.session() as s:
            assert store.counts(s)["lots"] == 0


def test_head_revision_constant_is_alembics_head():
    from alembic.script import ScriptDirectory

    from analysis.catalogue.db import HEAD_REVISION, alembic_config
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_reindex_writes_what_the_archive_holds_and_is_idempotent(catalogue_url, archives):
    with open_catalogue(catalogue_url) as cat:
        first = reindex(cat, [archives])
        assert sorted(first.lots) == ["LOT-CAT-1", "LOT-CAT-2", "LOT-CAT-3"] and not first.failed
        with cat.session() as s:
            counts = store.counts(s)
        assert reindex(cat, [archives]).lots == first.lots
        with cat.session() as s:
            assert store.counts(s) == counts, "reindexing the same archives must not add rows"
            row = store.get_lot(s, "LOT-CAT-2")
        with open_archive(archives / "LOT-CAT-2.h5") as reader:
            v = reader.final_verdict()
            assert row["line_verdict"] == v.verdict
            assert math.isclose(row["tonnage_t"], max(v.tonnage_t, float(reader.segment_table()["end_t"].max())))
            assert row["segments_total"] == len(reader.segments())
            assert row["alarms"] == len(reader.alarms())
            assert row["status"] == reader.state == "complete"
            assert row["vessel"] == reader.lot["vessel"]
        assert row["lab_status"] in ("awaiting", "none", "complete")


def test_filters_select_the_lots_meant(catalogue_url, archives):
    with open_catalogue(catalogue_url) as cat:
        reindex(cat, [archives])
        with cat.session() as s:
            store.upsert_lot(s, "LOT-CAT-3", {"vessel": "MV Other", "lab_status": "complete"})
            s.commit()
            assert [r["lot_id"] for r in store.list_lots(s, LotFilter(vessel="other"))] == ["LOT-CAT-3"]
            assert "LOT-CAT-3" not in [r["lot_id"] for r in store.list_lots(s, LotFilter(lab_status="awaiting"))]
            assert [r["lot_id"] for r in store.list_lots(s, LotFilter(text="cat-2"))] == ["LOT-CAT-2"]
            assert store.list_lots(s, LotFilter(since_epoch_s=4.0e9)) == []
            verdicts = {r["line_verdict"] for r in store.list_lots(s, LotFilter())}
            for v in verdicts:
                assert all(v in (r["line_verdict"], r["lab_verdict"]) for r in store.list_lots(s, LotFilter(verdict=v)))
            assert "LOT-CAT-3" not in [r["lot_id"] for r in store.lab_queue(s)]


def test_background_writer_applies_changes_in_order(catalogue_url, archives):
    with open_catalogue(catalogue_url) as cat:
        writer = CatalogueWriter(cat)
        for i in range(200):
            writer.submit(lambda s, i=i: store.add_event(s, "LOT-W", {"kind": "belt_stop", "message": f"e{i}"}))
        writer.submit(lambda s: store.upsert_lot(s, "LOT-W", {"vessel": "MV W"}))
        assert writer.flush(30.0)
        writer.close()
        with cat.session() as s:
            events = store.lot_events(s, "LOT-W")
            assert [e["message"] for e in events] == [f"e{i}" for i in range(200)]
            assert store.get_lot(s, "LOT-W")["vessel"] == "MV W"
        # the archive stays the record: indexing an archive keeps events only the live line saw
        index_archive(cat, archives / "LOT-CAT-1.h5")
        with cat.session() as s:
            before = store.counts(s)["events"]
        index_archive(cat, archives / "LOT-CAT-1.h5")
        with cat.session() as s:
            assert store.counts(s)["events"] == before


@pytest.mark.parametrize("url, words", [
    ("mysql://u@h/db", "expected a sqlite or postgresql URL"),
    ("not a url", "expected sqlite:///FILE or postgresql://"),
    ("postgresql://nobody@127.0.0.1:1/none", "cannot open"),
])
def test_bad_catalogue_url_is_a_clear_error(url, words):
    with pytest.raises(CatalogueError, match=words):
        open_catalogue(url)


def test_sqlite_file_holding_other_tables_is_refused(tmp_path):
    import sqlite3

    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(CatalogueError, match="not an oreline catalogue"):
        open_catalogue(f"sqlite:///{path}")
