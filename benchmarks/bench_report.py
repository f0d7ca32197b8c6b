"""Report benchmark: HTML + PDF batch report of a 200,000 t lot (target < 10 s).

Run: ``.venv/bin/python -m benchmarks.bench_report [--mass-t 200000] [--keep DIR]``. The lot is
written first with :func:`benchmarks.bench_archive.write_synthetic_lot` (2 spectra/s at 6,000 t/h:
120,000 s of line time, 240,000 spectra, a waste stretch, an NIR outage, ~100 detections).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from benchmarks.bench_archive import write_synthetic_lot
from benchmarks.common import row
from analysis.report import write_report


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="bench_report")
    parser.add_argument("--mass-t", type=float, default=200_000.0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the archive and report in this folder")
    parser.add_argument("--quick", action="store_true", help="a 2,000 t lot (checks the benchmark runs)")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.quick:
        args.mass_t = min(args.mass_t, 2_000.0)
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="oreline-bench-report-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        path = tmp / "LOT-200k.h5"
        print(f"writing a {args.mass_t:,.0f} t lot archive ...", flush=True)
        fig = write_synthetic_lot(path, args.mass_t, lot_id="BENCH-200K", waste_t=(0.25 * args.mass_t, 0.26 * args.mass_t),
                                  nir_offline_t=(0.6 * args.mass_t, 0.6025 * args.mass_t))
        print(f"  {fig['spectra']:,} spectra, {fig['bytes'] / 1e6:,.0f} MB in {fig['wall_s']:.0f} s", flush=True)
        t0 = time.perf_counter()
        paths = write_report(path, tmp)
        dt = time.perf_counter() - t0
        rows = [row(f"report HTML+PDF of a {args.mass_t:,.0f} t lot ({fig['bytes'] / 1e6:,.0f} MB archive)", dt, "s",
                    10.0, higher_is_better=False)]
        t0 = time.perf_counter()
        write_report(path, tmp, pdf=False)
        rows.append(row("report HTML only, same lot", time.perf_counter() - t0, "s", 10.0, higher_is_better=False))
        print(f"  html {paths['html'].stat().st_size / 1e6:.1f} MB, pdf {paths['pdf'].stat().st_size / 1e6:.1f} MB")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
