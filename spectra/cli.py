"""Command-line entry points, wired by the lead as ``oreline spectra train`` and ``oreline spectra evaluate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from spectra.errors import SpectraError

from spectra.cache import default_model, default_model_path
from spectra.formats import read_spectra
from spectra.grid import grid_by_name
from spectra.library import load_library
from spectra.mixcheck import physics_report
from spectra.models.bundle import SpectraModel
from spectra.models.evaluation import evaluate_folder, evaluate_heldout, evaluate_lots, markdown, read_labels, write_report
from spectra.models.family_eval import evaluate_families, family_markdown
from spectra.models.fingerprint_eval import evaluate_fingerprints
from spectra.models.training import LabelledSpectra, TrainConfig, train_model
from spectra.resample import resample, to_grid
from spectra.station import DEFAULT_GRID  # noqa: E402  (the line's default grid, docs/spectra.md)


def _say(msg: str) -> None:
    print(f"[spectra] {msg}", file=sys.stderr, flush=True)


def _field_spectra(folder: str, labels: str, grid_name: str = "full"):
    import hashlib

    # the training grid: archived field spectra are on it already (kept as they are); others are convolved
    grid = grid_by_name(grid_name)
    rows, labs, h = [], [], hashlib.sha256()
    for name, klass in read_labels(labels):
        p = Path(folder) / name
        h.update(p.read_bytes())
        for s in read_spectra(p):
            rows.append(to_grid(s.wavelength_nm, s.reflectance, grid, what=str(p)))
            labs.append(klass)
    return LabelledSpectra(np.vstack(rows), labs, grid.wavelength_nm, h.hexdigest())


def cli_train(argv: list[str]) -> int:
    """``oreline spectra train``: train the NIR models and save them (default: the cache of the default model)."""
    ap = argparse.ArgumentParser(prog="oreline spectra train", description=cli_train.__doc__)
    ap.add_argument("--grid", default=DEFAULT_GRID, choices=["ingaas256", "full"])
    ap.add_argument("--out", help="model file (.npz); default: the default-model cache")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-fraction", type=float, default=0.3, help="share of sample groups held out")
    ap.add_argument("--n-per-class", type=int, default=4000, help="simulated training spectra per class")
    ap.add_argument("--library", help="library folder (default: shared data spectra/)")
    ap.add_argument("--field-spectra", help="folder of labelled field spectra to add to training")
    ap.add_argument("--field-labels", help="CSV file,class for --field-spectra")
    args = ap.parse_args(argv)
    if bool(args.field_spectra) != bool(args.field_labels):
        ap.error("--field-spectra and --field-labels go together")
    if not 0.0 <= args.test_fraction < 1.0:
        ap.error(f"--test-fraction must be in [0, 1), got {args.test_fraction}")
    try:
        config = TrainConfig(grid=args.grid, seed=args.seed, test_fraction=args.test_fraction,
                             n_train_per_class=args.n_per_class)
        field = _field_spectra(args.field_spectra, args.field_labels, args.grid) if args.field_spectra else None
        model = train_model(config, args.library, field=field, progress=_say)
        out = Path(args.out) if args.out else default_model_path(config, Path(args.library) if args.library else None)
        model.save(out)
    except (SpectraError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"model {model.model_version} ({model.training_hash}) on grid {model.grid.name} saved to {out}")
    return 0


def cli_evaluate(argv: list[str]) -> int:
    """``oreline spectra evaluate``: validation report of a model on held-out samples or a labelled folder."""
    ap = argparse.ArgumentParser(prog="oreline spectra evaluate", description=cli_evaluate.__doc__)
    ap.add_argument("--model", help="model file (.npz); default: the built-in default model")
    ap.add_argument("--grid", default=DEFAULT_GRID, choices=["ingaas256", "full"], help="grid of the default model")
    ap.add_argument("--out", default="runs/spectra-evaluate", help="report folder")
    ap.add_argument("--test-library", help="folder of spectra to score instead of held-out library samples")
    ap.add_argument("--labels", help="CSV with columns file,class for --test-library")
    ap.add_argument("--segments", type=int, default=200, help="simulated segments per admixture level")
    ap.add_argument("--spectra-per-segment", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--lots", type=int, default=40, help="held-out lots per admixture level (lot detector)")
    ap.add_argument("--lot-segments", type=int, default=14, help="segments per held-out lot")
    ap.add_argument("--fingerprint-products", type=int, default=12,
                    help="simulated products for the product-fingerprint check (0: skip)")
    ap.add_argument("--family-lots", type=int, default=10,
                    help="held-out lots per waste family and admixture level (0: skip the per-family check)")
    args = ap.parse_args(argv)
    if bool(args.test_library) != bool(args.labels):
        ap.error("--test-library and --labels go together")
    try:
        if args.model:
            model = SpectraModel.load(args.model)
        else:
            model = default_model(args.grid, progress=_say)
        if args.test_library:
            report = evaluate_folder(model, args.test_library, args.labels, progress=_say)
        else:
            report = evaluate_heldout(model, n_segments=args.segments, spectra_per_segment=args.spectra_per_segment,
                                      seed=args.seed, progress=_say)
            report["lots"] = evaluate_lots(model, n_lots=args.lots, n_segments=args.lot_segments,
                                           start_segment=min(6, args.lot_segments - 1),
                                           spectra_per_segment=args.spectra_per_segment, seed=args.seed + 4,
                                           progress=_say)
            report["target_5pct_waste"] = report["lots"]["target_5pct_waste"]
            if args.fingerprint_products > 0:
                report["fingerprints"] = evaluate_fingerprints(model, n_products=args.fingerprint_products,
                                                               spectra_per_segment=args.spectra_per_segment,
                                                               seed=args.seed + 16, progress=_say)
            if args.family_lots > 0:
                report["families"] = evaluate_families(model, n_lots=args.family_lots,
                                                       spectra_per_segment=args.spectra_per_segment,
                                                       seed=args.seed + 32, progress=_say)
            Path(args.out).mkdir(parents=True, exist_ok=True)
            report["physics"] = physics_report(load_library(), model.grid, args.out)
        extra = report["physics"].pop("_markdown") if "physics" in report else []
        if report.get("families"):
            extra += family_markdown(report["families"])
        paths = write_report(report, args.out)
        text = markdown(report) + "\n".join(extra) + "\n"
        (Path(args.out) / "report.md").write_text(text)
        if "physics" in report:
            paths.append(Path(report["physics"]["plot"]))
    except (SpectraError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(text)
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli_evaluate(sys.argv[1:]))
