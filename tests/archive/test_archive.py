"""The lot archive written by a real line: round trip, flush bound, generic streams, bad input."""

from __future__ import annotations

import math
import shutil

import h5py
import numpy as np
import pytest

from conveyor.cargo import Admixture, CargoModel, ForeignObject
from conveyor.records import LotEnd, LotIdentity, LotStart, Measurement, StreamDescription
from analysis.archive import LotArchive, cli_archive, close_archive, import_lab_results, open_archive
from analysis.errors import ArchiveError
from analysis.model import to_dict

from tests.lines import archived_lot


@pytest.fixture(scope="module")
def lot(tmp_path_factory):
    path = tmp_path_factory.mktemp("lot") / "LOT-A.h5"
    cargo = CargoModel("fines", [Admixture(300.0, 500.0, "waste", "slag", 0.08)],
                       [ForeignObject(150.0, "wood", 300.0, 80.0)])
    return archived_lot(path, cargo, stations="nir,cam,probe", offline_t=[(600.0, 650.0)])


def test_every_stream_and_table_round_trips(lot):
    line, monitor, alarms = lot.line, lot.monitor, lot.alarms
    with open_archive(lot.archive.path) as a:
        assert not a.live and a.state == "complete" and a.lot_id == "LOT-A"
        assert a.lot["supplier"] == "Supplier A" and a.format_version == 1
        assert {n: s.rows for n, s in a.streams.items()} == line.run.counts
        assert [to_dict(s) for s in a.segments()] == [to_dict(s) for s in monitor.segments]
        assert to_dict(a.final_verdict()) == to_dict(monitor.verdict)
        assert a.final_verdict().final and a.final_verdict().verdict == "contaminated"
        assert len(a.alarm_history()) == len(alarms.history)
        assert [to_dict(x) for x in a.alarms()] == [to_dict(x) for x in sorted(alarms.all(), key=lambda x: x.alarm_id)]
        cam = a.stream_table("cam")
        assert cam["thumbnail"].shape == (1, 64, 64, 3) and cam["thumbnail"].dtype == np.uint8
        assert list(cam["kind"]) == ["wood"]
        assert a.lot_tonnes(cam["tonnage_mark_t"])[0] == pytest.approx(150.0)
        cov = a.coverage()
        off = (cov["station"] == "nir") & ~cov["inspected"]
        assert set(cov["reason"][off]) >= {"NIR offline"}
        assert a.wavelength_nm("nir").shape == (256,)
        assert {m.get("model_version") for m in a.model_versions()} >= {"test-nir-1"}
        assert a.end["lot_end"]["status"] == "complete"


def test_generic_stream_is_stored_from_its_description_alone(lot):
    with open_archive(lot.archive.path) as a:
        info = a.streams["probe"]
        assert info.kind == "probe" and info.metadata == {"sensor": "laser", "rate_hz": 1}
        assert info.units == {"level": "mm"}
        t = a.stream_table("probe")
        assert t["profile"].shape == (info.rows, 8) and t["profile"].dtype == np.float32
        assert t["count"].dtype == np.int32 and t["ok"].dtype == bool
        assert list(t["label"][:2]) == [f"tick-{int(x)}" for x in t["time_s"][:2]]
        assert np.array_equal(t["ok"], t["count"] % 2 == 0)
        assert np.all(np.diff(t["tonnage_mark_t"]) >= 0)


def _records(lot_id="LOT-F", n=5):
    start = LotStart(LotIdentity(lot_id, "MV F", "H1", "fines", 100.0), 0.0, 0.0, 10.0)
    desc = StreamDescription("s", "s", "probe", {"x": ((3,), "float32"), "tag": ((), "str")})
    ms = [Measurement(lot_id, "s", float(i), float(i), {"x": np.full(3, i, np.float32), "tag": f"m{i}"})
          for i in range(n)]
    return start, desc, ms


def _rows(path):
    with open_archive(path) as a:
        return a.streams["s"].rows


def test_rows_reach_the_file_only_after_the_flush_interval(tmp_path):
    now = [0.0]
    path = tmp_path / "f.h5"
    archive = LotArchive(path, flush_interval_s=5.0, clock=lambda: now[0])
    start, desc, ms = _records()
    archive.handle(start)
    archive.handle(desc)
    for m in ms[:3]:
        archive.handle(m)
    assert _rows(path) == 0  # buffered: at most one flush interval is at risk
    now[0] = 5.0
    archive.handle(ms[3])
    assert _rows(path) == 4
    archive.handle(ms[4])
    archive.handle(LotEnd("LOT-F", 9.0, 5.0, "complete"))  # lot end flushes at once
    assert _rows(path) == 5
    archive.close()
    with open_archive(path) as a:
        assert a.state == "complete"
        assert list(a.stream_column("s", "tag")) == [f"m{i}" for i in range(5)]


def test_close_without_lot_end_marks_aborted(tmp_path):
    path = tmp_path / "a.h5"
    archive = LotArchive(path)
    start, desc, ms = _records()
    for r in [start, desc, *ms]:
        archive.handle(r)
    archive.close()
    archive.close()  # twice is harmless
    with open_archive(path) as a:
        assert a.state == "aborted" and "before lot end" in a.end["reason"]
        assert a.streams["s"].rows == 5


