"""Lab file columns: what a header names (sample id, analyte in element or oxide form, unit, text) and what a
cell holds (a number, a decimal-comma number, a ``<x`` or ``ND`` qualifier).

Headers from spreadsheets and LIMS exports come in many spellings: ``TFe``, ``T.Fe``, ``TFe wt%``, ``Fe(T)``,
``LOI 1000°C``, ``Sample No.``, ``P2O5 (%)``, ``Zn [ppm]`` and Chinese ones (``全铁/TFe``, ``样品编号``,
``二氧化硅``). :func:`parse_column` maps each to one canonical analyte key of :data:`sampler.lab.ANALYTES` and the
factor that turns the reported form into the canonical one (``Mn`` → MnO × 1.2912, ``P2O5`` → P × 0.4364,
``SO3`` → S × 0.4005).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: Unit → factor to mass %.
UNITS_TO_PCT: dict[str, float] = {"%": 1.0, "pct": 1.0, "wt%": 1.0, "ppm": 1e-4, "mg/kg": 1e-4, "g/t": 1e-4}

#: Reported form → (canonical key, factor from the reported form to the canonical one).
FORMS: dict[str, tuple[str, float]] = {
    "mn": ("mno", 70.937 / 54.938),
    "p2o5": ("p", 2 * 30.974 / 141.943),
    "so3": ("s", 32.06 / 80.06),
    "zno": ("zn", 65.38 / 81.38),
    "pbo": ("pb", 207.2 / 223.2),
    "cuo": ("cu", 63.546 / 79.545),
    "cr": ("cr2o3", 151.99 / (2 * 51.996)),
    "ti": ("tio2", 79.866 / 47.867),
}

#: Chinese names (GB/T reports) → canonical header token.
CHINESE: dict[str, str] = {
    "全铁": "tfe", "总铁": "tfe", "亚铁": "feo", "氧化亚铁": "feo", "金属铁": "mfe", "三氧化二铁": "fe2o3",
    "二氧化硅": "sio2", "三氧化二铝": "al2o3", "氧化铝": "al2o3", "氧化钙": "cao", "氧化镁": "mgo",
    "氧化锰": "mno", "锰": "mn", "二氧化钛": "tio2", "磷": "p", "五氧化二磷": "p2o5", "硫": "s", "三氧化硫": "so3",
    "锌": "zn", "铅": "pb", "铜": "cu", "砷": "as", "氟": "f", "氯": "cl", "镉": "cd", "汞": "hg",
    "三氧化二铬": "cr2o3", "氧化铬": "cr2o3", "氧化钠": "na2o", "氧化钾": "k2o", "碳": "c", "烧失量": "loi",
    "灼烧减量": "loi", "水分": "moisture", "样品编号": "sample_id", "样品号": "sample_id", "编号": "sample_id",
    "物相": "phases", "备注": "findings", "检测方法": "method", "单位": "unit",
}
ID_NAMES = ("sample_id", "sample", "sampleid", "id", "sample_no", "sample_number", "sample_code", "lab_id",
            "sample_name", "client_id", "client_sample_id")
TEXT_COLUMNS = ("phases", "texture", "findings")
TEXT_ALIASES = {"xrd": "phases", "xrd_phases": "phases", "phase": "phases", "microscopy": "texture",
                "notes": "findings", "comment": "findings", "comments": "findings", "remarks": "findings"}
#: Custody columns a lab may return with its results (per sample): time and person of each step, the seal.
CUSTODY_FIELDS = ("dispatched", "dispatched_by", "received", "received_by", "seal", "seal_intact", "analysed",
                  "analysed_by")
CUSTODY_ALIASES = {"date_received": "received", "received_at": "received", "date_analysed": "analysed",
                   "date_analyzed": "analysed", "analyzed": "analysed", "analyzed_by": "analysed_by",
                   "analyst": "analysed_by", "seal_no": "seal", "seal_number": "seal", "seal_ok": "seal_intact",
                   "dispatched_at": "dispatched", "courier": "dispatched_by", "sent": "dispatched",
                   "sent_by": "dispatched_by"}
#: Qualifiers a lab writes instead of a number: below a limit, or not detected.
ND_WORDS = ("nd", "n.d.", "n.d", "not detected", "bdl", "<lod", "< lod", "<dl", "未检出")
_QUAL_RE = re.compile(r"^<\s*(?P<limit>\d+(?:[.,]\d+)?)$")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_DECIMAL_COMMA_RE = re.compile(r"^[+-]?\d+,\d+$")


@dataclass(frozen=True)
class ColumnSpec:
    """What one header names. ``kind``: "id", "analyte", "text", "custody" or "unknown".

    For an analyte, ``key`` is the canonical analyte key, ``form`` the label as reported (``P2O5``, ``Mn``),
    ``factor`` what turns the reported form into the canonical one, ``unit`` the unit in the header ("" if none).
    """

    kind: str
    key: str
    unit: str = ""
    form: str = ""
    factor: float = 1.0


def _norm(header: str) -> str:
    h = header.strip().lower().replace("％", "%").replace("（", "(").replace("）", ")")
    h = re.sub(r"\d{3,4}\s*°?\s*c\b", " ", h)  # LOI 1000°C, LOI (1000 C)
    h = h.replace("°", " ").replace("wt.%", "wt%").replace("wt %", "wt%")
    for ch in "()[]:":
        h = h.replace(ch, " ")
    h = h.replace("%", " % ").replace("wt %", "wt%")
    h = h.replace(".", "" if re.match(r"^t\.fe\b", h) else " ").replace("#", " no ")
    return "_".join(h.split())


def _strip_unit(h: str) -> tuple[str, str]:
    for u in sorted(UNITS_TO_PCT, key=len, reverse=True):
        for sep in ("_", ""):
            suffix = sep + u
            if h.endswith(suffix) and len(h) > len(suffix):
                unit = "%" if u in ("pct", "wt%") else u
                return h[: -len(suffix)].rstrip("_"), unit
    return h, ""


def _tokens(header: str) -> list[str]:
    """Candidate names of a header: the whole, then the parts of ``全铁/TFe``, ``Fe (T)``, ``TFe 全铁``."""
    raw = header.strip()
    parts = [raw] + [p for p in re.split(r"[/|]|\s+(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])\s*(?=[A-Za-z])", raw)
                     if p.strip() and p.strip() != raw]
    out = []
    for p in parts:
        zh = re.sub(r"[^\u4e00-\u9fff]", "", p)
        if zh in CHINESE:
            rest = _strip_unit(_norm(re.sub(r"[\u4e00-\u9fff]", " ", p)))[1]
            out.append(CHINESE[zh] + ("_" + rest if rest else ""))
        out.append(_norm(p))
    return out


def parse_column(header: str, aliases: dict[str, str]) -> ColumnSpec:
    """The :class:`ColumnSpec` of one header; ``aliases`` maps analyte spellings to canonical keys.

    >>> parse_column("Zn (ppm)", {"zn": "zn"})
    ColumnSpec(kind='analyte', key='zn', unit='ppm', form='Zn', factor=1.0)
    """
    for h in _tokens(header):
        if h in ID_NAMES or h.replace("_", "") in ("sampleno", "sampleid"):
            return ColumnSpec("id", "sample_id")
        if h in TEXT_COLUMNS or h in TEXT_ALIASES:
            return ColumnSpec("text", TEXT_ALIASES.get(h, h))
        if h in CUSTODY_FIELDS or h in CUSTODY_ALIASES:
            return ColumnSpec("custody", CUSTODY_ALIASES.get(h, h))
        name, unit = _strip_unit(h)
        name = {"fe_t": "tfe", "fet": "tfe", "t_fe": "tfe", "fe_tot": "tfe"}.get(name, name)
        if name in aliases:
            return ColumnSpec("analyte", aliases[name], unit, form=name)
        if name in FORMS:
            key, factor = FORMS[name]
            return ColumnSpec("analyte", key, unit, form=name, factor=factor)
    return ColumnSpec("unknown", _norm(header))


@dataclass(frozen=True)
class Cell:
    """A parsed analyte cell: ``value`` in the reported unit and form (NaN for a qualifier), ``qualifier``
    (``"<"`` below a limit, ``"ND"`` not detected, "" for a number), ``limit`` of a ``<x`` cell, ``text`` as written
    (decimal comma kept), ``decimal_comma`` when the number used one."""

    value: float
    qualifier: str = ""
    limit: float = math.nan
    text: str = ""
    decimal_comma: bool = False


def parse_cell(raw: str) -> Cell | None:
    """A number, ``61,24`` (decimal comma), ``<0.005`` or ``ND``; None when it is none of these."""
    s = raw.strip().replace("\u2212", "-")
    low = s.lower()
    if low in ND_WORDS:
        return Cell(math.nan, "ND", text=s)
    m = _QUAL_RE.match(s)
    if m:
        lim = m.group("limit")
        return Cell(math.nan, "<", float(lim.replace(",", ".")), text=s, decimal_comma="," in lim)
    if _NUMBER_RE.match(s):
        return Cell(float(s), text=s)
    if _DECIMAL_COMMA_RE.match(s):
        return Cell(float(s.replace(",", ".")), text=s, decimal_comma=True)
    return None
