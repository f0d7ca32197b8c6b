"""The lab decision per sample: a documented rule set over assays and phase findings (pure logic, no I/O).

Why here: the rules judge one *sample's material* from its lab result, which the sampler package owns
(sampler/lab.py); they know nothing of segments or lots. The lot's verdict after the lab, which combines
these sample decisions with the line's verdict, lives in analysis/decide/.

Outcomes (:data:`OUTCOMES`):

* ``by-product`` — the sample *is* a by-product: a family signature (all its conditions) holds, e.g.
  blast-furnace slag = low iron, CaO/SiO2 0.7–1.6, Al2O3 ≥ 6 %, CaO ≥ 25 %; or a by-product phase is
  reported as major without contrary chemistry;
* ``contaminated`` — ore carrying by-product material: no signature holds, but at least one marker lies
  outside what commercial iron ores show (CaO ≥ 1 % with CaO/SiO2 ≥ 0.25, metallic Fe, FeO/TFe above
  magnetite's 0.43, Zn+Pb, Na2O, Cr2O3, residual S with iron oxide, a by-product phase, a solidified-melt
  texture). For customs, ore mixed with solid waste is solid waste; the lot verdict treats it so;
* ``ore`` — consistent with ore: TFe ≥ 30 %, the analytes that exclude slag (SiO2, CaO) reported, no
  marker fired; when TFe ≥ 66 % also FeO or phases (magnetite concentrate vs mill scale);
* ``undetermined`` — the rest, with what is missing.

Every rule is one row of :data:`RULES` (indicator, threshold, family, source); :func:`rules_table` prints
them; :func:`classify` returns a :class:`SampleDecision` naming the rules that fired. Families overlap
where the physics does (docs/sampling.md "Where families overlap").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sampler.lab import LabResult, normalise_phase

OUTCOMES = ("ore", "by-product", "contaminated", "undetermined")

#: Families a sample can be assigned to, with the name people read.
FAMILIES: dict[str, str] = {
    "ore": "iron ore",
    "bf_slag": "blast-furnace slag",
    "steel_slag": "steel slag (BOF/EAF)",
    "mill_scale": "mill scale",
    "pyrite_cinder": "pyrite cinder",
    "eaf_dust": "EAF dust",
    "red_mud": "red mud (bauxite residue)",
    "nonferrous_slag": "non-ferrous (copper) smelting slag",
}

#: Sources the rules and the composition table cite (key → citation).
SOURCES: dict[str, str] = {
    "GB34330": "GB 34330-2017 Identification standards for solid wastes - General rules (rev. GB 34330-2025): "
               "blast-furnace slag, steel slag, mill scale, ferroalloy/Mn slag, red mud named as solid waste",
    "SNT5755": "SN/T 5755-2024 (identification of pellet scrap among imported iron ore)",
    "YP2011": "Yildirim I.Z., Prezzi M. (2011) Chemical, mineralogical and morphological properties of steel slag. "
              "Advances in Civil Engineering 2011:463638 (hindawi.com/journals/ace/2011/463638)",
    "PROCTOR2000": "Proctor D.M. et al. (2000) Physical and chemical characteristics of blast furnace, basic oxygen "
                   "furnace and electric arc furnace steel industry slags. Environ. Sci. Technol. 34:1576-1582",
    "EUROSLAG": "Euroslag / National Slag Association: typical compositions of blast-furnace slag (SiO2 32-42, "
                "CaO 32-45, Al2O3 7-16, MgO 5-15 %, Fe < 1 %, S 1-2 %)",
    "GBFS_BULK": "Granulated blast furnace slag, typical composition (cbi.bulkgroup.com/products/"
                 "granulated-blast-furnace-slag)",
    "MARTIN2012": "Martin M.I., Lopez F.A., Torralba J.M. (2012) Production of sponge iron powder by reduction of "
                  "rolling mill scale. Ironmaking & Steelmaking 39:155-162 (mill scale: wustite, magnetite, "
                  "hematite, metallic Fe; ~70 % Fe)",
    "MILLSCALE_SPEC": "Mill scale trade specification: Fe 70 % basis (reject < 68 %), SiO2+CaO <= 3 %, Al2O3 <= "
                      "2.5 %, S <= 0.1 %, P <= 0.1 % (angpacmin.com, mill scale)",
    "LONG2016": "Long H. et al. (2016) Preparation of metallic iron powder from pyrite cinder by carbothermic "
                "reduction and magnetic separation. Metals 6:88 (pyrite cinder: Fe2O3/Fe3O4, gangue, heavy metals)",
    "OUSTADAKIS2010": "Oustadakis P. et al. (2010) Hydrometallurgical process for zinc recovery from electric arc "
                      "furnace dust, Part I. J. Hazard. Mater. 179:1-7 (EAFD: Zn ferrite (franklinite), zincite)",
    "REDMUD": "Red mud (bauxite residue) composition ranges: Fe2O3 5-60, Al2O3 5-30, TiO2 0.3-15, CaO 2-14, "
              "SiO2 3-50, Na2O 1-10 % (en.wikipedia.org/wiki/Red_mud; Silveira et al. 2021 Sustainability "
              "13:12741); desilication products sodalite, cancrinite",
    "GORAI2003": "Gorai B., Jana R.K., Premchand (2003) Characteristics and utilisation of copper slag - a review. "
                 "Resour. Conserv. Recycl. 39:299-313 (fayalite, magnetite, glass; Cu 0.5-2 %)",
    "PLATTS": "S&P Global Platts iron ore specifications (IODEX 62 % Fe fines: Fe 62, SiO2 4.0, Al2O3 2.25, "
              "P 0.09, S 0.02 %; 65 % Fe: Fe 65, SiO2 1.5, Al2O3 1.0 %; 58 % Fe: Fe 58, SiO2 5.5, Al2O3 2.5 %)",
    "MAGNETITE": "Stoichiometry: magnetite Fe3O4 holds FeO/Fe = 0.4288 (31.03 % FeO at 72.36 % Fe); wustite "
                 "FeO/Fe up to 1.286; FeO/TFe above ~0.45 needs wustite, fayalite or other Fe2+ phases",
    "CUSTOMS_CASE": "Published customs identification case: an 'iron ore sinter' ruled solid waste from fayalite, "
                    "melilite, glassy silicate, matte, franklinite and a solidified-melt texture (issue 15)",
    "ORE_TABLE": "Ore rows of tests/resources/published_compositions.csv: commercial ores keep CaO < 0.5 %, "
                 "CaO/SiO2 < 0.2, Zn+Pb < 0.05 %, Na2O < 0.1 %, Cr2O3 < 0.05 %, no metallic iron",
}


@dataclass(frozen=True)
class Condition:
    """``indicator op threshold``; op is ">=", "<" or "in" (closed lower, open upper bound)."""

    indicator: str
    op: str
    threshold: float | tuple[float, float]

    def text(self) -> str:
        t = self.threshold
        if isinstance(t, tuple):  # op "in"
            return f"{t[0]:g} <= {self.indicator} < {t[1]:g}"
        return f"{self.indicator} {self.op} {t:g}"

    def holds(self, value: float) -> bool | None:
        """True/False, or None when the indicator is not available (NaN)."""
        if not math.isfinite(value):
            return None
        t = self.threshold
        if isinstance(t, tuple):  # op "in"
            lo, hi = t
            return lo <= value < hi
        return value >= t if self.op == ">=" else value < t


@dataclass(frozen=True)
class Rule:
    """One rule: all ``conditions`` (or, for phase/texture rules, any of ``words``) make it fire.

    ``kind``: "signature" (the sample is the family's material), "marker" (by-product material present),
    "phase" (an XRD phase of the family's material), "texture" (microscopy words).
    """

    rule_id: str
    kind: str
    family: str
    conditions: tuple[Condition, ...] = ()
    words: tuple[str, ...] = ()
    source: str = ""
    why: str = ""

    def indicator_text(self) -> str:
        if self.kind == "phase":
            return "XRD phase any of: " + ", ".join(self.words)
        if self.kind == "texture":
            return "texture/findings mention: " + ", ".join(self.words)
        return " and ".join(c.text() for c in self.conditions)


def _c(indicator: str, op: str, threshold: float | tuple[float, float]) -> Condition:
    return Condition(indicator, op, threshold)


#: The rule set. Indicators: assays in % (tfe, feo, mfe, sio2, al2o3, cao, mgo, mno, tio2, p, s, zn, pb, cu,
#: cr2o3, na2o, k2o, c, loi), ratios basicity = CaO/SiO2, feo_tfe = FeO/TFe, zn_pb = Zn+Pb, base_metals =
#: Cu+Zn+Pb, gangue = SiO2+Al2O3+CaO+MgO, s_no_sulfide = S when no sulfide phase is reported.
RULES: tuple[Rule, ...] = (
    # ---- signatures: the sample is the by-product ---------------------------------------------------------
    Rule("SIG-BF", "signature", "bf_slag",
         (_c("tfe", "<", 5.0), _c("basicity", "in", (0.7, 1.6)), _c("al2o3", ">=", 6.0), _c("cao", ">=", 25.0)),
         source="EUROSLAG; PROCTOR2000; GBFS_BULK",
         why="calcium alumino-silicate with almost no iron: iron went to the hot metal"),
    Rule("SIG-STEEL", "signature", "steel_slag",
         (_c("basicity", ">=", 1.2), _c("cao", ">=", 20.0), _c("tfe", "in", (8.0, 45.0))),
         source="YP2011; PROCTOR2000",
         why="lime-rich (CaO/SiO2 >= 1.2) with iron oxides: converter/arc-furnace slag"),
    Rule("SIG-MILLSCALE", "signature", "mill_scale",
         (_c("tfe", ">=", 65.0), _c("feo_tfe", ">=", 0.45), _c("gangue", "<", 5.0)),
         source="MARTIN2012; MILLSCALE_SPEC; MAGNETITE",
         why="almost pure iron oxide with more Fe2+ than magnetite can hold: wustite scale"),
    Rule("SIG-CINDER", "signature", "pyrite_cinder",
         (_c("tfe", "in", (35.0, 66.0)), _c("s_no_sulfide", ">=", 0.3), _c("base_metals", ">=", 0.15),
          _c("sio2", "<", 25.0)),
         source="LONG2016",
         why="iron oxide with residual sulphur but no sulphide phase, and Cu/Zn/Pb of the roasted pyrite"),
    Rule("SIG-EAFDUST", "signature", "eaf_dust",
         (_c("zn_pb", ">=", 5.0), _c("tfe", "<", 55.0)),
         source="OUSTADAKIS2010",
         why="zinc and lead volatilised from galvanised scrap, caught with iron oxide in the baghouse"),
    Rule("SIG-REDMUD", "signature", "red_mud",
         (_c("na2o", ">=", 2.0), _c("al2o3", ">=", 8.0), _c("tio2", ">=", 2.0)),
         source="REDMUD",
         why="caustic soda and alumina left from the Bayer process, with bauxite's titania"),
    Rule("SIG-CUSLAG", "signature", "nonferrous_slag",
         (_c("sio2", ">=", 25.0), _c("tfe", ">=", 25.0), _c("basicity", "<", 0.5), _c("base_metals", ">=", 0.3)),
         source="GORAI2003",
         why="iron silicate (fayalitic) melt with copper/zinc left over: non-ferrous smelting slag"),
    # ---- markers: outside every commercial ore, so by-product material is present ------------------------
    Rule("MK-BASICITY", "marker", "steel_slag", (_c("cao", ">=", 1.0), _c("basicity", ">=", 0.25)),
         source="ORE_TABLE; PROCTOR2000",
         why="calcium silicate in the sample: ores carry CaO < 0.5 % at CaO/SiO2 < 0.2; 5 % of any iron- or "
             "steel-making slag lifts CaO above 1.5 %"),
    Rule("MK-MFE", "marker", "steel_slag", (_c("mfe", ">=", 0.5),),
         source="ORE_TABLE; YP2011; MARTIN2012",
         why="metallic iron does not occur in ore; it comes with steel-plant material (slag, scale, scrap)"),
    Rule("MK-FEO", "marker", "mill_scale", (_c("feo_tfe", ">=", 0.45), _c("tfe", ">=", 20.0)),
         source="MAGNETITE",
         why="more Fe2+ than pure magnetite can hold (FeO/TFe 0.43): wustite or fayalite present"),
    Rule("MK-ZNPB", "marker", "eaf_dust", (_c("zn_pb", ">=", 0.2),),
         source="ORE_TABLE; OUSTADAKIS2010",
         why="zinc and lead at 4x what ores carry: steel-plant dust or non-ferrous residue"),
    Rule("MK-SFE", "marker", "pyrite_cinder", (_c("s_no_sulfide", ">=", 0.3), _c("tfe", ">=", 35.0)),
         source="ORE_TABLE; LONG2016",
         why="sulphur with iron oxide but no sulphide phase: roasted pyrite residue"),
    Rule("MK-NA2O", "marker", "red_mud", (_c("na2o", ">=", 0.3), _c("al2o3", ">=", 2.5)),
         source="ORE_TABLE; REDMUD",
         why="soda with alumina: Bayer-process residue (ores carry Na2O < 0.1 %)"),
    Rule("MK-CR2O3", "marker", "steel_slag", (_c("cr2o3", ">=", 0.3),),
         source="ORE_TABLE; PROCTOR2000",
         why="chromium oxide of alloy-steel slag (lateritic ores also carry Cr: see overlaps)"),
    Rule("MK-CU", "marker", "nonferrous_slag", (_c("cu", ">=", 0.2),),
         source="ORE_TABLE; GORAI2003",
         why="copper at smelting-slag level"),
    # ---- phases ------------------------------------------------------------------------------------------
    Rule("PH-STEEL", "phase", "steel_slag",
         words=("larnite", "belite", "dicalcium silicate", "srebrodolskite", "brownmillerite",
                "lime", "free lime", "portlandite", "ro phase", "alite", "tricalcium silicate"),
         source="YP2011", why="calcium silicates/ferrites and free lime of steel slag"),
    Rule("PH-BF", "phase", "bf_slag",
         words=("melilite", "gehlenite", "akermanite", "glass", "amorphous", "glassy silicate"),
         source="EUROSLAG; CUSTOMS_CASE", why="melilite and glass of blast-furnace slag"),
    Rule("PH-WUSTITE", "phase", "mill_scale", words=("wustite", "wuestite"),
         source="MARTIN2012; YP2011", why="wustite forms on hot steel and in steel slag, never in ore"),
    Rule("PH-IRON", "phase", "steel_slag", words=("iron", "metallic iron", "alpha-iron", "alpha iron", "ferrite (fe)"),
         source="YP2011; MARTIN2012", why="metallic iron of steel-plant material"),
    Rule("PH-ZN", "phase", "eaf_dust", words=("franklinite", "zincite", "zinc ferrite"),
         source="OUSTADAKIS2010; CUSTOMS_CASE", why="zinc phases of steel-plant dust"),
    Rule("PH-CU", "phase", "nonferrous_slag", words=("fayalite", "matte", "bornite", "chalcocite"),
         source="GORAI2003; CUSTOMS_CASE", why="iron silicate and matte of non-ferrous smelting slag"),
    Rule("PH-REDMUD", "phase", "red_mud", words=("sodalite", "cancrinite", "hydrogarnet", "katoite"),
         source="REDMUD", why="Bayer desilication products"),
    Rule("TX-MELT", "texture", "",
         words=("solidified melt", "melt texture", "vesicular", "glassy", "dendritic", "quench", "slag", "spherule"),
         source="CUSTOMS_CASE", why="a texture that formed from a melt, not in a rock"),
)

#: Phases of ore and its gangue (never evidence against ore).
ORE_PHASES = ("hematite", "magnetite", "goethite", "martite", "limonite", "quartz", "kaolinite", "gibbsite",
              "siderite", "pyrite", "chlorite", "mica", "talc")
SULFIDE_PHASES = ("pyrite", "pyrrhotite", "marcasite", "chalcopyrite", "sphalerite", "galena")
#: A sample needs these reported to be cleared as ore (slag is excluded by CaO and SiO2).
REQUIRED_FOR_ORE = ("tfe", "sio2", "cao")
ORE_MIN_TFE_PCT = 30.0
#: Above this TFe, magnetite concentrate and mill scale differ only by FeO (or phases).
FEO_NEEDED_ABOVE_TFE_PCT = 66.0
#: Reference CaO of each slag family (%), for the admixture estimate of a contaminated sample.
REFERENCE_CAO_PCT = {"bf_slag": 38.0, "steel_slag": 42.0}
ORE_CAO_PCT = 0.1


@dataclass(frozen=True)
class Firing:
    """A rule that fired on a sample, with the values that made it fire."""

    rule_id: str
    kind: str
    family: str
    evidence: str
    source: str


@dataclass(frozen=True)
class SampleDecision:
    """The lab decision of one sample.

    ``family`` names the by-product family (``FAMILIES`` key; "ore" for ore, "" when undetermined);
    ``fired`` every rule that fired; ``missing`` what would be needed to decide (or to clear);
    ``admixture_pct`` an estimate of the by-product share of a contaminated sample (NaN when none).
    """

    sample_id: str
    outcome: str
    family: str
    reason: str
    fired: tuple[Firing, ...] = ()
    also_matches: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    subtype: str = ""
    admixture_pct: float = math.nan

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(f.rule_id for f in self.fired)

    @property
    def waste_evidence(self) -> bool:
        """True when the sample shows by-product material (by-product-like or contaminated)."""
        return self.outcome in ("by-product", "contaminated")

    def to_row(self) -> dict[str, Any]:
        return {"sample_id": self.sample_id, "outcome": self.outcome, "family": self.family,
                "family_name": FAMILIES.get(self.family, ""), "subtype": self.subtype, "reason": self.reason,
                "rules": " ".join(self.rule_ids), "also_matches": " ".join(self.also_matches),
                "missing": " ".join(self.missing),
                "admixture_pct": None if not math.isfinite(self.admixture_pct) else round(self.admixture_pct, 1),
                "fired": [f.__dict__ for f in self.fired]}


#: Indicators computed from several analytes: a qualified analyte answers for each of them.
_DERIVED_FROM: dict[str, tuple[str, ...]] = {"cao": ("basicity",), "sio2": ("basicity", "gangue"),
                                             "feo": ("feo_tfe",), "tfe": ("feo_tfe",), "zn": ("zn_pb", "base_metals"),
                                             "pb": ("zn_pb", "base_metals"), "cu": ("base_metals",),
                                             "s": ("s_no_sulfide",), "al2o3": ("gangue",), "mgo": ("gangue",)}


def lowest_threshold_pct(key: str, rules: Sequence[Rule] | None = None) -> float:
    """The lowest threshold any rule sets on an analyte (directly or through an indicator built from it; for ratios
    the ratio's threshold is no bound in %, so those rules count as 0). +inf when no rule uses it."""
    lows = []
    for rule in RULES if rules is None else rules:
        for c in rule.conditions:
            if c.indicator == key:
                lows.append(float(c.threshold[0] if isinstance(c.threshold, tuple) else c.threshold))
            elif c.indicator in _DERIVED_FROM.get(key, ()):
                lows.append(0.0 if c.indicator in ("basicity", "feo_tfe") else
                            float(c.threshold[0] if isinstance(c.threshold, tuple) else c.threshold))
    return min(lows) if lows else math.inf


def qualified_value(key: str, limit_pct: float) -> float:
    """How the rules take a ``<limit`` (``limit_pct``) or ND (NaN) result: 0 when the limit lies below every
    threshold the rules set on the analyte (so no rule's outcome depends on the unknown value), else NaN (not
    reported: a rule that needs it cannot clear or fire on it)."""
    if math.isnan(limit_pct):
        return 0.0
    return 0.0 if limit_pct < lowest_threshold_pct(key) else math.nan


def indicators(result: LabResult) -> dict[str, float]:
    """Every indicator a rule can use (NaN when its analytes were not reported; ``<x``/ND by
    :func:`qualified_value`)."""
    treated = {k: qualified_value(k, lim) for k, lim in result.qualified.items()}

    def g(key: str) -> float:
        return treated[key] if key in treated and key not in result.assays_pct else result.get(key)
    ind = {a: g(a) for a in ("tfe", "feo", "mfe", "sio2", "al2o3", "cao", "mgo", "mno", "tio2", "p", "s", "zn",
                             "pb", "cu", "cr2o3", "na2o", "k2o", "c", "loi", "as", "f", "cl", "cd", "hg")}
    with_zero = {k: (v if math.isfinite(v) else math.nan) for k, v in ind.items()}
    ind["basicity"] = with_zero["cao"] / with_zero["sio2"] if with_zero["sio2"] > 0 else (
        math.inf if with_zero["cao"] > 0 else math.nan)
    ind["feo_tfe"] = with_zero["feo"] / with_zero["tfe"] if with_zero["tfe"] > 0 else math.nan
    zn, pb, cu = (0.0 if not math.isfinite(ind[k]) else ind[k] for k in ("zn", "pb", "cu"))
    any_base = any(math.isfinite(ind[k]) for k in ("zn", "pb", "cu"))
    ind["zn_pb"] = zn + pb if (math.isfinite(ind["zn"]) or math.isfinite(ind["pb"])) else math.nan
    ind["base_metals"] = zn + pb + cu if any_base else math.nan
    parts = [ind[k] for k in ("sio2", "al2o3", "cao", "mgo")]
    ind["gangue"] = sum(p for p in parts if math.isfinite(p)) if all(map(math.isfinite, parts[:2])) else math.nan
    sulfide = any(p in SULFIDE_PHASES for p in result.phase_names)
    ind["s_no_sulfide"] = math.nan if sulfide else ind["s"]
    return ind


def _phase_match(rule: Rule, result: LabResult) -> list[str]:
    words = {normalise_phase(w) for w in rule.words}
    return [str(p) for p in result.phases if p.name in words]


def _texture_match(rule: Rule, result: LabResult) -> list[str]:
    text = normalise_phase(f"{result.texture} {result.findings}")
    hits = []
    for w in rule.words:
        i = text.find(w)
        if i >= 0 and not text[max(0, i - 4):i].strip().endswith(("no", "not")):
            hits.append(w)
    return hits


def evaluate_rules(result: LabResult, rules: Sequence[Rule] = RULES) -> tuple[list[Firing], dict[str, float]]:
    """The rules that fire on ``result`` and the indicators they saw."""
    ind = indicators(result)
    fired: list[Firing] = []
    for rule in rules:
        if rule.kind == "phase":
            hits = _phase_match(rule, result)
            if hits:
                fired.append(Firing(rule.rule_id, rule.kind, rule.family, "phases: " + ", ".join(hits), rule.source))
            continue
        if rule.kind == "texture":
            hits = _texture_match(rule, result)
            if hits:
                fired.append(Firing(rule.rule_id, rule.kind, rule.family, "texture: " + ", ".join(hits), rule.source))
            continue
        if all(c.holds(ind.get(c.indicator, math.nan)) for c in rule.conditions):
            ev = ", ".join(f"{c.indicator} {ind[c.indicator]:.3g}" for c in rule.conditions)
            fired.append(Firing(rule.rule_id, rule.kind, rule.family, ev, rule.source))
    return fired, ind


def _steel_subtype(ind: Mapping[str, float]) -> str:
    """BOF vs EAF (they overlap): EAF slag is poorer in lime and richer in iron, alumina and chromium."""
    if ind.get("cr2o3", 0.0) >= 1.0:
        return "EAF (stainless/alloy)"
    eaf = (ind.get("cao", math.nan) < 38.0) + (ind.get("tfe", math.nan) >= 22.0) + (ind.get("al2o3", math.nan) >= 5.0)
    return "EAF-like" if eaf >= 2 else "BOF-like"


def _vote(firings: Sequence[Firing]) -> str:
    counts: dict[str, int] = {}
    for f in firings:
        if f.family:
            counts[f.family] = counts.get(f.family, 0) + (2 if f.kind == "signature" else 1)
    if not counts:
        return ""
    best = max(counts.values())
    for f in firings:  # first in rule order among the best
        if counts.get(f.family) == best:
            return f.family
    return ""


def classify(result: LabResult, rules: Sequence[Rule] = RULES) -> SampleDecision:
    """The lab decision of one sample (see the module docstring for the outcomes)."""
    fired, ind = evaluate_rules(result, rules)
    sigs = [f for f in fired if f.kind == "signature"]
    by_product_evidence = [f for f in fired if f.kind in ("marker", "phase", "texture")]
    sid = result.sample_id
    if sigs:
        family = _vote(sigs + by_product_evidence) if len(sigs) > 1 else sigs[0].family
        sig = next(f for f in sigs if f.family == family)
        rule = next(r for r in rules if r.rule_id == sig.rule_id)
        others = tuple(sorted({f.family for f in sigs} - {family}))
        sub = _steel_subtype(ind) if family == "steel_slag" else ""
        reason = f"{FAMILIES[family]}{' (' + sub + ')' if sub else ''}: {rule.why} ({sig.evidence})"
        if others:
            reason += "; also matches " + ", ".join(FAMILIES[o] for o in others)
        return SampleDecision(sid, "by-product", family, reason, tuple(fired), others, subtype=sub)
    major_phases = [f for f in fired if f.kind == "phase"
                    and any(p.qualifier in ("", "major") for p in result.phases
                            if p.name in {normalise_phase(w) for w in next(r for r in rules
                                                                           if r.rule_id == f.rule_id).words})]
    tfe = ind["tfe"]
    if major_phases and not (tfe >= ORE_MIN_TFE_PCT and math.isfinite(ind["sio2"])):
        family = _vote(major_phases)
        return SampleDecision(sid, "by-product", family,
                              f"{FAMILIES.get(family, family)}: by-product phases as major constituents "
                              f"({'; '.join(f.evidence for f in major_phases)}) and no ore chemistry",
                              tuple(fired))
    if by_product_evidence:
        family = _vote(by_product_evidence) or "steel_slag"
        sub = _steel_subtype(ind) if family == "steel_slag" else ""
        adm = math.nan
        if family in REFERENCE_CAO_PCT and math.isfinite(ind["cao"]):
            ref = REFERENCE_CAO_PCT["bf_slag" if ind["basicity"] < 0.45 else family]
            adm = 100.0 * max(0.0, ind["cao"] - ORE_CAO_PCT) / (ref - ORE_CAO_PCT)
        if family == "eaf_dust" and math.isfinite(ind["zn_pb"]):
            adm = 100.0 * ind["zn_pb"] / 25.0
        reason = (f"ore carrying {FAMILIES.get(family, family)} material: "
                  + "; ".join(f"{f.rule_id} {f.evidence}" for f in by_product_evidence))
        if math.isfinite(adm):
            reason += f" (about {adm:.0f} % admixture)"
        return SampleDecision(sid, "contaminated", family, reason, tuple(fired), subtype=sub, admixture_pct=adm)
    missing = [k for k in REQUIRED_FOR_ORE if not math.isfinite(ind[k])]
    if math.isfinite(tfe) and tfe >= FEO_NEEDED_ABOVE_TFE_PCT and not math.isfinite(ind["feo"]) and not result.phases:
        missing.append("feo or phases")
    if missing:
        return SampleDecision(sid, "undetermined", "",
                              "cannot clear as ore without " + ", ".join(missing), tuple(fired), missing=tuple(missing))
    if tfe < ORE_MIN_TFE_PCT:
        return SampleDecision(sid, "undetermined", "",
                              f"TFe {tfe:.1f} % below ore ({ORE_MIN_TFE_PCT:g} %) and no by-product signature",
                              tuple(fired))
    caveats = [k for k in ("zn", "pb", "na2o", "s", "feo", "mfe") if not math.isfinite(ind[k])]
    reason = (f"consistent with ore: TFe {tfe:.1f} %, CaO/SiO2 {ind['basicity']:.2f}, no by-product marker")
    if caveats:
        reason += " (not reported: " + ", ".join(caveats) + ")"
    return SampleDecision(sid, "ore", "ore", reason, tuple(fired), missing=tuple(caveats))


def rules_table() -> list[dict[str, str]]:
    """The rule set as rows (rule, kind, family, indicator and threshold, why, source) for docs and reports."""
    return [{"rule": r.rule_id, "kind": r.kind, "family": FAMILIES.get(r.family, "any by-product"),
             "indicator": r.indicator_text(), "why": r.why, "source": r.source} for r in RULES]


#: Family pairs whose compositions overlap, with the reason (printed by the evaluate command).
OVERLAPS: tuple[tuple[str, str, str], ...] = (
    ("steel_slag", "steel_slag", "BOF and EAF slag overlap in CaO, SiO2, FeO and MgO; the sub-type (BOF-like/"
     "EAF-like) is a guess from CaO, TFe, Al2O3 and Cr2O3, the family (steel slag) is not"),
    ("steel_slag", "mill_scale", "wustite and metallic iron occur in both; mill scale has no lime, steel slag "
     "no 65 % iron"),
    ("pyrite_cinder", "ore", "pyrite cinder is iron oxide like ore: only residual S without a sulphide phase and "
     "Cu/Zn/Pb tell it; a cinder roasted to S < 0.3 % with clean pyrite would pass as ore"),
    ("mill_scale", "ore", "a magnetite concentrate reaches TFe 70 %: FeO/TFe (<= 0.43 for magnetite) or XRD "
     "wustite decides; without FeO or phases a TFe >= 66 % sample stays undetermined"),
    ("red_mud", "ore", "TiO2 alone does not separate red mud from titanomagnetite ores (TiO2 up to ~13 %); "
     "Na2O with Al2O3 does"),
    ("steel_slag", "ore", "lateritic ores carry Cr2O3 (1-3 %) and skarn magnetite concentrates CaO 1-2 %: "
     "MK-CR2O3 and MK-BASICITY would call them contaminated; fluxed pellets (CaO/SiO2 ~1) are outside the "
     "rule set (declared product pellets)"),
    ("eaf_dust", "nonferrous_slag", "zinc-rich non-ferrous residues and EAF dust share Zn/Pb; franklinite "
     "appears in both"),
)
