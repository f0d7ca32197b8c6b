"""Soak: one long lot through the whole composed line with flat memory (oreline issue 7).

Runs a lot (default 200,000 t at 8,000 t/h) on the simulated clock as fast as possible with every
station of the shipped site (NIR at its configured spectra rate, camera, sampling robot), the belt
scale read over Modbus TCP from the simulated PLC on 127.0.0.1, the oreline Modbus server (PLC
bridge) and the HDF5 archive. Samples the process RSS (psutil) every ``--sample-every-t`` tonnes
of lot progress and prints throughput (t/s simulated, spectra/s, camera Mpx/s), peak RSS and the
RSS slope over the second half of the run, each next to its target. Figures go to
``benchmarks/soak_figures.json`` (read by ``tests/faults/render.py`` for docs/reliability.md);
partial figures are written every ``--checkpoint-t`` tonnes so an interrupted soak still reports.

Run: ``.venv/bin/python -m benchmarks.soak [--lot-mass-t 200000] [--rate-t-h 8000]``.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from conveyor.records import Coverage, LotEnd, Measurement, StreamDescription

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "benchmarks" / "soak_figures.json"

#: Targets: RSS may grow at most this much per 10,000 t over the second half of the lot (flat memory).
MAX_RSS_SLOPE_MB_PER_10KT = 5.0
#: Peak RSS budget of the whole line process, MB.
MAX_PEAK_RSS_MB = 2048.0
#: The line must keep up with the unloader: simulated tonnes per wall second >= rate (t/h) / 3600.


class Counter:
    """A record sink counting what the line produced (spectra, detections, imaged belt, coverage)."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}
        self.meta: dict[str, dict] = {}
        self.measurements: dict[str, int] = {}
        self.inspected_t: dict[str, float] = {}
        self.uninspected_t: dict[str, float] = {}
        self.end: LotEnd | None = None

    def handle(self, record: Any) -> None:
        if isinstance(record, Measurement):
            self.measurements[record.stream] = self.measurements.get(record.stream, 0) + 1
        elif isinstance(record, Coverage):
            d = self.inspected_t if record.inspected else self.uninspected_t
            d[record.station] = d.get(record.station, 0.0) + (record.end_mark_t - record.start_mark_t)
        elif isinstance(record, StreamDescription):
            self.kinds[record.name] = record.kind
            self.meta[record.name] = dict(record.metadata)
        elif isinstance(record, LotEnd):
            self.end = record

    def of_kind(self, kind: str) -> int:
        return sum(n for s, n in self.measurements.items() if self.kinds.get(s) == kind)


def soak_site(lot_mass_t: float, rate_t_h: float, seed: int = 11, camera_mm_per_px: float = 8.0) -> dict[str, Any]:
    """The shipped site set up for a soak: long lot, as fast as possible, coarse camera rendering (8 mm/px: its
    model is fitted once; the short soak of the tests renders at the shipped model's 4 mm/px and fits nothing)."""
    from analysis.site import load_site, validate

    site = load_site()
    sim = site["simulation"]
    sim.update(lot_mass_t=lot_mass_t, rate_t_h=rate_t_h, speedup=0.0, seed=seed,
               waste_start_t=lot_mass_t * 0.6, waste_extent_t=min(2000.0, lot_mass_t * 0.05),
               events=[{"start_s": 3600.0 * k + 600.0, "duration_s": 60.0, "kind": "stop"}
                       for k in range(int(lot_mass_t / rate_t_h) + 1)])
    site["stations"]["camera"]["sim_mm_per_px"] = camera_mm_per_px
    site["control_room"]["enabled"] = False
    site["archive"]["flush_interval_s"] = 5.0
    return validate(site)


