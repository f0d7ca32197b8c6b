"""Black items on the line: what the NIR station, the lot monitor and the camera do with black rubber.

Runs simulated lots of hematite fines on the real line runtime with the real NIR and camera stations and the real
lot monitor (segment classes, targeted increments, alarms). Between ``start`` and ``start + 100 t`` a share of the
mass is ``rubber`` (library proxies: roofing felt, asphalt, carbon black: carbon-filled organics without NIR
bands) and black rubber objects lie on the belt. Prints per contaminated segment the share of spectra identified
ore / contaminant / unknown, the segment class, targeted increments, alarms and camera detections, and the same
for the clean segments. ``--quick``: one lot of 500 t at 20 % rubber (< 2 min).

    nice .venv/bin/python benchmarks/bench_black_items.py --quick
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from analysis.decide.alarms import AlarmBook
from analysis.decide.monitor import LotMonitor
from analysis.site import load_site
from conveyor.cargo import Admixture, CargoModel, ForeignObject
from conveyor.clock import SimulatedClock
from conveyor.feed import SimulatedFeed
from conveyor.records import LotIdentity, Measurement
from conveyor.runtime import Line
from conveyor.station import StationContext
from spectra.segment import LotSegmentScorer
from spectra.station import from_config as nir_station
from vision.station import from_config as camera_station
from vision.station import prepare as prepare_camera

SPAN_T = 100.0


class _IdCounts:
    """Line sink: per 100-t segment, counts of the NIR identification classes."""

    def __init__(self) -> None:
        self.counts: dict[int, np.ndarray] = {}

    def handle(self, record) -> None:
        if isinstance(record, Measurement) and record.stream == "nir" and bool(record.data.get("valid", False)):
            seg = int(record.tonnage_mark_t // SPAN_T)
            c = self.counts.setdefault(seg, np.zeros(4))
            c[int(record.data["id_class"])] += 1


def run_lot(mass_t: float, start_t: float, fraction: float, n_objects: int, seed: int) -> dict:
    """One lot; returns per-segment rows and the lot's alarms and targeted increments."""
    tmp = Path(tempfile.mkdtemp(prefix="black-items-"))
    clock = SimulatedClock()
    rng = np.random.default_rng(seed)
    objects = [ForeignObject(float(m), "rubber", float(rng.uniform(100, 400)), float(rng.uniform(60, 200)),
                             float(rng.uniform(-0.4, 0.4)), float(rng.uniform(0, 180)))
               for m in np.sort(rng.uniform(start_t, start_t + SPAN_T, n_objects))]
    cargo = CargoModel("hematite fines", [Admixture(start_t, start_t + SPAN_T, "contaminant", "rubber", fraction)],
                       objects)
    ctx = StationContext(clock, 1.8, 4.5, tmp, seed, cargo)
    cam_cfg = {"kind": "camera", "position_m": 60.0, "backend": "simulated", "mm_per_px": 1.0,
               "sim_mm_per_px": 4.0, "imaged_fraction": 1.0}
    prepare_camera("camera", cam_cfg, ctx)
    stations = [nir_station("nir", {"kind": "spectrometer", "position_m": 40.0}, ctx),
                camera_station("camera", cam_cfg, ctx)]
    alarms = AlarmBook(clock.now_s)
    targeted: list[str] = []
    monitor = LotMonitor(alarms, load_site()["verdict"], nir_scorer_factory=LotSegmentScorer.from_metadata,
                         on_targeted=lambda mark, reason, alarm: targeted.append(f"{mark:.0f} t: {reason}"))
    ids = _IdCounts()
    line = Line(clock, SimulatedFeed(6000.0, 4.5, mass_t, seed=seed), stations, sinks=[ids, monitor])
    line.run_lot(LotIdentity(f"LOT-BLACK-{seed}", "MV Test", "H1", "hematite fines", mass_t))
    return {"segments": monitor.segments, "ids": ids.counts, "alarms": alarms.all(), "targeted": targeted}


def _report(res: dict, start_t: float, fraction: float) -> None:
    print(f"\nrubber {100 * fraction:.0f} % of the mass in {start_t:.0f}-{start_t + SPAN_T:.0f} t")
    print("segment | rubber | ore / contaminant / unknown spectra | class | camera detections | reasons")
    for d in res["segments"]:
        c = res["ids"].get(d.index, np.zeros(4))
        share = c / max(c.sum(), 1.0)
        black = start_t <= d.start_t < start_t + SPAN_T
        print(f"{d.index} | {'yes' if black else 'no'} | {100 * share[0]:.0f} / {100 * share[2]:.0f} / "
              f"{100 * share[3]:.0f} % of {int(c.sum())} | {d.segment_class} | {d.detections} "
              f"({', '.join(d.detection_kinds)}) | {'; '.join(d.reasons)[:160]}")
    in_span = [a for a in res["alarms"] if start_t <= a.mark_t < start_t + SPAN_T]
    print(f"alarms in the rubber span: {len(in_span)} ({', '.join(sorted({a.category for a in in_span}))}); "
          f"outside: {len(res['alarms']) - len(in_span)}")
    print(f"targeted increments: {len(res['targeted'])}: " + "; ".join(res["targeted"])[:400])


def _rows(res: dict, start_t: float, fraction: float, n_objects: int) -> list[dict]:
    seg = next(d for d in res["segments"] if start_t <= d.start_t < start_t + SPAN_T)
    c = res["ids"].get(seg.index, np.zeros(4))
    unknown = float(c[3] / max(c.sum(), 1.0))
    label = f"black items: rubber {100 * fraction:.0f} % in one segment, {n_objects} objects on the belt"
    caught = seg.segment_class != "ore"
    return [dict(name=f"{label}: segment class {seg.segment_class}", value=float(caught), unit="flagged (1/0)",
                 target="-", ok=True),
            dict(name=f"{label}: spectra called unknown", value=unknown, unit="share", target="-", ok=True)]


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one 500 t lot at 20 %% rubber")
    args = ap.parse_args(argv)
    cases = [(0.2, 6)] if args.quick else [(0.05, 0), (0.2, 0), (0.6, 0), (0.2, 6)]
    rows: list[dict] = []
    for fraction, n_objects in cases:
        res = run_lot(500.0, 300.0, fraction, n_objects, seed=11)
        _report(res, 300.0, fraction)
        rows += _rows(res, 300.0, fraction, n_objects)
    return rows


if __name__ == "__main__":
    main()
