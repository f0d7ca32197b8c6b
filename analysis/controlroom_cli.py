"""``oreline control-room``: serve the control room of a simulated line (for trying the page and the API).

The lead wires :func:`cli_controlroom` into the ``oreline`` CLI; ``oreline demo``
uses :class:`~analysis.web.server.ControlRoomServer` directly on the composed line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from conveyor.errors import ConfigError
from analysis.web.errors import ServerStartError


def cli_controlroom(argv: list[str]) -> int:
    """Run simulated lots and serve their control room until Ctrl-C (or ``--lots`` lots ran). Returns the exit code."""
    parser = argparse.ArgumentParser(prog="oreline control-room", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (0: any free port)")
    parser.add_argument("--operator-token", default=os.environ.get("ORELINE_OPERATOR_TOKEN", ""),
                        help="operator token (default $ORELINE_OPERATOR_TOKEN; empty: commands disabled)")
    parser.add_argument("--viewer-token", default="", help="viewer token (empty: viewing open)")
    parser.add_argument("--speedup", type=float, default=10.0, help="simulated clock speed-up (default 10)")
    parser.add_argument("--lot-mass-t", type=float, default=2000.0, help="tonnes per simulated lot")
    parser.add_argument("--lots", type=int, default=0, help="lots to run (0: until Ctrl-C)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port: expected 0..65535, got {args.port}")
    if not args.speedup > 0 or not args.lot_mass_t > 0:
        parser.error("--speedup and --lot-mass-t must be > 0")

    from analysis.web.server import ControlRoomServer
    from analysis.simline import build_sim_line

    sim = build_sim_line(speedup=args.speedup, lot_mass_t=args.lot_mass_t)
    try:
        server = ControlRoomServer(sim.service, host=args.host, port=args.port,
                                   operator_token=args.operator_token or None,
                                   viewer_token=args.viewer_token or None).start()
    except (ConfigError, ServerStartError) as exc:
        print(f"oreline control-room: {exc}", file=sys.stderr)
        return 2
    print(f"control room: {server.url}  (API spec {server.url}openapi.json)", flush=True)
    sim.start(lots=args.lots or None)
    try:
        while sim.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        server.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(cli_controlroom(sys.argv[1:]))
