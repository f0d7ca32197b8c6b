"""``oreline accounts add|hash|list``: the control room's named operators and viewers.

Passwords are read from the terminal (asked twice) or, when standard input is not a terminal, from its first
line; never from the command line, where every local user can read them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from analysis.web.accounts import (
    MIN_PASSWORD_CHARS,
    ROLES,
    hash_password,
    read_accounts,
    write_account,
)
from analysis.web.errors import AccountsError


def _password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise AccountsError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _parser(verb: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"oreline accounts {verb}", description=__doc__.splitlines()[0])
    if verb == "add":
        p.add_argument("name", help="account name: 1-64 letters, digits or ._-")
        p.add_argument("--role", required=True, choices=ROLES, help="viewer (reads) or operator (also commands)")
        p.add_argument("--file", required=True, type=Path, help="accounts file (created 0600 if missing)")
    elif verb == "list":
        p.add_argument("--file", required=True, type=Path, help="accounts file")
    p.epilog = (f"Passwords: at least {MIN_PASSWORD_CHARS} characters, asked on the terminal or read from the first "
                "line of standard input.")
    return p


def _run(verb: str, argv: list[str]) -> int:
    args = _parser(verb).parse_args(argv)
    try:
        if verb == "hash":
            print(hash_password(_password("password: ")))
        elif verb == "add":
            replaced = write_account(args.file, args.name, args.role, _password(f"password for {args.name}: "))
            print(f"{'replaced' if replaced else 'added'} {args.role} {args.name} in {args.file}")
        else:
            for account in read_accounts(args.file).values():
                print(f"{account.name}\t{account.role}")
    except AccountsError as exc:
        print(f"oreline accounts {verb}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def cli_add(argv: list[str]) -> int:
    """Add (or replace) a person in an accounts file."""
    return _run("add", argv)


def cli_hash(argv: list[str]) -> int:
    """Print the argon2 hash of a password (for an accounts file kept by other means)."""
    return _run("hash", argv)


def cli_list(argv: list[str]) -> int:
    """List the names and roles of an accounts file (never the hashes)."""
    return _run("list", argv)


__all__ = ["cli_add", "cli_hash", "cli_list"]
