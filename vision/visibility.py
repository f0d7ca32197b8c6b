"""How much of an object the camera can see: the physical limit behind the recall on coated, buried objects.

An object 60 % buried under ore and dust-coated may show less than one 8 mm cell of its own surface. For each truth
object of a rendered scene, :func:`visible_extent_mm` measures the *visible extent*: the length, along the object's
long axis, of the largest connected piece of its sprite that the ore leaves uncovered (alpha > 0.5). The benchmark
(``bench_vision_scenes --ceiling``) tables recall at the decision and at the candidate ceiling by visible extent
(>= VISIBLE_MM or less) and by burial and coating bins (:func:`truth_bins`), so that what is lost to physics and
what is lost to the detector are told apart. The headline recall stays the issue's: every object >= 50 mm long.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage as ndi

from vision.objects import Sprite
from vision.scene import BeltScene, SceneObject

#: Visible extent (mm) an object needs to count as "visibly >= 50 mm" (the issue's target size).
VISIBLE_MM = 50.0
#: Burial bins (share of the footprint under ore) and coating bins (colour cast towards the ore + dust layer).
BURIED_BINS = ((0.0, 0.2), (0.2, 0.4), (0.4, 1.0))
COATING_BINS = ((0.0, 0.3), (0.3, 0.45), (0.45, 1.0))


def visible_extent_mm(sprite: Sprite, angle_deg: float, mm_per_px: float) -> float:
    """Length (mm) along the object's long axis (``angle_deg`` to the belt direction, as :func:`~vision.objects.render_sprite`)
    of the largest connected uncovered piece of ``sprite`` (alpha > 0.5); 0 when nothing shows."""
    labels, n = ndi.label(sprite.alpha > 0.5)
    if n == 0:
        return 0.0
    sizes = np.bincount(labels.ravel())[1:]
    rows, cols = np.nonzero(labels == int(np.argmax(sizes)) + 1)
    a = np.deg2rad(angle_deg)
    u = np.cos(a) * rows + np.sin(a) * cols
    return float((u.max() - u.min() + 1.0) * mm_per_px)


def coating(scene: BeltScene, obj: SceneObject) -> float:
    """How much ore coats ``obj`` on ``scene``: its colour cast plus dust layer (0 on rule-drawn scenes)."""
    cast, dust = scene.coating(obj)
    return cast + dust


def truth_bins(scene: BeltScene, objects: Sequence[SceneObject]) -> dict[str, np.ndarray]:
    """Per object of ``objects`` (rendered by ``scene``): ``visible_mm`` (:func:`visible_extent_mm`), ``buried``
    (share under ore), ``coating`` (:func:`coating`) and ``wet`` (bool)."""
    vis = [visible_extent_mm(scene.sprite(o), o.angle_deg, scene.mm_per_px) for o in objects]
    return {"visible_mm": np.asarray(vis, float), "buried": np.array([o.buried for o in objects], float),
            "coating": np.array([coating(scene, o) for o in objects], float), "wet": np.array([o.wet for o in objects], bool)}


def bin_label(name: str, lo: float, hi: float) -> str:
    return f"{name} {lo:g}-{hi:g}" if hi < 1.0 else f"{name} >= {lo:g}"


def visibility_table(found_at_decision: np.ndarray, candidate: np.ndarray, bins: dict[str, np.ndarray]) -> list[dict]:
    """Rows (group, objects, found at the decision, with a candidate) for objects visibly >= VISIBLE_MM and less,
    per burial bin, per coating bin, and wet/dry; the arrays are per object (bool)."""
    groups: list[tuple[str, np.ndarray]] = [(f"visible >= {VISIBLE_MM:g} mm", bins["visible_mm"] >= VISIBLE_MM),
                                            (f"visible < {VISIBLE_MM:g} mm", bins["visible_mm"] < VISIBLE_MM)]
    groups += [(bin_label("buried", lo, hi), (bins["buried"] >= lo) & (bins["buried"] < hi)) for lo, hi in BURIED_BINS]
    groups += [(bin_label("coating", lo, hi), (bins["coating"] >= lo) & (bins["coating"] < hi)) for lo, hi in COATING_BINS]
    groups += [("wet", bins["wet"]), ("visible >= 50 mm and buried < 0.4", (bins["visible_mm"] >= VISIBLE_MM) & (bins["buried"] < 0.4))]
    return [{"group": g, "objects": int(sel.sum()), "found": int(found_at_decision[sel].sum()), "ceiling": int(candidate[sel].sum())}
            for g, sel in groups if sel.any()]


__all__ = ["VISIBLE_MM", "coating", "truth_bins", "visibility_table", "visible_extent_mm"]
