"""Ideal-observer ceiling (issue 27): how much of each object >= 50 mm the camera could see at best.

For each case of ``bench_vision_scenes`` (the objects of ``bench_vision_dense``: seed S, 1 object per metre, 100 m of
realistic and today's belt, 50 m of each other case), each object's signal is the held-out scene rendered with it minus
the same rows without it (coating, burial, shadow, wetness, lighting, blur, clipping all in); the clutter is object-free
belt of the same scene type (held-out tiles, seed S + 1000, as the benchmarks' object-free belts), its interior
(``--margin-mm`` from the belt edges), Welch 3 x 3 cross-spectra over N x N windows (N = 128 px, or 256 px for an object
whose sprite does not fit 128, and 512 / 1,024 px where they fit the belt, as at 1 mm/px; the signal's window is the
same N, centred on the sprite). d' of the prewhitening
observer that knows the object exactly (:mod:`vision.detectability`), its search threshold for 1 false alarm per
1,000 m of 1.8 m belt (positions = belt area / the object's length x width), P(found) = Phi(d' - z), and the ceiling of
a case = the mean P(found) over its objects, against the 90 % target. Checks printed: the background outside the
sprite unchanged by the object; the template's empirical tail on object-free belt (rows the PSD was not estimated on)
against the Gaussian's; with ``--union-log`` (a ``bench_vision_wood --causes`` log of the same seed) the union's found
wood that the ideal observer calls below its threshold.

Run: ``.venv/bin/python -m benchmarks.bench_vision_detectability [--seed 51] [--mm-per-px 4] [--length-m 100]
[--psd-m 100] [--tail-objects 8] [--union-log LOG] [--quick]``. Seeds 61/62/1061/1062 are refused (reserved).
Images: see :data:`vision.tiles.ATTRIBUTION` and :data:`vision.objects.ATTRIBUTION_TEXTURES`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import asdict, dataclass, replace

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from benchmarks.bench_vision_scenes import CASES
from benchmarks.common import quantiles_text
from vision.detectability import (clutter_psd, colour_unknown, dprime, p_found, responses, search_positions, search_threshold,
                                  template)
from vision.objects import Sprite
from vision.scene import BeltScene, SceneObject, random_objects
from vision.scenes import scene_options
from vision.sim_camera import SimulatedCamera

RESERVED_SEEDS = (61, 62, 1061, 1062)
TARGET_PCT = 90.0
QUANTILES = (0.0, 0.1, 0.5, 0.9, 1.0)
#: Signal and Welch window sizes (px); a clutter PSD is estimated for each that fits the belt's interior columns.
WINDOWS_PX = (128, 256, 512, 1024)


@dataclass
class Observed:
    """One observer on one object: d' of its expected signal, P(found) = Phi(d' - z), its template's response to the
    belt with the object in sigmas of its response on object-free belt (``z_obj``), and that template's 1e-4 upper
    and 1e-3 quantiles on object-free belt (``q4``, ``q3``; Gaussian 3.72, 3.09)."""

    d: float
    p: float
    z_obj: float
    q4: float
    q3: float


@dataclass
class ObjectD:
    """One object: what it is; d' of its single-place difference (``d_exact``: knows the ore it covers); the
    observer that knows its surface pixel by pixel (``ske``), the one that knows only its mean colour (``flat``; both
    know kind, shape, place, the burial pattern, coating, shadow) and the one that knows the mean colour and the buried
    share but not where the ore covers it (``blind``: the expected signal over burial patterns); its search threshold z; the background change outside
    the sprite (``outside_max``, grey levels)."""

    case: str
    obj: SceneObject
    coat: float
    d_exact: float
    z: float
    ske: Observed
    flat: Observed
    blind: Observed
    outside_max: float


def _row(name: str, value: float, unit: str, target: str, ok: bool) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok}


def open_scene(scene_type: str, seed: int, mm_per_px: float) -> BeltScene:
    """The held-out scene the benchmarks' SimulatedCamera renders for ``scene_type`` and ``seed``."""
    cam = SimulatedCamera(tiles="heldout", seed=seed, width_px=round(2048 / mm_per_px), mm_per_px=mm_per_px,
                          scene_options=scene_options(scene_type)[0])
    cam.open()
    return cam.belt_scene


