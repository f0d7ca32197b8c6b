"""The ``oreline`` command line.

``oreline demo`` runs a complete simulated lot; ``oreline run SITE.toml`` runs the
same runtime against configured devices; the other commands reach the lab and
engineering tools of each package (``oreline <command> --help`` for each).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence

from conveyor.deferred import load_function
from conveyor.errors import ConveyorError, MissingOptionalDependency
from conveyor.heap import keep_freed_memory
from analysis.errors import AnalysisError

log = logging.getLogger("oreline")

#: ``oreline <group> <verb>`` → (module, function taking argv, help). Imported lazily.
DELEGATED: dict[str, dict[str, tuple[str, str, str]]] = {
    "spectra": {
        "train": ("spectra.cli", "cli_train", "train the NIR models from the USGS library and simulated mixtures"),
        "evaluate": ("spectra.cli", "cli_evaluate", "validation report; or score a model on another spectra folder"),
        "fit-novelty": ("spectra.cli", "cli_fit_novelty", "refit the NIR T²/Q novelty to the site's own ore spectra"),
    },
    "vision": {
        "evaluate": ("vision.cli", "cli_evaluate", "recall/precision per kind and size on held-out belt scenes"),
        "fit": ("vision.cli", "cli_fit", "fit the normal-ore appearance model"),
    },
    "sampler": {
        "plan": ("sampler.cli", "cli_plan", "print the ISO 3082 sampling plan for a lot"),
        "lab-import": ("sampler.cli", "cli_lab_import", "validate a lab-results CSV against a lot's samples"),
        "lab-rules": ("sampler.cli", "cli_lab_rules", "the lab rule set; classify a table of published compositions"),
        "custody": ("sampler.cli", "cli_custody", "chain-of-custody rows (JSON) to CSV"),
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
    "lots": {"_": ("analysis.catalogue.cli", "cli_lots", "the lot catalogue: list, show and reindex lots")},
    "accounts": {
        "add": ("analysis.web.accounts_cli", "cli_add", "add or replace a control-room operator or viewer"),
        "hash": ("analysis.web.accounts_cli", "cli_hash", "print the argon2 hash of a password (read from stdin)"),
        "list": ("analysis.web.accounts_cli", "cli_list", "list the names and roles of an accounts file"),
    },
    "control-room": {
        "_": ("analysis.control_room_cli", "cli_controlroom", "run the simulated site lot after lot and serve its control room"),
    },
}



def _delegate(module: str, func: str, argv: Sequence[str]) -> int:
    fn: Callable[[list[str]], int] = load_function(module, func)
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
            sub.add_parser(group, help=help_, add_help=False)
            continue
        g = sub.add_parser(group, help=f"{group} tools: " + ", ".join(verbs))
        gsub = g.add_subparsers(dest="verb", metavar="VERB", required=True)
        for verb, (_m, _f, help_) in verbs.items():
            gsub.add_parser(verb, help=help_, add_help=False)
    return parser


def split_delegated(argv: Sequence[str]) -> tuple[list[str], tuple[str, str, str] | None, list[str]]:
    """Split ``argv`` into (head the main parser checks, delegate target or None, the delegate's argv untouched).

    The head is the global options, the group and (for a group of verbs) the verb; everything after it goes to
    the delegate exactly as typed, so ``--out DIR`` and ``--out=DIR`` both reach its parser intact.
    """
    argv = list(argv)
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] not in ("-h", "--help"):
        i += 1  # global options take no values (-v, -vv, --verbose)
    if i >= len(argv) or argv[i] not in DELEGATED:
        return argv, None, []
    verbs = DELEGATED[argv[i]]
    if "_" in verbs:
        return argv[: i + 1], verbs["_"], argv[i + 1:]
    if i + 1 < len(argv) and argv[i + 1] in verbs:
        return argv[: i + 2], verbs[argv[i + 1]], argv[i + 2:]
    return argv, None, []  # no or unknown verb: the main parser prints the group's help or error


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oreline`` console script."""
    parser = build_parser()
    # Delegated commands own their options (``oreline report --help`` is the report's help): the main parser
    # sees only the global options, the group and the verb; the rest goes to the delegate untouched.
    head, target, rest = split_delegated(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(head)
    _configure_logging(args.verbose)
    keep_freed_memory()  # numpy's arrays reused from the heap, not paged in anew (conveyor/heap.py): every command
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command in ("demo", "run"):
            demo = args.command == "demo"  # the site checked before the line's modules load: bad input fails fast
            site = load_function("analysis.run_site", "checked_site")(args, demo=demo)
            return int(load_function("analysis.run", "run_line")(args, site, demo=demo))
        if args.command == "config":  # `config default` needs no schema: the lightest module prints the file
            module, func = (("analysis.site_default", "print_default_site") if args.config_command == "default"
                            else ("analysis.config_cli", "check_config"))
            return int(load_function(module, func)(args))
        if target is None:  # parse_args ends a delegated group without its verb; this cannot happen
            parser.error(f"{args.command}: expected a verb")
        module, func, _ = target
        return _delegate(module, func, rest)
    except MissingOptionalDependency as exc:  # a ConveyorError: before the general case
        print(f"oreline: this command is not available in this build ({exc})", file=sys.stderr)
        return 2
    except (ConveyorError, AnalysisError) as exc:
        print(f"oreline: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("oreline: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
