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


def test_the_web_room_reads_an_immutable_snapshot_of_the_lot():
    """Issue 25 item 6: LotMonitor.snapshot() copies under the monitor's lock; a copy never changes afterwards."""
    import math

    from tests.lines.service import build_sim_line

    sim = build_sim_line(speedup=math.inf, lot_mass_t=300.0, objects_per_1000_t=20.0)
    monitor = sim.monitor
    sim.line.listeners.append(lambda _state: snaps.append(monitor.snapshot()))
    snaps: list = []
    sim.run_lot()
    first, last = snaps[len(snaps) // 2], monitor.snapshot()
    assert isinstance(first.segments, tuple) and isinstance(first.detections, tuple)
    assert isinstance(first.increments, tuple) and isinstance(first.nir_trend, tuple)
    assert len(first.nir_trend) < len(last.nir_trend) and len(first.segments) <= len(last.segments)
    assert last.segments == tuple(monitor.segments) and last.lot_id == monitor.lot_id
    assert monitor.snapshot() is last  # cached until the next record
    with pytest.raises(AttributeError):
        last.segments.append(None)
