"""Lab results import: a file of assays and phase findings, one row per sample, validated before anything is attached.

What a lab or LIMS exports is read as it is (:mod:`sampler.labfile`, :mod:`sampler.labcolumns`):

* comma, semicolon or tab separated; UTF-8 (with or without BOM), UTF-16 or GBK/cp1252 (sniffed, the guess
  reported); decimal commas (``61,24``); at most 4 MiB and 4,000 characters a cell;
* a preamble of certificate metadata above the header (``Laboratory: ...``, ``Report No.: ...``,
  ``Date received: ...``, ``Date analysed: ...``), a ``units`` row and a ``method`` row under the header (the
  first cell ``unit``/``units``/``单位`` or ``method``/``检测方法``);
* ``sample_id`` (also ``Sample No.``, ``样品编号``; matched without regard to case);
* any subset of the analytes in :data:`ANALYTES` in element or oxide form (``Mn``/``MnO``, ``P``/``P2O5``,
  ``S``/``SO3``, ``TFe``/``T.Fe``/``全铁``, ``Fe2O3`` read as total iron when no TFe is given), mass %, dry basis
  except moisture. The unit goes in the header (``Zn ppm``, ``Pb (g/t)``, ``TFe wt%``) or the units row;
  ppm = mg/kg = g/t = 1e-4 %. Major constituents (iron, SiO2, Al2O3, CaO, MgO, LOI, moisture) only in %;
* a value, ``<0.005`` (below the limit) or ``ND`` (not detected): qualifiers are stored as written. The rules
  take a qualified analyte as 0 when its limit lies below every threshold the rules set on it (ND: always),
  and as not reported otherwise (``sampler.labrules.qualified_value``); sums count it as 0;
* ``phases`` (XRD, ``;`` or ``|`` separated, ``(major)``/``(minor)``/``(trace)`` kept), ``texture``,
  ``findings``; custody columns ``dispatched``, ``dispatched_by``, ``received``, ``received_by``, ``seal``,
  ``seal_intact``, ``analysed``, ``analysed_by``.

Checks: an unknown column, a value that is neither a number nor a qualifier, out of range (LOI down to -10 %), a
major constituent given in ppm, metallic Fe or Fe in FeO above TFe, the sum of oxides above 102 % at its lowest
(iron not reported as FeO may be FeO or Fe2O3: the lower bound counts it as FeO), a low total when the major
constituents are reported (below :data:`MIN_TOTAL_WITH_LOI_PCT` with LOI, :data:`MIN_TOTAL_PCT` without, at the
highest bound; a ppm column that would close the total if read as % is named), a seal that is not the sample's,
custody times out of order, an empty, duplicate or unknown sample id, and a sample that already has a result
(a second import needs ``supersede``; the earlier result stays in the history). Every problem is collected into
one :class:`~sampler.errors.LabResultError` (file, 1-based line, column, what was expected), so nothing is
half-imported. The SHA-256 of the file is kept with every result.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sampler.errors import LabResultError
from sampler.labcolumns import UNITS_TO_PCT, Cell, ColumnSpec, parse_cell
from sampler.labcolumns import parse_column as _parse_spec
from sampler.labfile import LabFile, decode, read_bounded, read_lab_file


@dataclass(frozen=True)
class Analyte:
    """One reportable analyte: canonical key, label, highest value (mass %), oxide factor for the oxide sum."""

    key: str
    label: str
    max_pct: float
    #: Mass of the oxide counted in the oxide sum per mass of the analyte (0: not counted; iron is done apart).
    oxide_factor: float = 0.0
    aliases: tuple[str, ...] = ()
    min_pct: float = 0.0
    #: False for major constituents, which a lab reports in % only (ppm there is a unit mistake).
    ppm_ok: bool = True


#: Every analyte the import accepts (mass %, dry basis; moisture of the wet sample).
ANALYTES: tuple[Analyte, ...] = (
    Analyte("tfe", "TFe", 75.0, aliases=("fe", "fe_total", "total_fe", "fe_t", "tfe_wt%", "t_fe"), ppm_ok=False),
    Analyte("feo", "FeO", 100.0, ppm_ok=False),
    Analyte("mfe", "MFe", 100.0, aliases=("fe_met", "fe_metallic", "metallic_fe", "fe_m", "fe0", "m_fe"),
            ppm_ok=False),
    Analyte("fe2o3", "Fe2O3", 100.0, aliases=("fe2o3t", "fe2o3_t"), ppm_ok=False),
    Analyte("sio2", "SiO2", 100.0, 1.0, ppm_ok=False),
    Analyte("al2o3", "Al2O3", 100.0, 1.0, ppm_ok=False),
    Analyte("cao", "CaO", 100.0, 1.0, ppm_ok=False),
    Analyte("mgo", "MgO", 100.0, 1.0, ppm_ok=False),
    Analyte("mno", "MnO", 100.0, 1.0),
    Analyte("tio2", "TiO2", 100.0, 1.0),
    Analyte("p", "P", 10.0, 2.2914),     # as P2O5
    Analyte("s", "S", 30.0, 0.0),
    Analyte("zn", "Zn", 80.0, 1.2447),   # as ZnO
    Analyte("pb", "Pb", 80.0, 1.0772),   # as PbO
    Analyte("cu", "Cu", 80.0, 1.2518),   # as CuO
    Analyte("cr2o3", "Cr2O3", 100.0, 1.0),
    Analyte("na2o", "Na2O", 100.0, 1.0),
    Analyte("k2o", "K2O", 100.0, 1.0),
    Analyte("as", "As", 10.0, 1.3203),   # as As2O3
    Analyte("f", "F", 20.0),
    Analyte("cl", "Cl", 20.0),
    Analyte("cd", "Cd", 5.0),
    Analyte("hg", "Hg", 1.0),
    Analyte("c", "C", 100.0, 0.0),
    Analyte("loi", "LOI", 50.0, 0.0, aliases=("loss_on_ignition", "ignition_loss"), min_pct=-10.0, ppm_ok=False),
    Analyte("moisture", "moisture", 40.0, 0.0, aliases=("h2o", "water", "h2o-", "mt", "tm"), ppm_ok=False),
)
ANALYTE_BY_KEY: dict[str, Analyte] = {a.key: a for a in ANALYTES}
_ALIASES: dict[str, str] = {alias: a.key for a in ANALYTES for alias in (a.key, *a.aliases)}
TEXT_COLUMNS = ("phases", "texture", "findings")
#: Fe mass fractions: Fe in FeO, Fe2O3 per Fe, Fe in Fe2O3.
FE_IN_FEO = 55.845 / 71.844
FE2O3_PER_FE = 159.687 / (2 * 55.845)
FE_IN_FE2O3 = 1.0 / FE2O3_PER_FE
#: FeO can hold at most TFe / 0.7773 = TFe × 1.2865 (all iron as FeO).
FEO_MAX_PER_TFE = 1.0 / FE_IN_FEO
MAX_OXIDE_SUM_PCT = 102.0
#: Lowest plausible total of a complete analysis (oxides + S, C, halogens + LOI), with and without LOI reported:
#: goethitic ores lose up to ~12 % on ignition, so without LOI the bound is lower.
MIN_TOTAL_WITH_LOI_PCT = 92.0
MIN_TOTAL_PCT = 85.0
#: The analytes that make an analysis "complete" enough for the low-total check.
MAJORS = ("tfe", "sio2", "al2o3", "cao")
PHASE_QUALIFIERS = ("major", "minor", "trace")
MAX_ERRORS_SHOWN = 200
#: Rows under the header that carry units or methods, by their first cell.
UNIT_ROW_WORDS = ("unit", "units", "单位")
METHOD_ROW_WORDS = ("method", "methods", "test method", "检测方法", "方法")


@dataclass(frozen=True)
class Phase:
    """An XRD phase as reported: normalised name and an optional qualifier (major, minor, trace)."""

    name: str
    qualifier: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.qualifier})" if self.qualifier else self.name


@dataclass(frozen=True)
class LabResult:
    """Assays of one sample (mass %, dry basis; moisture of the wet sample) and the lab's phase findings.

    ``assays_pct`` holds the reported numbers in canonical form (any subset of :data:`ANALYTES`; a qualified
    value is not there, see ``qualified``). ``reported`` keeps each analyte's text as the lab wrote it
    (``"61.24"``, ``"<0.005"``, ``"ND"``), ``forms`` the reported name (``P2O5``), ``units`` the reported unit,
    ``qualified`` the limit (%) of each ``<x`` value (NaN for ND), ``methods`` the method per analyte,
    ``certificate`` lab name, report number, dates, file name and SHA-256, ``custody`` the lab's custody steps.
    ``supersedes`` is True for a result that replaces an earlier one of the same sample.
    """

    sample_id: str
    assays_pct: Mapping[str, float]
    phases: tuple[Phase, ...] = ()
    texture: str = ""
    findings: str = ""
    source: str = ""
    supersedes: bool = False
    units: Mapping[str, str] = field(default_factory=dict)
    reported: Mapping[str, str] = field(default_factory=dict)
    forms: Mapping[str, str] = field(default_factory=dict)
    qualified: Mapping[str, float] = field(default_factory=dict)
    methods: Mapping[str, str] = field(default_factory=dict)
    certificate: Mapping[str, str] = field(default_factory=dict)
    custody: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> float:
        """An assay in %, NaN when not reported (or reported only as ``<x``/ND: see ``qualified``)."""
        return float(self.assays_pct.get(key, math.nan))

    @property
    def phase_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.phases)

    def as_reported(self, key: str) -> tuple[str, str, str]:
        """(name, text, unit) of an analyte as the lab reported it; ("", "", "") when it was not."""
        if key not in self.reported:
            return "", "", ""
        return self.forms.get(key, ANALYTE_BY_KEY[key].label), self.reported[key], self.units.get(key, "%")

    def to_row(self) -> dict[str, Any]:
        """Flat row: ``sample_id``, ``<analyte>_pct`` for each numeric analyte, text fields, and the reported forms."""
        row: dict[str, Any] = {"sample_id": self.sample_id}
        for a in ANALYTES:
            if a.key in self.assays_pct:
                row[f"{a.key}_pct"] = self.assays_pct[a.key]
        row.update({"phases": "; ".join(str(p) for p in self.phases), "texture": self.texture,
                    "findings": self.findings, "source": self.source, "supersedes": self.supersedes,
                    "reported": dict(self.reported), "forms": dict(self.forms), "units": dict(self.units),
                    "qualified": {k: (None if math.isnan(v) else v) for k, v in self.qualified.items()},
                    "methods": dict(self.methods), "certificate": dict(self.certificate),
                    "custody": dict(self.custody)})
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LabResult:
        """Rebuild from :meth:`to_row` (as stored in an archive; older rows without the reported forms too)."""
        assays = {}
        for a in ANALYTES:
            v = row.get(f"{a.key}_pct")
            if v is not None and v != "":
                assays[a.key] = float(v)
        reported = dict(row.get("reported") or {})
        if not reported:  # archives from before reported forms: the stored number is what was reported
            reported = {k: f"{v:g}" for k, v in assays.items()}
        units = {k: v for k, v in dict(row.get("units") or {}).items() if k in ANALYTE_BY_KEY}
        qualified = {k: (math.nan if v is None else float(v)) for k, v in dict(row.get("qualified") or {}).items()}
        return cls(str(row.get("sample_id", "")), assays, parse_phases(str(row.get("phases") or "")),
                   str(row.get("texture") or ""), str(row.get("findings") or ""), str(row.get("source") or ""),
                   bool(row.get("supersedes", False)), units, reported, dict(row.get("forms") or {}), qualified,
                   dict(row.get("methods") or {}), dict(row.get("certificate") or {}), dict(row.get("custody") or {}))


def parse_column(header: str) -> tuple[str, str, str]:
    """(kind, key, unit) of a header: kind "id", "analyte", "text", "custody" or "unknown"; unit "" when not given.

    >>> parse_column("Zn (ppm)")
    ('analyte', 'zn', 'ppm')
    """
    spec = column_spec(header)
    return spec.kind, spec.key, spec.unit


def column_spec(header: str) -> ColumnSpec:
    """The full :class:`~sampler.labcolumns.ColumnSpec` of a header (form and factor of element/oxide forms)."""
    spec = _parse_spec(header, _ALIASES)
    if spec.kind == "analyte":
        label = ANALYTE_BY_KEY[spec.key].label
        form = label if spec.form in _ALIASES else _FORM_LABELS.get(spec.form, spec.form)
        return ColumnSpec("analyte", spec.key, spec.unit, form, spec.factor)
    return spec


_FORM_LABELS = {"mn": "Mn", "p2o5": "P2O5", "so3": "SO3", "zno": "ZnO", "pbo": "PbO", "cuo": "CuO", "cr": "Cr",
                "ti": "Ti"}


def parse_phases(text: str) -> tuple[Phase, ...]:
    """XRD phases from ``"hematite; larnite (minor); glass: trace"`` (``;``, ``|`` or ``,`` separated)."""
    out: list[Phase] = []
    for part in re.split(r"[;|,]", text):
        part = part.strip()
        if not part:
            continue
        qual = ""
        m = re.match(r"^(.*?)\s*(?:\((\w+)\)|:\s*(\w+))\s*$", part)
        if m and (m.group(2) or m.group(3) or "").lower() in PHASE_QUALIFIERS:
            part, qual = m.group(1), (m.group(2) or m.group(3)).lower()
        out.append(Phase(normalise_phase(part), qual))
    return tuple(out)


def normalise_phase(name: str) -> str:
    """Lower case, ASCII umlauts (wüstite → wustite), single spaces."""
    n = " ".join(name.strip().lower().split())
    return n.replace("ü", "u").replace("å", "a").replace("ö", "o").replace("é", "e")



def _iron_oxides_pct(assays_pct: Mapping[str, float]) -> tuple[float, float]:
    """(lowest, highest) mass of iron and its oxides (%). Iron not reported as FeO or metal may be FeO (magnetite,
    wüstite, mill scale) or Fe2O3: the bounds count it as all FeO and as all Fe2O3."""
    feo, mfe = assays_pct.get("feo"), assays_pct.get("mfe", 0.0)
    tfe = assays_pct.get("tfe")
    if tfe is None:
        return (feo or 0.0) + mfe, (feo or 0.0) + mfe
    if feo is not None:
        fixed = mfe + feo + max(0.0, tfe - mfe - feo * FE_IN_FEO) * FE2O3_PER_FE
        return fixed, fixed
    rest = max(0.0, tfe - mfe)
    return mfe + rest * FEO_MAX_PER_TFE, mfe + rest * FE2O3_PER_FE


def oxide_sum_bounds_pct(assays_pct: Mapping[str, float]) -> tuple[float, float]:
    """(lowest, highest) sum of the reported constituents as oxides (%): iron as metal/FeO/Fe2O3 (bounded when FeO
    is not reported), P as P2O5, Zn/Pb/Cu/As as oxides, the oxides as they are. LOI, C, S, moisture not counted."""
    others = sum(v * ANALYTE_BY_KEY[k].oxide_factor for k, v in assays_pct.items())
    lo, hi = _iron_oxides_pct(assays_pct)
    return others + lo, others + hi


def oxide_sum_pct(assays_pct: Mapping[str, float]) -> float:
    """The sum of oxides with the iron not in FeO or metal counted as Fe2O3 (its highest bound)."""
    return oxide_sum_bounds_pct(assays_pct)[1]


def analysis_total_pct(assays_pct: Mapping[str, float]) -> float:
    """The highest total of an analysis: oxides (highest bound) + S, C, F, Cl + LOI (moisture is not counted)."""
    extra = sum(assays_pct.get(k, 0.0) for k in ("s", "c", "f", "cl", "loi"))
    return oxide_sum_bounds_pct(assays_pct)[1] + extra


def check_assays(assays_pct: Mapping[str, float], *, complete: Iterable[str] = ()) -> list[str]:
    """Problems of a set of assays (%): iron balance, the oxide sum's upper bound and, when the analytes in
    ``complete`` include :data:`MAJORS`, a total too low. Empty when plausible."""
    problems = []
    tfe = assays_pct.get("tfe")
    if tfe is not None:
        feo = assays_pct.get("feo")
        if feo is not None and feo > tfe * FEO_MAX_PER_TFE + 1e-9:
            problems.append(f"FeO {feo:g} % holds more iron than TFe {tfe:g} % (FeO must be <= TFe x "
                            f"{FEO_MAX_PER_TFE:.3f} = {tfe * FEO_MAX_PER_TFE:.2f} %)")
        mfe = assays_pct.get("mfe")
        if mfe is not None and mfe > tfe + 1e-9:
            problems.append(f"metallic Fe {mfe:g} % exceeds TFe {tfe:g} %")
        elif mfe is not None and feo is not None and mfe + feo * FE_IN_FEO > tfe + 0.5:
            problems.append(f"metallic Fe {mfe:g} % + Fe in FeO {feo * FE_IN_FEO:.2f} % exceed TFe {tfe:g} %")
    low, _high = oxide_sum_bounds_pct(assays_pct)
    if low > MAX_OXIDE_SUM_PCT:
        how = "iron as Fe/FeO/Fe2O3" if "feo" in assays_pct or tfe is None else "iron not in metal counted as FeO"
        problems.append(f"sum of oxides {low:.1f} % ({how}) exceeds {MAX_OXIDE_SUM_PCT:g} %")
    if set(MAJORS) <= set(complete):
        total = analysis_total_pct(assays_pct)
        floor = MIN_TOTAL_WITH_LOI_PCT if "loi" in complete else MIN_TOTAL_PCT
        if total < floor:
            problems.append(f"the analysis totals {total:.1f} % (oxides with iron as Fe2O3, + S, C, F, Cl, LOI); "
                            f"expected at least {floor:g} % for a complete analysis"
                            + ("" if "loi" in complete else " without LOI")
                            + ": a missing constituent, a wrong unit or values scaled by mistake")
    return problems


def read_csv_text(path: Path, what: str) -> str:
    """The text of a CSV (size-bounded; UTF-8/UTF-16/GBK sniffed). Raises LabResultError naming ``what``."""
    data = read_bounded(Path(path), what)
    try:
        return decode(data)[0]
    except LabResultError as exc:
        raise LabResultError(f"{what} {path}: {exc}") from exc


@dataclass
class _Columns:
    """The header of a lab file, parsed: one spec per column, the id column, units and methods per column."""

    header: list[str]
    specs: list[ColumnSpec]
    id_col: int
    units: list[str]
    methods: list[str]


def _is_header(cells: list[str]) -> bool:
    specs = [column_spec(c) for c in cells if c.strip()]
    return any(s.kind == "id" for s in specs) and any(s.kind in ("analyte", "text") for s in specs) or (
        sum(s.kind == "analyte" for s in specs) >= 2 and len(specs) >= 3)


def _parse_header(lab: LabFile, errors: list[str]) -> _Columns:
    header = lab.header
    specs = [column_spec(h) for h in header]
    for col, (h, s) in enumerate(zip(header, specs), start=1):
        if s.kind == "unknown" and h.strip():
            errors.append(f"line {lab.header_line}, column {col}: unknown column {h!r}; expected sample_id, phases, "
                          f"texture, findings, custody columns or an analyte of {[a.label for a in ANALYTES]} "
                          f"(element or oxide form; unit in the name: %, ppm, mg/kg, g/t)")
    keys = [s.key for s in specs if s.kind in ("id", "analyte", "text", "custody")]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        errors.append(f"line {lab.header_line}: column(s) {dup} given more than once (also as element and oxide)")
    ids = [i for i, s in enumerate(specs) if s.kind == "id"]
    if not ids:
        raise LabResultError(f"lab results file {lab.path}: expected a sample_id column (sample_id, Sample No., "
                             f"样品编号), got {header or 'no header row'}"
                             + ("\n  " + "\n  ".join(errors) if errors else ""))
    return _Columns(header, specs, ids[0], [s.unit for s in specs], [""] * len(specs))


def _read_unit_and_method_rows(lab: LabFile, cols: _Columns, errors: list[str]) -> None:
    """Consume the ``units`` and ``method`` rows right under the header."""
    while lab.rows and len(lab.rows[0][1]) > cols.id_col:
        first = lab.rows[0][1][cols.id_col].strip().lower()
        if first not in UNIT_ROW_WORDS and first not in METHOD_ROW_WORDS:
            return
        line, cells = lab.rows.pop(0)
        for i, cell in enumerate(cells[: len(cols.specs)]):
            value = cell.strip()
            if i == cols.id_col or not value or cols.specs[i].kind != "analyte":
                continue
            if first in METHOD_ROW_WORDS:
                cols.methods[i] = value
                continue
            u = value.lower().replace("wt.%", "wt%")
            u = "%" if u in ("pct", "wt%") else u
            if u not in UNITS_TO_PCT:
                errors.append(f"line {line}, column {i + 1} {cols.header[i]!r}: unit {value!r}; expected one of "
                              f"{list(UNITS_TO_PCT)}")
            elif cols.units[i] and cols.units[i] != u:
                errors.append(f"line {line}, column {i + 1} {cols.header[i]!r}: unit {u!r} contradicts the "
                              f"header's ({cols.units[i]!r})")
            else:
                cols.units[i] = u


@dataclass
class _Context:
    """What a row is checked against: the lot's samples, those already imported, seals, the file's certificate."""

    known: dict[str, str]
    imported: set[str]
    supersede: bool
    seals: Mapping[str, str]
    certificate: dict[str, str]
    source: str = ""
    seen: dict[str, int] = field(default_factory=dict)


TIME_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                "%Y/%m/%d", "%Y/%m/%d %H:%M", "%d.%m.%Y", "%d.%m.%Y %H:%M")
SEAL_WORDS = {"yes": "intact", "y": "intact", "true": "intact", "intact": "intact", "ok": "intact", "1": "intact",
              "no": "broken", "n": "broken", "false": "broken", "broken": "broken", "0": "broken", "完好": "intact"}


def parse_time(text: str) -> datetime | None:
    """A date or date-time as labs write them (ISO, ``2026/12/01``, ``01.12.2026 14:30``); None if none fits."""
    s = text.strip().rstrip("Z").replace(" UTC", "")
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    return None


def _analyte_cell(raw: str, i: int, cols: _Columns, where: str, errors: list[str]) -> tuple[float, Cell] | None:
    """(value in canonical %, the parsed cell) of one analyte cell; None (with the problem noted) when unusable."""
    spec, head = cols.specs[i], f"column {i + 1} {cols.header[i]!r}"
    a = ANALYTE_BY_KEY[spec.key]
    cell = parse_cell(raw)
    if cell is None:
        errors.append(f"{where}, {head}: expected a number, '<limit' or ND, got {raw!r}")
        return None
    unit = cols.units[i] or "%"
    if unit != "%" and not a.ppm_ok:
        errors.append(f"{where}, {head}: {a.label} is a major constituent reported in %; expected %, got {unit}")
        return None
    number = cell.limit if cell.qualifier == "<" else cell.value
    value_pct = number * spec.factor * UNITS_TO_PCT[unit]
    if cell.qualifier == "ND":
        return math.nan, cell
    if not math.isfinite(value_pct):
        errors.append(f"{where}, {head}: {a.label} expected a finite number, got {raw!r}")
    elif value_pct < a.min_pct:
        what = "negative" if a.min_pct == 0 else f"below {a.min_pct:g} %"
        errors.append(f"{where}, {head}: {a.label} {what}: expected {a.min_pct:g}..{a.max_pct:g} %, got {raw} {unit}")
    elif value_pct > a.max_pct:
        errors.append(f"{where}, {head}: {a.label} expected {a.min_pct:g}..{a.max_pct:g} %, got {raw} {unit}")
    else:
        return value_pct, cell
    return None


def _custody_cells(cells: list[str], cols: _Columns, sid: str, where: str, ctx: _Context,
                   errors: list[str]) -> dict[str, str]:
    """The lab's custody steps of one sample: times checked and in order, the seal checked against the sample's."""
    out = {k: ctx.certificate[k] for k in ("received", "analysed") if ctx.certificate.get(k)}
    for i, spec in enumerate(cols.specs):
        if spec.kind == "custody" and cells[i].strip():
            out[spec.key] = cells[i].strip()
    times = {}
    for step in ("dispatched", "received", "analysed"):
        if out.get(step):
            t = parse_time(out[step])
            if t is None:
                errors.append(f"{where}, {step} {out[step]!r}: expected a date or time like 2026-12-01 14:30")
            else:
                times[step] = t
    steps = [s for s in ("dispatched", "received", "analysed") if s in times]
    for a, b in itertools.pairwise(steps):
        if times[b] < times[a]:
            errors.append(f"{where}: {b} {out[b]} before {a} {out[a]}; expected dispatched <= received <= analysed")
    if "seal_intact" in out:
        state = SEAL_WORDS.get(out["seal_intact"].lower())
        if state is None:
            errors.append(f"{where}, seal_intact {out['seal_intact']!r}: expected yes/no (intact/broken)")
        else:
            out["seal_intact"] = state
    expected = ctx.seals.get(sid, "")
    if out.get("seal") and expected and out["seal"] != expected:
        errors.append(f"{where}, seal {out['seal']!r}: not the seal of {sid} (expected {expected!r}): the lab "
                      f"received another container or a re-sealed one")
    elif expected and out.get("seal") == expected:
        out["seal_checked"] = "matches the sample's seal"
    return out


def _sample_id(raw: str, line: int, ctx: _Context, errors: list[str]) -> str | None:
    """The lot's sample id for a cell (matched without regard to case), or None with the problem noted."""
    text = raw.strip()
    if not text:
        errors.append(f"line {line}: empty sample_id")
        return None
    sid = ctx.known.get(text.casefold(), text)
    if sid in ctx.seen:
        errors.append(f"line {line}: duplicate sample_id {text!r} (first on line {ctx.seen[sid]})")
        return None
    ctx.seen[sid] = line
    if text.casefold() not in ctx.known:
        errors.append(f"line {line}: unknown sample_id {text!r} (not a sample of this lot)")
    elif sid in ctx.imported and not ctx.supersede:
        errors.append(f"line {line}: sample {sid!r} already has a lab result; import again with supersede to "
                      f"replace it (the earlier result is kept in the history)")
    return sid