def case_objects(scene_type: str, extra: dict, length_m: float, seed: int) -> list[SceneObject]:
    """The objects >= 50 mm of a case as the benchmarks place them (1 per metre over ``length_m``)."""
    objs = random_objects(length_m * 1000.0, np.random.default_rng(seed), per_m=1.0, **{**scene_options(scene_type)[1], **extra})
    return [o for o in objs if o.length_mm >= 50.0]


def interior(scene: BeltScene, margin_mm: float) -> slice:
    """Belt columns at least ``margin_mm`` from either belt edge."""
    m = int(round(margin_mm / scene.mm_per_px))
    return slice(scene.belt_x0 + m, scene.belt_x0 + scene.belt_px - m)


def free_strips(scene: BeltScene, start_row: int, n_rows: int, cols: slice, chunk: int = 2048) -> list[np.ndarray]:
    """Object-free rows ``start_row .. + n_rows`` of ``scene``, interior columns, float, in chunks."""
    return [scene.render(r, min(chunk, start_row + n_rows - r))[:, cols].astype(np.float64)
            for r in range(start_row, start_row + n_rows, chunk)]


def _box(scene: BeltScene, obj: SceneObject) -> tuple[int, int, int, int, int]:
    """(top row, left column, height, width, blur pad) of ``obj``'s sprite in ``scene`` (as the renderer pastes it)."""
    sp = scene.sprite(obj)
    h, w = sp.alpha.shape
    top = int(round(obj.belt_mm / scene.mm_per_px - sp.centre_px[0]))
    left = int(round(scene.col_of_lateral(obj.lateral_mm) - sp.centre_px[1]))
    pad = int(np.ceil(scene.motion_blur_px)) if scene.motion_blur_px >= 1.5 else 0
    return top, left, h, w, pad


def window_px(scene: BeltScene, obj: SceneObject, largest: int = 256) -> int:
    """N of the object's signal window: the smallest of :data:`WINDOWS_PX` its sprite (and blur) fits with 4 px to
    spare on each side, at most ``largest`` (a larger sprite is cut at the window's edge)."""
    _, _, h, w, pad = _box(scene, obj)
    fits = [n for n in WINDOWS_PX if n <= largest and max(h + 2 * pad, w) <= n - 8]
    return fits[0] if fits else largest


