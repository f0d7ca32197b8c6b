"""Validation of product fingerprints (:mod:`spectra.fingerprint`) on simulated products of held-out samples.

Each simulated product is a random blend of held-out ore/gangue samples; its lots vary as
:func:`spectra.lots.product_lot` assumes. A fingerprint is built from ``history_lots`` genuine lots (their
first ``segments`` segments), then checked on new genuine lots (false alarms) and on lots that carry a held-out
waste sample from their first tonne at each mass fraction (sensitivity), cycling over the held-out waste samples.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from spectra.fingerprint import SignatureBuilder, build_fingerprint
from spectra.lots import simulate_lot
from spectra.models.heldout import held_out_world
from spectra.scene import PRODUCT_LOT_SIGMA, draw_lots, product_lot

WHOLE_LOT_FRACTIONS = (0.05, 0.20, 0.50, 0.95)


def evaluate_fingerprints(model, *, n_products: int = 12, history_lots: int = 20, test_lots: int = 4,
                          segments: int = 3, spectra_per_segment: int = 60,
                          fractions: tuple[float, ...] = WHOLE_LOT_FRACTIONS, false_alarm: float = 0.05,
                          seed: int = 23, progress: Callable[[str], None] | None = None) -> dict:
    """Report dict: false alarms on genuine lots, flag rate per whole-lot waste fraction and per material."""
    say = progress or (lambda _m: None)
    _, rlib, sim, det, rng = held_out_world(model, seed)
    pool = sim.pool("waste")
    ld = model.lot_detector

    def signature(product, idx=None, frac=0.0):
        lot = simulate_lot(sim, det, rng, segments, spectra_per_segment, profile=product_lot(sim, rng, product),
                           admix_index=idx, mass_frac=frac)
        b = SignatureBuilder(ld, segments)
        for s in lot:
            b.add(s)
        return b.signature()

    genuine: list[bool] = []
    hits: dict[str, list[bool]] = {f"{f:.2f}": [] for f in fractions}
    per_material: dict[str, list[bool]] = {}
    k = 0
    for p in range(n_products):
        product = draw_lots(sim, rng, 1)[0]
        fp = build_fingerprint(model, "simulated", f"P{p}", [signature(product) for _ in range(history_lots)],
                               false_alarm=false_alarm)
        genuine += [fp.check(model, signature(product)).flagged for _ in range(test_lots)]
        for f in fractions:
            for _ in range(test_lots):
                idx = int(pool[k % pool.size])
                k += 1
                flagged = fp.check(model, signature(product, idx, f)).flagged
                hits[f"{f:.2f}"].append(flagged)
                if f == max(fractions):
                    per_material.setdefault(rlib.entries[idx].usgs_name, []).append(flagged)
        say(f"product {p + 1}/{n_products}: genuine flagged {np.mean(genuine):.2f}, "
            + ", ".join(f"{100 * float(f):.0f} % waste {np.mean(v):.2f}" for f, v in hits.items()))
    return {"grid": model.grid.name, "products": n_products, "history_lots": history_lots, "test_lots": test_lots,
            "segments": segments, "spectra_per_segment": spectra_per_segment, "lot_sigma": list(PRODUCT_LOT_SIGMA),
            "false_alarm_target": false_alarm, "false_alarm_bound": 1.0 / (history_lots + 1),
            "false_alarm": float(np.mean(genuine)), "genuine_lots": len(genuine),
            "detection": {f: float(np.mean(v)) for f, v in hits.items()},
            "by_material_at_max": {m: float(np.mean(v)) for m, v in per_material.items()}}


def fingerprint_markdown(rep: dict) -> list[str]:
    """Markdown lines for an :func:`evaluate_fingerprints` result."""
    fr = list(rep["detection"])
    lines = ["## Product fingerprints — waste from the first tonne (held-out samples)", "",
             f"{rep['products']} simulated products; fingerprint from {rep['history_lots']} genuine lots each (first "
             f"{rep['segments']} segments x {rep['spectra_per_segment']} spectra); lot-to-lot variation of a product "
             f"σ {rep['lot_sigma'][0]:.2f} per mass fraction, grain σ {rep['lot_sigma'][1]:.2f}, moisture 0–10 % "
             "(assumed; field data should set it).", "",
             f"False alarms on {rep['genuine_lots']} new genuine lots: {100 * rep['false_alarm']:.1f} % (limit set at "
             f"{100 * rep['false_alarm_target']:.0f} %; {rep['history_lots']} lots cannot show less than "
             f"{100 * rep['false_alarm_bound']:.1f} %)", "",
             "| waste from the first tonne, % of mass | " + " | ".join(f"{100 * float(f):.0f} %" for f in fr) + " |",
             "|---|" + "---|" * len(fr),
             "| lots flagged | " + " | ".join(f"{100 * rep['detection'][f]:.0f} %" for f in fr) + " |", ""]
    lines.append("By material at the largest fraction: " + ", ".join(
        f"{m} {100 * v:.0f} %" for m, v in rep["by_material_at_max"].items()))
    return lines + [""]
