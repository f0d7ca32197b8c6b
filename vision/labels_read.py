"""Labelled sets as real exports lay them out: COCO json(s), Pascal VOC XML, LabelMe JSON or YOLO txt, with or
without train/valid/test splits: the first of these layouts found under DIR is read (VOC and LabelMe, one annotation
file per photo: :mod:`vision.labels_voc`; the records and the rules all share: :mod:`vision.labels_records`).

COCO: every ``*.json`` under DIR with ``images`` and ``categories`` (Roboflow's ``_annotations.coco.json`` per split
folder, or ``annotations/instances_val.json``); ``file_name`` is looked up beside the json, under DIR, under
DIR/images or DIR/JPEGImages, then by its name anywhere under DIR (:func:`vision.labels_records.find_photo`). YOLO: the images under DIR (flat, or ``images/`` with ``labels/``
beside it, optionally under split folders, or ``images/<split>`` + ``labels/<split>``), ``class cx cy w h`` lines
(normalised; a segmentation polygon ``class x1 y1 x2 y2 ...`` gives its box) and the class names from ``data.yaml``
(or any ``*.yaml`` with ``names:``, list or dict), ``classes.txt`` or ``obj.names``. A YOLO photo without a label
file shows no object.

What refuses the whole set (:class:`LabelError`, naming the file): malformed json, yaml or XML, no class names, a name
that maps to no kind (:mod:`vision.labels_names`), no photo. What leaves one photo out ("not scored", with the
reason): its file missing, a label file without its photo, a malformed label line, a class index beyond the names,
a box outside its image.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from vision.errors import ImageFileError
from vision.labels_photo import photo_size
from vision.labels_records import (SPLITS, Box, LabelError, LabelledImage, LabelledSet, NotScored, Skip, check_box, files_under,
                                   find_photo, load_json, name_kinds, photos_by_name, split_of)
from vision.labels_voc import LABELME, VOC, PhotoLabels, is_labelme, labelme_labels, read_per_photo, voc_files, voc_splits
from vision.tiles import IMAGE_SUFFIXES

__all__ = ["SPLITS", "Box", "LabelError", "LabelledImage", "LabelledSet", "NotScored", "label_path", "read_labelled", "split_of"]

def _coco_box(a: dict, kind: str, w: int, h: int) -> Box:
    bbox = a.get("bbox")
    if not bbox and a.get("segmentation") and isinstance(a["segmentation"], list):
        xy = [float(v) for poly in a["segmentation"] for v in poly]
        bbox = [min(xy[0::2]), min(xy[1::2]), max(xy[0::2]) - min(xy[0::2]), max(xy[1::2]) - min(xy[1::2])]
    try:
        x, y, bw, bh = (float(v) for v in bbox or ())
    except (TypeError, ValueError) as exc:
        raise Skip(f"annotation {a.get('id', '?')}: bbox {bbox!r} is not [x, y, w, h]") from exc
    try:
        return check_box(kind, x, y, x + bw, y + bh, w, h)
    except Skip as exc:
        raise Skip(f"annotation {a.get('id', '?')}: {exc}") from None


def _read_coco_json(path: Path, doc: dict, folder: Path, by_name: dict[str, list[Path]], kinds_map, out: LabelledSet) -> None:
    try:
        names = {int(c["id"]): str(c["name"]) for c in doc["categories"]}
        images = {int(im["id"]): im for im in doc["images"]}
        anns = list(doc.get("annotations") or [])
        used = {int(a["category_id"]) for a in anns if isinstance(a, dict) and "category_id" in a}
    except (KeyError, TypeError, ValueError) as exc:
        raise LabelError(f"{path}: malformed COCO json ({type(exc).__name__}: {exc})") from exc
    kinds = name_kinds(names, used, path, kinds_map)
    per_image: dict[int, list[dict]] = {}
    for a in anns:
        iid = a.get("image_id") if isinstance(a, dict) else None
        if iid not in images:
            out.not_scored.append(NotScored(path, f"annotation {a.get('id', '?') if isinstance(a, dict) else a!r}: no image {iid!r} in the json"))
            continue
        per_image.setdefault(iid, []).append(a)
    split = split_of(path.relative_to(folder))
    for iid, im in images.items():
        name = str(im.get("file_name", ""))
        img = find_photo(name, path, folder, by_name) if name else None
        if img is None:
            out.not_scored.append(NotScored(path.parent / name, f"photo {name!r} named in {path.name} not found"))
            continue
        try:
            w, h = (int(im["width"]), int(im["height"])) if "width" in im and "height" in im else photo_size(img)
            boxes = []
            for a in per_image.get(iid, []):
                if int(a.get("category_id", -1)) not in kinds:
                    raise Skip(f"annotation {a.get('id', '?')}: unknown category id {a.get('category_id')!r}")
                boxes.append(_coco_box(a, kinds[int(a["category_id"])], w, h))
        except ImageFileError as exc:
            out.not_scored.append(NotScored(img, str(exc)))
            continue
        except (Skip, TypeError, ValueError) as exc:
            out.not_scored.append(NotScored(img, f"{path.name}: {exc}"))
            continue
        out.items.append(LabelledImage(img, w, h, tuple(boxes), split or split_of(img.relative_to(folder))))
    out.names.update({names[i]: k for i, k in kinds.items()})


def _annotation_jsons(folder: Path) -> tuple[list[tuple[Path, dict]], list[PhotoLabels]]:
    """The COCO jsons under ``folder`` (``images`` + ``categories``) and the LabelMe ones (``shapes``), each read once
    (a LabelMe json's embedded photo is not kept); other jsons are passed over, a malformed one refuses the set."""
    coco, labelme = [], []
    for path in files_under(folder, (".json",)):
        doc = load_json(path)
        if isinstance(doc, dict) and "images" in doc and "categories" in doc:
            coco.append((path, doc))
        elif is_labelme(doc):
            labelme.append(labelme_labels(path, doc))
    return coco, labelme


def _read_layout(folder: Path, kinds_map: dict[str, str] | None) -> LabelledSet:
    """Every photo of ``folder`` in the first layout found of COCO, Pascal VOC, LabelMe and YOLO."""
    coco, labelme = _annotation_jsons(folder)
    if coco:
        out = LabelledSet([], layout="COCO")
        by_name = photos_by_name(folder)
        for path, doc in coco:
            _read_coco_json(path, doc, folder, by_name, kinds_map, out)
    elif voc := voc_files(folder):
        out = LabelledSet([], layout=VOC)
        read_per_photo(folder, voc, voc_splits(folder), kinds_map, out)
    elif labelme:
        out = LabelledSet([], layout=LABELME)
        read_per_photo(folder, labelme, {}, kinds_map, out)
    else:
        out = LabelledSet([], layout="YOLO")
        _read_yolo(folder, kinds_map, out)
    return out


def _class_names(folder: Path) -> tuple[Path, dict[int, str]]:
    """The YOLO class names (id → name) and the file they come from: the shallowest ``*.yaml`` with ``names``,
    ``classes.txt``, ``obj.names`` or ``*.names``. Raises LabelError when there are none or the file is malformed."""
    candidates = sorted(files_under(folder, (".yaml", ".yml", ".txt", ".names")), key=lambda p: (len(p.relative_to(folder).parts), p.name))
    for path in candidates:
        if path.suffix in (".yaml", ".yml"):
            try:
                doc = yaml.safe_load(path.read_text())
            except (OSError, yaml.YAMLError) as exc:
                raise LabelError(f"{path}: not a readable yaml ({exc})") from exc
            if isinstance(doc, dict) and "names" in doc:
                names = doc["names"]
                if isinstance(names, list):
                    return path, {i: str(n) for i, n in enumerate(names)}
                if isinstance(names, dict):
                    try:
                        return path, {int(i): str(n) for i, n in names.items()}
                    except ValueError as exc:
                        raise LabelError(f"{path}: names: expected a list or a map of class index → name ({exc})") from exc
                raise LabelError(f"{path}: names: expected a list or a map of class index → name, got {type(names).__name__}")
        elif path.name == "classes.txt" or path.suffix == ".names":
            try:
                lines = [c.strip() for c in path.read_text().splitlines()]
            except (OSError, UnicodeDecodeError) as exc:
                raise LabelError(f"{path}: cannot read class names ({exc})") from exc
            return path, {i: c for i, c in enumerate(c for c in lines if c)}
    raise LabelError(f"{folder}: YOLO labels need class names: data.yaml (names:), classes.txt or obj.names, none found")


def label_path(image: Path, folder: Path) -> Path:
    """Where a YOLO image's label file is: the last ``images`` folder of its path swapped for ``labels``, else beside it."""
    parts = list(image.relative_to(folder).parts)
    idx = [i for i, p in enumerate(parts[:-1]) if p.lower() == "images"]
    if idx:
        parts[idx[-1]] = "labels"
    return (folder.joinpath(*parts)).with_suffix(".txt")


def _yolo_line(line: str, w: int, h: int) -> tuple[int, Box]:
    fields = line.split()
    try:
        cls, nums = int(float(fields[0])), [float(v) for v in fields[1:]]
    except (ValueError, IndexError) as exc:
        raise Skip(f"expected 'class cx cy w h' or 'class x1 y1 x2 y2 ...', got {line!r}") from exc
    if len(nums) == 4:
        cx, cy, bw, bh = nums
        x0, y0, x1, y1 = cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2
    elif len(nums) >= 6 and len(nums) % 2 == 0:
        x0, x1, y0, y1 = min(nums[0::2]), max(nums[0::2]), min(nums[1::2]), max(nums[1::2])
    else:
        raise Skip(f"expected 'class cx cy w h' or 'class x1 y1 x2 y2 ...', got {line!r} ({len(fields)} fields)")
    return cls, check_box("", x0 * w, y0 * h, x1 * w, y1 * h, w, h)


def _read_yolo_labels(txt: Path, text: str, w: int, h: int, kinds: dict[int, str], names_file: Path, n_names: int) -> tuple[Box, ...]:
    boxes = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            cls, box = _yolo_line(line, w, h)
        except Skip as exc:
            raise Skip(f"{txt.name} line {n}: {exc}") from None
        if cls not in kinds:
            raise Skip(f"{txt.name} line {n}: unknown class {cls}; {names_file.name} names {n_names} classes")
        boxes.append(Box(kinds[cls], box.x0, box.y0, box.x1, box.y1))
    return tuple(boxes)


def _label_texts(txts: list[Path]) -> dict[Path, str | Exception]:
    """Each label file's text, read once; a file that cannot be read keeps its error (its photo's reason)."""
    texts: dict[Path, str | Exception] = {}
    for txt in txts:
        try:
            texts[txt] = txt.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            texts[txt] = exc
    return texts


def _used_classes(texts: dict[Path, str | Exception]) -> set[int]:
    used = set()
    for text in texts.values():
        if isinstance(text, Exception):
            continue  # reported as that photo's reason when it is read
        for line in text.splitlines():
            head = line.split()[:1]
            try:
                if head:
                    used.add(int(float(head[0])))
            except ValueError:
                break  # reported as that photo's reason when it is read
    return used


def _read_yolo(folder: Path, kinds_map, out: LabelledSet) -> None:
    names_file, names = _class_names(folder)
    images = files_under(folder, IMAGE_SUFFIXES)
    labels = {img: label_path(img, folder) for img in images}
    texts = _label_texts([t for t in labels.values() if t.is_file()])
    kinds = name_kinds(names, _used_classes(texts), names_file, kinds_map)
    out.names.update({names[i]: k for i, k in kinds.items()})
    image_dirs = {img.parent for img in images}
    owned = set(labels.values())
    for txt in files_under(folder, (".txt",)):
        in_labels = any(p.lower() == "labels" for p in txt.relative_to(folder).parts[:-1])
        if txt not in owned and txt != names_file and (in_labels or txt.parent in image_dirs) and not txt.name.lower().startswith("readme"):
            out.not_scored.append(NotScored(txt, "label file without its photo"))
    for img in images:
        txt = labels[img]
        try:
            w, h = photo_size(img)
            text = texts.get(txt, "")
            if isinstance(text, Exception):
                raise text
            boxes = _read_yolo_labels(txt, text, w, h, kinds, names_file, len(names))
        except (ImageFileError, Skip, OSError, UnicodeDecodeError) as exc:
            out.not_scored.append(NotScored(img, str(exc)))
            continue
        out.items.append(LabelledImage(img, w, h, boxes, split_of(img.relative_to(folder)), txt in texts))


def read_labelled(folder: str | Path, *, split: str = "all", kinds_map: dict[str, str] | None = None) -> LabelledSet:
    """The labelled photos of ``folder`` (COCO json where there is one, else Pascal VOC XML, else LabelMe JSON, else
    YOLO txt), of one ``split`` (train,
    valid, test) or all, with category names mapped by :func:`vision.labels_names.kind_of` (``kinds_map``: normalised
    name → kind, first). Raises LabelError when the set cannot be used at all."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabelError(f"{folder}: not a folder of labelled images")
    if split not in SPLITS:
        raise LabelError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    out = _read_layout(folder, kinds_map)
    out.splits = tuple(s for s in SPLITS[:3] if any(i.split == s for i in out.items))
    if split != "all":
        if not out.splits:
            raise LabelError(f"{folder}: --split {split} asked for, but the set has no train/valid/test split folders (nor VOC ImageSets/Main split lists; use --split all)")
        if split not in out.splits:
            raise LabelError(f"{folder}: no photos in split {split!r}; the set has {', '.join(out.splits)}")
        out.items = [i for i in out.items if i.split == split]
        out.not_scored = [n for n in out.not_scored if split_of(n.path.relative_to(folder)) in (split, "")]
    if not out.items and not out.not_scored:
        raise LabelError(f"{folder}: no labelled images found (COCO json, Pascal VOC xml, LabelMe json, or images with YOLO txt labels)")
    return out
