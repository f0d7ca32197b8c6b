"""The ``oreline`` command line.

``oreline demo`` runs a complete simulated lot; ``oreline run SITE.toml`` runs the
same runtime against configured devices; the other commands reach the lab and
engineering tools of each package (``oreline <command> --help`` for each).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from conveyor.errors import ConveyorError
from analysis.errors import AnalysisError
from analysis.model import to_dict
from analysis.progress import ProgressBar

log = logging.getLogger("oreline")

#: ``oreline <group> <verb>`` → (module, function taking argv, help). Imported lazily.
DELEGATED: dict[str, dict[str, tuple[str, str, str]]] = {
    "spectra": {
        "train": ("spectra.cli", "cli_train", "train the NIR models from the USGS library and simulated mixtures"),
        "evaluate": ("spectra.cli", "cli_evaluate", "validation report; or score a model on another spectra folder"),
    },
    "vision": {
        "evaluate": ("vision.cli", "cli_evaluate", "recall/precision per kind and size on held-out belt scenes"),
        "fit": ("vision.cli", "cli_fit", "fit the normal-ore appearance model"),
    },
    "sampler": {
        "plan": ("sampler.cli", "cli_plan", "print the ISO 3082 sampling plan for a lot"),
        "lab-import": ("sampler.cli", "cli_lab_import", "validate a lab-results CSV against a lot's samples"),
    },
    "plc": {
        "docs": ("plc.cli", "cli_registers", "print the register map / regenerate docs/register-map.{md,csv}"),
        "serve-sim": ("plc.cli", "cli_serve_sim", "run a standalone simulated PLC + belt scale on 127.0.0.1"),
    },
    "archive": {
        "_": ("analysis.archive", "cli_archive", "inspect, close or resume a lot archive (info|close|resume)"),
    },
    "report": {
        "_": ("analysis.report", "cli_report", "regenerate the batch report (HTML + PDF) of a lot archive"),
    },
    "fleet": {
        "_": ("analysis.fleet", "cli_fleet", "re-score many archives with a new model (dask); summary tables"),
    },
    "control-room": {
        "_": ("analysis.controlroom_cli", "cli_controlroom", "serve the control room on a small simulated line (to try the page)"),
    },
}


def _delegate(module: str, func: str, argv: Sequence[str]) -> int:
    try:
        fn: Callable[[list[str]], int] = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:
        print(f"oreline: this command is not available in this build ({module}.{func}: {exc})", file=sys.stderr)
        return 2
    return int(fn(list(argv)) or 0)


def _add_demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="site file (default: the shipped simulated site)")
    p.add_argument("--lot-mass-t", type=float, help="override [simulation].lot_mass_t")
    p.add_argument("--speedup", type=float, help="override [simulation].speedup (0: as fast as possible)")
    p.add_argument("--seed", type=int, help="override [simulation].seed")
    p.add_argument("--waste-fraction", type=float, help="override [simulation].waste_fraction")
    p.add_argument("--run-dir", type=Path, help="where outputs go (default: runs/<time>-<lot>)")
    p.add_argument("--no-serve", action="store_true", help="do not start the control room or the Modbus server")
    p.add_argument("--no-report", action="store_true", help="skip the batch report")
    p.add_argument("--linger-s", type=float, default=0.0,
                   help="keep the control room up this long after the lot ends (seconds)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oreline",
        description="Inline inspection of imported iron ore on the unloading conveyor.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Quick start: `oreline demo` runs a simulated lot end to end and prints where its outputs are.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="run a complete simulated lot: PLC, stations, control room, archive, report")
    _add_demo_args(demo)
    run = sub.add_parser("run", help="run the line described by a site file against its configured devices")
    run.add_argument("site", type=Path, help="site configuration (TOML)")
    _add_demo_args(run)
    cfg = sub.add_parser("config", help="check a site file, or print the default one")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    cfg_check = cfg_sub.add_parser("check", help="validate a site file and print the composed line")
    cfg_check.add_argument("site", type=Path)
    cfg_sub.add_parser("default", help="print the shipped default site file")

    for group, verbs in DELEGATED.items():
        if "_" in verbs:
            module, func, help_ = verbs["_"]
            g = sub.add_parser(group, help=help_, add_help=False)
            g.add_argument("args", nargs=argparse.REMAINDER)
            continue
        g = sub.add_parser(group, help=f"{group} tools: " + ", ".join(verbs))
        gsub = g.add_subparsers(dest="verb", metavar="VERB", required=True)
        for verb, (_m, _f, help_) in verbs.items():
            v = gsub.add_parser(verb, help=help_, add_help=False)
            v.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _delegated_argv(argv: list[str], args: argparse.Namespace) -> list[str]:
    """The words after ``<group> [<verb>]`` as typed: argparse's REMAINDER moves an option that comes first
    (``vision fit --images DIR --out M``) behind the values, so the delegated command gets them from argv itself."""
    i = argv.index(args.command)
    if getattr(args, "verb", None) is not None and args.verb in argv[i + 1 :]:
        i = argv.index(args.verb, i + 1)
    return argv[i + 1 :]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oreline`` console script."""
    parser = build_parser()
    # Delegated commands own their options (``oreline report --help`` is the report's help).
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in DELEGATED:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _configure_logging(args.verbose)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command in ("demo", "run"):
            return run_line(args, demo=args.command == "demo")
        if args.command == "config":
            return _config(args)
        verbs = DELEGATED[args.command]
        if "_" in verbs:
            module, func, _ = verbs["_"]
        else:
            module, func, _ = verbs[args.verb]
        return _delegate(module, func, _delegated_argv(list(sys.argv[1:] if argv is None else argv), args))
    except (ConveyorError, AnalysisError) as exc:
        print(f"oreline: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("oreline: interrupted", file=sys.stderr)
        return 130


def _config(args: argparse.Namespace) -> int:
    from analysis.site import DEFAULT_SITE, load_site

    if args.config_command == "default":
        print(DEFAULT_SITE.read_text(), end="")
        return 0
    site = load_site(args.site)
    print(f"{args.site}: valid")
    for name, st in sorted(site["stations"].items(), key=lambda kv: kv[1]["position_m"]):
        print(f"  station {name:<12} {st['kind']:<12} at {st['position_m']:7.1f} m  backend {st['backend']}")
    return 0


def _apply_overrides(site: dict[str, Any], args: argparse.Namespace) -> None:
    sim = site["simulation"]
    for attr, key in (("lot_mass_t", "lot_mass_t"), ("speedup", "speedup"), ("seed", "seed"),
                      ("waste_fraction", "waste_fraction")):
        value = getattr(args, attr, None)
        if value is not None:
            sim[key] = value
    if sim["waste_start_t"] >= sim["lot_mass_t"]:
        sim["waste_start_t"] = sim["lot_mass_t"] / 2  # keep the demo's admixture inside a shortened lot
    if sim["waste_start_t"] + sim["waste_extent_t"] > sim["lot_mass_t"]:
        sim["waste_extent_t"] = 0.0


def run_line(args: argparse.Namespace, *, demo: bool) -> int:
    """Compose the line, serve it, run one lot with a progress bar, write archive, summary and report.

    ``demo`` uses the shipped simulated site (or ``--config``); ``run`` the given site file. A site whose
    devices are all simulated runs on the simulated clock; one with any real device runs on the wall clock.
    """
    from threadpoolctl import threadpool_limits

    from analysis import integration
    from analysis.site import compose, is_simulated, load_site, validate

    # The line does many small matrix operations; numpy's and scipy's BLAS thread pools fighting over
    # two cores cost far more than they give (measured 69 ms → 2 ms per NIR segment). One thread each.
    threadpool_limits(1)

    site = load_site(getattr(args, "site", None) or args.config)
    _apply_overrides(site, args)
    site = validate(site)  # overrides must obey the same rules as the file
    plant_dir = args.run_dir or Path("runs") / time.strftime("%Y%m%dT%H%M%S")
    simulated = is_simulated(site)
    plant = compose(site, plant_dir, simulated=simulated)
    lot = plant.new_lot()
    out = sys.stdout
    print(f"oreline {'demo' if demo else 'run'}: lot {lot.lot_id} ({lot.declared_mass_t:,.0f} t "
          f"{lot.declared_product}, {lot.vessel} hold {lot.hold})", file=out)
    print(f"  run folder     {plant.run_dir.resolve()}", file=out)
    stations = ", ".join(f"{n} @ {s.position_m:g} m" for n, s in plant.stations.items()) or "none"
    print(f"  stations       {stations}", file=out)
    if plant.absent_stations:
        print(f"  not available  {', '.join(plant.absent_stations)} (package not installed)", file=out)
    extras = integration.attach(plant, serve=not args.no_serve)
    for label, value in extras.items():
        print(f"  {label:<14} {value}", file=out)
    out.flush()

    bar = ProgressBar(lot.declared_mass_t, "t")
    plant.line.listeners.append(lambda st: bar.update(
        st.lot_tonnage_t, f"seg {st.segment_index}  {plant.monitor.verdict.verdict if plant.monitor.verdict else ''}"))
    started = time.perf_counter()
    try:
        end = plant.run_lot(lot)
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
    print(f"  wall time      {wall_s:.1f} s for {end.end_mark_t - plant.monitor.start.start_mark_t:,.0f} t", file=out)
    for label, value in results.items():
        print(f"  {label:<14} {value}", file=out)
    print(f"  summary        {summary_path.resolve()}", file=out)
    if args.linger_s > 0 and "control room" in extras:
        print(f"control room stays up for {args.linger_s:g} s", file=out)
        out.flush()
        threading.Event().wait(args.linger_s)
    plant.close()
    return 0 if end.status == "complete" else 1


def _summary(plant, end, wall_s: float, results: dict[str, str]) -> dict[str, Any]:
    return {
        "lot": to_dict(plant.lot),
        "end": to_dict(end),
        "verdict": to_dict(plant.monitor.verdict),
        "segments": [to_dict(s) for s in plant.monitor.segments],
        "alarms": [to_dict(a) for a in plant.alarms.all()],
        "counters": to_dict(plant.line.counters),
        "stations": {n: {"position_m": s.position_m, "type": type(s).__name__} for n, s in plant.stations.items()},
        "absent_stations": plant.absent_stations,
        "wall_time_s": wall_s,
        "outputs": results,
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
