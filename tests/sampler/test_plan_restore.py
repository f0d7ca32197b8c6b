"""An archived sampling plan is restored exactly (a resumed lot continues it), and a damaged one is refused."""

from __future__ import annotations

import pytest

from sampler.errors import PlanError
from sampler.plan import make_plan, plan_from_dict


@pytest.mark.parametrize("basis", ["mass", "time"])
@pytest.mark.parametrize("method", ["systematic", "stratified_random"])
def test_a_plan_comes_back_as_it_was_written(basis, method):
    plan = make_plan(7300.0, basis=basis, method=method, max_flow_t_h=6000.0, seed=11)
    back = plan_from_dict(plan.to_dict())
    assert back.to_dict() == plan.to_dict()
    assert back.sublot_of.tolist() == plan.sublot_of.tolist()
    assert [i.number for i in back.increments()] == [i.number for i in plan.increments()]


def test_a_damaged_plan_is_refused_with_what_is_wrong():
    d = make_plan(3000.0, seed=1).to_dict()
    with pytest.raises(PlanError, match="KeyError: 'interval'"):
        plan_from_dict({k: v for k, v in d.items() if k != "interval"})
    with pytest.raises(PlanError, match="expected n_total"):
        plan_from_dict({**d, "offsets": d["offsets"][:-1]})
