"""The ``[control_room]`` section of the site configuration, and where its secrets come from.

The table (:data:`CONTROL_ROOM_FIELDS`) is the one source of keys, types, bounds, defaults and help;
docs/configuration.md is rendered from it. Secrets never come from the command line (any local user reads
``/proc/PID/cmdline``): tokens come from the site file, from ``secrets_file`` (TOML with ``operator_token`` /
``viewer_token``, readable by its owner only) or from ``$ORELINE_OPERATOR_TOKEN`` / ``$ORELINE_VIEWER_TOKEN``;
people's passwords live, argon2-hashed, in ``accounts_file``.
"""

from __future__ import annotations

import ipaddress
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conveyor.config import Field, validate_section
from conveyor.errors import ConfigError

#: Shortest accepted token, characters (a shorter one is a configuration error).
MIN_TOKEN_CHARS = 8
#: Environment variables read for the tokens (they win over the site file and the secrets file).
TOKEN_ENV = {"operator_token": "ORELINE_OPERATOR_TOKEN", "viewer_token": "ORELINE_VIEWER_TOKEN"}


def _str_list(path: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v and len(v) <= 255 for v in value):
        raise ConfigError(path, f"expected a list of non-empty strings, got {value!r}")
    return list(value)


def _proxies(path: str, value: Any) -> list[str]:
    out = _str_list(path, value)
    for v in out:
        try:
            ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise ConfigError(path, f"expected IP addresses or networks, got {v!r}") from None
    return out


