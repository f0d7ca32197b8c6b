"""Run every benchmark module that is present and print one table of figures against targets."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    rows = []
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        print(f"== {info.name}", flush=True)
        module = importlib.import_module(f"benchmarks.{info.name}")
        try:
            rows += module.main([]) or []
        except Exception as exc:  # one broken benchmark must not hide the others
            print(f"  {info.name} failed: {type(exc).__name__}: {exc}")
    print("\nsummary")
    for r in rows:
        print(f"  {'OK  ' if r['ok'] else 'MISS'} {r['name']}: {r['value']:,.3g} {r['unit']} (target {r['target']:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
