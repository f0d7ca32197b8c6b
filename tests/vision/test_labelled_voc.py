"""Labelled sets of one annotation file per photo: Pascal VOC XML (VOCdevkit's Annotations / JPEGImages / ImageSets,
or flat beside the photos, as LabelImg writes it) and LabelMe JSON (rectangles, polygons, circles), each read to the
same boxes as the same set written as COCO; the sets they refuse (naming the file) and the photos they leave out.
The photos are held-out ore with pasted objects (tests/vision/test_labelled.py) at 2 mm/px; one test runs the
installed ``.venv/bin/oreline`` on a VOC set and its COCO twin."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.vision.test_labelled import ORELINE, make_labelled_set, write_coco
from tests.vision.test_labelled_layouts import FIELD_NAMES, SPLIT_OF
from vision.labels_read import LabelError, read_labelled

W, H = 600, 700


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Six photos and their boxes (kind, x0, y0, x1, y1) in whole pixels, as VOC writes them."""
    folder = tmp_path_factory.mktemp("photos")
    items = make_labelled_set(folder, n_images=6, seed=5)
    return folder, [(n, [(k, *(round(v) for v in xy)) for k, *xy in boxes]) for n, boxes in items]


def voc_xml(filename: str, boxes, *, path: str = "", size: bool = True) -> str:
    """A LabelImg / CVAT Pascal VOC annotation: 1-based inclusive pixel indices, field names."""
    objs = "".join(f"<object><name>{FIELD_NAMES[k]}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
                   f"<bndbox><xmin>{x0 + 1}</xmin><ymin>{y0 + 1}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>\n"
                   for k, x0, y0, x1, y1 in boxes)
    head = f"<folder>JPEGImages</folder><filename>{filename}</filename>" + (f"<path>{path}</path>" if path else "")
    dims = f"<size><width>{W}</width><height>{H}</height><depth>3</depth></size>" if size else ""
    return f"<annotation>\n{head}<source><database>Unknown</database></source>{dims}<segmented>0</segmented>\n{objs}</annotation>\n"


def voc_devkit(photos, dst: Path) -> Path:
    """VOCdevkit layout: Annotations/, JPEGImages/, ImageSets/Main/{train,val,test}.txt; LabelImg's Windows ``path``."""
    src, items = photos
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (dst / sub).mkdir(parents=True)
    for (name, boxes), split in zip(items, SPLIT_OF):
        shutil.copy(src / name, dst / "JPEGImages" / name)
        (dst / "Annotations" / name).with_suffix(".xml").write_text(voc_xml(name, boxes, path=f"C:\\Users\\lab\\belt\\{name}"))
        with open(dst / "ImageSets" / "Main" / f"{'val' if split == 'valid' else split}.txt", "a") as f:
            f.write(Path(name).stem + "\n")
    return dst


def voc_flat(photos, dst: Path) -> Path:
    """xml beside each photo; half the files name the photo without its suffix, one has no <size>."""
    src, items = photos
    dst.mkdir()
    for k, (name, boxes) in enumerate(items):
        shutil.copy(src / name, dst / name)
        (dst / name).with_suffix(".xml").write_text(voc_xml(Path(name).stem if k % 2 else name, boxes, size=k != 3))
    return dst


def labelme(photos, dst: Path, json_name=lambda name: Path(name).stem + ".json") -> Path:
    """LabelMe: photos in images/, a json each in json/ (imagePath as Windows writes it), objects drawn as
    rectangles (corners in any order) and polygons (a diamond touching the box's sides)."""
    src, items = photos
    (dst / "images").mkdir(parents=True)
    (dst / "json").mkdir()
    for name, boxes in items:
        shutil.copy(src / name, dst / "images" / name)
        shapes = []
        for j, (k, x0, y0, x1, y1) in enumerate(boxes):
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            pts, kind = ([[x1, y1], [x0, y0]], "rectangle") if j % 2 == 0 else ([[x0, cy], [cx, y0], [x1, cy], [cx, y1], [cx, cy]], "polygon")
            shapes.append({"label": FIELD_NAMES[k], "points": pts, "group_id": None, "shape_type": kind, "flags": {}})
        doc = {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": f"..\\images\\{name}", "imageData": "iVBORw0KGgo=",
               "imageHeight": H, "imageWidth": W}
        (dst / "json" / json_name(name)).write_text(json.dumps(doc))
    return dst


