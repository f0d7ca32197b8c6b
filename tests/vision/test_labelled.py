"""Real labelled photos in: `oreline vision evaluate --labelled DIR` on a small labelled set made here from the shared
ore-on-belt images with pasted objects (textures from real photographs) at known boxes, in COCO and YOLO form; bad
labels give clear errors naming the file. Runs the installed `.venv/bin/oreline` in a subprocess."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.cli import cli_evaluate
from vision.fit import VisionModel
from vision.labels import LabelError, read_labelled
from vision.realism import illumination_checks
from vision.scene import BeltScene, SceneObject
from vision.scenes import camera_scene_options
from vision.tiles import load_tiles
from tests.vision.conftest import MM_PER_PX

ORELINE = Path(sys.executable).parent / "oreline"
W_PX, H_PX = 600, 700
KINDS = ("wood", "plastic", "rubber", "metal", "cloth", "concrete")
#: zlib level of the photos' PNG files: lossless at any level (the same pixels), 1 writes them five times faster than
#: PIL's default 6 (a 2,600 x 1,200 photo: 0.24 against 1.18 CPU s) for 9 % more bytes
PNG_COMPRESS_LEVEL = 1


def _boxes(scene, objs, r0, w_px=W_PX, h_px=H_PX):
    mm = scene.mm_per_px
    out = []
    for o in objs:
        a = math.radians(o.angle_deg)
        half_rows = (abs(o.length_mm * math.cos(a)) + abs(o.width_mm * math.sin(a))) / 2 / mm
        half_cols = (abs(o.length_mm * math.sin(a)) + abs(o.width_mm * math.cos(a))) / 2 / mm
        cy, cx = o.belt_mm / mm - r0, scene.col_of_lateral(o.lateral_mm)
        out.append((o.kind, max(0.0, cx - half_cols), max(0.0, cy - half_rows), min(w_px, cx + half_cols), min(h_px, cy + half_rows)))
    return out


def make_labelled_set(folder: Path, n_images: int = 6, seed: int = 3, *, mm_per_px: float = MM_PER_PX, w_px: int = W_PX,
                      h_px: int = H_PX, belt_width_m: float = 1.8, lateral_mm: tuple[float, float] = (-300.0, 300.0),
                      name: str = "photo_{:02d}.png", max_objects: int = 3) -> list[tuple[str, list]]:
    """Photos of held-out ore (``w_px`` x ``h_px`` at ``mm_per_px``) with 0-``max_objects`` pasted objects each
    (150-350 mm, spread along the photo, ``lateral_mm`` from the belt centre), and their boxes (kind, x0, y0, x1, y1)
    in photo px."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = BeltScene(load_tiles("heldout"), width_px=w_px, mm_per_px=mm_per_px, seed=seed, belt_width_m=belt_width_m)
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n_images):
        r0 = i * (h_px + round(400 / mm_per_px))  # photos 400 mm apart along the belt, at any scale
        objs = []
        n_obj = i % (max_objects + 1)
        for j in range(n_obj):  # 0..3 objects, well apart
            length = float(rng.uniform(150, 350))
            row = r0 + (j + 0.5) * h_px / max(n_obj, 1)
            objs.append(SceneObject(KINDS[(i + j) % len(KINDS)], length, float(rng.uniform(60, 0.6 * length)), row * mm_per_px,
                                    float(rng.uniform(*lateral_mm)), float(rng.uniform(0, 180)), seed=i * 10 + j))
        image = scene.render(r0, h_px, objs)
        Image.fromarray(image).save(folder / name.format(i), compress_level=PNG_COMPRESS_LEVEL)
        items.append((name.format(i), _boxes(scene, objs, r0, w_px, h_px)))
    return items


def write_coco(folder: Path, items) -> Path:
    cats = [{"id": k + 1, "name": kind} for k, kind in enumerate(KINDS)]
    images, anns = [], []
    for i, (name, boxes) in enumerate(items):
        images.append({"id": i, "file_name": name, "width": W_PX, "height": H_PX})
        for kind, x0, y0, x1, y1 in boxes:
            anns.append({"id": len(anns), "image_id": i, "category_id": KINDS.index(kind) + 1, "bbox": [x0, y0, x1 - x0, y1 - y0]})
    path = folder / "_annotations.coco.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


def yolo_lines(boxes, names=KINDS, w_px: int = W_PX, h_px: int = H_PX) -> str:
    """YOLO label lines (``class cx cy w h``, normalised) of boxes (name, x0, y0, x1, y1) in a ``w_px`` x ``h_px`` photo."""
    return "".join(f"{names.index(k)} {(x0 + x1) / 2 / w_px:.6f} {(y0 + y1) / 2 / h_px:.6f} {(x1 - x0) / w_px:.6f} {(y1 - y0) / h_px:.6f}\n"
                   for k, x0, y0, x1, y1 in boxes)


