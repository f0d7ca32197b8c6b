"""``oreline vision evaluate --scenes ...``: the detector on each scene type, with the renderer's realism beside it.

Per scene type (:mod:`vision.scenes`) the held-out belt with objects is scored (recall per kind and per size class,
precision per reported kind, false alarms, gallery: ``OUT/<scene>/report.md``, ``report.json``, ``gallery.png``), the
realism checks of that scene's renderer settings are run (:mod:`vision.realism`: rendered vs real with the error and
the real spread), and optionally ``fa_m`` metres of object-free belt of the same scene type are scored for false
alarms. ``OUT/scenes.md`` and ``OUT/scenes.json`` sum it up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vision.evaluate import truth_lines
from vision.fit import VisionModel
from vision.realism import CLIPPING_M, RealismCheck, all_checks, realism_lengths
from vision.scenes import camera_scene_options
from vision.station_settings import EXPOSURE_NORM
from vision.sim_eval import evaluate, write_report
from vision.tiles import ATTRIBUTION


def scene_result(model: VisionModel, name: str, *, length_m: float, seed: int, objects_per_m: float, fa_m: float,
                 out: Path, backgrounds: str = "heldout", camera: str = "renderer",
                 exposure_norm: bool = EXPOSURE_NORM, realism_m: float = CLIPPING_M) -> dict[str, Any]:
    """Score one scene type seen through ``camera`` (:func:`vision.scenes.camera_scene_options`), with the frames
    darkened into the fit's range if ``exposure_norm`` (:mod:`vision.exposure`); write its report (report.md,
    report.json, gallery.png) into ``out``; return its summary (table, realism checks on :func:`realism_lengths` of
    ``realism_m``, object-free false alarms)."""
    scene, objects = camera_scene_options(name, camera)
    table, items = evaluate(model, backgrounds=backgrounds, length_m=length_m, seed=seed, objects_per_m=objects_per_m,
                            scene=scene, objects=objects, exposure_norm=exposure_norm)
    table["scene"], table["camera"] = name, camera
    write_report(table, items, out)
    checks = all_checks(seed, scene=scene, **realism_lengths(realism_m))
    fa: dict[str, Any] = {}
    if fa_m > 0:
        empty, _ = evaluate(model, backgrounds=backgrounds, length_m=fa_m, seed=seed + 1000, objects_per_m=0.0, scene=scene,
                            exposure_norm=exposure_norm)
        fa = {k: empty[k] for k in ("belt_m", "false_alarms", "false_alarms_per_1000_m", "false_alarms_per_1000_m_upper95")}
    return {"scene": name, "camera": camera, "table": table, "realism": [_check_dict(c) for c in checks], "object_free": fa}


def exposure_text(table: dict[str, Any]) -> str:
    """The frames the exposure normalisation darkened in a run (:func:`vision.sim_eval.evaluate`'s ``exposure``)."""
    e = table.get("exposure") or {}
    if not e.get("on"):
        return "exposure normalisation off"
    return (f"exposure normalisation: {e['frames_gained']}/{e['frames']} frames darkened, gain min {e['gain_min']:.3f} / median "
            f"{e['gain_median']:.3f} / max {e['gain_max']:.3f}")


def _check_dict(c: RealismCheck) -> dict[str, Any]:
    return {"name": c.name, "rendered": c.rendered, "real": c.real, "error": c.error, "spread": c.spread, "ok": c.ok, "line": c.line()}


def scene_lines(res: dict[str, Any]) -> list[str]:
    """What ``vision evaluate --scenes`` prints for one scene type."""
    t = res["table"]
    r = t["recall"].get("size>=50:all", {"recall": float("nan"), "detected": 0, "objects": 0})
    out = [(f"== scene {res['scene']}: recall >= 50 mm {100 * r['recall']:.1f} % ({r['detected']}/{r['objects']}), "
           f"false alarms {t['false_alarms']} in {t['belt_m']:.0f} m, detector {t['detector_mpx_s']:.1f} Mpx/s, "
           f"p99 {t['latency_p99_ms']:.0f} ms")]
    out.append(f"  camera {res.get('camera', 'renderer')}; {exposure_text(t)}")
    out += [f"  {key:<22} {v['detected']:>4}/{v['objects']:<4} recall {v['recall']:.3f}"
            for key, v in t["recall"].items() if key.startswith(("kind>=50:", "size:"))]
    fa = res["object_free"]
    if fa:
        out.append(f"  object-free belt: {fa['false_alarms']} false alarms in {fa['belt_m']:.0f} m = {fa['false_alarms_per_1000_m']:.2f} "
                   f"per 1,000 m (95 % upper bound {fa['false_alarms_per_1000_m_upper95']:.2f}; target <= 1)")
    out += [f"  {line}" for line in truth_lines(t)]
    out.append("  renderer vs real images:")
    out += [f"    {c['line']}" for c in res["realism"]]
    return out


def evaluate_scenes(model: VisionModel, names: Sequence[str], out: Path, *, length_m: float, seed: int, objects_per_m: float,
                    fa_m: float = 0.0, backgrounds: str = "heldout", camera: str = "renderer",
                    exposure_norm: bool = EXPOSURE_NORM, echo: Callable[[str], None] = print,
                    realism_m: float = CLIPPING_M) -> list[dict[str, Any]]:
    """Every scene type of ``names`` in turn (printed as it is done; ``camera``, ``exposure_norm``, ``realism_m``:
    :func:`scene_result`):
    one scene's report in ``out``, several in ``out/<scene>/``; writes ``out/scenes.md`` and ``out/scenes.json``."""
    results = []
    for name in names:
        res = scene_result(model, name, length_m=length_m, seed=seed, objects_per_m=objects_per_m, fa_m=fa_m,
                           out=out / name if len(names) > 1 else out, backgrounds=backgrounds, camera=camera,
                           exposure_norm=exposure_norm, realism_m=realism_m)
        for line in scene_lines(res):
            echo(line)
        results.append(res)
    (out / "scenes.json").write_text(json.dumps(results, indent=2, default=float))
    md = [f"# Vision on scene types (model {model.version}, {model.mm_per_px:g} mm/px, seed {seed}, camera {camera}, "
          f"exposure normalisation {'on' if exposure_norm else 'off'})", ""]
    for res in results:
        folder = f"{res['scene']}/" if len(results) > 1 else ""
        md += [f"## {res['scene']} ([report]({folder}report.md))", "", f"![gallery of {res['scene']}]({folder}gallery.png)", "", "```"]
        md += scene_lines(res) + ["```", ""]
    (out / "scenes.md").write_text("\n".join(md + [ATTRIBUTION, ""]))
    return results
