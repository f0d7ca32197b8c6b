"""Labelled candidates with their image patches, stored once, for fitting and measuring the patch verifier.

:func:`fit_pool` runs the built-in fit's candidate pool (:func:`vision.fit.candidate_pool`: fit-split tiles and fit
seeds, every scene type of the fit, the decision-only object-free belt) once and keeps it in the model cache, so the
verifier can be refitted and compared without rendering again. :func:`heldout_candidates` does the same for
held-out tiles and fresh seeds: every candidate the detector finds (``report_all``) with its features, patch, load,
length and position, and the truth objects, so that any verifier can be scored at its own calibrated decision.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vision.cache_io import save_npz
from vision.evaluate import MATCH_MARGIN_MM
from vision.fit import FEATURES_FIT_VERSION, CandidatePool, VisionModel, candidate_pool, default_cache_dir, recipe_key
from vision.patchnet import PATCH_PX, patch_of
from vision.frontier import every_candidate

#: Objects at least this long (mm) count towards recall (the issue's target size).
TARGET_MM = 50.0
_POOL_LISTS = ("x", "y", "length_mm", "fold", "normal", "scene_type", "train", "load")


def pool_arrays(pool: CandidatePool) -> dict[str, np.ndarray]:
    """The pool as plain arrays (patches (n, 32, 32, 3) uint8; a candidate without one gets zeros)."""
    out: dict[str, np.ndarray] = {k: np.asarray(getattr(pool, k)) for k in _POOL_LISTS}
    out["x"] = np.asarray(pool.x, np.float64).reshape(len(pool.y), -1)
    out["patch"] = np.stack([p if p is not None else np.zeros((PATCH_PX, PATCH_PX, 3), np.uint8) for p in pool.patch]) \
        if pool.patch else np.zeros((0, PATCH_PX, PATCH_PX, 3), np.uint8)
    out["belt_m"] = np.array(json.dumps(pool.belt_m))
    out["belt_load"] = np.concatenate(pool.belt_load) if pool.belt_load else np.zeros(0)
    out["row_m"] = np.asarray(pool.row_m, np.float64)
    return out


def pool_from_arrays(a: dict[str, np.ndarray]) -> CandidatePool:
    """Inverse of :func:`pool_arrays`."""
    pool = CandidatePool()
    for k in _POOL_LISTS:
        setattr(pool, k, a[k].tolist() if k != "x" else list(np.asarray(a["x"])))
    pool.patch = list(np.asarray(a["patch"]))
    pool.belt_m = json.loads(str(a["belt_m"]))
    pool.belt_load = [np.asarray(a["belt_load"])] if len(a["belt_load"]) else []
    pool.row_m = float(a["row_m"])
    return pool


def fit_pool(mm_per_px: float = 4.0, width_px: int = 512, seed: int = 0, cache_dir: Path | None = None,
             **kw: float) -> tuple[VisionModel, CandidatePool]:
    """The built-in fit's model before its classifier and its candidate pool with patches, from the cache (keyed
    like :func:`vision.fit.cache_path`) or computed (as long as a built-in fit without its classifier) and stored.
    ``kw``: lengths (m) of :func:`vision.fit.candidate_pool` (``objects_m``, ``decision_m``, ...; default the built-in fit's)."""
    folder = (cache_dir or default_cache_dir()) / "patchnet"
    key = recipe_key(FEATURES_FIT_VERSION, mm_per_px, width_px, seed, **kw)  # the pool is FIT_VERSION 13's recipe
    model_path, pool_path = folder / f"pool-model-{mm_per_px:g}mm-{key}.npz", folder / f"pool-{mm_per_px:g}mm-{key}.npz"
    if model_path.exists() and pool_path.exists():
        with np.load(pool_path, allow_pickle=False) as z:
            return VisionModel.load(model_path), pool_from_arrays({k: z[k] for k in z.files})
    model, pool = candidate_pool(mm_per_px=mm_per_px, width_px=width_px, seed=seed, **kw)  # type: ignore[arg-type]
    save_npz(pool_path, pool_arrays(pool))
    model.save(model_path)
    return model, pool


@dataclass
class HeldoutCandidates:
    """Every candidate of a detector over held-out belt: features (n, F), patches (n, 32, 32, 3), loads, corrected
    lengths (mm), positions (n, 2: belt, lateral mm); the truth objects' positions (m, 2), lengths (mm) and kinds;
    the belt (m) seen."""

    x: np.ndarray
    patch: np.ndarray
    load: np.ndarray
    length_mm: np.ndarray
    pos_mm: np.ndarray
    object_pos_mm: np.ndarray
    object_length_mm: np.ndarray
    object_kind: np.ndarray
    belt_m: float
    meta: dict = field(default_factory=dict)

    def on_object(self) -> np.ndarray:
        """(n, m) bool: candidate i lies on truth object j (within half its length + MATCH_MARGIN_MM)."""
        if not len(self.object_kind) or not len(self.x):
            return np.zeros((len(self.x), len(self.object_kind)), bool)
        d = np.hypot(self.pos_mm[:, None, 0] - self.object_pos_mm[None, :, 0], self.pos_mm[:, None, 1] - self.object_pos_mm[None, :, 1])
        return d <= self.object_length_mm[None, :] / 2 + MATCH_MARGIN_MM

    def score(self, p_none: np.ndarray, none_max: float | np.ndarray, min_length_mm: float) -> dict:
        """Recall of objects >= TARGET_MM (overall, per kind, and which: ``found_mask`` over the truth objects) and false
        alarms when candidates with ``p_none`` at or below ``none_max`` (per candidate or one level) and a length >=
        ``min_length_mm`` are reported."""
        reported = (np.asarray(p_none) <= none_max) & (self.length_mm >= min_length_mm)
        on = self.on_object()
        found = (on & reported[:, None]).any(axis=0)
        big = self.object_length_mm >= TARGET_MM
        kinds = {}
        for k in sorted(set(self.object_kind[big].tolist())):
            sel = big & (self.object_kind == k)
            kinds[k] = (int((found & sel).sum()), int(sel.sum()))
        return {"objects": int(big.sum()), "found": int((found & big).sum()), "found_mask": found & big,
                "false_alarms": int((reported & ~on.any(axis=1)).sum()), "belt_m": self.belt_m, "kinds": kinds}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "patch": self.patch, "load": self.load, "length_mm": self.length_mm, "pos_mm": self.pos_mm,
                "object_pos_mm": self.object_pos_mm, "object_length_mm": self.object_length_mm,
                "object_kind": self.object_kind.astype(str), "belt_m": np.asarray(self.belt_m, np.float64), "meta": np.array(json.dumps(self.meta))}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> "HeldoutCandidates":
        return cls(a["x"], a["patch"], a["load"], a["length_mm"], a["pos_mm"], a["object_pos_mm"], a["object_length_mm"],
                   a["object_kind"].astype(str), float(a["belt_m"]), json.loads(str(a["meta"])))


