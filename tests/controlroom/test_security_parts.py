"""Parts of the control room's security on their own: password rules, the accounts file, client keys."""

from __future__ import annotations

import pytest

from analysis.web.accounts import (
    AccountBook,
    hash_password,
    read_accounts,
    write_account,
)
from analysis.web.errors import AccountsError
from analysis.web.throttle import client_key


def test_password_lengths(tmp_path):
    """ASVS 2.1.1/2.1.2/2.1.4: 12..128 characters, any printable Unicode, the whole password counts."""
    for bad in ("x" * 11, "x" * 129):
        with pytest.raises(AccountsError, match="12..128 characters"):
            hash_password(bad)
    path = tmp_path / "accounts.txt"
    long_pw, unicode_pw = "p" * 64 + "q" * 64, "Grüße aus 港口 ⚓ ok!"
    write_account(path, "long", "operator", long_pw)
    write_account(path, "uni", "viewer", unicode_pw)
    book = AccountBook.from_file(path)
    assert book.verify("long", long_pw).role == "operator"
    assert book.verify("long", long_pw[:-1] + "x") is None  # the 128th character counts
    assert book.verify("uni", unicode_pw).role == "viewer"
    assert book.verify("nobody", unicode_pw) is None


@pytest.mark.parametrize("line, expected", [
    ("anna:operator", "expected name:role:argon2-hash"),
    ("an na:operator:$argon2id$x", "expected a name"),
    ("anna:admin:$argon2id$x", "expected role viewer or operator"),
    ("anna:viewer:plaintext", "expected an argon2 hash"),
])
def test_a_bad_accounts_line_names_file_line_and_what_was_expected(tmp_path, line, expected):
    path = tmp_path / "accounts.txt"
    path.write_text("# comment\n\n" + line + "\n")
    with pytest.raises(AccountsError, match=expected) as err:
        read_accounts(path)
    assert f"{path}:3" in str(err.value)


def test_client_keys_group_ipv6_by_prefix():
    assert client_key("10.1.2.3") == "10.1.2.3"
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff") == "2001:db8::/64"
    assert client_key("::ffff:10.1.2.3") == "10.1.2.3"
