"""Category names as labelled sets from the field spell them, mapped to the detector's object kinds.

A name is normalised (lower case; runs of spaces, underscores, hyphens and dots become one space; a plural ``s`` /
``es`` / ``ies`` is tried without it) and looked up, whole and then its last word, in :data:`SYNONYMS`, whose keys are the kinds themselves plus the
names real exports use (``wood_block``, ``Plastic bag``, ``bolt``, ``rope``...). :data:`FOREIGN` stands for a generic
"foreign object" label: found when any foreign detection lands in it, its kind not scored. :data:`IGNORE` (only
through ``--kinds-map``) leaves a labelled box out of the scores: detections in it are neither found nor false alarms.
``--kinds-map 'NAME=KIND,...'`` or a JSON / TOML file of ``{NAME: KIND}`` overrides the table.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from vision.errors import VisionError
from vision.objects import KINDS

#: A generic foreign-object label (any foreign detection in it finds it; kind correctness not scored).
FOREIGN = "foreign"
#: A label left out of the scores (``--kinds-map`` only).
IGNORE = "ignore"
#: Kinds a name may map to.
TARGETS = KINDS + (FOREIGN, IGNORE)

#: Field names per kind (normalised: lower case, single spaces, singular).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "wood": ("wood", "wooden", "plank", "timber", "board", "wood block", "wooden block", "wood piece", "log", "lumber"),
    "plastic": ("plastic", "bag", "plastic bag", "film", "plastic film", "bottle", "plastic bottle", "pipe", "plastic pipe"),
    "rubber": ("rubber", "tyre", "tire", "conveyor belt piece", "belt piece", "rubber belt", "rubber piece"),
    "metal": ("metal", "steel", "iron", "bolt", "nut", "rebar", "wire", "scrap", "scrap metal", "tool", "metal piece",
              "iron piece", "steel bar"),
    "cloth": ("cloth", "rope", "textile", "fabric", "sack", "woven bag"),
    "concrete": ("concrete", "brick", "cement", "concrete block"),
    "lump": ("lump", "rock", "stone", "large lump", "large rock", "boulder"),
    FOREIGN: ("foreign", "foreign object", "foreign matter", "foreign body", "debris", "impurity", "object", "anomaly"),
}

_LOOKUP = {name: kind for kind, names in SYNONYMS.items() for name in names}


class KindsMapError(VisionError, ValueError):
    """A ``--kinds-map`` that cannot be used (the message says what was expected)."""


def normalise(name: str) -> str:
    """``name`` in lower case with runs of spaces, underscores, hyphens and dots as one space (``Wood_Block`` →
    ``wood block``)."""
    return re.sub(r"[\s_.\-]+", " ", str(name)).strip().lower()


def _forms(name: str) -> list[str]:
    n = normalise(name)
    out = [n]
    if n.endswith("ies"):
        out.append(n[:-3] + "y")
    if n.endswith("es"):
        out.append(n[:-2])
    if n.endswith("s"):
        out.append(n[:-1])
    return out


def kind_of(name: str, overrides: dict[str, str] | None = None) -> str | None:
    """The kind (:data:`TARGETS`) a category name maps to, by ``overrides`` (normalised names) first, then
    :data:`SYNONYMS` (the whole name, else its last word: ``wooden planks`` → plank → wood); None when it maps to
    nothing."""
    for form in _forms(name):
        if overrides and form in overrides:
            return overrides[form]
    for form in _forms(name) + _forms(normalise(name).rpartition(" ")[2]):  # the whole name, else its last word
        if form in _LOOKUP:
            return _LOOKUP[form]
    return None


def _checked(pairs: dict, where: str) -> dict[str, str]:
    out = {}
    for name, kind in pairs.items():
        k = normalise(str(kind))
        if k not in TARGETS:
            raise KindsMapError(f"{where}: {name!r} maps to {kind!r}; expected one of {', '.join(TARGETS)}")
        out[normalise(str(name))] = k
    return out


def parse_kinds_map(text: str) -> dict[str, str]:
    """``--kinds-map``: ``'NAME=KIND,...'`` or the path of a JSON or TOML file holding ``{NAME: KIND}``. Returns
    normalised name → kind. Raises KindsMapError naming the file or the entry that is not usable."""
    path = Path(text)
    if path.suffix.lower() in (".json", ".toml"):
        try:
            raw = path.read_text()
            doc = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw)
        except (OSError, ValueError) as exc:
            raise KindsMapError(f"--kinds-map {path}: not a readable {path.suffix[1:].upper()} map of NAME = KIND ({exc})") from exc
        if not isinstance(doc, dict):
            raise KindsMapError(f"--kinds-map {path}: expected a map of NAME = KIND, got {type(doc).__name__}")
        return _checked(doc, f"--kinds-map {path}")
    pairs = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        name, eq, kind = entry.partition("=")
        if not eq or not name.strip():
            raise KindsMapError(f"--kinds-map: expected 'NAME=KIND,...' or a .json/.toml file, got entry {entry!r}")
        pairs[name.strip()] = kind.strip()
    return _checked(pairs, "--kinds-map")


def unknown_names_hint() -> str:
    """What to do about names that map to no kind (part of the error message)."""
    return (f"map them with --kinds-map 'NAME=KIND,...' (KIND one of {', '.join(TARGETS)}); the names understood are "
            "listed in docs/vision.md \"Labelled photos\"")
