"""Exceptions raised by the analysis package (each also inherits the fitting builtin)."""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class of every error raised by ``analysis``."""


class AlarmError(AnalysisError, KeyError):
    """Unknown alarm id or a bad alarm category/severity."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class LotStateError(AnalysisError, RuntimeError):
    """A lot record out of order (a measurement or coverage before the lot's start)."""


class VerdictConfigError(AnalysisError, ValueError):
    """Verdict thresholds or error rates that cannot define a test."""


class ArchiveError(AnalysisError, OSError):
    """An archive that cannot be written or read (corrupt, truncated, wrong format version)."""


class ReportError(AnalysisError, RuntimeError):
    """A report that cannot be produced from the archive."""


class FleetError(AnalysisError, RuntimeError):
    """A fleet run that cannot start (model unreadable, no archives, scheduler unreachable)."""
