"""How much the realism checks' rendered side varies from seed to seed (issue 27, a diagnostic: no check changes).

Each check of :func:`vision.realism.all_checks` compares one statistic of one seed's rendered belt with the real
photos' (within when |rendered - real| <= the real statistic's own spread). This runs every check on several seeds
per camera and prints per check: the rendered value of each seed, their mean and standard deviation over seeds
(``sd``), the real value and spread, how many seeds are within, ``z`` = (mean - real) / sqrt(spread^2 + sd^2 / n) (the
mean's distance in its own noise and the real side's) and ``z1`` = (one seed - real) / sqrt(spread^2 + sd^2) per
seed (what a single seed's verdict faces), and a verdict: ``bias`` (|mean - real| > 2 sqrt(spread^2 + sd^2 / n)),
``noise`` (outside on some seed, not biased), ``within`` (within on every seed).

Cameras: ``calibrated`` (the evaluation's: the realistic belt with :data:`vision.scenes.CANDIDATE49_LIGHT`'s
lighting, seen through :data:`vision.scenes.COLOUR49_CAMERA`; ``colour49`` is the same, the name RULE_REND49 judged it
under), ``renderer`` (the realistic belt, ``scene_options("realistic")``), ``real`` (with
:data:`vision.scenes.REAL_CAMERA`), ``colour`` (with :data:`vision.scenes.COLOUR_CAMERA`). The object surface checks
do not depend on the scene: run once per seed and printed once. ``--clipping-m`` / ``--belt-m`` / ``--edge-m``: the
checks' belt lengths (default today's: 100 m, 30 m, 10 m).

Run: ``.venv/bin/python -m benchmarks.bench_vision_realism_seeds --seeds 10,11,12,13,14 --camera renderer,real,colour
--out FILE.json`` (``--quick``: two seeds on short belts, to check that it runs). Seeds split between processes
(``--seeds 30,31 --out a.json`` and ``--seeds 32,33 --out b.json``) are put together by ``--merge a.json b.json --out
FILE.json``: the same tables and json as one run over all the seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from vision.realism import BELT_M, CLIPPING_M, EDGE_M, RealismCheck, all_checks, surface_checks
from vision.scenes import CAMERA_OPTIONS as SCENE_CAMERAS
from vision.scenes import COLOUR_CAMERA, scene_options

#: The cameras the realistic belt is seen through (name: the options added to the realistic scene type's): the
#: evaluation's (:data:`vision.scenes.CAMERA_OPTIONS`), cam47's ``colour`` and ``colour49``, the name RULE_REND49's
#: judgement ran under for what is now ``calibrated``.
CAMERA_OPTIONS: dict[str, dict[str, Any]] = {**SCENE_CAMERAS, "colour": COLOUR_CAMERA,
                                             "colour49": SCENE_CAMERAS["calibrated"]}
#: The group of the object surface checks (the same under every camera).
SURFACES = "surfaces"
#: A mean further from the real value than this many of its standard errors (real spread and seeds' sd / n) is a bias.
BIAS_Z = 2.0


def camera_scene(camera: str) -> dict[str, Any]:
    """The realistic scene type's options seen through ``camera`` (a key of :data:`CAMERA_OPTIONS`)."""
    if camera not in CAMERA_OPTIONS:
        raise ValueError(f"camera must be one of {', '.join(CAMERA_OPTIONS)}, got {camera!r}")
    return {**scene_options("realistic")[0], **CAMERA_OPTIONS[camera]}


def _z(diff: float, scale: float) -> float:
    """``diff`` / ``scale``; 0 / 0 is 0, x / 0 is +-inf."""
    if scale > 0:
        return diff / scale
    return 0.0 if diff == 0 else math.copysign(math.inf, diff)


@dataclass(frozen=True)
class SeedSpread:
    """One check on several seeds: ``rendered`` per seed (NaN: no value on that seed), the real value and spread."""

    name: str
    unit: str
    seeds: tuple[int, ...]
    rendered: tuple[float, ...]
    real: float
    spread: float

    @property
    def values(self) -> np.ndarray:
        """The finite rendered values."""
        v = np.asarray(self.rendered, float)
        return v[np.isfinite(v)]

    @property
    def mean(self) -> float:
        return float(self.values.mean()) if self.values.size else math.nan

    @property
    def sd(self) -> float:
        """Standard deviation over the seeds (n - 1; 0 with one value)."""
        return float(self.values.std(ddof=1)) if self.values.size > 1 else 0.0

    @property
    def within(self) -> int:
        """Seeds within the real spread (as :attr:`RealismCheck.ok`; NaN never is)."""
        return sum(RealismCheck(self.name, r, self.real, self.unit, self.spread).ok for r in self.rendered)

    @property
    def mean_scale(self) -> float:
        """sqrt(spread^2 + sd^2 / n): the noise of the mean's distance from the real value."""
        return math.sqrt(self.spread**2 + self.sd**2 / max(self.values.size, 1))

    @property
    def z(self) -> float:
        """(mean - real) / :attr:`mean_scale`."""
        return _z(self.mean - self.real, self.mean_scale)

    @property
    def z1(self) -> tuple[float, ...]:
        """Per seed, (rendered - real) / sqrt(spread^2 + sd^2)."""
        scale = math.sqrt(self.spread**2 + self.sd**2)
        return tuple(_z(r - self.real, scale) if math.isfinite(r) else math.nan for r in self.rendered)

    @property
    def verdict(self) -> str:
        """``bias``, ``noise`` or ``within`` (see the module docstring); ``no value`` without a finite value."""
        if not self.values.size:
            return "no value"
        if abs(self.mean - self.real) > BIAS_Z * self.mean_scale:
            return "bias"
        return "within" if self.within == len(self.rendered) else "noise"

    def record(self) -> dict[str, Any]:
        """The fields and every statistic (for the json)."""
        return {**asdict(self), "mean": self.mean, "sd": self.sd, "within": self.within, "z": self.z, "z1": list(self.z1),
                "verdict": self.verdict}


