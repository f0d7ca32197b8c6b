"""Exceptions raised by the control-room web layer (each also inherits the fitting builtin).

They derive from :class:`analysis.errors.AnalysisError` so callers may catch the
package base class.
"""

from __future__ import annotations

from analysis.errors import AnalysisError


class WebError(AnalysisError):
    """Base class of every error raised by ``analysis.web``."""


class ServerStartError(WebError, RuntimeError):
    """The HTTP server could not bind its address or did not start listening in time."""


class EvidenceError(WebError, LookupError):
    """Evidence (segment spectrum, detection thumbnail) that is not available."""


class AccountsError(WebError, ValueError):
    """An accounts file or an account that is not as expected (names the file and line)."""
