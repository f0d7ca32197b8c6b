"""Labelled-photo scoring speed: 1920 x 1080 JPEG photos declared at 1 mm/px, scored with the shipped 4 mm/px model
(decode, EXIF, area-averaged resampling to 480 x 270, detection, matching) on one core.

Target: a set of 1,000 such photos scores in under 10 minutes on one core, i.e. >= 1.67 photos/s (3.5 Mpx/s of
photo) once the command has started; the command's fixed cost (start, model, the rendered-belt statistics) is
measured apart by running the installed ``oreline vision evaluate --labelled`` on the same set.

Run: ``.venv/bin/python -m benchmarks.bench_labelled [--photos 60] [--quick]``. Photos: held-out CDM ore with pasted objects
(:data:`vision.tiles.ATTRIBUTION`, CC BY 4.0), rendered once into a temporary folder as a Roboflow YOLO export.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import row
from vision.cli import LABELLED_MODEL_MM_PER_PX, LABELLED_MODEL_WIDTH_PX
from vision.model_cache import cached_model
from vision.labels import evaluate_labelled
from vision.labels_photo import read_photo
from vision.labels_read import read_labelled
from vision.scene import BeltScene, SceneObject
from vision.tiles import load_tiles

PHOTO_W, PHOTO_H, PHOTO_MM = 1920, 1080, 1.0
SET_PHOTOS, SET_LIMIT_S = 1000, 600.0
TARGET_PHOTOS_S = SET_PHOTOS / SET_LIMIT_S
KINDS = ("wood", "plastic", "rubber", "metal", "cloth", "concrete")


def write_set(folder: Path, n: int, seed: int = 17) -> int:
    """``n`` photos (JPEG, quality 90) of held-out ore with 0-3 objects of 100-400 mm each, as a Roboflow YOLO export
    (data.yaml, valid/images, valid/labels). Returns the number of objects."""
    scene = BeltScene(load_tiles("heldout"), width_px=PHOTO_W, mm_per_px=PHOTO_MM, seed=seed)
    rng = np.random.default_rng(seed)
    (folder / "valid" / "images").mkdir(parents=True)
    (folder / "valid" / "labels").mkdir(parents=True)
    (folder / "data.yaml").write_text(f"nc: {len(KINDS)}\nnames: {list(KINDS)}\n")
    n_obj = 0
    for i in range(n):
        r0 = i * (PHOTO_H + 400)
        objs = [SceneObject(KINDS[int(rng.integers(len(KINDS)))], float(length), float(length * rng.uniform(0.2, 0.6)),
                            (r0 + (j + 0.5) * PHOTO_H / 3) * PHOTO_MM, float(rng.uniform(-700, 700)), float(rng.uniform(0, 180)),
                            seed=i * 10 + j)
                for j, length in enumerate(rng.uniform(100, 400, i % 4))]
        Image.fromarray(scene.render(r0, PHOTO_H, objs)).save(folder / "valid" / "images" / f"p{i:04d}.jpg", quality=90)
        lines = []
        for o in objs:
            half = o.length_mm / 2 / PHOTO_MM  # the box of the object's circle: enough for a speed benchmark
            cx, cy = scene.col_of_lateral(o.lateral_mm), o.belt_mm / PHOTO_MM - r0
            x0, x1 = max(0.0, cx - half), min(float(PHOTO_W), cx + half)  # clipped to the photo, as labelling tools do
            y0, y1 = max(0.0, cy - half), min(float(PHOTO_H), cy + half)
            lines.append(f"{KINDS.index(o.kind)} {(x0 + x1) / 2 / PHOTO_W:.6f} {(y0 + y1) / 2 / PHOTO_H:.6f} {(x1 - x0) / PHOTO_W:.6f} "
                         f"{(y1 - y0) / PHOTO_H:.6f}")
        (folder / "valid" / "labels" / f"p{i:04d}.txt").write_text("\n".join(lines) + "\n")
        n_obj += len(objs)
    return n_obj


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def measure(folder: Path) -> list[dict]:
    model = cached_model(mm_per_px=LABELLED_MODEL_MM_PER_PX, width_px=LABELLED_MODEL_WIDTH_PX)  # the command's default
    lset = read_labelled(folder)
    n = len(lset.items)
    t0 = time.process_time()
    for item in lset.items:
        read_photo(item.path)
    decode_s = (time.process_time() - t0) / n
    w0, c0 = time.perf_counter(), time.process_time()
    table, _ = evaluate_labelled(model, lset, PHOTO_MM)
    cpu_s, wall_s = (time.process_time() - c0) / n, (time.perf_counter() - w0) / n
    print(f"{n} photos {PHOTO_W}x{PHOTO_H} at {PHOTO_MM:g} mm/px, model {model.version} ({model.mm_per_px:g} mm/px, {model.width_px} px): "
          f"CPU {1000 * cpu_s:.0f} ms per photo (decode {1000 * decode_s:.0f} ms), wall {1000 * wall_s:.0f} ms; recall "
          f"{table['recall']['all:all']['recall']:.3f} ({table['recall']['all:all']['detected']}/{table['recall']['all:all']['objects']}), "
          f"false alarms {table['false_alarms']}, {len(table['not_scored'])} not scored, load average {os.getloadavg()[0]:.1f}", flush=True)
    mpx = PHOTO_W * PHOTO_H / 1e6
    return [row("photos per CPU second (one core)", 1.0 / cpu_s, "photos/s", round(TARGET_PHOTOS_S, 2)),
            row("photo Mpx per CPU second (one core)", mpx / cpu_s, "Mpx/s", round(TARGET_PHOTOS_S * mpx, 2))]


def command_overhead(folder: Path, n: int, cpu_per_photo_s: float) -> list[dict]:
    """CPU seconds of the installed command on the set, less n photos at ``cpu_per_photo_s``: its fixed cost; and
    the projected CPU time of a 1,000-photo set."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([str(Path(sys.executable).parent / "oreline"), "vision", "evaluate", "--labelled", str(folder),
                            "--mm-per-px", f"{PHOTO_MM:g}", "--out", out], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"oreline vision evaluate failed ({p.returncode}): {p.stdout}{p.stderr}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    fixed = max(0.0, cpu - n * cpu_per_photo_s)
    print(f"oreline vision evaluate --labelled on {n} photos: {cpu:.1f} CPU s, of which fixed (start, model, rendered-belt "
          f"statistics) {fixed:.1f} s", flush=True)
    return [row(f"projected CPU time of {SET_PHOTOS:,} photos (command included)", fixed + SET_PHOTOS * cpu_per_photo_s, "s",
                SET_LIMIT_S, higher_is_better=False)]


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_labelled", description=__doc__)
    ap.add_argument("--photos", type=int, default=60, help="photos in the set (default 60)")
    ap.add_argument("--quick", action="store_true", help="6 photos: check that the benchmark runs (figures not comparable)")
    a = ap.parse_args(argv)
    if a.quick:
        a.photos = min(a.photos, 6)
    _pin_one_core()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "set"
        n_obj = write_set(folder, a.photos)
        print(f"set: {a.photos} photos, {n_obj} objects (Roboflow YOLO layout) in {folder}", flush=True)
        rows = measure(folder)
        rows += command_overhead(folder, a.photos, 1.0 / rows[0]["value"])
    return rows


if __name__ == "__main__":
    main()
