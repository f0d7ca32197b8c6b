"""Named control-room accounts: one line per person in a text file, ``name:role:argon2-hash``.

::

    # oreline control-room accounts (oreline accounts add NAME --role ROLE --file FILE)
    anna:operator:$argon2id$v=19$m=65536,t=3,p=4$...
    desk-2:viewer:$argon2id$v=19$m=65536,t=3,p=4$...

Names are 1-64 characters of letters, digits and ``._-``; roles are ``viewer`` or ``operator``; the hash is
an argon2 hash (argon2-cffi's ``PasswordHasher``). Blank lines and ``#`` comments are ignored. A bad line
raises :class:`AccountsError` naming the file, the line and what was expected. Passwords never travel on
the command line: ``oreline accounts add`` reads them from the terminal or standard input.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from analysis.web.errors import AccountsError

ROLES = ("viewer", "operator")
NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Shortest accepted password, characters (ASVS V2.1.1 asks for at least 12).
MIN_PASSWORD_CHARS = 12
#: Longest, characters (ASVS V2.1.2: at least 64 allowed, more than 128 refused).
MAX_PASSWORD_CHARS = 128

#: argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane): ~30-60 ms a check on one core,
#: so the overall login limit bounds the CPU a guessing client can take.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``; raises AccountsError for a too short or too long one."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise AccountsError(f"expected a password of {MIN_PASSWORD_CHARS}..{MAX_PASSWORD_CHARS} characters, "
                            f"got {len(password)}")
    return _HASHER.hash(password)


def parse_line(text: str, where: str) -> Account | None:
    """One line of an accounts file (None for a blank or comment line); ``where`` is ``file:line``."""
    line = text.strip()
    if not line or line.startswith("#"):
        return None
    parts = line.split(":", 2)
    if len(parts) != 3:
        raise AccountsError(f"{where}: expected name:role:argon2-hash, got {len(parts)} field(s)")
    name, role, digest = parts
    if not NAME_RE.match(name):
        raise AccountsError(f"{where}: expected a name of 1-64 letters, digits or ._-, got {name[:70]!r}")
    if role not in ROLES:
        raise AccountsError(f"{where}: expected role viewer or operator, got {role[:30]!r}")
    if not digest.startswith("$argon2"):
        raise AccountsError(f"{where}: expected an argon2 hash ($argon2id$...), got {digest[:12]!r}...")
    return Account(name, role, digest)


def read_accounts(path: str | os.PathLike[str]) -> dict[str, Account]:
    """Every account of ``path`` by name; raises AccountsError for an unreadable file, a bad line or a repeat."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountsError(f"{p}: cannot read the accounts file ({exc})") from exc
    out: dict[str, Account] = {}
    for number, text in enumerate(lines, 1):
        account = parse_line(text, f"{p}:{number}")
        if account is None:
            continue
        if account.name in out:
            raise AccountsError(f"{p}:{number}: account {account.name!r} appears twice")
        out[account.name] = account
    return out


def write_account(path: str | os.PathLike[str], name: str, role: str, password: str) -> bool:
    """Add or replace ``name`` in the accounts file (created 0600); returns True when it replaced one."""
    p = Path(path)
    entry = parse_line(f"{name}:{role}:{hash_password(password)}", f"{p}:new")
    assert entry is not None
    lines = p.read_text(encoding="utf-8").splitlines() if p.exists() else [
        "# oreline control-room accounts: name:role:argon2-hash (oreline accounts add)"]
    if p.exists():
        read_accounts(p)  # refuse to edit a broken file
    replaced = False
    for i, text in enumerate(lines):
        if text.split(":", 1)[0].strip() == name and not text.lstrip().startswith("#"):
            lines[i], replaced = f"{entry.name}:{entry.role}:{entry.password_hash}", True
    if not replaced:
        lines.append(f"{entry.name}:{entry.role}:{entry.password_hash}")
    tmp = p.with_name(p.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, p)
    return replaced


class AccountBook:
    """The accounts of one file, checked by name and password (argon2, constant work for unknown names)."""

    def __init__(self, accounts: dict[str, Account] | None = None) -> None:
        self._accounts = dict(accounts or {})
        self._lock = threading.Lock()
        # Unknown names are verified against this hash too, so timing does not tell which names exist.
        self._decoy = _HASHER.hash("decoy password, never valid")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] | None) -> AccountBook:
        return cls(read_accounts(path) if path else {})

    def __len__(self) -> int:
        return len(self._accounts)

    def has_role(self, role: str) -> bool:
        return any(a.role == role for a in self._accounts.values())

    def verify(self, name: str, password: str) -> Account | None:
        """The account when ``password`` is right for ``name``; None otherwise."""
        account = self._accounts.get(name)
        try:
            _HASHER.verify(account.password_hash if account else self._decoy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return account


__all__ = [
    "MIN_PASSWORD_CHARS",
    "ROLES",
    "Account",
    "AccountBook",
    "hash_password",
    "parse_line",
    "read_accounts",
    "write_account",
]
