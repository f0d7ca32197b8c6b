import math

import numpy as np
import pytest

from sampler import iso3082
from sampler.errors import PlanError
from sampler.plan import make_plan


@pytest.mark.parametrize(
    "mass_t, qv, n",
    [
        (120_000, "small", 30),  # worked example from the issue
        (120_000, "medium", 60),
        (120_000, "large", 120),
        (200_000, "small", 32),
        (200_000, "large", 125),
        (300_000, "medium", 68),
        (1_000, "medium", 35),
        (150_000, "small", 30),  # upper bound inclusive
        (150_000.1, "small", 32),
    ],
)
def test_number_of_primary_increments_from_the_table(mass_t, qv, n):
    plan = make_plan(mass_t, quality_variation=qv)
    assert plan.n_lot_min == n
    assert plan.n_total == n


def test_120kt_small_variation_worked_example():
    plan = make_plan(120_000, quality_variation="small", nominal_top_size_mm=31.5, seed=3)
    assert plan.interval == pytest.approx(4000.0)
    assert plan.interval_unit == "t"
    steps = np.diff(plan.offsets)
    assert np.allclose(steps, 4000.0)  # systematic: equal spacing, one random start
    assert 0.0 <= plan.offsets[0] < 4000.0
    assert plan.offsets[-1] < 120_000
    assert plan.min_cutter_aperture_mm == pytest.approx(94.5)


def test_stratified_random_takes_one_increment_inside_each_stratum():
    plan = make_plan(50_000, method="stratified_random", quality_variation="large", seed=7)
    strata = np.floor(plan.offsets / plan.interval).astype(int)
    assert strata.tolist() == list(range(plan.n_total))
    assert np.std(np.diff(plan.offsets)) > 0.05 * plan.interval  # not equally spaced


def test_plans_are_reproducible_and_seed_dependent():
    a = make_plan(80_000, method="stratified_random", seed=1)
    b = make_plan(80_000, method="stratified_random", seed=1)
    c = make_plan(80_000, method="stratified_random", seed=2)
    assert np.array_equal(a.offsets, b.offsets)
    assert not np.array_equal(a.offsets, c.offsets)


def test_sublots_keep_lot_precision_and_split_evenly():
    plan = make_plan(120_000, quality_variation="small", sublots=4)
    assert plan.n_per_sublot == math.ceil(30 / 4) == 8
    assert plan.n_total == 32 >= plan.n_lot_min
    for sub in range(1, 5):
        offs = plan.offsets[plan.sublot_of == sub]
        assert offs.size == 8
        assert np.all((offs >= (sub - 1) * 30_000) & (offs < sub * 30_000))
    incs = plan.increments()
    assert [i.number for i in incs] == list(range(1, 33))
    assert all(i.stratum_start <= i.offset < i.stratum_end for i in incs)


def test_time_basis_interval_from_the_highest_flow():
    plan = make_plan(60_000, basis="time", quality_variation="medium", max_flow_t_h=10_000)
    n = 55
    assert plan.interval_unit == "s"
    assert plan.interval == pytest.approx(3600 * 60_000 / (10_000 * n))
    # at the highest flow the lot takes 6 h: at least n increments fit
    assert plan.offsets[-1] < 6 * 3600


def test_time_basis_needs_the_highest_flow():
    with pytest.raises(PlanError, match="max_flow_t_h"):
        make_plan(60_000, basis="time")


def test_cutter_aperture_must_be_three_times_top_size():
    make_plan(10_000, nominal_top_size_mm=40, cutter_aperture_mm=120)
    with pytest.raises(PlanError, match="aperture must be >= 120 mm"):
        make_plan(10_000, nominal_top_size_mm=40, cutter_aperture_mm=119)
    with pytest.raises(PlanError, match="aperture must be >= 30 mm"):  # absolute minimum for fines
        make_plan(10_000, nominal_top_size_mm=6.3, cutter_aperture_mm=25)


def test_cutter_speed_limit():
    make_plan(10_000, cutter_speed_m_s=0.6)
    with pytest.raises(PlanError, match="0.6 m/s"):
        make_plan(10_000, cutter_speed_m_s=0.7)


def test_increment_mass_formula_and_minimum_warning():
    assert iso3082.increment_mass_kg(3600.0, 100.0, 0.5) == pytest.approx(200.0)  # 1 t/s * 0.1 m / 0.5 m/s
    ok = make_plan(10_000, nominal_top_size_mm=31.5, cutter_aperture_mm=100, cutter_speed_m_s=0.45,
                   nominal_flow_t_h=8000)
    assert ok.expected_increment_mass_kg == pytest.approx(8000 * 0.1 / (3.6 * 0.45))
    assert ok.warnings == ()
    light = make_plan(10_000, nominal_top_size_mm=31.5, cutter_aperture_mm=100, cutter_speed_m_s=0.45,
                      nominal_flow_t_h=5)
    assert light.warnings and "minimum" in light.warnings[0]


def test_min_increment_mass_grows_with_top_size():
    masses = [iso3082.min_increment_mass_kg(d) for d in (5, 20, 31.5, 45, 90, 140, 250)]
    assert masses == sorted(masses)
    with pytest.raises(PlanError, match="top size"):
        make_plan(10_000, nominal_top_size_mm=300)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lot_mass_t": 0}, "lot_mass_t"),
        ({"lot_mass_t": -5}, "lot_mass_t"),
        ({"lot_mass_t": float("nan")}, "lot_mass_t"),
        ({"lot_mass_t": "lots"}, "lot_mass_t"),
        ({"lot_mass_t": 1000, "basis": "volume"}, "basis"),
        ({"lot_mass_t": 1000, "method": "random"}, "method"),
        ({"lot_mass_t": 1000, "quality_variation": "huge"}, "quality_variation"),
        ({"lot_mass_t": 1000, "sublots": 0}, "sublots"),
        ({"lot_mass_t": 1000, "sublots": 2.5}, "sublots"),
        ({"lot_mass_t": 1000, "nominal_top_size_mm": 0}, "nominal_top_size_mm"),
    ],
)
def test_bad_plan_input_is_a_clear_error(kwargs, match):
    mass = kwargs.pop("lot_mass_t")
    with pytest.raises(PlanError, match=match):
        make_plan(mass, **kwargs)


def test_quality_variation_classes():
    assert iso3082.classify_quality_variation(2.5) == "large"
    assert iso3082.classify_quality_variation(1.7) == "medium"
    assert iso3082.classify_quality_variation(0.8) == "small"


def test_table_is_monotonic_and_contiguous():
    rows = iso3082.PRIMARY_INCREMENTS_TABLE
    for (_lo0, hi0, *_), (lo1, _hi1, *_) in zip(rows, rows[1:]):
        assert hi0 == lo1
    for col in (2, 3, 4):
        counts = [r[col] for r in rows]
        assert counts == sorted(counts)
    assert all(r[2] > r[3] > r[4] for r in rows)


def test_plan_dict_is_plain():
    import json

    d = make_plan(200_000, quality_variation="small").to_dict()
    json.dumps(d)
    assert d["n_total"] == 32 and len(d["offsets"]) == 32
