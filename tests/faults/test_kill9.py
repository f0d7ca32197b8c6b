"""``kill -9`` of the whole line mid-lot (a real ``oreline demo`` process), then recovery.

What a reader saw flushed before the kill is still there afterwards (acknowledged data is never
lost); what was lost is bounded by the flush interval; ``oreline archive close`` marks the lot
aborted with its data; the lot can be resumed by a new line under the same lot id.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.sitefiles import light_site_file

from analysis.archive import LotArchive, open_archive
from analysis.errors import ArchiveError
from analysis.prepare import prepare_station_models
from analysis.resume import restore_samplers
from analysis.site import load_site
from tests.support import wait_until
from tests.faults.figures import record
from tests.lines.site import RecordLog, short_site

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FLUSH_S = 1.0
LOT_T = 3000.0
SPEEDUP = 60.0
RATE_T_H = 6000.0
#: segments of a quarter of the shipped site's 100 t: the five flushed segments the kill waits for come in 125 t of
#: line (what is checked, nothing acknowledged lost and the loss bounded by one flush interval, does not depend on the
#: segments' mass; 50 t segments cost the killed line 125 t more and the resumed one 50 t more)
SEGMENT_T = 25.0


def _site_file(path: Path) -> Path:
    return light_site_file(path, flush_interval_s=FLUSH_S, segment_mass_t=SEGMENT_T)


def _max_mark(reader) -> tuple[int, float]:
    nir = reader.streams["nir"]
    if nir.rows == 0:
        return 0, -np.inf
    return nir.rows, float(reader.stream_column("nir", "tonnage_mark_t", slice(nir.rows - 1, nir.rows))[0])


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    base = tmp_path_factory.mktemp("kill9")
    run_dir = base / "run"
    site = _site_file(base / "site.toml")
    prepare_station_models(load_site(site))  # models fitted (or taken from the cache) first: the timed part is the lot
    proc = subprocess.Popen(
        [sys.executable, "-m", "analysis.cli", "demo", "--config", str(site), "--no-serve", "--no-report",
         "--run-dir", str(run_dir), "--lot-mass-t", str(LOT_T), "--speedup", str(SPEEDUP)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    observations: list[tuple[float, int, float, int]] = []  # (wall s, nir rows, last mark t, segments)
    try:
        path = wait_until(lambda: next(iter(sorted(run_dir.glob("*.h5"))), None) if run_dir.exists() else None,
                          timeout_s=240, what="the demo's archive file")

        def five_segments() -> bool:
            try:  # a fresh SWMR reader each poll (one opened before the writer switched to SWMR sees nothing)
                with open_archive(path) as reader:
                    rows, mark = _max_mark(reader)
                    segs = len(reader.segment_table()["index"])
            except ArchiveError:  # the file may not be in SWMR mode yet
                return False
            observations.append((time.monotonic(), rows, mark, segs))
            assert segs >= 5 or proc.poll() is None, "the demo ended before it could be killed"
            return segs >= 5

        wait_until(five_segments, timeout_s=240, what="5 flushed segments in the archive", interval_s=0.1)
        assert observations and observations[-1][3] >= 5, "archive never held 5 flushed segments"
        time.sleep(0.3)  # kill between flushes, not right after one
        kill_wall = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    return {"path": path, "observations": observations, "kill_wall": kill_wall}


def test_killed_line_archive_keeps_everything_acknowledged(killed):
    obs = killed["observations"]
    seen_rows, seen_mark, seen_segs = obs[-1][1], obs[-1][2], obs[-1][3]
    with open_archive(killed["path"]) as a:
        assert a.live and a.state == "open" and a.writer_alive() is False
        rows, mark = _max_mark(a)
        segs = a.segments()
        assert rows >= seen_rows and mark >= seen_mark  # nothing a reader saw was lost
        assert len(segs) >= seen_segs
        assert [s.index for s in segs] == list(range(len(segs)))
        refl = a.stream_column("nir", "reflectance")
        assert refl.shape[0] == rows
        a.verify()
    # Tonnes the line had weighed but not flushed: bounded by what the line does in one flush interval
    # (+ the reader's polling period), extrapolated from the rate the reader saw.
    (t0, _, m0, _), (t1, _, m1, _) = obs[max(0, len(obs) - 10)], obs[-1]
    rate_t_per_wall_s = (m1 - m0) / (t1 - t0) if t1 > t0 else 0.0
    est_at_kill = m1 + rate_t_per_wall_s * (killed["kill_wall"] - t1)
    lost_t = max(0.0, est_at_kill - mark)
    bound_t = rate_t_per_wall_s * (FLUSH_S + 0.5) + 1.0
    assert lost_t <= bound_t, (lost_t, bound_t)
    record("process.kill9", group="process", fault="kill -9 of `oreline demo` mid-lot", injected=1, survived=True,
           segments_archived=len(segs), nir_rows_archived=rows, rows_lost_beyond_flush=0,
           tonnes_not_flushed=round(lost_t, 1), flush_bound_t=round(bound_t, 1), flush_interval_s=FLUSH_S)


def test_close_marks_the_killed_lot_aborted(killed, tmp_path):
    path = tmp_path / killed["path"].name
    shutil.copy(killed["path"], path)
    with open_archive(path) as a:
        rows = {n: s.rows for n, s in a.streams.items()}
        n_segs = len(a.segments())
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "archive", "close", str(path), "--reason",
                           "line killed (fault test)"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open_archive(path, allow_live=False) as a:
        assert a.state == "aborted" and a.end["reason"] == "line killed (fault test)"
        assert {n: s.rows for n, s in a.streams.items()} == rows
        assert len(a.segments()) == n_segs
        a.verify()
    from analysis.report import write_report

    html = write_report(path, tmp_path, pdf=False)["html"].read_text()
    assert "aborted" in html


def test_resume_the_killed_lot_on_a_new_line(killed, tmp_path):
    """A new composed line (same stations, the sampler too) appends the rest of the lot to the killed lot's archive;
    the sampler continues the archived plan: no increment lost or cut twice."""
    from analysis.site import compose, validate
    from conveyor.records import LotIdentity

    path = tmp_path / killed["path"].name
    shutil.copy(killed["path"], path)
    with open_archive(path) as a:
        lot = dict(a.lot)
        before_rows = a.streams["nir"].rows
        before_segs = len(a.segments())
        done_t = float(a.lot_tonnes(a.stream_column("nir", "tonnage_mark_t"))[-1])
        plan = a.streams["sampler"].metadata["plan"]
        line_seed = int(plan["seed"])  # the killed line's seed (its plan's)
        before_incs = a.stream_table("sampler", ["increment_id", "status"])
    rest_t = 100.0  # four segments: the archived plan continued, increments cut after the killed run's, once each
    # (50 t: the robot, busy with the targeted increments, cut no routine increment there)
    # The same site as the killed line (its seed), sampler included: it continues the archived plan (restored from the
    # archive) instead of planning the resumed part afresh, so the archive accepts its stream (same description).
    site = short_site(rest_t, scale="direct", camera=True, sampler=True, seed=line_seed)
    site["lot"]["segment_mass_t"] = SEGMENT_T
    plant = compose(validate(site), tmp_path / "resume")
    assert restore_samplers(plant.stations, path) == {"sampler": len(before_incs["increment_id"])}
    log = RecordLog()
    plant.line.add_sink(log)
    archive = LotArchive.resume(path, flush_interval_s=FLUSH_S)
    plant.line.add_sink(archive)
    plant.monitor.segment_listeners.append(archive.add_segment)
    plant.monitor.verdict_listeners.append(archive.add_verdict)
    plant.alarms.listeners.append(archive.alarm_changed)
    ident = LotIdentity(lot["lot_id"], lot["vessel"], lot["hold"], lot["declared_product"], rest_t,
                        lot.get("supplier", ""))
    try:
        end = plant.run_lot(ident)
        archive.close()
    finally:
        plant.close()
    assert end.status == "complete", end.reason
    with open_archive(path, allow_live=False) as a:
        assert a.state == "complete" and a.lot_id == lot["lot_id"]
        assert a.streams["nir"].rows == before_rows + log.measurements["nir"]
        marks = a.lot_tonnes(a.stream_column("nir", "tonnage_mark_t"))
        assert np.all(np.diff(marks) >= -1e-9) and marks[-1] >= done_t + rest_t * 0.9
        idx = [s.index for s in a.segments()]
        assert idx == sorted(idx) and len(idx) == before_segs + len(plant.monitor.segments)
        a.verify()
        _check_resumed_increments(a, plan, before_incs, log.measurements.get("sampler", 0),
                                  plant.stations["sampler"].custody.sample_rows())
    record("process.resume", group="process", fault="resume the killed lot on a new line", injected=1,
           survived=True, segments_before=before_segs, segments_added=len(plant.monitor.segments),
           increments_before=len(before_incs["increment_id"]), increments_added=log.measurements.get("sampler", 0))


def _check_resumed_increments(a, plan: dict, before: dict, added: int, samples: list[dict]) -> None:
    """The resumed sampler stream: the archived plan kept, each increment once, the killed run's rows unchanged, and
    every routine increment of the plan up to the lot's end accounted for (cut, late, or recorded missed/skipped)."""
    assert a.streams["sampler"].metadata["plan"] == plan, "the resumed lot keeps the archived plan"
    t = a.stream_table("sampler", ["increment_id", "number", "role", "status", "tonnage_mark_t"])
    ids = list(t["increment_id"])
    n_before = len(before["increment_id"])
    assert len(ids) == n_before + added and added > 0
    assert len(set(ids)) == len(ids), f"increments recorded twice: {sorted({i for i in ids if ids.count(i) > 1})}"
    assert ids[:n_before] == list(before["increment_id"]) and list(t["status"][:n_before]) == list(before["status"])
    lot_end_t = float(a.lot_tonnes(a.coverage()["end_mark_t"]).max())
    routine = {int(n) for n, r in zip(t["number"], t["role"]) if r == "routine"}
    due = {i + 1 for i, off in enumerate(plan["offsets"]) if off < lot_end_t}
    assert due <= routine, f"planned routine increments lost: {sorted(due - routine)[:10]}"
    rel = a.lot_tonnes(t["tonnage_mark_t"])
    cut_after = [m for m, s, r in zip(rel[n_before:], t["status"][n_before:], t["role"][n_before:])
                 if s in ("cut", "late") and r == "routine"]
    assert cut_after and min(cut_after) >= float(max(rel[:n_before], default=0.0)) - 1e-6, \
        "the resumed sampler cuts only material after the killed run's"
    in_samples = [i for s in samples for i in str(s.get("increment_ids", "")).split()]
    collected = [i for i, s in zip(ids, t["status"]) if s in ("cut", "late")]
    assert sorted(in_samples) == sorted(collected), "every collected increment is in its sample once, the killed run's too"