def object_windows(scene: BeltScene, obj: SceneObject, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(the scene with ``obj``, the same rows without it: both N x N x 3 float windows centred on its sprite, zero
    beyond the image; the largest |difference| outside the sprite's rows +- the blur and its columns, which must
    be 0)."""
    top, left, h, w, pad = _box(scene, obj)
    r0 = top + h // 2 - n // 2
    with_obj = scene.render(r0, n, [obj]).astype(np.float64)
    without = scene.render(r0, n, []).astype(np.float64)
    diff = with_obj - without
    outside = np.ones(diff.shape[:2], bool)
    outside[max(0, top - pad - r0) : max(0, top + h + pad - r0), max(0, left) : max(0, left + w)] = False
    out_max = float(np.abs(diff[outside]).max()) if outside.any() else 0.0
    c0 = left + w // 2 - n // 2
    a, b = max(0, c0), min(scene.width_px, c0 + n)
    wins = np.zeros((2, n, n, 3))
    wins[0, :, a - c0 : b - c0] = with_obj[:, a:b]
    wins[1, :, a - c0 : b - c0] = without[:, a:b]
    return wins[0], wins[1], out_max


def flat_sprite(sp: Sprite) -> Sprite:
    """``sp`` with its colour replaced by its alpha-weighted mean colour (no surface texture, relief or specular)."""
    weight = sp.alpha[..., None]
    mean = (sp.rgb * weight).sum(axis=(0, 1)) / max(float(weight.sum()), 1e-9)
    return Sprite(np.broadcast_to(mean.astype(np.float32), sp.rgb.shape).copy(), sp.alpha, sp.shadow, sp.centre_px)


def blind_sprite(scene: BeltScene, obj: SceneObject) -> Sprite:
    """The expected flat sprite over burial patterns: the unburied footprint and shadow times the visible share, in
    the buried sprite's mean colour (an observer that knows how much of the object is buried, not where)."""
    buried, whole = scene.sprite(obj), scene.sprite(replace(obj, buried=0.0))
    share = float(buried.alpha.sum()) / max(float(whole.alpha.sum()), 1e-9)
    flat = flat_sprite(buried)
    return Sprite(np.broadcast_to(flat.rgb[0, 0], whole.rgb.shape).copy(), whole.alpha * share, whole.shadow * share, whole.centre_px)


def mean_signal(scene: BeltScene, obj: SceneObject, n: int, sprite: Sprite | None = None, lateral_k: int = 4) -> np.ndarray:
    """The occluding object's expected signal E_ore[with - without] (N x N x 3): the difference averaged over the
    object placed at ``lateral_k`` places across the belt and each also one sprite length up and down the belt (the same
    sprite, coating and lighting rows nearby; the ore under it differs). The single difference ``with - without`` at
    one place holds minus the ore it covers, which an observer cannot know. ``sprite``: render this sprite instead
    of the object's own (e.g. :func:`flat_sprite`)."""
    _, _, h, w, _ = _box(scene, obj)
    max_lat = max(0.0, scene.belt_px * scene.mm_per_px / 2 - 0.5 * np.hypot(obj.length_mm, obj.width_mm) - 50.0)
    acc = np.zeros((n, n, 3))
    k = 0
    for lat in np.linspace(-max_lat, max_lat, lateral_k):
        for shift in (-1, 0, 1):
            o = replace(obj, lateral_mm=float(lat), belt_mm=obj.belt_mm + shift * (h + 8) * scene.mm_per_px)
            if sprite is not None:
                scene.use_sprite(o, sprite)
            with_obj, without, _ = object_windows(scene, o, n)
            acc += with_obj - without
            k += 1
    return acc / k


def _q(v: np.ndarray) -> str:
    return quantiles_text(v, QUANTILES, fmt=".2f")


def observe(sig: np.ndarray, psd: np.ndarray, z: float, with_obj: np.ndarray, tail: list[np.ndarray]) -> Observed:
    """d', P(found) and the realised response of the observer whose expected signal is ``sig``."""
    d = dprime(sig, psd)
    w = template(sig, psd)
    free = np.concatenate([responses(s, w).ravel() for s in tail if s.shape[0] >= w.shape[0]])
    mu, sd = float(free.mean()), float(free.std())
    if not sd > 0:
        return Observed(d, float(p_found(d, z)), 0.0, float("nan"), float("nan"))
    q4, q3 = np.quantile((free - mu) / sd, (1 - 1e-4, 1 - 1e-3))
    return Observed(d, float(p_found(d, z)), (float(np.sum(w * with_obj)) - mu) / sd, float(q4), float(q3))


def measure_object(scene: BeltScene, label: str, obj: SceneObject, clutter: dict) -> ObjectD:
    """Both observers on one object (:class:`ObjectD`)."""
    n = window_px(scene, obj, max(clutter))
    with_obj, without, out_max = object_windows(scene, obj, n)
    psd, tail = clutter[n]["psd"], clutter[n]["tail"]
    z = search_threshold(search_positions(obj.length_mm * obj.width_mm))
    ske = observe(mean_signal(scene, obj, n), psd, z, with_obj, tail)
    flat = observe(mean_signal(scene, obj, n, flat_sprite(scene.sprite(obj))), psd, z, with_obj, tail)
    blind = observe(mean_signal(scene, obj, n, blind_sprite(scene, obj)), psd, z, with_obj, tail)
    return ObjectD(label, obj, float(scene.coating(obj)[0]), dprime(with_obj - without, psd), z, ske, flat, blind, out_max)


def measure_case(label: str, scene_type: str, extra: dict, length_m: float, seed: int, mm_per_px: float,
                 clutter: dict) -> list[ObjectD]:
    """Every object >= 50 mm of one case (:func:`measure_object`)."""
    scene = open_scene(scene_type, seed, mm_per_px)
    return [measure_object(scene, label, o, clutter) for o in case_objects(scene_type, extra, length_m, seed)]


def clutter_for(scene_type: str, seed: int, mm_per_px: float, psd_m: float, tail_m: float, margin_mm: float) -> dict:
    """{N: {"psd", "windows", "tail"}} for each N of :data:`WINDOWS_PX` that fits the interior columns, from
    object-free belt of ``seed`` (PSD from the first ``psd_m`` metres, the tail strips from the next ``tail_m``)."""
    scene = open_scene(scene_type, seed, mm_per_px)
    cols = interior(scene, margin_mm)
    n_psd, n_tail = int(psd_m * 1000 / mm_per_px), int(tail_m * 1000 / mm_per_px)
    strips = free_strips(scene, 0, n_psd, cols)
    tail = free_strips(scene, n_psd, n_tail, cols)
    out = {}
    for n in (n for n in WINDOWS_PX if n <= cols.stop - cols.start):
        psd, count = clutter_psd(strips, n)
        out[n] = {"psd": psd, "windows": count, "tail": tail}
        grey_var = float(np.real(np.trace(psd, axis1=2, axis2=3)).mean() / 3)
        print(f"  clutter {scene_type} seed {seed}: {count} windows of {n} px from {psd_m:g} m ({cols.stop - cols.start} "
              f"interior columns); mean per-channel variance {grey_var:.1f} grey levels^2", flush=True)
    return out


def union_found(path: str) -> dict[str, list[tuple[int, float, bool]]]:
    """Per case label of a ``bench_vision_wood --causes`` log: (length mm, buried, found by the union) per wood object."""
    cases: dict[str, list[tuple[int, float, bool]]] = {}
    label = None
    head = re.compile(r"^(.+): wood objects >= 50 mm:")
    line = re.compile(r"^\s+(\d+) mm vis\s+\S+ buried ([\d.]+) .*\| (found|missed.*|no candidate)\s*$")
    with open(path, encoding="utf-8") as f:
        for text in f:
            m = head.match(text)
            if m:
                label = m.group(1)
                cases[label] = []
                continue
            m = line.match(text)
            if m and label is not None:
                cases[label].append((int(m.group(1)), float(m.group(2)), m.group(3) == "found"))
            elif not text.startswith(" "):
                label = None
    if not cases:
        raise ValueError(f"{path}: no 'wood objects >= 50 mm' table (expected a bench_vision_wood --causes log)")
    return cases


GAUSS_Q4 = 3.719  # the standard normal's 1e-4 upper quantile
OBSERVERS = (("blind", "knows the mean colour and buried share, not the surface or where it is buried"),
             ("flat", "knows the mean colour and the burial pattern, not the surface"),
             ("ske", "knows the surface pixel by pixel and the burial pattern"))


def empirical_threshold(o: Observed, n_positions: float) -> float:
    """The template's threshold for 1 false alarm in ``n_positions`` from its empirical tail on object-free belt:
    an exponential tail through its 1e-3 and 1e-4 quantiles, extrapolated to 1 / ``n_positions`` (heavier than the
    Gaussian's wherever the ore's tail is; never below the 1e-4 quantile)."""
    decades = max(0.0, float(np.log10(1e-4 * n_positions)))
    return o.q4 + max(o.q4 - o.q3, 0.0) * decades


def realised(r: ObjectD, obs: str, tail_corrected: bool = False) -> bool:
    """Whether observer ``obs``'s template response to the belt with the object passes the search threshold: the
    Gaussian z, or (``tail_corrected``) :func:`empirical_threshold` when higher."""
    o: Observed = getattr(r, obs)
    z = r.z
    if tail_corrected and np.isfinite(o.q4):
        z = max(z, empirical_threshold(o, search_positions(r.obj.length_mm * r.obj.width_mm)))
    return o.z_obj > z


def _shares(res: list[ObjectD], obs: str) -> tuple[float, float, float]:
    """(mean P(found), realised share, tail-corrected realised share), % of ``res``."""
    if not res:
        return 0.0, 0.0, 0.0
    return (100.0 * float(np.mean([getattr(r, obs).p for r in res])), 100.0 * float(np.mean([realised(r, obs) for r in res])),
            100.0 * float(np.mean([realised(r, obs, True) for r in res])))


def case_rows(label: str, res: list[ObjectD], seed: int, mm_per_px: float) -> list[dict]:
    """The ceiling of one case against the target (each observer: expected and realised), with the spreads."""
    print(f"{label}: {len(res)} objects >= 50 mm ({mm_per_px:g} mm/px, seed {seed}; target >= {TARGET_PCT:.0f} %); threshold z "
          f"{_q(np.array([r.z for r in res]))}; background changed outside the sprite: max |diff| "
          f"{max((r.outside_max for r in res), default=0.0):.0f} grey levels", flush=True)
    print(f"  d' of the single-place difference (knows the ore it covers) {_q(np.array([r.d_exact for r in res]))}", flush=True)
    rows = []
    for obs, what in OBSERVERS:
        ceiling, real, real_t = _shares(res, obs)
        print(f"  {obs} ({what}): ceiling {ceiling:.1f} % (mean Phi(d' - z)); realised {real:.1f} % (its template's response "
              f"on the belt with the object > z), {real_t:.1f} % (the threshold from the empirical tail, extrapolated exponentially)", flush=True)
        wider = 100.0 * float(np.mean([p_found(getattr(r, obs).d, search_threshold(1000.0 * search_positions(r.obj.length_mm * r.obj.width_mm)))
                                       for r in res])) if res else 0.0
        blind_colour = 100.0 * float(np.mean([colour_unknown(getattr(r, obs).d, search_positions(r.obj.length_mm * r.obj.width_mm))
                                              for r in res])) if res else 0.0
        print(f"    searching 1,000 x the places (orientations, shapes, sizes): ceiling {wider:.1f} %; not knowing the colour "
              f"(its 3 channels' amplitudes fitted, chi-square 3 dof): ceiling {blind_colour:.1f} %", flush=True)
        print(f"    d' {_q(np.array([getattr(r, obs).d for r in res]))}; realised z_obj {_q(np.array([getattr(r, obs).z_obj for r in res]))}; "
              f"1e-3 / 1e-4 quantiles on object-free belt {_q(np.array([getattr(r, obs).q3 for r in res]))} / "
              f"{_q(np.array([getattr(r, obs).q4 for r in res]))} (Gaussian 3.09 / {GAUSS_Q4:.2f}); empirical threshold "
              f"{_q(np.array([empirical_threshold(getattr(r, obs), search_positions(r.obj.length_mm * r.obj.width_mm)) for r in res]))}", flush=True)
        rows.append(_row(f"vision ideal-observer ceiling ({obs}: {what}), {label} ({len(res)} objects >= 50 mm; {mm_per_px:g} mm/px, "
                         f"seed {seed}; realised {real:.1f} %, tail-corrected {real_t:.1f} %)", ceiling, "%",
                         f">= {TARGET_PCT:.0f} reachable", ceiling >= TARGET_PCT))
    return rows


def _group(res: list[ObjectD], name: str, key) -> None:
    groups: dict[str, list[ObjectD]] = {}
    for r in res:
        groups.setdefault(key(r), []).append(r)
    for g in sorted(groups):
        rs = groups[g]
        text = []
        for obs, _ in OBSERVERS:
            d = np.array([getattr(r, obs).d for r in rs])
            c, real, real_t = _shares(rs, obs)
            text.append(f"{obs} d' {' / '.join(f'{x:6.2f}' for x in np.quantile(d, (0.1, 0.5, 0.9)))} P {c:5.1f} % real {real:5.1f} / {real_t:5.1f} %")
        print(f"    {name:<12} {g:<10} {len(rs):>4} | " + " | ".join(text))


def class_print(res: list[ObjectD]) -> None:
    """Per observer: d' quantiles (10 % / median / 90 %), mean P(found) and the realised shares (plain / tail-corrected)
    by kind, burial, coating and wetness (all cases pooled)."""
    print("  by class, all cases (objects | per observer: d' 10 % / median / 90 %; mean P(found); realised plain / tail-corrected):")
    _group(res, "kind", lambda r: r.obj.kind)
    _group(res, "buried", lambda r: f"{min(int(r.obj.buried / 0.2), 2) * 0.2:.1f}-{min(int(r.obj.buried / 0.2), 2) * 0.2 + 0.2:.1f}")
    _group(res, "coat (cast)", lambda r: "none" if r.coat == 0 else ("0.10-0.22" if r.coat < 0.225 else "0.22-0.35"))
    _group(res, "wood", lambda r: "-" if r.obj.kind != "wood" else ("wet" if r.obj.wet else "dry"))


def union_print(res: list[ObjectD], log: dict[str, list[tuple[int, float, bool]]]) -> None:
    """Of the wood the union found and missed (``log``), how many each observer calls below its threshold."""
    for label, rows in log.items():
        by_key = {(int(round(r.obj.length_mm)), round(r.obj.buried, 2)): r for r in res if r.case == label and r.obj.kind == "wood"}
        found = [by_key.get((n, round(b, 2))) for n, b, f in rows if f]
        missed = [by_key.get((n, round(b, 2))) for n, b, f in rows if not f]
        unmatched = sum(r is None for r in found + missed)
        fd = [r for r in found if r is not None]
        md = [r for r in missed if r is not None]
        if not fd and not md:
            continue
        for obs, _ in OBSERVERS:
            print(f"  {label}, {obs}: of {len(fd)} wood the union found, {sum(getattr(r, obs).d < r.z for r in fd)} have d' below z and "
                  f"{sum(not realised(r, obs) for r in fd)} are not realised (d' {_q(np.array([getattr(r, obs).d for r in fd]))}); "
                  f"of {len(md)} it missed, P(found) {_shares(md, obs)[0]:.0f} %, realised {sum(realised(r, obs) for r in md)} "
                  f"(d' {_q(np.array([getattr(r, obs).d for r in md]))}); unmatched {unmatched}", flush=True)


def write_objects(path: str, res: list[ObjectD]) -> None:
    """Every object's figures (case, kind, size, burial, coating, wetness, threshold, each observer's) as JSON."""
    rows = [{"case": r.case, "kind": r.obj.kind, "length_mm": r.obj.length_mm, "width_mm": r.obj.width_mm, "belt_mm": r.obj.belt_mm,
             "buried": r.obj.buried, "wet": r.obj.wet, "cast": r.coat, "z": r.z, "d_exact": r.d_exact, "outside_max": r.outside_max,
             **{obs: asdict(getattr(r, obs)) for obs, _ in OBSERVERS}} for r in res]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)