def write_yolo(folder: Path, items, w_px: int = W_PX, h_px: int = H_PX) -> None:
    """A flat YOLO set: classes.txt and a label file beside every photo."""
    (folder / "classes.txt").write_text("\n".join(KINDS) + "\n")
    for name, boxes in items:
        (folder / name).with_suffix(".txt").write_text(yolo_lines(boxes, KINDS, w_px, h_px))


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = tmp_path_factory.mktemp("labelled")
    coco, yolo = root / "coco", root / "yolo"
    items = make_labelled_set(coco)
    write_coco(coco, items)
    make_labelled_set(yolo)
    write_yolo(yolo, items)
    return coco, yolo, items


def test_coco_and_yolo_read_the_same_boxes(labelled):
    coco, yolo, items = labelled
    a, b = read_labelled(coco).items, read_labelled(yolo).items
    assert [x.path.name for x in a] == [x.path.name for x in b] == [n for n, _ in items]
    for x, y in zip(a, b):
        assert [bx.kind for bx in x.boxes] == [by.kind for by in y.boxes]
        assert np.allclose([[bx.x0, bx.y0, bx.x1, bx.y1] for bx in x.boxes], [[by.x0, by.y0, by.x1, by.y1] for by in y.boxes], atol=0.01)


def _oreline(*args):
    return subprocess.run([str(ORELINE), "vision", "evaluate", *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("form", ["coco", "yolo"])
def test_cli_evaluate_labelled_scores_real_photos(labelled, model_file, tmp_path, form):
    folder = labelled[0] if form == "coco" else labelled[1]
    args = (["--labelled", folder, "--model", model_file, "--mm-per-px", MM_PER_PX] if form == "coco"
            else [f"--labelled={folder}", f"--model={model_file}", f"--mm-per-px={MM_PER_PX}"])
    p = _oreline(*args, "--out", tmp_path / "out")
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "recall per kind" in p.stdout and "per image" in p.stdout and "95 % upper bound" in p.stdout
    assert "the photos against rendered realistic belt" in p.stdout and "lighting spread (CV of median grey)" in p.stdout
    table = json.loads((tmp_path / "out" / "labelled.json").read_text())
    n_obj = sum(len(b) for _, b in labelled[2])
    assert table["images"] == 6 and table["recall"]["all:all"]["objects"] == n_obj
    assert table["recall"]["all:all"]["recall"] >= 0.6
    assert table["false_alarms_per_image"] <= 1.0


def test_cli_evaluate_labelled_needs_the_photos_scale(labelled, model_file, tmp_path):
    for scale in ([], ["--mm-per-px=0"], ["--mm-per-px", "-2"]):
        p = _oreline("--labelled", labelled[0], "--model", model_file, *scale, "--out", tmp_path / "o")
        assert p.returncode == 2 and "--mm-per-px S > 0" in p.stdout and not (tmp_path / "o").exists(), p.stdout + p.stderr


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def _reasons(folder: Path) -> dict[str, str]:
    return {n.path.name: n.reason for n in read_labelled(folder).not_scored}


def test_bad_labels_refuse_the_set_or_leave_the_photo_out_naming_the_file(labelled, tmp_path):
    coco, yolo, _ = labelled
    bad = _copy(coco, tmp_path / "malformed")
    (bad / "_annotations.coco.json").write_text('{"images": [')
    with pytest.raises(LabelError, match="_annotations.coco.json"):
        read_labelled(bad)
    doc = json.loads((coco / "_annotations.coco.json").read_text())
    outside = _copy(coco, tmp_path / "outside")
    doc["annotations"][0]["bbox"] = [W_PX - 10, 5, 80, 40]
    (outside / "_annotations.coco.json").write_text(json.dumps(doc))
    photo = doc["images"][doc["annotations"][0]["image_id"]]["file_name"]
    assert re.search(r"_annotations.coco.json: annotation 0: box .* outside the 600x700 image", _reasons(outside)[photo])
    assert len(read_labelled(outside).items) == 5
    unknown = _copy(coco, tmp_path / "unknown")
    doc = json.loads((coco / "_annotations.coco.json").read_text())
    used = doc["annotations"][0]["category_id"]  # an unknown category that labels a box (unused ones are ignored)
    next(c for c in doc["categories"] if c["id"] == used)["name"] = "banana"
    (unknown / "_annotations.coco.json").write_text(json.dumps(doc))
    with pytest.raises(LabelError, match=r"_annotations.coco.json: category names 'banana' map to no object kind; .*--kinds-map"):
        read_labelled(unknown)
    ybad = _copy(yolo, tmp_path / "ybad")
    (ybad / "photo_01.txt").write_text("9 0.5 0.5 0.1 0.1\n")
    assert _reasons(ybad) == {"photo_01.png": "photo_01.txt line 1: unknown class 9; classes.txt names 6 classes"}
    (ybad / "photo_01.txt").write_text("0 1.2 0.5 0.3 0.1\n")
    assert re.fullmatch(r"photo_01.txt line 1: box .* lies outside the 600x700 image", _reasons(ybad)["photo_01.png"])
    (ybad / "photo_01.txt").write_text("0 0.5 0.5\n")
    assert _reasons(ybad)["photo_01.png"].startswith("photo_01.txt line 1: expected 'class cx cy w h'")


def test_cli_bad_labels_exit_2_naming_the_file(labelled, model_file, tmp_path):
    bad = _copy(labelled[0], tmp_path / "bad")
    (bad / "_annotations.coco.json").write_text("not json")
    p = _oreline(f"--labelled={bad}", "--model", model_file, "--mm-per-px", MM_PER_PX, "--out", tmp_path / "o")
    assert p.returncode == 2 and "_annotations.coco.json" in p.stdout, p.stdout + p.stderr


@pytest.mark.slow
def test_cli_evaluate_prints_recall_per_kind_and_size_false_alarm_bound_and_appearance(model_file, tmp_path):
    # one scene type given in the '=' form (--scenes=dark-rubber --fa-m=5): the other form and several scene types are
    # test_cli_evaluate_scene_types_report_each_with_realism_checks (this run's scene checks were its '=' twin, a whole
    # evaluate of its own with the same realism checks); 6 m of belt at 1 object per metre (was 20 m, as the other's 6 m
    # per type): dark rubber's objects all rubber, several sizes and a frame's appearance measure, as on 20 m
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--model", str(model_file), f"--mm-per-px={MM_PER_PX}", "--width-px", "1024",
                        "--length-m=6", "--objects-per-m", "1.0", "--scenes=dark-rubber", "--fa-m=5", "--realism-m", "10",
                        f"--out={tmp_path / 'ev'}"],
                       capture_output=True, text=True, timeout=900)
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    _assert_scene_types_reported(tmp_path / "ev", out, ["dark-rubber"])
    summary = json.loads((tmp_path / "ev" / "scenes.json").read_text())
    assert {k for k in summary[0]["table"]["recall"] if k.startswith("kind:")} == {"kind:rubber"}  # dark rubber only has rubber
    assert "recall per kind and size" in out and "kind:" in out and "size:50-100 mm" in out or "size:100-300 mm" in out
    assert "95 % upper bound" in out and "per 1,000 m" in out
    assert "Appearance:" in out and "limit" in out
    table = json.loads((tmp_path / "ev" / "report.json").read_text())
    assert table["appearance"]["frames_unusual"] == 0 and table["appearance"]["limit"] > 0
    # the report folder (these were test_aravis_cli.py's test_cli_evaluate_writes_report, which evaluated 12 m more)
    md = (tmp_path / "ev" / "report.md").read_text()
    assert "kind:" in md and "CC BY 4.0" in md and "per 1,000 m" in md
    assert (tmp_path / "ev" / "gallery.png").stat().st_size > 1000
    assert cli_evaluate(["--out", str(tmp_path / "ev"), "--model", str(tmp_path / "missing.npz")]) == 2


