"""The work of the ``oreline spectra`` commands, their options already checked by :mod:`spectra.cli`, which loads
this module (the models, scikit-learn) only then: ``--help`` and a bad option answer at once."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from conveyor.files import staged_folder
from spectra.cache import default_model, default_model_path
from spectra.errors import SpectraError
from spectra.grid import resolve_grid
from spectra.identify.blind import identify_folder, markdown as blind_markdown
from spectra.identify.identifier import Identifier, IdentifierParams
from spectra.identify.site_novelty import fit_site_novelty
from spectra.identify.validation import leave_one_sample_out, markdown as loso_markdown
from spectra.library import load_library
from spectra.mixcheck import physics_report
from spectra.models.bundle import SpectraModel
from spectra.models.evaluation import (evaluate_folder, evaluate_heldout, evaluate_lots, markdown, read_labelled_folder,
                                       write_report)
from spectra.models.family_eval import evaluate_families, family_markdown
from spectra.models.fingerprint_eval import evaluate_fingerprints
from spectra.models.groupcheck import leave_group_out, markdown as group_markdown
from spectra.models.training import TrainConfig, train_model

__all__ = ["evaluate_model", "fit_novelty", "identify", "loso", "train"]


def _say(msg: str) -> None:
    print(f"[spectra] {msg}", file=sys.stderr, flush=True)


def _train_config(args: argparse.Namespace) -> TrainConfig:
    """The training settings of ``spectra train``'s arguments (``--quick``: :meth:`TrainConfig.small`)."""
    base = TrainConfig.small(args.grid) if args.quick else TrainConfig(grid=args.grid)
    return replace(base, seed=args.seed, test_fraction=args.test_fraction,
                   n_train_per_class=base.n_train_per_class if args.n_per_class is None else args.n_per_class)


def train(args: argparse.Namespace) -> int:
    """``spectra train``: train the NIR models and save them; 0, or 2 on a data error."""
    try:
        config = _train_config(args)
        field = read_labelled_folder(args.field_spectra, args.field_labels, args.grid) if args.field_spectra else None
        model = train_model(config, args.library, field=field, progress=_say)
        out = Path(args.out) if args.out else default_model_path(config, Path(args.library) if args.library else None)
        model.save(out)
    except (SpectraError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"model {model.model_version} ({model.training_hash}) on grid {model.grid.name} saved to {out}")
    return 0


def fit_novelty(args: argparse.Namespace) -> int:
    """``spectra fit-novelty``: refit the model's T²/Q novelty to the site's ore spectra and save it; 0, or 2."""
    try:
        model = SpectraModel.load(args.model) if args.model else default_model(args.grid, progress=_say)
        field = read_labelled_folder(args.site_spectra, args.labels, model.grid)
        ore = np.array([k in ("ore", "gangue") for k in field.labels])
        site = fit_site_novelty(model, field.reflectance[ore], alpha=args.alpha)
        before = float(np.mean(model.score(field.reflectance[ore], unmix=False).novel))
        after = float(np.mean(site.score(field.reflectance[ore], unmix=False).novel))
        site.save(args.out)
    except (SpectraError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"site novelty on {int(ore.sum())} ore spectra: novel {before:.1%} before, {after:.1%} after "
          f"(limit alpha {args.alpha}); model {site.training_hash} saved to {args.out}")
    return 0


def loso(grid_name: str, out: str, seed: int, ore_needs_evidence: bool = True) -> int:
    """``evaluate --loso``: :func:`spectra.identify.validation.leave_one_sample_out`, report.md + loso.json."""
    try:
        grid = resolve_grid(grid_name)
        idf = Identifier.from_library(grid, params=IdentifierParams(ore_needs_evidence=ore_needs_evidence),
                                      learned=False)
        report = leave_one_sample_out(grid, idf, seed=seed)
        return _write_report(out, loso_markdown(report), {"loso.json": report})
    except (SpectraError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _write_report(out: str, text: str, documents: dict[str, dict]) -> int:
    """Write report.md and each JSON document into ``out`` (staged: all or nothing), print the report and the
    paths written; 0."""
    with staged_folder(out) as stage:
        (stage.dir / "report.md").write_text(text)
        for name, doc in documents.items():
            (stage.dir / name).write_text(json.dumps(doc, indent=1))
        paths = [stage.final(stage.dir / n) for n in ["report.md", *documents]]
    print(text)
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


def identify(folder: str, labels: str, grid_name: str | None, out: str, ore_needs_evidence: bool) -> int:
    """``evaluate --test-library`` without ``--model``: :func:`spectra.identify.blind.identify_folder`,
    report.md + identification.json."""
    try:
        grid = resolve_grid(grid_name) if grid_name else None
        report = identify_folder(folder, labels, grid, ore_needs_evidence=ore_needs_evidence, progress=_say)
        return _write_report(out, blind_markdown(report), {"identification.json": report})
    except (SpectraError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def evaluate_model(args: argparse.Namespace) -> int:
    """``evaluate`` of a model (``--model`` or the default one), its options checked: report.md and the JSON."""
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
            if args.group_check > 0:
                saved: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                         for k, v in model.info.get("config", {}).items()
                                         if k in TrainConfig.__dataclass_fields__}
                config = TrainConfig(**saved)
                logo = leave_group_out(model.grid, config, n_per_class=args.group_check, progress=_say)
                report["leave_group_out"] = logo
                report.setdefault("sections_md", []).append(group_markdown(logo))
            if args.family_lots > 0:
                report["families"] = evaluate_families(model, n_lots=args.family_lots,
                                                       spectra_per_segment=args.spectra_per_segment,
                                                       seed=args.seed + 32, progress=_say)
        with staged_folder(args.out) as stage:  # a failure leaves no half-written report in --out
            if not args.test_library:
                report["physics"] = physics_report(load_library(), model.grid, stage.dir)
                report["physics"]["plot"] = str(stage.final(report["physics"]["plot"]))
            extra = report["physics"].pop("_markdown") if "physics" in report else []
            if report.get("families"):
                extra += family_markdown(report["families"])
            text = markdown(report) + "\n".join(extra) + "\n"
            paths = [stage.final(p) for p in write_report(report, stage.dir)]
            (stage.dir / "report.md").write_text(text)
            if "physics" in report:
                paths.append(Path(report["physics"]["plot"]))
    except (SpectraError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(text)
    print("written: " + ", ".join(str(p) for p in paths))
    return 0
