"""``oreline lots`` through the installed script, from another folder, both option spellings; two line
processes writing to one PostgreSQL catalogue at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.catalogue import open_catalogue, store

REPO = Path(__file__).resolve().parents[2]
OREL = REPO / ".venv" / "bin" / "oreline"


def lots(*args: str, cwd: Path, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ORELINE_DATA": str(data)}
    env.pop("ORELINE_CATALOGUE_URL", None)
    return subprocess.run([str(OREL), "lots", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, archives):
    data = tmp_path_factory.mktemp("data")
    r = lots("reindex", str(archives), cwd=archives, data=data)
    assert r.returncode == 0, r.stderr
    assert "indexed 3 lot(s)" in r.stdout
    return data


def test_help_names_the_command(tmp_path):
    r = lots("list", "--help", cwd=tmp_path, data=tmp_path)
    assert r.returncode == 0 and "oreline lots list" in r.stdout


def test_list_from_any_folder_table_and_json(data_dir, tmp_path):
    table = lots("list", cwd=tmp_path, data=data_dir)
    assert table.returncode == 0, table.stderr
    assert "LOT-CAT-1" in table.stdout and "3 lot(s)" in table.stdout
    rows = json.loads(lots("list", "--json", cwd=Path("/"), data=data_dir).stdout)
    assert {r["lot_id"] for r in rows} == {"LOT-CAT-1", "LOT-CAT-2", "LOT-CAT-3"}
    assert (data_dir / "catalogue.sqlite").is_file()


@pytest.mark.parametrize("form", ["space", "equals"])
def test_filters_in_both_option_forms(data_dir, tmp_path, form):
    def opt(name: str, value: str) -> list[str]:
        return [f"--{name}", value] if form == "space" else [f"--{name}={value}"]
    r = lots("list", "--json", *opt("search", "cat-2"), cwd=tmp_path, data=data_dir)
    assert [x["lot_id"] for x in json.loads(r.stdout)] == ["LOT-CAT-2"]
    r = lots("list", "--json", *opt("vessel", "no such vessel"), cwd=tmp_path, data=data_dir)
    assert json.loads(r.stdout) == []
    r = lots("list", "--json", *opt("since", "2100-01-01"), cwd=tmp_path, data=data_dir)
    assert json.loads(r.stdout) == []
    r = lots("list", "--json", *opt("lab-status", "complete"), cwd=tmp_path, data=data_dir)
    assert all(x["lab_status"] == "complete" for x in json.loads(r.stdout))


def test_show_and_usage_errors(data_dir, tmp_path):
    r = lots("show", "LOT-CAT-1", "--json", cwd=tmp_path, data=data_dir)
    shown = json.loads(r.stdout)
    assert shown["lot"]["lot_id"] == "LOT-CAT-1" and isinstance(shown["alarms"], list)
    r = lots("show", "LOT-NONE", cwd=tmp_path, data=data_dir)
    assert r.returncode == 2 and "no lot 'LOT-NONE'" in r.stderr
    r = lots("list", "--since", "yesterday", cwd=tmp_path, data=data_dir)
    assert r.returncode == 2 and "expected a date" in r.stderr
    r = lots("--catalogue", "mysql://u@h/db", "list", cwd=tmp_path, data=data_dir)
    assert r.returncode == 2 and "expected a sqlite or postgresql URL" in r.stderr
    r = lots("--catalogue=postgresql://nobody@127.0.0.1:1/none", "list", cwd=tmp_path, data=data_dir)
    assert r.returncode == 2 and "cannot open" in r.stderr
    r = lots("reindex", str(tmp_path / "missing"), cwd=tmp_path, data=data_dir)
    assert r.returncode == 2 and "no such folder" in r.stderr


WRITER = """
import sys
from analysis.catalogue import CatalogueWriter, open_catalogue
from analysis.catalogue import store
url, line, n_lots, n_events = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
writer = CatalogueWriter(open_catalogue(url))
for lot in range(n_lots):
    lot_id = f"{line}-LOT-{lot}"
    writer.submit(lambda s, lot_id=lot_id: store.upsert_lot(s, lot_id, {"line": line, "vessel": "MV Port"}))
    for i in range(n_events):
        writer.submit(lambda s, lot_id=lot_id, i=i: store.add_event(s, lot_id, {"kind": "belt_stop", "message": str(i)}))
        writer.submit(lambda s, lot_id=lot_id, i=i: store.upsert_alarm(s, lot_id, {"alarm_id": i + 1, "state": "raised",
                                                                                 "message": f"a{i}"}))
assert writer.flush(120)
writer.close()
print("written", writer.written, "failures", writer.failures)
"""


def test_two_line_processes_write_one_postgresql_catalogue_without_lost_rows(pg_url, tmp_path):
    open_catalogue(pg_url).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, pg_url, line, "5", "100"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for line in ("A", "B")]
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with open_catalogue(pg_url) as cat, cat.session() as s:
        for line in ("A", "B"):
            for lot in range(5):
                lot_id = f"{line}-LOT-{lot}"
                assert [e["message"] for e in store.lot_events(s, lot_id)] == [str(i) for i in range(100)]
                assert len(store.lot_alarms(s, lot_id)) == 100
        assert len(store.list_lots(s, store.LotFilter(vessel="MV Port"))) == 10