def test_cli_fit_labelled_bad_labels_exit_2_before_fitting(labelled, tmp_path):
    bad = _copy(labelled[1], tmp_path / "ybad")
    (bad / "classes.txt").write_text("wood\nbanana\n")
    p = subprocess.run([str(ORELINE), "vision", "fit", "--out", str(tmp_path / "m.npz"), f"--labelled={bad}", "--mm-per-px", "2"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "classes.txt" in p.stdout and "banana" in p.stdout, p.stdout + p.stderr
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.slow
def test_cli_fit_labelled_adds_site_photos_to_the_classifier(labelled, tmp_path):
    coco, yolo, items = labelled
    out = tmp_path / "site.npz"
    p = subprocess.run([str(ORELINE), "vision", "fit", "--out", str(out), "--labelled", str(coco), f"--mm-per-px={MM_PER_PX}",
                        "--width-px=1024", "--normal-m", "10", "--calibration-m=10", "--objects-m", "20", "--scenes", "today",
                        "--decision-m=10"],
                       capture_output=True, text=True, timeout=900, env=None)  # the site fit's small belts: recall 7/7 as on 20/20/30 m
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    added = p.stdout.split("training:")[1].splitlines()[0]
    kinds = {k for _, boxes in items for k, *_ in boxes}
    assert "none" in added and sum(k in added for k in kinds) >= len(kinds) - 1, added
    assert "fitted on None" not in p.stdout and "fit version None" not in p.stdout, p.stdout  # its provenance is printed
    on = VisionModel.load(out).fitted_on
    assert on["labelled"]["photos"] == len(items) and on["labelled"]["candidates_added"]["none"] > 0, on
    p = _oreline("--labelled", yolo, "--model", out, "--mm-per-px", MM_PER_PX, "--out", tmp_path / "ev")
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    table = json.loads((tmp_path / "ev" / "labelled.json").read_text())
    assert table["recall"]["all:all"]["recall"] >= 0.6


def _assert_scene_types_reported(ev: Path, out: str, names: list[str]) -> list[dict]:
    """Each of ``names`` reported (its recall line, its report folder: OUT/<scene> with several, OUT with one), with
    the renderer's realism checks and the object-free belt; scenes.json's summaries (in order) returned."""
    for name in names:
        assert f"== scene {name}: recall >= 50 mm" in out
        folder = ev / name if len(names) > 1 else ev
        assert (folder / "gallery.png").stat().st_size > 1000 and "kind:" in (folder / "report.md").read_text()
    assert "shadow: grey in shadow / grey around" in out and "real spread" in out and "object-free belt" in out
    assert "saturated ore patches 50-200 mm per m^2 of ore" in out  # the mosaic against whole photos (vision.realism)
    summary = json.loads((ev / "scenes.json").read_text())
    assert [s["scene"] for s in summary] == names and all(s["object_free"]["belt_m"] >= 5 for s in summary)
    return summary


@pytest.mark.slow
def test_cli_evaluate_scene_types_report_each_with_realism_checks(model_file, tmp_path):
    # the options' '=' form: test_cli_evaluate_prints_recall_per_kind_and_size_false_alarm_bound_and_appearance
    names = "today,wet-wood"
    # seed 0: today's realism checks are vision.realism.all_checks() itself (checked against the real images below)
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--model", str(model_file), f"--mm-per-px={MM_PER_PX}", "--width-px=1024",
                        "--length-m=6", "--objects-per-m=1.0", "--scenes", names, "--fa-m", "5", "--seed", "0",
                        "--realism-m=10", f"--out={tmp_path / 'ev'}"], capture_output=True, text=True, timeout=900)
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    summary = _assert_scene_types_reported(tmp_path / "ev", p.stdout, names.split(","))
    # each scene's probabilities and lengths against its truth, printed, in scenes.md and in its report
    assert p.stdout.count("probability against the truth") == 2 and p.stdout.count("length against the truth") == 2
    for name, res in zip(names.split(","), summary):
        bins = res["table"]["reliability"]["bins"]
        assert sum(b["detections"] for b in bins) >= 1, name  # 6 m of belt with objects: something is reported
        assert "| reported probability | detections |" in (tmp_path / "ev" / name / "report.md").read_text()
    assert (tmp_path / "ev" / "scenes.md").read_text().count("length against the truth") == 2
    # no --camera: the evaluation's camera (vision.scenes.EVALUATION_CAMERA; it changes wet-wood's belt, not today's)
    assert [r["camera"] for r in summary] == ["calibrated", "calibrated"] and "camera calibrated" in p.stdout
    # --realism-m=10: the checks on 10 m of belt (the illumination check's own, rendered again here, is the same)
    wet = {c["name"]: c for c in summary[1]["realism"]}["illumination: spread of median grey along the belt (CV)"]
    assert wet["rendered"] == illumination_checks(0, 10.0, camera_scene_options("wet-wood", "calibrated")[0])[0].rendered
    # the renderer's checks against the real images (today's renderer settings; were test_real_scenes.py's)
    checks = {c["name"]: c for c in summary[0]["realism"]}
    assert all(np.isfinite(c["rendered"]) and np.isfinite(c["real"]) for c in checks.values())
    surface = [c for n, c in checks.items() if "surface" in n]
    assert len(surface) == 8 and all(abs(c["error"]) < 0.1 for c in surface), [(c["name"], c["error"]) for c in surface]
    assert 0.3 < checks["shadow: grey in shadow / grey around"]["real"] < 0.9


def test_cli_evaluate_unknown_scene_type_is_a_usage_error(model_file, tmp_path):
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--model", str(model_file), "--scenes=fog", f"--out={tmp_path / 'ev'}"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "today|realistic|dark-rubber|wet-wood|all" in p.stderr and "'fog'" in p.stderr
    assert not (tmp_path / "ev").exists()


def test_cli_fit_unknown_scene_type_is_a_usage_error_before_fitting(tmp_path):
    p = subprocess.run([str(ORELINE), "vision", "fit", "--out", str(tmp_path / "m.npz"), "--scenes=fog"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "--scenes mix|today" in p.stderr and "'fog'" in p.stderr
    assert not (tmp_path / "m.npz").exists()
