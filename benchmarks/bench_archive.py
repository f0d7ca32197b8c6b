"""Archive benchmarks: writing a lot through LotArchive, reading its spectra back.

Run: ``.venv/bin/python -m benchmarks.bench_archive [--mass-t 50000]``.

:func:`write_synthetic_lot` is shared with the report and fleet benchmarks: it
feeds the records a line at ``rate_t_h`` with a spectrometer at ``spectra_per_s``
and a camera would emit (real USGS ore/waste spectra mixed by a waste
admixture, detections with thumbnails) through the real :class:`LotMonitor`,
:class:`AlarmBook` and :class:`LotArchive` — without the line's tick loop, so a
200,000 t lot is written in well under a minute.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from benchmarks.common import row
from conveyor.records import Coverage, LotEnd, LotIdentity, LotStart, Measurement, StreamDescription
from analysis.decide.alarms import AlarmBook
from analysis.archive import LotArchive, open_archive
from analysis.decide.monitor import LotMonitor
from spectra.segment import NirSegmentScore
from analysis.decide.verdict import VERDICT_FIELDS

ENDMEMBERS = ("hematite", "goethite", "quartz")


def _library() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from spectra.grid import ingaas256
    from spectra.library import load_library

    grid = ingaas256()
    lib = load_library().resample(grid, skip_uncovered=True)
    return (grid.wavelength_nm, np.nanmean(lib.reflectance[lib.indices(classes=["ore"])], 0),
            np.nanmean(lib.reflectance[lib.indices(classes=["waste"])], 0))


class _Scorer:
    """Mean p_waste of a segment's valid spectra against 0.3 (the monitor builds one per lot)."""

    def __init__(self, _metadata: Any) -> None:
        pass

    def score(self, arrays: Any) -> NirSegmentScore:
        valid = arrays["valid"].astype(bool)
        score = float(np.mean(arrays["p_waste"][valid])) if valid.any() else math.nan
        return NirSegmentScore(score, 0.0, 0.0, int(valid.sum()), score > 0.3, False, 0.3, 1.0)


