"""Field data back into the model: segments with lab-confirmed outcomes as labelled field spectra.

``oreline archive export-field-spectra ARCHIVES... --out DIR`` writes, for every segment whose outcome the lab
confirmed, the segment's archived NIR spectra as one HDF5 file (``/spectra/reflectance`` (n, ch) with a
``wavelength_nm`` attribute: spectra/formats.py reads it) and splits them into ``DIR/train`` and ``DIR/test``,
each with ``labels.csv`` (``file,class`` + lot, segment, sample, archive). Which segments, with which class:

* ``waste`` — a waste-suspect segment whose targeted sample is by-product-like or contaminated;
* ``ore`` — a segment whose targeted sample is consistent with ore, and every inspected segment of a lot
  the lab cleared (lab verdict ``ore``).

Split by lot (default) or by sample: all spectra of a lot (or of a sample's segment) go to one side, never
both, so a model is never tested on the material it learnt. Train with
``oreline spectra train --field-spectra DIR/train --field-labels DIR/train/labels.csv`` and score with
``oreline spectra evaluate --test-library DIR/test --labels DIR/test/labels.csv``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from analysis.archive.lab import current_lab_verdict
from analysis.archive.reader import ArchiveReader, open_archive, segment_positions
from analysis.errors import ArchiveError
from spectra.formats import write_hdf5

OUTCOMES = ("waste", "ore")
MAX_PER_SEGMENT = 200


@dataclass(frozen=True)
class FieldSegment:
    """A segment whose outcome the lab confirmed."""

    lot_id: str
    segment: int
    start_t: float
    end_t: float
    label: str
    sample_id: str
    archive: Path


def confirmed_segments(reader: ArchiveReader) -> list[FieldSegment]:
    """Segments of one archive with a lab-confirmed outcome (see the module docstring)."""
    v = current_lab_verdict(reader)
    segs = {s.index: s for s in reader.segments()}
    out: dict[int, FieldSegment] = {}
    for r in v.samples:
        seg = segs.get(int(r["segment"]))
        if r["role"] != "targeted" or seg is None:
            continue
        label = "waste" if r["outcome"] in ("by-product", "contaminated") else "ore" if r["outcome"] == "ore" else ""
        if label and (label == "ore" or seg.segment_class == "waste-suspect"):
            out[seg.index] = FieldSegment(reader.lot_id, seg.index, seg.start_t, seg.end_t, label, r["sample_id"],
                                          reader.path)
    if v.verdict == "ore":
        for seg in segs.values():
            if seg.segment_class in ("ore", "waste-suspect") and seg.index not in out:
                out[seg.index] = FieldSegment(reader.lot_id, seg.index, seg.start_t, seg.end_t, "ore",
                                              "lot lab-cleared", reader.path)
    return [out[k] for k in sorted(out)]


def segment_spectra(reader: ArchiveReader, segments: Sequence[FieldSegment], max_per_segment: int,
                    rng: np.random.Generator) -> tuple[np.ndarray | None, dict[int, np.ndarray]]:
    """(wavelength_nm, {segment index: valid reflectance rows (n, ch)}) from the archive's first NIR stream."""
    nir = [s for s in reader.streams_of_kind("nir") if "reflectance" in s.fields]
    if not nir or not segments:
        return None, {}
    stream = nir[0].name
    start = np.array([s.start_t for s in segments])
    end = np.array([s.end_t for s in segments])
    keys = ["tonnage_mark_t", "reflectance"] + (["valid"] if "valid" in nir[0].fields else [])
    parts: dict[int, list[np.ndarray]] = {s.segment: [] for s in segments}
    for batch in reader.iter_stream(stream, keys):
        pos = segment_positions(start, end, reader.lot_tonnes(batch["tonnage_mark_t"]))
        ok = (pos >= 0) & np.all(np.isfinite(batch["reflectance"]), axis=1)
        if "valid" in batch:
            ok &= batch["valid"].astype(bool)
        for k in np.unique(pos[ok]):
            parts[segments[int(k)].segment].append(batch["reflectance"][ok & (pos == k)])
    out = {}
    for idx, chunks in parts.items():
        if not chunks:
            continue
        rows = np.vstack(chunks)
        if len(rows) > max_per_segment:
            rows = rows[np.sort(rng.choice(len(rows), max_per_segment, replace=False))]
        out[idx] = rows.astype(np.float32)
    return reader.wavelength_nm(stream), out


