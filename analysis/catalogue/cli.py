"""``oreline lots list|show|reindex``: the lot catalogue from the command line, from any folder.

``list`` filters by date, vessel, verdict and lab status and prints a table (``--json``: JSON); ``show LOT``
prints one lot with its alarms, events and commands; ``reindex DIR...`` rebuilds the catalogue from lot
archives (idempotent). ``--catalogue URL`` (default ``$ORELINE_CATALOGUE_URL``, else the data folder's SQLite
file) picks the database; a bad URL or an unreachable database is exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import analysis.catalogue as catalogue_room
from analysis.catalogue import store
from analysis.catalogue.db import open_catalogue
from analysis.catalogue.errors import ArchiveUnavailable, CatalogueError
from analysis.catalogue.store import LAB_STATUSES, LotFilter

VERDICTS = ("pending", "ore", "waste", "contaminated", "inconclusive")
TABLE_COLUMNS = (("started", 16), ("lot_id", 44), ("vessel", 18), ("hold", 4), ("tonnage_t", 9),
                 ("line_verdict", 12), ("lab_verdict", 12), ("lab_status", 8), ("status", 8))


def _date(text: str) -> float:
    """YYYY-MM-DD or an ISO date-time (UTC unless it says otherwise) → epoch s."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD or YYYY-MM-DDTHH:MM, got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _stamp(epoch_s: float | None) -> str:
    if epoch_s is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%Y-%m-%d %H:%M")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="oreline lots", description="The lot catalogue: list, show and reindex lots.")
    p.add_argument("--catalogue", metavar="URL", help="database URL (default $ORELINE_CATALOGUE_URL, else the "
                   "SQLite file in the data folder: $ORELINE_DATA, $XDG_DATA_HOME/oreline or ~/.local/share/oreline)")
    sub = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = sub.add_parser("list", prog="oreline lots list", help="lots, newest first, with filters")
    ls.add_argument("--since", type=_date, help="lots started on or after this date (UTC)")
    ls.add_argument("--until", type=_date, help="lots started before this date (UTC)")
    ls.add_argument("--vessel", default="", help="vessel name contains this (case-insensitive)")
    ls.add_argument("--verdict", default="", choices=VERDICTS, help="line or lab verdict")
    ls.add_argument("--lab-status", default="", choices=LAB_STATUSES, help="lab status")
    ls.add_argument("--search", default="", help="lot id, vessel or product contains this")
    ls.add_argument("--limit", type=int, default=200, help="at most this many lots (default 200)")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show = sub.add_parser("show", prog="oreline lots show", help="one lot with its alarms, events and commands, "
                          "and its segments and increments from its archive")
    show.add_argument("lot_id")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--no-archive", action="store_true", help="the catalogue row only (do not open the archive)")
    rx = sub.add_parser("reindex", prog="oreline lots reindex", help="rebuild the catalogue from lot archives")
    rx.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="folders (searched recursively) or archives")
    rx.add_argument("--json", action="store_true", help="print JSON")
    return p


def _table(rows: Sequence[dict[str, Any]]) -> str:
    head = "  ".join(name.ljust(width) for name, width in TABLE_COLUMNS)
    lines = [head, "-" * len(head)]
    for r in rows:
        values = {**r, "started": _stamp(r.get("started_epoch_s")),
                  "tonnage_t": f"{r.get('tonnage_t') or 0:,.0f}".rjust(9)}
        lines.append("  ".join(str(values.get(name) or "-")[:width].ljust(width) for name, width in TABLE_COLUMNS))
    lines.append(f"{len(rows)} lot(s)")
    return "\n".join(lines)


def _show(lot: dict[str, Any], alarms: list, events: list, commands: list) -> str:
    out = [f"{k:22} {v}" for k, v in lot.items()]
    out.append(f"\nalarms ({len(alarms)}):")
    out += [f"  #{a['alarm_id']:<5} {_stamp(a['raised_epoch_s'])}  {a['severity']:8} {a['state']:12} {a['message']}"
            for a in alarms]
    out.append(f"\nevents ({len(events)}):")
    out += [f"  {_stamp(e['epoch_s'])}  {e['kind']:20} {e['source']:12} {e['message']}" for e in events]
    out.append(f"\ncommands ({len(commands)}):")
    out += [f"  {_stamp(c['epoch_s'])}  {c['operator']:16} {c['command']:14} {c['result']}" for c in commands]
    return "\n".join(out)


