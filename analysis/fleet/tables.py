"""Fleet rows as tables: one CSV row per archive and a markdown report grouped by supplier, product, verdict."""

from __future__ import annotations

import csv
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from analysis.fleet.rescore import COLUMNS

__all__ = ["write_tables", "group_table"]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.4g}"
    return "" if v is None else str(v).replace("|", "/").replace("\n", " ")


def _md_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def group_table(rows: Sequence[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    """Lots grouped by ``key`` (supplier, product, verdict, new_verdict): counts, tonnes, waste share, drift."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("status") == "ok":
            groups[str(r.get(key, "") or "(none)")].append(r)
    out = []
    for name in sorted(groups):
        g = groups[name]
        segs = sum(int(r.get("segments") or 0) for r in g)
        entry: dict[str, Any] = {
            key: name, "lots": len(g), "tonnes": float(np.nansum([r.get("weighed_t", math.nan) for r in g])),
            "waste_segment_share": sum(int(r.get("waste_segments") or 0) for r in g) / segs if segs else math.nan,
            "mean_drift_vs_fleet_deg": float(np.nanmean([r.get("drift_vs_fleet_deg", math.nan) for r in g]))
            if any(math.isfinite(r.get("drift_vs_fleet_deg", math.nan)) for r in g) else math.nan,
        }
        if any("new_waste_segments" in r for r in g):
            entry["new_waste_segment_share"] = (sum(int(r.get("new_waste_segments") or 0) for r in g) / segs
                                                if segs else math.nan)
            entry["verdicts_changed"] = sum(1 for r in g if r.get("new_verdict") not in (None, r.get("verdict")))
        out.append(entry)
    return out


def write_tables(rows: Sequence[Mapping[str, Any]], out_dir: str | os.PathLike[str], name: str = "fleet") -> dict[str, Path]:
    """Write ``<name>.csv`` (one row per archive) and ``<name>.md`` (per-lot and grouped tables)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / f"{name}.csv", out / f"{name}.md"
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: _fmt(r.get(c)) for c in COLUMNS})
    rescored = any("new_verdict" in r for r in rows)
    lot_cols = ["file", "lot_id", "supplier", "product", "weighed_t", "verdict", "waste_segments"]
    lot_cols += ["new_verdict", "new_waste_segments", "changed_segments"] if rescored else []
    lot_cols += ["drift_within_deg", "drift_vs_fleet_deg"]
    lot_cols += ["fingerprint_check"] if any("fingerprint_check" in r for r in rows) else []
    ok = [r for r in rows if r.get("status") == "ok"]
    bad = [r for r in rows if r.get("status") != "ok"]
    total_mb = sum(int(r.get("bytes") or 0) for r in rows) / 1e6
    parts = [f"# Fleet {'re-scoring' if rescored else 'summary'}", "",
             f"{len(rows)} archive(s), {total_mb:,.1f} MB: {len(ok)} analysed, {len(bad)} failed."
             + (f" Model: {ok[0].get('model_version', '')}." if rescored and ok else ""), "",
             "## Lots", "", _md_table(ok, lot_cols), ""]
    for key, title in (("supplier", "By supplier"), ("product", "By product"), ("verdict", "By archived verdict")):
        g = group_table(rows, key)
        parts += [f"## {title}", "", _md_table(g, list(g[0]) if g else [key, "lots"]), ""]
    if rescored:
        g = group_table(rows, "new_verdict")
        parts += ["## By verdict with the new model", "", _md_table(g, list(g[0]) if g else ["new_verdict"]), ""]
    parts += ["## Archives that could not be analysed", "",
              _md_table(bad, ["file", "error"]) if bad else "none", ""]
    md_path.write_text("\n".join(parts), encoding="utf-8")
    return {"csv": csv_path, "md": md_path}
