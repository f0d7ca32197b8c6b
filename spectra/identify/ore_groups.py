"""Why ore and gangue groups fail leave-one-sample-out, and ore recall where a sample of the kind remains (w21h).

Leaving one physical sample out removes every reference of it. When a material group holds only that one
physical sample (gibbsite HS423, siderite HS271 in the shared library), no reference of its kind remains: the
held-out spectrum can only be matched to another kind, and its miss says the library lacks a second sample, not that
NIR cannot tell the material. :func:`ore_groups` tables each ore/gangue group with its physical samples, recall and
the share of its spectra nearer another class; :func:`ore_recall_with_kin` is the ore recall over the groups that
keep another physical sample — a **secondary** figure, printed beside the headline, never replacing it.
"""

from __future__ import annotations

import numpy as np

#: fewest physical samples a group needs so that one held out leaves another of its kind among the references
MIN_SAMPLES_WITH_KIN = 2


def _samples_per_group(rows: list[dict]) -> dict[str, int]:
    """Physical samples per ore/gangue material group over every row (dark ones included: they are samples too)."""
    out: dict[str, set] = {}
    for r in rows:
        if r["class"] == "ore":  # a blind folder's rows name no sample: each file counts as its own
            out.setdefault(r["group"], set()).add(r.get("sample", r.get("file", r.get("name"))))
    return {g: len(s) for g, s in out.items()}


def ore_groups(rows: list[dict]) -> list[dict]:
    """Per ore/gangue group (dark rows apart): physical samples, spectra, recall, share nearer another class, the
    most common wrong call, and why it fails (single sample of its kind / confusion / –)."""
    n_samples = _samples_per_group(rows)
    lit = [r for r in rows if r["class"] == "ore" and not r["black"]]
    out = []
    for g in sorted({r["group"] for r in lit}):
        rs = [r for r in lit if r["group"] == g]
        called = np.array([r["called"] for r in rs])
        recall = float(np.mean(called == "ore"))
        nearer = float(np.mean([r.get("d2_other", np.inf) < r.get("d2_own", np.inf) for r in rs]))
        wrong = called[called != "ore"]
        top = max(set(wrong), key=list(wrong).count) if wrong.size else "–"
        single = n_samples[g] < MIN_SAMPLES_WITH_KIN
        why = ("–" if recall >= 0.95 else "single sample: no reference of its kind left" if single
               else f"confusion ({nearer:.0%} nearer another class)")
        out.append({"group": g, "samples": n_samples[g], "spectra": len(rs), "recall": recall,
                    "nearer_other": nearer, "top_wrong_call": str(top), "single_sample": single, "why": why})
    return out


def ore_recall_with_kin(rows: list[dict]) -> dict:
    """Ore recall over non-dark ore/gangue rows whose group keeps another physical sample, as measured and over
    all renderings; the groups left out."""
    n_samples = _samples_per_group(rows)
    kin = [r for r in rows if r["class"] == "ore" and not r["black"]
           and n_samples[r["group"]] >= MIN_SAMPLES_WITH_KIN]

    def recall(rs: list[dict]) -> float:
        return float(np.mean([r["called"] == "ore" for r in rs])) if rs else float("nan")

    return {"as_measured": recall([r for r in kin if r["rendering"] == "as measured"]),
            "all_renderings": recall(kin), "spectra": len(kin),
            "left_out": sorted(g for g, n in n_samples.items() if n < MIN_SAMPLES_WITH_KIN)}


def ore_groups_markdown(s: dict) -> list[str]:
    """The ore-group table and the secondary ore figure (:func:`ore_groups`, :func:`ore_recall_with_kin`)."""
    kin = s["ore_recall_with_kin"]
    out = ["Ore and gangue groups, leave one physical sample out (dark rows apart; all renderings). *Samples*: "
           "physical samples of the group in the library — with one, none of its kind remains when it is held out.",
           "", "| ore / gangue group | samples | spectra | called ore | nearer another class | most common wrong "
           "call | why it fails |", "|---|---|---|---|---|---|---|"]
    for g in s["ore_groups"]:
        out.append(f"| {g['group']} | {g['samples']} | {g['spectra']} | {g['recall']:.3f} | {g['nearer_other']:.2f} "
                   f"| {g['top_wrong_call']} | {g['why']} |")
    left = ", ".join(kin["left_out"]) or "none"
    out += ["", f"**Secondary figure** (beside the headline, not replacing it): ore + gangue called ore over the groups "
            f"that keep another physical sample of their kind ({kin['spectra']} spectra; left out: {left}): as "
            f"measured {kin['as_measured']:.3f}, all renderings {kin['all_renderings']:.3f} (target ≥ 0.95 is on the "
            "headline)."]
    return out
