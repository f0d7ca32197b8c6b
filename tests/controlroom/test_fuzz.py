"""Property-based fuzzing of the published OpenAPI spec (schemathesis) against a running line: no 5xx.

Every operation of ``/openapi.json`` gets valid and invalid generated requests, sent
as the operator, so command bodies are explored past the login (the fuzzer may
stop the running lot; the simulated line then starts the next one). Responses must
not be 5xx and must match the spec's status codes, content types and schemas. The
live stream is left out (an endless response; tests/controlroom/test_live.py covers it).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests.lines.service import build_sim_line
from tests.controlroom.conftest import OPERATOR, serve

#: Generated requests per operation (valid and invalid drawn together; the test asserts each operation got both).
#: 12, not 30: with derandomized generation every operation still gets valid and invalid requests of each of its
#: parameters' locations (path, query, body), and 38 operations x 2 callers are fuzzed; the 30 cost 2,280 requests.
EXAMPLES_PER_OPERATION = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_server():
    sim = build_sim_line(speedup=20.0, lot_mass_t=3000.0, objects_per_1000_t=6.0)
    served = serve(sim)
    sim.start()
    yield served
    sim.stop()
    served.server.stop()


def _checker(strategy, label: str, headers: dict, tried: dict[str, int], modes: dict[str, set[str]]):
    """A Hypothesis test of one operation (its own label bound here, not the caller's loop variable)."""

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case) -> None:
        tried[label] = tried.get(label, 0) + 1
        modes.setdefault(label, set()).add(case.meta.generation.mode.value if case.meta else "?")
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)

    return check


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("auth", ["operator", "anonymous"])
def test_api_never_answers_5xx(fuzz_server, auth):
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json").exclude(path="/api/stream")
    headers = {"Authorization": f"Bearer {OPERATOR}"} if auth == "operator" else {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    tried: dict[str, int] = {}
    modes: dict[str, set[str]] = {}
    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        strategy = st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE))
        try:
            _checker(strategy, label, headers, tried, modes)()
        except Exception as exc:
            raise AssertionError(f"{label}: {exc}") from exc
    assert all(n >= 1 for n in tried.values()) and len(tried) == len(operations)
    assert fuzz_server.server.running
    # every operation that takes any input got both valid and invalid requests (GET /api/health takes none: the
    # one request there is)
    assert {label for label, seen in modes.items() if seen != {"positive", "negative"}} <= {"GET /api/health"}, modes
    assert modes["GET /api/health"] == {"positive"}
