"""Typeset pages of the PDF report (A4 portrait, matplotlib object API): the first page an analyst signs,
tables that break across pages with their header repeated, and the provenance appendix.

Each function returns :class:`matplotlib.figure.Figure` objects the PDF writer saves as pages.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.patches import FancyBboxPatch, Rectangle

A4_IN = (8.27, 11.69)
LEFT, RIGHT, TOP, BOTTOM = 0.07, 0.93, 0.93, 0.06
FONT = "DejaVu Sans"
#: Colour of each verdict in the verdict boxes.
VERDICT_COLOURS = {"ore": "#2e7d32", "waste": "#ef6c00", "contaminated": "#c62828", "inconclusive": "#616161",
                   "pending": "#616161", "none": "#9e9e9e"}
_CHAR_IN = 0.0085  # average character width per point of font size, inches (DejaVu Sans, mixed text)


@dataclass(frozen=True)
class Column:
    """A table column: row key, header, share of the text width, alignment ("left"/"right")."""

    key: str
    header: str
    width: float
    align: str = "left"
    fmt: str = ""  # format spec for numbers, e.g. ".2f"; empty: 3 significant digits


def _fit(text: str, width_frac: float, size: float) -> str:
    max_chars = max(3, int(width_frac * (RIGHT - LEFT) * A4_IN[0] / (_CHAR_IN * size)))
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def cell_text(value: Any, digits: int = 3, fmt: str = "") -> str:
    """A value as a table cell: numbers by ``fmt`` or to ``digits`` significant figures, NaN/None empty."""
    if value is None:
        return ""
    if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, fmt) if math.isfinite(value) else ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:,.{digits}g}" if abs(value) < 10 ** digits else f"{value:,.0f}"
    return str(value)


def _page(title: str, subtitle: str = "") -> Figure:
    fig = Figure(figsize=A4_IN)
    fig.text(LEFT, 0.965, title, fontsize=13, weight="bold", va="top", family=FONT)
    if subtitle:
        fig.text(RIGHT, 0.035, subtitle, fontsize=7, va="top", ha="right", color="0.35", family=FONT)
    fig.add_artist(Rectangle((LEFT, 0.945), RIGHT - LEFT, 0.0012, transform=fig.transFigure, color="0.3"))
    return fig


@functools.lru_cache(maxsize=8)
def _font_height_pt(size: float) -> float:
    """Ascent + descent (points) of the table font at ``size`` from its OS/2 (or hhea) table: with a numeric
    ``linespacing`` matplotlib advances each line of a multi-line text by ``linespacing`` times this."""
    font = get_font(fontManager.findfont(FontProperties(family=FONT, size=size)))
    for table_name, ascent_key, descent_key in (("OS/2", "sTypoAscender", "sTypoDescender"),
                                                ("hhea", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is not None:
            return (table[ascent_key] - table[descent_key]) * size / font.get_sfnt_table("head")["unitsPerEm"]
    return 1.2 * size


def _linespacing(size: float, row_h: float) -> float:
    """matplotlib ``linespacing`` that makes each line of a text exactly ``row_h`` (figure fraction) tall on A4."""
    return row_h * A4_IN[1] * 72.0 / _font_height_pt(size)


def _draw_table(fig: Figure, top: float, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], *,
                size: float = 7.5, row_h: float = 0.0155) -> float:
    """Draw a header and ``rows`` from ``top`` down; return the y below the table.

    Each column is one multi-line text (a page of cells as a few hundred text objects is slow to write).
    """
    total = sum(c.width for c in columns)
    xs, x = [], LEFT
    for c in columns:
        xs.append(x)
        x += (RIGHT - LEFT) * c.width / total
    widths = [c.width / total for c in columns]
    ls = _linespacing(size, row_h)  # every line of a column text is one row tall, glyphs centred in it
    fig.add_artist(Rectangle((LEFT, top - row_h), RIGHT - LEFT, row_h, transform=fig.transFigure,
                             color="#e8eaf0", zorder=0))
    for c, x0, w in zip(columns, xs, widths):
        xt = x0 + (RIGHT - LEFT) * w - 0.004 if c.align == "right" else x0 + 0.004
        fig.text(xt, top, _fit(c.header, w, size), fontsize=size, weight="bold", ha=c.align, va="top",
                 family=FONT, linespacing=ls)
    body_top = top - row_h
    for i in range(1, len(rows), 2):
        fig.add_artist(Rectangle((LEFT, body_top - (i + 1) * row_h), RIGHT - LEFT, row_h, transform=fig.transFigure,
                                 color="#f6f6f8", zorder=0))
    first_line_top = body_top
    coloured = [k for k, c in enumerate(columns) if k == 0 or c.key in ("outcome", "state", "class")]
    colours = [r.get("_colour", "black") for r in rows]
    plain = all(col == "black" for col in colours)
    for k, (c, x0, w) in enumerate(zip(columns, xs, widths)):
        xt = x0 + (RIGHT - LEFT) * w - 0.004 if c.align == "right" else x0 + 0.004
        cells = [_fit(cell_text(r.get(c.key, ""), fmt=c.fmt), w, size) or " " for r in rows]
        if k in coloured and not plain:
            for colour in sorted(set(colours)):  # one text per colour, blank lines elsewhere
                lines = [t if col == colour else " " for t, col in zip(cells, colours)]
                fig.text(xt, first_line_top, "\n".join(lines), fontsize=size, ha=c.align, va="top", family=FONT,
                         color=colour, linespacing=ls, multialignment=c.align)
        else:
            fig.text(xt, first_line_top, "\n".join(cells), fontsize=size, ha=c.align, va="top", family=FONT,
                     linespacing=ls, multialignment=c.align)
    y = body_top - len(rows) * row_h
    fig.add_artist(Rectangle((LEFT, y), RIGHT - LEFT, 0.0008, transform=fig.transFigure, color="0.5"))
    return y - 0.5 * row_h


def table_pages(title: str, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], *, intro: str = "",
                subtitle: str = "", size: float = 7.5, max_rows: int | None = None) -> list[Figure]:
    """``rows`` as pages of a typeset table (header repeated on every page). ``max_rows`` cuts long tables
    (the rest is named on the last page)."""
    rows = list(rows)
    shown = rows if max_rows is None else rows[:max_rows]
    row_h = 0.0155 * size / 7.5
    intro_h = 0.03 if intro else 0.0
    per_page = max(5, int((TOP - 0.01 - intro_h - BOTTOM) / row_h) - 2)
    pages = []
    chunks = [shown[i:i + per_page] for i in range(0, len(shown), per_page)] or [[]]
    for k, chunk in enumerate(chunks):
        suffix = f" ({k + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        fig = _page(title + suffix, subtitle)
        top = TOP
        if intro and k == 0:
            fig.text(LEFT, top, intro, fontsize=8, va="top", family=FONT, wrap=True)
            top -= intro_h
        if not chunk:
            fig.text(LEFT, top, "none", fontsize=8, va="top", color="0.4", family=FONT)
        else:
            y = _draw_table(fig, top - 0.01, columns, chunk, size=size, row_h=row_h)
            if k == len(chunks) - 1 and len(rows) > len(shown):
                fig.text(LEFT, y - 0.01, f"{len(rows) - len(shown):,} more rows in the HTML report", fontsize=8,
                         va="top", color="0.4", family=FONT)
        pages.append(fig)
    return pages


def _verdict_box(fig: Figure, x: float, y: float, w: float, h: float, label: str, verdict: str,
                 lines: Sequence[str]) -> None:
    colour = VERDICT_COLOURS.get(verdict, "#616161")
    fig.add_artist(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.004", transform=fig.transFigure,
                                  facecolor="white", edgecolor=colour, linewidth=2.0))
    band_h = 0.06  # the label on its own line above the verdict word: a long verdict never runs over it
    fig.add_artist(Rectangle((x, y + h - band_h), w, band_h, transform=fig.transFigure, color=colour))
    fig.text(x + 0.012, y + h - 0.008, label, fontsize=8, color="white", va="top", family=FONT)
    fig.text(x + 0.012, y + h - band_h + 0.008, verdict.upper(), fontsize=15, weight="bold", color="white",
             va="bottom", ha="left", family=FONT)
    yy = y + h - band_h - 0.015
    for ln in lines[:7]:
        fig.text(x + 0.012, yy, _fit(ln, w / (RIGHT - LEFT) * 1.0, 7.5), fontsize=7.5, va="top", family=FONT)
        yy -= 0.016


def first_page(*, lot_id: str, identity: Sequence[tuple[str, str]], line_verdict: str, line_lines: Sequence[str],
               lab_verdict: str, lab_lines: Sequence[str], key_figures: Sequence[tuple[str, str]],
               reviews: Sequence[Mapping[str, Any]], generated: str) -> Figure:
    """The page an analyst signs: lot identity, the verdict box (line, then lab), key figures, review block."""
    fig = _page(f"Lot report {lot_id}", f"generated {generated}")
    y = TOP
    fig.text(LEFT, y, "Lot", fontsize=10, weight="bold", va="top", family=FONT)
    y -= 0.022
    half = (len(identity) + 1) // 2
    for col, items in enumerate((identity[:half], identity[half:])):
        yy = y
        x = LEFT + col * (RIGHT - LEFT) / 2
        for label, value in items:
            fig.text(x, yy, label, fontsize=8, color="0.35", va="top", family=FONT)
            fig.text(x + 0.15, yy, _fit(value, 0.32, 8.5), fontsize=8.5, va="top", family=FONT)
            yy -= 0.018
    y -= 0.018 * half + 0.02
    fig.text(LEFT, y, "Verdict", fontsize=10, weight="bold", va="top", family=FONT)
    y -= 0.02
    box_h = 0.19
    w = (RIGHT - LEFT - 0.02) / 2
    _verdict_box(fig, LEFT, y - box_h, w, box_h, "1  line (NIR, camera, SPRT)", line_verdict, line_lines)
    _verdict_box(fig, LEFT + w + 0.02, y - box_h, w, box_h, "2  lab (assays, phases)", lab_verdict, lab_lines)
    y -= box_h + 0.035
    fig.text(LEFT, y, "Key figures", fontsize=10, weight="bold", va="top", family=FONT)
    y -= 0.024
    cols = 3
    cell_w = (RIGHT - LEFT) / cols
    for i, (label, value) in enumerate(key_figures):
        x = LEFT + (i % cols) * cell_w
        yy = y - (i // cols) * 0.042
        fig.text(x, yy, value, fontsize=12, weight="bold", va="top", family=FONT)
        fig.text(x, yy - 0.02, label, fontsize=7.5, color="0.35", va="top", family=FONT)
    y -= 0.042 * math.ceil(len(key_figures) / cols) + 0.02
    fig.text(LEFT, y, "Review", fontsize=10, weight="bold", va="top", family=FONT)
    y -= 0.01
    if reviews:
        y = _draw_table(fig, y - 0.012, [Column("time", "time (UTC)", 1.2), Column("reviewer", "analyst", 1.2),
                                         Column("decision", "decision", 0.8), Column("lab_verdict", "lab verdict then", 0.9),
                                         Column("comment", "comment", 3.0)], reviews)
        y -= 0.01
    else:
        fig.text(LEFT, y - 0.01, "no review recorded (oreline archive review LOT.h5 --name ... --decision ...)",
                 fontsize=7.5, color="0.4", va="top", family=FONT)
        y -= 0.03
    y -= 0.02
    for i, label in enumerate(("Analyst", "Decision", "Date", "Signature")):
        x = LEFT + i * (RIGHT - LEFT) / 4
        fig.add_artist(Rectangle((x, y - 0.035), (RIGHT - LEFT) / 4 - 0.015, 0.0008, transform=fig.transFigure,
                                 color="0.2"))
        fig.text(x, y - 0.04, label, fontsize=7.5, color="0.35", va="top", family=FONT)
    return fig
