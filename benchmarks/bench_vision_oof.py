"""Why out-of-fold p(none) did not reach the held-out tail (issue 27, w27j): the numbers behind docs/vision.md
"Out-of-fold tail: diagnosis".

- ``similarity``: (a) do the cross-fit's source groups leak through neighbouring frames? Per tile, the distance
  (image statistics: chromaticity, grey spread and histogram, mean grey steps at 1-8 px) to the nearest tile of
  another source group (what an out-of-fold classifier saw) against a held-out tile's to the nearest fit tile (what
  the final classifier saw), and the frame-number gap to the nearest source on the other side.
- ``tails``: the false candidates' p(none) of a saved model on object-free realistic belt, per km below 0.01 / 0.03 /
  0.1, for belt of held-out tiles split by source into parts, and for belt of each fit source group (the final
  classifier: all in fold).
- ``edges``: where the low tail lies: the share of the false candidates at p(none) <= 0.1 within EDGE_ROWS rows of a
  camera frame's edge (2,048-line frames), against the share of all false candidates.

Run: ``.venv/bin/python -m benchmarks.bench_vision_oof [--model M.npz] [--belt-m 400] [--seed 1011] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from benchmarks.common import quantiles_text
from vision.crossfit import grouped_sources, source_groups
from vision.fit import SHIPPED_DIR, VisionModel
from vision.decision_belt import FRAME_LINES
from vision.frontier import candidate_scores, every_candidate
from vision.scenes import scene_options
from vision.tiles import TileSet, load_tiles, source_of


def tile_statistics(tiles: np.ndarray) -> np.ndarray:
    """(n, 25) image statistics of (n, S, S, 3) uint8 tiles (S divisible by 8): mean chromaticity (3), grey spread,
    12-bin grey histogram, mean absolute grey step down and across at 1, 2, 4 and 8 px blocks."""
    out = []
    for t in tiles:
        x = t.astype(np.float32)
        g = x.mean(-1)
        chrom = (x / (x.sum(-1, keepdims=True) + 1.0)).mean((0, 1))
        hist = np.histogram(g, bins=12, range=(0, 255))[0] / g.size
        steps = []
        for k in (1, 2, 4, 8):
            h = g.reshape(g.shape[0] // k, k, g.shape[1] // k, k).mean((1, 3))
            steps += [np.abs(np.diff(h, axis=0)).mean(), np.abs(np.diff(h, axis=1)).mean()]
        out.append(np.concatenate([chrom, [g.std()], hist, steps]))
    return np.asarray(out)


def _frame(source: str) -> tuple[str, int]:
    m = re.match(r"(\D+)(\d+)$", source)
    return (m.group(1), int(m.group(2))) if m else (source, -1)


def frame_gap(source: str, others: set[str]) -> int:
    """Smallest frame-number gap from ``source`` (``image102``) to any of ``others`` of the same name stem."""
    stem, k = _frame(source)
    gaps = [abs(_frame(o)[1] - k) for o in others if _frame(o)[0] == stem and o != source]
    return min(gaps) if gaps else 10**6


def _q(values: np.ndarray) -> str:
    return quantiles_text(values, (0.05, 0.25, 0.5, 0.75, 0.95), fmt=".2f", legend=False)


def similarity_rows() -> list[dict]:
    """(a): nearest-neighbour distances and frame gaps, fit tile to other source groups vs held-out tile to fit."""
    fit, held = load_tiles("fit"), load_tiles("heldout")
    group_of = grouped_sources(fit)
    fs = np.array([source_of(Path(n)) for n in fit.names])
    fg = np.array([group_of[s] for s in fs])
    f, h = tile_statistics(fit.tiles), tile_statistics(held.tiles)
    mu, sd = f.mean(0), f.std(0) + 1e-9
    f, h = (f - mu) / sd, (h - mu) / sd
    d_ff = np.linalg.norm(f[:, None] - f[None], axis=-1)
    to_other = np.array([d_ff[i, fg != fg[i]].min() for i in range(len(f))])
    to_fit = np.linalg.norm(h[:, None] - f[None], axis=-1).min(1)
    fit_sources = set(fs.tolist())
    held_sources = {source_of(Path(n)) for n in held.names}
    gap_fit = [frame_gap(s, {o for o in fit_sources if group_of[o] != group_of[s]}) for s in sorted(fit_sources)]
    gap_held = [frame_gap(s, fit_sources) for s in sorted(held_sources)]
    rows = []
    for label, d, gaps in (("fit tile to nearest tile of another source group", to_other, gap_fit),
                           ("held-out tile to nearest fit tile", to_fit, gap_held)):
        one = float(np.mean(np.asarray(gaps) == 1))
        print(f"{label}: distance {_q(d)} (5 / 25 / 50 / 75 / 95 %); sources with a frame 1 apart on the other side "
              f"{100 * one:.0f} %", flush=True)
        rows.append({"name": f"median distance, {label}", "value": float(np.median(d)), "unit": "", "target": "", "ok": True})
        rows.append({"name": f"share of sources 1 frame from the other side, {label}", "value": 100 * one, "unit": "%",
                     "target": "", "ok": True})
    return rows


def tail_row(model: VisionModel, label: str, tiles: TileSet | str, belt_m: float, seed: int) -> dict:
    """Size-passing false candidates' p(none) on object-free realistic belt of ``tiles``: count per km, the lowest
    three, and per km at or below 0.01 / 0.03 / 0.1."""
    cs = candidate_scores(model, tiles, length_m=belt_m, seed=seed, objects_per_m=0.0, scene=scene_options("realistic")[0])
    p, km = np.sort(cs.false_p_none), cs.belt_m / 1000.0
    per_km = {x: float(np.sum(p <= x) / km) for x in (0.01, 0.03, 0.1)}
    low = " ".join(f"{v:.2g}" for v in p[:3])
    print(f"{label}: {p.size} false candidates in {cs.belt_m:.0f} m, lowest {low}; per km <= 0.01 {per_km[0.01]:.2f}, "
          f"<= 0.03 {per_km[0.03]:.2f}, <= 0.1 {per_km[0.1]:.2f}", flush=True)
    return {"name": f"false candidates per km with p(none) <= 0.03, {label}", "value": per_km[0.03], "unit": "per km",
            "target": "", "ok": True}


def tails_rows(model: VisionModel, belt_m: float, seed: int, parts: int = 4) -> list[dict]:
    """:func:`tail_row` for held-out belt in ``parts`` parts by source and for each fit source group's belt."""
    held = load_tiles("heldout")
    src = np.array([source_of(Path(n)) for n in held.names])
    names = sorted(set(src.tolist()))
    rows = []
    for k in range(parts):
        keep = np.isin(src, names[k::parts])
        part = TileSet(held.tiles[keep], tuple(n for n, m in zip(held.names, keep) if m), f"heldout/part{k}")
        rows.append(tail_row(model, f"held-out sources, part {k} of {parts}", part, belt_m, seed))
    for g, group in enumerate(source_groups(load_tiles("fit"))):
        rows.append(tail_row(model, f"fit source group {g} (in fold)", group, belt_m, seed))
    return rows