CONTROL_ROOM_FIELDS: dict[str, Field] = {
    "enabled": Field(bool, True, doc="Serve the control room with the line."),
    "host": Field(str, "127.0.0.1", doc="Address to bind (loopback by default)."),
    "port": Field(int, 8080, min=0, max=65535, doc="TCP port (0: any free port)."),
    "operator_token": Field(str, "", doc="Token granting the operator role to machine clients; empty: none. "
                                         "Better in secrets_file or $ORELINE_OPERATOR_TOKEN."),
    "viewer_token": Field(str, "", doc="Token granting the viewer role to machine clients; empty: none."),
    "secrets_file": Field(str, "", doc="TOML file with operator_token / viewer_token (mode 0600)."),
    "accounts_file": Field(str, "", doc="Named accounts, name:role:argon2-hash a line (oreline accounts add)."),
    "open_viewing": Field(str, "loopback", choices=("loopback", "never", "always"),
                          doc="Viewing without login: only on a loopback bind with no viewer credentials "
                              "(loopback), never, or always."),
    "allowed_hosts": Field(list, [], check=_str_list,
                           doc="Host names the server answers to besides its bind address and localhost "
                               "(DNS-rebinding guard)."),
    "trusted_proxies": Field(list, [], check=_proxies,
                             doc="Reverse proxies whose X-Forwarded-For/-Proto are believed (IPs or networks)."),
    "tls_cert": Field(str, "", doc="PEM certificate chain; with tls_key, serve HTTPS (Secure cookies, HSTS)."),
    "tls_key": Field(str, "", doc="PEM private key of tls_cert."),
    "hsts_max_age_s": Field(int, 31_536_000, min=0, max=63_072_000, doc="Strict-Transport-Security max-age (TLS)."),
    "session_idle_s": Field(float, 1800.0, min=10.0, max=86_400.0, doc="A session ends after this long unused, s."),
    "session_max_s": Field(float, 43_200.0, min=60.0, max=604_800.0, doc="A session ends this long after login, s."),
    "max_operator_sessions": Field(int, 32, min=1, max=1000, doc="Operator sessions kept (oldest ends first)."),
    "max_viewer_sessions": Field(int, 256, min=1, max=10_000, doc="Viewer sessions kept (oldest ends first)."),
    "max_viewers": Field(int, 50, min=1, max=10000, doc="Viewer live streams served at once; more get 429."),
    "max_operator_streams": Field(int, 10, min=1, max=1000,
                                  doc="Live streams kept for operators (viewers cannot take them)."),
    "stream_write_timeout_s": Field(float, 30.0, min=0.1, max=3600.0,
                                    doc="A live stream whose client reads nothing this long is closed, s."),
    "update_interval_s": Field(float, 0.1, min=0.01, max=1.0, doc="Shortest time between live updates, s."),
    "login_failures_per_client": Field(int, 10, min=1, max=1000,
                                       doc="Wrong credentials from one address before it gets 429."),
    "login_window_s": Field(int, 900, min=1, max=86_400, doc="Window of login_failures_per_client, s."),
    "logins_per_s": Field(int, 20, min=1, max=10_000, doc="Password/token logins checked per second, all clients."),
    "header_timeout_s": Field(float, 10.0, min=0.1, max=600.0,
                              doc="A connection that has not sent a request's headers this long is closed, s."),
    "keep_alive_s": Field(float, 30.0, min=0.1, max=3600.0, doc="Idle keep-alive connections close after, s."),
    "max_connections": Field(int, 512, min=1, max=100_000, doc="Open connections at once; more are closed."),
    "max_connections_per_client": Field(int, 128, min=1, max=100_000,
                                        doc="Open connections from one address (proxies excepted)."),
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


def read_secrets_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """``operator_token`` / ``viewer_token`` from a TOML file readable by its owner only (ConfigError otherwise)."""
    p = Path(path)
    key = "control_room.secrets_file"
    try:
        mode = p.stat().st_mode
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(key, f"cannot read {p}: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(key, f"{p}: expected TOML, {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(key, f"{p} is readable by others (mode {stat.S_IMODE(mode):o}); expected 0600 "
                               f"(chmod 600 {p})")
    unknown = sorted(set(raw) - set(TOKEN_ENV))
    if unknown:
        raise ConfigError(key, f"{p}: unknown key {unknown[0]!r}; expected {sorted(TOKEN_ENV)}")
    for name, value in raw.items():
        if not isinstance(value, str):
            raise ConfigError(key, f"{p}: {name} expected a string, got {type(value).__name__}")
    return raw


def resolve_secrets(cfg: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The tokens in force: environment, else secrets file, else site file (each checked)."""
    environ = os.environ if environ is None else environ
    from_file = read_secrets_file(cfg["secrets_file"]) if cfg.get("secrets_file") else {}
    out: dict[str, str | None] = {}
    for name, env in TOKEN_ENV.items():
        value = environ.get(env) or from_file.get(name) or cfg.get(name) or None
        out[name] = check_token(f"control_room.{name}", value)
    if out["operator_token"] and out["operator_token"] == out["viewer_token"]:
        raise ConfigError("control_room.viewer_token", "expected a viewer token different from the operator token")
    return out


def validate_control_room(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate a ``[control_room]`` table (defaults filled in); raises ConfigError naming the key."""
    out = validate_section(section or {}, CONTROL_ROOM_FIELDS, "control_room")
    check_token("control_room.operator_token", out["operator_token"])
    check_token("control_room.viewer_token", out["viewer_token"])
    if out["operator_token"] and out["operator_token"] == out["viewer_token"]:
        raise ConfigError("control_room.viewer_token", "expected a viewer token different from the operator token")
    if bool(out["tls_cert"]) != bool(out["tls_key"]):
        raise ConfigError("control_room.tls_key" if out["tls_cert"] else "control_room.tls_cert",
                          "expected both tls_cert and tls_key, or neither")
    return out


def is_loopback(host: str) -> bool:
    """True for a loopback bind address (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


__all__ = [
    "CONTROL_ROOM_FIELDS",
    "MIN_TOKEN_CHARS",
    "TOKEN_ENV",
    "check_token",
    "is_loopback",
    "read_secrets_file",
    "resolve_secrets",
    "validate_control_room",
]
