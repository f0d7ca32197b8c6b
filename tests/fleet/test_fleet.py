"""Fleet re-scoring and summaries over archives written by a real line, on every kind of scheduler."""

from __future__ import annotations

import csv
import ctypes
import dataclasses
import math
import multiprocessing
import os
import shutil

import h5py
import numpy as np
import pytest

from conveyor.cargo import Admixture, CargoModel
from conveyor.records import LotEnd, LotIdentity, LotStart, Measurement, StreamDescription
from analysis.archive import LotArchive, open_archive
from analysis.archive.reader import segment_positions
from analysis.fleet import malloc, rescore
from analysis.fleet import FleetError, analyse_archive, cli_fleet, redecide, run_fleet, segment_scorer, write_tables

from tests.lines import archived_lot
from tests.spectra.small_model import small_model_path


@pytest.fixture(scope="module")
def model_path():
    """The spectra tests' small NIR model (tests/spectra/small_model.py), trained once for the session and every
    xdist worker (this file and test_fingerprints.py use it; so do the spectra tests: one fit for all)."""
    return small_model_path()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three good lots (two suppliers), a junk file, a truncated one, an old-format one, a missing one."""
    d = tmp_path_factory.mktemp("fleet")
    good = []
    for i, (supplier, waste) in enumerate([("Alpha", 0.0), ("Beta", 0.3), ("Alpha", 0.0)]):
        p = d / f"L{i}.h5"
        cargo = CargoModel("fines", [Admixture(200.0, 400.0, "waste", "slag", waste)] if waste else [])
        archived_lot(p, cargo, lot_id=f"L{i}", supplier=supplier, mass_t=500.0, per_window=4, seed=i)
        good.append(p)
    junk = d / "junk.h5"
    junk.write_bytes(b"not an archive")
    cut = d / "cut.h5"
    cut.write_bytes(good[0].read_bytes()[:20000])
    old = d / "old.h5"
    shutil.copy(good[0], old)
    with h5py.File(old, "r+") as f:
        f.attrs["format_version"] = 0
    return {"good": good, "all": [good[0], junk, good[1], cut, old, d / "missing.h5", good[2]]}


def _by_file(rows):
    return {r["file"]: r for r in rows}


def test_rescore_agrees_with_scoring_each_segment_on_its_own(fleet, model_path):
    """The streamed, batched rescoring equals feeding the line's scorer one segment at a time, in order."""
    from spectra.models.bundle import SpectraModel

    model = SpectraModel.load(model_path)
    row = analyse_archive(fleet["good"][1], model, batch_rows=1000)  # segments straddle batches
    assert row["status"] == "ok", row["error"]
    with open_archive(fleet["good"][1]) as a:
        seg = a.segment_table()
        decisions = a.segments()
        refl = a.stream_column("nir", "reflectance")
        valid = a.stream_column("nir", "valid")
        pos = segment_positions(seg["start_t"], seg["end_t"], a.lot_tonnes(a.stream_column("nir", "tonnage_mark_t")))
    score = segment_scorer(model)
    expected = []
    for i in np.argsort(seg["start_t"]):
        d = decisions[i]
        assert d.segment_class in ("ore", "waste-suspect") and all(c.fraction >= 0.8 for c in d.coverage)
        s = score({"reflectance": refl[pos == i], "valid": valid[pos == i]})
        # a NIR flag, waste- or contaminant-like, makes a segment waste-suspect (contaminated needs the camera)
        expected.append("waste-suspect" if s.scored and (s.flagged_waste or s.flagged_contaminant)
                        else "ore" if s.scored else "uninspected")
    assert row["new_waste_segments"] == expected.count("waste-suspect")
    assert row["new_uninspected_segments"] == expected.count("uninspected")
    assert row["changed_segments"] == sum(d.segment_class != c for d, c in zip(decisions, expected))
    assert row["late_rows"] == 0 and row["new_verdict"] in ("ore", "waste", "contaminated", "inconclusive")
    assert row["spectra"] == row["valid_spectra"] == len(refl)
    assert 0.0 <= row["new_mean_p_waste"] <= 1.0 and row["model_version"] == model.model_version


def test_calibrated_scoring_agrees_with_score_segment(fleet, model_path):
    from spectra.models.bundle import SpectraModel
    from spectra.segment_stats import score_segment

    model = SpectraModel.load(model_path)
    row = analyse_archive(fleet["good"][1], model, batch_rows=1000, segment_scoring="calibrated")
    assert row["status"] == "ok", row["error"]
    with open_archive(fleet["good"][1]) as a:
        seg = a.segment_table()
        refl = a.stream_column("nir", "reflectance")
        pos = segment_positions(seg["start_t"], seg["end_t"], a.lot_tonnes(a.stream_column("nir", "tonnage_mark_t")))
    expected = []
    for i in range(len(seg["index"])):
        b = model.score(refl[pos == i], unmix=False)
        s = score_segment(b.p_waste, b.p_contaminant, b.novel, b.valid, model.calibration, p_ore=b.p_ore)
        # a NIR flag, waste- or contaminant-like, makes a segment waste-suspect (contaminated needs the camera)
        expected.append("waste-suspect" if s.scored and (s.flagged_waste or s.flagged_contaminant)
                        else "ore" if s.scored else "uninspected")
    assert row["new_waste_segments"] == expected.count("waste-suspect")
    assert row["new_contaminated_segments"] == expected.count("contaminated")
    assert row["segment_scoring"] == "calibrated"
    with pytest.raises(FleetError, match="segment_scoring"):
        run_fleet(fleet["good"][:1], model_path, segment_scoring="fast", scheduler="sync")


