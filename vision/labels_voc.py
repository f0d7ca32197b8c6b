"""Labelled sets of one annotation file per photo: Pascal VOC XML and LabelMe JSON (read by
:func:`vision.labels_read.read_labelled`, to the same records as COCO and YOLO).

Pascal VOC: every ``*.xml`` under DIR whose root is ``<annotation>`` (``Annotations/`` beside ``JPEGImages/``, or
beside the photos); per ``<object>`` its ``<name>`` and ``<bndbox>`` (``xmin ymin xmax ymax``: VOC's 1-based, inclusive
pixel indices, read as the 0-based half-open box [xmin - 1, xmax) x [ymin - 1, ymax); a 0 written by a 0-based tool
lies within the edge tolerance and is clipped); ``difficult``, ``truncated`` and ``pose`` are not kept (the records
have no place for them: such a box is scored as any other). Splits from ``ImageSets/Main/{train,val,test}.txt``
(ids = the xml's name), else split folders. LabelMe: every ``*.json`` with a ``shapes`` list (and not COCO's
``images`` + ``categories``): per shape its ``label`` and the box of its ``points`` (rectangle: two corners;
polygon, line...: every point; circle: centre and a point on it). The photo is looked up by the file's
``filename`` then ``path`` (VOC) or ``imagePath`` (LabelMe), then by the file's own name with a photo's suffix; its
size from ``<size>`` / ``imageWidth``, ``imageHeight`` (else the photo's header).

What refuses the set (:class:`LabelError`, naming the file): malformed XML or json, an XML with a DTD or entity
declaration (hostile or not an annotation: refused before any entity could expand), a name that maps to no kind.
What leaves one photo out (with the reason): its photo missing, a second file naming the same photo, an object
without a name or a numeric box, an empty box or one outside its image; a photo beside labelled ones that no file
names (not known to be object-free, unlike YOLO's).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard
from xml.parsers import expat

import numpy as np

from vision.errors import ImageFileError
from vision.labels_names import kind_of
from vision.labels_photo import photo_size
from vision.labels_records import (PHOTO_FOLDERS, SPLIT_NAMES, LabelError, LabelledImage, LabelledSet, NotScored, Skip, check_box,
                                   files_under, find_photo, name_kinds, photos_by_name, split_of)

VOC, LABELME = "VOC", "LabelMe"


@dataclass
class PhotoLabels:
    """One annotation file as read: the photo names it gives, the size it declares (w, h px; None: not given), its
    objects (name, x0, y0, x1, y1 px, 0-based half-open) and, when one of them is unusable, why its photo is left out."""

    path: Path
    refs: tuple[str, ...]
    size: tuple[int, int] | None
    objects: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    problem: str = ""


def parse_xml(path: Path) -> ET.Element:
    """The root of the XML file ``path``; raises LabelError naming it when it cannot be read, is malformed or holds a
    DTD or entity declaration."""
    def refuse(*_: object) -> None:
        raise LabelError(f"{path}: XML with a DTD or entity declaration refused (an annotation needs none; entities "
                         "can expand without bound)")

    try:
        data = path.read_bytes()
        check = expat.ParserCreate()
        check.StartDoctypeDeclHandler = refuse
        check.EntityDeclHandler = refuse
        check.Parse(data, True)
        return ET.fromstring(data)
    except OSError as exc:
        raise LabelError(f"{path}: cannot read ({exc})") from exc
    except (expat.ExpatError, ET.ParseError) as exc:
        raise LabelError(f"{path}: malformed XML ({exc})") from exc


def _size(w: object, h: object) -> tuple[int, int] | None:
    try:
        size = (int(float(str(w))), int(float(str(h))))
    except (ValueError, OverflowError):
        return None
    return size if min(size) > 0 else None


def voc_labels(path: Path, root: ET.Element) -> PhotoLabels:
    """A Pascal VOC ``<annotation>``'s photo names, size and objects (see the module docstring)."""
    refs = tuple(t for t in ((root.findtext(k) or "").strip() for k in ("filename", "path")) if t)
    out = PhotoLabels(path, refs, _size(root.findtext("size/width"), root.findtext("size/height")))
    for k, obj in enumerate(root.findall("object"), 1):
        name, box = (obj.findtext("name") or "").strip(), obj.find("bndbox")
        try:
            if not name or box is None:
                raise ValueError
            x0, y0, x1, y1 = (float((box.findtext(t) or "").strip()) for t in ("xmin", "ymin", "xmax", "ymax"))
        except ValueError:
            out.problem = f"object {k} ({name or 'no name'}): expected <name> and <bndbox> with numeric xmin, ymin, xmax, ymax"
            break
        out.objects.append((name, x0 - 1.0, y0 - 1.0, x1, y1))
    return out


def is_labelme(doc: object) -> TypeGuard[dict]:
    """Whether a parsed json is a LabelMe annotation (a ``shapes`` list; not a COCO json)."""
    return isinstance(doc, dict) and isinstance(doc.get("shapes"), list) and not ("images" in doc and "categories" in doc)