def seed_spreads(seeds: Sequence[int], checks: Sequence[Sequence[RealismCheck]]) -> list[SeedSpread]:
    """One :class:`SeedSpread` per check, in the order of the first seed's, from ``checks[i]``: every check on
    ``seeds[i]`` (the same names on every seed and the same real side; ValueError otherwise)."""
    if len(seeds) != len(checks) or not checks:
        raise ValueError(f"one list of checks per seed expected: {len(seeds)} seeds, {len(checks)} lists")
    by_seed = [{c.name: c for c in cs} for cs in checks]
    out = []
    for first in checks[0]:
        row = [b.get(first.name) for b in by_seed]
        if any(c is None or (c.real, c.spread, c.unit) != (first.real, first.spread, first.unit) for c in row):
            raise ValueError(f"check {first.name!r} missing or with another real side on some seed")
        out.append(SeedSpread(first.name, first.unit, tuple(seeds), tuple(float(c.rendered) for c in row if c is not None),
                              first.real, first.spread))
    return out


def _num(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else "nan"


def table(spreads: Sequence[SeedSpread]) -> list[str]:
    """A markdown table: a row per check (seeds' values, mean +- sd, real +- spread, within, z, z1's range, verdict)."""
    seeds = spreads[0].seeds if spreads else ()
    lines = [f"| check | seeds {' / '.join(map(str, seeds))} | mean +- sd | real +- spread | within | z | z1 (min, max) | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for s in spreads:
        z1 = [z for z in s.z1 if math.isfinite(z)] or [math.nan]
        lines.append(f"| {s.name} ({s.unit}) | {' / '.join(_num(r) for r in s.rendered)} | {_num(s.mean)} +- {_num(s.sd)} | "
                     f"{_num(s.real)} +- {_num(s.spread)} | {s.within}/{len(s.rendered)} | {s.z:+.2f} | "
                     f"{min(z1):+.2f}, {max(z1):+.2f} | {s.verdict} |")
    return lines


def run(seeds: Sequence[int], cameras: Sequence[str], *, clipping_m: float = CLIPPING_M, belt_m: float = BELT_M,
        edge_m: float = EDGE_M) -> dict[str, list[SeedSpread]]:
    """{camera: its checks' :class:`SeedSpread`, ..., :data:`SURFACES`: the object surface checks'} over ``seeds``
    (a progress line per seed and camera)."""
    scenes = {cam: camera_scene(cam) for cam in cameras}
    per: dict[str, list[list[RealismCheck]]] = {group: [] for group in [*cameras, SURFACES]}
    start = time.perf_counter()
    for seed in seeds:
        for cam in cameras:
            t = time.perf_counter()
            per[cam].append(all_checks(seed, scenes[cam], clipping_m=clipping_m, belt_m=belt_m, edge_m=edge_m, surfaces=False))
            out = sum(not c.ok for c in per[cam][-1])
            print(f"seed {seed}, camera {cam}: {len(per[cam][-1])} checks, {out} outside, {time.perf_counter() - t:.0f} s "
                  f"(total {time.perf_counter() - start:.0f} s)", flush=True)
        t = time.perf_counter()
        per[SURFACES].append(surface_checks(seed))
        print(f"seed {seed}, object surfaces: {time.perf_counter() - t:.0f} s", flush=True)
    return {group: seed_spreads(seeds, checks) for group, checks in per.items()}


def merge_runs(runs: Sequence[dict[str, Any]]) -> dict[str, list[SeedSpread]]:
    """The checks of several runs' json (``--out``) as one run over all their seeds, in the runs' order: the same
    cameras and belt lengths in every run, no seed twice, every check on every run with the same real side
    (ValueError otherwise; the statistics are recomputed from the seeds' values)."""
    if not runs:
        raise ValueError("no run to merge")
    first = runs[0]
    seeds = [s for r in runs for s in r["seeds"]]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a seed in more than one run: {seeds}")
    for r in runs[1:]:
        if (r["cameras"], r["lengths_m"]) != (first["cameras"], first["lengths_m"]):
            raise ValueError(f"runs of other cameras or belts: {r['cameras']} {r['lengths_m']} against "
                             f"{first['cameras']} {first['lengths_m']}")
    out: dict[str, list[SeedSpread]] = {}
    for group, records in first["checks"].items():
        out[group] = []
        for rec in records:
            parts = [next((x for x in r["checks"].get(group, []) if x["name"] == rec["name"]), None) for r in runs]
            if any(x is None or (x["real"], x["spread"], x["unit"]) != (rec["real"], rec["spread"], rec["unit"]) for x in parts):
                raise ValueError(f"check {rec['name']!r} missing or with another real side in some run")
            out[group].append(SeedSpread(rec["name"], rec["unit"], tuple(seeds),
                                         tuple(float(v) for x in parts if x is not None for v in x["rendered"]),
                                         rec["real"], rec["spread"]))
    return out


def _ints(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def _cameras(values: Sequence[str]) -> list[str]:
    out = [c.strip() for v in values for c in v.split(",") if c.strip()]
    for c in out:
        if c not in CAMERA_OPTIONS:
            raise argparse.ArgumentTypeError(f"--camera: one of {', '.join(CAMERA_OPTIONS)}, got {c!r}")
    return list(dict.fromkeys(out))


#: ``--quick``'s belts (m): clipping and clipped colour, illumination and patches, belt edge.
QUICK_M = (4.0, 2.0, 1.0)


def main(argv: Sequence[str] | None = None) -> dict[str, list[SeedSpread]]:
    """Parse the arguments, run, print a table and a verdict line per check per camera, write ``--out``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=_ints, default=[10, 11, 12, 13, 14], help="comma list of seeds (default 10-14)")
    ap.add_argument("--camera", action="append", default=None,
                    help=f"{' | '.join(CAMERA_OPTIONS)}; repeatable or a comma list (default renderer)")
    ap.add_argument("--clipping-m", type=float, default=CLIPPING_M, help="belt for the clipping and clipped-colour checks (m)")
    ap.add_argument("--belt-m", type=float, default=BELT_M, help="belt for the illumination and patch checks (m)")
    ap.add_argument("--edge-m", type=float, default=EDGE_M, help="belt for the belt-edge checks (m)")
    ap.add_argument("--out", type=Path, default=None, help="json of every check's seeds and statistics")
    ap.add_argument("--merge", type=Path, nargs="+", default=None, metavar="JSON",
                    help="no run: merge these runs' --out files (other seeds, the same cameras and belts) into one")
    ap.add_argument("--quick", action="store_true", help="check that the benchmark runs: seeds 10, 11 and belts of "
                    f"{QUICK_M[0]:g} / {QUICK_M[1]:g} / {QUICK_M[2]:g} m (figures not comparable)")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds = args.seeds[:2]
        args.clipping_m, args.belt_m, args.edge_m = QUICK_M
    try:
        cameras = _cameras(args.camera or ["renderer"])
    except argparse.ArgumentTypeError as e:
        ap.error(str(e))
    if not args.seeds:
        ap.error("--seeds: at least one seed")
    t = time.perf_counter()
    merged: list[dict[str, Any]] = []
    if args.merge:
        try:
            merged = [json.loads(p.read_text()) for p in args.merge]
            result = merge_runs(merged)
        except (OSError, ValueError, KeyError, TypeError) as e:
            ap.error(f"--merge: {e}")
        args.seeds = [s for r in merged for s in r["seeds"]]
        cameras = list(merged[0]["cameras"])
        lengths = merged[0]["lengths_m"]
        args.clipping_m, args.belt_m, args.edge_m = lengths["clipping"], lengths["belt"], lengths["edge"]
    else:
        result = run(args.seeds, cameras, clipping_m=args.clipping_m, belt_m=args.belt_m, edge_m=args.edge_m)
    for group, spreads in result.items():
        title = "object surfaces (every camera)" if group == SURFACES else f"camera {group}"
        print(f"\n{title}, seeds {','.join(map(str, args.seeds))}:")
        print("\n".join(table(spreads)))
        for s in spreads:
            print(f"{group}: {s.name}: {s.verdict} (within {s.within}/{len(s.rendered)}, z {s.z:+.2f})")
    if args.out:
        args.out.write_text(json.dumps({"seeds": args.seeds, "cameras": cameras, "lengths_m": {
            "clipping": args.clipping_m, "belt": args.belt_m, "edge": args.edge_m},
            "wall_s": sum(r["wall_s"] for r in merged) if merged else time.perf_counter() - t,
            **({"merged_from": [str(p) for p in args.merge]} if args.merge else {}),
            "checks": {g: [s.record() for s in v] for g, v in result.items()}}, indent=1, allow_nan=True))
        print(f"\nwritten {args.out}")
    return result


if __name__ == "__main__":
    main()
