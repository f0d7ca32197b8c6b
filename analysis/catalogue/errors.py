"""Exceptions of the lot catalogue (each also inherits the fitting builtin)."""

from __future__ import annotations

from analysis.errors import AnalysisError


class CatalogueError(AnalysisError, RuntimeError):
    """A catalogue that cannot be opened, migrated or written (bad URL, unreachable server, wrong schema)."""


class CatalogueUrlError(CatalogueError, ValueError):
    """A ``[catalogue] url`` that names no usable database (a usage error: exit 2)."""
