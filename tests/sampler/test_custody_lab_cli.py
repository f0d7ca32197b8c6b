import csv
import json

import pytest

from sampler.cli import cli_custody, cli_lab_import, cli_plan
from sampler.custody import CustodyLog, IncrementRecord, barcode, write_custody_csv
from sampler.errors import CustodyError, LabResultError
from sampler.lab import attach_results, load_lab_results

HEADER = "sample_id,Fe,SiO2,Al2O3,P,S,LOI,moisture,findings\n"


def inc(iid, role="routine", status="cut", sample="L1-G1", mass=400.0):
    return IncrementRecord(iid, "L1", 1, role, 1, 10.0, 5.0, 5.1, 0.1, status, mass, sample if status in ("cut", "late") else "")


def log_with_samples():
    log = CustodyLog("L1")
    log.new_sample("L1-G1", "routine", 1, 0.0)
    log.new_sample("L1-TS001", "targeted", 1, 0.0)
    return log


def test_custody_chain_and_csv(tmp_path):
    log = log_with_samples()
    log.add_increment(inc("L1-R0001"))
    log.add_increment(inc("L1-R0002", status="missed"))
    log.add_increment(inc("L1-T001", role="targeted", sample="L1-TS001", mass=300.0))
    g = log.samples["L1-G1"]
    assert g.increment_ids == ["L1-R0001"] and g.mass_kg == 400.0
    for status in ("sealed", "dispatched", "received", "analysed", "archived"):
        log.transition("L1-G1", status, 100.0, seal="S-1" if status == "sealed" else "")
    path = write_custody_csv(tmp_path / "c.csv", log.to_rows())
    rows = list(csv.DictReader(path.open()))
    assert [r["status"] for r in rows if r["sample_id"] == "L1-G1"] == [
        "open", "sealed", "dispatched", "received", "analysed", "archived"]
    assert rows[0]["container"] == g.container and g.seal == "S-1"


def test_custody_refuses_mixups_and_bad_changes():
    log = log_with_samples()
    with pytest.raises(CustodyError, match="targeted.*cannot go into routine"):
        log.add_increment(inc("L1-T001", role="targeted", sample="L1-G1"))
    with pytest.raises(CustodyError, match="routine.*cannot go into targeted"):
        log.add_increment(inc("L1-R0001", sample="L1-TS001"))
    log.add_increment(inc("L1-R0001"))
    with pytest.raises(CustodyError, match="recorded twice"):
        log.add_increment(inc("L1-R0001"))
    with pytest.raises(CustodyError, match="already exists"):
        log.new_sample("L1-G1", "routine", 1, 0.0)
    with pytest.raises(CustodyError, match="unknown sample"):
        log.add_increment(inc("L1-R0003", sample="L1-G9"))
    with pytest.raises(CustodyError, match="open -> received"):
        log.transition("L1-G1", "received", 1.0)
    with pytest.raises(CustodyError, match="seal number"):
        log.transition("L1-G1", "sealed", 1.0)
    log.transition("L1-G1", "sealed", 1.0, seal="S1")
    with pytest.raises(CustodyError, match="only into open samples"):
        log.add_increment(inc("L1-R0004"))
    log.transition("L1-G1", "rejected", 2.0, note="seal broken")
    with pytest.raises(CustodyError):
        log.transition("L1-G1", "dispatched", 3.0)
    with pytest.raises(CustodyError, match="status must be"):
        inc("L1-R0009", status="lost")


def test_barcode_check_digit():
    assert barcode("L1", 1).startswith("OL-L1-000001-")
    assert barcode("L1", 1) != barcode("L1", 2)


def write(tmp_path, body, header=HEADER):
    p = tmp_path / "lab.csv"
    p.write_text(header + body)
    return p


def test_lab_import_and_attach(tmp_path):
    p = write(tmp_path, "L1-G1,62.1,4.2,2.3,0.08,0.02,5.5,8.1,\nL1-TS001,48.0,15.0,3.1,0.1,0.9,6.0,9.0,slag fragments\n")
    res = load_lab_results(p, {"L1-G1", "L1-TS001", "L1-G2"})
    assert [r.sample_id for r in res] == ["L1-G1", "L1-TS001"]
    assert res[1].findings == "slag fragments" and res[0].get("tfe") == 62.1
    rows = attach_results(log_with_samples().sample_rows(), res)
    assert rows[0]["tfe_pct"] == 62.1 and rows[1]["findings"] == "slag fragments"
    with pytest.raises(LabResultError, match="unknown samples"):
        attach_results([], res)


