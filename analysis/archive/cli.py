"""``oreline archive info|close|resume|import-lab|review|lab-status|export-field-spectra``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sampler.errors import LabResultError
from analysis.archive.field_spectra import cli_export_field_spectra
from analysis.archive.lab import REVIEW_DECISIONS, describe_lab, import_lab, record_review
from analysis.archive.reader import ArchiveReader, open_archive
from analysis.archive.recovery import close_archive, recover_archive
from analysis.errors import ArchiveError

__all__ = ["cli_archive", "describe_archive"]


def describe_archive(reader: ArchiveReader) -> str:
    """Human-readable summary of an archive (``oreline archive info``)."""
    lines = [f"{reader.path} ({reader.size_bytes / 1e6:.1f} MB)",
             f"  lot {reader.lot_id}: {reader.lot.get('vessel', '')} hold {reader.lot.get('hold', '')}, "
             f"{reader.lot.get('declared_product', '')} {reader.lot.get('declared_mass_t', 0):,.0f} t declared",
             f"  format v{reader.format_version}, written by {reader.software}",
             f"  state: {reader.state}" + (" (file still open for writing" + (
                 ", writer gone" if reader.writer_alive() is False else "") + ")" if reader.live else "")]
    end = reader.end
    if end and end.get("reason"):
        lines.append(f"  end reason: {end['reason']}")
    for s in reader.streams.values():
        lines.append(f"  stream {s.name} ({s.kind} @ {s.station}): {s.rows:,} rows, keys {sorted(s.fields)}")
    seg = reader.segment_table()
    lines.append(f"  segments: {len(seg['index'])}, alarms: {len(reader.alarms())}, "
                 f"lab results: {len(reader.lab_results())}")
    v = reader.final_verdict()
    if v is not None:
        lines.append(f"  verdict: {v.verdict} (confidence {v.confidence:.3f}, final={v.final})")
    return "\n".join(lines)


def cli_archive(argv: Sequence[str]) -> int:
    """``oreline archive info|close|resume|import-lab|review|lab-status LOT.h5``: inspect, close a lot left open,
    prepare it for appending, import lab results, record a review. Returns 0, or 2 with the error on stderr."""
    if list(argv[:1]) == ["export-field-spectra"]:
        return cli_export_field_spectra(argv[1:])
    parser = argparse.ArgumentParser(prog="oreline archive", description="Inspect and repair lot archives.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_info = sub.add_parser("info", help="summarise an archive")
    p_info.add_argument("archive", type=Path)
    p_info.add_argument("--verify", action="store_true", help="read every dataset and check its checksums")
    p_close = sub.add_parser("close", help="mark a lot left open by a killed process as aborted")
    p_close.add_argument("archive", type=Path)
    p_close.add_argument("--reason", default="writer process died; closed by operator")
    p_close.add_argument("--keep-original", action="store_true", help="keep the unrecovered file as LOT.h5.crashed")
    p_close.add_argument("--force", action="store_true", help="close even if the writer seems to be running")
    p_lab = sub.add_parser("import-lab", help="import a lab CSV (sampler.lab format) into a closed lot; "
                                              "stores the lab verdict after the line's")
    p_lab.add_argument("archive", type=Path)
    p_lab.add_argument("csv", type=Path)
    p_lab.add_argument("--supersede", action="store_true",
                       help="replace results of samples that already have one (the earlier ones stay in the history); "
                            "needs --reason")
    p_lab.add_argument("--reason", default="", help="why earlier results are superseded (shown in the report)")
    p_review = sub.add_parser("review", help="record an analyst's review (name, decision, comment; append-only)")
    p_review.add_argument("archive", type=Path)
    p_review.add_argument("--name", required=True, help="the analyst's name")
    p_review.add_argument("--decision", required=True, choices=REVIEW_DECISIONS)
    p_review.add_argument("--comment", default="")
    sub.add_parser("export-field-spectra", add_help=False,
                   help="labelled field spectra of segments with lab-confirmed outcomes (for oreline spectra train)")
    p_status = sub.add_parser("lab-status", help="line and lab verdicts, samples awaiting assays, reviews")
    p_status.add_argument("archive", type=Path)
    p_resume = sub.add_parser("resume", help="recover a lot left open so a line can append to it")
    p_resume.add_argument("archive", type=Path)
    args = parser.parse_args(list(argv))
    try:
        if args.cmd == "info":
            with open_archive(args.archive) as reader:
                print(describe_archive(reader))
                if args.verify:
                    print(f"  verified: {reader.verify() / 1e6:,.1f} MB read, checksums good")
        elif args.cmd == "close":
            state = close_archive(args.archive, args.reason, keep_original=args.keep_original, force=args.force)
            print(f"{args.archive}: {state}")
        elif args.cmd == "import-lab":
            try:
                added, v, how = import_lab(args.archive, args.csv, supersede=args.supersede, reason=args.reason)
            except LabResultError as exc:
                raise ArchiveError(f"{args.csv}: nothing imported: {exc}") from exc
            print(f"{args.archive}: {added} lab result(s) added from {how}")
            print(f"  lab verdict: {v.verdict} ({v.basis}); line verdict: {v.line_verdict}")
            for line in [*v.reasons, *(f"missing: {m}" for m in v.missing)]:
                print(f"    {line}")
        elif args.cmd == "review":
            rv = record_review(args.archive, args.name, args.decision, args.comment)
            print(f"{args.archive}: review by {rv.reviewer}: {rv.decision} (lab verdict {rv.lab_verdict or 'none'}) "
                  f"recorded at {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(rv.epoch_s))} UTC")
        elif args.cmd == "lab-status":
            with open_archive(args.archive) as reader:
                print(f"{args.archive}: lot {reader.lot_id}")
                print("\n".join(describe_lab(reader)))
        else:
            with open_archive(args.archive) as reader:
                live, state, alive = reader.live, reader.state, reader.writer_alive()
            if state == "complete":
                raise ArchiveError(f"{args.archive}: lot is complete; nothing to resume")
            if live and alive:
                raise ArchiveError(f"{args.archive}: its writer is still running; cannot resume")
            if live:
                recover_archive(args.archive)
            print(f"{args.archive}: {state}, ready to append; the line reopens it with LotArchive.resume()")
    except ArchiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
