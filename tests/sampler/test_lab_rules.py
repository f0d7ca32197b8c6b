"""Lab import of the full analyte set and the rule set's decisions (issue 15)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest

from sampler.errors import LabResultError
from sampler.lab import LabResult, load_lab_results, oxide_sum_pct, parse_column, parse_phases
from sampler.labrules import RULES, SOURCES, classify
from sampler.labtable import load_composition_table, score_rows

TABLE = Path(__file__).parents[1] / "resources" / "published_compositions.csv"
OREL = Path(__file__).parents[2] / ".venv" / "bin" / "oreline"
HEADER = "sample_id,TFe %,FeO,MFe,SiO2,Al2O3,CaO,MgO,Zn (ppm),Pb mg/kg,Cu_g/t,Na2O,LOI,moisture,phases,texture\n"


def write(tmp_path, text, name="lab.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_units_and_phases_are_read(tmp_path):
    p = write(tmp_path, HEADER + "S1,62,0.4,,4.0,2.2,0.05,0.1,120,40,30,0.02,5.5,8,hematite; quartz (minor); "
                                 "larnite: trace,granular\n")
    (r,) = load_lab_results(p, {"S1"})
    assert r.get("zn") == pytest.approx(0.012) and r.get("pb") == pytest.approx(0.004) and r.get("cu") == pytest.approx(0.003)
    assert math.isnan(r.get("mfe"))
    assert [str(ph) for ph in r.phases] == ["hematite", "quartz (minor)", "larnite (trace)"]
    assert parse_column("Zn (ppm)") == ("analyte", "zn", "ppm")
    assert parse_column("Fe_met %") == ("analyte", "mfe", "%")
    assert parse_phases("Wüstite | glass")[0].name == "wustite"


def test_units_row_under_the_header(tmp_path):
    p = write(tmp_path, "sample_id,TFe,Zn\nunits,%,ppm\nS1,60,2500\n")
    assert load_lab_results(p, {"S1"})[0].get("zn") == pytest.approx(0.25)
    with pytest.raises(LabResultError, match="unit 'ppb'"):
        load_lab_results(write(tmp_path, "sample_id,TFe,Zn\nunits,%,ppb\nS1,60,2500\n"), {"S1"})


@pytest.mark.parametrize("header, row, match", [
    ("sample_id,TFe,Au\n", "S1,60,1\n", "unknown column 'Au'"),
    ("sample_id,TFe,FeO\n", "S1,40,60\n", "FeO 60 % holds more iron than TFe 40 %"),
    ("sample_id,TFe,MFe\n", "S1,40,45\n", "metallic Fe 45 % exceeds TFe"),
    ("sample_id,SiO2,CaO,Al2O3,MgO\n", "S1,50,40,10,5\n", "sum of oxides 105.0 %"),
    ("sample_id,TFe,CaO\n", "S1,60,-0.1\n", "CaO negative"),
    ("sample_id,TFe,Zn ppm\n", "S1,60,900000\n", "Zn expected 0..80 %"),
    ("sample_id,TFe\n", "S9,60\n", "unknown sample_id 'S9'"),
])
def test_impossible_values_and_unknowns_are_refused(tmp_path, header, row, match):
    with pytest.raises(LabResultError, match=match):
        load_lab_results(write(tmp_path, header + row), {"S1"})


def test_second_import_needs_supersede(tmp_path):
    p = write(tmp_path, "sample_id,TFe,SiO2,CaO\nS1,60,4,0.1\nS2,61,4,0.1\n")
    with pytest.raises(LabResultError, match="'S1' already has a lab result"):
        load_lab_results(p, {"S1", "S2"}, imported_sample_ids={"S1"})
    res = load_lab_results(p, {"S1", "S2"}, imported_sample_ids={"S1"}, supersede=True)
    assert [r.supersedes for r in res] == [True, False]


def test_oxide_sum_counts_iron_as_its_oxides():
    # hematite: 69.94 % Fe is 100 % Fe2O3
    assert oxide_sum_pct({"tfe": 69.94}) == pytest.approx(100.0, abs=0.05)
    # wustite-rich: FeO carries its own iron
    assert oxide_sum_pct({"tfe": 77.73, "feo": 100.0}) == pytest.approx(100.0, abs=0.05)


def test_every_rule_cites_a_known_source():
    for rule in RULES:
        for key in rule.source.split("; "):
            assert key in SOURCES, (rule.rule_id, key)


def test_published_compositions_are_classified_as_their_family():
    rows = load_composition_table(TABLE)
    wrong = [(r.meta["row_id"], r.decision.outcome, r.decision.family) for r in rows if not r.correct]
    assert wrong == []
    families = {r.family for r in rows}
    assert families >= {"ore", "bf_slag", "steel_slag", "mill_scale", "pyrite_cinder", "eaf_dust", "red_mud"}
    assert score_rows(rows)["total"] == len(rows) >= 15


def _mix(ore: LabResult, waste: LabResult, w: float) -> LabResult:
    keys = set(ore.assays_pct) | set(waste.assays_pct)
    return LabResult("mix", {k: (1 - w) * ore.assays_pct.get(k, 0.0) + w * waste.assays_pct.get(k, 0.0) for k in keys})


@pytest.mark.parametrize("family_row", ["bf-gbfs", "bof-proctor", "eaf-proctor", "ed-oust"])
def test_five_percent_by_product_in_ore_is_contaminated(family_row):
    rows = {r.meta["row_id"]: r.result for r in load_composition_table(TABLE)}
    for ore in ("ore-62fines", "ore-65fines", "ore-58fines", "ore-magconc"):
        d = classify(_mix(rows[ore], rows[family_row], 0.05))
        assert d.outcome == "contaminated", (ore, family_row, d.reason)
        assert d.waste_evidence
        d0 = classify(_mix(rows[ore], rows[family_row], 0.0))
        assert d0.outcome == "ore"


def test_missing_analytes_leave_the_sample_undetermined():
    d = classify(LabResult("S", {"tfe": 62.0, "sio2": 4.0}))
    assert d.outcome == "undetermined" and "cao" in d.missing
    d = classify(LabResult("S", {"tfe": 69.0, "sio2": 1.0, "cao": 0.1}))
    assert d.outcome == "undetermined" and "feo or phases" in d.missing
    d = classify(LabResult("S", {}, parse_phases("fayalite; melilite; glass")))
    assert d.outcome == "by-product"
    d = classify(LabResult("S", {"tfe": 64.0, "sio2": 3.0, "cao": 0.1}, parse_phases("hematite"),
                           texture="solidified melt texture with vesicles"))
    assert d.outcome == "contaminated" and "TX-MELT" in d.rule_ids


def test_lab_rules_command_through_the_installed_cli():
    for args in (["--table", str(TABLE)], [f"--table={TABLE}"]):
        out = subprocess.run([str(OREL), "sampler", "lab-rules", *args], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "classified as their family: 19 of 19 rows" in out.stdout
        assert "Where families overlap" in out.stdout


def test_lab_rules_refuses_an_unreadable_table_before_printing(tmp_path):
    for args in (["--table", str(tmp_path / "missing.csv")], [f"--table={tmp_path / 'missing.csv'}"]):
        out = subprocess.run([str(OREL), "sampler", "lab-rules", *args], capture_output=True, text=True, timeout=120)
        assert out.returncode == 2 and "missing.csv: cannot read" in out.stderr
        assert out.stdout == ""  # no rule set printed ahead of the refusal