def heldout_candidates(model: VisionModel, *, length_m: float, seed: int, objects_per_m: float, scene: dict | None = None,
                       objects: dict | None = None, cache_dir: Path | None = None) -> HeldoutCandidates:
    """Every candidate ``model``'s detector finds over ``length_m`` of held-out belt (scene options ``scene``, random
    objects with ``objects`` options at ``objects_per_m``, by ``seed``), cached by the model's normal-ore part,
    detector parameters and the arguments (the classifier does not change which candidates are found)."""
    meta = {"length_m": length_m, "seed": seed, "objects_per_m": objects_per_m, "scene": scene or {}, "objects": objects or {}}
    digest = hashlib.sha256(model.ore.nll_table_.tobytes() + repr(sorted(vars(model.params).items())).encode()
                            + json.dumps(meta, sort_keys=True, default=str).encode()).hexdigest()[:12]
    path = (cache_dir or default_cache_dir()) / "patchnet" / f"heldout-{model.mm_per_px:g}mm-{digest}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            return HeldoutCandidates.from_arrays({k: z[k] for k in z.files})
    out = _collect(model, length_m, seed, objects_per_m, scene, objects, meta)
    save_npz(path, out.to_arrays())
    return out


def _collect(model: VisionModel, length_m: float, seed: int, objects_per_m: float, scene: dict | None, objects: dict | None,
             meta: dict) -> HeldoutCandidates:
    found, truth, cam = every_candidate(model, "heldout", length_m=length_m, seed=seed, objects_per_m=objects_per_m,
                                           scene=scene, objects=objects)
    n_feat = len(model.classifier.mean_) if model.classifier is not None else 0
    return HeldoutCandidates(
        np.array([d.features for d in found], np.float64).reshape(len(found), -1) if found else np.zeros((0, n_feat)),
        np.stack([patch_of(d.thumbnail) for d in found]) if found else np.zeros((0, PATCH_PX, PATCH_PX, 3), np.uint8),
        np.array([d.load for d in found], float), np.array([d.length_mm for d in found], float),
        np.array([[d.belt_m * 1000.0, d.lateral_m * 1000.0] for d in found], float).reshape(-1, 2),
        np.array([[o.belt_mm, o.lateral_mm] for o in truth], float).reshape(-1, 2), np.array([o.length_mm for o in truth], float),
        np.array([o.kind for o in truth], str), float(cam.position_m), meta)


__all__ = ["HeldoutCandidates", "fit_pool", "heldout_candidates", "pool_arrays", "pool_from_arrays"]
