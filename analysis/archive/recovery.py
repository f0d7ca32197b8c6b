"""Recovery of a lot whose writer died: make the file readable again, or close the lot as aborted.

:func:`recover_archive` copies everything the dead writer flushed into a clean file (columns cut to whole
rows); :func:`close_archive` (``oreline archive close LOT.h5``) then marks the lot aborted.
:meth:`analysis.archive.LotArchive.resume` uses the first to append the rest of a lot.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import h5py

from analysis.archive.format import append_columns, dumps
from analysis.archive.reader import open_archive
from analysis.errors import ArchiveError

__all__ = ["close_archive", "recover_archive"]


def recover_archive(path: str | os.PathLike[str], *, keep_original: bool = False) -> Path:
    """Make a file left open by a killed writer readable and writable again.

    Everything the writer flushed is copied (columns cut to whole rows) into a
    clean file that replaces ``path`` (the original is kept as ``path.crashed``
    when ``keep_original``). Raises ArchiveError when the file cannot be read;
    the original is then untouched.
    """
    p = Path(path)
    tmp = p.with_name(p.name + ".recovering")
    try:
        src = h5py.File(p, "r", swmr=True, libver="latest")
    except OSError as exc:
        raise ArchiveError(f"{p}: cannot open to recover ({exc})") from exc
    try:
        with h5py.File(tmp, "w", libver="latest") as dst:
            for k, v in src.attrs.items():
                dst.attrs[k] = v
            for name in src:
                src.copy(src[name], dst, name=name)
            for grp in list(dst["tables"].values()) + list(dst["streams"].values()):
                _cut_to_rows(grp)
    except Exception as exc:
        src.close()
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"{p}: cannot recover ({type(exc).__name__}: {exc}); original left as it was") from exc
    src.close()
    if keep_original:
        os.replace(p, p.with_name(p.name + ".crashed"))
    os.replace(tmp, p)
    return p


def _cut_to_rows(grp: h5py.Group) -> None:
    """Cut every column of a table or stream (and its data/ group) to the shortest one."""
    datasets = [d for d in grp.values() if isinstance(d, h5py.Dataset)]
    if "data" in grp:
        datasets += [d for d in grp["data"].values() if isinstance(d, h5py.Dataset)]
    if not datasets:
        return
    n = min(d.shape[0] for d in datasets)
    for d in datasets:
        if d.shape[0] > n:
            d.resize(n, axis=0)


def close_archive(path: str | os.PathLike[str], reason: str, *, keep_original: bool = False,
                  force: bool = False) -> str:
    """Mark a lot left open (killed writer) as aborted, keeping everything flushed. Returns the final state.

    An archive that is already complete or aborted is left alone. Raises
    ArchiveError when its writer is still running on this host (unless ``force``)
    or the file cannot be read.
    """
    p = Path(path)
    with open_archive(p) as reader:
        live, state, alive = reader.live, reader.state, reader.writer_alive()
    if state in ("complete", "aborted"):
        return state
    if live and alive and not force:
        raise ArchiveError(f"{p}: writer process is still running; stop it first (or use --force)")
    if live:
        recover_archive(p, keep_original=keep_original)
    try:
        with h5py.File(p, "r+", libver="latest") as f:
            append_columns(f["tables"]["status"], {"epoch_s": [time.time()], "state": ["aborted"],
                                                   "reason": [reason], "json": [dumps({"closed_by": "oreline archive close"})]})
    except OSError as exc:
        raise ArchiveError(f"{p}: cannot mark aborted ({exc})") from exc
    return "aborted"
