"""Writing outputs so that a failing command never leaves a half-written file behind.

Reports, evaluation folders and documents are written into a hidden staging folder
beside their destination and moved into place (``os.replace``, atomic per file on one
file system) only when everything was written. On an error the staging folder is
removed and the destination keeps what it had before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator


class StagedFolder:
    """A staging folder (``.dir``) whose files become ``out_dir``'s files on success."""

    def __init__(self, out_dir: Path, stage_dir: Path) -> None:
        self.out_dir, self.dir = out_dir, stage_dir

    def final(self, path: str | Path) -> Path:
        """Where ``path`` (inside the staging folder) ends up once committed."""
        return self.out_dir / Path(path).relative_to(self.dir)

    def commit(self) -> list[Path]:
        """Move every staged file into ``out_dir`` (sub-folders kept); return the final paths."""
        files = sorted(p for p in self.dir.rglob("*") if p.is_file())
        for src in files:  # refuse before moving anything, so a refusal leaves no mix of old and new
            if self.final(src).is_dir():
                raise IsADirectoryError(f"cannot write {self.final(src)}: a folder of that name is in the way")
        moved = []
        for src in files:
            dst = self.final(src)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            moved.append(dst)
        return moved


@contextmanager
def staged_folder(out_dir: str | Path) -> Iterator[StagedFolder]:
    """Yield a :class:`StagedFolder` for ``out_dir``; commit it when the block ends without an exception.

    Raises ``OSError`` when the parent of ``out_dir`` cannot be created or written.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = StagedFolder(out, Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)))
    try:
        yield stage
        out.mkdir(exist_ok=True)
        stage.commit()
    finally:
        shutil.rmtree(stage.dir, ignore_errors=True)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary sibling, so readers never see half of it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def replace_atomically(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write`` on a temporary path beside ``path`` (same suffix; parents made), then move it onto ``path``; on
    an error the temporary file is removed and the error raised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