def coco_twin(photos, dst: Path) -> Path:
    """The same photos and boxes as a COCO export, with the same field names."""
    src, items = photos
    dst.mkdir()
    for name, _ in items:
        shutil.copy(src / name, dst / name)
    path = write_coco(dst, items)
    doc = json.loads(path.read_text())
    for c in doc["categories"]:
        c["name"] = FIELD_NAMES[c["name"]]
    path.write_text(json.dumps(doc))
    return dst


def _boxes(lset):
    return {i.path.name: (i.width_px, i.height_px, [(b.kind, b.x0, b.y0, b.x1, b.y1) for b in i.boxes]) for i in lset.items}


@pytest.mark.parametrize("build,layout", [(voc_devkit, "VOC"), (voc_flat, "VOC"), (labelme, "LabelMe")])
def test_voc_and_labelme_read_the_boxes_of_their_coco_twin(photos, tmp_path, build, layout):
    lset = read_labelled(build(photos, tmp_path / "set"))
    coco = read_labelled(coco_twin(photos, tmp_path / "coco"))
    assert lset.layout == layout and lset.not_scored == [] and len(lset.items) == 6
    assert _boxes(lset) == _boxes(coco)  # VOC's 1-based xmin - 1: the same 0-based boxes, to the bit
    assert lset.names == {FIELD_NAMES[k]: k for _, b in photos[1] for k, *_ in b}
    if build is voc_devkit:  # splits from ImageSets/Main
        assert lset.splits == ("train", "valid", "test")
        assert [i.split for i in sorted(lset.items, key=lambda i: i.path.name)] == list(SPLIT_OF)
        assert sorted(i.path.name for i in read_labelled(tmp_path / "set", split="valid").items) == ["photo_02.png", "photo_03.png"]
    else:
        assert lset.splits == ()


def test_labelme_and_coco_are_told_apart_by_content_not_name(photos, tmp_path):
    lm = labelme(photos, tmp_path / "lm", json_name=lambda name: "_annotations.coco.json" if name == "photo_01.png" else
                 f"instances_val_{Path(name).stem}.json")
    lset = read_labelled(lm)
    assert lset.layout == "LabelMe" and len(lset.items) == 6 and lset.splits == ()  # a LabelMe json's name is no split
    write_coco(lm / "images", photos[1])  # a COCO json as well: the set is read as COCO, once
    assert read_labelled(lm).layout == "COCO" and len(read_labelled(lm).items) == 6


def _refused(folder: Path, name: str, text: str, match: str) -> None:
    (folder / name).write_text(text)
    with pytest.raises(LabelError, match=match):
        read_labelled(folder)
    (folder / name).unlink()


def test_malformed_hostile_or_unknown_labels_refuse_the_set_naming_the_file(photos, tmp_path):
    voc = voc_flat(photos, tmp_path / "voc")
    _refused(voc, "bad.xml", "<annotation><object><name>wood</name>", r"bad.xml: malformed XML")
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
              "<annotation><filename>&lol2;</filename></annotation>")
    _refused(voc, "laughs.xml", laughs, r"laughs.xml: XML with a DTD or entity declaration refused")
    _refused(voc, "photo_02.xml", voc_xml("photo_02.png", [("wood", 10, 10, 60, 60)]).replace("wood_block", "banana"),
             r"photo_02.xml: category names 'banana' map to no object kind; .*--kinds-map")
    (voc / "photo_02.xml").write_text(voc_xml("photo_02.png", [("wood", 10, 10, 60, 60)]).replace("wood_block", "banana"))
    assert read_labelled(voc, kinds_map={"banana": "metal"}).names["banana"] == "metal"
    lm = labelme(photos, tmp_path / "lm")
    _refused(lm / "json", "photo_09.json", '{"shapes": [', r"photo_09.json: not a readable json")


