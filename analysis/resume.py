"""Resuming a killed lot on a new line: the archived sampling plan and increments back into the line's samplers.

A lot whose line was killed is reopened with :meth:`analysis.archive.LotArchive.resume` and run on a new line for
the rest of its material. Its sampler must not plan the lot afresh (a new plan is another stream description,
which the archive refuses, and it would cut again what was already cut): :func:`restore_samplers` reads each
sampler stream of the archive (the plan in its metadata, the increments recorded, how far the lot got) and hands
them to the plant's sampler station of the same name (:meth:`sampler.station.SamplerStation.resume_from`).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from analysis.archive import ArchiveReader, open_archive
from analysis.errors import ArchiveError


def done_along_plan(reader: ArchiveReader, basis: str) -> float:
    """How far the killed run got: lot tonnes weighed (mass basis; the archive's resume shift) or line seconds
    since the lot's first window (time basis)."""
    cov = reader.coverage()
    if basis == "time":
        times = cov["time_s"]
        return float(times.max() - times.min()) if len(times) else 0.0
    marks = [float(cov["end_mark_t"].max())] if len(cov["end_mark_t"]) else []
    for name, info in reader.streams.items():
        if info.rows:
            marks.append(float(reader.stream_column(name, "tonnage_mark_t", slice(info.rows - 1, info.rows))[0]))
    return max(marks) - reader.lot_start_mark_t if marks else 0.0


def archived_increments(reader: ArchiveReader, stream: str) -> list[dict[str, Any]]:
    """The increments a sampler stream recorded, with lot-relative ``mark_t``."""
    table = reader.stream_table(stream)
    rel = reader.lot_tonnes(table["tonnage_mark_t"])
    rows = []
    for i in range(len(rel)):
        row = {k: (v[i].item() if isinstance(v[i], np.generic) else v[i]) for k, v in table.items()}
        row["mark_t"] = float(rel[i])
        rows.append(row)
    return rows


def restore_samplers(stations: dict[str, Any], path: str | os.PathLike[str]) -> dict[str, int]:
    """Give every sampler station of ``stations`` (by name) its archived plan and increments; returns
    {station: archived increments}. Raises :class:`ArchiveError` when the archive has a sampler stream with no
    plan, or a sampler station has no stream in the archive (its increments would not be accepted)."""
    out: dict[str, int] = {}
    with open_archive(path) as reader:
        streams = {s.name: s for s in reader.streams_of_kind("sampler")}
        for name, station in stations.items():
            if not hasattr(station, "resume_from"):
                continue
            info = streams.get(name)
            plan = (info.metadata.get("plan") if info else None) or {}
            if not plan or "offsets" not in plan:
                raise ArchiveError(f"{path}: no archived sampling plan for sampler {name!r} (streams: "
                                   f"{sorted(streams)}); the resumed sampler cannot continue the lot's plan")
            done = done_along_plan(reader, str(plan.get("basis", "mass")))
            rows = archived_increments(reader, name)
            station.resume_from(plan, done if math.isfinite(done) else 0.0, rows)
            out[name] = len(rows)
    return out


__all__ = ["restore_samplers", "done_along_plan", "archived_increments"]
