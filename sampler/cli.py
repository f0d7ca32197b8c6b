"""Command-line functions the ``oreline`` CLI wires in: ``cli_plan``, ``cli_custody``, ``cli_lab_import``,
``cli_lab_rules``.

Each takes ``argv`` (without the program/verb) and returns an exit code: 0 ok, 2 a refused input (every problem on
stderr, nothing imported) or a usage error (argparse); ``lab-rules`` 1 when a row is misclassified.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from sampler.custody import CUSTODY_COLUMNS, write_custody_csv
from sampler.errors import SamplerError
from sampler.iso3082 import QUALITY_VARIATIONS
from sampler.lab import load_lab_file
from sampler.labrules import FAMILIES, OVERLAPS, SOURCES, classify, rules_table
from sampler.labtable import chemistry_only, load_composition_table, score_rows
from sampler.plan import BASES, METHODS, make_plan


def cli_plan(argv: list[str]) -> int:
    """Print the ISO 3082 plan for a lot (text, or JSON with ``--json``)."""
    p = argparse.ArgumentParser(prog="oreline sampler plan", description="ISO 3082 sampling plan for a lot")
    p.add_argument("lot_mass_t", type=float, help="lot mass in tonnes")
    p.add_argument("--basis", choices=BASES, default="mass")
    p.add_argument("--method", choices=METHODS, default="systematic")
    p.add_argument("--quality-variation", choices=QUALITY_VARIATIONS, default="medium")
    p.add_argument("--top-size-mm", type=float, default=31.5, help="nominal top size in mm")
    p.add_argument("--sublots", type=int, default=1)
    p.add_argument("--cutter-aperture-mm", type=float)
    p.add_argument("--cutter-speed-m-s", type=float)
    p.add_argument("--max-flow-t-h", type=float, help="highest flow in t/h (required for --basis time)")
    p.add_argument("--nominal-flow-t-h", type=float, help="flow for the expected increment mass")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    args = p.parse_args(argv)
    try:
        plan = make_plan(
            args.lot_mass_t, basis=args.basis, method=args.method, quality_variation=args.quality_variation,
            nominal_top_size_mm=args.top_size_mm, sublots=args.sublots, cutter_aperture_mm=args.cutter_aperture_mm,
            cutter_speed_m_s=args.cutter_speed_m_s, max_flow_t_h=args.max_flow_t_h,
            nominal_flow_t_h=args.nominal_flow_t_h, seed=args.seed,
        )
    except SamplerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    d = plan.to_dict()
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    unit = plan.interval_unit
    print(f"ISO 3082 plan: lot {plan.lot_mass_t:,.0f} t, {plan.basis} basis, {plan.method}, "
          f"quality variation {plan.quality_variation}")
    print(f"  primary increments (lot minimum): {plan.n_lot_min}")
    print(f"  sub-lots: {plan.sublots} x {plan.n_per_sublot} increments = {plan.n_total}")
    print(f"  interval: {plan.interval:,.3f} {unit}")
    print(f"  nominal top size {plan.nominal_top_size_mm:g} mm: min increment {plan.min_increment_mass_kg:g} kg, "
          f"min cutter aperture {plan.min_cutter_aperture_mm:g} mm")
    if plan.expected_increment_mass_kg is not None:
        print(f"  expected increment mass: {plan.expected_increment_mass_kg:.1f} kg")
    for w in plan.warnings:
        print(f"  WARNING: {w}")
    label = "mark_t" if plan.basis == "mass" else "time_s"
    print(f"  {'no':>4} {'sublot':>6} {label:>12}")
    for inc in plan.increments():
        print(f"  {inc.number:>4} {inc.sublot:>6} {inc.offset:>12.3f}")
    return 0


def cli_custody(argv: list[str]) -> int:
    """Write custody rows (a JSON list of row objects, e.g. ``CustodyLog.to_rows()``) as CSV."""
    p = argparse.ArgumentParser(prog="oreline sampler custody", description="chain-of-custody rows (JSON) -> CSV")
    p.add_argument("rows_json", type=Path, help="JSON file holding a list of custody rows")
    p.add_argument("-o", "--output", type=Path, required=True, help="CSV file to write")
    args = p.parse_args(argv)
    try:
        rows = json.loads(args.rows_json.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: cannot read custody rows from {args.rows_json}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        print(f"error: {args.rows_json}: expected a JSON list of objects", file=sys.stderr)
        return 1
    try:
        write_custody_csv(args.output, rows, CUSTODY_COLUMNS)
    except SamplerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(rows)} custody rows to {args.output}")
    return 0


def cli_lab_import(argv: list[str]) -> int:
    """Validate a lab-results CSV against the lot's sample ids; print a summary or every problem."""
    p = argparse.ArgumentParser(prog="oreline sampler lab-import", description="validate and import lab results (CSV)")
    p.add_argument("results_csv", type=Path)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--samples-csv", type=Path, help="samples.csv or custody.csv of the lot (column sample_id)")
    src.add_argument("--sample-ids", nargs="+", help="known sample ids")
    p.add_argument("--json", action="store_true", help="print the imported results as JSON")
    args = p.parse_args(argv)
    known = _known_ids(args)
    if known is None:
        return 2
    try:
        results, lab = load_lab_file(args.results_csv, known)
    except SamplerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([r.to_row() for r in results], indent=2, default=str))
        return 0
    print(f"imported {len(results)} lab results for {len(known)} known samples")
    print(f"  {lab.describe()}")
    for k, v in lab.metadata.items():
        print(f"  {k.replace('_', ' ')}: {v}")
    for r in results:
        d = classify(r)
        assays = ", ".join(f"{r.as_reported(k)[0]} {r.as_reported(k)[1]}"
                           + ("" if r.as_reported(k)[2] == "%" else f" {r.as_reported(k)[2]}") for k in r.reported)
        print(f"  {r.sample_id}: {assays}" + (f"; phases {', '.join(map(str, r.phases))}" if r.phases else ""))
        print(f"    lab decision: {d.outcome} ({d.reason})")
    return 0


