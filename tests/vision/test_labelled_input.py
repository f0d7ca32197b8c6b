"""Labelled photos as other instruments write them (grayscale, RGBA, palette, 16-bit, EXIF-rotated) read as the
labels were drawn; bad input (unreadable or truncated photo, label file without its photo, box outside its image,
malformed line) leaves those photos out, listed with the reason, and the rest scored, exit status 1; malformed yaml
refuses the set (exit 2). Through the installed ``.venv/bin/oreline`` with the default (shipped 4 mm/px) model."""

import json
import subprocess

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.vision.test_labelled import H_PX, ORELINE, W_PX, make_labelled_set, write_yolo
from vision.errors import ImageFileError
from vision.labels_photo import OFF_BELT_GREY, photo_size, read_photo
from vision.labels_read import LabelError, read_labelled



@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ref")
    make_labelled_set(folder, n_images=1, seed=7, w_px=300, h_px=200)
    with Image.open(folder / "photo_00.png") as im:
        return np.asarray(im.convert("RGB"))


def test_grey_rgba_palette_and_16_bit_photos_read_as_8_bit_rgb(reference, tmp_path):
    grey = reference.mean(axis=2).round().astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    assert np.array_equal(read_photo(tmp_path / "grey.png"), np.repeat(grey[:, :, None], 3, axis=2))
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "grey16.png")
    with Image.open(tmp_path / "grey16.png") as im:
        assert im.mode.startswith("I")
    assert np.abs(read_photo(tmp_path / "grey16.png").astype(int) - grey[:, :, None]).max() <= 1  # scaled, not clipped to white
    tifffile.imwrite(tmp_path / "grey12.tif", (grey.astype(np.int64) * 4095 // 255).astype(np.uint16))  # 12 bits in 16
    assert np.abs(read_photo(tmp_path / "grey12.tif").astype(int) - grey[:, :, None]).max() <= 1
    tifffile.imwrite(tmp_path / "rgb16.tif", reference.astype(np.uint16) * 257, photometric="rgb")
    assert np.array_equal(read_photo(tmp_path / "rgb16.tif"), reference)
    alpha = np.full(grey.shape, 255, np.uint8)
    alpha[:, :50] = 0
    Image.fromarray(np.dstack([reference, alpha])).save(tmp_path / "rgba.png")
    rgba = read_photo(tmp_path / "rgba.png")
    assert np.array_equal(rgba[:, 50:], reference[:, 50:]) and (rgba[:, :50] == OFF_BELT_GREY).all()
    pal = Image.fromarray(reference).quantize(64)
    pal.save(tmp_path / "pal.png")
    assert np.array_equal(read_photo(tmp_path / "pal.png"), np.asarray(pal.convert("RGB")))


@pytest.mark.parametrize("orientation,turns", [(6, 1), (8, -1), (3, 2)])
def test_exif_rotated_photo_reads_upright_as_labelling_tools_show_it(reference, tmp_path, orientation, turns):
    stored = np.ascontiguousarray(np.rot90(reference, turns))  # what the camera wrote; the tag says how to turn it upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(tmp_path / "r.png", exif=exif)
    assert np.array_equal(read_photo(tmp_path / "r.png"), reference)
    assert photo_size(tmp_path / "r.png") == (reference.shape[1], reference.shape[0])


def test_unreadable_and_truncated_photos_raise_naming_the_file(reference, tmp_path):
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(ImageFileError, match="text.jpg"):
        read_photo(tmp_path / "text.jpg")
    Image.fromarray(reference).save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    assert photo_size(tmp_path / "cut.jpg") == (300, 200)  # the header is whole
    with pytest.raises(ImageFileError, match="cut.jpg"):
        read_photo(tmp_path / "cut.jpg")


def test_truncated_photo_is_refused_even_after_weasyprint_let_pillow_fill_it(reference, tmp_path, monkeypatch):
    """weasyprint (the report's PDF engine) sets Pillow's LOAD_TRUNCATED_IMAGES on import; every reader of frames and
    photos still refuses a file cut short, and leaves the setting as it found it."""
    from PIL import ImageFile

    from vision.site_images import _read
    from vision.tiles import read_rgb

    Image.fromarray(reference).save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with Image.open(tmp_path / "cut.jpg") as im:
        im.load()  # Pillow alone now fills it with grey
    for read in (read_photo, read_rgb, _read):
        with pytest.raises(ImageFileError, match="cut.jpg"):
            read(tmp_path / "cut.jpg")
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    assert read_rgb(tmp_path / "full.jpg").shape == reference.shape


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """A flat YOLO set of 8 photos: 3 good ones, one EXIF-rotated with its labels on the upright view, and four bad:
    unreadable, truncated, a box outside, a malformed line; plus a label file without its photo."""
    folder = tmp_path_factory.mktemp("damaged")
    items = make_labelled_set(folder, n_images=8, seed=11 + 100, name="p{:02d}.png")
    write_yolo(folder, items)
    (folder / "p04.png").write_text("not an image")
    data = (folder / "p05.png").read_bytes()
    (folder / "p05.png").write_bytes(data[: len(data) // 3])
    (folder / "p06.txt").write_text("0 1.30 0.5 0.2 0.1\n")
    (folder / "p07.txt").write_text("0 0.5 0.5 0.2\n")
    (folder / "ghost.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    with Image.open(folder / "p03.png") as im:
        upright = np.asarray(im)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1))).save(folder / "p03.png", exif=exif)
    return folder, items


def test_cli_bad_photos_are_listed_not_scored_and_the_rest_scored_exit_1(damaged, tmp_path):
    folder, items = damaged
    p = subprocess.run([str(ORELINE), "vision", "evaluate", f"--labelled={folder}", "--mm-per-px=2", f"--out={tmp_path / 'out'}"],
                       capture_output=True, text=True, timeout=600)
    print(p.stdout, p.stderr)
    assert p.returncode == 1, p.stdout + p.stderr
    table = json.loads((tmp_path / "out" / "labelled.json").read_text())
    reasons = {r["path"].rsplit("/", 1)[1]: r["reason"] for r in table["not_scored"]}
    assert sorted(reasons) == ["ghost.txt", "p04.png", "p05.png", "p06.png", "p07.png"]
    assert reasons["ghost.txt"] == "label file without its photo" and "cannot decode image" in reasons["p04.png"]
    assert "cannot decode image" in reasons["p05.png"] and "outside the 600x700 image" in reasons["p06.png"]
    assert "expected 'class cx cy w h'" in reasons["p07.png"]
    assert "not scored (5; neither found nor clean; exit status 1):" in p.stdout
    assert all(f"{name}: " in p.stdout for name in reasons)
    scored = sorted(r["image"].rsplit("/", 1)[1] for r in table["per_image"])
    assert scored == ["p00.png", "p01.png", "p02.png", "p03.png"] and table["images"] == 4
    good = [b for name, b in items if name in scored]
    assert table["recall"]["all:all"]["objects"] == sum(map(len, good))
    assert table["recall"]["all:all"]["detected"] == sum(map(len, good))  # the rotated photo's 3 objects among them
    assert table["false_alarms"] == 0


def test_cli_set_with_no_scorable_photo_exits_2(damaged, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "classes.txt").write_text("wood\n")
    (folder / "a.png").write_text("nothing")
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(folder), "--mm-per-px", "2", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 2 and "no photo could be scored" in p.stdout and "a.png: cannot decode image" in p.stdout, p.stdout


def test_malformed_yaml_refuses_the_set_naming_it(damaged, tmp_path):
    folder = tmp_path / "y"
    folder.mkdir()
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(folder / "a.png")
    (folder / "data.yaml").write_text("names: [wood, plastic\nnc: 2\n")
    with pytest.raises(LabelError, match=r"data.yaml: not a readable yaml"):
        read_labelled(folder)
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(folder), "--mm-per-px", "2", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 2 and "data.yaml" in p.stdout and not (tmp_path / "o").exists(), p.stdout


def test_cli_coco_labels_of_the_stored_or_the_upright_view_of_an_exif_rotated_photo(tmp_path):
    """COCO tools label the upright view (width/height upright); a tool that ignored the EXIF tag labels the stored
    one (width/height swapped): both are read the way their labels were drawn."""
    items = make_labelled_set(tmp_path / "src", n_images=4, seed=13)
    name, boxes = items[3]  # 3 objects
    with Image.open(tmp_path / "src" / name) as im:
        upright = np.asarray(im)
    h, w = upright.shape[:2]
    exif = Image.Exif()
    exif[0x0112] = 6
    folder = tmp_path / "set"
    folder.mkdir()
    for f in ("up.png", "stored.png"):
        Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1))).save(folder / f, exif=exif)
    kinds = sorted({k for k, *_ in boxes})
    stored_boxes = [(k, y0, w - x1, y1, w - x0) for k, x0, y0, x1, y1 in boxes]  # np.rot90: (x, y) -> (y, w - x)
    anns = [{"image_id": i, "category_id": kinds.index(k), "bbox": [x0, y0, x1 - x0, y1 - y0]}
            for i, bx in enumerate((boxes, stored_boxes)) for k, x0, y0, x1, y1 in bx]
    anns = [dict(a, id=n) for n, a in enumerate(anns)]
    doc = {"images": [{"id": 0, "file_name": "up.png", "width": w, "height": h},
                      {"id": 1, "file_name": "stored.png", "width": h, "height": w}],
           "annotations": anns, "categories": [{"id": i, "name": k} for i, k in enumerate(kinds)]}
    (folder / "_annotations.coco.json").write_text(json.dumps(doc))
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(folder), "--mm-per-px", "2", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    table = json.loads((tmp_path / "o" / "labelled.json").read_text())
    assert table["images"] == 2 and table["recall"]["all:all"]["objects"] == 6
    assert table["recall"]["all:all"]["detected"] == 6 and table["false_alarms"] == 0


