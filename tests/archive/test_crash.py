"""A real writer process killed mid-lot: SWMR readers watch it, its flushed state survives, close and resume work."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conveyor.cargo import CargoModel
from conveyor.feed import SimulatedFeed
from analysis.archive import LotArchive, cli_archive, close_archive, open_archive
from analysis.errors import ArchiveError

from tests.lines import build_line
from tests.lines.stations import LibraryNir, Probe
from tests.support import wait_until

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """Start a writer, watch it live through SWMR, SIGKILL it; return the path and what the reader saw."""
    path = tmp_path_factory.mktemp("crash") / "LOT-K.h5"
    proc = subprocess.Popen([sys.executable, "-m", "tests.archive.writer_proc", str(path), "LOT-K"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    try:
        wait_until(path.exists, timeout_s=60, what="the archive file")
        reader = open_archive(path)
        assert reader.live
        for _ in range(2):  # the live reader sees rows grow between refreshes
            before = reader.streams["nir"].rows
            wait_until(lambda b=before: (reader.refresh(), reader.streams["nir"].rows > b + 20)[1], timeout_s=60,
                       what="rows to grow")
            seen.append(reader.streams["nir"].rows)
        reader.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    return {"path": path, "seen": seen, "pid": proc.pid}


def test_killed_writer_leaves_its_flushed_state_readable(killed):
    assert killed["seen"][1] > killed["seen"][0]
    with open_archive(killed["path"]) as a:
        assert a.live and a.state == "open" and a.writer_alive() is False
        nir = a.streams["nir"]
        assert nir.rows >= killed["seen"][-1]  # nothing the reader saw was lost
        refl = a.stream_column("nir", "reflectance")
        assert refl.shape == (nir.rows, 256) and np.isfinite(refl).all()
        assert a.verify() > 0


def test_close_marks_the_killed_lot_aborted_and_keeps_its_data(killed, tmp_path, capsys):
    path = tmp_path / "LOT-K.h5"
    shutil.copy(killed["path"], path)
    with open_archive(path) as a:
        rows = {n: s.rows for n, s in a.streams.items()}
    with pytest.raises(ArchiveError, match="open for writing"):
        open_archive(path, allow_live=False)
    assert cli_archive(["close", str(path), "--reason", "unloader PC lost power", "--keep-original"]) == 0
    assert "aborted" in capsys.readouterr().out
    assert (tmp_path / "LOT-K.h5.crashed").exists()
    with open_archive(path, allow_live=False) as a:
        assert not a.live and a.state == "aborted" and a.end["reason"] == "unloader PC lost power"
        assert {n: s.rows for n, s in a.streams.items()} == rows
        a.verify()
    assert close_archive(path, "again") == "aborted"  # idempotent


def test_resume_appends_the_rest_of_the_lot_under_the_same_lot_id(killed, tmp_path):
    path = tmp_path / "LOT-K.h5"
    shutil.copy(killed["path"], path)
    with open_archive(path) as a:
        before = a.streams["nir"].rows
        last_mark = float(a.stream_column("nir", "tonnage_mark_t")[-1])
    archive = LotArchive.resume(path)
    stations = [Probe("probe", 20.0), LibraryNir("nir", 40.0, CargoModel("fines"))]
    feed = SimulatedFeed(6000.0, 4.5, 200.0, totaliser_offset_t=5000.0, seed=5)  # a new counter origin
    rig = build_line(stations, feed=feed, sinks=[archive])
    rig.run_lot("LOT-K", vessel="MV Kill", mass_t=200.0)
    line = rig.line
    archive.close()
    with open_archive(path, allow_live=False) as a:
        assert a.state == "complete" and a.lot_id == "LOT-K"
        assert a.streams["nir"].rows == before + line.run.counts["nir"]
        marks = a.stream_column("nir", "tonnage_mark_t")
        resumed = a.status_history()[1]
        assert resumed["lot_start"]["lot"]["lot_id"] == "LOT-K" and resumed["resumed_at_t"] >= last_mark
        # lot tonnage goes on from the furthest archived mark, not from the new counter's origin
        base = resumed["resumed_at_t"] + a.lot_start_mark_t
        assert base <= marks[before] <= base + 5.0
        assert np.all(np.diff(marks) >= 0)
        assert [h["state"] for h in a.status_history()] == ["open", "resumed", "complete"]


def test_resume_refuses_another_lot_or_a_complete_one(killed, tmp_path):
    path = tmp_path / "LOT-K.h5"
    shutil.copy(killed["path"], path)
    archive = LotArchive.resume(path)
    stations = [Probe("probe", 20.0)]
    build_line(stations, mass_t=50.0, sinks=[archive]).run_lot("LOT-OTHER", vessel="MV")  # the sink error is logged, not fatal
    archive.close()
    with open_archive(path) as a:
        assert a.state == "aborted" and a.streams["probe"].rows > 0
    done = tmp_path / "done.h5"
    with LotArchive(done) as w:
        build_line([Probe("probe", 20.0)], mass_t=20.0, sinks=[w]).run_lot("LOT-D", vessel="MV")
    with pytest.raises(ArchiveError, match="complete; nothing to resume"):
        LotArchive.resume(done)
    with pytest.raises(ArchiveError, match="no such archive"):
        LotArchive.resume(tmp_path / "missing.h5")


def test_report_of_the_killed_lot_marks_it_open_with_data_to_the_last_flush(killed, tmp_path):
    from analysis.report import write_report

    path = tmp_path / "LOT-K.h5"
    shutil.copy(killed["path"], path)
    text = write_report(path, tmp_path, pdf=False)["html"].read_text()
    assert "archive still open for writing (its writer is gone" in text
    close_archive(path, "power cut")
    text = write_report(path, tmp_path, pdf=False)["html"].read_text()
    assert "lot aborted: power cut" in text
