"""TLS from the configuration: a self-signed certificate made in the test, HTTPS through the real server,
Secure cookies and HSTS; secrets from a file or the environment, never the command line."""

from __future__ import annotations

import math
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from analysis.web import ControlRoomServer, ServerStartError
from analysis.web.settings import resolve_secrets, validate_control_room
from conveyor.errors import ConfigError
from tests.controlroom.secure import ANNA, ANNA_PW, accounts_file, login
from tests.lines.service import build_sim_line

OPENSSL = shutil.which("openssl")
ORELINE = str(Path(sys.executable).with_name("oreline"))


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    if OPENSSL is None:
        pytest.skip("openssl not found (apt-get install openssl): cannot make the test certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return crt, key


def test_https_with_secure_cookie_and_hsts(cert, tmp_path):
    crt, key = cert
    sim = build_sim_line(speedup=math.inf, lot_mass_t=200.0)
    section = {"port": 0, "tls_cert": str(crt), "tls_key": str(key), "accounts_file": str(accounts_file(tmp_path)),
               "hsts_max_age_s": 600}
    server = ControlRoomServer.from_config(sim.service, section, environ={}).start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(crt))
        with httpx.Client(base_url=server.url, verify=context, timeout=10) as c:
            r = login(c, ANNA, ANNA_PW)
            assert r.status_code == 200
            cookie = r.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
            h = c.get("/api/state").headers
            assert h["strict-transport-security"] == "max-age=600; includeSubDomains"
            host = server.url.split("//")[1].rstrip("/")
            # the Origin check knows the scheme: the page's own https origin passes, http does not
            assert c.delete("/api/session", headers={"Origin": f"https://{host}"}).status_code == 200
            assert c.delete("/api/session", headers={"Origin": f"http://{host}"}).status_code == 403
        with httpx.Client(base_url=server.url.replace("https", "http"), timeout=5) as plain, \
                pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port gets no answer
            plain.get("/api/health")
    finally:
        server.stop()


def test_a_bad_certificate_is_a_clear_start_error(tmp_path):
    bad = tmp_path / "cert.pem"
    bad.write_text("not a certificate")
    sim = build_sim_line(speedup=math.inf, lot_mass_t=200.0)
    server = ControlRoomServer.from_config(sim.service, {"port": 0, "tls_cert": str(bad), "tls_key": str(bad)},
                                           environ={})
    with pytest.raises(ServerStartError, match="TLS certificate"):
        server.start()
    with pytest.raises(ConfigError, match="control_room.tls_key"):
        validate_control_room({"tls_cert": str(bad)})


def test_secrets_come_from_the_environment_or_a_private_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('operator_token = "from-the-file-123"\n')
    os.chmod(secrets, 0o644)
    cfg = validate_control_room({"secrets_file": str(secrets)})
    with pytest.raises(ConfigError, match="readable by others"):
        resolve_secrets(cfg, {})
    os.chmod(secrets, 0o600)
    assert resolve_secrets(cfg, {})["operator_token"] == "from-the-file-123"
    assert resolve_secrets(cfg, {"ORELINE_OPERATOR_TOKEN": "from-the-env-456"})["operator_token"] == "from-the-env-456"
    secrets.write_text('operator_tokn = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'operator_tokn'"):
        resolve_secrets(cfg, {})


@pytest.mark.slow
def test_tokens_on_the_command_line_are_refused(capsys):
    """Through the installed script once; the other option and spelling through its entry point in this process
    (the same parser: a second script start of the same refusal was the cost)."""
    from analysis.control_room_cli import cli_controlroom

    r = subprocess.run([ORELINE, "control-room", "--operator-token", "abcdefghijk"], check=False, capture_output=True,
                       text=True, timeout=120)
    with pytest.raises(SystemExit) as stop:
        cli_controlroom(["--viewer-token=abcdefghijk"])
    for code, err in ((r.returncode, r.stderr), (stop.value.code, capsys.readouterr().err)):
        assert code == 2
        assert "/proc/PID/cmdline" in err and "ORELINE_OPERATOR_TOKEN" in err and "--secrets-file" in err


@pytest.mark.slow
@pytest.mark.parametrize("style", ["space", "equals"])
def test_accounts_cli_adds_lists_and_refuses(tmp_path, style):
    path = tmp_path / "accounts.txt"

    def opt(name: str, value: str) -> list[str]:
        return [f"--{name}={value}"] if style == "equals" else [f"--{name}", value]

    def run(*a: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([ORELINE, "accounts", *a], check=False, input=stdin, capture_output=True, text=True,
                              timeout=120)
    r = run("add", "anna", *opt("role", "operator"), *opt("file", str(path)), stdin="long enough password\n")
    assert r.returncode == 0 and "added operator anna" in r.stdout, r.stderr
    assert (path.stat().st_mode & 0o777) == 0o600
    assert "long enough password" not in path.read_text()
    r = run("add", "bob", *opt("role", "viewer"), *opt("file", str(path)), stdin="short\n")
    assert r.returncode == 2 and "at least" not in r.stdout and "12..128 characters" in r.stderr
    assert run("list", *opt("file", str(path))).stdout.split() == ["anna", "operator"]
    assert run("hash", stdin="long enough password\n").stdout.startswith("$argon2id$")
    assert "oreline accounts add" in run("add", "--help").stdout
    path.write_text(path.read_text() + "carl:admin:$argon2id$x\n")
    r = run("list", *opt("file", str(path)))
    assert r.returncode == 2 and f"{path}:3" in r.stderr and "expected role viewer or operator" in r.stderr
