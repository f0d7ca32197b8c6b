"""The ``[control_room]`` section of the site configuration.

Keys (defaults in brackets):

- ``enabled`` [true]: serve the control room with the line.
- ``host`` ["127.0.0.1"]: address to bind. Loopback by default; binding another
  address exposes the API to the network, so give tokens.
- ``port`` [8080]: TCP port (0: any free port, printed at start).
- ``operator_token`` [""]: token (or password) that grants the operator role
  (acknowledge alarms, targeted samples, stop the lot). Empty: commands disabled.
- ``viewer_token`` [""]: token needed to view. Empty: viewing is open to anyone
  who can reach the address.
- ``max_viewers`` [50]: live-stream connections served at once; more get HTTP 429.
- ``update_interval_s`` [0.1]: shortest time between two live updates (coalesces
  fast simulated ticks; the page lags a state change by at most about this).
"""

from __future__ import annotations

from typing import Any, Mapping

from conveyor.config import Field, validate_section
from conveyor.errors import ConfigError

#: Shortest accepted token, characters (a shorter one is a configuration error).
MIN_TOKEN_CHARS = 8

CONTROL_ROOM_FIELDS: dict[str, Field] = {
    "enabled": Field(bool, True, doc="Serve the control room with the line."),
    "host": Field(str, "127.0.0.1", doc="Address to bind (loopback by default)."),
    "port": Field(int, 8080, min=0, max=65535, doc="TCP port (0: any free port)."),
    "operator_token": Field(str, "", doc="Token granting the operator role; empty disables commands."),
    "viewer_token": Field(str, "", doc="Token needed to view; empty leaves viewing open."),
    "max_viewers": Field(int, 50, min=1, max=10000, doc="Live-stream connections served at once."),
    "update_interval_s": Field(float, 0.1, min=0.01, max=1.0, doc="Shortest time between live updates, s."),
}


def check_token(path: str, token: str | None) -> str | None:
    """Return ``token`` (None for empty/None) or raise ConfigError when it is too short or not printable."""
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise ConfigError(path, f"expected a string token, got {type(token).__name__}")
    if len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(path, f"expected a token of at least {MIN_TOKEN_CHARS} characters, got {len(token)}")
    if not token.isprintable() or any(c.isspace() for c in token):
        raise ConfigError(path, "expected a token of printable, non-space characters")
    return token


def validate_control_room(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate a ``[control_room]`` table (defaults filled in); raises ConfigError naming the key."""
    out = validate_section(section or {}, CONTROL_ROOM_FIELDS, "control_room")
    check_token("control_room.operator_token", out["operator_token"])
    check_token("control_room.viewer_token", out["viewer_token"])
    if out["operator_token"] and out["operator_token"] == out["viewer_token"]:
        raise ConfigError("control_room.viewer_token", "expected a viewer token different from the operator token")
    return out
