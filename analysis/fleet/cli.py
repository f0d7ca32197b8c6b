"""``oreline fleet rescore|summary|fingerprint``: the fleet from the command line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from analysis.errors import FleetError
from analysis.fleet import fingerprints
from analysis.fleet.rescore import SEGMENT_SCORING, load_model
from analysis.fleet.runner import find_archives, run_fleet
from analysis.fleet.tables import write_tables

__all__ = ["cli_fleet"]


def cli_fleet(argv: Sequence[str]) -> int:
    """``oreline fleet rescore --model M [--fingerprints DIR] ARCHIVES...`` / ``oreline fleet summary ARCHIVES...``
    / ``oreline fleet fingerprint --model M ARCHIVES...`` (see :mod:`analysis.fleet.fingerprints`).

    Returns 0 when every archive was analysed, 1 when some failed (they are listed in the
    tables), 2 when the run could not start.
    """
    parser = argparse.ArgumentParser(prog="oreline fleet", description="Re-analyse many lot archives with dask.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name, help_ in (("rescore", "re-score stored spectra with a new NIR model"),
                        ("summary", "summary tables across lots (supplier, product, verdict, drift)"),
                        ("fingerprint", "build product fingerprints from archived genuine lots")):
        p = sub.add_parser(name, help=help_)
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
        parser.error(f"--model {args.model}: no such file")  # before any archive is read or a worker started
    paths = find_archives(args.archives)
    t0 = time.perf_counter()
    files: dict[str, Path] = {}
    try:
        rows = run_fleet(paths, getattr(args, "model", None), scheduler=args.scheduler, workers=args.workers,
                         unmix=getattr(args, "unmix", False),
                         segment_scoring=getattr(args, "segment_scoring", "line"), progress=True)
        if getattr(args, "fingerprints", None) is not None or args.cmd == "fingerprint":
            model = load_model(args.model)
            if args.cmd == "fingerprint":
                summary = fingerprints.build_from_rows(rows, model, args.out / "fingerprints",
                                                       false_alarm=args.false_alarm)
                files["fingerprints"] = args.out / "fingerprints" / "fingerprints.md"
                files["fingerprints"].write_text(fingerprints.summary_markdown(summary), encoding="utf-8")
            else:
                fingerprints.check_rows(rows, model, args.fingerprints)
    except FleetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files.update(write_tables(rows, args.out, name=f"fleet-{args.cmd}"))
    dt = time.perf_counter() - t0
    bad = [r for r in rows if r["status"] != "ok"]
    mb = sum(int(r.get("bytes") or 0) for r in rows) / 1e6
    print(f"{len(rows)} archive(s), {mb:,.1f} MB in {dt:.1f} s; {len(bad)} failed")
    for r in bad:
        print(f"  {r['file']}: {r['error']}", file=sys.stderr)
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return 1 if bad else 0
