"""The control room: HTTP API, live stream and the operator page of one oreline line.

``ControlRoomServer(service, operator_token=...)`` serves it (uvicorn in a
background thread, 127.0.0.1 by default); ``create_app`` builds the FastAPI app;
``CONTROL_ROOM_FIELDS`` is the ``[control_room]`` configuration table and
``SecurityOptions`` its security part (accounts, sessions, throttling, hosts, TLS).
"""

from analysis.web.app import create_app
from analysis.web.errors import EvidenceError, ServerStartError
from analysis.web.evidence import SpectrumCache
from analysis.web.server import ControlRoomServer
from analysis.web.errors import AccountsError
from analysis.web.security import SecurityOptions
from analysis.web.settings import CONTROL_ROOM_FIELDS, TOKEN_ENV, validate_control_room

__all__ = ["ControlRoomServer", "create_app", "SpectrumCache", "CONTROL_ROOM_FIELDS", "TOKEN_ENV",
           "validate_control_room", "SecurityOptions", "EvidenceError", "ServerStartError", "AccountsError"]
