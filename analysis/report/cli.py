"""``oreline report LOT.h5 [--out DIR] [--pdf/--no-pdf]``: regenerate the batch report from an archive."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis.errors import ArchiveError, ReportError
from analysis.report.write import write_report


def cli_report(argv: Sequence[str]) -> int:
    """Write the report; 0, or 2 with the error on stderr (unreadable archive, unwritable output)."""
    parser = argparse.ArgumentParser(prog="oreline report", description="Write the batch report (HTML + PDF) of a "
                                                                        "lot archive.")
    parser.add_argument("archive", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: beside the archive)")
    parser.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=True,
                        help="also print the PDF (WeasyPrint)")
    args = parser.parse_args(list(argv))
    try:
        paths = write_report(args.archive, args.out, pdf=args.pdf, progress=True)
    except (ArchiveError, ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for kind, p in paths.items():
        print(f"{kind}: {p}")
    return 0