def labelme_labels(path: Path, doc: dict) -> PhotoLabels:
    """A LabelMe json's photo name, size and shapes' boxes (see the module docstring)."""
    out = PhotoLabels(path, tuple(t for t in [str(doc.get("imagePath") or "").strip()] if t),
                      _size(doc.get("imageWidth"), doc.get("imageHeight")))
    for k, shape in enumerate(doc["shapes"], 1):
        try:
            name = str(shape["label"]).strip()
            xy = np.asarray(shape["points"], dtype=float)
            if not name or xy.ndim != 2 or xy.shape[1] != 2 or not len(xy):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            out.problem = f"shape {k}: expected a label and points [[x, y], ...]"
            break
        if shape.get("shape_type") == "circle" and len(xy) >= 2:
            r = float(np.hypot(*(xy[1] - xy[0])))
            xy = np.array([xy[0] - r, xy[0] + r])
        out.objects.append((name, float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())))
    return out


def voc_files(folder: Path) -> list[PhotoLabels]:
    """Every Pascal VOC annotation under ``folder`` (other XML files are passed over; a malformed one refuses the set)."""
    return [voc_labels(p, root) for p in files_under(folder, (".xml",)) if (root := parse_xml(p)).tag == "annotation"]


def voc_splits(folder: Path) -> dict[str, str]:
    """Split per photo id from Pascal VOC's ``ImageSets/Main/{train,val,test}.txt`` (first listing wins)."""
    out: dict[str, str] = {}
    for txt in files_under(folder, (".txt",)):
        parts, split = txt.relative_to(folder).parts, SPLIT_NAMES.get(txt.stem.lower())
        if split and parts[-3:-1] == ("ImageSets", "Main"):
            try:
                ids = [line.split()[0] for line in txt.read_text().splitlines() if line.strip()]
            except (OSError, UnicodeDecodeError) as exc:
                raise LabelError(f"{txt}: cannot read the split's photo ids ({exc})") from exc
            for i in ids:
                out.setdefault(i, split)
    return out


def _kinds(labels: list[PhotoLabels], kinds_map: dict[str, str] | None) -> dict[str, str]:
    """Kind per name used; raises LabelError naming the first file that uses a name mapping to no kind."""
    first_use: dict[str, Path] = {}
    for lab in labels:
        for name, *_ in lab.objects:
            first_use.setdefault(name, lab.path)
    names = dict(enumerate(sorted(first_use)))
    unknown = [n for n in names.values() if kind_of(n, kinds_map) is None]
    kinds = name_kinds(names, set(names), first_use[unknown[0]] if unknown else Path(), kinds_map)
    return {names[i]: k for i, k in kinds.items()}


def _photo_of(lab: PhotoLabels, folder: Path, by_name: dict[str, list[Path]], by_stem: dict[str, list[Path]]) -> Path | None:
    """The photo an annotation file labels: by the names it gives (:func:`vision.labels_records.find_photo`), else
    the photo with the file's own name (beside it or in a photo folder when several have it)."""
    for ref in lab.refs:
        found = find_photo(ref, lab.path, folder, by_name)
        if found is not None:
            return found
    same = by_stem.get(lab.path.stem, [])
    near = [p for p in same if p.parent == lab.path.parent or p.parent.name in PHOTO_FOLDERS]
    return same[0] if len(same) == 1 else near[0] if len(near) == 1 else None


def _boxes(lab: PhotoLabels, kinds: dict[str, str], w: int, h: int) -> tuple:
    out = []
    for k, (name, x0, y0, x1, y1) in enumerate(lab.objects, 1):
        try:
            out.append(check_box(kinds[name], x0, y0, x1, y1, w, h))
        except Skip as exc:
            raise Skip(f"{lab.path.name}: {'object' if lab.path.suffix.lower() == '.xml' else 'shape'} {k} ({name}): {exc}") from None
    if lab.problem:
        raise Skip(f"{lab.path.name}: {lab.problem}")
    return tuple(out)


def read_per_photo(folder: Path, labels: list[PhotoLabels], splits: dict[str, str], kinds_map: dict[str, str] | None,
                   out: LabelledSet) -> None:
    """Add the photos ``labels`` (one annotation file each) label to ``out``, those left out with their reason;
    ``splits``: split per photo id (VOC's ImageSets), else split folders."""
    kinds = _kinds(labels, kinds_map)
    out.names.update(kinds)
    by_name = photos_by_name(folder)
    by_stem: dict[str, list[Path]] = {}
    for p in (p for paths in by_name.values() for p in paths):
        by_stem.setdefault(p.stem, []).append(p)
    claimed: dict[Path, Path] = {}
    for lab in labels:
        img = _photo_of(lab, folder, by_name, by_stem)
        if img is None or img in claimed:
            why = f"photo {(lab.refs or (lab.path.stem,))[0]!r} not found" if img is None else f"{img} is labelled by {claimed[img]} already"
            out.not_scored.append(NotScored(lab.path, why))
            continue
        claimed[img] = lab.path
        try:
            w, h = lab.size or photo_size(img)
            boxes = _boxes(lab, kinds, w, h)
        except (ImageFileError, Skip) as exc:
            out.not_scored.append(NotScored(img, str(exc)))
            continue
        split = (splits.get(lab.path.stem) or splits.get(img.stem) or split_of(img.relative_to(folder))
                 or split_of(lab.path.relative_to(folder).with_suffix("")))  # no suffix: a LabelMe json's name is no split
        out.items.append(LabelledImage(img, w, h, boxes, split))
    labelled_dirs = {p.parent for p in claimed}
    for img in sorted(p for paths in by_name.values() for p in paths if p.parent in labelled_dirs and p not in claimed):
        out.not_scored.append(NotScored(img, "no annotation file names this photo (not known to be object-free)"))
