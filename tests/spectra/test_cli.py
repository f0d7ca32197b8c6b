"""CLI entry points: train and evaluate (held-out and on a labelled folder)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from spectra.cli import cli_evaluate, cli_train
from spectra.formats import write_csv
from spectra.models.training import TrainConfig


@pytest.mark.slow
def test_train_then_evaluate_heldout(tmp_path, capsys):
    # --quick: the whole training path (classifier, novelty, segment thresholds, lot detector) at TrainConfig.small's
    # sizes; what is checked here is that train writes a model evaluate reads and reports in full, not its accuracy
    out = tmp_path / "m.npz"
    assert cli_train(["--out", str(out), "--quick", "--n-per-class", "300", "--grid", "ingaas256"]) == 0
    assert out.is_file()
    assert cli_evaluate(["--model", str(out), "--out", str(tmp_path / "rep"), "--segments", "20",
                         "--spectra-per-segment", "20", "--lots", "4", "--lot-segments", "8",
                         "--fingerprint-products", "2", "--family-lots=1", "--group-check=0"]) == 0
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    lots = rep["lots"]
    assert set(lots["sensitivity"]) == {"0.01", "0.02", "0.05", "0.10", "0.20"}
    assert 0.0 <= lots["false_alarm"] <= 1.0 and rep["target_5pct_waste"] == lots["target_5pct_waste"]
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "lot detector on held-out lots" in md and "Product fingerprints" in md
    assert "Physics of the simulator" in md and "Per waste family" in md and "SYNTHETIC" in md
    phys = rep["physics"]
    assert len(phys["mixtures"]) == 5 and len(phys["series"]) == 10 and [g["exponent"] for g in phys["grain"]] == [1, 0.5]
    assert phys["moisture"]["demo_band_depth"] < phys["moisture"]["wet_sludge_band_depth"]
    fam = rep["families"]["families"]
    assert set(fam) >= {"steel_slag", "bf_slag", "mill_scale", "pyrite_cinder", "eaf_dust"}
    assert all(set(f["detection"]) == {"0.01", "0.02", "0.05", "0.10", "0.20"} for f in fam.values())
    assert fam["mill_scale"]["synthetic"] and not fam["scrap"]["synthetic"]
    assert rep["fingerprints"]["products"] == 2 and set(rep["fingerprints"]["detection"]) == {"0.05", "0.20", "0.50",
                                                                                            "0.95"}
    assert [r["name"] for r in lots["separability"]]  # the held-out waste's distinctness is reported
    assert set(rep["segment_level"]["detection"]["waste"]["by_fraction"]) == {"0.01", "0.02", "0.05", "0.10", "0.20"}
    from spectra.models.bundle import SpectraModel

    info = SpectraModel.load(out).info
    small = TrainConfig.small()  # --quick's sizes, with --n-per-class over them
    assert info["config"]["n_train_per_class"] == 300 and info["config"]["n_lot_cal"] == small.n_lot_cal
    assert set(rep["held_out_groups"]) == set(info["test_groups"])
    assert not set(rep["held_out_groups"]) & set(info["train_groups"])
    for name in ("report.md", "confusion.png", "roc.png", "detection.png", "moisture.png"):
        assert (tmp_path / "rep" / name).is_file()


def test_evaluate_on_a_labelled_folder(tmp_path, model_path, library, rlib):
    folder = tmp_path / "lib"
    folder.mkdir()
    rows = ["file,class"]
    picks = [e for e in library.entries if e.klass in ("ore", "contaminant")][:6]
    for e in picks:
        shutil.copy(e.spectrum.source, folder / e.file)
        rows.append(f"{e.file},{e.klass}")
    write_csv(folder / "ore.csv", rlib.grid.wavelength_nm, rlib.reflectance[0])
    rows.append(f"ore.csv,{rlib.entries[0].klass}")
    (folder / "broken.csv").write_text("nm,r\n900,x\n")
    rows.append("broken.csv,ore")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    assert cli_evaluate(["--model", str(model_path), "--test-library", str(folder), "--labels",
                         str(tmp_path / "labels.csv"), "--out", str(tmp_path / "rep")]) == 0
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert rep["n_spectra"] == 7 and [e["file"] for e in rep["errors"]] == ["broken.csv"]
    assert sum(map(sum, rep["spectrum_level"]["confusion"])) == 7


def test_evaluate_bad_labels(tmp_path, model_path, capsys):
    (tmp_path / "labels.csv").write_text("name,kind\na,b\n")
    with pytest.raises(SystemExit) as stop:  # refused before the model is loaded, as a usage error
        cli_evaluate(["--model", str(model_path), "--test-library", str(tmp_path), "--labels",
                      str(tmp_path / "labels.csv"), "--out", str(tmp_path / "rep")])
    assert stop.value.code == 2
    assert "file,class" in capsys.readouterr().err
    assert not (tmp_path / "rep").exists()
    with pytest.raises(SystemExit) as stop:  # refused by the parser before any work, as a usage error
        cli_evaluate(["--model", str(tmp_path / "none.npz"), "--out", str(tmp_path / "r")])
    assert stop.value.code == 2
    assert "none.npz: no such file" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_train_quick_needs_out_and_sets_the_small_sizes(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # a quick model is never written as the cache's default model
        cli_train(["--quick"])
    assert stop.value.code == 2 and "--quick needs --out" in capsys.readouterr().err
    from spectra.cli import _train_parser
    from spectra.cli_work import _train_config

    quick = _train_config(_train_parser().parse_args(["--quick", "--out", "m.npz", "--seed", "3", "--grid", "ingaas256"]))
    assert quick == replace(TrainConfig.small(), seed=3)
    full = _train_config(_train_parser().parse_args(["--n-per-class=50", "--grid=ingaas256"]))
    assert full == TrainConfig(grid="ingaas256", n_train_per_class=50)


def test_bad_labels_refused_before_the_models_load(tmp_path):
    """A --labels file without the file,class columns is refused by ``oreline spectra evaluate``'s usage (exit 2),
    and the check reads it without the command's work module (scikit-learn): the refusal costs no model load."""
    import subprocess
    import sys
    from pathlib import Path

    bad = tmp_path / "labels.csv"
    bad.write_text("name,kind\na.json,ore\n")
    oreline = Path(sys.executable).with_name("oreline")
    proc = subprocess.run([str(oreline), "spectra", "evaluate", "--test-library", str(tmp_path), "--labels", str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "expected a CSV with columns 'file,class'" in proc.stderr and "usage: oreline spectra evaluate" in proc.stderr
    code = ("import sys; from spectra import cli; "
            f"print(cli._check_test_library({str(tmp_path)!r}, {str(bad)!r})); "
            "print('sklearn' in sys.modules, 'spectra.cli_work' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert "expected a CSV with columns 'file,class'" in out[0]
    assert out[1] == "False False"
