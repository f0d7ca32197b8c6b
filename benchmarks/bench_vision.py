"""Vision benchmark: detector throughput and latency at 1 mm/px x 2048 px, detection quality on held-out
scenes (recall, kind precision, false alarms on a long object-free belt) and the simulated line station's
end-to-end rate (render + detect) in metres of belt per wall second at coarse simulation scales.

Run: ``.venv/bin/python -m benchmarks.bench_vision [--fa-m 6000] [--quick]`` (fits and caches models on first use).
Images: see :data:`vision.tiles.ATTRIBUTION` (CC BY 4.0).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from vision.cli import evaluate
from vision.model_cache import cached_model
from vision.sim_camera import SimulatedCamera

TARGET_MPX_S = 2048 * 6000 * 3 / 1e6  # 3x real time for a 2048 px line at 6 m/s, 1 mm/px
#: A 3,000 t lot at 6,000 t/h and 4.5 m/s is 8.1 km of belt; "about a minute" → >= 135 m/s.
LINE_TARGET_M_S = 8100.0 / 60.0


def _row(name, value, unit, target, ok):
    return dict(name=name, value=float(value), unit=unit, target=target, ok=bool(ok))


def throughput_rows(model, scene: str = "today", n_frames: int = 12) -> list[dict]:
    """Detector throughput on one core (CPU time of :meth:`~vision.detect.Detector.process` per pixel; rendering the
    simulated frames is not counted) and its wall-clock latency p99, on 2048 x 1024 frames of scene type ``scene``."""
    from vision.scenes import scene_options

    cam = SimulatedCamera(tiles="heldout", seed=5, width_px=2048, frame_lines=1024, mm_per_px=1.0,
                          scene_options=scene_options(scene)[0] or None).open()
    frames = [cam.grab() for _ in range(n_frames)]
    det = model.detector()
    det.belt_width_m = cam.belt_width_m  # the belt-edge rule on (a station with belt_edge): its cost measured too
    det.process(frames[0])
    lat, cpu = [], []
    for f in frames[1:]:
        t, c = time.perf_counter(), time.thread_time()
        det.process(f)
        cpu.append(time.thread_time() - c)
        lat.append(time.perf_counter() - t)
    mpx = sum(f.image.shape[0] * f.image.shape[1] for f in frames[1:]) / 1e6
    mpx_s, p99 = mpx / sum(cpu), float(np.percentile(lat, 99))
    return [_row(f"vision detection throughput, {scene} scenes (1 core, detector CPU time; wall {mpx / sum(lat):.1f} Mpx/s)", mpx_s, "Mpx/s",
                 f">= {TARGET_MPX_S:.1f}", mpx_s >= TARGET_MPX_S),
            _row(f"vision frame-to-detection latency p99, {scene} scenes (2048x1024 frame, wall; CPU p99 "
                 f"{1000 * float(np.percentile(cpu, 99)):.0f} ms)", p99 * 1000, "ms", "< 200", p99 < 0.2)]


def quality_rows(model, length_m: float, label: str) -> tuple[list[dict], dict]:
    """Recall (objects >= 50 mm) and kind precision on held-out scenes with ~1 object per metre."""
    table, _ = evaluate(model, backgrounds="heldout", length_m=length_m, seed=2, objects_per_m=1.0)
    r = table["recall"]["size>=50:all"]
    rows = [_row(f"vision recall objects >= 50 mm ({label}, held-out tiles, {r['objects']} objects)", 100 * r["recall"], "%", ">= 95", r["recall"] >= 0.95)]
    return rows, table


def _fa_worker(args):
    mm_per_px, width_px, length_m, seed = args
    model = cached_model(mm_per_px=mm_per_px, width_px=width_px)
    table, _ = evaluate(model, backgrounds="heldout", length_m=length_m, seed=seed, objects_per_m=0.0, frame_lines=2048)
    return table["false_alarms"], table["belt_m"], table["wall_s"]


def false_alarm_rows(mm_per_px: float, width_px: int, length_m: float, workers: int = 2) -> list[dict]:
    """False alarms on ``length_m`` of object-free held-out belt, split over ``workers`` processes."""
    from concurrent.futures import ProcessPoolExecutor

    from vision.evaluate import _poisson_upper95

    cached_model(mm_per_px=mm_per_px, width_px=width_px)  # fit once, before forking
    parts = [(mm_per_px, width_px, length_m / workers, 1000 + i) for i in range(workers)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            res = list(ex.map(_fa_worker, parts))
    else:
        res = [_fa_worker(parts[0])]
    fa = sum(r[0] for r in res)
    belt = sum(r[1] for r in res)
    upper = 1000.0 * _poisson_upper95(fa) / belt
    label = f"{mm_per_px:g} mm/px, {belt:,.0f} m held-out belt, {fa} false alarms"
    return [_row(f"vision false alarms ({label}), 95 % upper bound", upper, "per 1,000 m", "<= 1", upper <= 1.0)]


class _CpuMeter:
    """Wraps a bound method and adds up the CPU time (this thread) spent in it."""

    def __init__(self, fn) -> None:
        self.fn, self.cpu_s = fn, 0.0

    def __call__(self, *args, **kwargs):
        c = time.thread_time()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.cpu_s += time.thread_time() - c


def line_rows(sim_mm_per_px: float, lot_mass_t: float = 3000.0, max_m: float | None = None, model: str = "") -> list[dict]:
    """The camera station in a simulated line with full coverage, split into what the target is for and what it is
    not: the **station's work** on the frames (detection, records: CPU time of everything but rendering), the
    **simulator's rendering** of the frames (CPU time of the simulated camera), and the end-to-end wall rate; plus the
    recall of the cargo's objects. Rates in m of belt per CPU second (one core) unless said. ``model``: a saved model
    (.npz) the station runs (its ``model`` setting); empty: the built-in one for the scale."""
    from pathlib import Path

    from conveyor.cargo import CargoModel
    from conveyor.clock import SimulatedClock
    from conveyor.records import Coverage, LotIdentity, LotStart, Measurement, Record
    from conveyor.station import MaterialWindow, StationContext
    from vision.station import from_config, prepare

    rate_t_s, speed = 6000.0 / 3600.0, 4.5
    cargo = CargoModel.random("fines", lot_mass_t, np.random.default_rng(4), objects_per_1000_t=40.0)
    ctx = StationContext(SimulatedClock(), 1.8, speed, Path("/tmp"), seed=3, cargo=cargo)
    section = {"kind": "camera", "position_m": 50.0, "sim_mm_per_px": sim_mm_per_px, "imaged_fraction": 1.0, "model": model}
    prepare("cam", section, ctx)  # fits the model on first use (building the station never does)
    st = from_config("cam", section, ctx)
    st.start_lot(LotStart(LotIdentity("B1", "V", "H1", "fines", lot_mass_t), 0.0, 0.0, 0.0))
    render = _CpuMeter(st.camera.frames_for)
    st.camera.frames_for = render  # type: ignore[method-assign]
    n_ticks = int(lot_mass_t / rate_t_s)
    if max_m is not None:
        n_ticks = min(n_ticks, int(max_m / speed))
    recs: list[Record] = []
    t0, c0 = time.perf_counter(), time.thread_time()
    for i in range(n_ticks):
        w = MaterialWindow("B1", "cam", float(i), i + 1.0, i * rate_t_s, (i + 1) * rate_t_s, i * speed, (i + 1) * speed, speed, 0.0)
        recs += st.process(w)
    recs += st.end_lot(n_ticks * rate_t_s)
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    st.close()
    belt_m = n_ticks * speed
    station_cpu = cpu - render.cpu_s
    cov = [r for r in recs if isinstance(r, Coverage)]
    inspected_t = sum(r.end_mark_t - r.start_mark_t for r in cov if r.inspected)
    meas = [r for r in recs if isinstance(r, Measurement)]
    t_per_mm = rate_t_s / speed / 1000.0
    marks = np.array([m.tonnage_mark_t for m in meas])
    truth = [o for o in cargo.objects if o.mark_t < n_ticks * rate_t_s and o.length_mm >= 50]
    found = sum(1 for o in truth if marks.size and np.min(np.abs(marks - o.mark_t)) <= (o.length_mm / 2 + 60) * t_per_mm)
    recall = found / max(len(truth), 1)
    m_s = belt_m / station_cpu
    lot_km = lot_mass_t / rate_t_s * speed / 1000.0
    sim = f"sim {sim_mm_per_px:g} mm/px, imaged_fraction 1, {belt_m:,.0f} m" + (f", model {Path(model).name}" if model else "")
    return [
        _row(f"vision line station rate: the station's work (detection + records, CPU, rendering excluded), {sim}; "
             f"{1000 * station_cpu / n_ticks:.1f} ms CPU per 1 s window of {speed:g} m; {lot_mass_t:,.0f} t lot = {lot_km:.1f} km "
             f"in {lot_km * 1000 / m_s:.0f} s CPU; {100 * inspected_t / (n_ticks * rate_t_s):.0f} % inspected", m_s, "m/s",
             f">= {LINE_TARGET_M_S:.0f}", m_s >= LINE_TARGET_M_S),
        _row(f"vision line simulator: rendering the frames only (CPU; not the station's work), {sim}; "
             f"{1000 * render.cpu_s / n_ticks:.1f} ms CPU per window", belt_m / render.cpu_s, "m/s", "(no target)", True),
        _row(f"vision line end to end, render + station, {sim}: per CPU second (wall {belt_m / wall:.0f} m/s on this shared machine)",
             belt_m / cpu, "m/s", "(no target)", True),
        _row(f"vision line recall cargo objects >= 50 mm, sim {sim_mm_per_px:g} mm/px ({found}/{len(truth)}; {len(meas)} detections)",
             100 * recall, "%", ">= 95", recall >= 0.95),
    ]


def speed_rows(line_m: float | None, scenes: tuple[str, ...] = ("today", "realistic")) -> list[dict]:
    """The speed targets only: detector throughput and p99 (1 mm/px) per scene type, the 4 mm/px line station."""
    model = cached_model(mm_per_px=1.0, width_px=2048)
    rows = [r for s in scenes for r in throughput_rows(model, s)]
    return rows + line_rows(4.0, max_m=line_m)


def line_model_rows(models: list[str], line_m: float | None, rounds: int = 2) -> list[dict]:
    """The 4 mm/px line station with each saved model in ``models`` in turn, ``rounds`` times (alternating, so that
    the models share the machine's load): its rows per model and round."""
    return [r for _ in range(rounds) for m in models for r in line_rows(4.0, max_m=line_m, model=m)]


def main(argv: list[str] | None = None) -> list[dict]:
    """Every vision figure against its target (options below; ``--quick``: short runs that check it runs)."""
    ap = argparse.ArgumentParser(prog="bench_vision", description=__doc__)
    ap.add_argument("--fa-m", type=float, default=6000.0,
                    help="metres of object-free held-out belt for the false-alarm bound (0 false alarms in >= 3,000 m or 1 in >= 4,750 m "
                         "meet <= 1 per 1,000 m)")
    ap.add_argument("--quality-m", type=float, default=200.0, help="metres of held-out belt with objects (1 mm/px)")
    ap.add_argument("--line-m", type=float, default=None, help="cap the simulated line run (m of belt; default the whole 3,000 t lot)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="short runs (60 m false-alarm belt, 20 m quality, 100 m line, 1 worker)")
    ap.add_argument("--speed", action="store_true",
                    help="the speed targets only: detector throughput and p99 on today's and realistic frames, and the 4 mm/px line station "
                         "(900 m unless --line-m; with --quick 100 m)")
    ap.add_argument("--line-model", action="append", default=[], metavar="NPZ",
                    help="the 4 mm/px line station only, with this saved model (repeat to compare models: each in turn, "
                         "--rounds times; 900 m unless --line-m)")
    ap.add_argument("--rounds", type=int, default=2, help="with --line-model: rounds over the models")
    a = ap.parse_args(argv)
    if a.quick:
        a.fa_m, a.quality_m, a.line_m, a.workers = 60.0, 20.0, 100.0, 1
    fa_m, quality_m, line_m, workers = a.fa_m, a.quality_m, a.line_m, a.workers
    missing = [m for m in a.line_model if not os.path.isfile(m)]
    if missing or a.rounds < 1:
        ap.error(f"--line-model: no such model file: {', '.join(missing)}" if missing else f"--rounds: at least 1, got {a.rounds}")
    if a.line_model:
        return _print(line_model_rows(a.line_model, 900.0 if line_m is None else line_m, a.rounds))
    if a.speed:
        return _print(speed_rows(900.0 if line_m is None else line_m))
    model = cached_model(mm_per_px=1.0, width_px=2048)
    rows = throughput_rows(model)
    q, table = quality_rows(model, quality_m, "1 mm/px")
    rows += q
    prec = table["precision_by_kind"]
    kinds = ", ".join(f"{k} {100 * v:.0f} %" for k, v in prec.items())
    recs = ", ".join(f"{k[9:]} {v['detected']}/{v['objects']}" for k, v in sorted(table["recall"].items()) if k.startswith("kind>=50:"))
    sizes = ", ".join(f"{k[5:]} {100 * v['recall']:.0f} %" for k, v in table["recall"].items() if k.startswith("size:"))
    print(f"  1 mm/px held-out, recall per kind (objects >= 50 mm): {recs}\n  recall per size: {sizes}\n"
          f"  precision per reported kind: {kinds}; false alarms {table['false_alarms']}, duplicates {table['duplicates']} in {table['belt_m']:.0f} m")
    rows += false_alarm_rows(1.0, 2048, fa_m, workers)
    for mm in (4.0, 8.0):
        rows += line_rows(mm, max_m=line_m)
        m = cached_model(mm_per_px=mm, width_px=int(2048 / mm))
        rows += quality_rows(m, quality_m * mm / 2, f"{mm:g} mm/px")[0]
    return _print(rows)


def _print(rows: list[dict]) -> list[dict]:
    for r in rows:
        print(f"{r['name']}: {r['value']:,.2f} {r['unit']} (target {r['target']}) {'OK' if r['ok'] else 'MISSED'}")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
