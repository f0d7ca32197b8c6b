"""Lab results, the lab verdict and analyst reviews in a closed archive, through the installed ``oreline``."""

from __future__ import annotations

import json

import shutil
import subprocess
from pathlib import Path

import pytest

from conveyor.cargo import Admixture, CargoModel
from analysis.archive import import_custody_rows, open_archive
from analysis.archive import lab_history, lab_verdicts, latest_results, reviews
from sampler.custody import CustodyLog, IncrementRecord

from tests.lines import archived_lot

OREL = Path(__file__).parents[2] / ".venv" / "bin" / "oreline"
ORE = "62.0,0.3,4.0,2.2,0.05,0.1,0.01,hematite; quartz"
SLAGGY = "60.0,1.2,4.6,2.2,2.3,0.5,0.01,hematite; quartz; larnite (trace)"
HEAD = "sample_id,TFe,FeO,SiO2,Al2O3,CaO,MgO,Zn,phases\n"


def oreline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(OREL), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def closed_lot(tmp_path_factory):
    """A closed 800 t lot with waste-suspect segments, a gross sample and a targeted sample of a suspect segment."""
    path = tmp_path_factory.mktemp("lab") / "LOT-L.h5"
    cargo = CargoModel("fines", [Admixture(300.0, 500.0, "waste", "sludge", 0.3)])
    rig = archived_lot(path, cargo, lot_id="LOT-L", stations="nir")
    with open_archive(path) as a:
        suspect = [s for s in a.segments() if s.segment_class == "waste-suspect"]
        start = a.lot_start_mark_t
    assert suspect, "the fixture needs a waste-suspect segment"
    log = CustodyLog("LOT-L")
    log.new_sample("G1", "routine", 1, 1.0)
    log.add_increment(IncrementRecord("R1", "LOT-L", 1, "routine", 1, start + 50.0, 1, 1, 0, "cut", 11.0, "G1"))
    log.add_increment(IncrementRecord("R2", "LOT-L", 2, "routine", 1, start + 450.0, 2, 2, 0, "cut", 11.0, "G1"))
    for k, seg in enumerate(suspect, start=1):  # a targeted sample of every suspect segment
        log.new_sample(f"T{k}", "targeted", 1, 2.0)
        log.add_increment(IncrementRecord(f"TI{k}", "LOT-L", k, "targeted", 1, start + seg.end_t, 3, 3, 0, "cut",
                                          12.0, f"T{k}", "NIR waste-suspect segment"))
    log.transition("G1", "sealed", 3.0, "op", seal="S-G1")
    import_custody_rows(path, log.sample_rows(), kind="sample")
    import_custody_rows(path, log.increment_rows(), kind="increment")
    return {"path": path, "suspect": suspect, "monitor": rig.monitor}


@pytest.fixture
def lot(closed_lot, tmp_path):
    path = tmp_path / "LOT-L.h5"
    shutil.copy(closed_lot["path"], path)
    return path


@pytest.fixture
def targeted(closed_lot):
    return [f"T{k}" for k in range(1, len(closed_lot["suspect"]) + 1)]


def test_import_lab_then_supersede_keeps_the_history(lot, tmp_path, targeted):
    first = tmp_path / "first.csv"
    first.write_text(HEAD + f"G1,{ORE}\n")
    out = oreline("archive", "import-lab", str(lot), str(first))
    assert out.returncode == 0, out.stderr
    assert "lab verdict: inconclusive" in out.stdout and "awaiting assay: T1" in out.stdout
    again = oreline("archive", "import-lab", str(lot), str(first))
    assert again.returncode == 2 and "already has a lab result" in again.stderr and "nothing imported" in again.stderr
    second = tmp_path / "second.csv"
    second.write_text(HEAD + f"G1,{SLAGGY}\n" + "".join(f"{t},{ORE}\n" for t in targeted))
    assert oreline("archive", "review", str(lot), "--name", "First Reviewer", "--decision", "inconclusive").returncode == 0
    no_reason = oreline("archive", "import-lab", str(lot), str(second), "--supersede")
    assert no_reason.returncode == 2 and "needs a reason" in no_reason.stderr
    out = oreline("archive", "import-lab", str(lot), str(second), "--supersede", "--reason=re-assay after a weighing error")
    assert out.returncode == 0, out.stderr
    assert "lab verdict: waste (lab-confirmed)" in out.stdout and "read as utf-8" in out.stdout
    from analysis.report import write_report
    page = write_report(lot, tmp_path / "rep", pdf=False)["html"].read_text()
    amended = page[page.index("<h2>Amendments and reviews"):page.index("<h2>Gaps")]
    assert "re-assay after a weighing error" in amended and "CaO 0.05 → 2.3" in amended
    assert "First Reviewer" in amended and "STALE: results amended at" in amended
    with open_archive(lot) as a:
        assert [r["sample_id"] for r in lab_history(a)] == ["G1", "G1", *targeted]
        assert latest_results(a)["G1"].get("cao") == pytest.approx(2.3)
        assert [v["verdict"] for v in lab_verdicts(a)] == ["inconclusive", "waste"]
        assert a.final_verdict() is not None  # the line's verdict is untouched
        assert a.verdicts()[-1].verdict == a.final_verdict().verdict


