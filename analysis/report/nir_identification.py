"""Per-spectrum NIR identification of a lot for the batch report: table rows and one figure.

Reads what the NIR station archived per spectrum (``id_class``, ``id_group``, ``id_fit``, ``band_depth`` with the
code lists ``id_classes``, ``id_groups``, ``id_features`` in the stream metadata; :mod:`spectra.identify`). The
report (:mod:`analysis.report.read`) takes :func:`identification_rows` and :func:`identification_plot`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spectra.identify.labels import detected_features, feature_text, group_shares, mixture_label, relative_noise

#: Colours of the identification classes in the figure.
CLASS_COLOURS = {"ore": "#2e7d32", "waste": "#ef6c00", "contaminant": "#c62828", "unknown": "#6a1b9a"}


def _identified(reader, stream: str) -> dict[str, np.ndarray] | None:
    """The valid, identified spectra of ``stream``: their identification columns and ``noise`` (relative channel
    noise of the archived reflectance, :func:`spectra.identify.labels.relative_noise`)."""
    info = reader.streams[stream]
    if "id_class" not in info.fields or not info.metadata.get("id_classes"):
        return None
    keys = ["tonnage_mark_t", "valid", "id_class", "id_group", "id_fit", "band_depth", "reflectance"]
    cols = reader.stream_table(stream, [k for k in keys if k == "tonnage_mark_t" or k in info.fields])
    ok = np.asarray(cols.get("valid", np.ones(len(cols["id_class"]), bool)), bool) & (cols["id_class"] >= 0)
    out = {k: np.asarray(v)[ok] for k, v in cols.items() if k != "reflectance"}
    if "reflectance" in cols:
        out["noise"] = relative_noise(np.asarray(cols["reflectance"])[ok])
    return out


def _features(cols: dict[str, np.ndarray], sel: np.ndarray, keys: list[str]) -> str:
    if "band_depth" not in cols:
        return ""
    noise = cols["noise"][sel] if "noise" in cols else None
    return feature_text(detected_features(cols["band_depth"][sel], keys, noise))


def identification_rows(reader) -> list[dict[str, Any]]:
    """One row per (NIR stream, material group): class, spectra, share of the lot's identified spectra, median
    fit and the features detected in the group's spectra (median band depth above noise,
    :mod:`spectra.identify.labels`). Sorted by spectra, most first; [] without identification."""
    rows: list[dict[str, Any]] = []
    for info in reader.streams_of_kind("nir"):
        cols = _identified(reader, info.name)
        if cols is None or not len(cols["id_class"]):
            continue
        meta = info.metadata
        classes, groups, feats = meta["id_classes"], meta["id_groups"], list(meta.get("id_features", []))
        n = len(cols["id_class"])
        for g in np.unique(cols["id_group"]):
            sel = cols["id_group"] == g
            cls_codes, counts = np.unique(cols["id_class"][sel], return_counts=True)
            rows.append({"stream": info.name, "group": groups[int(g)] if 0 <= g < len(groups) else "?",
                         "class": classes[int(cls_codes[np.argmax(counts)])], "spectra": int(sel.sum()),
                         "share": float(sel.sum() / n), "median_fit": float(np.nanmedian(cols["id_fit"][sel])),
                         "features": _features(cols, sel, feats)})
    return sorted(rows, key=lambda r: -r["spectra"])


def segment_identification(reader, segment_mass_t: float | None = None) -> list[dict[str, Any]]:
    """Per segment of the first identified NIR stream: ``segment``, ``spectra``, ``classes`` (class → share),
    ``groups`` (per material group, most first: ``group``, ``class``, ``share`` and the ``features`` detected in
    that group's spectra) and ``label`` (the groups and shares as text,
    :func:`spectra.identify.labels.mixture_label`); [] without identification."""
    nir = [s for s in reader.streams_of_kind("nir") if "id_class" in s.fields]
    cols = _identified(reader, nir[0].name) if nir else None
    if cols is None or not len(cols["id_class"]):
        return []
    meta = nir[0].metadata
    classes, groups, feats = meta["id_classes"], np.asarray(meta["id_groups"]), list(meta.get("id_features", []))
    seg = np.floor(reader.lot_tonnes(cols["tonnage_mark_t"]) / (segment_mass_t or reader.segment_mass_t))
    out = []
    for s in np.unique(seg.astype(int)):
        sel = seg == s
        codes, counts = np.unique(cols["id_class"][sel], return_counts=True)
        per_group = []
        for g in np.unique(cols["id_group"][sel]):
            in_g = sel & (cols["id_group"] == g)
            c, k = np.unique(cols["id_class"][in_g], return_counts=True)
            per_group.append({"group": str(groups[int(g)]), "class": classes[int(c[np.argmax(k)])],
                              "share": float(in_g.sum() / sel.sum()), "features": _features(cols, in_g, feats)})
        per_group.sort(key=lambda x: -x["share"])
        out.append({"segment": int(s), "spectra": int(sel.sum()),
                    "classes": {classes[int(c)]: float(k / sel.sum()) for c, k in zip(codes, counts)},
                    "groups": per_group, "label": mixture_label(group_shares(groups[cols["id_group"][sel]]))})
    return out


def identification_figure(reader, path: str | Path, segment_mass_t: float | None = None) -> Path | None:
    """:func:`identification_plot` saved as a PNG at ``path``; None when the archive holds no identification."""
    import matplotlib.pyplot as plt

    fig = identification_plot(reader, segment_mass_t)
    if fig is None:
        return None
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out


def identification_plot(reader, segment_mass_t: float | None = None) -> Any:
    """Stacked shares of ore / waste / contaminant / unknown identifications per segment (a matplotlib Figure);
    None when the archive holds no identification."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    nir = [s for s in reader.streams_of_kind("nir") if "id_class" in s.fields]
    cols = _identified(reader, nir[0].name) if nir else None
    if cols is None or not len(cols["id_class"]):
        return None
    classes = nir[0].metadata["id_classes"]
    mass = segment_mass_t or reader.segment_mass_t
    seg = np.floor(reader.lot_tonnes(cols["tonnage_mark_t"]) / mass).astype(int)
    seg -= seg.min()
    shares = np.zeros((seg.max() + 1, len(classes)))
    np.add.at(shares, (seg, cols["id_class"].astype(int)), 1.0)
    shares /= np.maximum(shares.sum(axis=1, keepdims=True), 1.0)
    fig, ax = plt.subplots(figsize=(8, 2.6), dpi=110)
    bottom = np.zeros(shares.shape[0])
    for k, c in enumerate(classes):
        ax.bar(np.arange(shares.shape[0]), shares[:, k], bottom=bottom, width=1.0, label=c,
               color=CLASS_COLOURS.get(c, "#777777"))
        bottom += shares[:, k]
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlim(-0.5, shares.shape[0] - 0.5)
    ax.set_xlabel(f"segment ({mass:g} t)")
    ax.set_ylabel("share of spectra")
    ax.set_ylim(0, 1)
    ax.set_title("NIR identification by absorption features, per segment")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
