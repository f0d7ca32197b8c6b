"""BeltScaleClient against the simulated PLC over loopback (real pymodbus on both sides)."""

from __future__ import annotations


import pytest

from conveyor.feed import FeedSource
from plc.beltscale import BeltScaleClient
from plc.bw500 import DRIVE_BASE, UINT32_TOTAL_MODULUS_T
from plc.errors import BeltScaleError
from plc.simulated import SimulatedPlc
from tests.plc.conftest import make_feed
from tests.support import refused_port


class FakeTime:
    """A monotonic clock the test moves by hand (for the reconnect backoff)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def client_for(plc: SimulatedPlc, **kw) -> BeltScaleClient:
    kw.setdefault("drive_state_address", DRIVE_BASE)
    kw.setdefault("encoder_address", DRIVE_BASE + 2)
    return BeltScaleClient("127.0.0.1", plc.port, 1, kw.pop("word_order", "msw_first"), 1.0, **kw)


def test_is_a_feed_source_and_reads_what_the_feed_says(sim_plc):
    client = client_for(sim_plc)
    source: FeedSource = client  # structural: the conveyor protocol's two methods
    assert callable(source.read) and callable(source.close)
    try:
        for t in (0.0, 30.0, 60.0, 90.0):
            truth = sim_plc.update(t)
            got = client.read(t)
            assert got.ok and got.fault == "", got.fault
            assert got.totaliser_t == pytest.approx(truth.totaliser_t, abs=0.0011)
            assert got.rate_t_h == pytest.approx(truth.rate_t_h, abs=0.0011)
            assert got.speed_m_s == pytest.approx(truth.speed_m_s, abs=0.0011)
            assert got.running and got.time_s == t
        truth = sim_plc.update(105.0)  # scheduled reversal
        got = client.read(105.0)
        assert got.speed_m_s == pytest.approx(-0.3) and truth.speed_m_s == pytest.approx(-0.3)
        before = got.encoder_count
        sim_plc.update(110.0)
        assert client.read(110.0).encoder_count == before - 150  # 5 s x 0.3 m/s x 100 pulses/m, counting down
    finally:
        client.close()


def test_lsw_first_integrator_and_a_mismatched_client():
    with SimulatedPlc(make_feed(), word_order="lsw_first") as plc:
        plc.update(0.0)
        truth = plc.update(50.0)
        good = client_for(plc, word_order="lsw_first")
        bad = client_for(plc, word_order="msw_first")
        try:
            assert good.read(50.0).totaliser_t == pytest.approx(truth.totaliser_t, abs=0.0011)
            r = bad.read(50.0)
            assert not r.ok and "R40,062" in r.fault and "word_order" in r.fault
        finally:
            good.close()
            bad.close()


def test_client_follows_a_word_order_change_only_after_reconnect(sim_plc):
    sim_plc.update(0.0)
    writer = client_for(sim_plc)
    try:
        assert writer.read(0.0).ok
        writer._client.write_register(61, 1, device_id=1)  # FORMAT_WORD -> LSW first, as an operator might
        assert sim_plc.word_order == "lsw_first"
        assert writer._client.write_register(61, 5, device_id=1).exception_code == 3
        writer.close()
        r = writer.read(1.0)
        assert not r.ok and "R40,062 = 1" in r.fault
    finally:
        writer.close()


def test_disconnect_returns_last_good_values_then_backs_off_and_reconnects():
    clock = FakeTime()
    plc = SimulatedPlc(make_feed()).start()
    client = client_for(plc, backoff_initial_s=1.0, backoff_max_s=4.0, monotonic=clock)
    try:
        plc.update(0.0)
        plc.update(10.0)
        good = client.read(10.0)
        assert good.ok
        plc.stop()  # the PLC goes away
        r = client.read(11.0)
        assert not r.ok and r.fault and r.time_s == 11.0
        assert (r.totaliser_t, r.rate_t_h, r.speed_m_s) == (good.totaliser_t, good.rate_t_h, good.speed_m_s)
        attempts = client.stats["connects"]
        r = client.read(12.0)  # inside the backoff: no attempt, immediate answer
        assert not r.ok and "next reconnect" in r.fault and client.stats["connects"] == attempts
        delays = []
        for _ in range(4):  # each failed attempt doubles the delay, capped at backoff_max_s
            clock.t += client.next_attempt_in_s
            client.read(13.0)
            delays.append(client.next_attempt_in_s)
        assert delays == [2.0, 4.0, 4.0, 4.0]
        plc.start()  # same port again
        plc.update(20.0)
        clock.t += client.next_attempt_in_s
        r = client.read(20.0)
        assert r.ok and r.totaliser_t > good.totaliser_t
        assert client.stats["connect_failures"] >= 4
    finally:
        client.close()
        plc.stop()


def test_never_connected_scale_reports_zero_values_not_ok():
    with refused_port() as port:
        client = BeltScaleClient("127.0.0.1", port, timeout_s=0.5)
        r = client.read(0.0)
    assert not r.ok and "cannot connect" in r.fault and r.totaliser_t == 0.0 and not r.running


def test_backsteps_jumps_and_wraps(sim_plc):
    client = client_for(sim_plc)
    try:
        sim_plc.update(0.0)
        assert client.read(0.0).ok
        sim_plc.update(10.0)
        assert client.read(10.0).fault == ""
        sim_plc.inject_totaliser_step(-2.0)
        r = client.read(10.0)
        assert r.ok and "went backwards by 2.000 t" in r.fault and client.stats["backsteps"] == 1
        sim_plc.inject_totaliser_step(+500.0)
        sim_plc.update(11.0)
        r = client.read(11.0)
        assert r.ok and "jumped" in r.fault and client.stats["jumps"] == 1
        # a totaliser close to the UINT32 limit wraps to near zero: counted, not flagged
        sim_plc.update(12.0)
        shown = client.read(12.0).totaliser_t
        sim_plc.inject_totaliser_step(UINT32_TOTAL_MODULUS_T - 3.0 - shown)
        r = client.read(12.0)
        assert r.totaliser_t == pytest.approx(UINT32_TOTAL_MODULUS_T - 3.0, abs=0.002) and "jumped" in r.fault
        sim_plc.update(16.0)
        r = client.read(16.0)
        assert r.fault == "" and r.totaliser_t < 10.0 and client.stats["wraps"] == 1
    finally:
        client.close()


def test_diagnostic_code_and_refused_reads_are_reported(sim_plc):
    client = client_for(sim_plc)
    other_unit = BeltScaleClient("127.0.0.1", sim_plc.port, device_id=9, timeout_s=1.0)
    try:
        sim_plc.update(0.0)
        sim_plc.set_diagnostic(7)
        r = client.read(0.0)
        assert r.ok and "diagnostic code 7" in r.fault
        r = other_unit.read(0.0)
        assert not r.ok and "exception 11" in r.fault
    finally:
        client.close()
        other_unit.close()


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"word_order": "big"}, "word_order"),
        ({"port": 0}, "port"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"backoff_initial_s": 5, "backoff_max_s": 1}, "backoff_max_s"),
        ({"max_rate_t_h": float("nan")}, "max_rate_t_h"),
        ({"drive_state_address": -1}, "drive_state_address"),
    ],
)
def test_bad_settings_raise_belt_scale_error(kwargs, words):
    with pytest.raises(BeltScaleError, match=words):
        BeltScaleClient("127.0.0.1", **{"port": 502, **kwargs})