def main(argv: list[str] | None = None) -> list[dict]:
    """``--quick``: 10 m of each case, 20 m of clutter, 8 m of tail belt (checks the benchmark runs)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_detectability", description=__doc__)
    ap.add_argument("--seed", type=int, default=51)
    ap.add_argument("--mm-per-px", type=float, default=4.0)
    ap.add_argument("--length-m", type=float, default=100.0, help="belt of realistic and today's cases (others: half)")
    ap.add_argument("--psd-m", type=float, default=100.0, help="object-free belt for the clutter PSD")
    ap.add_argument("--tail-m", type=float, default=16.0, help="further object-free belt for the templates' tail")
    ap.add_argument("--margin-mm", type=float, default=100.0, help="clutter columns this far inside the belt edges")
    ap.add_argument("--cases", default="", help="comma list of case labels (default all)")
    ap.add_argument("--union-log", help="a bench_vision_wood --causes log of the same seed: the union's found wood")
    ap.add_argument("--out", help="write every object's figures here (JSON)")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    if a.seed in RESERVED_SEEDS or a.seed + 1000 in RESERVED_SEEDS:
        ap.error(f"seed {a.seed} is reserved (61/62 and their object-free 1061/1062 are for confirmation only)")
    if a.quick:
        a.length_m, a.psd_m, a.tail_m = 10.0, 20.0, 8.0
    log = union_found(a.union_log) if a.union_log else {}
    wanted = {c.strip() for c in a.cases.split(",") if c.strip()}
    clutter: dict[str, dict] = {}
    rows: list[dict] = []
    everything: list[ObjectD] = []
    for label, scene_type, extra, share, _, _ in CASES:
        if wanted and label not in wanted:
            continue
        key = "realistic" if scene_type == "wet-wood" else scene_type  # the same belt: wet-wood is the realistic scene
        if key not in clutter:
            clutter[key] = clutter_for(key, a.seed + 1000, a.mm_per_px, a.psd_m, a.tail_m, a.margin_mm)
        res = measure_case(label, scene_type, extra, a.length_m * share, a.seed, a.mm_per_px, clutter[key])
        rows += case_rows(label, res, a.seed, a.mm_per_px)
        everything += res
    class_print(everything)
    if a.out:
        write_objects(a.out, everything)
    if log:
        union_print(everything, log)
    return rows


if __name__ == "__main__":
    main()
