"""The report's PDF: the HTML of :mod:`analysis.report.html` printed with WeasyPrint (paged media: A4, running
header with the lot id, page x of y, repeated table headers, wrapped text). WeasyPrint needs Pango
(scripts/install-system-deps.sh); without it :func:`write_pdf` raises :class:`ReportError` saying so."""

from __future__ import annotations

from pathlib import Path

from analysis.errors import ReportError


def write_pdf(html_text: str, path: Path, *, title: str = "") -> Path:
    """Print ``html_text`` to ``path`` (A4 pages as its print CSS says). Raises ReportError when WeasyPrint or its
    system libraries are missing."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango/HarfBuzz shared libraries missing
        raise ReportError(f"cannot print the PDF: WeasyPrint unavailable ({exc}); install it with its system "
                          f"libraries (scripts/install-system-deps.sh) or use --no-pdf") from exc
    doc = weasyprint.HTML(string=html_text, base_url=str(path.parent)).render()
    if title:
        doc.metadata.title = title
    doc.write_pdf(path)
    return path
