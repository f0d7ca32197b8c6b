"""The line commands of ``oreline``: ``demo`` and ``run`` (compose a plant, run one lot, report); ``config`` is
:mod:`analysis.config_cli`.

Loaded by :mod:`analysis.cli` only when one of these commands runs, so that
``oreline --help`` and the tool commands stay quick.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from conveyor.records import LotEnd
from analysis import integration
from analysis.model import to_dict
from analysis.prepare import prepare_station_models
from analysis.progress import ProgressBar
from analysis.site import Plant, compose, is_simulated


def run_line(args: argparse.Namespace, site: dict[str, Any], *, demo: bool) -> int:
    """Compose the line of ``site`` (validated, the options applied: :func:`analysis.run_site.checked_site`), serve
    it, run one lot with a progress bar, write archive, summary and report.

    ``demo`` uses the shipped simulated site (or ``--config``); ``run`` the given site file. A site whose
    devices are all simulated runs on the simulated clock; one with any real device runs on the wall clock.
    """
    # The line does many small matrix operations; numpy's and scipy's BLAS thread pools fighting over
    # two cores cost far more than they give (measured 69 ms → 2 ms per NIR segment). One thread each.
    threadpool_limits(1)

    plant_dir = args.run_dir or Path("runs") / time.strftime("%Y%m%dT%H%M%S")
    simulated = is_simulated(site)
    prepare_station_models(site)  # first run: NIR and camera models fitted side by side, with progress
    plant = compose(site, plant_dir, simulated=simulated)
    lot = plant.new_lot()
    out = sys.stdout
    print(f"oreline {'demo' if demo else 'run'}: lot {lot.lot_id} ({lot.declared_mass_t:,.0f} t "
          f"{lot.declared_product}, {lot.vessel} hold {lot.hold})", file=out)
    print(f"  run folder     {plant.run_dir.resolve()}", file=out)
    stations = ", ".join(f"{n} @ {s.position_m:g} m" for n, s in plant.stations.items()) or "none"
    print(f"  stations       {stations}", file=out)
    for name, station in plant.stations.items():  # e.g. the NIR station's site novelty model
        for note in getattr(station, "startup_notes", ()):
            print(f"  {name:<14} {note}", file=out)
    extras = integration.attach(plant, serve=not args.no_serve)
    for label, value in extras.items():
        print(f"  {label:<14} {value}", file=out)
    out.flush()

    bridge = plant.plc_bridge
    if bridge is not None and site["plc"]["wait_for_start_lot"]:
        print("  waiting for START_LOT from the PLC", file=out, flush=True)
        bridge.wait_for_start_lot()
    bar = ProgressBar(lot.declared_mass_t, "t")
    plant.line.listeners.append(lambda st: bar.update(
        st.lot_tonnage_t, f"seg {st.segment_index}  {plant.monitor.verdict.verdict if plant.monitor.verdict else ''}"))
    started = time.perf_counter()
    try:
        end = plant.run_lot(lot)
    except BaseException as exc:
        if bridge is not None:
            bridge.lot_failed(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        bar.close()
    wall_s = time.perf_counter() - started
    results = integration.finish(plant, end, report=not args.no_report)
    summary = _summary(plant, end, wall_s, results)
    summary_path = plant.run_dir / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2))
    v = plant.monitor.verdict
    print(f"lot {end.status}: verdict {v.verdict.upper() if v else 'none'}"
          + (f" (confidence {v.confidence:.3f}, decided at {v.decided_at_t:,.0f} t)" if v and v.final else ""), file=out)
    if v:
        print("  segments       " + ", ".join(f"{k} {n}" for k, n in v.segments_by_class.items() if n), file=out)
        for reason in v.reasons:
            print(f"  reason         {reason}", file=out)
    print(f"  alarms         {len(plant.alarms.all())} raised, {len(plant.alarms.active())} still active", file=out)
    start = plant.monitor.start
    moved_t = end.end_mark_t - start.start_mark_t if start is not None else math.nan
    print(f"  wall time      {wall_s:.1f} s for {moved_t:,.0f} t", file=out)
    for label, value in results.items():
        print(f"  {label:<14} {value}", file=out)
    print(f"  summary        {summary_path.resolve()}", file=out)
    if bridge is not None:
        _hold_verdict(bridge, site["plc"]["verdict_hold_s"], out)
    if args.linger_s > 0 and ("control room" in extras or bridge is not None):
        print(f"control room and Modbus server stay up for {args.linger_s:g} s", file=out)
        out.flush()
        threading.Event().wait(args.linger_s)
    plant.close()
    return 0 if end.status == "complete" else 1


def _hold_verdict(bridge: Any, hold_s: float, out: Any) -> None:
    """Keep serving the final verdict until the PLC acknowledges it (bounded); say which."""
    out.flush()
    acked = bridge.wait_verdict_ack(hold_s)
    seq = bridge.server.verdict_seq
    print(f"  PLC verdict    VERDICT_SEQ {seq} " + ("acknowledged by the PLC" if acked else
          f"not acknowledged (no PLC connected, or none within {hold_s:g} s)"), file=out, flush=True)


def _summary(plant: Plant, end: LotEnd, wall_s: float, results: dict[str, str]) -> dict[str, Any]:
    return {
        "lot": to_dict(plant.lot),
        "end": to_dict(end),
        "verdict": to_dict(plant.monitor.verdict),
        "segments": [to_dict(s) for s in plant.monitor.segments],
        "alarms": [to_dict(a) for a in plant.alarms.all()],
        "counters": to_dict(plant.line.counters),
        "stations": {n: {"position_m": s.position_m, "type": type(s).__name__} for n, s in plant.stations.items()},
        "wall_time_s": wall_s,
        "outputs": results,
    }
