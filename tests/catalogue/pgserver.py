"""A real PostgreSQL server for the catalogue tests: initdb in a temporary folder, served on 127.0.0.1.

The Debian ``postgresql`` package (``scripts/install-system-deps.sh``) provides the binaries; where they are
absent the tests that need them skip with that message. As root the server runs as the ``postgres`` user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


#: The throw-away cluster never waits for the disk (no fsync, no synchronous commit, no full-page writes): what the
#: catalogue tests check (rows, order, concurrent writers) is the same; only a crash of the machine would lose data,
#: and the cluster is deleted at the end. CREATE DATABASE (each test's fresh catalogue) no longer waits for the disk.
NO_DISK_SYNC = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def pg_bin() -> Path | None:
    """The folder of initdb/pg_ctl/postgres, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(os.path.realpath(initdb)).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """Start/stop one throw-away PostgreSQL cluster; ``url`` names its ``oreline`` database."""

    def __init__(self, base: Path | None = None) -> None:
        binary = pg_bin()
        if binary is None:
            pytest.skip("PostgreSQL binaries not found (install the Debian 'postgresql' package: "
                        "scripts/install-system-deps.sh)")
        # under /tmp itself: pytest's own temporary folders are private to root, and the server runs as postgres
        base = base or Path(tempfile.mkdtemp(prefix="oreline-pg-"))
        self.bin, self.base, self.port = binary, base, _free_port()
        self.data = base / "pgdata"
        self._as_root = os.geteuid() == 0

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        full = list(cmd)
        if self._as_root:
            full = ["runuser", "-u", "postgres", "--", *full]
        r = subprocess.run(full, capture_output=True, text=True, timeout=120, check=False)
        if check and r.returncode:
            raise RuntimeError(f"{' '.join(cmd[:2])} failed ({r.returncode}): {r.stderr[-800:]}")
        return r

    def start(self) -> PgServer:
        self.base.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            shutil.chown(self.base, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "pg.log"), "-w", "-t", "60",
                  "-o", f"-h 127.0.0.1 -p {self.port} -k {self.base} {NO_DISK_SYNC}", "start")
        deadline = time.monotonic() + 30
        while True:
            r = self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                          "oreline", check=False)
            if r.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        return self

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/oreline"

    def stop(self) -> None:
        # immediate: no shutdown checkpoint (the cluster is deleted next; a fast stop waited ~15 s for it)
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)
