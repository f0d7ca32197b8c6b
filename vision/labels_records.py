"""What every labelled-set reader returns and the rules they share: the records (:class:`LabelledImage`,
:class:`Box`, :class:`NotScored`, :class:`LabelledSet`), :class:`LabelError`, the split of a file by its folders, a
photo's lookup by the name its labels give, a box's check against its image and category names to kinds.

Readers: :mod:`vision.labels_read` (COCO, YOLO; the entry point) and :mod:`vision.labels_voc` (Pascal VOC XML,
LabelMe JSON). A :class:`Skip` raised while reading one photo's labels leaves that photo out with its message.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from vision.errors import VisionError
from vision.labels_names import kind_of, unknown_names_hint
from vision.tiles import IMAGE_SUFFIXES

#: Split folder / file names and the split each stands for.
SPLIT_NAMES = {"train": "train", "training": "train", "valid": "valid", "val": "valid", "validation": "valid",
               "test": "test", "testing": "test"}
SPLITS = ("train", "valid", "test", "all")
#: Tolerance of a box beyond its image (px, or this share of the side when larger): rounding in exports.
EDGE_TOLERANCE = 0.005
#: Folders under the set's a photo named by its labels is looked for in (after beside the label file and the set's
#: own folder): COCO's ``images/``, Pascal VOC's ``JPEGImages/``.
PHOTO_FOLDERS = ("images", "JPEGImages")


class LabelError(VisionError, ValueError):
    """A labelled set that cannot be used (the message names the file)."""


@dataclass(frozen=True)
class Box:
    """A labelled object: kind (a :data:`vision.labels_names.TARGETS` entry) and pixel box [x0, x1) x [y0, y1) of
    the upright photo."""

    kind: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class LabelledImage:
    """A photo and its boxes; ``label_file`` False: a YOLO photo without labels (object-free)."""

    path: Path
    width_px: int
    height_px: int
    boxes: tuple[Box, ...]
    split: str = ""
    label_file: bool = True


@dataclass(frozen=True)
class NotScored:
    """A photo (or label file) left out, and why."""

    path: Path
    reason: str


@dataclass
class LabelledSet:
    """What :func:`vision.labels_read.read_labelled` found: the photos to score, those left out, the layout and the
    name → kind map of the names used."""

    items: list[LabelledImage]
    not_scored: list[NotScored] = field(default_factory=list)
    layout: str = ""
    splits: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)


class Skip(Exception):
    """One photo's labels are unusable (the message is the reason)."""


def split_of(rel: Path) -> str:
    """The split (train / valid / test) a file relative to the set's folder lies in, by the name of one of its
    folders (``valid/x.jpg``, ``images/val2017/x.jpg``) or, for a json, a token of its own name
    (``instances_val2017.json``); "" when none."""
    names = [p.lower() for p in rel.parts[:-1]]
    if rel.suffix.lower() == ".json":
        names += re.split(r"[_\-.\s]+", rel.stem.lower())
    for name in names:
        split = SPLIT_NAMES.get(re.sub(r"\d+$", "", name))
        if split:
            return split
    return ""


def files_under(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files under ``folder`` (recursively, hidden ones left out) whose suffix (lower case) is one of ``suffixes``."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def check_box(kind: str, x0: float, y0: float, x1: float, y1: float, w: int, h: int) -> Box:
    """The box [x0, x1) x [y0, y1) px clipped to its ``w`` x ``h`` image; raises Skip when it is empty or lies
    beyond the image by more than EDGE_TOLERANCE."""
    if not (x1 > x0 and y1 > y0):
        raise Skip(f"empty box ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f})")
    tx, ty = max(1.0, EDGE_TOLERANCE * w), max(1.0, EDGE_TOLERANCE * h)
    if x0 < -tx or y0 < -ty or x1 > w + tx or y1 > h + ty:
        raise Skip(f"box ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f}) lies outside the {w}x{h} image")
    return Box(kind, max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1))


def name_kinds(names: dict[int, str], used: set[int], where: Path, kinds_map: dict[str, str] | None) -> dict[int, str]:
    """Kind per used class id; raises LabelError naming ``where`` and every used name that maps to nothing."""
    kinds = {i: kind_of(names[i], kinds_map) for i in used if i in names}
    unknown = sorted({names[i] for i, k in kinds.items() if k is None})
    if unknown:
        raise LabelError(f"{where}: category names {', '.join(map(repr, unknown))} map to no object kind; {unknown_names_hint()}")
    return {i: k for i, k in kinds.items() if k is not None}


def load_json(path: Path) -> object:
    """The parsed json of ``path``; raises LabelError naming it when it cannot be read or parsed."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LabelError(f"{path}: not a readable json ({type(exc).__name__}: {exc})") from exc


def photos_by_name(folder: Path) -> dict[str, list[Path]]:
    """The photos under ``folder`` per file name (for :func:`find_photo`)."""
    by_name: dict[str, list[Path]] = {}
    for p in files_under(folder, IMAGE_SUFFIXES):
        by_name.setdefault(p.name, []).append(p)
    return by_name


def find_photo(name: str, label_file: Path, folder: Path, by_name: dict[str, list[Path]]) -> Path | None:
    """The photo a label file names (``name``, a sub-path or, as Windows tools write it, a path with backslashes):
    relative to the label file, under ``folder``, under its PHOTO_FOLDERS and those beside the label file's folder,
    then by its file name anywhere under ``folder`` (when only one photo has it; an absolute path only so); a path
    that leads out of ``folder`` is not followed. None when not found."""
    rel = name.replace("\\", "/")
    if not PureWindowsPath(name).is_absolute() and not Path(rel).is_absolute():
        bases = [label_file.parent, folder, *(folder / f for f in PHOTO_FOLDERS)]
        if label_file.parent != folder:  # Annotations/x.xml → JPEGImages/x.jpg beside it
            bases += [label_file.parent.parent / f for f in PHOTO_FOLDERS]
        for base in bases:
            inside = os.path.normpath((base / rel).relative_to(folder))  # "x/../y" → "y"
            if Path(inside).parts[:1] != ("..",) and (folder / inside).is_file():
                return folder / inside
    found = by_name.get(Path(rel).name, [])
    return found[0] if len(found) == 1 else None