def _archive_text(past: dict[str, Any]) -> str:
    """A past lot's segments and increments, read from its archive, for people."""
    out = [f"\nfrom the archive {past['archive']} ({past['state']}):",
           f"segments ({len(past['segments'])}):"]
    out += [f"  #{s['index']:<3} {s['start_t']:8.1f}-{s['end_t']:8.1f} t  {s['segment_class']:14} "
            f"NIR {'-' if s['nir_waste_score'] is None else format(s['nir_waste_score'], '.3f')} "
            f"({s['nir_spectra']} spectra)  {s['detections']} detections"
            + (f"  {'; '.join(s['reasons'])}" if s.get("reasons") else "") for s in past["segments"]]
    out.append(f"detections: {past['detections']}")
    counts = ", ".join(f"{k} {v}" for k, v in sorted(past["increments_by_status"].items())) or "none"
    out.append(f"increments ({len(past['increments'])}: {counts}):")
    out += [f"  {i.get('number', ''):>4} {str(i.get('role', '')):9} {i['mark_t']:8.1f} t  {str(i.get('status', '')):8} "
            f"{i.get('reason') or ''}" for i in past["increments"]]
    return "\n".join(out)


def _show_archive(lot: dict[str, Any], as_json: bool) -> tuple[dict[str, Any], str, int]:
    """(JSON part, text, exit status) of the lot's archive: 1 with the reason when it is missing or unreadable."""
    try:
        # the archive code (h5py, the NIR identification) loads only here, not for ``lots list``
        with catalogue_room.lot_archive(lot["lot_id"], lot.get("archive_path") or "") as reader:
            past = catalogue_room.lot_summary(reader)
    except ArchiveUnavailable as exc:
        return {"error": str(exc)}, "", 1
    return past, ("" if as_json else _archive_text(past)), 0


def _run(args: argparse.Namespace) -> int:
    with open_catalogue(args.catalogue) as catalogue:
        if args.verb == "reindex":
            missing = [str(f) for f in args.folders if not f.exists()]
            if missing:
                print(f"oreline lots reindex: error: no such folder or archive: {', '.join(missing)}", file=sys.stderr)
                return 2
            result = catalogue_room.reindex(catalogue, args.folders)  # loads the archive code only here
            print(json.dumps({"lots": result.lots, "failed": result.failed}, indent=1) if args.json else
                  f"indexed {len(result.lots)} lot(s) into {catalogue.url}"
                  + "".join(f"\n  not indexed: {p}: {why}" for p, why in result.failed.items()))
            return 1 if result.failed and not result.lots else 0
        with catalogue.session() as session:
            if args.verb == "list":
                f = LotFilter(args.since, args.until, args.vessel, args.verdict, args.lab_status, args.search,
                              limit=args.limit)
                rows = store.list_lots(session, f)
                print(json.dumps(rows, indent=1) if args.json else _table(rows))
                return 0
            lot = store.get_lot(session, args.lot_id)
            if lot is None:
                print(f"oreline lots show: error: no lot {args.lot_id!r} in {catalogue.url}", file=sys.stderr)
                return 2
            parts = (lot, store.lot_alarms(session, args.lot_id), store.lot_events(session, args.lot_id),
                     store.lot_commands(session, args.lot_id))
        doc: dict[str, Any] = dict(zip(("lot", "alarms", "events", "commands"), parts))
        status, text = 0, ""
        if not args.no_archive:
            doc["archive"], text, status = _show_archive(lot, args.json)
        print(json.dumps(doc, indent=1) if args.json else _show(*parts) + text)
        if status:
            print(f"oreline lots show: error: {doc['archive']['error']}", file=sys.stderr)
        return status


def cli_lots(argv: list[str]) -> int:
    """``oreline lots``: exit 0, 2 for usage errors and a catalogue that cannot be opened."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "limit", 1) < 1:
        parser.error(f"--limit: expected >= 1, got {args.limit}")
    try:
        return _run(args)
    except CatalogueError as exc:
        print(f"oreline lots: error: {exc}", file=sys.stderr)
        return 2