#: A candidate this many rows (or fewer) from a frame's edge counts as at the edge.
EDGE_ROWS = 16


def edge_row(model: VisionModel, tiles: TileSet | str, belt_m: float, seed: int, low: float = 0.1) -> dict:
    """Share of the size-passing false candidates at p(none) <= ``low`` whose centre lies within EDGE_ROWS rows of a
    FRAME_LINES-line frame's edge, against the share of all of them, on object-free realistic belt of ``tiles``."""
    found, _, _ = every_candidate(model, tiles, length_m=belt_m, seed=seed, objects_per_m=0.0, frame_lines=FRAME_LINES,
                                  scene=scene_options("realistic")[0])
    d = [x for x in found if x.length_mm >= model.params.min_length_mm]
    rows = np.array([x.belt_m * 1000.0 / model.mm_per_px for x in d]) % FRAME_LINES
    near = np.minimum(rows, FRAME_LINES - rows) <= EDGE_ROWS
    tail = np.array([x.p_none <= low for x in d], bool)
    share_low = float(near[tail].mean()) if tail.any() else float("nan")
    print(f"frame edges ({getattr(tiles, 'origin', tiles)}, {belt_m:.0f} m): {int(near[tail].sum())} of {int(tail.sum())} false "
          f"candidates at p(none) <= {low:g} within {EDGE_ROWS} rows of a frame edge; of all {len(d)}: "
          f"{100 * float(near.mean()) if d else 0:.1f} %", flush=True)
    return {"name": f"share of false candidates at p(none) <= {low:g} at a frame edge", "value": 100 * share_low, "unit": "%",
            "target": "", "ok": True}


def main(argv: list[str] | None = None) -> list[dict]:
    """``--quick``: the similarity figures and 20 m of each tail belt."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_oof", description=__doc__)
    ap.add_argument("--model", help="saved model (.npz); default the shipped 4 mm/px model")
    ap.add_argument("--belt-m", type=float, default=400.0)
    ap.add_argument("--seed", type=int, default=1011)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    belt_m = 20.0 if a.quick else a.belt_m
    path = a.model or str(next(iter(sorted(SHIPPED_DIR.glob("model-4mm-*.npz")))))
    model = VisionModel.load(Path(path))
    return similarity_rows() + tails_rows(model, belt_m, a.seed) + [edge_row(model, "heldout", 5 * belt_m, a.seed)]


if __name__ == "__main__":
    main()
