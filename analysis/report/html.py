"""The document model as one self-contained HTML page (images inlined, one stylesheet for screen and print).

The same HTML and CSS (``report.css``) are printed to PDF by :mod:`analysis.report.pdf`, so the PDF carries
everything the HTML does. Cells are text already formatted by the sections; nothing here rounds or cuts.
"""

from __future__ import annotations

import html
import re
from importlib import resources

from analysis.report.docmodel import (
    Block,
    Boxes,
    Bullets,
    Document,
    Figure,
    Gallery,
    KeyFigures,
    Para,
    Section,
    Signatures,
    Table,
)


def stylesheet() -> str:
    """The report's CSS (screen and print)."""
    return resources.files("analysis.report").joinpath("report.css").read_text(encoding="utf-8")


#: Long words (ids, seals, hashes) get break opportunities: after separators, else every this many characters.
SOFT_BREAK_CHARS = 14
_LONG_WORD = re.compile(rf"\S{{{SOFT_BREAK_CHARS + 1},}}")
_AFTER_SEPARATOR = re.compile(r"([-_/.:;,|=+)\]])(?=\S)")
_UNBROKEN = re.compile(rf"[^-_/.:;,|=+)\]\u200b]{{{SOFT_BREAK_CHARS}}}(?=[^\s\u200b])")


def _soft_breaks(word: str) -> str:
    """A long word with zero-width spaces where it may wrap (the characters themselves are all kept)."""
    word = _AFTER_SEPARATOR.sub("\\1\u200b", word)
    return _UNBROKEN.sub(lambda m: m.group(0) + "\u200b", word)


_LONG_WORD_SPLIT = re.compile(r"[\s\u200b]+")


def _soft_breaks_text(text: str) -> str:
    return _LONG_WORD.sub(lambda m: _soft_breaks(m.group(0)), text)


def _e(text: object) -> str:
    """Escaped text whose long words may wrap (a cell never runs past its column, nothing is cut)."""
    return html.escape(_soft_breaks_text(str(text)))


_R = " class='r'"
#: Column widths: a column gets at least its longest unbreakable word and at most this many characters of weight.
MAX_COLUMN_WEIGHT = 60
#: Characters a printed table row holds (A4 portrait at the print font size), for sharing its width.
LINE_CHARS = 120


def _column_widths(t: Table) -> list[float]:
    """Shares of the table width (%) from the columns' text, so that a fixed table layout needs no measuring of
    every cell: each column first gets its longest unbreakable word (capped) and header word, then the rest of
    :data:`LINE_CHARS` goes to the columns with longer text, in proportion to how much longer."""
    need, extra = [], []
    for c in t.columns:
        cells = [str(r.get(c.key, "")) for r in t.rows]
        words = [len(w) for s in cells for w in _LONG_WORD_SPLIT.split(_soft_breaks_text(s)) if w]
        label_word = max((len(w) for w in c.label.split()), default=1)
        n = max(min(max(words, default=1), SOFT_BREAK_CHARS), 1.25 * label_word) + 2.5  # headers are bold
        lengths = [len(s) for s in cells] or [0]
        typical = min(0.5 * (sum(lengths) / len(lengths) + max(lengths)), MAX_COLUMN_WEIGHT)
        need.append(n)
        extra.append(max(0.0, typical + 2 - n))
    room = LINE_CHARS - sum(need)
    widths = [n + (e * room / sum(extra) if room > 0 and sum(extra) > 0 else 0.0) for n, e in zip(need, extra)]
    total = sum(widths)
    return [100.0 * w / total for w in widths]


def _table(t: Table) -> str:
    if not t.rows:
        cap = f"<p class='caption'>{_e(t.caption)}</p>" if t.caption else ""
        return f"{cap}<p class='muted'>{_e(t.empty)}</p>"
    head = "".join(f"<th{_R if c.align == 'right' else ''}>{_e(c.label)}</th>" for c in t.columns)
    body = []
    for i, row in enumerate(t.rows):
        cls = t.row_cls[i] if i < len(t.row_cls) else ""
        cells = "".join(f"<td{_R if c.align == 'right' else ''}>{_e(row.get(c.key, ''))}</td>" for c in t.columns)
        body.append(f"<tr class='{_e(cls)}'>{cells}</tr>" if cls else f"<tr>{cells}</tr>")
    cap = f"<caption>{_e(t.caption)}</caption>" if t.caption else ""
    cols = "".join(f"<col style='width:{w:.1f}%'>" for w in _column_widths(t))
    return (f"<table class='{_e(t.cls)}'>{cap}<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _boxes(b: Boxes) -> str:
    out = ["<div class='boxes'>"]
    for box in b.boxes:
        out.append(f"<div class='vbox b-{_e(box.verdict)}'><div class='vhead v-{_e(box.verdict)}'>"
                   f"<span>{_e(box.label)}</span><b>{_e(box.verdict.upper())}</b></div><ul>"
                   + "".join(f"<li>{_e(x)}</li>" for x in box.lines) + "</ul></div>")
    return "".join(out) + "</div>"


def _block(b: Block) -> str:
    if isinstance(b, Para):
        return f"<p class='{_e(b.cls)}'>{_e(b.text)}</p>"
    if isinstance(b, Bullets):
        return f"<ul class='{_e(b.cls)}'>" + "".join(f"<li>{_e(x)}</li>" for x in b.items) + "</ul>"
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        cap = f"<figcaption>{_e(b.caption)}</figcaption>" if b.caption else ""
        return f"<figure><img alt='{_e(b.alt)}' src='data:image/png;base64,{b.png_base64}'>{cap}</figure>"
    if isinstance(b, Gallery):
        return "<div class='gallery'>" + "".join(
            f"<figure><img alt='{_e(c)}' src='data:image/png;base64,{img}'><figcaption>{_e(c)}</figcaption></figure>"
            for img, c in zip(b.images_png_base64, b.captions)) + "</div>"
    if isinstance(b, Boxes):
        return _boxes(b)
    if isinstance(b, KeyFigures):
        return "<div class='figures'>" + "".join(f"<div><b>{_e(v)}</b><span>{_e(k)}</span></div>"
                                                 for k, v in b.items) + "</div>"
    if isinstance(b, Signatures):
        return "<div class='signatures'>" + "".join(
            f"<div><b>{_e(r)}</b><span>name</span><span>date</span><span>signature</span></div>" for r in b.roles
        ) + "</div>"
    raise TypeError(f"unknown block {type(b).__name__}")


def _section(s: Section) -> str:
    cls = " ".join(c for c, on in (("wide", s.wide), ("new-page", s.new_page)) if on)
    return (f"<section id='{_e(s.anchor)}' class='{cls}'><h2>{_e(s.title)}</h2>"
            + "".join(_block(b) for b in s.blocks) + "</section>")


def render_html(doc: Document) -> str:
    """The document as one HTML page."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(doc.title)}</title>"
            f"<style>{stylesheet()}</style></head><body><h1>{_e(doc.title)}</h1><p class='sub'>{_e(doc.subtitle)}"
            f"</p>" + "".join(_section(s) for s in doc.sections) + "</body></html>")