def _unit_hint(assays: Mapping[str, float], units: Mapping[str, str], complete: set[str]) -> str:
    """Which ppm columns, read as %, would bring a low total into range (a % figure under a ppm header)."""
    ppm = [k for k, u in units.items() if u != "%" and k in assays]
    if not ppm:
        return ""
    as_pct = {k: (v * 1e4 if k in ppm else v) for k, v in assays.items()}
    if check_assays(as_pct, complete=complete):
        return ""
    names = ", ".join(f"{ANALYTE_BY_KEY[k].label} {units[k]}" for k in ppm)
    return (f"; read as %, {names} would total {analysis_total_pct(as_pct):.1f} %: "
            f"check the unit (ppm given, % meant?)")


def _read_row(line: int, cells: list[str], cols: _Columns, ctx: _Context, errors: list[str]) -> LabResult | None:
    if len(cells) > len(cols.header) and any(c.strip() for c in cells[len(cols.header):]):
        errors.append(f"line {line}: expected {len(cols.header)} fields, got {len(cells)} (extra values "
                      f"{cells[len(cols.header):]!r})")
        return None
    cells = (cells + [""] * len(cols.header))[: len(cols.header)]
    sid = _sample_id(cells[cols.id_col], line, ctx, errors)
    if sid is None:
        return None
    where = f"line {line} ({sid})"
    n_errors = len(errors)
    assays: dict[str, float] = {}
    reported, forms, units, qualified, methods, texts = {}, {}, {}, {}, {}, {}
    for i, spec in enumerate(cols.specs):
        raw = cells[i].strip()
        if spec.kind == "text":
            texts[spec.key] = raw
        if spec.kind != "analyte" or raw == "":
            continue
        parsed = _analyte_cell(raw, i, cols, where, errors)
        if parsed is None:
            continue
        value_pct, cell = parsed
        reported[spec.key], forms[spec.key], units[spec.key] = cell.text, spec.form, cols.units[i] or "%"
        if cols.methods[i]:
            methods[spec.key] = cols.methods[i]
        if cell.qualifier:
            qualified[spec.key] = value_pct
        else:
            assays[spec.key] = value_pct
    if "fe2o3" in assays and "tfe" not in reported:
        assays["tfe"] = assays["fe2o3"] * FE_IN_FE2O3  # Fe2O3 without TFe: total iron expressed as Fe2O3
    complete = set(assays) | set(qualified)
    if len(errors) == n_errors:
        problems = check_assays(assays, complete=complete)
        if problems and problems[-1].startswith("the analysis totals"):
            problems[-1] += _unit_hint(assays, units, complete)
        errors += [f"{where}: {p}" for p in problems]
    phases = parse_phases(texts.get("phases", ""))
    if not reported and not phases and len(errors) == n_errors:
        errors.append(f"{where}: no assay and no phase reported")
    custody = _custody_cells(cells, cols, sid, where, ctx, errors)
    return LabResult(sid, assays, phases, texts.get("texture", ""), texts.get("findings", ""),
                     ctx.source, ctx.supersede and sid in ctx.imported, units, reported, forms,
                     qualified, methods, dict(ctx.certificate), custody)


