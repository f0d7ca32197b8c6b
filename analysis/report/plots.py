"""Figures of the batch report, drawn with matplotlib's object API (no pyplot state, no display).

Each function returns a :class:`matplotlib.figure.Figure`; :func:`png_base64` turns
one into an inline PNG, shown in the HTML report and, from the same HTML, in the PDF.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from analysis.model import SEGMENT_CLASSES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib is imported inside the functions that draw (~0.4 s): `oreline report --help` and the commands that
# import the report room without drawing do not pay for it.

#: Colour of each segment class (index = class code).
CLASS_COLOURS: dict[str, str] = {
    "uninspected": "#9e9e9e", "ore": "#2e7d32", "waste-suspect": "#ef6c00", "contaminated": "#c62828",
}


def png_base64(fig: Figure, dpi: int = 110) -> str:
    """PNG of ``fig`` as base64 text (for ``<img src="data:image/png;base64,...">``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def image_png_base64(image: np.ndarray) -> str:
    """PNG of an (h, w, 3) uint8 image as base64 text."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, format="PNG", optimize=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def timeline(start_t: np.ndarray, end_t: np.ndarray, class_code: np.ndarray, *, lot_mass_t: float,
             nir_score: np.ndarray | None = None, nir_threshold: float | None = None,
             detection_t: np.ndarray | None = None, gaps: Sequence[tuple[str, float, float]] = ()) -> Figure:
    """Segment classes along lot tonnage (t), with the NIR segment score and detections beneath.

    ``start_t``/``end_t``/``class_code`` are per segment (codes index ``SEGMENT_CLASSES``);
    ``nir_score`` per segment (NaN where none); ``gaps`` are (station, start t, end t) uninspected stretches.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = 3 if nir_score is not None else 2
    fig = Figure(figsize=(10, 1.2 + 1.3 * rows))
    axes = fig.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": [1.0] + [1.4] * (rows - 1)})
    ax = axes[0]
    for code, name in enumerate(SEGMENT_CLASSES):
        sel = class_code == code
        if sel.any():
            ax.broken_barh(list(zip(start_t[sel], end_t[sel] - start_t[sel])), (0, 1), color=CLASS_COLOURS[name],
                           linewidth=0)
    ax.set_yticks([])
    ax.set_ylabel("class")
    ax.legend(handles=[Patch(color=CLASS_COLOURS[c], label=c) for c in SEGMENT_CLASSES], ncol=4, loc="upper center",
              bbox_to_anchor=(0.5, 1.6), frameon=False, fontsize=8)
    i = 1
    if nir_score is not None:
        mid = 0.5 * (start_t + end_t)
        axes[i].plot(mid, nir_score, ".-", color="#1565c0", markersize=3, linewidth=0.8)
        if nir_threshold is not None and np.isfinite(nir_threshold):
            axes[i].axhline(nir_threshold, color="#ef6c00", linestyle="--", linewidth=0.8, label="threshold")
            axes[i].legend(fontsize=7, loc="upper right")
        axes[i].set_ylabel("NIR waste\nscore")
        i += 1
    axg = axes[i]
    stations = sorted({g[0] for g in gaps})
    for k, st in enumerate(stations):
        spans = [(a, b - a) for s, a, b in gaps if s == st]
        axg.broken_barh(spans, (k + 0.1, 0.8), color="#9e9e9e")
    if detection_t is not None and len(detection_t):
        y = len(stations) + 0.5
        axg.plot(detection_t, np.full(len(detection_t), y), "v", color="#c62828", markersize=5, label="detections")
        axg.legend(fontsize=7, loc="upper right")
    axg.set_yticks(np.arange(len(stations)) + 0.5, stations, fontsize=8)
    axg.set_ylim(0, len(stations) + 1)
    axg.set_ylabel("gaps")
    axg.set_xlabel("lot tonnage (t)")
    axg.set_xlim(0, max(lot_mass_t, float(end_t.max()) if len(end_t) else 0.0, 1.0))
    fig.tight_layout()
    return fig


def mean_spectra(wavelength_nm: np.ndarray, class_means: Mapping[str, tuple[np.ndarray, int]],
                 references: Mapping[str, np.ndarray] | None) -> Figure:
    """Mean reflectance per segment class (solid) against library references (dashed), over wavelength (nm)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2))
    ax = fig.subplots()
    for name, (mean, n) in class_means.items():
        ax.plot(wavelength_nm, mean, color=CLASS_COLOURS.get(name, "k"), linewidth=1.6,
                label=f"{name} segments (n={n:,})")
    styles = ["--", ":", "-.", (0, (5, 2, 1, 2))]
    for k, (name, ref) in enumerate((references or {}).items()):
        ax.plot(wavelength_nm, ref, linestyle=styles[k % len(styles)], color="0.35", linewidth=1.0, label=name)
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel("reflectance")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def abundances(mid_t: np.ndarray, fractions: np.ndarray, names: Sequence[str]) -> Figure:
    """Mean mineral abundances per segment, stacked over lot tonnage. ``fractions`` (n_segments, k)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.4))
    ax = fig.subplots()
    ok = np.all(np.isfinite(fractions), axis=1)
    from matplotlib import colormaps

    colours = colormaps["tab20"](np.arange(len(names)) % 20)
    ax.stackplot(mid_t[ok], fractions[ok].T, labels=list(names), colors=colours, alpha=0.9)
    ax.set_xlabel("lot tonnage (t)")
    ax.set_ylabel("abundance (fraction)")
    ax.set_ylim(0, max(1.0, float(np.nansum(fractions, axis=1).max()) if fractions.size else 1.0))
    ax.legend(fontsize=8, loc="upper right", ncol=min(4, len(names)))
    fig.tight_layout()
    return fig
