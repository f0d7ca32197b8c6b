"""What NIR cannot separate on the grid, shown with the measured quantity, and the route around each limit.

Computed from the leave-one-sample-out rows of :mod:`spectra.identify.validation` (own physical sample left out of
the references; dark rows apart except in the dark row), so ``oreline spectra evaluate --loso --grid G`` prints
the same numbers the docs quote (docs/spectra.md, "What NIR cannot separate on 900–1700 nm, and the route around
it"). Per failure mode: the spectra concerned, how many are called their own class, the share whose nearest
reference of another line class is nearer than the nearest of their own (own sample left out), the median d² to
both, and the physical quantity that shows the limit (band-depth ratio, band depth against channel noise, the
bands that differ). The route around each limit is another signal the project has (:data:`ROUTES`); its measured
numbers are in the docs with the command that gives them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: contaminant groups that carry C–H (plastics, fabrics, wood) and show it unless water masks it
ORGANIC_GROUPS = ("polyethylene", "PET / polyester", "PVC / vinyl", "nylon", "other plastic", "wood / cellulose")

#: failure mode → the route around it (the measured numbers: docs/spectra.md, same section)
ROUTES: dict[str, str] = {
    "wet plastics and wood": "full-range instrument (the 1.73 µm C–H band is outside water's 1.45 µm band; "
                             "this row on `--grid full`)",
    "building rubble vs lateritic ore": "camera for objects ≥ 50 mm (docs/vision.md); fines: lot baseline, "
                                        "targeted increment + lab",
    "fibreglass vs feldspar / quartz": "camera for panels and batts ≥ 50 mm; targeted increment + lab",
    "road asphalt / shingle with aggregate": "full range (this row on `--grid full`); camera for black objects "
                                             "incl. rubber (docs/vision.md)",
    "bare metal / paint": "camera (metal objects); the lot detector per segment (scrap steel)",
    "gibbsite vs gypsum": "on `full` gypsum's 1.94 µm H₂O band (this row there); the site's own ore: "
                          "`oreline spectra fit-novelty`; gypsum lumps: targeted increment + lab",
    "ferroan carbonate vs Fe²⁺ slag phases": "per segment, not per spectrum: the lot detector against the lot's "
                                             "own baseline; on `full` the 2.3 µm CO₃ band",
    "dark, featureless": "camera (black objects ≥ 50 mm incl. rubber); the lot's own unknown-share baseline",
}


def _sel(rows: list[dict], cls: str, groups: tuple[str, ...], rendering: str | None = None,
         black: bool = False) -> list[dict]:
    return [r for r in rows if r["class"] == cls and r["group"] in groups and r["black"] == black
            and (rendering is None or r["rendering"] == rendering)]


def _depth(rows: list[dict], key: str) -> np.ndarray:
    return np.array([r.get("band_depth", {}).get(key, np.nan) for r in rows], float)


def _med(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def _stats(rows: list[dict]) -> dict:
    """Spectra, physical samples, called own class, share nearer another class, median d² own / other."""
    own = np.array([r["d2_own"] for r in rows], float)
    oth = np.array([r["d2_other"] for r in rows], float)
    return {"n": len(rows), "samples": len({r.get("sample", r["name"]) for r in rows}),
            "own_called": sum(r["called"] == r["class"] for r in rows),
            "nearer_other": float(np.mean(oth < own)) if rows else float("nan"),
            "d2_own": _med(own), "d2_other": _med(oth)}


def _wet(rows: list[dict]) -> tuple[list[dict], str]:
    """Wet 10 % plastics/wood against wet 10 % ore: the 1.21/1.45 µm depth ratio and its overlap."""
    cont = _sel(rows, "contaminant", ORGANIC_GROUPS, "wet 10 %")
    ore = [r for r in rows if r["class"] == "ore" and not r["black"] and r["rendering"] == "wet 10 %"]
    rc, ro = (_depth(x, "C-H 1.21") / np.maximum(_depth(x, "OH/H2O 1.45"), 1e-6) for x in (cont, ore))
    if not cont or not ore:
        return cont, "no wet renderings of both sides"
    if not np.isfinite(rc).any():
        return cont, "no 1.21 µm band on this grid"
    lo, hi = np.nanquantile(ro, [0.05, 0.95])
    text = (f"1.21/1.45 µm depth ratio, median wet plastics/wood {_med(rc):.3f} vs wet ore {_med(ro):.3f}; "
            f"{np.mean((rc >= lo) & (rc <= hi)):.0%} of the wet plastics/wood inside wet ore's 5–95 % range "
            f"({lo:.3f}–{hi:.3f})")
    d173 = _depth(cont, "C-H 1.73")
    if np.isfinite(d173).any():
        text += f"; C–H 1.73 µm > 2 % in {int(np.sum(d173 > 0.02))}/{len(cont)}"
    return cont, text


def _pair(rows: list[dict], a: tuple[str, str] | tuple[str, list[dict]], b: tuple[str, str],
          keys: tuple[str, ...]) -> str:
    """Median band depths of group ``a`` (class, group) — or (label, its rows) — against group ``b`` for the
    feature ``keys`` on the grid."""
    ra = a[1] if isinstance(a[1], list) else _sel(rows, a[0], (a[1],))
    rb = _sel(rows, b[0], (b[1],))
    label_a = a[0] if isinstance(a[1], list) else a[1]
    out = [f"{k} {_med(_depth(ra, k)):.3f} vs {_med(_depth(rb, k)):.3f}" for k in keys
           if np.isfinite(_depth(ra + rb, k)).any()]
    return f"median depth {label_a} vs {b[1]}: " + ", ".join(out) if out else ""


def _ferroan(lit: list[dict]) -> tuple[list[dict], str]:
    """Carbonate and siderite ore with an Fe²⁺ band (> 5 %) against the Fe²⁺ silicate slag phases."""
    sel = [r for r in _sel(lit, "ore", ("carbonate", "siderite ore")) if _depth([r], "Fe2+ 1.05")[0] > 0.05]
    if not np.isfinite(_depth(lit, "Fe2+ 1.05")).any():
        return sel, "the 1.0–1.1 µm Fe²⁺ band is off this grid"
    return sel, _pair(lit, ("Fe²⁺-bearing carbonate", sel), ("waste", "slag phase (Fe²⁺ silicate)"),
                      ("Fe2+ 1.05", "Mg-OH/CO3 2.32"))


def _depth_noise(sel: list[dict]) -> str:
    band = np.array([r["max_band_depth"] for r in sel], float)
    noise = np.array([max(r["noise"], 1e-6) for r in sel], float)
    alb = np.array([r["albedo"] for r in sel], float)
    return (f"deepest band {_med(band):.3f} = {_med(band / noise):.0f} × channel noise, mean R {_med(alb):.2f}"
            if sel else "")


def _modes(rows: list[dict]) -> list[tuple[str, Callable[[], tuple[list[dict], str]]]]:
    lit = [r for r in rows if not r["black"]]
    return [
        ("wet plastics and wood", lambda: _wet(lit)),
        ("building rubble vs lateritic ore", lambda: (_sel(lit, "contaminant", ("building rubble",)), _pair(
            lit, ("contaminant", "building rubble"), ("ore", "Fe-oxide ore"), ("Fe3+ 0.90", "OH/H2O 1.45")))),
        ("fibreglass vs feldspar / quartz", lambda: (_sel(lit, "contaminant", ("fibreglass",)), _pair(
            lit, ("contaminant", "fibreglass"), ("ore", "quartz / feldspar"), ("C-H 1.21", "OH/H2O 1.45")))),
        ("road asphalt / shingle with aggregate", lambda: (_sel(lit, "contaminant", ("bitumen / roofing",)), _pair(
            lit, ("contaminant", "bitumen / roofing"), ("ore", "Fe-oxide ore"), ("C-H 1.21", "C-H 1.73")))),
        ("bare metal / paint", lambda: (_sel(lit, "contaminant", ("metal / paint",)),
                                        _depth_noise(_sel(lit, "contaminant", ("metal / paint",))))),
        ("gibbsite vs gypsum", lambda: (_sel(lit, "ore", ("gibbsite",)) + _sel(lit, "contaminant", ("gypsum",)), _pair(
            lit, ("ore", "gibbsite"), ("contaminant", "gypsum"), ("OH/H2O 1.45", "H2O 1.93", "Al-OH 2.20")))),
        ("ferroan carbonate vs Fe²⁺ slag phases", lambda: _ferroan(lit)),
        ("dark, featureless", lambda: ([r for r in rows if r["black"]],
                                       _depth_noise([r for r in rows if r["black"] and r["class"] == "contaminant"])
                                       + " (black contaminants); " + _depth_noise(
                                           [r for r in rows if r["black"] and r["class"] == "ore"]) + " (dark ore)")),
    ]


def physics_limits(rows: list[dict]) -> list[dict]:
    """One dict per failure mode: ``mode``, :func:`_stats` of its spectra, ``quantity`` (text) and ``route``."""
    out = []
    for mode, fn in _modes(rows):
        sel, quantity = fn()
        out.append({"mode": mode, **_stats(sel), "quantity": quantity, "route": ROUTES[mode]})
    return out


def markdown(limits: list[dict], grid_name: str) -> list[str]:
    """The limits as a markdown table."""
    out = [f"What NIR cannot separate on `{grid_name}`, and the route around it (own sample left out; *nearer "
           "another class*: nearest reference of another line class nearer than the nearest of its own):", "",
           "| failure mode | spectra (physical samples) | called own class | nearer another class | "
           "median d² own / other | measured quantity | route around it |", "|---|---|---|---|---|---|---|"]
    for x in limits:
        near = "–" if x["nearer_other"] != x["nearer_other"] else f"{x['nearer_other']:.2f}"
        d2 = "–" if not x["n"] else f"{x['d2_own']:.1f} / {x['d2_other']:.1f}"
        out.append(f"| {x['mode']} | {x['n']} ({x['samples']}) | {x['own_called']}/{x['n']} | {near} | {d2} | "
                   f"{x['quantity'] or '–'} | {x['route']} |")
    return out
