"""Helpers of the control-room security tests: an accounts file, a served line with security options, clients
from other loopback addresses (all of 127.0.0.0/8 is loopback on Linux, so 127.0.0.2 is "another client")."""

from __future__ import annotations

import math
from pathlib import Path

import httpx

from analysis.web.accounts import write_account
from analysis.web.security import SecurityOptions
from tests.controlroom.conftest import Served, serve
from tests.lines.service import build_sim_line

ANNA, ANNA_PW = "anna", "anna-correct-horse"      # operator
VIC, VIC_PW = "vic", "vic-battery-staple"          # viewer


def accounts_file(folder: Path) -> Path:
    """An accounts file with one operator (anna) and one viewer (vic), written by the real writer."""
    path = folder / "accounts.txt"
    write_account(path, ANNA, "operator", ANNA_PW)
    write_account(path, VIC, "viewer", VIC_PW)
    return path


def serve_secure(folder: Path, *, run: bool = False, speedup: float = math.inf, lot_mass_t: float = 400.0,
                 server_kw: dict | None = None, **options) -> Served:
    """A simulated line served with accounts and ``options`` (SecurityOptions fields); ``run``: lots in a thread."""
    sim = build_sim_line(speedup=speedup, lot_mass_t=lot_mass_t, objects_per_1000_t=8.0)
    security = SecurityOptions(accounts_file=str(accounts_file(folder)), **options)
    served = serve(sim, security=security, **(server_kw or {}))
    if run:
        sim.start()
    return served


def client_from(served: Served, address: str = "127.0.0.1", token: str | None = None, **kw) -> httpx.Client:
    """A client whose connections come from ``address`` (a loopback address of this machine)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.HTTPTransport(local_address=address, verify=kw.pop("verify", True))
    return httpx.Client(base_url=served.url, headers=headers, timeout=20.0, transport=transport, **kw)


def login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    return client.post("/api/session", json={"name": name, "password": password})
