"""Lab results import: a CSV of assays and phase findings, one row per sample, validated before anything is attached.

Columns (header names case-insensitive; spaces, ``%`` and ``_`` allowed):

* ``sample_id`` (required);
* any subset of the analytes in :data:`ANALYTES`: ``TFe`` (also ``Fe``), ``FeO``, ``MFe`` (metallic Fe, also
  ``Fe_met``), ``SiO2``, ``Al2O3``, ``CaO``, ``MgO``, ``MnO``, ``TiO2``, ``P``, ``S``, ``Zn``, ``Pb``, ``Cu``,
  ``Cr2O3``, ``Na2O``, ``K2O``, ``C``, ``LOI`` and ``moisture``; mass %, dry basis except moisture (% of the wet
  sample). The unit goes in the column name (``Zn ppm``, ``Zn_mg/kg``, ``Pb (g/t)``, ``CaO %``) or in an
  optional units row right under the header whose ``sample_id`` cell is ``unit`` or ``units``; without a unit a
  value is in %. ppm = mg/kg = g/t = 1e-4 %;
* ``phases``: XRD phases as a list separated by ``;`` or ``|`` (``hematite; quartz; larnite (minor)``: a
  qualifier ``major``/``minor``/``trace`` in brackets or after a colon is kept);
* ``texture`` (microscopy notes) and ``findings`` (free text).

Checks: an unknown column, a value that is not a number, a negative value (LOI may be negative: a gain on
ignition, down to -10 %), a value above its range, metallic Fe or Fe in FeO above TFe (FeO > TFe × 1.286),
a sum of oxides (the iron reported as Fe2O3/FeO/Fe) above 102 %, an empty, duplicate or unknown sample id
(not a sample of this lot), and a sample that already has a result (a second import needs ``supersede``,
the earlier result stays in the history). Every problem is collected into one
:class:`~sampler.errors.LabResultError` (1-based file lines), so nothing is half-imported.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from sampler.errors import LabResultError


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


#: Every analyte the import accepts (mass %, dry basis; moisture of the wet sample).
ANALYTES: tuple[Analyte, ...] = (
    Analyte("tfe", "TFe", 75.0, aliases=("fe", "fe_total", "total_fe", "fe_t")),
    Analyte("feo", "FeO", 100.0),
    Analyte("mfe", "MFe", 100.0, aliases=("fe_met", "fe_metallic", "metallic_fe", "fe_m", "fe0")),
    Analyte("sio2", "SiO2", 100.0, 1.0),
    Analyte("al2o3", "Al2O3", 100.0, 1.0),
    Analyte("cao", "CaO", 100.0, 1.0),
    Analyte("mgo", "MgO", 100.0, 1.0),
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
    Analyte("c", "C", 100.0, 0.0),
    Analyte("loi", "LOI", 50.0, 0.0, min_pct=-10.0),
    Analyte("moisture", "moisture", 40.0, 0.0, aliases=("h2o", "water")),
)
ANALYTE_BY_KEY: dict[str, Analyte] = {a.key: a for a in ANALYTES}
_ALIASES: dict[str, str] = {alias: a.key for a in ANALYTES for alias in (a.key, *a.aliases)}
#: Unit → factor to mass %.
UNITS_TO_PCT: dict[str, float] = {"%": 1.0, "pct": 1.0, "wt%": 1.0, "ppm": 1e-4, "mg/kg": 1e-4, "g/t": 1e-4}
TEXT_COLUMNS = ("phases", "texture", "findings")
_TEXT_ALIASES = {"xrd": "phases", "xrd_phases": "phases", "phase": "phases", "microscopy": "texture",
                 "notes": "findings", "comment": "findings"}
#: Fe mass fractions: Fe in FeO, Fe2O3 per Fe.
FE_IN_FEO = 55.845 / 71.844
FE2O3_PER_FE = 159.687 / (2 * 55.845)
#: FeO can hold at most TFe / 0.7773 = TFe × 1.2865 (all iron as FeO).
FEO_MAX_PER_TFE = 1.0 / FE_IN_FEO
MAX_OXIDE_SUM_PCT = 102.0
PHASE_QUALIFIERS = ("major", "minor", "trace")
MAX_ERRORS_SHOWN = 25


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

    ``assays_pct`` holds only what the lab reported (any subset of :data:`ANALYTES`).
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

    def get(self, key: str) -> float:
        """An assay in %, NaN when not reported."""
        return float(self.assays_pct.get(key, math.nan))

    @property
    def phase_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.phases)

    def to_row(self) -> dict[str, Any]:
        """Flat row: ``sample_id``, ``<analyte>_pct`` for each reported analyte, phases, texture, findings, source."""
        row: dict[str, Any] = {"sample_id": self.sample_id}
        for a in ANALYTES:
            if a.key in self.assays_pct:
                row[f"{a.key}_pct"] = self.assays_pct[a.key]
        row.update({"phases": "; ".join(str(p) for p in self.phases), "texture": self.texture,
                    "findings": self.findings, "source": self.source, "supersedes": self.supersedes})
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "LabResult":
        """Rebuild from :meth:`to_row` (as stored in an archive)."""
        assays = {}
        for a in ANALYTES:
            v = row.get(f"{a.key}_pct")
            if v is not None and v != "":
                assays[a.key] = float(v)
        return cls(str(row.get("sample_id", "")), assays, parse_phases(str(row.get("phases") or "")),
                   str(row.get("texture") or ""), str(row.get("findings") or ""), str(row.get("source") or ""),
                   bool(row.get("supersedes", False)))


def _norm(header: str) -> str:
    return "_".join(header.strip().lower().replace("%", " % ").replace("(", " ").replace(")", " ")
                    .replace("[", " ").replace("]", " ").split())


def parse_column(header: str) -> tuple[str, str, str]:
    """(kind, key, unit) of a header: kind "id", "analyte", "text" or "unknown"; unit "" when not given.

    >>> parse_column("Zn (ppm)")
    ('analyte', 'zn', 'ppm')
    """
    h = _norm(header)
    if h in ("sample_id", "sample", "sampleid", "id"):
        return "id", "sample_id", ""
    if h in TEXT_COLUMNS or h in _TEXT_ALIASES:
        return "text", _TEXT_ALIASES.get(h, h), ""
    unit = ""
    for u in sorted(UNITS_TO_PCT, key=len, reverse=True):
        for sep in ("_", ""):
            suffix = sep + u
            if h.endswith(suffix) and len(h) > len(suffix):
                unit, h = u, h[: -len(suffix)].rstrip("_")
                break
        if unit:
            break
    if h in _ALIASES:
        return "analyte", _ALIASES[h], "%" if unit in ("pct", "wt%") else unit
    return "unknown", h, unit


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


def oxide_sum_pct(assays_pct: Mapping[str, float]) -> float:
    """Sum of the reported constituents as oxides (%): iron as metal + FeO + Fe2O3 (the rest of TFe), P as P2O5,
    Zn/Pb/Cu as ZnO/PbO/CuO, the oxides as they are. LOI, C, S and moisture are not counted."""
    total = sum(v * ANALYTE_BY_KEY[k].oxide_factor for k, v in assays_pct.items())
    feo, mfe, tfe = assays_pct.get("feo", 0.0), assays_pct.get("mfe", 0.0), assays_pct.get("tfe")
    if tfe is not None:
        fe3 = max(0.0, tfe - mfe - feo * FE_IN_FEO)
        total += mfe + feo + fe3 * FE2O3_PER_FE
    else:
        total += feo + mfe
    return total


def check_assays(assays_pct: Mapping[str, float]) -> list[str]:
    """Problems of a complete set of assays (%): iron balance and the oxide sum. Empty when plausible."""
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
    total = oxide_sum_pct(assays_pct)
    if total > MAX_OXIDE_SUM_PCT:
        problems.append(f"sum of oxides {total:.1f} % (iron as Fe/FeO/Fe2O3) exceeds {MAX_OXIDE_SUM_PCT:g} %")
    return problems


def read_csv_text(path: Path, what: str) -> str:
    """The text of a lab CSV (UTF-8, a BOM from spreadsheet exports dropped). Raises LabResultError naming ``what`` and
    the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabResultError(f"{what} {path}: cannot read: {exc}") from exc