def test_clean_assays_clear_the_lot(lot, tmp_path, targeted):
    csv = tmp_path / "lab.csv"
    csv.write_text(HEAD + "".join(f"{t},{ORE}\n" for t in ["G1", *targeted]))
    out = oreline("archive", "import-lab", str(lot), str(csv))
    assert out.returncode == 0, out.stderr
    assert "lab verdict: ore (lab-cleared)" in out.stdout
    status = oreline("archive", "lab-status", str(lot))
    assert "lab verdict: ore (lab-cleared)" in status.stdout and "line verdict:" in status.stdout


@pytest.mark.parametrize("body, match", [
    (f"G9,{ORE}\n", "unknown sample_id 'G9'"),
    ("G1,62,90,4,2,0.1,0.1,0.01,hematite\n", "FeO 90 % holds more iron"),
    ("sample_id,TFe,Au\nG1,60,1\n", "unknown column 'Au'"),
    # EAF dust with Zn and Pb in % under a ppm header (totals 62 %): refused, the unit named
    ("sample_id,TFe,SiO2,Al2O3,CaO,MgO,MnO,Zn ppm,Pb ppm\nG1,30,4,1,8,3,3,25,3\n", "Zn ppm, Pb ppm would total"),
    ("sample_id,TFe,SiO2,Al2O3,CaO,MgO,LOI\nG1,6.2,0.4,0.22,0.005,0.01,0.5\n", "the analysis totals 10.0 %"),
    ("sample_id,TFe,findings\nG1,60,\"" + "x" * 200_000 + "\"\n", "line 2, column 3: a cell of 200,000 characters"),
    ("sample_id,TFe,SiO2,Al2O3,CaO,seal\nG1,61,4,2,0.1,S-FORGED\n", "seal 'S-FORGED': not the seal of"),
    ("BIG", "expected at most 4,194,304 bytes"),
])
def test_bad_lab_files_import_nothing(lot, tmp_path, body, match):
    csv = tmp_path / "bad.csv"
    if body == "BIG":  # 50 MB: refused from its size, fast and without reading it
        with csv.open("wb") as fh:
            fh.write(HEAD.encode())
            fh.truncate(50 * 1024 * 1024)
    else:
        csv.write_text(body if body.startswith("sample_id") else HEAD + body)
    out = oreline("archive", "import-lab", str(lot), str(csv))
    assert out.returncode == 2 and match in out.stderr and "Traceback" not in out.stderr
    with open_archive(lot) as a:
        assert lab_history(a) == [] and lab_verdicts(a) == []


def test_reviews_are_appended(lot):
    out = oreline("archive", "review", str(lot), "--name", "A. Analyst", "--decision", "waste",
                  "--comment", "larnite in the gross sample")
    assert out.returncode == 0, out.stderr
    out = oreline("archive", "review", str(lot), "--name=B. Chemist", "--decision=retest", "--comment=resample T1")
    assert out.returncode == 0, out.stderr
    with open_archive(lot) as a:
        got = reviews(a)
    assert [(r.reviewer, r.decision) for r in got] == [("A. Analyst", "waste"), ("B. Chemist", "retest")]
    assert got[0].epoch_s <= got[1].epoch_s and got[0].comment == "larnite in the gross sample"
    bad = oreline("archive", "review", str(lot), "--name", " ", "--decision", "waste")
    assert bad.returncode == 2 and "needs the analyst's name" in bad.stderr
    bad = oreline("archive", "review", str(lot), "--name", "X", "--decision", "maybe")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    with open_archive(lot) as a:
        assert len(reviews(a)) == 2


