"""Lot catalogue speed: ``oreline lots list`` (< 1 s) and the control room's lot list (< 300 ms) with 100 lots, and
opening a past lot from its archive (< 1 s).

Run: ``.venv/bin/python -m benchmarks.bench_lots [--lots 100] [--quick]``. A fresh SQLite catalogue in a
temporary data folder gets ``--lots`` lot rows with 20 alarms and 50 events each (written through the
catalogue's own store); the command is timed through the installed script as a new process (start-up
included), the lot list through ``GET /api/lots`` of the real router on a uvicorn server on 127.0.0.1. The past
lot is a real simulated lot (4,000 t, the demo's size; ``--quick``: 700 t) written to its archive and indexed; its
open time is what the page fetches when a lot is clicked (segments, trends, increments, detections), in turn.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from analysis.catalogue import CatalogueQueries, index_archive, open_catalogue, store
from analysis.web.app import role_guards
from analysis.web.auth import Authenticator
from analysis.web.lots import history_router
from analysis.web.pastlots import past_lots_router
from benchmarks.common import row
from tests.controlroom.pastlots import run_archived_lot

REPO = Path(__file__).resolve().parents[1]


def fill(url: str, lots: int) -> None:
    with open_catalogue(url) as cat, cat.session() as s, s.begin():
        t0 = time.time() - lots * 3600
        for i in range(lots):
            lot_id = f"MV-BENCH-{i:04d}"
            store.upsert_lot(s, lot_id, {"vessel": f"MV Bench {i % 7}", "hold": "H1", "product": "fines",
                                         "tonnage_t": 20000.0, "status": "complete", "started_epoch_s": t0 + i * 3600,
                                         "line_verdict": ("ore", "waste", "inconclusive")[i % 3],
                                         "lab_status": ("awaiting", "complete")[i % 2], "segments_total": 200})
            for a in range(20):
                store.upsert_alarm(s, lot_id, {"alarm_id": i * 20 + a + 1, "state": "acknowledged",
                                               "severity": "warning", "message": "bench"})
            for e in range(50):
                store.add_event(s, lot_id, {"kind": "belt_stop", "message": f"e{e}"})


def time_cli(data: Path, repeat: int) -> float:
    env = {**os.environ, "ORELINE_DATA": str(data)}
    env.pop("ORELINE_CATALOGUE_URL", None)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = subprocess.run([str(REPO / ".venv" / "bin" / "oreline"), "lots", "list"], env=env, cwd=tempfile.gettempdir(),
                           capture_output=True, text=True, timeout=60, check=True)
        times.append(time.perf_counter() - t)
        assert r.stdout.count("MV-BENCH-") >= 100 or "lot(s)" in r.stdout
    return statistics.median(times)


def serve(url: str) -> tuple[uvicorn.Server, threading.Thread, int]:
    """The catalogue's routers (lot list, past lots) on a uvicorn server on 127.0.0.1: (server, thread, port).
    No live line: the benchmark never asks for the live lot's markers."""
    app = FastAPI()
    queries, guards = CatalogueQueries(open_catalogue(url)), role_guards(Authenticator(None, None))
    app.include_router(history_router(queries, guards, {}))
    app.include_router(past_lots_router(queries, None, guards, {}))  # type: ignore[arg-type]  # no live line
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, thread, server.servers[0].sockets[0].getsockname()[1]


def time_page(url: str, repeat: int) -> float:
    server, thread, port = serve(url)
    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.get("/api/lots", params={"limit": 100}).raise_for_status()
        for _ in range(repeat):
            t = time.perf_counter()
            r = client.get("/api/lots", params={"limit": 100})
            times.append(time.perf_counter() - t)
            assert len(r.json()) == 100
    server.should_exit = True
    thread.join(10)
    return statistics.median(times)


def time_past_lot(url: str, folder: Path, mass_t: float, repeat: int) -> tuple[float, int]:
    """Median seconds to fetch what the page shows of a past lot from its archive, and its segments."""
    lot = run_archived_lot(folder, "LOT-BENCH-PAST", seed=5, mass_t=mass_t)
    with open_catalogue(url) as cat:
        index_archive(cat, lot.path)
    server, thread, port = serve(url)
    base, times = "/api/lots/LOT-BENCH-PAST", []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for _ in range(repeat + 1):  # the first (cold: the archive code loads) is not counted
            t = time.perf_counter()
            for part in ("/segments", "/trends", "/samples", "/detections?limit=1000"):
                client.get(base + part).raise_for_status()
            times.append(time.perf_counter() - t)
        n_segments = len(client.get(base + "/segments").json())
    server.should_exit = True
    thread.join(10)
    return statistics.median(times[1:]), n_segments


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_lots", description=__doc__.splitlines()[0])
    p.add_argument("--lots", type=int, default=100)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    args = p.parse_args(argv)
    repeat = 3 if args.quick else 10
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        url = f"sqlite:///{data / 'catalogue.sqlite'}"
        fill(url, args.lots)
        return [row(f"oreline lots list, {args.lots} lots (process, median of {repeat})", time_cli(data, repeat),
                    "s", 1.0, higher_is_better=False),
                row(f"GET /api/lots, {args.lots} lots (median of {repeat * 5})", time_page(url, repeat * 5) * 1000,
                    "ms", 300.0, higher_is_better=False),
                past_lot_row(url, data, 700.0 if args.quick else 4000.0, repeat)]


def past_lot_row(url: str, data: Path, mass_t: float, repeat: int) -> dict:
    seconds, n_segments = time_past_lot(url, data, mass_t, repeat)
    return row(f"open a past lot from its archive ({mass_t:,.0f} t, {n_segments} segments: segments, trends, "
               f"increments, detections; median of {repeat})", seconds * 1000, "ms", 1000.0, higher_is_better=False)


if __name__ == "__main__":
    sys.exit(0 if all(r["ok"] for r in main()) else 1)