def test_out_of_order_and_foreign_records_are_errors(tmp_path):
    start, desc, ms = _records()
    archive = LotArchive(tmp_path / "o.h5")
    with pytest.raises(ArchiveError, match="before LotStart"):
        archive.handle(ms[0])
    archive.handle(start)
    archive.handle(desc)
    with pytest.raises(ArchiveError, match="undescribed stream"):
        archive.handle(Measurement("LOT-F", "nope", 0.0, 0.0, {}))
    with pytest.raises(ArchiveError, match="for lot 'OTHER'"):
        archive.handle(Measurement("OTHER", "s", 0.0, 0.0, ms[0].data))
    archive.handle(ms[0])
    with pytest.raises(ArchiveError, match="after measurements began"):
        archive.handle(StreamDescription("late", "late", "probe", {"y": ((), "f8")}))
    archive.close()
    with pytest.raises(ArchiveError, match="already closed"):
        archive.handle(ms[1])
    with pytest.raises(ArchiveError, match="refusing to overwrite"):
        LotArchive(tmp_path / "o.h5")


def test_sampler_rows_and_late_lab_results(tmp_path):
    path = tmp_path / "s.h5"
    archive = LotArchive(path)
    start, desc, ms = _records()
    for r in [start, desc, *ms]:
        archive.handle(r)
    rows = [{"sample_id": "S1", "status": "sealed", "mass_kg": 12.5}, {"sample_id": "S2", "status": "open"}]
    assert archive.add_custody_rows(rows) == 2
    assert archive.add_custody_rows(rows + [{"sample_id": "S1", "status": "dispatched"}]) == 1  # no duplicates
    assert archive.add_custody_rows([{"increment_id": "I1", "sample_id": "S1"}], kind="increment") == 1
    with pytest.raises(ArchiveError):
        import_lab_results(path, [{"sample_id": "S1", "Fe_pct": 62.1}])  # still open for writing
    archive.handle(LotEnd("LOT-F", 9.0, 5.0, "complete"))
    archive.close()
    assert import_lab_results(path, [{"sample_id": "S1", "Fe_pct": 62.1, "SiO2_pct": 4.2}]) == 1
    assert import_lab_results(path, [{"sample_id": "S1", "Fe_pct": 62.1, "SiO2_pct": 4.2}]) == 0
    with open_archive(path) as a:
        assert [r["status"] for r in a.custody("custody")] == ["sealed", "open", "dispatched"]
        assert a.custody("increment") == [{"increment_id": "I1", "sample_id": "S1"}]
        assert a.lab_results() == [{"sample_id": "S1", "Fe_pct": 62.1, "SiO2_pct": 4.2}]


# ---- bad input ----------------------------------------------------------------------------------------
def test_not_hdf5_and_missing_file_are_clear_errors(tmp_path):
    text = tmp_path / "x.h5"
    text.write_text("hello")
    with pytest.raises(ArchiveError, match="not an HDF5 file"):
        open_archive(text)
    with pytest.raises(ArchiveError, match="no such archive"):
        open_archive(tmp_path / "missing.h5")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = 1
    with pytest.raises(ArchiveError, match="not an oreline lot archive"):
        open_archive(other)


def test_truncated_archive_is_a_clear_error(lot, tmp_path):
    cut = tmp_path / "cut.h5"
    data = lot.archive.path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="truncated or corrupt"):
        with open_archive(cut) as a:
            a.verify()


def test_corrupt_data_chunk_is_detected_by_its_checksum(lot, tmp_path):
    bad = tmp_path / "bad.h5"
    shutil.copy(lot.archive.path, bad)
    with h5py.File(bad, "r") as f:
        info = f["streams/nir/data/reflectance"].id.get_chunk_info(0)
    with open(bad, "r+b") as fh:
        fh.seek(info.byte_offset + 100)
        fh.write(b"\xff" * 64)
    with open_archive(bad) as a:
        assert a.streams["probe"].rows > 0  # the rest stays readable
        with pytest.raises(ArchiveError, match="corrupt"):
            a.stream_column("nir", "reflectance")
        with pytest.raises(ArchiveError, match="reflectance"):
            a.verify()


@pytest.mark.parametrize("version, word", [(0, "older"), (99, "newer")])
def test_other_format_versions_are_refused_with_the_reason(lot, tmp_path, version, word):
    p = tmp_path / f"v{version}.h5"
    shutil.copy(lot.archive.path, p)
    with h5py.File(p, "r+") as f:
        f.attrs["format_version"] = version
    with pytest.raises(ArchiveError, match=f"version {version} is {word}"):
        open_archive(p)


def test_cli_info_and_errors(lot, tmp_path, capsys):
    assert cli_archive(["info", str(lot.archive.path), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "LOT-A" in out and "state: complete" in out and "checksums good" in out
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert cli_archive(["info", str(junk)]) == 2
    assert "error:" in capsys.readouterr().err
    assert close_archive(lot.archive.path, "test") == "complete"  # a complete lot is left alone


def test_verdict_nan_fields_survive_the_round_trip(lot):
    with open_archive(lot.archive.path) as a:
        first = a.verdicts()[0]
    assert first.verdict == "pending" and math.isnan(first.decided_at_t)