def _known_ids(args: argparse.Namespace) -> set[str] | None:
    """The lot's sample ids from ``--samples-csv`` or ``--sample-ids``; None (message printed) when unreadable."""
    if args.sample_ids is not None:
        return set(args.sample_ids)
    try:
        with args.samples_csv.open(newline="", encoding="utf-8-sig") as fh:
            return {row["sample_id"] for row in csv.DictReader(fh)}
    except (OSError, KeyError, UnicodeDecodeError) as exc:
        print(f"error: cannot read sample ids from {args.samples_csv}: {exc} (expected a CSV with a sample_id "
              f"column)", file=sys.stderr)
        return None


def cli_lab_rules(argv: list[str]) -> int:
    """Print the lab rule set; with ``--table`` classify every published composition of a table and score it.

    Exit code 0 when every row is classified as its family, 1 otherwise; 2 for a table that cannot be read (refused
    before anything is printed).
    """
    p = argparse.ArgumentParser(prog="oreline sampler lab-rules",
                                description="the lab's rule set; its classification of published compositions")
    p.add_argument("--table", type=Path, help="composition table (e.g. tests/resources/published_compositions.csv)")
    p.add_argument("--sources", action="store_true", help="also print the full citation of every source")
    args = p.parse_args(argv)
    rows = []
    if args.table is not None:
        try:
            rows = load_composition_table(args.table)
        except SamplerError as exc:
            p.error(str(exc))
    print("Lab rule set (sampler/labrules.py):")
    for rule in rules_table():
        print(f"  {rule['rule']:<13} {rule['kind']:<9} {rule['family']:<34} {rule['indicator']}")
        print(f"  {'':<13} why: {rule['why']}  [{rule['source']}]")
    if args.sources:
        print("Sources:")
        for key, text in SOURCES.items():
            print(f"  {key}: {text}")
    if args.table is None:
        return 0
    print(f"\nPublished compositions ({args.table}):")
    print(f"  {'row':<12} {'family':<16} {'classified as':<30} {'chem only':<12} {'ok':<3} rules fired [source]")
    for r in rows:
        d, c = r.decision, chemistry_only(r)
        got = f"{d.outcome} {d.family}" + (f" {d.subtype}" if d.subtype else "")
        print(f"  {r.meta['row_id']:<12} {r.family:<16} {got:<30} {'ok' if c.correct else 'WRONG':<12} "
              f"{'ok' if r.correct else 'NO':<3} {' '.join(d.rule_ids)} [{r.meta['source']}; {r.meta['verified']}]")
    score = score_rows(rows)
    chem = score_rows([chemistry_only(r) for r in rows])
    sub_ok = sum(1 for r in rows if r.family == "steel_slag" and r.meta["subtype"][:3] == r.decision.subtype[:3])
    sub_n = sum(1 for r in rows if r.family == "steel_slag")
    print(f"\nclassified as their family: {score['correct']} of {score['total']} rows "
          f"(target: all); chemistry alone (no phases): {chem['correct']} of {chem['total']}")
    for fam, (ok, n) in score["per_family"].items():
        print(f"  {FAMILIES[fam]:<36} {ok}/{n}")
    print(f"  steel-slag sub-type (BOF/EAF) right: {sub_ok}/{sub_n} (an overlap, not a family)")
    print("Where families overlap:")
    for a, b, text in OVERLAPS:
        print(f"  {FAMILIES[a]} / {FAMILIES[b]}: {text}")
    return 0 if score["correct"] == score["total"] else 1