def test_lab_headers_are_forgiving(tmp_path):
    p = write(tmp_path, "A,60,5,2,0.1,0.1,4,8\n", header="Sample ID,Fe %,SiO2_pct,Al2O3,P,S,LOI,Moisture\n")
    assert load_lab_results(p, {"A"})[0].get("moisture") == 8.0


@pytest.mark.parametrize(
    "body, match",
    [
        ("X,60,5,2,0.1,0.1,4,8,\n", "unknown sample_id 'X'"),
        ("A,60,5,2,0.1,0.1,4,8,\nA,61,5,2,0.1,0.1,4,8,\n", "duplicate sample_id 'A'"),
        ("A,80,5,2,0.1,0.1,4,8,\n", "TFe expected 0..75 %, got 80"),
        ("A,60,5,2,12,0.1,4,8,\n", "P expected 0..10 %"),
        ("A,60,5,2,0.1,0.1,55,8,\n", "LOI expected -10..50 %"),
        ("A,60,5,2,0.1,0.1,4,41,\n", "moisture expected 0..40 %"),
        ("A,60,-1,2,0.1,0.1,4,8,\n", "SiO2 negative"),
        ("A,sixty,5,2,0.1,0.1,4,8,\n", "expected a number"),
        ("A,nan,5,2,0.1,0.1,4,8,\n", "expected a number, '<limit' or ND, got 'nan'"),
        (",60,5,2,0.1,0.1,4,8,\n", "empty sample_id"),
        ("A,60,5,2,0.1,0.1,4,8,x,y\n", "extra values"),
    ],
)
def test_lab_bad_input(tmp_path, body, match):
    p = write(tmp_path, body)
    with pytest.raises(LabResultError, match=match):
        load_lab_results(p, {"A", "B"})


def test_lab_missing_file_and_id_column(tmp_path):
    p = write(tmp_path, "A,60\n", header="sample,Fe\n")
    assert load_lab_results(p, {"A"})[0].assays_pct == {"tfe": 60.0}  # any subset of analytes
    with pytest.raises(LabResultError, match="expected a header row with a sample_id column"):
        load_lab_results(write(tmp_path, "60\n", header="Fe\n"), {"A"})
    with pytest.raises(LabResultError, match="cannot read"):
        load_lab_results(tmp_path / "nope.csv", {"A"})


def test_lab_reports_every_problem_at_once(tmp_path):
    p = write(tmp_path, "X,60,5,2,0.1,0.1,4,8,\nA,99,5,2,0.1,0.1,4,8,\n")
    with pytest.raises(LabResultError) as info:
        load_lab_results(p, {"A"})
    assert "2 problem(s)" in str(info.value) and "line 2" in str(info.value) and "line 3" in str(info.value)


def test_cli_plan(capsys):
    assert cli_plan(["120000", "--quality-variation", "small"]) == 0
    out = capsys.readouterr().out
    assert "primary increments (lot minimum): 30" in out and "4,000.000 t" in out
    assert cli_plan(["200000", "--json", "--sublots", "2"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_total"] == 64 and d["sublots"] == 2
    assert cli_plan(["1000", "--top-size-mm", "40", "--cutter-aperture-mm", "50"]) == 1
    assert "aperture" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_plan(["--basis", "volume", "1000"])


def test_cli_lab_import_and_custody(tmp_path, capsys):
    samples = tmp_path / "samples.csv"
    samples.write_text("sample_id,role\nA,routine\nB,targeted\n")
    good = write(tmp_path, "A,60,5,2,0.1,0.1,4,8,ok\n")
    assert cli_lab_import([str(good), "--samples-csv", str(samples)]) == 0
    assert "imported 1 lab results" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Z,60,5,2,0.1,0.1,4,8,\n")
    assert cli_lab_import([str(bad), "--sample-ids", "A", "B"]) == 2
    assert "unknown sample_id 'Z'" in capsys.readouterr().err
    log = log_with_samples()
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps(log.to_rows()))
    out = tmp_path / "custody.csv"
    assert cli_custody([str(rows), "-o", str(out)]) == 0
    assert len(list(csv.DictReader(out.open()))) == 2
    rows.write_text(json.dumps([{"sample_id": "A", "colour": "red"}]))
    assert cli_custody([str(rows), "-o", str(out)]) == 1
    rows.write_text("{not json")
    assert cli_custody([str(rows), "-o", str(out)]) == 1
