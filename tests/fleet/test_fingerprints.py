"""Product fingerprints built from archived genuine lots and checked by ``oreline fleet`` (real archives)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from conveyor.cargo import Admixture, CargoModel
from analysis.fleet import cli_fleet, run_fleet
from analysis.fleet import fingerprints
from spectra.errors import FingerprintError
from spectra.fingerprint import MIN_LOTS, load_fingerprint, load_fingerprints
from spectra.models.bundle import SpectraModel

from tests.lines import archived_lot
from tests.fleet.test_fleet import model_path  # noqa: F401  (module fixture: a small trained model)

#: Mass of each simulated lot (t): the three segments a signature is made of.
LOT_T = 300.0


@pytest.fixture(scope="module")
def lots(tmp_path_factory):
    """Six genuine lots of one product, one lot of it that is 60 % waste from the first tonne, one other product.
    LOT_T each: a signature is the lot's first three 100 t segments (spectra.fingerprint), so the fingerprints,
    statistics, limits and verdicts are those of the 400 t lots of before, figure for figure."""
    d = tmp_path_factory.mktemp("fp")
    out = {"genuine": [], "waste": None, "other": None}
    for i in range(MIN_LOTS + 1):
        p = d / f"G{i}.h5"
        archived_lot(p, CargoModel("PB fines"), lot_id=f"G{i}", supplier="Gamma", product="PB fines", mass_t=LOT_T,
                per_window=4, seed=10 + i)
        out["genuine"].append(p)
    out["waste"] = d / "W.h5"
    archived_lot(out["waste"], CargoModel("PB fines", [Admixture(0.0, 400.0, "waste", "slag", 0.6)]), lot_id="W",
            supplier="Gamma", product="PB fines", mass_t=LOT_T, per_window=4, seed=30)
    out["other"] = d / "O.h5"
    archived_lot(out["other"], CargoModel("lump"), lot_id="O", supplier="Delta", product="lump", mass_t=LOT_T,
            per_window=4, seed=31)
    return out


@pytest.mark.slow  # simulates eight 300 t lots of the composed line first
def test_build_then_check_flags_the_whole_lot_waste(lots, model_path, tmp_path):  # noqa: F811
    out = tmp_path / "fp"
    history = [str(p) for p in lots["genuine"][:MIN_LOTS]]
    assert cli_fleet(["fingerprint", "--model", str(model_path), *history, lots["other"].as_posix(),
                      "--scheduler", "sync", "--out", str(out)]) == 0
    md = (out / "fingerprints" / "fingerprints.md").read_text()
    assert "| Gamma | PB fines | 5 | 5 | Gamma__PB_fines.npz |" in md
    assert "| Delta | lump | 1 | 1 |  |" in md and "need 5" in md  # too few lots: said, not built
    fp = load_fingerprint(out / "fingerprints" / "Gamma__PB_fines.npz")
    assert fp.lots == MIN_LOTS and fp.lot_ids == [f"G{i}" for i in range(MIN_LOTS)]
    assert np.isfinite(fp.threshold) and fp.loo_statistics.shape == (MIN_LOTS,)

    check = tmp_path / "check"
    args = ["rescore", "--model", str(model_path), *map(str, lots["genuine"]), str(lots["waste"]),
            str(lots["other"]), "--fingerprints", str(out / "fingerprints"), "--scheduler", "sync", "--out", str(check)]
    assert cli_fleet(args) == 0
    rows = {r["lot_id"]: r for r in csv.DictReader(open(check / "fleet-rescore.csv"))}
    assert rows["O"]["fingerprint_check"] == "no fingerprint"
    assert rows["W"]["fingerprint_check"] == "NOT LIKE PRODUCT"
    w_stat = float(rows["W"]["fingerprint_statistic"])
    genuine = [float(rows[f"G{i}"]["fingerprint_statistic"]) for i in range(MIN_LOTS + 1)]
    assert w_stat > 10 * max(genuine)
    # a lot in the history is judged by its leave-one-out statistic, never against itself
    assert genuine[:MIN_LOTS] == pytest.approx(fp.loo_statistics.tolist(), rel=1e-3)  # CSV: 4 digits
    assert all(rows[f"G{i}"]["fingerprint_check"] == "consistent" for i in range(MIN_LOTS)
               if genuine[i] <= fp.threshold)
    assert "fingerprint_check" in (check / "fleet-rescore.md").read_text()


@pytest.mark.slow  # uses the eight simulated lots (module fixture)
def test_fingerprint_of_another_model_is_refused(lots, model_path, tmp_path):  # noqa: F811
    model = SpectraModel.load(model_path)
    rows = run_fleet(lots["genuine"][:MIN_LOTS], model_path, scheduler="sync")
    fingerprints.build_from_rows(rows, model, tmp_path)
    fp = next(iter(load_fingerprints(tmp_path).values()))
    fp.model_hash = "0" * 32
    fp.save(tmp_path / "Gamma__PB_fines.npz")
    fingerprints.check_rows(rows, model, tmp_path)
    assert all(r["fingerprint_check"].startswith("error: ") and "rebuild it" in r["fingerprint_check"]
               for r in rows)


def test_bad_fingerprint_files_are_clear_errors(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a fingerprint")
    with pytest.raises(FingerprintError, match="not a readable fingerprint"):
        load_fingerprints(tmp_path)
    with pytest.raises(FingerprintError, match="expected a folder"):
        load_fingerprints(tmp_path / "missing")
    with pytest.raises(SystemExit) as stop:  # a missing model is a usage error, before any archive is read
        cli_fleet(["rescore", "--model", str(tmp_path / "m.npz"), str(tmp_path / "x.h5")])
    assert stop.value.code == 2
