"""The control room: HTTP API, live stream and the operator page of one oreline line.

``ControlRoomServer(service, operator_token=...)`` serves it (uvicorn in a
background thread, 127.0.0.1 by default); ``create_app`` builds the FastAPI app;
``CONTROL_ROOM_FIELDS`` is the ``[control_room]`` configuration table and
``SecurityOptions`` its security part (accounts, sessions, throttling, hosts, TLS).

The names below are imported on first use (PEP 562), as in :mod:`analysis.catalogue`, so that
``oreline accounts ...`` and ``oreline config ...`` do not load FastAPI, the archive and the decision code.
"""

from __future__ import annotations

from analysis.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "create_app": "app",
    "EvidenceError": "errors", "ServerStartError": "errors", "AccountsError": "errors",
    "SpectrumCache": "evidence",
    "ControlRoomServer": "server",
    "SecurityOptions": "security",
    "CONTROL_ROOM_FIELDS": "settings", "TOKEN_ENV": "settings", "validate_control_room": "settings",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