def test_bad_files_leave_their_photo_out_with_the_reason_and_the_rest_are_read(photos, tmp_path):
    voc = voc_devkit(photos, tmp_path / "voc")
    ann = voc / "Annotations"
    (ann / "photo_00.xml").write_text(voc_xml("photo_00.png", [("wood", 10, 10, 900, 60)]))
    (ann / "photo_01.xml").write_text(voc_xml("photo_01.png", [("wood", 10, 10, 60, 60)]).replace("<bndbox>", "<box>").replace("</bndbox>", "</box>"))
    (ann / "gone.xml").write_text(voc_xml("gone.png", []))
    (ann / "photo_02_copy.xml").write_text(voc_xml("photo_02.png", []))
    (ann / "photo_03.xml").write_text(voc_xml("photo_03.png", [("metal", -1, -1, W, H)]))  # xmin 0: a 0-based tool
    shutil.copy(voc / "JPEGImages" / "photo_04.png", voc / "JPEGImages" / "unlabelled.png")
    lset = read_labelled(voc)
    reasons = {n.path.name: n.reason for n in lset.not_scored}
    assert reasons == {
        "photo_00.png": "photo_00.xml: object 1 (wood_block): box (10, 10)-(900, 60) lies outside the 600x700 image",
        "photo_01.png": "photo_01.xml: object 1 (wood_block): expected <name> and <bndbox> with numeric xmin, ymin, xmax, ymax",
        "gone.xml": "photo 'gone.png' not found",
        "photo_02_copy.xml": f"{voc / 'JPEGImages' / 'photo_02.png'} is labelled by {ann / 'photo_02.xml'} already",
        "unlabelled.png": "no annotation file names this photo (not known to be object-free)"}
    assert sorted(i.path.name for i in lset.items) == ["photo_02.png", "photo_03.png", "photo_04.png", "photo_05.png"]
    (item,) = [i for i in lset.items if i.path.name == "photo_03.png"]
    assert [(b.kind, b.x0, b.y0, b.x1, b.y1) for b in item.boxes] == [("metal", 0.0, 0.0, W, H)]
    lm = labelme(photos, tmp_path / "lm")
    doc = json.loads((lm / "json" / "photo_01.json").read_text())
    doc["shapes"] = [{"label": "bolt", "points": [[100, 200], [130, 240]], "shape_type": "circle"}]
    (lm / "json" / "photo_01.json").write_text(json.dumps(doc))
    doc["shapes"] = [{"label": "bolt", "points": [[100, 200]], "shape_type": "point"}]
    (lm / "json" / "photo_02.json").write_text(json.dumps(doc | {"imagePath": "photo_02.png"}))
    doc["shapes"] = [{"label": "bolt", "shape_type": "polygon"}]
    (lm / "json" / "photo_03.json").write_text(json.dumps(doc | {"imagePath": "photo_03.png"}))
    lset = read_labelled(lm)
    (item,) = [i for i in lset.items if i.path.name == "photo_01.png"]
    assert [(b.kind, b.x0, b.y0, b.x1, b.y1) for b in item.boxes] == [("metal", 50.0, 150.0, 150.0, 250.0)]  # centre ± radius
    assert {n.path.name: n.reason for n in lset.not_scored} == {
        "photo_02.png": "photo_02.json: shape 1 (bolt): empty box (100, 200)-(100, 200)",
        "photo_03.png": "photo_03.json: shape 1: expected a label and points [[x, y], ...]"}


def _evaluate(folder: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(folder), "--mm-per-px", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)


def test_cli_scores_a_voc_set_as_its_coco_twin(photos, tmp_path):
    voc, coco = _evaluate(voc_devkit(photos, tmp_path / "voc"), tmp_path / "o1"), _evaluate(coco_twin(photos, tmp_path / "coco"), tmp_path / "o2")
    print(voc.stdout, voc.stderr)
    assert voc.returncode == coco.returncode == 0, voc.stdout + voc.stderr + coco.stdout
    assert "voc (VOC, split all): 6 scored, 0 not scored" in voc.stdout
    assert voc.stdout.splitlines()[1:] == coco.stdout.replace(str(tmp_path / "o2"), str(tmp_path / "o1")).splitlines()[1:]
    a, b = (json.loads((tmp_path / o / "labelled.json").read_text()) for o in ("o1", "o2"))
    assert a["recall"] == b["recall"] and a["recall"]["all:all"]["objects"] == sum(len(x) for _, x in photos[1])
    assert a["precision_by_kind"] == b["precision_by_kind"] and a["false_alarms"] == b["false_alarms"]
