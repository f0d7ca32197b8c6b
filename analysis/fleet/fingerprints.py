"""Product fingerprints from the archive: build them from earlier genuine lots, check lots against them.

``oreline fleet fingerprint --model M ARCHIVES... --out DIR`` re-scores the archives (line mode), takes each
lot's signature (its first segments' NIR features, :mod:`spectra.fingerprint`) and, per (supplier, product),
builds a fingerprint from the lots whose archived verdict is ``ore``; it writes one ``.npz`` per product and
``fingerprints.md``. ``oreline fleet rescore --fingerprints DIR`` checks every re-scored lot against the
fingerprint of its declared product: columns ``fingerprint_check`` (``consistent`` / ``NOT LIKE PRODUCT`` /
``no fingerprint`` / ``no signature``), ``fingerprint_statistic`` and ``fingerprint_threshold``. A lot that is
itself in the fingerprint's history is judged by its leave-one-out statistic, so it is not compared with
itself. A flagged lot is not a waste verdict: it is not like its product's history and must be assayed.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from spectra.errors import FingerprintError
from spectra.fingerprint import MIN_LOTS, LotSignature, build_fingerprint, fingerprint_key, load_fingerprints
from analysis.errors import FleetError


def _signature(row: Mapping[str, Any]) -> LotSignature | None:
    s = row.get("_signature")
    if not s:
        return None
    return LotSignature(np.asarray(s["features"], float), np.asarray(s["reflectance"], float),
                        int(s["segments"]), int(s["spectra"]), np.asarray(s["within"], float))


def build_from_rows(rows: Sequence[Mapping[str, Any]], model: Any, out_dir: str | Path, *,
                    false_alarm: float = 0.05) -> list[dict[str, Any]]:
    """One fingerprint per (supplier, product) from the ok rows with archived verdict ``ore`` and a signature.

    Writes ``<out_dir>/<supplier>__<product>.npz``; returns one summary dict per group (built or skipped, why).
    """
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("status") == "ok":
            groups[(str(r.get("supplier", "")), str(r.get("product", "")))].append(r)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = []
    for (supplier, product), members in sorted(groups.items()):
        signed = [(r, sig) for r in members if r.get("verdict") == "ore" and (sig := _signature(r)) is not None]
        genuine = [r for r, _ in signed]
        entry: dict[str, Any] = {"supplier": supplier, "product": product, "lots": len(members),
                                 "genuine_lots": len(genuine), "file": "", "threshold": float("nan"),
                                 "false_alarm_bound": float("nan"), "note": ""}
        if len(genuine) < MIN_LOTS:
            entry["note"] = f"not built: {len(genuine)} genuine lots with a signature, need {MIN_LOTS}"
            summary.append(entry)
            continue
        try:
            fp = build_fingerprint(model, supplier, product, [sig for _, sig in signed],
                                   lot_ids=[str(r.get("lot_id", "")) for r in genuine], false_alarm=false_alarm)
        except FingerprintError as exc:
            entry["note"] = f"not built: {exc}"
            summary.append(entry)
            continue
        path = fp.save(out_dir / f"{fingerprint_key(supplier, product)}.npz")
        entry.update(file=path.name, threshold=fp.threshold, false_alarm_bound=fp.false_alarm_bound,
                     note="built")
        summary.append(entry)
    return summary


def check_rows(rows: list[dict[str, Any]], model: Any, folder: str | Path) -> None:
    """Fill the fingerprint columns of every ok row (see module docstring). FleetError for an unreadable folder."""
    try:
        prints = load_fingerprints(folder)
    except FingerprintError as exc:
        raise FleetError(str(exc)) from exc
    for r in rows:
        if r.get("status") != "ok":
            continue
        fp = prints.get((str(r.get("supplier", "")), str(r.get("product", ""))))
        sig = _signature(r)
        if fp is None:
            r["fingerprint_check"] = "no fingerprint"
            continue
        if sig is None:
            r["fingerprint_check"] = "no signature"
            continue
        lot_id = str(r.get("lot_id", ""))
        try:
            fp.check_model(model)
            if lot_id and lot_id in fp.lot_ids:  # in the history: its leave-one-out statistic
                stat = float(fp.loo_statistics[fp.lot_ids.index(lot_id)])
            else:
                stat = fp.check(model, sig).statistic
        except FingerprintError as exc:
            r["fingerprint_check"] = f"error: {exc}"
            continue
        r.update(fingerprint_statistic=stat, fingerprint_threshold=fp.threshold,
                 fingerprint_check="NOT LIKE PRODUCT" if stat > fp.threshold else "consistent")


def summary_markdown(summary: Sequence[Mapping[str, Any]]) -> str:
    """``fingerprints.md``: one line per (supplier, product)."""
    lines = ["# Product fingerprints", "",
             "Built from archived lots with verdict `ore` (first segments' NIR signature; spectra/fingerprint.py).",
             "A flag means: not like this product's earlier genuine lots; assay the lot.", "",
             "| supplier | product | lots | genuine lots | file | limit | false-alarm bound | note |",
             "|---|---|---|---|---|---|---|---|"]
    for e in summary:
        lim = f"{e['threshold']:.3g}" if np.isfinite(e["threshold"]) else ""
        fa = f"{100 * e['false_alarm_bound']:.1f} %" if np.isfinite(e["false_alarm_bound"]) else ""
        lines.append(f"| {e['supplier']} | {e['product']} | {e['lots']} | {e['genuine_lots']} | {e['file']} | "
                     f"{lim} | {fa} | {e['note']} |")
    return "\n".join(lines) + "\n"
