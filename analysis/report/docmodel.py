"""The report's document model: sections of blocks (paragraphs, lists, tables, figures, verdict boxes, signature
blocks). One model, rendered to HTML (:mod:`analysis.report.html`) and printed to PDF from that same HTML
(:mod:`analysis.report.pdf`), so the PDF carries everything the HTML does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Col:
    """A table column: row key, header, alignment ("left"/"right")."""

    key: str
    label: str
    align: str = "left"


@dataclass(frozen=True)
class Para:
    text: str
    cls: str = ""


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]
    cls: str = ""


@dataclass(frozen=True)
class Table:
    """Rows are dicts of already formatted text (the renderer never rounds); ``row_cls`` a CSS class per row."""

    columns: Sequence[Col]
    rows: Sequence[dict[str, str]]
    caption: str = ""
    cls: str = ""
    row_cls: Sequence[str] = ()
    empty: str = "none"


@dataclass(frozen=True)
class Figure:
    png_base64: str
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class Gallery:
    images_png_base64: Sequence[str]
    captions: Sequence[str]


@dataclass(frozen=True)
class VerdictBox:
    label: str
    verdict: str
    lines: Sequence[str]


@dataclass(frozen=True)
class Boxes:
    boxes: Sequence[VerdictBox]


@dataclass(frozen=True)
class KeyFigures:
    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Signatures:
    """Signature blocks: one per role (Tested, Checked, Approved), with name, date and signature lines."""

    roles: Sequence[str]


Block = Para | Bullets | Table | Figure | Gallery | Boxes | KeyFigures | Signatures


@dataclass
class Section:
    """A titled part of the report. ``wide`` sections print on A4 landscape pages; ``new_page`` starts one."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    anchor: str = ""
    wide: bool = False
    new_page: bool = False

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self


@dataclass
class Document:
    """The whole report: title, lot id (the running header of every printed page), sections in order."""

    title: str
    lot_id: str
    subtitle: str
    sections: list[Section]
    meta: dict[str, Any] = field(default_factory=dict)