def test_redecide_follows_the_monitor_rule(fleet):
    from spectra.segment import NirSegmentScore

    with open_archive(fleet["good"][0]) as a:
        d = a.segments()[0]
    flag = NirSegmentScore(2.0, 0.0, 0.0, 40, True, False, 1.0, 1.0)
    clean = NirSegmentScore(0.1, 0.0, 0.0, 40, False, False, 1.0, 1.0)
    warm = NirSegmentScore(float("nan"), float("nan"), 0.0, 40, False, False, 1.0, 1.0, scored=False)
    args = ({"nir"}, {"cam"}, 0.8)
    assert redecide(d, flag, False, *args) == "waste-suspect"
    assert redecide(d, clean, False, *args) == "ore"
    assert redecide(d, clean, True, *args) == "contaminated"  # the camera's foreign object wins
    assert redecide(d, warm, False, *args) == "uninspected"  # NIR gave no verdict: never clean


def test_bad_archives_become_rows_and_the_rest_is_analysed(fleet, model_path):
    rows = run_fleet(fleet["all"], model_path, scheduler="sync")
    by = _by_file(rows)
    assert [r["file"] for r in rows] == [p.name for p in fleet["all"]]  # input order kept
    assert "not an HDF5 file" in by["junk.h5"]["error"]
    assert "truncated or corrupt" in by["cut.h5"]["error"]
    assert "version 0 is older" in by["old.h5"]["error"]
    assert "no such archive" in by["missing.h5"]["error"]
    assert all(by[f"L{i}.h5"]["status"] == "ok" for i in range(3))
    assert by["L1.h5"]["supplier"] == "Beta" and by["L1.h5"]["waste_segments"] >= 1
    assert by["L1.h5"]["drift_vs_fleet_deg"] > by["L0.h5"]["drift_vs_fleet_deg"]  # the waste lot stands out


def test_process_pool_and_distributed_cluster_give_the_same_rows(fleet, model_path):
    from distributed import LocalCluster

    keys = ("file", "status", "new_waste_segments", "new_verdict", "changed_segments", "valid_spectra")
    sync = [{k: r.get(k) for k in keys} for r in run_fleet(fleet["good"], model_path, scheduler="sync")]
    procs = run_fleet(fleet["good"], model_path, workers=2)
    assert [{k: r.get(k) for k in keys} for r in procs] == sync
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        dist = run_fleet(fleet["good"] + [fleet["all"][1]], model_path, scheduler=cluster.scheduler_address)
    assert [{k: r.get(k) for k in keys} for r in dist[:3]] == sync
    assert dist[3]["status"] == "error"


def test_wavelength_grid_mismatch_is_an_error_row(tmp_path, model_path):
    path = tmp_path / "g.h5"
    wl = np.linspace(1000.0, 2400.0, 100)
    with LotArchive(path) as a:
        a.handle(LotStart(LotIdentity("G", "MV", "H", "fines", 10.0), 0.0, 0.0, 5.0))
        a.handle(StreamDescription("nir", "nir", "nir", {"reflectance": ((100,), "float32")},
                                   metadata={"wavelength_nm": wl.tolist()}))
        for i in range(10):
            a.handle(Measurement("G", "nir", float(i), float(i), {"reflectance": np.full(100, 0.2, np.float32)}))
        a.handle(LotEnd("G", 10.0, 10.0, "complete"))
    from spectra.models.bundle import SpectraModel

    row = analyse_archive(path, SpectraModel.load(model_path))
    assert row["status"] == "error" and "wavelength grid mismatch" in row["error"] and "100 ch" in row["error"]
    summary = analyse_archive(path)  # without a model the lot is still summarised
    assert summary["status"] == "ok" and summary["spectra"] == 10