def test_cli_photo_the_detector_cannot_inspect_is_not_scored_never_clean(tmp_path):
    """A photo of bare belt (no ore) and one of another cargo (a flat blue-grey, no ore colour) are what the line calls
    uninspected: listed as not scored with the reason, not counted as object-free photos."""
    items = make_labelled_set(tmp_path, n_images=2, seed=9)
    write_yolo(tmp_path, items)
    Image.fromarray(np.full((H_PX, W_PX, 3), (40, 44, 48), np.uint8)).save(tmp_path / "bare_belt.png")
    Image.fromarray(np.full((H_PX, W_PX, 3), (90, 110, 150), np.uint8)).save(tmp_path / "blue_cargo.png")
    p = subprocess.run([str(ORELINE), "vision", "evaluate", "--labelled", str(tmp_path), "--mm-per-px", "2", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 1, p.stdout + p.stderr
    table = json.loads((tmp_path / "o" / "labelled.json").read_text())
    reasons = {r["path"].rsplit("/", 1)[1]: r["reason"] for r in table["not_scored"]}
    assert sorted(reasons) == ["bare_belt.png", "blue_cargo.png"] and all(r.startswith("not inspected: ") for r in reasons.values())
    assert table["images"] == 2 and table["object_free_no_label_file"] == 0


def test_label_file_that_is_not_text_leaves_its_photo_out_with_the_reason_and_the_rest_read(tmp_path):
    items = make_labelled_set(tmp_path, n_images=3, seed=5, w_px=300, h_px=200, name="q{:02d}.png")
    write_yolo(tmp_path, items)
    (tmp_path / "q01.txt").write_bytes(b"0 0.5 \xff\xfe 0.2 0.1\n")  # not UTF-8: a corrupt or foreign-encoded file
    (tmp_path / "q02.txt").write_text("wood 0.5 0.5 0.2 0.1\n")  # a name where the class number belongs
    labelled = read_labelled(tmp_path)
    reasons = {r.path.name: r.reason for r in labelled.not_scored}
    assert sorted(reasons) == ["q01.png", "q02.png"]
    assert "utf-8" in reasons["q01.png"].lower()
    assert "q02.txt line 1" in reasons["q02.png"]
    assert [i.path.name for i in labelled.items] == ["q00.png"] and len(labelled.items[0].boxes) == len(items[0][1])
