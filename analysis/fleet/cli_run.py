"""The work of ``oreline fleet``, its options checked by :func:`analysis.fleet.cli.cli_fleet` (which loads this module
only then)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analysis.errors import FleetError
from analysis.fleet import fingerprints
from analysis.fleet.rescore import load_model
from analysis.fleet.runner import find_archives, run_fleet
from analysis.fleet.tables import write_tables

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``oreline fleet`` on the parsed ``args``: 0 when every archive was analysed, 1 when some failed, 2 when the
    run could not start."""
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
