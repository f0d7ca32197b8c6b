"""Ore lumps against foreign objects (issue 27): what kind the camera reports for the objects it detects.

Per case of ``bench_vision_scenes`` (held-out tiles, fresh seed, the shipped 4 mm/px model) a confusion table of truth
kind x reported kind of the detected objects (truth ``none``: a detection on no object), under the classifier's own
call (*before*: its most likely kind) and under the kind decision (*after*: :mod:`vision.kind_decision`, its
calibrated :data:`~vision.kind_decision.ACTIVE_RULE`), then the two operational rates over all cases:

- ore lumps reported as a foreign kind (a false contamination), per detected lump (target <= 1 %) and per 1,000 m of
  the benchmark's belt (target <= 1, the false-alarm target; the belt carries ~1 object a metre, a seventh of them
  lumps: some 140 lumps per 1,000 m, far more than a fines cargo);
- foreign objects reported as ``lump`` (a contamination silently dropped), per detected foreign object (target <= 2 %);

and per case the recall of foreign objects >= 50 mm *flagged* (reported as a foreign kind or ``uncertain``: an alarm
either way), which the rule must not lower. ``--calibrate`` derives the rule from belt built from the fit split's
tiles (never the held-out ones) and prints it beside the shipped constant.

``--lumps-only``: the held-out belts of lumps only (``LUMP_CASES``, ``--length-m`` x their share) pooled with the
cases. ``--lump-judge on|off``: every detector with the lump judge (``Detector.lump_judge``, :mod:`vision.lump_judge`)
and the rates also after it (a foreign call moved to uncertain where the judge finds it lump-like). ``--fit-lump-judge
OUT.npz``: the judge fitted on fit-split belt (the calibration cases and the lumps-only belts, ``--calibrate-m``,
``--calibrate-seed``, and :data:`FIT_TODAY_LUMP_BELTS` more belts of lumps only on today's belt), its level on its
out-of-fold scores, saved; ``--calibrate-lump-judge``: the stored judge's
level set again on that belt and printed beside the stored one.

Run: ``.venv/bin/python -m benchmarks.bench_vision_kinds [--length-m 1000] [--seed 11] [--calibrate]
[--calibrate-m 1000] [--evidence] [--evidence-m 600] [--quick] [--lumps-only] [--lump-judge on]
[--fit-lump-judge OUT.npz] [--calibrate-lump-judge]``. Images: see :data:`vision.tiles.ATTRIBUTION`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from benchmarks.bench_vision_scenes import CASES, _row, lump_judge_set
from vision.fit import VisionModel
from vision.model_cache import cached_model
from vision.kind_decision import ACTIVE_RULE, KindRule, calibrate
from vision.kind_evidence import LumpEvidence
from vision.kind_eval import KindRecords, confusion, confusion_lines, join, kind_rates, kind_records
from vision.lump_judge import LumpJudge, shipped_lump_judge
from vision.lump_judge_fit import calibrate_level, fit_judge, judge_keys, judged_record_kinds
from vision.station_settings import LUMP_JUDGE
from vision.scenes import scene_options

#: Cases of the kind benchmark: bench_vision_scenes' cases (label, scene type, extra object options, length share).
KIND_CASES = tuple((label, scene_type, extra, share) for label, scene_type, extra, share, _, _ in CASES)
#: Fit-only scene types added when calibrating (the fit mix's dark ore carries lumps too).
CALIBRATION_CASES = KIND_CASES + (("dark ore", "dark-ore", {}, 0.5),)
#: Belts of lumps only (for the lump-against-foreign evidence, ``--evidence``: more lumps than the mixed cases carry).
LUMP_CASES = (("lumps on realistic belt", "realistic", {"kinds": ("lump",)}, 1.0),
              ("lumps on today's belt", "today", {"kinds": ("lump",)}, 1.0),
              ("lumps on dark ore", "dark-ore", {"kinds": ("lump",)}, 0.5))
LUMP_FOREIGN_SHARE_MAX = 0.01
LUMP_FOREIGN_PER_1000_M_MAX = 1.0
FOREIGN_LUMP_SHARE_MAX = 0.02
#: The lump judge's fit adds this many belts of lumps only on today's part-loaded belt (fit split, ``--calibrate-m``
#: each, seeds ``--calibrate-seed`` + 1, + 2, ...): the lumps the kind rule calls foreign are mostly there (lump57).
FIT_TODAY_LUMP_BELTS = 3


def case_records(model: VisionModel, cases, length_m: float, seed: int, backgrounds: str) -> list[tuple[str, KindRecords]]:
    """(label, records) per case over ``length_m`` x its share of belt of ``backgrounds``."""
    return [(label, kind_records(model, scene_type, backgrounds=backgrounds, length_m=length_m * share, seed=seed,
                                 objects=extra)) for label, scene_type, extra, share in cases]


def print_case(label: str, r: KindRecords, rule: KindRule | None) -> None:
    """Both confusion tables of one case and its flagged recall before and after."""
    for name, rl in (("before (classifier's most likely kind)", None), (f"after ({rule})", rule)):
        print(f"\n{label}, {name}: {len(r.truth)} detections in {r.belt_m:.0f} m")
        print("\n".join(confusion_lines(confusion(r, rl))))
    b, a = kind_rates(r, None), kind_rates(r, rule)
    print(f"{label}: foreign objects >= 50 mm flagged (a foreign kind or uncertain) {b.foreign_big_flagged}/{b.foreign_big} "
          f"before, {a.foreign_big_flagged}/{a.foreign_big} after", flush=True)


def rate_rows(r: KindRecords, lump_belt_m: float, rule: KindRule | None, when: str, seed: int, mm_per_px: float,
              kinds: list[str] | None = None) -> list[dict]:
    """The two operational rates of ``rule`` (or of the detections' ``kinds`` given) on all cases' records, printed
    and as rows against the targets; lumps called foreign per 1,000 m of the belt that carries lumps (``lump_belt_m``:
    the cases of every kind)."""
    k = kind_rates(dataclasses.replace(r, belt_m=lump_belt_m), rule, kinds=kinds)
    where = f"{when}; held-out tiles, seed {seed}, {mm_per_px:g} mm/px, {r.belt_m:.0f} m ({lump_belt_m:.0f} m with lumps)"
    print(f"{when}: lumps called foreign {k.lumps_called_foreign}/{k.lumps} ({100 * k.lump_foreign_share:.1f} %; "
          f"{k.lump_foreign_per_1000_m:.2f} per 1,000 m), uncertain {k.lumps_called_uncertain}; foreign called lump "
          f"{k.foreign_called_lump}/{k.foreign} ({100 * k.foreign_lump_share:.2f} %), uncertain {k.foreign_called_uncertain} "
          f"({100 * k.foreign_called_uncertain / max(k.foreign, 1):.1f} %); foreign >= 50 mm flagged "
          f"{k.foreign_big_flagged}/{k.foreign_big}", flush=True)
    return [
        _row(f"vision lumps called foreign, per detected lump ({k.lumps_called_foreign}/{k.lumps}; {where})",
             100 * k.lump_foreign_share, "%", f"<= {100 * LUMP_FOREIGN_SHARE_MAX:g}", k.lump_foreign_share <= LUMP_FOREIGN_SHARE_MAX),
        _row(f"vision lumps called foreign, per 1,000 m ({k.lumps_called_foreign}; {where})", k.lump_foreign_per_1000_m,
             "per 1,000 m", f"<= {LUMP_FOREIGN_PER_1000_M_MAX:g}", k.lump_foreign_per_1000_m <= LUMP_FOREIGN_PER_1000_M_MAX),
        _row(f"vision foreign objects called lump ({k.foreign_called_lump}/{k.foreign}; {where})", 100 * k.foreign_lump_share,
             "%", f"<= {100 * FOREIGN_LUMP_SHARE_MAX:g}", k.foreign_lump_share <= FOREIGN_LUMP_SHARE_MAX),
        _row(f"vision foreign objects >= 50 mm flagged ({k.foreign_big_flagged}/{k.foreign_big}; {where})",
             100 * k.foreign_recall, "%", "", True),
    ]


def calibration_row(model: VisionModel, length_m: float, seed: int) -> dict:
    """The rule calibrated on fit-split belt (:func:`vision.kind_decision.calibrate`) against the shipped constant."""
    fit = join([r for _, r in case_records(model, CALIBRATION_CASES + LUMP_CASES, length_m, seed, "fit")])
    rule = calibrate(fit.truth, fit.proba, fit.classes, lump_foreign_max=LUMP_FOREIGN_SHARE_MAX,
                     foreign_lump_max=FOREIGN_LUMP_SHARE_MAX / 2)
    print(f"calibrated on {fit.belt_m:.0f} m of fit-split belt (seed {seed}, {len(fit.truth)} detections): {rule}; "
          f"shipped {ACTIVE_RULE}", flush=True)
    return _row(f"vision kind rule calibrated on fit-split belt ({rule}; shipped {ACTIVE_RULE})", rule.foreign_log_odds,
                "log odds", f"== {ACTIVE_RULE.foreign_log_odds if ACTIVE_RULE else 'off'}", rule == ACTIVE_RULE)


def evidence_rows(model: VisionModel, heldout: KindRecords, length_m: float, seed: int, fit_seed: int) -> list[dict]:
    """The lump-against-foreign evidence (:mod:`vision.kind_evidence`, not shipped): trained on fit-split belt of
    ``fit_seed``, its levels calibrated on fit-split belt of ``fit_seed + 1``, measured on the held-out records plus
    held-out belts of lumps only (``seed``), beside the shipped rule on the same detections."""
    def fit_belt(s: int) -> KindRecords:
        return join([r for _, r in case_records(model, CALIBRATION_CASES + LUMP_CASES, length_m, s, "fit")])

    train, levels = fit_belt(fit_seed), fit_belt(fit_seed + 1)
    test = join([heldout] + [r for _, r in case_records(model, LUMP_CASES, length_m, seed, "heldout")])
    ev = LumpEvidence().fit(train.features, train.proba, train.classes, train.truth)
    rule = calibrate(levels.truth, levels.proba, levels.classes, lump_foreign_max=LUMP_FOREIGN_SHARE_MAX,
                     foreign_lump_max=FOREIGN_LUMP_SHARE_MAX / 2,
                     log_odds=ev.log_odds(levels.features, levels.proba, levels.classes))
    print(f"\nlump evidence: trained on {train.belt_m:.0f} m of fit-split belt ({len(train.truth)} detections), levels "
          f"{rule} on another {levels.belt_m:.0f} m; measured on {test.belt_m:.0f} m held-out ({len(test.truth)} detections)")
    rows = []
    for name, rl, lo in (("shipped rule", ACTIVE_RULE, None),
                         ("with lump evidence", rule, ev.log_odds(test.features, test.proba, test.classes))):
        k = kind_rates(test, rl, lo)
        print(f"  {name}: lumps called foreign {k.lumps_called_foreign}/{k.lumps}, uncertain {k.lumps_called_uncertain}; "
              f"foreign called lump {k.foreign_called_lump}/{k.foreign}, uncertain {k.foreign_called_uncertain} "
              f"({100 * k.foreign_called_uncertain / max(k.foreign, 1):.1f} %)", flush=True)
        rows.append(_row(f"vision foreign objects uncertain, {name} ({k.foreign_called_uncertain}/{k.foreign}; lumps called "
                         f"foreign {k.lumps_called_foreign}/{k.lumps}, foreign called lump {k.foreign_called_lump})",
                         100 * k.foreign_called_uncertain / max(k.foreign, 1), "%", "", True))
    return rows


def lump_judge_of(model: VisionModel) -> LumpJudge:
    """The stored lump judge (:data:`vision.lump_judge.LUMP_JUDGE_PATH`) when it was fitted for ``model``'s
    classifiers; else ValueError."""
    judge = shipped_lump_judge()
    if judge is None or not set(judge_keys(model)) <= set(judge.judges):
        raise ValueError(f"no stored lump judge fitted for this model's classifiers {judge_keys(model)}")
    return judge


def lump_judge_rows(m: VisionModel, records: KindRecords, lump_belt_m: float, seed: int, label: str) -> list[dict]:
    """The rates after the kind rule and the lump judge on ``records``, and the foreign objects it moved to uncertain."""
    judge = lump_judge_of(m)
    kinds = judged_record_kinds(judge, records)
    off, on = kind_rates(records, ACTIVE_RULE), kind_rates(records, kinds=kinds)
    moved = on.foreign_called_uncertain - off.foreign_called_uncertain
    print(f"{label}, lump judge (level {judge.level:+.3f}): lumps called foreign {off.lumps_called_foreign} -> "
          f"{on.lumps_called_foreign} of {on.lumps}; foreign moved to uncertain {moved}/{on.foreign} "
          f"({100 * moved / max(on.foreign, 1):.2f} %); detector's own calls uncertain "
          f"{sum(k == 'uncertain' for k in records.detector_kinds)}, after the judge here {sum(k == 'uncertain' for k in kinds)}")
    return rate_rows(records, lump_belt_m, None, f"after + lump judge, {label}", seed, m.mm_per_px, kinds) + [
        _row(f"vision foreign objects moved to uncertain by the lump judge ({moved}/{on.foreign}; {label})",
             100 * moved / max(on.foreign, 1), "%", "<= 2", moved <= 0.02 * on.foreign)]


def fit_lump_judge(model: VisionModel, out: str | None, length_m: float, seed: int) -> list[dict]:
    """The lump judge fitted on fit-split belt (the calibration cases and the lumps-only belts, ``seed``, and
    :data:`FIT_TODAY_LUMP_BELTS` belts of lumps only on today's belt, seeds ``seed`` + 1, ...) and saved to ``out``;
    with ``out`` None, the stored judge's level set again on that belt and printed beside its own."""
    today_lumps = tuple(c for c in LUMP_CASES if c[1] == "today")
    extra = [r for s in range(seed + 1, seed + 1 + FIT_TODAY_LUMP_BELTS) for _, r in case_records(model, today_lumps, length_m, s, "fit")]
    fit = join([r for _, r in case_records(model, CALIBRATION_CASES + LUMP_CASES, length_m, seed, "fit")] + extra)
    where = {"split": "fit", "seed": seed, "length_m": length_m, "today_lump_belts": FIT_TODAY_LUMP_BELTS}
    if out is None:
        judge = lump_judge_of(model)
        again = calibrate_level(judge, fit)
        print(f"lump judge level on {fit.belt_m:.0f} m of fit-split belt (seed {seed}): {again.level:+.4f} "
              f"({again.moved}/{again.foreign} foreign objects at or above it); stored {judge.level:+.4f}", flush=True)
        return [_row(f"vision lump judge level calibrated on fit-split belt (stored {judge.level:+.4f})", again.level,
                     "log odds", f"== {judge.level:+.4f}", abs(again.level - judge.level) < 1e-9)]
    judge = fit_judge(fit, judge_keys(model), provenance=where)
    judge.save(out)
    print(f"lump judge fitted on {fit.belt_m:.0f} m of fit-split belt (seed {seed}, {len(fit.truth)} detections), "
          f"level {judge.level:+.4f} ({judge.moved}/{judge.foreign} foreign objects at or above it out of fold); "
          f"saved {out}", flush=True)
    return [_row(f"vision lump judge level ({judge.moved}/{judge.foreign} fit-split foreign objects)", judge.level, "log odds", "", True)]


def main(argv: list[str] | None = None) -> list[dict]:
    """``--quick``: 60 m of belt (x each case's share), no calibration (checks the benchmark runs)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_vision_kinds", description=__doc__)
    ap.add_argument("--model", help="saved model (.npz); default the shipped 4 mm/px model")
    ap.add_argument("--length-m", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=11, help="held-out belt seed")
    ap.add_argument("--calibrate", action="store_true", help="also calibrate the rule on fit-split belt")
    ap.add_argument("--calibrate-m", type=float, default=1000.0)
    ap.add_argument("--calibrate-seed", type=int, default=101)
    ap.add_argument("--evidence", action="store_true", help="also the lump-against-foreign evidence (vision.kind_evidence; "
                    "not shipped): trained and levelled on fit-split belt, measured on held-out belt")
    ap.add_argument("--evidence-m", type=float, default=600.0, help="belt per case for --evidence")
    ap.add_argument("--quick", action="store_true", help="60 m of belt per case, no calibration")
    ap.add_argument("--lumps-only", action="store_true", help="also held-out belts of lumps only, pooled with the cases")
    ap.add_argument("--lump-judge", choices=("on", "off"), default="on" if LUMP_JUDGE else "off", help="every detector with "
                    "the lump judge (vision/lump_judge.py) and the rates after it; default vision.station_settings.LUMP_JUDGE")
    judge_work = ap.add_mutually_exclusive_group()
    judge_work.add_argument("--fit-lump-judge", metavar="OUT.npz", help="fit the lump judge on fit-split belt (--calibrate-m, "
                    "--calibrate-seed), set its level out of fold and save it to OUT.npz; nothing else")
    judge_work.add_argument("--calibrate-lump-judge", action="store_true", help="set the stored lump judge's level again on "
                    "fit-split belt and print it beside the stored one; nothing else")
    a = ap.parse_args(argv)
    if a.quick:
        a.length_m, a.calibrate, a.evidence_m = 60.0, False, 40.0
    m = VisionModel.load(a.model) if a.model else cached_model(mm_per_px=4.0, width_px=512)
    if a.fit_lump_judge or a.calibrate_lump_judge:  # on what the detector reports without the judge, whatever the default
        with lump_judge_set(False):
            return fit_lump_judge(m, a.fit_lump_judge, 60.0 if a.quick else a.calibrate_m, a.calibrate_seed)
    judged = a.lump_judge == "on"
    print(f"lump judge {a.lump_judge}", flush=True)
    with lump_judge_set(judged):
        per_case = case_records(m, KIND_CASES, a.length_m, a.seed, "heldout")
        lumps_only = case_records(m, LUMP_CASES, a.length_m, a.seed, "heldout") if a.lumps_only else []
    for label, r in per_case:
        print_case(label, r, ACTIVE_RULE)
    every = join([r for _, r in per_case])
    lump_belt_m = sum(r.belt_m for (_, scene_type, extra, _), (_, r) in zip(KIND_CASES, per_case)
                      if "kinds" not in {**scene_options(scene_type)[1], **extra})
    print()
    rows = (rate_rows(every, lump_belt_m, None, "before", a.seed, m.mm_per_px)
            + rate_rows(every, lump_belt_m, ACTIVE_RULE, "after", a.seed, m.mm_per_px))
    pooled = join([every] + [r for _, r in lumps_only])
    if lumps_only:
        rows += rate_rows(pooled, lump_belt_m, ACTIVE_RULE, "after, pooled with the lumps-only belts", a.seed, m.mm_per_px)
    if judged:
        rows += lump_judge_rows(m, every, lump_belt_m, a.seed, "the cases")
        if lumps_only:
            rows += lump_judge_rows(m, pooled, lump_belt_m, a.seed, "pooled with the lumps-only belts")
    if a.calibrate:
        rows.append(calibration_row(m, a.calibrate_m, a.calibrate_seed))
    if a.evidence:
        rows += evidence_rows(m, every, a.evidence_m, a.seed, a.calibrate_seed)
    return rows


if __name__ == "__main__":
    main()
