import pytest

from conveyor.errors import KinematicsError, TotaliserError
from conveyor.kinematics import BeltKinematics, EncoderSpec
from conveyor.totaliser import TonnageCounter


def test_speed_integration_is_trapezoidal():
    k = BeltKinematics()
    k.update_speed(0.0, 0.0)
    k.update_speed(2.0, 4.0)  # ramp 0 -> 4 m/s in 2 s: 4 m
    assert k.odometer_m == pytest.approx(4.0)
    k.update_speed(3.0, 4.0)
    assert k.odometer_m == pytest.approx(8.0)


def test_reversal_runs_the_odometer_back_or_is_refused():
    k = BeltKinematics(allow_reverse=True)
    k.update_speed(0.0, -0.5)
    k.update_speed(2.0, -0.5)
    assert k.odometer_m == pytest.approx(-1.0)
    strict = BeltKinematics(allow_reverse=False)
    with pytest.raises(KinematicsError, match="reversal is not allowed"):
        strict.update_speed(0.0, -0.5)


def test_implausible_speed_and_time_going_back_are_errors():
    k = BeltKinematics(max_speed_m_s=10.0)
    with pytest.raises(KinematicsError, match="beyond plausible"):
        k.update_speed(0.0, 40.0)
    k.update_speed(1.0, 4.0)
    with pytest.raises(KinematicsError, match="time must increase"):
        k.update_speed(1.0, 4.0)
    with pytest.raises(KinematicsError, match="finite"):
        k.update_speed(2.0, float("nan"))


def test_encoder_counts_unfold_wraps_and_reverse():
    spec = EncoderSpec(pulses_per_m=100.0, counter_modulus=2**16)
    k = BeltKinematics()
    k.update_encoder(0.0, 65_000, spec)
    k.update_encoder(1.0, 400, spec)  # wrapped: 936 pulses forward
    assert k.odometer_m == pytest.approx(9.36)
    k.update_encoder(2.0, 350, spec)  # 50 pulses back
    assert k.odometer_m == pytest.approx(8.86)
    with pytest.raises(KinematicsError, match="encoder step"):
        k.update_encoder(3.0, 350 + 20_000, spec)  # 200 m in 1 s


def test_encoder_spec_validation():
    with pytest.raises(KinematicsError, match="pulses_per_m"):
        EncoderSpec(pulses_per_m=0)


def test_totaliser_wrap_is_unfolded():
    c = TonnageCounter(modulus_t=1000.0)
    c.update(990.0)
    assert c.update(995.0) == pytest.approx(5.0)
    assert c.update(3.0) == pytest.approx(13.0)
    assert c.wraps == 1


def test_totaliser_small_backstep_is_held_and_counted():
    c = TonnageCounter(max_backstep_t=1.0)
    c.update(100.0)
    c.update(110.0)
    assert c.update(109.6) == pytest.approx(10.0)
    assert c.backsteps == 1
    assert c.update(110.5) == pytest.approx(10.5)  # counted from the held reading, not twice


def test_totaliser_large_backstep_is_a_clear_error():
    c = TonnageCounter(max_backstep_t=1.0)
    c.update(100.0)
    with pytest.raises(TotaliserError, match="went backwards by 50.000 t"):
        c.update(50.0)
    with pytest.raises(TotaliserError, match="finite value"):
        c.update(float("inf"))
