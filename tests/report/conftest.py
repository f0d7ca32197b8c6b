"""The report tests print PDFs with WeasyPrint: without it or its system libraries (Pango) they skip, saying why."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _weasyprint_available() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"WeasyPrint cannot print PDFs here ({exc}): run scripts/install-system-deps.sh and make setup")
