"""Lab files as labs and LIMS export them (issue 22): qualifiers, element/oxide forms, aliases, separators,
encodings, FeO-less iron, low totals, unit mistakes, size limits, custody and certificate metadata."""

from __future__ import annotations

import hashlib
import math
import subprocess
from pathlib import Path

import pytest

from sampler.custody import CustodyLog
from sampler.errors import CustodyError, LabResultError
from sampler.lab import load_lab_file, load_lab_results
from sampler.labrules import classify, indicators

OREL = Path(__file__).parents[2] / ".venv" / "bin" / "oreline"
IDS = {"LOT-1-G1", "LOT-1-G2"}
ORE = ("Sample No.,T.Fe,FeO,SiO2,Al2O3,CaO,MgO,Mn,P2O5,SO3,Zn,As,Cd,LOI 1000°C\n"
       "lot-1-g1,61.24,0.35,4.1,2.2,0.05,0.1,0.12,0.2,0.05,ND,<0.005,<0.001,5.1\n")


def write(tmp_path: Path, data: bytes | str, name: str = "lab.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def test_lims_export_keeps_the_labs_text_forms_and_qualifiers(tmp_path):
    p = write(tmp_path, ORE)
    (r,), lab = load_lab_file(p, IDS)
    assert r.sample_id == "LOT-1-G1"  # lower-case id matched
    assert r.reported["tfe"] == "61.24" and r.reported["feo"] == "0.35" and r.reported["as"] == "<0.005"
    assert r.forms["mno"] == "Mn" and r.forms["p"] == "P2O5" and r.forms["s"] == "SO3"
    assert r.get("mno") == pytest.approx(0.12 * 1.2912, rel=1e-3) and r.get("p") == pytest.approx(0.0873, rel=1e-2)
    assert r.get("s") == pytest.approx(0.05 * 0.4005, rel=1e-3)
    assert math.isnan(r.get("as")) and r.qualified["as"] == pytest.approx(0.005) and math.isnan(r.qualified["zn"])
    # the rules' treatment: ND and a limit below every threshold count as 0
    ind = indicators(r)
    assert ind["zn"] == 0.0 and ind["as"] == 0.0
    assert lab.sha256 == hashlib.sha256(p.read_bytes()).hexdigest() and r.certificate["sha256"] == lab.sha256
    assert classify(r).outcome == "ore"


def test_a_limit_above_a_rule_threshold_is_not_taken_as_zero(tmp_path):
    p = write(tmp_path, "sample_id,TFe,FeO,SiO2,Al2O3,CaO,MgO,Zn,Pb\nLOT-1-G1,61,0.3,4,2,0.05,0.1,<0.5,<0.5\n")
    (r,) = load_lab_results(p, IDS)
    assert math.isnan(indicators(r)["zn"])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gbk"])
def test_chinese_headers_in_every_encoding(tmp_path, encoding):
    text = ("样品编号\t全铁/TFe\t氧化亚铁\t二氧化硅\t三氧化二铝\t氧化钙\t氧化镁\t砷\t烧失量\n"
            "LOT-1-G1\t61.24\t0.35\t4.1\t2.2\t0.05\t0.1\t未检出\t5.1\n")
    (r,), lab = load_lab_file(write(tmp_path, text.encode(encoding), "zh.tsv"), IDS)
    assert r.reported["tfe"] == "61.24" and r.qualified.keys() == {"as"} and lab.delimiter == "\t"
    assert lab.encoding.split()[0] in (encoding, "utf-16-le", "utf-16-be", "utf-8")


def test_semicolon_and_decimal_comma(tmp_path):
    p = write(tmp_path, "sample_id;TFe wt%;SiO2;Al2O3;CaO;MgO;P\nLOT-1-G1;61,24;4,1;2,2;0,05;0,1;<0,01\n")
    (r,), lab = load_lab_file(p, IDS)
    assert lab.delimiter == ";" and r.reported["tfe"] == "61,24" and r.get("tfe") == 61.24
    assert r.qualified["p"] == pytest.approx(0.01)


def test_certificate_metadata_and_methods(tmp_path):
    text = ("Laboratory: Port Lab Qingdao\nReport No.: QD-2026-1187\nDate received: 2026-12-01\n"
            "Date analysed: 2026-12-02\n\nsample_id,TFe,SiO2,Al2O3,CaO,MgO\n"
            "method,ISO 9507,ISO 9516-1,ISO 9516-1,ISO 9516-1,ISO 9516-1\nLOT-1-G1,69.1,2.1,0.5,0.1,0.2\n")
    (r,), lab = load_lab_file(write(tmp_path, text), IDS)
    assert lab.metadata["lab_name"] == "Port Lab Qingdao" and r.certificate["report_no"] == "QD-2026-1187"
    assert r.methods["tfe"] == "ISO 9507" and r.custody["received"] == "2026-12-01"


@pytest.mark.parametrize("row", [
    "LOT-1-G1,69.1,2.1,0.5,0.1,0.2",   # magnetite concentrate, no FeO (as Fe2O3 it would total 102.7 %)
    "LOT-1-G1,72.5,0.8,0.3,0.2,0.1",   # mill scale, no FeO
])
def test_iron_without_feo_is_bounded_not_all_fe2o3(tmp_path, row):
    (r,) = load_lab_results(write(tmp_path, "sample_id,TFe,SiO2,Al2O3,CaO,MgO\n" + row + "\n"), IDS)
    assert r.get("tfe") > 69


@pytest.mark.parametrize("text, match", [
    # EAF dust with Zn and Pb in % under a ppm header: the total is low and the unit is named
    ("sample_id,TFe,SiO2,Al2O3,CaO,MgO,MnO,Zn ppm,Pb ppm\nLOT-1-G1,30,4,1,8,3,3,25,3\n",
     "Zn ppm, Pb ppm would total"),
    # every value divided by 10
    ("sample_id,TFe,SiO2,Al2O3,CaO,MgO,LOI\nLOT-1-G1,6.12,0.41,0.22,0.005,0.01,0.51\n", "the analysis totals 9.9 %"),
    ("sample_id,TFe,SiO2 ppm\nLOT-1-G1,60,40000\n", "SiO2 is a major constituent reported in %"),
    ("sample_id,TFe,Zn\nLOT-1-G1,60,about 1\n", "column 3 'Zn': expected a number, '<limit' or ND"),
    ("sample_id,TFe,SiO2,Al2O3,CaO,received,analysed\nLOT-1-G1,61,4,2,0.1,2026-12-03,2026-12-02\n",
     "analysed 2026-12-02 before received 2026-12-03"),
    ("sample_id,TFe,findings\nLOT-1-G1,60,\"" + "x" * 200_000 + "\"\n", "line 2, column 3: a cell of 200,000"),
    ("sample_id,Mn,MnO\nLOT-1-G1,1,1\n", "given more than once"),
])
def test_bad_files_are_refused_with_line_and_column(tmp_path, text, match):
    with pytest.raises(LabResultError, match=match):
        load_lab_results(write(tmp_path, text), IDS)


def test_a_50_mb_file_is_refused_from_its_size(tmp_path):
    p = tmp_path / "big.csv"
    with p.open("wb") as fh:
        fh.write(b"sample_id,TFe\n")
        fh.truncate(50 * 1024 * 1024)
    with pytest.raises(LabResultError, match="expected at most 4,194,304 bytes"):
        load_lab_results(p, IDS)


def test_a_seal_that_is_not_the_samples_is_refused(tmp_path):
    text = "sample_id,TFe,SiO2,Al2O3,CaO,seal,seal_intact,received_by\nLOT-1-G1,61,4,2,0.1,S-999,yes,Li Wei\n"
    with pytest.raises(LabResultError, match="seal 'S-999': not the seal of LOT-1-G1"):
        load_lab_results(write(tmp_path, text), IDS, seals={"LOT-1-G1": "S-123"})
    (r,) = load_lab_results(write(tmp_path, text.replace("S-999", "S-123")), IDS, seals={"LOT-1-G1": "S-123"})
    assert r.custody["seal_intact"] == "intact" and r.custody["seal_checked"] == "matches the sample's seal"


def test_custody_steps_keep_time_person_and_check_the_seal():
    log = CustodyLog("L1")
    log.new_sample("L1-G1", "routine", 1, 0.0)
    log.transition("L1-G1", "sealed", 10.0, "op A", seal="S-1")
    log.transition("L1-G1", "dispatched", 20.0, "courier B")
    with pytest.raises(CustodyError, match="received with seal 'S-2', expected 'S-1'"):
        log.transition("L1-G1", "received", 30.0, "lab C", seal="S-2")
    log.transition("L1-G1", "received", 30.0, "lab C", seal="S-1")
    log.transition("L1-G1", "analysed", 40.0, "analyst D")
    ev = log.sample("L1-G1").events
    assert [(e.status, e.by) for e in ev[-3:]] == [("dispatched", "courier B"), ("received", "lab C"),
                                                   ("analysed", "analyst D")]
    assert "seal S-1 checked intact" in ev[-2].note


@pytest.mark.parametrize("opt", [["--sample-ids", "LOT-1-G1"], ["--sample-ids=LOT-1-G1"]])
def test_lab_import_command_through_the_installed_cli(tmp_path, opt):
    good = write(tmp_path, ORE.encode("utf-16"), "good.csv")
    out = subprocess.run([str(OREL), "sampler", "lab-import", str(good), *opt], check=False, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "read as utf-16" in out.stdout and "TFe 61.24" in out.stdout and "As <0.005" in out.stdout
    bad = write(tmp_path, "sample_id,TFe,Zn\nLOT-1-G9,80,x\n", "bad.csv")
    out = subprocess.run([str(OREL), "sampler", "lab-import", str(bad), *opt], check=False, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "3 problem(s)" in out.stderr and "unknown sample_id 'LOT-1-G9'" in out.stderr
    assert "TFe expected 0..75 %, got 80" in out.stderr and "column 3 'Zn'" in out.stderr
    assert "oreline sampler lab-import" in subprocess.run([str(OREL), "sampler", "lab-import", "--help"],
                                                          check=False, capture_output=True, text=True, timeout=120).stdout
