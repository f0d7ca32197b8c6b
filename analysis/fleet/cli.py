"""``oreline fleet rescore|summary|fingerprint``: the fleet from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from conveyor.deferred import load_function
from analysis.fleet.options import SEGMENT_SCORING

__all__ = ["cli_fleet"]

#: The module and function doing the work once the options are checked (loaded then: the models, dask).
RUN = ("analysis.fleet.cli_run", "run")


def cli_fleet(argv: Sequence[str]) -> int:
    """``oreline fleet rescore --model M [--fingerprints DIR] ARCHIVES...`` / ``oreline fleet summary ARCHIVES...``
    / ``oreline fleet fingerprint --model M ARCHIVES...`` (see :mod:`analysis.fleet.fingerprints`).

    Returns 0 when every archive was analysed, 1 when some failed (they are listed in the
    tables), 2 when the run could not start.
    """
    parser = argparse.ArgumentParser(prog="oreline fleet", description="Re-analyse many lot archives with dask.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    commands: dict[str, argparse.ArgumentParser] = {}
    for name, help_ in (("rescore", "re-score stored spectra with a new NIR model"),
                        ("summary", "summary tables across lots (supplier, product, verdict, drift)"),
                        ("fingerprint", "build product fingerprints from archived genuine lots")):
        p = commands[name] = sub.add_parser(name, help=help_)
        if name in ("rescore", "fingerprint"):
            p.add_argument("--model", required=True, type=Path, help="spectra model file (.npz)")
        if name == "rescore":
            p.add_argument("--unmix", action="store_true", help="also unmix abundances (slower)")
            p.add_argument("--segment-scoring", choices=SEGMENT_SCORING, default="line",
                           help="line: the line's per-lot segment scorer (default); calibrated: static "
                                "per-segment calibration, much faster")
            p.add_argument("--fingerprints", type=Path, default=None,
                           help="folder of product fingerprints (oreline fleet fingerprint) to check lots against")
        if name == "fingerprint":
            p.add_argument("--false-alarm", type=float, default=0.05,
                           help="share of genuine lots a fingerprint may flag (leave-one-lot-out limit)")
        p.add_argument("archives", nargs="+", help="archive files or folders holding *.h5")
        p.add_argument("--scheduler", default=None,
                       help="dask.distributed scheduler address (default: local process pool)")
        p.add_argument("--workers", type=int, default=None, help="local worker processes (default: CPU count)")
        p.add_argument("--out", type=Path, default=Path("."), help="folder for the CSV and markdown tables")
    args = parser.parse_args(list(argv))
    if getattr(args, "model", None) is not None and not args.model.is_file():
        # before any archive is read or a worker started; the usage of the command typed (oreline fleet rescore)
        commands[args.cmd].error(f"--model {args.model}: no such file")
    return int(load_function(*RUN)(args))
