"""The certificate an analyst signs (issue 22): every number of the archive's lab table on the PDF as reported,
nothing cut, truthful summaries, through the installed ``oreline`` commands."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.archive import import_custody_rows, latest_results, open_archive
from analysis.report.read import short_id
from analysis.report.summaries import objects_counted
from conveyor.cargo import Admixture, CargoModel, ForeignObject
from sampler.custody import CustodyLog, IncrementRecord
from sampler.lab import ANALYTES
from tests.lines import archived_lot
from tests.report import pdftools

OREL = Path(__file__).parents[2] / ".venv" / "bin" / "oreline"
#: 20 analytes in element and oxide forms, with the precision a lab gives them, qualifiers included.
HEADER = ("Sample No.,TFe wt%,FeO,MFe,SiO2,Al2O3,CaO,MgO,Mn,TiO2,P2O5,S,Zn ppm,Pb ppm,Cu,Cr2O3,Na2O,K2O,As,"
          "LOI 1000°C,moisture")
ORE_ROW = "61.24,0.35,0.02,4.12,2.21,0.05,0.10,0.123,0.08,0.206,0.021,85,ND,<0.01,0.012,0.02,0.031,<0.005,5.43,8.1"
SLAG_ROW = "48.13,12.35,0.42,8.61,3.14,9.87,2.05,0.84,0.31,0.282,0.087,1250,310,0.215,0.35,0.08,0.12,0.0031,1.2,7.4"
LONG_SEAL = "S-MV-SIMULATED-SEAL-NUMBER-000017-OF-A-VERY-LONG-SERIES-QD"
LONG_NAME = "Dr. Anneliese Katharina Vandenberghe-Rasmussen-Oberhauser"
LONG_COMMENT = ("Targeted samples TS17 and TS18 show larnite and wüstite with a solidified-melt texture, consistent "
                "with a steel-slag admixture in the stretch at 300-500 t; the gross sample is consistent with ore. "
                "Recommend rejection of the affected stretch per GB 34330-2017 section 4.")
LONG_LAB = "Qingdao Port Customs Technical Centre — Mineral Assay and Solid Waste Identification Laboratory"


def oreline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(OREL), *args], check=False, capture_output=True, text=True, timeout=300)


def sample_ids(n: int, long: bool) -> list[str]:
    tail = "-TARGETED-INCREMENT-FROM-SEGMENT-WITH-A-LONG-IDENTIFIER" if long else ""
    return [f"LOT-C-G{k}" if k <= n - 2 else f"LOT-C-TS{k}{tail}" for k in range(1, n + 1)]


@pytest.fixture(scope="module")
def line_lot(tmp_path_factory) -> Path:
    """LOT-C as the line archived it (slag at 300-500 t, two objects, the NIR offline at 600-650 t), before any
    custody or lab rows: simulated once; each test imports its own samples into a copy (:func:`make_lot`)."""
    cargo = CargoModel("fines", [Admixture(300.0, 500.0, "waste", "slag", 0.08)],
                       [ForeignObject(150.0, "wood", 300.0, 80.0), ForeignObject(420.0, "plastic", 200.0, 90.0)])
    path = tmp_path_factory.mktemp("line") / "LOT-C.h5"
    archived_lot(path, cargo, lot_id="LOT-C", offline_t=[(600.0, 650.0)])
    return path


def make_lot(path: Path, ids: list[str], line_lot: Path) -> Path:
    """A copy of the archived ``line_lot`` at ``path`` with the samples ``ids`` cut, sealed and logged."""
    shutil.copyfile(line_lot, path)
    log = CustodyLog("LOT-C", epoch_offset_s=1.7649e9)
    for k, sid in enumerate(ids, start=1):
        role = "targeted" if "-TS" in sid else "routine"
        log.new_sample(sid, role, 1, 1.0)
        log.add_increment(IncrementRecord(f"I{k}", "LOT-C", k, role, 1, 35.0 * k, k, k, 0, "cut", 11.0, sid))
        log.transition(sid, "sealed", 100.0 + k, LONG_NAME, seal=LONG_SEAL.replace("000017", f"{k:06d}"))
    import_custody_rows(path, log.sample_rows(), kind="sample")
    import_custody_rows(path, log.increment_rows(), kind="increment")
    import_custody_rows(path, log.to_rows(), kind="custody")
    return path


def lab_file(path: Path, ids: list[str], lab: str = "Port Lab") -> Path:
    rows = [f"{sid.lower() if k % 3 == 0 else sid},{SLAG_ROW if '-TS' in sid else ORE_ROW}"
            for k, sid in enumerate(ids)]
    path.write_text(f"Laboratory: {lab}\nReport No.: QD-2026-001187\nDate received: 2026-12-01\n"
                    f"Date analysed: 2026-12-02\n{HEADER}\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def certified(tmp_path_factory, line_lot):
    """A closed lot with 20 samples, 20 analytes each imported and reviewed, its report written by the CLI."""
    tmp = tmp_path_factory.mktemp("cert")
    ids = sample_ids(20, long=False)
    lot = make_lot(tmp / "LOT-C.h5", ids, line_lot)
    out = oreline("archive", "import-lab", str(lot), str(lab_file(tmp / "lab.csv", ids)))
    assert out.returncode == 0, out.stderr
    out = oreline("report", str(lot), "--out", str(tmp / "rep"))
    assert out.returncode == 0, out.stderr
    return {"lot": lot, "pdf": tmp / "rep" / "LOT-C-report.pdf", "html": tmp / "rep" / "LOT-C-report.html"}


def test_every_number_of_the_lab_table_is_on_the_pdf_as_reported(certified):
    with open_archive(certified["lot"]) as a:
        results = latest_results(a)
    assert len(results) == 20 and all(len(r.reported) == 20 for r in results.values())
    lines = pdftools.text(certified["pdf"], layout=True).splitlines()
    keys = [a.key for a in ANALYTES if a.key in next(iter(results.values())).reported]
    for sid, res in results.items():
        expected = [res.reported[k] for k in keys]
        row = _row(lines, short_id(sid, "LOT-C"))
        assert row is not None, f"no PDF row for {sid}"
        assert row[2:] == expected, (sid, row, expected)


def _row(lines: list[str], short: str) -> list[str] | None:
    """The assay row of a sample in ``pdftotext -layout`` output: its id, role, then 20 cells."""
    for ln in lines:
        cells = ln.split()
        if cells[:1] == [short] and len(cells) == 22 and cells[1] in ("routine", "targeted"):
            return cells
    return None


def test_the_pdf_states_what_the_decisions_say(certified):
    text = pdftools.squeezed(pdftools.text(certified["pdf"]))
    with open_archive(certified["lot"]) as a:
        segs = a.segments()
        early = a.final_verdict()
    n_cont = sum(s.segment_class == "contaminated" for s in segs)
    assert n_cont == 2 and early.reasons == ("1 contaminated segment(s)",)  # the verdict was taken at 200 t
    assert pdftools.squeezed(f"{n_cont} contaminated segment(s)") in text
    counted, _ = objects_counted(segs)
    assert pdftools.squeezed(f"{counted} foreign object(s) counted by the segment decisions") in text
    assert pdftools.squeezed("line (segment decision)") in text  # the uninspected segment is a listed gap
    for word in ("Tested", "Checked", "Approved", "QD-2026-001187", "TS19", "MK-CU", "cu0.215", "page1of"):
        assert pdftools.squeezed(word) in text, word
    assert not re.search(r"17649\d{5}", text)  # no raw Unix seconds


def test_long_ids_names_comments_and_seals_are_never_cut(tmp_path, line_lot):
    ids = sample_ids(6, long=True)
    lot = make_lot(tmp_path / "LOT-C.h5", ids, line_lot)
    assert oreline("archive", "import-lab", str(lot), str(lab_file(tmp_path / "lab.csv", ids, LONG_LAB))).returncode == 0
    out = oreline("archive", "review", str(lot), "--name", LONG_NAME, "--decision", "waste", "--comment", LONG_COMMENT)
    assert out.returncode == 0, out.stderr
    out = oreline("report", str(lot), f"--out={tmp_path / 'rep'}")
    assert out.returncode == 0, out.stderr
    text = pdftools.squeezed(pdftools.text(tmp_path / "rep" / "LOT-C-report.pdf"))
    for whole in (*(short_id(s, "LOT-C") for s in ids[-2:]), LONG_NAME, LONG_COMMENT, LONG_LAB, LONG_SEAL.replace("000017", "000006"), "MK-CU"):
        assert pdftools.squeezed(whole) in text, whole
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "2", str(tmp_path / "rep" / "LOT-C-report.pdf"),
                        str(tmp_path / "p")], check=True, timeout=120)
        assert len(list(tmp_path.glob("p*.png"))) == 2


def test_report_command_help_and_refusals():
    out = oreline("report", "--help")
    assert out.returncode == 0 and "oreline report" in out.stdout
    out = oreline("report", "/nonexistent/LOT.h5")
    assert out.returncode == 2 and "error:" in out.stderr and "Traceback" not in out.stderr