def test_summary_tables_and_cli(fleet, model_path, tmp_path, capsys):
    rows = run_fleet(fleet["all"], scheduler="sync")
    files = write_tables(rows, tmp_path, "sum")
    with open(files["csv"]) as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == len(fleet["all"]) and table[0]["lot_id"] == "L0"
    assert sum(r["status"] == "error" for r in table) == 4
    md = files["md"].read_text()
    assert "## By supplier" in md and "| Alpha | 2 |" in md and "| Beta | 1 |" in md
    assert "junk.h5" in md.split("could not be analysed")[1]
    assert not math.isnan(float(table[0]["drift_within_deg"]))

    assert cli_fleet(["rescore", "--model", str(model_path), *map(str, fleet["good"]), "--workers", "1",
                      "--scheduler", "sync", "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "fleet-rescore.md").exists()
    assert cli_fleet(["summary", *map(str, fleet["all"]), "--scheduler", "sync", "--out", str(tmp_path)]) == 1
    with pytest.raises(SystemExit) as stop:  # a missing model is a usage error, before any archive is read
        cli_fleet(["rescore", "--model", str(tmp_path / "nope.npz"), str(fleet["good"][0])])
    assert stop.value.code == 2
    assert "model" in capsys.readouterr().err
    with pytest.raises(FleetError, match="not reachable"):
        run_fleet(fleet["good"][:1], scheduler="tcp://127.0.0.1:9")


def _score_values(s):
    return np.array(dataclasses.astuple(s), dtype=float)


def test_line_mode_fast_path_gives_the_reference_numbers(fleet, model_path):
    """Batched validity and features (one pass per batch, handed to the scorer) change no number: every segment's
    full NirSegmentScore and the mean p_waste equal feeding the line's own scorer one segment at a time and
    ``model.score`` per batch (the path before the fast one)."""
    from spectra.models.bundle import SpectraModel

    model = SpectraModel.load(model_path)
    assert rescore._line_scorer(model) is not None  # the fast path applies to a trained model
    with open_archive(fleet["good"][1]) as a:
        seg = a.segment_table()
        got = rescore._nir_pass(a, "nir", seg, model, 97, False, "line")  # each segment straddles batches
        refl = a.stream_column("nir", "reflectance")
        valid = a.stream_column("nir", "valid").astype(bool)
        pos = segment_positions(seg["start_t"], seg["end_t"], a.lot_tonnes(a.stream_column("nir", "tonnage_mark_t")))
    score = segment_scorer(model)
    expected = {int(i): score({"reflectance": refl[pos == i], "valid": valid[pos == i]})
                for i in np.argsort(seg["start_t"], kind="stable") if (pos == i).any()}
    assert sorted(got["segment_scores"]) == sorted(expected) and len(expected) == len(seg["index"]) >= 5
    for i, s in expected.items():
        assert np.array_equal(_score_values(got["segment_scores"][i]), _score_values(s), equal_nan=True), i
    assert sum(not s.warmup for s in expected.values()) >= len(expected) - 2  # past the warm-up: lot statistics
    pw, n_pw = 0.0, 0
    for lo in range(0, len(refl), 97):
        ok = valid[lo:lo + 97] & np.all(np.isfinite(refl[lo:lo + 97]), axis=1)
        b = model.score(refl[lo:lo + 97][ok], unmix=False)
        pw, n_pw = pw + float(np.nansum(b.p_waste[b.valid])), n_pw + int(b.valid.sum())
    assert got["new_mean_p_waste"] == pw / n_pw and got["late_rows"] == 0


def _mmapped_blocks(libc) -> int:
    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc.mallinfo2.restype = MallInfo2
    return int(libc.mallinfo2().hblks)


def _malloc_guard_in_a_fresh_process() -> str:
    """The body of the malloc test, run in a spawned process: whether a large array is mmapped depends on the heap's
    free chunks (glibc only maps when no free chunk fits), so a worker that ran other tests first cannot judge it.
    Returns "" when every check holds, else what failed; "skip: ..." without glibc >= 2.33."""
    libc = malloc.glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return "skip: needs glibc >= 2.33 (mallopt, mallinfo2)"
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    os.environ.pop("MALLOC_MMAP_THRESHOLD_", None)
    with malloc.worker_malloc():  # plain process: nothing to do
        if malloc.users() != 0:
            return "a plain process counted a guard user"
    os.environ["MALLOC_TRIM_THRESHOLD_"] = str(128 << 20)
    os.environ["MALLOC_MMAP_THRESHOLD_"] = str(16 << 20)
    with malloc.worker_malloc():
        with malloc.worker_malloc():
            if malloc.users() != 2:
                return f"nested guards counted {malloc.users()} users"
        before = _mmapped_blocks(libc)
        a = np.ones(20 << 17)  # 20 MiB: below the 32 MiB threshold of the guard
        if _mmapped_blocks(libc) != before:
            return "inside the guard a 20 MiB array was mmapped"
        del a
    if malloc.users() != 0:
        return "the guard did not release its user"
    before = _mmapped_blocks(libc)
    a = np.ones(20 << 17)  # above the environment's 16 MiB again: the guard put that fixed threshold back
    after = _mmapped_blocks(libc)
    del a
    return "" if after == before + 1 else f"after the guard a 20 MiB array was not mmapped ({before} -> {after})"


def test_worker_malloc_keeps_large_arrays_off_mmap_in_a_dask_worker_environment(monkeypatch):
    """dask's nanny sets MALLOC_TRIM_THRESHOLD_; inside the guard large arrays come from the heap, afterwards
    the environment's thresholds apply again (checked in a fresh process: see the helper)."""
    for var in ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_"):  # the suite's own (tests/conftest.py): glibc as shipped
        monkeypatch.delenv(var, raising=False)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        problem = pool.apply(_malloc_guard_in_a_fresh_process)
    if problem.startswith("skip: "):
        pytest.skip(problem[6:])
    assert problem == ""
