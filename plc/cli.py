"""Command-line entry points the ``oreline`` CLI wires in (``oreline plc docs``, ``oreline plc serve-sim``)."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from conveyor.clock import SimulatedClock
from conveyor.feed import BeltEvent, SimulatedFeed
from plc.docs import check_docs, render_csv, render_markdown, write_docs
from plc.fat import LOT_SCRIPTS, ScriptedLine
from plc.server import OrelineModbusServer
from plc.simulated import SimulatedPlc
from sampler.robot import create_robot


def cli_registers(argv: list[str]) -> int:
    """``oreline plc docs [--out DIR] [--check] [--csv]``: print the register map, write or check the docs.

    Without options, prints the Markdown document. ``--out DIR`` writes
    ``register-map.md`` and ``register-map.csv`` into DIR; ``--check`` (with
    ``--out``) exits 1 when the files there differ from the tables.
    """
    parser = argparse.ArgumentParser(prog="oreline plc docs", description=(cli_registers.__doc__ or "").splitlines()[0])
    parser.add_argument("--out", help="directory to write register-map.md and register-map.csv into")
    parser.add_argument("--check", action="store_true", help="with --out: fail if the files are out of date")
    parser.add_argument("--csv", action="store_true", help="print the CSV instead of the Markdown")
    args = parser.parse_args(argv)
    if args.check:
        if not args.out:
            parser.error("--check needs --out DIR")
        problems = check_docs(args.out)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if args.out:
        for path in write_docs(args.out):
            print(path)
        return 0
    sys.stdout.write(render_csv() if args.csv else render_markdown())
    return 0


def cli_serve_sim(argv: list[str]) -> int:
    """``oreline plc serve-sim``: run a standalone simulated PLC + BW500-like belt scale (+ robot) until Ctrl-C.

    Time runs at ``--speedup`` × real time; the feed and robot follow it. Poll it
    with any Modbus client, e.g. ``mbpoll -m tcp -a 1 -0 -r 1009 -c 11 -t 4 -p PORT 127.0.0.1``.
    With ``--map`` it serves the oreline register map instead, driven by a scripted lot after lot
    (:mod:`plc.fat`), for factory acceptance tests of a PLC program.
    """
    parser = argparse.ArgumentParser(prog="oreline plc serve-sim", description=(cli_serve_sim.__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--map", action="store_true",
                        help="serve the oreline register map with a scripted lot (factory acceptance tests)")
    parser.add_argument("--port", type=int, help="TCP port (default 5021, 5020 with --map; 0 = any free port)")
    parser.add_argument("--device-id", type=int, default=1, help="Modbus unit id (default 1)")
    parser.add_argument("--word-order", choices=("msw_first", "lsw_first"), default="msw_first")
    parser.add_argument("--rate-t-h", type=float, default=4000.0, help="mean feed rate (default 4000 t/h)")
    parser.add_argument("--speed-m-s", type=float, default=4.0, help="belt speed (default 4 m/s)")
    parser.add_argument("--lot-mass-t", type=float, help="lot mass (default 60000 t; --map: 1000 t, 10 segments)")
    parser.add_argument("--speedup", type=float, default=1.0, help="simulated seconds per real second (default 1)")
    parser.add_argument("--tick-s", type=float, default=0.5, help="update period in simulated seconds (default 0.5)")
    parser.add_argument("--stop-at-s", type=float, action="append", default=[], help="schedule a 30 s belt stop")
    parser.add_argument("--duration-s", type=float, default=0.0, help="exit after this many real seconds (0 = never)")
    parser.add_argument("--no-robot", action="store_true", help="do not host the sampling robot block")
    args = parser.parse_args(argv)
    for name in ("speedup", "tick_s"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name.replace('_', '-')}: expected a value > 0, got {getattr(args, name)}")
    if args.port is not None and not 0 <= args.port <= 65535:
        parser.error(f"--port: expected 0..65535, got {args.port}")
    if not 0 <= args.device_id <= 255:
        parser.error(f"--device-id: expected 0..255, got {args.device_id}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.map:
        return _serve_map(args)
    args.port = 5021 if args.port is None else args.port
    args.lot_mass_t = args.lot_mass_t or 60000.0
    clock = SimulatedClock(speedup=args.speedup)
    feed = SimulatedFeed(
        rate_t_h=args.rate_t_h,
        speed_m_s=args.speed_m_s,
        lot_mass_t=args.lot_mass_t,
        events=[BeltEvent(t, 30.0) for t in args.stop_at_s],
    )
    robot = None
    if not args.no_robot:
        robot = create_robot("simulated", clock)
    plc = SimulatedPlc(feed, args.host, args.port, args.device_id, word_order=args.word_order, robot=robot)
    plc.start()
    print(f"simulated PLC on {args.host}:{plc.port} (unit {args.device_id}); Ctrl-C to stop", flush=True)
    t_end = time.monotonic() + args.duration_s if args.duration_s > 0 else float("inf")
    try:
        while time.monotonic() < t_end:
            plc.update(clock.now_s())
            clock.advance(args.tick_s)
    except KeyboardInterrupt:
        pass
    finally:
        plc.stop()
    return 0


def _serve_map(args: argparse.Namespace) -> int:
    """The oreline map with :class:`plc.fat.ScriptedLine` lots, ticking in real time x ``--speedup``."""
    server = OrelineModbusServer(args.host, 5020 if args.port is None else args.port, args.device_id,
                                 link_timeout_s=30.0)
    segment_mass_t = (args.lot_mass_t or 1000.0) / len(LOT_SCRIPTS[0])
    line = ScriptedLine(server, segment_mass_t=segment_mass_t, rate_t_h=args.rate_t_h, speed_m_s=args.speed_m_s)
    server.start()
    print(f"oreline register map (scripted lots) on {args.host}:{server.port} (unit {args.device_id}); Ctrl-C to stop",
          flush=True)
    t_end = time.monotonic() + args.duration_s if args.duration_s > 0 else float("inf")
    period_s = args.tick_s / args.speedup
    try:
        while time.monotonic() < t_end:
            line.step(args.tick_s)
            time.sleep(period_s)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
