"""The lab queue of the control room: closed lots in the line's archive folder, their line and lab verdicts,
and the samples each still waits for (``GET /api/lab``, one router).

Archives are read once per change of their file (size, mtime); a lot whose archive is still open (being
written) is not listed; an unreadable archive is listed with its error.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from fastapi import APIRouter, Depends

from analysis.archive import current_lab_verdict, open_archive
from analysis.errors import ArchiveError

MAX_LOTS = 50


def _short(sample_id: str, lot_id: str) -> str:
    return sample_id[len(lot_id) + 1:] if sample_id.startswith(lot_id + "-") else sample_id


def lot_lab_row(path: Path) -> dict[str, Any] | None:
    """The queue row of one archive (None for a lot still open)."""
    try:
        with open_archive(path, allow_live=False) as reader:
            if reader.state == "open":
                return None
            line = reader.final_verdict()
            v = current_lab_verdict(reader)
    except ArchiveError as exc:
        if "open for writing" in str(exc):
            return None
        # no server paths to viewers: the message names the archive by its file name only
        return {"lot_id": path.stem, "archive": path.name,
                "error": str(exc).replace(str(path.parent) + "/", "")[:300]}
    return {"lot_id": v.lot_id, "archive": path.name, "line_verdict": line.verdict if line else "none",
            "lab_verdict": v.verdict, "basis": v.basis,
            "awaiting": [_short(s, v.lot_id) for s in v.awaiting],
            "samples": len(v.samples), "missing": list(v.missing)[:6]}


class LabQueue:
    """Rows of the lab queue for the archives in ``folders`` (callable returning the folders), cached per file."""

    def __init__(self, folders: Callable[[], Iterable[str | Path]]) -> None:
        self._folders = folders
        self._cache: dict[Path, tuple[tuple[int, int], dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def rows(self) -> list[dict[str, Any]]:
        """Newest lots first; lots awaiting assays before decided ones."""
        paths: list[Path] = []
        for folder in self._folders():
            if folder and Path(folder).is_dir():
                paths += [p for p in Path(folder).glob("*.h5") if p.is_file()]
        paths.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        out = []
        with self._lock:
            for p in paths[:MAX_LOTS]:
                st = p.stat()
                key = (st.st_size, st.st_mtime_ns)
                hit = self._cache.get(p)
                if hit is None or hit[0] != key:
                    hit = (key, lot_lab_row(p))
                    self._cache[p] = hit
                if hit[1] is not None:
                    out.append(hit[1])
        out.sort(key=lambda r: (not r.get("awaiting"), r.get("lab_verdict") != "inconclusive"))
        return out


def lab_router(queue: LabQueue, viewer: Callable[..., Any], responses: dict) -> APIRouter:
    """``GET /api/lab``: the lab queue (viewer role)."""
    router = APIRouter(tags=["lab"])

    @router.get("/api/lab", response_model=list[dict[str, Any]], responses=responses)
    def get_lab(_: Any = Depends(viewer)) -> list[dict[str, Any]]:
        """Closed lots of the line's archive folder: line verdict, lab verdict, samples awaiting assays."""
        return queue.rows()

    return router
