"""The batch report regenerated from archives written by a real line."""

from __future__ import annotations

import html
import re
import shutil
from html.parser import HTMLParser

import h5py
import numpy as np
import pytest

from analysis.archive import cli_archive, import_custody_rows, open_archive
from analysis.report import build_report_data, cli_report, write_report
from analysis.report.read import NirSummary, abundance_check
from conveyor.cargo import Admixture, CargoModel, ForeignObject
from sampler.custody import CustodyLog, IncrementRecord
from tests.lines import archived_lot
from tests.report import pdftools


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.tags, self.imgs = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href"):
                self.refs.append(v or "")
        self.imgs += tag == "img"


def _custody(lot_id: str) -> CustodyLog:
    log = CustodyLog(lot_id)
    log.new_sample("G1", "routine", 0, 10.0)
    log.new_sample("T1", "targeted", 0, 50.0)
    log.add_increment(IncrementRecord("I1", lot_id, 1, "routine", 0, 40.0, 30.0, 30.2, 0.2, "cut", 11.5, "G1"))
    log.add_increment(IncrementRecord("I2", lot_id, 2, "routine", 0, 90.0, 60.0, float("nan"), float("nan"),
                                      "missed", float("nan"), "", "robot busy"))
    log.add_increment(IncrementRecord("T-1", lot_id, 1, "targeted", 0, 150.0, 100.0, 100.1, 0.1, "cut", 12.0, "T1",
                                      "vision: wood", "1"))
    log.transition("G1", "sealed", 200.0, seal="S-1")
    log.transition("T1", "sealed", 200.0, seal="S-2")
    return log


@pytest.fixture(scope="module")
def lot(tmp_path_factory):
    path = tmp_path_factory.mktemp("rep") / "LOT-R.h5"
    cargo = CargoModel("fines", [Admixture(300.0, 500.0, "waste", "slag", 0.08)],
                       [ForeignObject(150.0, "wood", 300.0, 80.0), ForeignObject(420.0, "plastic", 200.0, 90.0)])
    return archived_lot(path, cargo, lot_id="LOT-R", offline_t=[(600.0, 650.0)])


def test_html_is_self_contained_and_shows_every_section(lot, tmp_path):
    paths = write_report(lot.archive.path, tmp_path)
    text = paths["html"].read_text()
    parser = _Refs()
    parser.feed(text)
    assert parser.refs and all(r.startswith("data:image/png;base64,") for r in parser.refs)
    assert "link" not in parser.tags and "script" not in parser.tags
    for section in ("Certificate of inspection", "Lab results", "Amendments and reviews", "Gaps and missing data",
                    "Segment classes", "NIR: mean spectra and mineral abundances", "Detections",
                    "Sample record (ISO 3082)", "Alarms", "Appendix: provenance"):
        assert f"<h2>{section}" in text
    assert "CONTAMINATED" in text
    assert re.search(r"<td>nir</td><td class='r'>600\.\d t</td><td class='r'>65\d\.\d t</td><td>NIR offline</td>",
                     text)
    assert "no lab results imported" in text
    assert "USGS splib07 class means resampled onto the archive grid" in text
    assert parser.imgs == 3 + 2  # timeline, spectra, abundances + two thumbnails
    assert text.count("<tr") >= len(lot.alarms.all())
    assert paths["pdf"].read_bytes().startswith(b"%PDF")
    pdf_text = pdftools.squeezed(pdftools.text(paths["pdf"]))
    n_pages = pdftools.pages(paths["pdf"])
    for section in re.findall(r"<h2>([^<]+)</h2>", text):  # the PDF carries every section of the HTML
        assert pdftools.squeezed(html.unescape(section)) in pdf_text, section
    assert f"page1of{n_pages}" in pdf_text and f"page{n_pages}of{n_pages}" in pdf_text


