"""The ``file,class`` label CSV of a folder of spectra (``--labels``): read without the models, so that a command can
refuse a bad file before it loads scikit-learn."""

from __future__ import annotations

import csv
from pathlib import Path

from spectra.errors import SpectrumFormatError

#: The classes a label may name.
LABEL_CLASSES = ("ore", "gangue", "waste", "contaminant")


def read_labels(path: str | Path) -> list[tuple[str, str]]:
    """``file,class`` rows (header required); class in ore/gangue/waste/contaminant. SpectrumFormatError if bad."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpectrumFormatError(f"{path}: cannot read labels ({exc})") from exc
    if not rows or not {"file", "class"} <= set(rows[0]):
        raise SpectrumFormatError(f"{path}: expected a CSV with columns 'file,class', got {list(rows[0]) if rows else 'no rows'}")
    out = []
    for i, r in enumerate(rows, 2):
        klass = (r["class"] or "").strip().lower()
        if klass not in LABEL_CLASSES:
            raise SpectrumFormatError(f"{path}: line {i}: expected class {'/'.join(LABEL_CLASSES)}, got {r['class']!r}")
        out.append(((r["file"] or "").strip(), klass))
    return out


__all__ = ["LABEL_CLASSES", "read_labels"]