def _side(key: str, test_fraction: float, seed: int) -> str:
    """Deterministic train/test side of a group key (a lot or a sample)."""
    h = int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test_fraction else "train"


def export_field_spectra(archives: Sequence[Path], out: Path, *, outcomes: Sequence[str] = OUTCOMES,
                         group_by: str = "lot", test_fraction: float = 0.3, seed: int = 0,
                         max_per_segment: int = MAX_PER_SEGMENT) -> dict[str, dict[str, int]]:
    """Write the labelled field spectra of ``archives`` into ``out/train`` and ``out/test``; return counts
    {side: {class: spectra}}. Raises ArchiveError for an unreadable archive."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[dict[str, str]]] = {"train": [], "test": []}
    counts: dict[str, dict[str, int]] = {"train": {}, "test": {}}
    for side in rows:
        (out / side).mkdir(parents=True, exist_ok=True)
    for path in archives:
        with open_archive(path) as reader:
            segs = [s for s in confirmed_segments(reader) if s.label in outcomes]
            wl, spectra = segment_spectra(reader, segs, max_per_segment, rng)
        for s in segs:
            if s.segment not in spectra or wl is None:
                continue
            side = _side(s.lot_id if group_by == "lot" else f"{s.lot_id}/{s.sample_id}/{s.segment}",
                         test_fraction, seed)
            name = f"{s.lot_id}-seg{s.segment:04d}-{s.label}.h5"
            write_hdf5(out / side / name, wl, spectra[s.segment])
            rows[side].append({"file": name, "class": s.label, "lot_id": s.lot_id, "segment": str(s.segment),
                               "sample_id": s.sample_id, "spectra": str(len(spectra[s.segment])),
                               "archive": str(s.archive)})
            counts[side][s.label] = counts[side].get(s.label, 0) + len(spectra[s.segment])
    for side, rs in rows.items():
        with (out / side / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, ["file", "class", "lot_id", "segment", "sample_id", "spectra", "archive"],
                               lineterminator="\n")
            w.writeheader()
            w.writerows(rs)
    return counts


def cli_export_field_spectra(argv: Sequence[str]) -> int:
    """``oreline archive export-field-spectra ARCHIVES... --out DIR``; returns 0, or 2 with the error."""
    p = argparse.ArgumentParser(prog="oreline archive export-field-spectra",
                                description="labelled field spectra of segments with lab-confirmed outcomes")
    p.add_argument("archives", nargs="+", type=Path, help="lot archives or folders of them")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--outcome", default="waste,ore", help="classes to export (comma separated: waste, ore)")
    p.add_argument("--group-by", choices=("lot", "sample"), default="lot",
                   help="unit kept on one side of the train/test split")
    p.add_argument("--test-fraction", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-per-segment", type=int, default=MAX_PER_SEGMENT)
    args = p.parse_args(list(argv))
    outcomes = [o.strip() for o in args.outcome.split(",") if o.strip()]
    bad = sorted(set(outcomes) - set(OUTCOMES))
    if bad or not 0.0 <= args.test_fraction < 1.0:
        p.error(f"--outcome must name {OUTCOMES} (got {bad}); --test-fraction in [0, 1)")
    paths = [q for a in args.archives for q in (sorted(a.glob("*.h5")) if a.is_dir() else [a])]
    try:
        counts = export_field_spectra(paths, args.out, outcomes=outcomes, group_by=args.group_by,
                                      test_fraction=args.test_fraction, seed=args.seed,
                                      max_per_segment=args.max_per_segment)
    except ArchiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for side, c in counts.items():
        print(f"{side}: " + (", ".join(f"{k} {n} spectra" for k, n in sorted(c.items())) or "none")
              + f" -> {args.out / side / 'labels.csv'}")
    return 0
