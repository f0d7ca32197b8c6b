"""``oreline control-room``'s options, checked before the control room's modules (the line, the web server) load:
``--help`` and a bad option answer at once; the run itself is :func:`analysis.control_room.serve_lots`."""

from __future__ import annotations

import argparse
from pathlib import Path

from conveyor.deferred import load_function

#: The module and function running the control room once the options are checked (loaded then, with importlib).
RUN = ("analysis.control_room", "serve_lots")
#: ``--help``'s description.
DESCRIPTION = "Run the shipped simulated site lot after lot behind one control room (the live page and its HTTP API)."


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="oreline control-room", description=DESCRIPTION)
    p.add_argument("--config", type=Path, help="site file (default: the shipped simulated site)")
    p.add_argument("--host", help="address to bind (default: [control_room].host, 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="TCP port (0: any free port)")
    p.add_argument("--accounts", type=Path, help="accounts file of named operators and viewers "
                                                   "(oreline accounts add; default: [control_room].accounts_file)")
    p.add_argument("--secrets-file", type=Path, help="TOML file (mode 0600) with operator_token / viewer_token for "
                                                       "machine clients; or set $ORELINE_OPERATOR_TOKEN")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate: serve HTTPS (with --tls-key)")
    p.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    p.add_argument("--operator-token", "--viewer-token", dest="argv_token", help=argparse.SUPPRESS)
    p.add_argument("--speedup", type=float, help="override [simulation].speedup (0: as fast as possible)")
    p.add_argument("--lot-mass-t", type=float, help="override [simulation].lot_mass_t")
    p.add_argument("--lots", type=int, default=0, help="lots to run (0: until Ctrl-C)")
    p.add_argument("--run-dir", type=Path, help="where each lot's folder goes (default: runs/control-room-<time>)")
    p.add_argument("--no-report", action="store_true", help="skip each lot's batch report")
    p.add_argument("--exit-after-lots", action="store_true",
                   help="exit when --lots lots ran (default: the control room stays up until Ctrl-C or SIGTERM)")
    p.add_argument("--catalogue", metavar="URL", help="catalogue URL (default: the site's [catalogue] url, else "
                   "$ORELINE_CATALOGUE_URL, else the SQLite file in the data folder)")
    p.add_argument("--no-catalogue", action="store_true", help="write no catalogue")
    return p


def cli_controlroom(argv: list[str]) -> int:
    """``oreline control-room`` (:data:`DESCRIPTION`): check the options (port, lot count, no tokens on the command line),
    then run :data:`RUN`, loaded only now; its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port: expected 0..65535, got {args.port}")
    if args.lots < 0:
        parser.error(f"--lots: expected >= 0, got {args.lots}")
    if args.argv_token is not None:
        parser.error("--operator-token/--viewer-token: tokens on the command line are readable by every local user "
                     "(ps, /proc/PID/cmdline) and are no longer taken; set $ORELINE_OPERATOR_TOKEN / "
                     "$ORELINE_VIEWER_TOKEN or give --secrets-file FILE (TOML, mode 0600)")
    return int(load_function(*RUN)(args))
