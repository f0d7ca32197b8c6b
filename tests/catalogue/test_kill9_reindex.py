"""``kill -9`` of a real line process mid-lot: after ``oreline lots reindex`` the catalogue agrees with the archive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.archive import open_archive
from analysis.catalogue import open_catalogue, store
from analysis.prepare import prepare_station_models
from analysis.site import load_site
from tests.sitefiles import light_site_file

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _lot_row(url: str) -> dict | None:
    with open_catalogue(url) as cat, cat.session() as s:
        rows = store.list_lots(s, store.LotFilter())
    return rows[0] if rows else None


def test_kill9_mid_lot_then_reindex_matches_the_archive(tmp_path):
    # 20 t segments (the shipped site's are 100 t): the three segments waited for come in 60 t of line (what is checked,
    # the catalogue agreeing with the archive after the kill, does not depend on their mass; 50 t cost 90 t more)
    site = light_site_file(tmp_path / "site.toml", flush_interval_s=1.0, segment_mass_t=20.0)
    prepare_station_models(load_site(site))  # models first: the timed part is the lot
    data, run_dir = tmp_path / "data", tmp_path / "run"
    url = f"sqlite:///{data / 'catalogue.sqlite'}"
    env = {**os.environ, "ORELINE_DATA": str(data)}
    env.pop("ORELINE_CATALOGUE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "analysis.cli", "demo", "--config", str(site), "--no-serve",
                             "--no-report", "--run-dir", str(run_dir), "--lot-mass-t", "3000", "--speedup", "60"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        row = None
        while time.monotonic() < deadline and proc.poll() is None:
            if (data / "catalogue.sqlite").exists():
                row = _lot_row(url)
                if row and row["segments_total"] >= 3:
                    break
            time.sleep(0.5)
        assert row and row["segments_total"] >= 3, "the line wrote no segments to the catalogue while running"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    archive = next(run_dir.glob("*.h5"))
    r = subprocess.run([str(REPO / ".venv" / "bin" / "oreline"), "lots", "reindex", str(run_dir)], env=env,
                       cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    row = _lot_row(url)
    with open_archive(archive, allow_live=True) as reader:
        assert row["lot_id"] == reader.lot_id
        assert row["status"] == reader.state == "open", "a killed lot is not reported complete"
        assert row["segments_total"] == len(reader.segments())
        assert row["alarms"] == len(reader.alarms())
        with open_catalogue(url) as cat, cat.session() as s:
            archived = {a.alarm_id: a.state for a in reader.alarms()}
            catalogued = {a["alarm_id"]: a["state"] for a in store.lot_alarms(s, reader.lot_id)}
        assert set(archived) <= set(catalogued)
        assert all(catalogued[k] == v for k, v in archived.items())