def load_lab_results(path: str | Path, known_sample_ids: Iterable[str], *,
                     imported_sample_ids: Iterable[str] = (), supersede: bool = False,
                     seals: Mapping[str, str] | None = None) -> list[LabResult]:
    """Read and validate a lab file; return one :class:`LabResult` per row in file order.

    ``known_sample_ids`` are the lot's samples (a file's ids match them without regard to case);
    ``imported_sample_ids`` those that already have a result: one of them in the file is an error unless
    ``supersede`` (the new result then carries ``supersedes=True``). ``seals`` maps sample ids to the seal their
    container left with: a different seal in the file is an error. Raises :class:`LabResultError` listing every
    problem (see the module docstring); nothing is returned half-validated.
    """
    results, _lab = load_lab_file(path, known_sample_ids, imported_sample_ids=imported_sample_ids,
                                  supersede=supersede, seals=seals)
    return results


def load_lab_file(path: str | os.PathLike[str], known_sample_ids: Iterable[str], *, imported_sample_ids: Iterable[str] = (),
                  supersede: bool = False, seals: Mapping[str, str] | None = None
                  ) -> tuple[list[LabResult], LabFile]:
    """:func:`load_lab_results` and how the file was read (encoding, separator, SHA-256, certificate metadata)."""
    path = Path(path)
    lab = read_lab_file(path, _is_header)
    errors: list[str] = list(lab.problems)
    if not lab.header:
        raise LabResultError(f"lab results file {path}: expected a header row with a sample_id column (sample_id, "
                             f"Sample No., 样品编号) and analytes, got "
                             + (f"{lab.first_row}" if lab.first_row else "an empty file")
                             + ("\n  " + "\n  ".join(errors) if errors else ""))
    cols = _parse_header(lab, errors)
    _read_unit_and_method_rows(lab, cols, errors)
    certificate = {**lab.metadata, "file": path.name, "sha256": lab.sha256, "encoding": lab.encoding}
    known = {str(s).casefold(): str(s) for s in known_sample_ids}
    ctx = _Context(known, set(imported_sample_ids), supersede, dict(seals or {}), certificate, str(path))
    results = []
    for line, cells in lab.rows:
        if all(not c.strip() for c in cells):
            continue
        res = _read_row(line, cells, cols, ctx, errors)
        if res is not None:
            results.append(res)
    if not results and not errors:
        errors.append("no result rows")
    if errors:
        shown = "\n  ".join(errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise LabResultError(f"lab results file {path} ({lab.encoding}, sha256 {lab.sha256[:12]}): {len(errors)} "
                             f"problem(s), nothing imported:\n  {shown}{more}")
    return results, lab


def attach_results(
    sample_rows: Iterable[Mapping[str, Any]], results: Iterable[LabResult]
) -> list[dict[str, Any]]:
    """Sample rows (``Sample.to_row()``) with their lab result's fields added (absent when not analysed yet).

    Raises :class:`LabResultError` if a result names a sample that is not in ``sample_rows``.
    """
    by_id = {r.sample_id: r for r in results}
    rows = [dict(s) for s in sample_rows]
    ids = {r["sample_id"] for r in rows}
    stray = sorted(set(by_id) - ids)
    if stray:
        raise LabResultError(f"lab results for unknown samples {stray}")
    for row in rows:
        res = by_id.get(row["sample_id"])
        if res is not None:
            row.update({k: v for k, v in res.to_row().items() if k != "sample_id"})
    return rows


def write_lab_csv(path: str | Path, results: Iterable[LabResult]) -> Path:
    """Write results as a lab CSV this module reads back (analyte columns in %)."""
    results = list(results)
    keys = [a for a in ANALYTES if any(a.key in r.assays_pct for r in results)]
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["sample_id", *[f"{a.label} %" for a in keys], "phases", "texture", "findings"])
        for r in results:
            w.writerow([r.sample_id, *[("" if a.key not in r.assays_pct else f"{r.assays_pct[a.key]:.4g}")
                                       for a in keys],
                        "; ".join(str(p) for p in r.phases), r.texture, r.findings])
    return path