def run_soak(lot_mass_t: float = 200_000.0, rate_t_h: float = 8_000.0, *, sample_every_t: float = 500.0,
             checkpoint_t: float = 10_000.0, out: Path | None = FIGURES, run_dir: Path | None = None,
             serve: bool = True, verbose: bool = True, camera_mm_per_px: float = 8.0) -> dict[str, Any]:
    """Run the soak lot; return its figures (and write them to ``out`` as JSON when given)."""
    from analysis import integration
    from analysis.site import compose

    proc = psutil.Process()
    site = soak_site(lot_mass_t, rate_t_h, camera_mm_per_px=camera_mm_per_px)
    tmp = None
    if run_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="oreline-soak-")
        run_dir = Path(tmp.name)
    t_compose = time.perf_counter()
    plant = compose(site, run_dir)
    counter = Counter()
    plant.line.add_sink(counter)
    lot = plant.new_lot()
    told = integration.attach(plant, serve=serve)
    compose_s = time.perf_counter() - t_compose
    samples: list[tuple[float, float, float]] = []  # (lot t, wall s, RSS MB)
    started = time.perf_counter()
    state = {"next_sample": 0.0, "next_checkpoint": checkpoint_t}

    def figures(final: bool) -> dict[str, Any]:
        return _figures(samples, counter, plant, lot_mass_t, rate_t_h, compose_s, started, told, final)

    def on_tick(st: Any) -> None:
        if st.lot_tonnage_t >= state["next_sample"]:
            state["next_sample"] += sample_every_t
            samples.append((st.lot_tonnage_t, time.perf_counter() - started, proc.memory_info().rss / 1e6))
            if verbose and len(samples) % 20 == 1:
                print(f"  {st.lot_tonnage_t:>9,.0f} t  {samples[-1][1]:7.0f} s wall  RSS {samples[-1][2]:6.0f} MB",
                      flush=True)
        if out is not None and st.lot_tonnage_t >= state["next_checkpoint"]:
            state["next_checkpoint"] += checkpoint_t
            out.write_text(json.dumps(figures(False), indent=1))

    plant.line.listeners.append(on_tick)
    try:
        end = plant.run_lot(lot)
        if plant.monitor.start is None:
            raise RuntimeError("the lot ended without its start record")
        samples.append((end.end_mark_t - plant.monitor.start.start_mark_t, time.perf_counter() - started,
                        proc.memory_info().rss / 1e6))
        integration.finish(plant, end, report=False)
        fig = figures(True)
        fig["status"] = end.status
        archive = getattr(plant, "archive", None)
        if archive is not None:
            fig["archive_mb"] = round(Path(archive.path).stat().st_size / 1e6, 1)
    finally:
        plant.close()
        if tmp is not None:
            tmp.cleanup()
    if out is not None:
        out.write_text(json.dumps(fig, indent=1))
    return fig


