"""Exceptions of the lot catalogue (each also inherits the fitting builtin)."""

from __future__ import annotations

from analysis.errors import AnalysisError


class CatalogueError(AnalysisError, RuntimeError):
    """A catalogue that cannot be opened, migrated or written (bad URL, unreachable server, wrong schema)."""


class CatalogueUrlError(CatalogueError, ValueError):
    """A ``[catalogue] url`` that names no usable database (a usage error: exit 2)."""


class UnknownLot(CatalogueError, KeyError):
    """A lot id the catalogue does not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown lot"


class ArchiveUnavailable(CatalogueError, LookupError):
    """A lot's archive is missing or unreadable (the catalogue row stays; the message says what to do)."""
