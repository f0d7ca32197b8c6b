"""The lab closes the loop (issue 15): simulated assays of a lot's samples decide with the line.

Runs the real composed line (simulated NIR on the USGS library, sampler with the simulated robot, monitor,
sequential verdict, archive; camera off) and then, for every sample the line took, simulates its assay from
the material its increments really cut (sampler/labsim.py: ore and waste compositions of
tests/resources/published_compositions.csv at the cut's true waste fraction from the cargo truth), imports
the results into the closed archive through ``oreline archive import-lab`` and reads the lab verdict.

Cases (targets of issue 15):

- 5 % slag from ``--waste-start-t`` (after the NIR warm-up): ends ``waste``;
- 5 % slag from the first tonne (the lot-adaptive NIR baseline learns it): ends ``waste`` through the gross
  sample's assay;
- a genuine lot: ends ``ore``;
- import of results for a 40-sample lot and regenerating its report: < 5 s.

Run: ``python -m benchmarks.bench_lab [--lot-mass-t 4000] [--material slag] [--quick]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.common import row

if TYPE_CHECKING:
    from analysis.site import Plant

TABLE = Path(__file__).resolve().parents[1] / "tests" / "resources" / "published_compositions.csv"


def run_lot(run_dir: Path, lot_mass_t: float, waste_fraction: float, seed: int, waste_start_t: float = 0.0,
            material: str = "slag", sublots: int = 1) -> tuple[Path, Plant]:
    """Run one simulated lot with archive; return (archive path, plant)."""
    from analysis import integration
    from analysis.site import compose, load_site, validate

    site = load_site()
    site["lot"]["declared_product"] = f"iron ore fines, product {seed}"
    site["simulation"].update(lot_mass_t=lot_mass_t, speedup=0.0, seed=seed, waste_fraction=waste_fraction,
                              waste_material=material, waste_start_t=waste_start_t, waste_extent_t=0.0,
                              objects_per_1000_t=0.0, events=[])
    site["scale"]["backend"] = "direct"
    site["stations"]["camera"]["enabled"] = False
    site["stations"]["sampler"]["sublots"] = sublots
    site["plc"]["enabled"] = False
    site["control_room"]["enabled"] = False
    site = validate(site)
    plant = compose(site, run_dir)
    lot = plant.new_lot()
    integration.attach(plant, serve=False)
    end = plant.run_lot(lot)
    integration.finish(plant, end, report=False)
    plant.close()
    if plant.archive is None:
        raise RuntimeError("the simulated lot wrote no archive")
    return plant.archive.path, plant


def simulate_lab_csv(archive: Path, plant: Plant, out_csv: Path, seed: int) -> dict[str, float]:
    """Write the simulated lab CSV of every sample of the lot; return the true waste fraction per sample."""
    from analysis.archive import open_archive
    from analysis.archive.lab import lot_increments, lot_samples
    from sampler.lab import write_lab_csv
    from sampler.labsim import sample_truth, simulate_assays
    from sampler.labtable import load_composition_table

    with open_archive(archive) as reader:
        samples, increments = lot_samples(reader), lot_increments(reader)
        start = reader.lot_start_mark_t
    if plant.cargo is None:
        raise RuntimeError("the lot was not simulated: no cargo truth to assay")
    truth = sample_truth(samples, increments, plant.cargo, start)
    results = simulate_assays(truth, load_composition_table(TABLE), np.random.default_rng(seed))
    write_lab_csv(out_csv, results)
    return {sid: t.waste_fraction for sid, t in truth.items()}


def oreline(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("oreline")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


def lab_case(name: str, lot_mass_t: float, fraction: float, seed: int, start_t: float, material: str,
             tmp: Path) -> dict:
    from analysis.archive import lab_verdicts, open_archive

    run_dir = tmp / name
    run_dir.mkdir()
    t0 = time.perf_counter()
    archive, plant = run_lot(run_dir, lot_mass_t, fraction, seed, start_t, material)
    line_s = time.perf_counter() - t0
    truth = simulate_lab_csv(archive, plant, run_dir / "lab.csv", seed)
    proc = oreline("archive", "import-lab", str(archive), str(run_dir / "lab.csv"))
    if proc.returncode != 0:
        raise RuntimeError(f"import-lab failed: {proc.stderr}")
    with open_archive(archive) as reader:
        line = reader.final_verdict()
        stored = lab_verdicts(reader)[-1]
    n_t = sum(1 for s in stored["samples"] if s["role"] == "targeted")
    n_tw = sum(1 for s in stored["samples"] if s["role"] == "targeted" and s["outcome"] in ("by-product", "contaminated"))
    print(f"  {name}: line {line.verdict if line else 'none'} ({dict(line.segments_by_class) if line else ''}), "
          f"lab {stored['verdict']} ({stored['basis']}); {len(truth)} samples ({n_t} targeted, {n_tw} of them with "
          f"by-product material), true waste "
          + ", ".join(f"{k.rsplit('-', 1)[-1]} {100 * v:.1f} %" for k, v in truth.items()) + f"; line {line_s:.1f} s")
    for r in stored["reasons"][:3]:
        print(f"      {r[:150]}")
    return {"line": line.verdict if line else "none", "lab": stored["verdict"], "basis": stored["basis"],
            "archive": archive, "targeted": n_t}


def timing_case(tmp: Path, lot_mass_t: float, seed: int, repeats: int = 3, samples: int = 40) -> tuple[float, float]:
    """Seconds (best wall, its CPU) to import a 40-sample lot's results and regenerate its report (HTML + PDF)."""
    import os
    import shutil

    from analysis.archive import import_lab_file
    from analysis.report import write_report

    run_dir = tmp / "forty"
    run_dir.mkdir()
    archive, plant = run_lot(run_dir, lot_mass_t, 0.05, seed, 300.0, "slag", sublots=samples)
    truth = simulate_lab_csv(archive, plant, run_dir / "lab.csv", seed)
    pristine = run_dir / "pristine.h5"
    shutil.copy(archive, pristine)
    best = (float("inf"), float("nan"))
    for _ in range(repeats):
        shutil.copy(pristine, archive)
        c0, t0 = time.process_time(), time.perf_counter()
        import_lab_file(archive, run_dir / "lab.csv")
        write_report(archive, run_dir / "report")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        best = min(best, (wall, cpu))
    print(f"  {len(truth)} samples: import + report best of {repeats}: {best[0]:.2f} s wall, {best[1]:.2f} s CPU "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return best


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lot-mass-t", type=float, default=4000.0)
    parser.add_argument("--waste-start-t", type=float, default=300.0)
    parser.add_argument("--late-lot-mass-t", type=float, default=2000.0,
                        help="mass of the late-admixture lots (at 4,000 t the sampler skips most targeted cuts: "
                             "their marks fall on routine increments, routine first)")
    parser.add_argument("--material", default="slag", help="waste material of the simulated line (spectra)")
    parser.add_argument("--late-seeds", type=int, nargs="+", default=[5, 1],
                        help="seeds of the late-admixture lots (5: the NIR flags the slag, targeted samples are "
                             "taken; 1: the NIR misses it, the gross sample finds it)")
    parser.add_argument("--quick", action="store_true", help="800 t lots, one late seed, one timing run "
                                                                 "of 10 samples (checks the benchmark runs)")
    args = parser.parse_args(argv)
    repeats = 3
    if args.quick:
        args.lot_mass_t, args.late_lot_mass_t, args.late_seeds, repeats = 800.0, 800.0, args.late_seeds[:1], 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for seed in args.late_seeds:
            late = lab_case(f"5pct-late-{seed}", args.late_lot_mass_t, 0.05, seed, args.waste_start_t, args.material,
                            tmp)
            rows.append(row(f"5 % {args.material} from {args.waste_start_t:g} t (seed {seed}) ends waste",
                            int(late["lab"] == "waste"), f"of 1 ({late['basis']}; line: {late['line']}, "
                            f"{late['targeted']} targeted samples)", 1, higher_is_better=True))
        first = lab_case("5pct-first", args.lot_mass_t, 0.05, 2, 0.0, args.material, tmp)
        rows.append(row(f"5 % {args.material} from the first tonne ends waste", int(first["lab"] == "waste"),
                        f"of 1 ({first['basis']}; line: {first['line']})", 1, higher_is_better=True))
        genuine = lab_case("genuine", args.lot_mass_t, 0.0, 3, 0.0, args.material, tmp)
        rows.append(row("genuine lot ends ore", int(genuine["lab"] == "ore"), f"of 1 ({genuine['basis']})", 1,
                        higher_is_better=True))
        n = 10 if args.quick else 40
        wall, cpu = timing_case(tmp, args.lot_mass_t, 4, repeats, n)
        rows.append(row(f"import {n}-sample results + regenerate report (wall)", wall, "s", 5.0, higher_is_better=False))
        rows.append(row(f"import {n}-sample results + regenerate report (CPU)", cpu, "s", 5.0, higher_is_better=False))
    return rows


if __name__ == "__main__":
    main()