def load_lab_results(path: str | Path, known_sample_ids: Iterable[str], *,
                     imported_sample_ids: Iterable[str] = (), supersede: bool = False) -> list[LabResult]:
    """Read and validate a lab CSV; return one :class:`LabResult` per row in file order.

    ``known_sample_ids`` are the lot's samples; ``imported_sample_ids`` those that already have a result: one
    of them in the file is an error unless ``supersede`` (the new result then carries ``supersedes=True``; the
    archive keeps the earlier one in its history). Raises :class:`LabResultError` listing every problem
    (see the module docstring); nothing is returned half-validated.
    """
    path = Path(path)
    known = set(known_sample_ids)
    imported = set(imported_sample_ids)
    reader = csv.reader(read_csv_text(path, "lab results file").splitlines())
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise LabResultError(f"lab results file {path}: expected a header row, got an empty file")
    errors: list[str] = []
    columns: list[tuple[str, str, str]] = [parse_column(h) for h in header]
    for h, (kind, key, _u) in zip(header, columns):
        if kind == "unknown" and h.strip():
            errors.append(f"header: unknown column {h!r}: expected sample_id, phases, texture, findings or an "
                          f"analyte of {[a.label for a in ANALYTES]} (unit in the name: %, ppm, mg/kg, g/t)")
    keys = [key for kind, key, _u in columns if kind in ("id", "analyte", "text")]
    dup_cols = sorted({k for k in keys if keys.count(k) > 1})
    if dup_cols:
        errors.append(f"header: column(s) {dup_cols} given more than once")
    if ("id", "sample_id", "") not in columns:
        raise LabResultError(f"lab results file {path}: expected a sample_id column, got {header}"
                             + ("\n  " + "\n  ".join(errors) if errors else ""))
    id_col = columns.index(("id", "sample_id", ""))
    rows = list(enumerate(reader, start=2))
    units = [u for _k, _key, u in columns]
    if rows and rows[0][1] and len(rows[0][1]) > id_col and rows[0][1][id_col].strip().lower() in ("unit", "units"):
        line, urow = rows.pop(0)
        for i, cell in enumerate(urow):
            u = cell.strip().lower()
            if i == id_col or not u or columns[i][0] != "analyte":
                continue
            if u not in UNITS_TO_PCT:
                errors.append(f"line {line}: unit {cell.strip()!r} of {header[i]!r}: expected one of {list(UNITS_TO_PCT)}")
            elif units[i] and units[i] != u:
                errors.append(f"line {line}: unit {u!r} of {header[i]!r} contradicts its name ({units[i]!r})")
            else:
                units[i] = "%" if u in ("pct", "wt%") else u
    results: list[LabResult] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        if all(not c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(f"line {line}: expected {len(header)} fields, got {len(cells)} (extra values "
                          f"{cells[len(header):]!r})")
            continue
        cells = cells + [""] * (len(header) - len(cells))
        sid = cells[id_col].strip()
        if not sid:
            errors.append(f"line {line}: empty sample_id")
            continue
        if sid in seen:
            errors.append(f"line {line}: duplicate sample_id {sid!r} (first on line {seen[sid]})")
            continue
        seen[sid] = line
        if sid not in known:
            errors.append(f"line {line}: unknown sample_id {sid!r} (not a sample of this lot)")
        elif sid in imported and not supersede:
            errors.append(f"line {line}: sample {sid!r} already has a lab result; import again with supersede "
                          f"to replace it (the earlier result is kept in the history)")
        assays: dict[str, float] = {}
        texts: dict[str, str] = {}
        row_ok = True
        for i, (kind, key, _u) in enumerate(columns):
            raw = cells[i].strip()
            if kind == "text":
                texts[key] = raw
                continue
            if kind != "analyte" or raw == "":
                continue
            a = ANALYTE_BY_KEY[key]
            try:
                value = float(raw)
            except ValueError:
                errors.append(f"line {line} ({sid}): {a.label} expected a number, got {raw!r}")
                row_ok = False
                continue
            unit = units[i] or "%"
            value_pct = value * UNITS_TO_PCT[unit]
            if not math.isfinite(value_pct):
                errors.append(f"line {line} ({sid}): {a.label} expected a finite number, got {raw!r}")
                row_ok = False
            elif value_pct < a.min_pct:
                what = "negative" if a.min_pct == 0 else f"below {a.min_pct:g} %"
                errors.append(f"line {line} ({sid}): {a.label} {what}: expected {a.min_pct:g}..{a.max_pct:g} %, "
                              f"got {raw} {unit}")
                row_ok = False
            elif value_pct > a.max_pct:
                errors.append(f"line {line} ({sid}): {a.label} expected {a.min_pct:g}..{a.max_pct:g} %, got {raw} {unit}")
                row_ok = False
            else:
                assays[key] = value_pct
        if row_ok:
            errors += [f"line {line} ({sid}): {p}" for p in check_assays(assays)]
        phases = parse_phases(texts.get("phases", ""))
        if not assays and not phases and row_ok:
            errors.append(f"line {line} ({sid}): no assay and no phase reported")
        results.append(LabResult(sid, assays, phases, texts.get("texture", ""), texts.get("findings", ""),
                                 str(path), supersede and sid in imported,
                                 {ANALYTE_BY_KEY[key].label: (units[i] or "%") for i, (kind, key, _u)
                                  in enumerate(columns) if kind == "analyte"}))
    if not results and not errors:
        errors.append("no result rows")
    if errors:
        shown = "\n  ".join(errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise LabResultError(f"lab results file {path}: {len(errors)} problem(s), nothing imported:\n  {shown}{more}")
    return results


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
