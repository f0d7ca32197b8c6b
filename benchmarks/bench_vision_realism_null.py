"""Can real photos pass the realism criterion against real photos? (issue 27, RULE_NULL49; a diagnostic, no check changes)

Six checks of :mod:`vision.realism` compare a statistic of a whole photo set (the CV of the photos' median grey along
the belt, saturated patches per m^2, the red and green clipping shares, the clipped red pixels' median G/R and B/R)
and take as the real spread the statistic's bootstrap standard error. A renderer with the real belt's expected value
would still differ from the finite set by that set's own sampling error. This asks the criterion of real photos: the
loaded CDM photos of every split, grouped by source, split at random into two halves of sources; each statistic is
computed on half A as the check computes its real side and compared with half B's value and half B's bootstrap spread
(as the check computes it): within if |A - B| <= spread_B. Printed per check: the share of splits within, and the
share with all six within; and the fit photos against the held-out photos on the illumination check (whose real side
is the held-out photos). The illumination check bootstraps over photos, the others over sources; the illumination
row is also printed with a bootstrap over sources (the three augmented copies of a source are not independent).

Run: ``.venv/bin/python -m benchmarks.bench_vision_realism_null --splits 200 --out FILE.json`` (``--quick``: 4 splits of
20 draws, to check that it runs).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from vision.realism import (CLIP_LEVEL, PATCH_QUANTILE, clipped_red_colour, is_loaded, photo_window, saturated_patches,
                            saturation_excess)
from vision.tiles import cdm_tile_paths, crop_tile, grey_of, read_rgb, source_of

#: The six set-statistic checks, in the order printed.
CHECKS = ("illumination CV (bootstrap over photos, as the check)", "saturated patches per m^2", "clipping: red %",
          "clipping: green %", "clipped red: median G/R", "clipped red: median B/R")
#: The illumination row again with its bootstrap over sources (not a check of vision.realism).
ILLUMINATION_BY_SOURCE = "illumination CV (bootstrap over sources)"


@dataclass(frozen=True)
class Source:
    """One CDM photo source's loaded photos: full-resolution median grey per photo, 4 mm/px windows."""

    name: str
    heldout: bool
    medians: tuple[float, ...]
    windows: tuple[np.ndarray, ...]


def load_sources() -> list[Source]:
    """The loaded CDM photos of every split, grouped by source (a photo counts where its checks count it: ore on
    more than 80 % of the cropped tile for the illumination, of the 4 mm/px window for the others)."""
    heldout = {source_of(p) for p in cdm_tile_paths("heldout")}
    grouped: dict[str, tuple[list[float], list[np.ndarray]]] = {}
    for p in cdm_tile_paths("all"):
        im = read_rgb(p)
        medians, windows = grouped.setdefault(source_of(p), ([], []))
        tile = crop_tile(im)
        if is_loaded(tile):
            medians.append(float(np.median(grey_of(tile))))
        small = photo_window(im)
        if is_loaded(small):
            windows.append(small)
    return [Source(n, n in heldout, tuple(m), tuple(w)) for n, (m, w) in sorted(grouped.items()) if m or w]


def _cv(medians: np.ndarray) -> float:
    return float(medians.std() / medians.mean()) if len(medians) > 1 else float("nan")


@dataclass(frozen=True)
class SourceStats:
    """Per-source sums the six statistics are pooled from (cheap to resample)."""

    medians: list[np.ndarray]
    patches: np.ndarray  # (n, 2): patches, ore m^2
    clip: np.ndarray  # (n, 2): summed red, green clipped share over the source's windows
    n_windows: np.ndarray
    hot: list[np.ndarray]  # clipped red pixels (k, 3) per source


def source_stats(sources: Sequence[Source], patch_threshold: float) -> SourceStats:
    """The per-source pieces of every statistic."""
    patches, clip, hot = [], [], []
    for s in sources:
        counts = [saturated_patches(*saturation_excess(w), patch_threshold) for w in s.windows]
        patches.append(np.sum(counts, axis=0) if counts else np.zeros(2))
        shares = [(w >= CLIP_LEVEL).reshape(-1, 3).mean(axis=0)[:2] for w in s.windows]
        clip.append(np.sum(shares, axis=0) if shares else np.zeros(2))
        px = [w.reshape(-1, 3) for w in s.windows]
        hot.append(np.concatenate([p[p[:, 0] >= CLIP_LEVEL] for p in px]) if px else np.zeros((0, 3), np.uint8))
    return SourceStats([np.array(s.medians) for s in sources], np.array(patches, float), np.array(clip, float),
                       np.array([len(s.windows) for s in sources], float), hot)


def statistics(st: SourceStats, idx: np.ndarray) -> np.ndarray:
    """The six statistics (:data:`CHECKS`) of the sources ``idx`` (with repeats, for the bootstrap)."""
    pa = st.patches[idx].sum(axis=0)
    nw = st.n_windows[idx].sum()
    clip = 100.0 * st.clip[idx].sum(axis=0) / nw if nw else np.full(2, np.nan)
    hot = [st.hot[i] for i in idx if len(st.hot[i])]
    colour = clipped_red_colour([h.reshape(-1, 1, 3) for h in hot]) if hot else np.full(2, np.nan)
    return np.array([_cv(np.concatenate([st.medians[i] for i in idx])), pa[0] / pa[1] if pa[1] else np.nan,
                     clip[0], clip[1], colour[0], colour[1]])


def _photo_bootstrap_cv(medians: np.ndarray, draws: int, rng: np.random.Generator) -> float:
    """The illumination check's spread: bootstrap over photos."""
    return float(np.std([_cv(medians[rng.integers(0, len(medians), len(medians))]) for _ in range(draws)]))


