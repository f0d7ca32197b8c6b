"""Report benchmarks: the certificate of a 40-sample lot (HTML + PDF, target < 5 s) and the HTML + PDF batch
report of a 200,000 t lot (target < 10 s).

Run: ``.venv/bin/python -m benchmarks.bench_report [--mass-t 200000] [--keep DIR] [--quick]``. The lots are
written first with :func:`benchmarks.bench_archive.write_synthetic_lot` (2 spectra/s at 6,000 t/h: for 200,000 t
120,000 s of line time, 240,000 spectra, a waste stretch, an NIR outage, ~100 detections); the 40-sample lot is
4,000 t with 40 sealed samples and a 20-analyte lab file imported. Wall and CPU seconds are printed (CPU is the
figure to trust on a loaded machine).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis.archive import (
    import_custody_rows,
    import_lab_file,
    open_archive,
    record_review,
)
from analysis.report import write_report
from benchmarks.bench_archive import write_synthetic_lot
from benchmarks.common import row
from sampler.custody import CustodyLog, IncrementRecord

SAMPLES = 40
HEADER = "sample_id,TFe,FeO,MFe,SiO2,Al2O3,CaO,MgO,MnO,TiO2,P,S,Zn ppm,Pb ppm,Cu,Cr2O3,Na2O,K2O,As,LOI,moisture"
ORE = "61.24,0.35,0.02,4.12,2.21,0.05,0.10,0.12,0.08,0.091,0.021,85,ND,<0.01,0.012,0.02,0.031,<0.005,5.43,8.1"
SLAG = "48.13,12.35,0.42,8.61,3.14,9.87,2.05,0.84,0.31,0.123,0.087,1250,310,0.215,0.35,0.08,0.12,0.0031,1.2,7.4"


def forty_sample_lot(folder: Path) -> Path:
    """A closed 4,000 t lot with 40 sealed samples (4 targeted), a 20-analyte lab file imported and a review."""
    path = folder / "LOT-40.h5"
    write_synthetic_lot(path, 4_000.0, lot_id="BENCH-40", waste_t=(1_000.0, 1_100.0), nir_offline_t=(2_400.0, 2_420.0))
    with open_archive(path) as a:
        start = a.lot_start_mark_t
    log = CustodyLog("BENCH-40", epoch_offset_s=1.7649e9)
    ids = [f"BENCH-40-G{k}" if k <= SAMPLES - 4 else f"BENCH-40-TS{k:03d}" for k in range(1, SAMPLES + 1)]
    for k, sid in enumerate(ids, start=1):
        role = "targeted" if "-TS" in sid else "routine"
        log.new_sample(sid, role, 1, float(k))
        log.add_increment(IncrementRecord(f"I{k}", "BENCH-40", k, role, 1, start + 95.0 * k, k, k, 0, "cut", 11.0, sid))
        log.transition(sid, "sealed", 100.0 + k, "bench operator", seal=f"S-{k:06d}")
    for kind, rows in (("sample", log.sample_rows()), ("increment", log.increment_rows()), ("custody", log.to_rows())):
        import_custody_rows(path, rows, kind=kind)
    lab = folder / "lab.csv"
    lab.write_text("Laboratory: Bench Lab\nReport No.: B-1\n" + HEADER + "\n"
                   + "".join(f"{sid},{SLAG if '-TS' in sid else ORE}\n" for sid in ids))
    import_lab_file(path, lab)
    record_review(path, "bench analyst", "waste", "slag in the targeted samples")
    return path


def timed(fn: Any) -> tuple[float, float]:
    """(wall s, CPU s of this process) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def bench_forty_samples(tmp: Path) -> list[dict[str, Any]]:
    path = forty_sample_lot(tmp)
    write_report(path, tmp / "warm")  # imports, fonts and library references loaded once, as in a running service
    wall, cpu = timed(lambda: write_report(path, tmp))
    return [row(f"certificate HTML+PDF of a {SAMPLES}-sample lot, CPU", cpu, "s", 5.0, higher_is_better=False),
            row(f"certificate HTML+PDF of a {SAMPLES}-sample lot, wall", wall, "s", 5.0, higher_is_better=False)]


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
        rows = bench_forty_samples(tmp)
        path = tmp / "LOT-200k.h5"
        print(f"writing a {args.mass_t:,.0f} t lot archive ...", flush=True)
        fig = write_synthetic_lot(path, args.mass_t, lot_id="BENCH-200K", waste_t=(0.25 * args.mass_t, 0.26 * args.mass_t),
                                  nir_offline_t=(0.6 * args.mass_t, 0.6025 * args.mass_t))
        print(f"  {fig['spectra']:,} spectra, {fig['bytes'] / 1e6:,.0f} MB in {fig['wall_s']:.0f} s", flush=True)
        t0 = time.perf_counter()
        paths = write_report(path, tmp)
        dt = time.perf_counter() - t0
        rows.append(row(f"report HTML+PDF of a {args.mass_t:,.0f} t lot ({fig['bytes'] / 1e6:,.0f} MB archive)", dt,
                        "s", 10.0, higher_is_better=False))
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
