"""Spectra benchmarks: preprocessing + scoring throughput, simulator throughput, default-model training time.

Run: ``.venv/bin/python -m benchmarks.bench_spectra``. Each figure is printed next to its target; ``main()``
returns the rows (name, value, unit, target, ok). Single-threaded BLAS is requested so figures are per core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402


def _best_rate(fn, n: int, repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> list[dict]:
    from spectra.detector import DetectorConfig, DetectorModel, simulate_referenced
    from spectra.grid import ingaas256
    from spectra.library import load_library
    from spectra.models.training import TrainConfig, train_model
    from spectra.scene import MixtureSimulator

    rows = []
    t0 = time.perf_counter()
    model = train_model(TrainConfig(), progress=None)
    train_s = time.perf_counter() - t0
    rows.append(dict(name="spectra default-model training", value=train_s, unit="s", target="<= 30", ok=train_s <= 30))

    grid = ingaas256()
    rlib = load_library().resample(grid, skip_uncovered=True)
    sim = MixtureSimulator(rlib)
    det = DetectorModel(grid, DetectorConfig())
    rng = np.random.default_rng(0)
    n = 20000

    def simulate():
        comps = sim.ore_blends(rng, n)
        scene = sim.render(comps, rng)
        return simulate_referenced(det, scene, rng, 1.0, 0.1)

    sim_rate = _best_rate(simulate, n)
    rows.append(dict(name="spectra simulator (blend+Hapke+detector+referencing)", value=sim_rate, unit="spectra/s",
                     target=">= 5,000", ok=sim_rate >= 5000))
    X = simulate()
    full = _best_rate(lambda: model.score(X), n)
    rows.append(dict(name="spectra preprocessing+scoring (classifier, T2/Q, unmixing; 256 ch)", value=full,
                     unit="spectra/s", target=">= 20,000", ok=full >= 20000))
    fast = _best_rate(lambda: model.score(X, unmix=False), n)
    rows.append(dict(name="spectra preprocessing+scoring without unmixing", value=fast, unit="spectra/s",
                     target=">= 20,000", ok=fast >= 20000))
    for r in rows:
        fmt = f"{r['value']:,.1f}" if r["unit"] == "s" else f"{r['value']:,.0f}"
        print(f"{r['name']}: {fmt} {r['unit']} (target {r['target']}) {'OK' if r['ok'] else 'MISSED'}")
    return rows


if __name__ == "__main__":
    main()
