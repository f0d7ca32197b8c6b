"""Run every benchmark and print one table of figures against targets.

``python -m benchmarks.run_all`` runs each ``benchmarks/bench_*.py`` at its full size (``make bench``);
``--quick`` runs each at a small size, to check that every benchmark still runs (``make bench-quick``,
minutes). The test suite only checks that each one starts (tests/test_benchmarks.py). Every
benchmark module has ``main(argv) -> list of rows`` (name, value, unit, target, ok). A benchmark that
crashes is listed as BROKEN and makes the exit status 1; a missed target is a figure, not a crash.
"""

from __future__ import annotations

import argparse
import importlib
import math
import pkgutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Sequence


def benchmark_names() -> list[str]:
    """The benchmark modules, in name order."""
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def format_target(target: Any) -> str:
    """A target as written: numbers with thousands separators, text (``>= 5,000``, ``reference``) as it is."""
    if isinstance(target, bool) or not isinstance(target, (int, float)):
        return str(target)
    return f"{target:,}"


def format_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    return f"{value:,.3g}"


#: The keys of a figure row (module docstring).
ROW_KEYS = frozenset({"name", "value", "unit", "target", "ok"})


def figure_rows(result: Any) -> list[dict[str, Any]]:
    """The figure rows of a benchmark's ``main`` result: a list of rows as it is, one row as a list; anything else (None, or a dict of
    results as bench_vision_seeds returns) gives no rows. ValueError when a list holds something that is not a row."""
    if isinstance(result, dict) and ROW_KEYS <= result.keys():
        return [result]
    if not isinstance(result, (list, tuple)):
        return []
    bad = [r for r in result if not (isinstance(r, dict) and ROW_KEYS <= r.keys())]
    if bad:
        raise ValueError(f"main returned {len(bad)} item(s) that are not figure rows (dicts with {sorted(ROW_KEYS)}), "
                         f"e.g. {bad[0]!r:.80}")
    return list(result)


def summary_lines(rows: Sequence[dict[str, Any]], broken: dict[str, str]) -> list[str]:
    """The summary table: one line per figure, then one per broken benchmark."""
    out = [f"  {'OK  ' if r['ok'] else 'MISS'} {r['name']}: {format_value(r['value'])} {r['unit']} "
           f"(target {format_target(r['target'])})" for r in rows]
    out += [f"  BROKEN {name}: {error}" for name, error in broken.items()]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that every benchmark runs")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    args = parser.parse_args(argv)
    names = benchmark_names()
    if args.only:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in args.only.split(",")}
        unknown = wanted - set(names)
        if unknown:
            parser.error(f"--only: unknown benchmark(s) {sorted(unknown)}; expected some of {names}")
        names = [n for n in names if n in wanted]
    rows: list[dict[str, Any]] = []
    broken: dict[str, str] = {}
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:  # one broken benchmark must not hide the others
            module = importlib.import_module(f"benchmarks.{name}")
            rows += figure_rows(module.main(["--quick"] if args.quick else []))
        except Exception as exc:
            traceback.print_exc()
            broken[name] = f"{type(exc).__name__}: {exc}"
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    print("\nsummary" + (" (--quick: small sizes, figures are not comparable with the targets)" if args.quick else ""))
    print("\n".join(summary_lines(rows, broken)))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
