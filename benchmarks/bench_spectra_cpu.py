"""Scoring throughput in process CPU time on the line default grid: ``bench_spectra``'s scoring rows alone (no
detection runs), per core so that a machine shared with other jobs does not halve them (one BLAS thread).

Run: ``.venv/bin/python -m benchmarks.bench_spectra_cpu [--quick]`` (``--quick``: 2,400 spectra, else 20,000).
Each figure is printed next to its target (≥ 20,000 spectra/s per core, issue 21).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

TARGET_SPECTRA_S = 20_000


def main(argv: list[str] | None = None) -> list[dict]:
    """Rows (name, value, unit, target, ok) per scoring path, as ``benchmarks.run_all`` collects them."""
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    from benchmarks.bench_spectra import _best_rate, _training
    from spectra.detector import DetectorConfig, DetectorModel, simulate_referenced
    from spectra.grid import DEFAULT_GRID, grid_by_name
    from spectra.library import load_library
    from spectra.scene import MixtureSimulator
    from spectra.segment import LotSegmentScorer

    model, _ = _training(True)
    grid = grid_by_name(DEFAULT_GRID)
    sim = MixtureSimulator(load_library().resample(grid, skip_uncovered=True))
    rng = np.random.default_rng(0)
    n = 2400 if quick else 20000
    x = simulate_referenced(DetectorModel(grid, DetectorConfig()), sim.render(sim.ore_blends(rng, n), rng), rng,
                            1.0, 0.1)
    per_seg = 120
    segs = x[: (n // per_seg) * per_seg].reshape(-1, per_seg, grid.n_channels).astype(np.float32)
    scorer = LotSegmentScorer(model)

    def segment_path() -> None:
        model.score(x[: segs.shape[0] * per_seg], unmix=False)
        for s in segs:
            scorer.score({"reflectance": s, "valid": np.ones(per_seg, bool)})

    cpu = time.process_time
    rows = [("scoring per spectrum (classifier, T2/Q, unmixing)", _best_rate(lambda: model.score(x), n, clock=cpu)),
            ("scoring per spectrum without unmixing", _best_rate(lambda: model.score(x, unmix=False), n, clock=cpu)),
            (f"scoring incl. lot detector ({per_seg} spectra/segment)",
             _best_rate(segment_path, segs.shape[0] * per_seg, repeats=2, clock=cpu))]
    out = [dict(name=f"spectra {name}, CPU time", value=rate, unit="spectra/s", target=f">= {TARGET_SPECTRA_S:,}",
                ok=rate >= TARGET_SPECTRA_S) for name, rate in rows]
    for r in out:
        print(f"{r['name']}: {r['value']:,.0f} spectra/s (target {r['target']}) {'OK' if r['ok'] else 'MISSED'}")
    return out


if __name__ == "__main__":
    main()