def test_lab_confirmed_segments_become_field_spectra_for_training(lot, tmp_path, targeted, closed_lot):
    from spectra.models.evaluation import read_labelled_folder

    csv = tmp_path / "lab.csv"
    csv.write_text(HEAD + f"G1,{ORE}\n" + "".join(f"{t},{SLAGGY}\n" for t in targeted))
    assert oreline("archive", "import-lab", str(lot), str(csv)).returncode == 0
    out = tmp_path / "field"
    for opts in (["--out", str(out), "--group-by", "sample", "--test-fraction", "0.5"],
                 [f"--out={out}", "--group-by=sample", "--test-fraction=0.5"]):
        proc = oreline("archive", "export-field-spectra", str(lot), *opts)
        assert proc.returncode == 0, proc.stderr
    labels = {side: (out / side / "labels.csv").read_text().splitlines()[1:] for side in ("train", "test")}
    rows = [r.split(",") for side in labels.values() for r in side]
    assert len(rows) == len(targeted) and {r[1] for r in rows} == {"waste"}
    segments = {r[3] for r in rows}
    assert segments == {str(s.index) for s in closed_lot["suspect"]}
    train_files = {r.split(",")[0] for r in labels["train"]}
    assert train_files.isdisjoint(r.split(",")[0] for r in labels["test"])  # a segment on one side only
    all_train = tmp_path / "all-train"
    assert oreline("archive", "export-field-spectra", str(lot), "--out", str(all_train), "--test-fraction", "0",
                   "--outcome", "waste").returncode == 0
    field = read_labelled_folder(str(all_train / "train"), str(all_train / "train" / "labels.csv"), "ingaas256")
    assert len(field.labels) > 0 and set(field.labels) == {"waste"}
    assert field.reflectance.shape[1] == 256
    # the exported folder is also what `spectra evaluate --test-library` identifies, each file on its own grid
    ev = oreline("spectra", "evaluate", "--test-library", str(all_train / "train"), "--labels",
                 str(all_train / "train" / "labels.csv"), "--out", str(tmp_path / "ident"))
    assert ev.returncode == 0, ev.stderr
    scored = json.loads((tmp_path / "ident" / "identification.json").read_text())
    assert len(scored["rows"]) == len(field.labels) and not scored["errors"]


def test_report_shows_both_verdicts_the_rule_that_fired_and_the_review(lot, tmp_path, targeted):
    from analysis.report import write_report

    csv = tmp_path / "lab.csv"
    csv.write_text(HEAD + f"G1,{SLAGGY}\n" + "".join(f"{t},{ORE}\n" for t in targeted))
    assert oreline("archive", "import-lab", str(lot), str(csv)).returncode == 0
    assert oreline("archive", "review", str(lot), "--name", "A. Analyst", "--decision", "waste",
                   "--comment", "larnite in G1").returncode == 0
    paths = write_report(lot, tmp_path / "rep")
    html = paths["html"].read_text()
    for text in ("Certificate of inspection", "lab-confirmed", "Rules that fired and the indicator values behind them",
                 "MK-BASICITY", "A. Analyst", "larnite in G1", "Appendix: provenance", "site configuration digest"):
        assert text in html, text
    if shutil.which("pdftotext"):  # the PDF carries the same
        pdf_text = subprocess.run(["pdftotext", str(paths["pdf"]), "-"], capture_output=True, text=True,
                                  check=True, timeout=60).stdout
        for text in ("MK-BASICITY", "A. Analyst", "larnite in G1", "Tested", "Checked", "Approved"):
            assert text in pdf_text, text
    assert '"config"' not in html  # provenance is a table, not a JSON dump
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) not installed: PDF pages not rendered")
    subprocess.run([pdftoppm, "-png", "-r", "40", "-f", "1", "-l", "1", str(paths["pdf"]), str(tmp_path / "p")],
                   check=True, timeout=60)
    png = next(tmp_path.glob("p*.png"))
    assert png.stat().st_size > 5000  # a page with the verdict boxes, not a blank one