def write_synthetic_lot(path: Path, mass_t: float, *, lot_id: str = "BENCH", supplier: str = "Bench Mining",
                        rate_t_h: float = 6000.0, spectra_per_s: float = 2.0, waste_t: tuple[float, float] | None = None,
                        objects_per_1000_t: float = 0.5, nir_offline_t: tuple[float, float] | None = None,
                        seed: int = 0, flush_interval_s: float = 5.0) -> dict[str, float]:
    """Write one lot archive; returns timing figures (seconds in the archive, records, wall seconds)."""
    rng = np.random.default_rng(seed)
    wl, ore, waste = _library()
    tick_s = 1.0
    t_per_tick = rate_t_h / 3600.0 * tick_s
    n_ticks = int(math.ceil(mass_t / t_per_tick))
    per_tick = max(1, int(round(spectra_per_s * tick_s)))
    clock_now = [0.0]
    alarms = AlarmBook(lambda: clock_now[0])
    monitor = LotMonitor(alarms, {k: f.default for k, f in VERDICT_FIELDS.items()}, nir_scorer_factory=_Scorer)
    archive = LotArchive(path, flush_interval_s=flush_interval_s, clock=lambda: clock_now[0], overwrite=True)
    monitor.segment_listeners.append(archive.add_segment)
    monitor.verdict_listeners.append(archive.add_verdict)
    alarms.listeners.append(archive.alarm_changed)
    in_archive = 0.0
    n_records = 0

    def emit(rec: Any) -> None:
        nonlocal in_archive, n_records
        monitor.handle(rec)
        t0 = time.perf_counter()
        archive.handle(rec)
        in_archive += time.perf_counter() - t0
        n_records += 1

    nir_fields: dict[str, tuple[tuple[int, ...], str]] = {"reflectance": ((wl.size,), "float32"), "abundances": ((3,), "float32")}
    nir_fields.update({k: ((), "float32") for k in ("p_ore", "p_waste", "p_contaminant", "t2", "q", "unmix_residual")})
    nir_fields.update(novel=((), "bool"), valid=((), "bool"))
    cam_fields = {"kind": ((), "str"), "probability": ((), "float32"), "length_mm": ((), "float32"),
                  "width_mm": ((), "float32"), "area_mm2": ((), "float32"), "lateral_m": ((), "float32"),
                  "anomaly_score": ((), "float32"), "thumbnail": ((64, 64, 3), "uint8")}
    wall0 = time.perf_counter()
    emit(LotStart(LotIdentity(lot_id, "MV Bench", "H1", "fines", mass_t, supplier=supplier), 1.7e9, 0.0, 100.0))
    emit(StreamDescription("nir", "nir", "nir", nir_fields, {"reflectance": "1"},
                           {"wavelength_nm": wl.tolist(), "fwhm_nm": [10.0] * wl.size, "grid": "ingaas256",
                            "minerals": list(ENDMEMBERS), "model_version": "bench-1", "spectra_per_s": spectra_per_s}))
    emit(StreamDescription("cam", "cam", "vision", cam_fields, {"length_mm": "mm"}, {"model_version": "bench-v1"}))
    noise = rng.normal(0, 0.004, (4096, wl.size)).astype(np.float32)
    kinds = ("wood", "plastic", "rubber", "metal", "lump")
    for k in range(n_ticks):
        clock_now[0] = (k + 1) * tick_s
        m0, m1 = k * t_per_tick, min(mass_t, (k + 1) * t_per_tick)
        frac = 0.08 if waste_t and waste_t[0] <= m0 < waste_t[1] else 0.0
        offline = bool(nir_offline_t and nir_offline_t[0] <= m0 < nir_offline_t[1])
        if offline:
            emit(Coverage(lot_id, "nir", m0, m1, False, "NIR offline", clock_now[0]))
        else:
            base = ((1 - frac) * ore + frac * waste).astype(np.float32)
            for j in range(per_tick):
                pw = np.float32(min(1.0, 10 * frac + abs(rng.normal(0, 0.02))))
                data = {"reflectance": base + noise[(k * per_tick + j) % 4096],
                        "abundances": np.array([0.6, 0.3, 0.1 + frac], np.float32), "p_ore": np.float32(1 - pw),
                        "p_waste": pw, "p_contaminant": np.float32(0), "t2": np.float32(1.0), "q": np.float32(0.01),
                        "unmix_residual": np.float32(0.004), "novel": False, "valid": True}
                emit(Measurement(lot_id, "nir", clock_now[0], m0 + (j + 0.5) / per_tick * (m1 - m0), data))
            emit(Coverage(lot_id, "nir", m0, m1, True, "", clock_now[0]))
        if rng.random() < objects_per_1000_t * (m1 - m0) / 1000.0:
            kind = kinds[int(rng.integers(len(kinds)))]
            length = float(rng.uniform(40, 600))
            img = rng.integers(60, 110, (64, 64, 3), dtype=np.uint8)
            img[20:44, 12:52] = (150, 100, 40)
            emit(Measurement(lot_id, "cam", clock_now[0], 0.5 * (m0 + m1), {
                "kind": kind, "probability": np.float32(0.9), "length_mm": np.float32(length),
                "width_mm": np.float32(length / 3), "area_mm2": np.float32(length * length / 3),
                "lateral_m": np.float32(0.1), "anomaly_score": np.float32(3.0), "thumbnail": img}))
        emit(Coverage(lot_id, "cam", m0, m1, True, "", clock_now[0]))
    emit(LotEnd(lot_id, 1.7e9 + clock_now[0], mass_t, "complete"))
    t0 = time.perf_counter()
    archive.close()
    in_archive += time.perf_counter() - t0
    return {"archive_s": in_archive, "records": n_records, "wall_s": time.perf_counter() - wall0,
            "bytes": path.stat().st_size, "spectra": n_ticks * per_tick}


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="bench_archive")
    parser.add_argument("--mass-t", type=float, default=50_000.0, help="lot size (default 50,000 t)")
    parser.add_argument("--quick", action="store_true", help="a 2,000 t lot (checks the benchmark runs)")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.quick:
        args.mass_t = min(args.mass_t, 2_000.0)
    tmp = Path(tempfile.mkdtemp(prefix="oreline-bench-archive-"))
    try:
        path = tmp / "lot.h5"
        fig = write_synthetic_lot(path, args.mass_t, waste_t=(1000.0, 2000.0), nir_offline_t=(3000.0, 3200.0))
        rows = [row(f"archive write ({args.mass_t:,.0f} t lot, {fig['records']:,} records)",
                    fig["records"] / fig["archive_s"], "records/s", 5_000.0)]
        lot_h = args.mass_t / 6000.0
        rows.append(row("archive CPU share of one core at the line's real rate (6,000 t/h)",
                        100.0 * fig["archive_s"] / (lot_h * 3600.0), "%", 1.0, higher_is_better=False))
        rows.append(row("archive size per 1,000 t (2 spectra/s, 256 ch)", fig["bytes"] / 1e6 / (args.mass_t / 1000),
                        "MB", 10.0, higher_is_better=False))
        t0 = time.perf_counter()
        with open_archive(path) as a:
            n = 0
            for batch in a.iter_stream("nir", ["reflectance", "tonnage_mark_t"]):
                n += batch["reflectance"].nbytes + batch["tonnage_mark_t"].nbytes
        rows.append(row("archive read of NIR reflectance", n / 1e6 / (time.perf_counter() - t0), "MB/s", 200.0))
        t0 = time.perf_counter()
        with open_archive(path) as a:
            a.verify()
        rows.append(row("archive full verify (every dataset, checksums)", fig["bytes"] / 1e6 / (time.perf_counter() - t0),
                        "MB/s", 100.0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
