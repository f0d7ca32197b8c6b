"""Foundation targets: vectorised tracking lookups, and a 20,000 t lot at 6,000 t/h on the simulated clock.

Run: ``python -m benchmarks.bench_conveyor [--lot-mass-t 20000]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import row
from conveyor.tracking import MaterialTracker


def bench_tracking(n_lookups: int = 2_000_000) -> dict:
    tr = MaterialTracker()
    rng = np.random.default_rng(0)
    odo = mark = 0.0
    for t in range(20_000):  # 5.5 h of 1 s readings with speed changes and stops
        v = 0.0 if (t // 600) % 7 == 3 else 4.0 + rng.normal(0, 0.2)
        odo += v
        mark += 1.6 * (v > 0)
        tr.record(float(t), odo, mark)
    times = rng.uniform(100, 19_900, n_lookups)
    positions = rng.uniform(10, 250, n_lookups)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        tr.mark_at(positions, times)
        best = min(best, time.perf_counter() - t0)
    return row("tracking lookups (mark_at, vectorised)", n_lookups / best, "lookups/s", 1_000_000)


def bench_lot(lot_mass_t: float = 20_000.0, *, camera_mm_per_px: float | None = 8.0) -> dict:
    """Wall time of a whole simulated lot through the composed line (archive on, no servers).

    ``camera_mm_per_px`` sets the simulated camera's rendering scale (the whole belt is imaged);
    ``None`` leaves the camera off, to show what the other stations cost.
    """
    from threadpoolctl import threadpool_limits

    from analysis import integration
    from analysis.site import compose, load_site, validate

    threadpool_limits(1)  # as `oreline demo/run` do: small BLAS calls, one thread
    site = load_site()
    site["simulation"].update(lot_mass_t=lot_mass_t, rate_t_h=6000.0, speedup=0.0, waste_start_t=lot_mass_t / 2,
                              waste_extent_t=1000.0, events=[])
    site["scale"]["backend"] = "direct"
    if camera_mm_per_px is None:
        site["stations"]["camera"]["enabled"] = False
    else:
        site["stations"]["camera"]["sim_mm_per_px"] = camera_mm_per_px
    site = validate(site)
    with tempfile.TemporaryDirectory() as tmp:
        plant = compose(site, Path(tmp))
        plant.new_lot()
        told = integration.attach(plant, serve=False)
        t0 = time.perf_counter()
        end = plant.run_lot()
        wall = time.perf_counter() - t0
        integration.finish(plant, end, report=False)
        plant.close()
    stations = ", ".join(plant.stations) or "none"
    camera = "off" if camera_mm_per_px is None else f"{camera_mm_per_px:g} mm/px, whole belt"
    print(f"  lot of {lot_mass_t:,.0f} t, stations [{stations}], camera {camera}, archive: {told.get('archive', 'off')}")
    return row(f"simulated {lot_mass_t:,.0f} t lot at 6,000 t/h (camera {camera}), wall time", wall, "s", 60.0,
               higher_is_better=False)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lot-mass-t", type=float, default=20_000.0)
    parser.add_argument("--camera-mm-per-px", type=float, default=8.0,
                        help="simulated camera rendering scale for the all-stations run")
    parser.add_argument("--quick", action="store_true", help="a 1,000 t lot and fewer lookups (checks the benchmark runs)")
    args = parser.parse_args(argv)
    if args.quick:
        return [bench_tracking(20_000), bench_lot(1_000.0, camera_mm_per_px=None)]
    parser_rows = [bench_tracking(), bench_lot(args.lot_mass_t, camera_mm_per_px=None)]
    parser_rows.append(bench_lot(args.lot_mass_t, camera_mm_per_px=args.camera_mm_per_px))
    return parser_rows


if __name__ == "__main__":
    main(sys.argv[1:])
