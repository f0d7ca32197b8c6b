"""The control room's lab queue: closed lots awaiting assays and the samples they wait for (API and Chromium)."""

from __future__ import annotations

import os
import shutil

import pytest

from analysis.archive import import_custody_rows, import_lab_file
from sampler.custody import CustodyLog, IncrementRecord

from tests.lines import archived_lot
from tests.controlroom.conftest import OPERATOR
from tests.controlroom.test_browser import CHROMIUM, browser, page  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory, finished):
    folder = tmp_path_factory.mktemp("lab-archives")
    path = folder / "LOT-Q.h5"
    archived_lot(path, lot_id="LOT-Q", stations="probe", mass_t=200.0)
    log = CustodyLog("LOT-Q")
    for sid, role in (("G1", "routine"), ("T1", "targeted"), ("T2", "targeted")):
        log.new_sample(sid, role, 1, 1.0)
        log.add_increment(IncrementRecord(f"I-{sid}", "LOT-Q", 1, role, 1, 50.0, 1, 1, 0, "cut", 10.0, sid))
    import_custody_rows(path, log.sample_rows(), kind="sample")
    import_custody_rows(path, log.increment_rows(), kind="increment")
    csv = folder / "lab.csv"
    csv.write_text("sample_id,TFe,SiO2,CaO,Al2O3\nG1,62,4,0.05,2.2\n")
    import_lab_file(path, csv)
    (folder / "open.h5").write_bytes(b"not an archive")  # an unreadable file is listed with its error
    finished.service.lab_folders = [str(folder)]
    yield folder
    finished.service.lab_folders = []


def test_api_lists_lots_awaiting_assays(finished, lab_folder):
    with finished.client(OPERATOR) as c:
        rows = c.get("/api/lab").json()
    lot = next(r for r in rows if r["lot_id"] == "LOT-Q")
    assert lot["awaiting"] == ["T1", "T2"] and lot["lab_verdict"] == "inconclusive"
    assert any("error" in r for r in rows)
    with finished.client() as c:
        assert c.get("/api/lab").status_code in (200, 401)  # open viewing or not: never a server error


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.exists(CHROMIUM) or not shutil.which(CHROMIUM), reason="no chromium")
def test_page_shows_the_lab_queue(finished, lab_folder, page, tmp_path_factory):  # noqa: F811
    page.goto(finished.url + "/")
    page.fill("#token", OPERATOR)
    page.click("#login-btn")
    row = page.locator("#lab tr[data-lot='LOT-Q']")
    row.wait_for()
    assert "T1, T2" in row.inner_text() and "inconclusive" in row.inner_text()
    shot = tmp_path_factory.getbasetemp() / "controlroom-lab-queue.png"
    page.locator("#lab-panel").screenshot(path=str(shot))
    print(f"\nlab queue screenshot: {shot}")
