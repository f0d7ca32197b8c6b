"""docs/register-map.md and .csv are generated from the tables; this fails when they drift."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from plc.cli import cli_registers
from plc.docs import CSV_NAME, MD_NAME, check_docs, render_csv, render_markdown, write_docs
from plc.registers import ORELINE_MAP

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_docs_match_the_register_tables():
    problems = check_docs(DOCS)
    assert problems == [], "\n".join(problems)


def test_csv_rows_are_the_table(tmp_path):
    rows = [r for r in csv.DictReader(io.StringIO(render_csv())) if r["block"] == "oreline"]
    assert [r["name"] for r in rows] == [e.name for e in ORELINE_MAP]
    for row, e in zip(rows, ORELINE_MAP):
        assert int(row["address"]) == e.address and int(row["reference"]) == e.address + 40001
        assert row["type"] == e.type.label and row["access"] == e.access and int(row["registers"]) == e.length


def test_markdown_lists_every_register_and_code():
    md = render_markdown()
    for e in ORELINE_MAP:
        assert f"| {e.address} | {e.reference} | `{e.name}` |" in md
    for needle in ("`WASTE_SUSPECT`", "`INCONCLUSIVE`", "most significant word first", "R40,062", "Not confirmed"):
        assert needle in md


def test_check_detects_drift_and_cli_regenerates(tmp_path, capsys):
    assert cli_registers(["--check", "--out", str(tmp_path)]) == 1  # missing
    assert cli_registers(["--out", str(tmp_path)]) == 0
    assert cli_registers(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / CSV_NAME).write_text(render_csv().replace("LOT_ID", "LOT_NAME"))
    assert cli_registers(["--check", "--out", str(tmp_path)]) == 1
    assert "differs" in capsys.readouterr().err
    write_docs(tmp_path)
    assert check_docs(tmp_path) == []
    assert (tmp_path / MD_NAME).read_text() == render_markdown()
    assert cli_registers(["--csv"]) == 0
    assert capsys.readouterr().out == render_csv()