def _slope_mb_per_10kt(samples: list[tuple[float, float, float]]) -> float:
    """Least-squares RSS slope over the second half of the samples, MB per 10,000 t."""
    if len(samples) < 6:
        return math.nan
    arr = np.asarray(samples[len(samples) // 2:])
    t, rss = arr[:, 0], arr[:, 2]
    if np.ptp(t) <= 0:
        return math.nan
    return float(np.polyfit(t, rss, 1)[0] * 10_000.0)


def _figures(samples, counter: Counter, plant, lot_mass_t: float, rate_t_h: float, compose_s: float,
             started: float, told: dict, final: bool) -> dict[str, Any]:
    wall_s = time.perf_counter() - started
    done_t = samples[-1][0] if samples else 0.0
    sim_s = plant.line.state.time_s - plant.monitor.start.time_s if plant.line.state and plant.monitor.start else 0.0
    spectra = counter.of_kind("nir")
    cam_px = 0.0
    for stream, kind in counter.kinds.items():
        if kind != "vision":
            continue
        meta = counter.meta[stream]
        loading_t_m = rate_t_h / 3.6 / plant.site["line"]["nominal_speed_m_s"] / 1000.0
        imaged_m = counter.inspected_t.get(stream, 0.0) / loading_t_m  # camera stream name = station name
        cam_px += imaged_m * 1000.0 / float(meta["mm_per_px"]) * float(meta["width_px"])
    rss = [s[2] for s in samples] or [psutil.Process().memory_info().rss / 1e6]
    cov = {st: counter.inspected_t.get(st, 0.0) / max(1e-9, counter.inspected_t.get(st, 0.0)
                                                        + counter.uninspected_t.get(st, 0.0))
           for st in set(counter.inspected_t) | set(counter.uninspected_t)}
    return {
        "final": final,
        "date": time.strftime("%Y-%m-%d"),
        "lot_mass_t": lot_mass_t,
        "lot_done_t": round(done_t, 1),
        "rate_t_h": rate_t_h,
        "stations": {n: type(s).__name__ for n, s in plant.stations.items()},
        "outputs": sorted(told),
        "compose_s": round(compose_s, 1),
        "wall_s": round(wall_s, 1),
        "simulated_s": round(sim_s, 1),
        "t_per_s": round(done_t / wall_s, 1) if wall_s > 0 else 0.0,
        "realtime_factor": round(sim_s / wall_s, 1) if wall_s > 0 else 0.0,
        "spectra": spectra,
        "spectra_per_s": round(spectra / wall_s, 1) if wall_s > 0 else 0.0,
        "detections": counter.of_kind("vision"),
        "increments": counter.of_kind("sampler"),
        "camera_mpx": round(cam_px / 1e6, 1),
        "camera_mpx_per_s": round(cam_px / 1e6 / wall_s, 2) if wall_s > 0 else 0.0,
        "coverage_fraction": {k: round(v, 4) for k, v in sorted(cov.items())},
        "segments": len(plant.monitor.segments),
        "segments_by_class": _count([s.segment_class for s in plant.monitor.segments]),
        "alarms": len(plant.alarms.all()),
        "station_faults": dict(plant.line.counters.station_faults),
        "scale_ticks_lost": plant.line.counters.scale_ticks_lost,
        "rss_first_mb": round(rss[0], 1),
        "rss_peak_mb": round(max(rss), 1),
        "rss_last_mb": round(rss[-1], 1),
        "rss_slope_mb_per_10kt": round(_slope_mb_per_10kt(samples), 2),
        "rss_samples": [[round(a, 0), round(b, 1), round(c, 1)] for a, b, c in samples[:: max(1, len(samples) // 100)]],
    }


def _count(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def rows(fig: dict[str, Any]) -> list[dict[str, Any]]:
    """Benchmark rows (name, value, unit, target, ok) of a soak's figures; printed next to their targets."""
    need_t_s = fig["rate_t_h"] / 3600.0
    out = [
        dict(name="soak lot throughput (simulated)", value=fig["t_per_s"], unit="t/s", target=f">= {need_t_s:.2f}",
             ok=fig["t_per_s"] >= need_t_s),
        dict(name="soak NIR spectra processed", value=fig["spectra_per_s"], unit="spectra/s", target="(rate only)",
             ok=True),
        dict(name="soak camera pixels processed", value=fig["camera_mpx_per_s"], unit="Mpx/s", target="(rate only)",
             ok=True),
        dict(name="soak peak RSS", value=fig["rss_peak_mb"], unit="MB", target=f"<= {MAX_PEAK_RSS_MB:g}",
             ok=fig["rss_peak_mb"] <= MAX_PEAK_RSS_MB),
        dict(name="soak RSS slope (2nd half)", value=fig["rss_slope_mb_per_10kt"], unit="MB/10,000 t",
             target=f"<= {MAX_RSS_SLOPE_MB_PER_10KT:g}",
             ok=bool(fig["rss_slope_mb_per_10kt"] <= MAX_RSS_SLOPE_MB_PER_10KT)),
        dict(name="soak lot completed", value=fig["lot_done_t"], unit="t", target=f"= {fig['lot_mass_t']:,.0f}",
             ok=fig.get("status") == "complete"),
    ]
    for r in out:
        print(f"{r['name']}: {r['value']:,.2f} {r['unit']} (target {r['target']}) {'OK' if r['ok'] else 'MISS'}")
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="benchmarks.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--lot-mass-t", type=float, default=200_000.0)
    parser.add_argument("--rate-t-h", type=float, default=8_000.0)
    parser.add_argument("--sample-every-t", type=float, default=500.0)
    parser.add_argument("--out", type=Path, default=FIGURES)
    args = parser.parse_args(argv)
    print(f"soak: {args.lot_mass_t:,.0f} t at {args.rate_t_h:,.0f} t/h, simulated clock, all stations, archive on")
    fig = run_soak(args.lot_mass_t, args.rate_t_h, sample_every_t=args.sample_every_t, out=args.out)
    print(f"  {fig['lot_done_t']:,.0f} t in {fig['wall_s']:,.0f} s wall ({fig['realtime_factor']}x real time), "
          f"{fig['spectra']:,} spectra, {fig['camera_mpx']:,.0f} Mpx, {fig['segments']} segments, "
          f"RSS {fig['rss_first_mb']:.0f} -> peak {fig['rss_peak_mb']:.0f} MB")
    return rows(fig)


if __name__ == "__main__":
    main()