def spreads(st: SourceStats, idx: np.ndarray, draws: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """(the six spreads as the checks compute them, the illumination CV's spread over sources) of sources ``idx``."""
    boot = np.array([statistics(st, idx[rng.integers(0, len(idx), len(idx))]) for _ in range(draws)])
    out = np.nanstd(boot, axis=0)
    by_source = float(out[0])
    out[0] = _photo_bootstrap_cv(np.concatenate([st.medians[i] for i in idx]), draws, rng)
    return out, by_source


def split_halves(st: SourceStats, n_splits: int, draws: int, seed: int,
                 progress: Callable[[int], None] = lambda k: None) -> dict[str, np.ndarray]:
    """Per split: A's and B's statistics, B's spreads, and within flags (splits x checks)."""
    rng = np.random.default_rng(seed)
    n = len(st.medians)
    a_all, b_all, s_all, by_src = [], [], [], []
    for k in range(n_splits):
        perm = rng.permutation(n)
        a, b = perm[: n // 2], perm[n // 2:]
        spread_b, src_b = spreads(st, b, draws, rng)
        a_all.append(statistics(st, a))
        b_all.append(statistics(st, b))
        s_all.append(spread_b)
        by_src.append(src_b)
        progress(k + 1)
    a_arr, b_arr, s_arr = np.array(a_all), np.array(b_all), np.array(s_all)
    return {"a": a_arr, "b": b_arr, "spread_b": s_arr, "illumination_spread_by_source": np.array(by_src),
            "within": np.abs(a_arr - b_arr) <= s_arr}


def fit_against_heldout(sources: Sequence[Source], draws: int, seed: int) -> dict[str, float]:
    """The illumination statistic of the fit photos against the check's real side (the held-out photos)."""
    rng = np.random.default_rng(seed)
    held = np.concatenate([np.array(s.medians) for s in sources if s.heldout and s.medians])
    fit = np.concatenate([np.array(s.medians) for s in sources if not s.heldout and s.medians])
    spread = _photo_bootstrap_cv(held, draws, rng)
    return {"fit_cv": _cv(fit), "heldout_cv": _cv(held), "heldout_spread": spread,
            "within": bool(abs(_cv(fit) - _cv(held)) <= spread), "fit_photos": len(fit), "heldout_photos": len(held)}


def report(res: dict[str, np.ndarray], fit_held: dict[str, float]) -> list[str]:
    """The printed table."""
    lines = [f"{'check':<56} {'within (share of splits)':>24} {'median |A-B| / spread_B':>24}"]
    with np.errstate(divide="ignore", invalid="ignore"):  # a spread of 0 (a median on one grey level): ratio inf
        ratio = np.abs(res["a"] - res["b"]) / res["spread_b"]
    for k, name in enumerate(CHECKS):
        lines.append(f"{name:<56} {res['within'][:, k].mean():>24.3f} {np.nanmedian(ratio[:, k]):>24.2f}")
    by_src = np.abs(res["a"][:, 0] - res["b"][:, 0]) <= res["illumination_spread_by_source"]
    src_ratio = np.abs(res["a"][:, 0] - res["b"][:, 0]) / res["illumination_spread_by_source"]
    lines.append(f"{ILLUMINATION_BY_SOURCE:<56} {by_src.mean():>24.3f} {np.nanmedian(src_ratio):>24.2f}")
    lines.append(f"{'all six within together':<56} {res['within'].all(axis=1).mean():>24.3f}")
    lines.append(f"illumination, fit photos ({fit_held['fit_photos']}) against the held-out photos "
                 f"({fit_held['heldout_photos']}, the check's real side): {fit_held['fit_cv']:.4f} vs "
                 f"{fit_held['heldout_cv']:.4f} +- {fit_held['heldout_spread']:.4f} "
                 f"{'within' if fit_held['within'] else 'OUTSIDE'}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_vision_realism_null", description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=200, help="random half-splits of the sources (default 200)")
    ap.add_argument("--draws", type=int, default=200, help="bootstrap draws per spread (default 200, as the checks)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="write the figures as JSON")
    ap.add_argument("--quick", action="store_true", help="4 splits of 20 draws: check that it runs")
    args = ap.parse_args(argv)
    if args.quick:
        args.splits, args.draws = 4, 20
    if args.splits < 1 or args.draws < 2:
        ap.error(f"expected --splits >= 1 and --draws >= 2, got {args.splits}, {args.draws}")
    t0 = time.perf_counter()
    sources = load_sources()
    windows = [w for s in sources for w in s.windows]
    maps = [saturation_excess(w) for w in windows]
    threshold = float(np.quantile(np.concatenate([e[o] for e, o in maps]), PATCH_QUANTILE))
    st = source_stats(sources, threshold)
    print(f"{len(sources)} sources, {sum(len(s.medians) for s in sources)} loaded photos (illumination), "
          f"{len(windows)} loaded windows; all photos: {np.round(statistics(st, np.arange(len(sources))), 4).tolist()}",
          flush=True)
    step = max(1, args.splits // 10)
    res = split_halves(st, args.splits, args.draws, args.seed,
                       lambda k: print(f"  split {k}/{args.splits}", flush=True) if k % step == 0 else None)
    fit_held = fit_against_heldout(sources, args.draws, args.seed)
    print("\n".join(report(res, fit_held)))
    print(f"{time.perf_counter() - t0:.0f} s")
    if args.out:
        args.out.write_text(json.dumps({"checks": list(CHECKS), "within_share": res["within"].mean(axis=0).tolist(),
                                        "all_within_share": float(res["within"].all(axis=1).mean()),
                                        "splits": args.splits, "draws": args.draws, "fit_against_heldout": fit_held,
                                        "a": res["a"].tolist(), "b": res["b"].tolist(),
                                        "spread_b": res["spread_b"].tolist()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
