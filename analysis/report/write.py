"""Writing a lot's report: ``<lot>-report.html`` and ``<lot>-report.pdf`` from the archive alone, staged so that a
failure leaves no half-written report behind."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.archive import open_archive
from analysis.errors import ReportError
from analysis.report.document import build_document
from analysis.report.html import render_html
from analysis.report.linesection import figures
from analysis.report.pdf import write_pdf
from analysis.report.read import build_report_data
from conveyor.files import staged_folder


def write_report(archive_path: str | Path, out_dir: str | Path | None = None, *, pdf: bool = True,
                 progress: bool = False) -> dict[str, Path]:
    """Write ``<lot>-report.html`` (and ``.pdf``) for an archive into ``out_dir`` (default: beside it).

    Returns {"html": path, "pdf": path}. Raises ArchiveError for an unreadable archive and ReportError when the
    output cannot be written (or the PDF cannot be printed).
    """
    def step(msg: str) -> None:
        if progress:
            print(f"report: {msg}", file=sys.stderr, flush=True)

    archive_path = Path(archive_path)
    out = Path(out_dir) if out_dir is not None else archive_path.parent
    step(f"reading {archive_path}")
    with open_archive(archive_path) as reader:
        data = build_report_data(reader)
    step("drawing figures")
    doc = build_document(data, figures(data))
    page = render_html(doc)
    try:
        with staged_folder(out) as stage:
            paths = {"html": stage.dir / f"{data.lot_id}-report.html"}
            step(f"writing {stage.final(paths['html'])}")
            paths["html"].write_text(page, encoding="utf-8")
            if pdf:
                paths["pdf"] = stage.dir / f"{data.lot_id}-report.pdf"
                step(f"printing {stage.final(paths['pdf'])}")
                write_pdf(page, paths["pdf"], title=f"Lot report {data.lot_id}")
            paths = {kind: stage.final(p) for kind, p in paths.items()}
    except OSError as exc:
        raise ReportError(f"cannot write the report of {archive_path} into {out}: {exc}") from exc
    return paths