def test_sample_record_joins_lab_results_and_marks_the_missing(lot, tmp_path):
    path = tmp_path / "LOT-R.h5"
    shutil.copy(lot.archive.path, path)
    log = _custody("LOT-R")
    assert import_custody_rows(path, log.to_rows()) == 4  # open + sealed for two samples
    assert import_custody_rows(path, log.sample_rows(), kind="sample") == 2
    assert import_custody_rows(path, log.increment_rows(), kind="increment") == 3
    assert import_custody_rows(path, log.increment_rows(), kind="increment") == 0
    csv = tmp_path / "lab.csv"
    csv.write_text("sample_id,Fe,SiO2,Al2O3,P,S,LOI,moisture,findings\nG1,62.4,4.1,2.2,0.07,0.01,3.5,8.2,ok\n")
    assert cli_archive(["import-lab", str(path), str(csv)]) == 0
    data = build_report_data(open_archive(path))
    assert [r["sample_id"] for r in data.lab_results] == ["G1"]
    assert any("no lab result yet for 1 sample(s): T1" in n for n in data.notes)
    text = write_report(path, tmp_path, pdf=False)["html"].read_text()
    assert "62.4" in text and "awaiting assay" in text and "robot busy" in text and "S-2" in text


def test_lab_csv_with_unknown_sample_imports_nothing(lot, tmp_path, capsys):
    path = tmp_path / "LOT-R.h5"
    shutil.copy(lot.archive.path, path)
    csv = tmp_path / "lab.csv"
    csv.write_text("sample_id,Fe,SiO2,Al2O3,P,S,LOI,moisture\nNOPE,62.4,4.1,2.2,0.07,0.01,3.5,8.2\n")
    assert cli_archive(["import-lab", str(path), str(csv)]) == 2
    assert "nothing imported" in capsys.readouterr().err
    with open_archive(path) as a:
        assert a.lab_results() == []


def test_missing_reference_library_is_a_marked_gap_not_a_failure(lot, tmp_path, monkeypatch):
    monkeypatch.setenv("ORELINE_SHARED_DATA", str(tmp_path))  # no spectra/ in there
    text = write_report(lot.archive.path, tmp_path, pdf=False)["html"].read_text()
    assert "library reference spectra unavailable" in text
    assert "<h2>NIR: mean spectra" in text and "segments (n=" not in text or "USGS" not in text


def test_lot_without_camera_or_nir_still_reports_with_gaps_named(tmp_path):
    path = tmp_path / "LOT-P.h5"
    archived_lot(path, stations="probe", lot_id="LOT-P", mass_t=200.0)
    data = build_report_data(open_archive(path))
    assert "no NIR stream in this archive: no spectra, abundances or NIR scores" in data.notes
    assert "no camera stream in this archive: no detection gallery" in data.notes
    paths = write_report(path, tmp_path)
    assert paths["pdf"].exists() and "no spectra to show" in paths["html"].read_text()


def test_cli_regenerates_and_refuses_bad_archives(lot, tmp_path, capsys):
    assert cli_report([str(lot.archive.path), "--out", str(tmp_path / "out"), "--no-pdf"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["LOT-R-report.html"]
    bad = tmp_path / "bad.h5"
    bad.write_bytes(lot.archive.path.read_bytes()[:5000])
    assert cli_report([str(bad)]) == 2
    assert "error:" in capsys.readouterr().err
    old = tmp_path / "old.h5"
    shutil.copy(lot.archive.path, old)
    with h5py.File(old, "r+") as f:
        f.attrs["format_version"] = 0
    assert cli_report([str(old)]) == 2
    assert "older" in capsys.readouterr().err


def test_abundance_check_against_simulated_truth():
    """Estimated vs simulated mass fractions: components matched by name, 'other' estimated as 0."""
    nir = NirSummary("nir", None, 10, 10, {}, ["hematite", "quartz", "water"], np.array([[0.7, 0.24, 0.06]]), {},
                     truth_names=["hematite", "quartz", "water", "other"],
                     segment_truth=np.array([[0.6, 0.28, 0.07, 0.05]]), lot_abundance=np.array([0.7, 0.24, 0.06]),
                     lot_truth=np.array([0.6, 0.28, 0.07, 0.05]), mean_residual=0.01)
    rows, lot_mae, seg_mae = abundance_check(nir)
    assert [r["component"] for r in rows] == ["hematite", "quartz", "water", "other"]
    assert rows[3]["estimated"] == 0.0 and rows[0]["abs_error"] == pytest.approx(0.1)
    assert lot_mae == pytest.approx((0.1 + 0.04 + 0.01 + 0.05) / 4) and seg_mae == pytest.approx(lot_mae)
    assert abundance_check(NirSummary("nir", None, 1, 1, {}, ["quartz"], None, {})) is None
